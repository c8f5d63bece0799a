//! Reconnecting with backoff to a server that went away and came back on the same port.

mod support;

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use capstan_transport::{connect_with_backoff, Backoff, Server, TransportConfig, TransportError};
use support::*;

/// Answers "pong" to every request of the first connection, then hands the server back.
fn serve(server: Server) -> tokio::task::JoinHandle<Server> {
    tokio::spawn(async move {
        if let Some(conn) = server.accept().await {
            while let Ok(stream) = conn.accept_stream().await {
                let _ = stream.respond(&"pong".to_string()).await;
            }
        }
        server
    })
}

/// Binds `addr` again, retrying while the old socket is still being released.
async fn rebind(ca: &TestCa, addr: SocketAddr) -> Server {
    for _ in 0..100 {
        let crypto =
            capstan_transport::server_crypto(ca.server_identity(), &ca.cert).expect("crypto");
        match Server::bind(addr, crypto, cfg()) {
            Ok(server) => return server,
            Err(e) => {
                eprintln!("rebind {addr}: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("could not bind {addr} again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_with_backoff_reaches_a_server_restarted_on_the_same_port() {
    let ca = Arc::new(TestCa::new("cluster-a"));
    let first = server(&ca, cfg());
    let addr = first.local_addr();
    let quick = TransportConfig {
        handshake_timeout: Duration::from_secs(2),
        ..cfg()
    };
    let client = client(&ca, Some("node-1"), quick);

    let conn = within(30, "first connect", client.connect(addr, "127.0.0.1"))
        .await
        .expect("connect");
    let serving = serve(first);
    let pong: String = within(30, "first request", conn.request(1, &()))
        .await
        .expect("request");
    assert_eq!(pong, "pong");

    // The server goes away.
    conn.close(0, "done");
    let first = within(30, "first server loop", serving)
        .await
        .expect("server task");
    within(30, "shutdown", first.shutdown(Duration::from_secs(10))).await;
    let down = within(30, "connect while down", client.connect(addr, "127.0.0.1")).await;
    assert!(
        matches!(&down, Err(e) if e.is_retryable()),
        "a server that is down gives a retryable error, got {down:?}"
    );

    // It comes back on the same port after more than one handshake timeout.
    let restart = {
        let ca = ca.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            let server = rebind(&ca, addr).await;
            // The serving task answers the reconnected client for the rest of the test.
            serve(server).await.expect("serving task")
        })
    };
    let failures = AtomicUsize::new(0);
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1)).with_seed(7);
    let conn = within(
        60,
        "reconnect",
        connect_with_backoff(&client, addr, "127.0.0.1", &mut backoff, |e| {
            failures.fetch_add(1, Ordering::SeqCst);
            !e.is_retryable()
        }),
    )
    .await
    .expect("reconnected");
    assert!(
        failures.load(Ordering::SeqCst) >= 1,
        "at least one attempt failed while the server was down"
    );
    assert_eq!(
        backoff.ceiling(),
        Duration::from_millis(100),
        "backoff reset after success"
    );
    let pong: String = within(30, "request after restart", conn.request(1, &()))
        .await
        .expect("request");
    assert_eq!(pong, "pong");
    conn.close(0, "done");
    within(30, "second server loop", restart)
        .await
        .expect("restart task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_with_backoff_gives_up_on_an_untrusted_server() {
    let ca = TestCa::new("cluster-a");
    let rogue = TestCa::new("cluster-b");
    let server = server(&rogue, cfg());
    let client = client(&ca, Some("node-1"), cfg());
    let mut backoff =
        Backoff::new(Duration::from_millis(10), Duration::from_millis(100)).with_seed(1);
    let err = within(
        30,
        "give up",
        connect_with_backoff(
            &client,
            server.local_addr(),
            "127.0.0.1",
            &mut backoff,
            |e| !e.is_retryable(),
        ),
    )
    .await
    .expect_err("must give up");
    assert!(matches!(err, TransportError::ServerUntrusted(_)), "{err:?}");
}
