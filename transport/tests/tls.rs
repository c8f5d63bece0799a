//! Mutual TLS, unauthenticated joiners and CA pinning.

mod support;

use capstan_transport::{client_crypto, pinned_client_crypto, Client, PinnedCa, TransportError};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_reports_the_client_common_name() {
    let ca = TestCa::new("cluster-a");
    let (server, _client, client_conn, server_conn) = pair(&ca, "node-1").await;
    assert_eq!(
        server_conn.peer_common_name().as_deref(),
        Some("node-1"),
        "server sees the node name"
    );
    assert_eq!(
        client_conn.peer_common_name().as_deref(),
        Some("capstan-master"),
        "client sees the server certificate's CN"
    );
    assert_eq!(
        client_conn.remote_address(),
        server.local_addr(),
        "client is connected to the server's port"
    );
    assert!(
        server_conn.remote_address().ip().is_loopback(),
        "{}",
        server_conn.remote_address()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_without_certificate_is_accepted_as_unauthenticated() {
    let ca = TestCa::new("cluster-a");
    let server = server(&ca, cfg());
    let client = client(&ca, None, cfg());
    let conn = within(
        30,
        "connect",
        client.connect(server.local_addr(), "localhost"),
    )
    .await
    .expect("connect");
    let accepted = within(30, "accept", server.accept())
        .await
        .expect("accepted");
    assert_eq!(
        accepted.peer_common_name(),
        None,
        "no client certificate means no CN"
    );
    // And it can talk.
    let serve = tokio::spawn(async move {
        let stream = accepted.accept_stream().await.expect("stream");
        stream
            .respond(&"welcome".to_string())
            .await
            .expect("respond");
        accepted
    });
    let answer: String = within(30, "request", conn.request(7, &"join".to_string()))
        .await
        .expect("request");
    assert_eq!(answer, "welcome");
    serve.await.expect("server task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificate_from_another_ca_is_rejected() {
    let ca = TestCa::new("cluster-a");
    let rogue = TestCa::new("cluster-b");
    let server = server(&ca, cfg());
    let addr = server.local_addr();
    // Trusts the right server CA, but presents a certificate of another CA.
    let crypto = client_crypto(&ca.cert, Some(rogue.client_identity("intruder"))).expect("crypto");
    let client = Client::new(crypto, cfg()).expect("client");
    let err = match within(30, "connect", client.connect(addr, "127.0.0.1")).await {
        // In QUIC the client may finish before the server checks its certificate: the refusal
        // then closes the connection right after.
        Ok(conn) => within(30, "closed", conn.closed()).await,
        Err(e) => e,
    };
    assert!(
        matches!(err, TransportError::CertificateRejected(_)),
        "want CertificateRejected, got {err:?}"
    );
    assert!(
        !err.is_retryable(),
        "a rejected certificate is not retryable"
    );
    assert!(
        err.to_string().contains("unknown_ca") || err.to_string().contains("certificate"),
        "{err}"
    );

    // The server handed out nothing for it, and still serves a good client.
    let good = support::client(&ca, Some("node-2"), cfg());
    let _conn = within(30, "good connect", good.connect(addr, "127.0.0.1"))
        .await
        .expect("good client");
    let accepted = within(30, "accept", server.accept())
        .await
        .expect("accepted");
    assert_eq!(
        accepted.peer_common_name().as_deref(),
        Some("node-2"),
        "the first accepted connection is the good one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_certificate_from_another_ca_is_untrusted() {
    let ca = TestCa::new("cluster-a");
    let rogue = TestCa::new("cluster-b");
    let server = server(&rogue, cfg());
    let client = support::client(&ca, Some("node-1"), cfg());
    let err = within(
        30,
        "connect",
        client.connect(server.local_addr(), "127.0.0.1"),
    )
    .await
    .expect_err("must not trust another CA's server");
    assert!(
        matches!(err, TransportError::ServerUntrusted(_)),
        "want ServerUntrusted, got {err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_ca_with_the_right_hash_connects_and_yields_the_ca() {
    let ca = TestCa::new("cluster-a");
    let server = server(&ca, cfg());
    let pin = PinnedCa::new(&ca.sha256().to_uppercase());
    assert!(pin.ca().is_none());
    let client = Client::new(pinned_client_crypto(&pin).expect("crypto"), cfg()).expect("client");
    let conn = within(
        30,
        "connect",
        client.connect(server.local_addr(), "127.0.0.1"),
    )
    .await
    .expect("connect");
    assert_eq!(
        pin.ca().as_ref(),
        Some(&ca.cert),
        "the pinned CA is handed back"
    );
    let accepted = within(30, "accept", server.accept())
        .await
        .expect("accepted");
    assert_eq!(
        accepted.peer_common_name(),
        None,
        "a pinned first contact is unauthenticated"
    );
    drop(conn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_ca_with_a_wrong_hash_is_untrusted() {
    let ca = TestCa::new("cluster-a");
    let rogue = TestCa::new("cluster-b");
    let server = server(&ca, cfg());
    for wrong in [rogue.sha256(), "00".repeat(32), "not-hex".to_string()] {
        let pin = PinnedCa::new(&wrong);
        let client =
            Client::new(pinned_client_crypto(&pin).expect("crypto"), cfg()).expect("client");
        let err = within(
            30,
            "connect",
            client.connect(server.local_addr(), "127.0.0.1"),
        )
        .await
        .expect_err("a wrong pin must fail");
        assert!(
            matches!(err, TransportError::ServerUntrusted(_)),
            "pin {wrong}: want ServerUntrusted, got {err:?}"
        );
        assert!(
            err.to_string().contains("pin"),
            "the message names the pin: {err}"
        );
        assert!(pin.ca().is_none(), "no CA handed back on failure");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_ca_rejects_a_leaf_not_signed_by_the_pinned_ca() {
    // The attacker's chain carries the real CA certificate (public) but its leaf is signed by
    // another CA: the pin matches, the signature check must still fail.
    let ca = TestCa::new("cluster-a");
    let rogue = TestCa::new("cluster-b");
    let mut identity = rogue.server_identity();
    identity.cert_chain = vec![identity.cert_chain[0].clone(), ca.cert.clone()];
    let crypto = capstan_transport::server_crypto(identity, &ca.cert).expect("crypto");
    let server = capstan_transport::Server::bind(localhost(), crypto, cfg()).expect("bind");
    let pin = PinnedCa::new(&ca.sha256());
    let client = Client::new(pinned_client_crypto(&pin).expect("crypto"), cfg()).expect("client");
    let err = within(
        30,
        "connect",
        client.connect(server.local_addr(), "127.0.0.1"),
    )
    .await
    .expect_err("forged chain must fail");
    assert!(
        matches!(err, TransportError::ServerUntrusted(_)),
        "want ServerUntrusted, got {err:?}"
    );
    assert!(pin.ca().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_server_name_is_untrusted() {
    let ca = TestCa::new("cluster-a");
    let server = server(&ca, cfg());
    let client = support::client(&ca, Some("node-1"), cfg());
    let err = within(
        30,
        "connect",
        client.connect(server.local_addr(), "master.example"),
    )
    .await
    .expect_err("name not in the certificate");
    assert!(
        matches!(err, TransportError::ServerUntrusted(_)),
        "got {err:?}"
    );
}
