//! Hostile or broken peers below the frame layer: junk datagrams and handshakes that stall.

mod support;

use std::{net::SocketAddr, time::Duration};

use capstan_transport::{Client, TransportConfig};
use rand::{rngs::StdRng, Rng, SeedableRng};
use support::*;
use tokio::net::UdpSocket;

/// A QUIC long-header packet that looks like an Initial but carries random bytes.
fn junk_initial(rng: &mut StdRng) -> Vec<u8> {
    let mut pkt = vec![0xC3];
    pkt.extend_from_slice(&1u32.to_be_bytes());
    pkt.push(8);
    pkt.extend((0..8).map(|_| rng.random::<u8>()));
    pkt.push(8);
    pkt.extend((0..8).map(|_| rng.random::<u8>()));
    pkt.push(0); // no token
    let payload = 1200 - pkt.len() - 2;
    pkt.extend_from_slice(&[0x40 | (payload >> 8) as u8, payload as u8]);
    pkt.extend((0..payload).map(|_| rng.random::<u8>()));
    pkt
}

/// Forwards the first datagram it receives to `target` and swallows everything else, in both
/// directions: a client behind it sends exactly one real Initial and never answers.
async fn one_packet_relay(target: SocketAddr) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("relay socket");
    let addr = socket.local_addr().expect("relay addr");
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        let mut forwarded = false;
        while let Ok((n, _from)) = socket.recv_from(&mut buf).await {
            if !forwarded {
                forwarded = true;
                let _ = socket.send_to(&buf[..n], target).await;
            }
        }
    });
    addr
}

/// Starts a handshake that will never finish; returns the task to abort at the end.
fn stalled_client(ca: &TestCa, server: SocketAddr) -> tokio::task::JoinHandle<()> {
    let patient = TransportConfig {
        handshake_timeout: Duration::from_secs(120),
        ..cfg()
    };
    let client: Client = client(ca, Some("stalled"), patient);
    tokio::spawn(async move {
        let relay = one_packet_relay(server).await;
        let res = client.connect(relay, "127.0.0.1").await;
        panic!("a handshake through the one-packet relay cannot finish: {res:?}");
    })
}

async fn serve_one_request(server: &capstan_transport::Server) -> capstan_transport::Connection {
    let conn = within(30, "accept", server.accept())
        .await
        .expect("accepted");
    let served = conn.clone();
    tokio::spawn(async move {
        while let Ok(stream) = served.accept_stream().await {
            let _ = stream.respond(&"pong".to_string()).await;
        }
    });
    conn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_datagrams_are_harmless() {
    let ca = TestCa::new("cluster-a");
    let server = server(&ca, cfg());
    let addr = server.local_addr();
    let junk = UdpSocket::bind("127.0.0.1:0").await.expect("junk socket");
    let mut rng = StdRng::seed_from_u64(11);
    for i in 0..3000 {
        let pkt = if i % 3 == 0 {
            junk_initial(&mut rng)
        } else {
            let len = rng.random_range(1..1500);
            (0..len).map(|_| rng.random::<u8>()).collect()
        };
        junk.send_to(&pkt, addr).await.expect("send junk");
        if i % 200 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let client = client(&ca, Some("node-1"), cfg());
    let conn = within(30, "connect after junk", client.connect(addr, "127.0.0.1"))
        .await
        .expect("connect");
    let served = serve_one_request(&server).await;
    assert_eq!(
        served.peer_common_name().as_deref(),
        Some("node-1"),
        "the junk produced no connection"
    );
    // More junk while a connection is up, from the same kind of socket.
    for _ in 0..500 {
        let len = rng.random_range(1..1500);
        let pkt: Vec<u8> = (0..len).map(|_| rng.random::<u8>()).collect();
        junk.send_to(&pkt, addr).await.expect("send junk");
    }
    let pong: String = within(30, "request", conn.request(1, &()))
        .await
        .expect("request after junk");
    assert_eq!(pong, "pong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_handshakes_do_not_block_accept() {
    let ca = TestCa::new("cluster-a");
    // Long handshake timeout: the good client must not wait for the stalled one to time out.
    let server = server(
        &ca,
        TransportConfig {
            handshake_timeout: Duration::from_secs(60),
            ..cfg()
        },
    );
    let addr = server.local_addr();
    let junk = UdpSocket::bind("127.0.0.1:0").await.expect("junk socket");
    junk.send_to(&junk_initial(&mut StdRng::seed_from_u64(1)), addr)
        .await
        .expect("junk");
    let stalled = stalled_client(&ca, addr);
    within(30, "stalled handshake reaches the server", async {
        while server.open_connections() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    let client = client(&ca, Some("node-1"), cfg());
    let started = std::time::Instant::now();
    let conn = within(30, "connect", client.connect(addr, "127.0.0.1"))
        .await
        .expect("connect");
    let _served = serve_one_request(&server).await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "accept waited for the stalled handshake"
    );
    assert!(
        server.open_connections() >= 2,
        "the stalled handshake is still pending next to the good one"
    );
    let pong: String = within(30, "request", conn.request(1, &()))
        .await
        .expect("request");
    assert_eq!(pong, "pong");
    stalled.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_handshake_is_dropped_after_the_handshake_timeout() {
    let ca = TestCa::new("cluster-a");
    let server = server(
        &ca,
        TransportConfig {
            handshake_timeout: Duration::from_secs(1),
            ..cfg()
        },
    );
    let addr = server.local_addr();
    let stalled = stalled_client(&ca, addr);
    within(30, "stalled handshake reaches the server", async {
        while server.open_connections() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    // Handshake timeout (1 s), then the closing connection drains (a few PTOs).
    within(30, "stalled handshake dropped", async {
        while server.open_connections() > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    stalled.abort();
}
