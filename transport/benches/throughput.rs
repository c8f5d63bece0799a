//! Messages per second of a ~200-byte status struct over one QUIC connection (one push stream)
//! and over TCP + rustls with the same length-prefixed bincode framing, with and without
//! batching. Plain `main` (harness = false): run `cargo bench -p capstan-transport` and read the
//! table. `CAPSTAN_BENCH_MESSAGES` sets the number of messages per row (default 400 000).

#[path = "../tests/support/mod.rs"]
mod support;

use std::{sync::Arc, time::Instant};

use capstan_transport::{
    client_crypto, decode_body, encode_frame, server_crypto, Client, Server, TransportConfig,
    DEFAULT_MAX_FRAME,
};
use serde::{Deserialize, Serialize};
use support::TestCa;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter},
    net::{TcpListener, TcpStream},
};

/// Roughly what a worker reports per pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PodStatus {
    namespace: String,
    name: String,
    uid: String,
    node: String,
    phase: u8,
    pod_ip: String,
    host_ip: String,
    restarts: u32,
    resource_version: u64,
    started_at: i64,
    ready: bool,
    container_ids: Vec<String>,
}

fn status(i: u64) -> PodStatus {
    PodStatus {
        namespace: "default".into(),
        name: format!("web-frontend-7f9c6d-{i:05}"),
        uid: format!("6f1c2b8e-4a7d-4c1e-9b2f-{i:012}"),
        node: "worker-03".into(),
        phase: 2,
        pod_ip: "10.244.3.17".into(),
        host_ip: "192.168.10.23".into(),
        restarts: (i % 4) as u32,
        resource_version: 1_000_000 + i,
        started_at: 1_790_000_000 + i as i64,
        ready: true,
        container_ids: vec![format!("runc://{:064x}", i as u128 * 0x9e37_79b9_7f4a_7c15)],
    }
}

const BATCH: usize = 64;
const CHANNEL: u16 = 4;

struct Row {
    transport: &'static str,
    batching: String,
    messages: u64,
    bytes: u64,
    seconds: f64,
}

fn messages() -> u64 {
    std::env::var("CAPSTAN_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400_000)
}

fn batches(n: u64, batch: usize) -> Vec<Vec<PodStatus>> {
    let all: Vec<PodStatus> = (0..n).map(status).collect();
    all.chunks(batch).map(<[PodStatus]>::to_vec).collect()
}

async fn quic(ca: &TestCa, n: u64, batch: usize) -> Row {
    let cfg = TransportConfig::default();
    let server = Server::bind(
        "127.0.0.1:0".parse().expect("addr"),
        server_crypto(ca.server_identity(), &ca.cert).expect("crypto"),
        cfg.clone(),
    )
    .expect("bind");
    let client = Client::new(
        client_crypto(&ca.cert, Some(ca.client_identity("bench"))).expect("crypto"),
        cfg,
    )
    .expect("client");
    let conn = client
        .connect(server.local_addr(), "127.0.0.1")
        .await
        .expect("connect");
    let served = server.accept().await.expect("accept");
    let receiver = tokio::spawn(async move {
        let mut stream = served.accept_stream().await.expect("stream");
        let mut got = 0u64;
        if batch == 1 {
            while let Some(s) = stream.recv::<PodStatus>().await.expect("recv") {
                std::hint::black_box(&s);
                got += 1;
            }
        } else {
            while let Some(v) = stream.recv::<Vec<PodStatus>>().await.expect("recv") {
                got += v.len() as u64;
            }
        }
        (got, served)
    });
    let work = batches(n, batch);
    let bytes = wire_bytes(&work, batch);
    let start = Instant::now();
    let mut push = conn.open_push(CHANNEL).await.expect("open push");
    for b in &work {
        if batch == 1 {
            push.send(&b[0]).await.expect("send");
        } else {
            push.send(b).await.expect("send");
        }
    }
    push.finish().await.expect("finish");
    let (got, _served) = receiver.await.expect("receiver");
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(got, n, "every message arrived");
    Row {
        transport: "QUIC (quinn)",
        batching: label(batch),
        messages: n,
        bytes,
        seconds,
    }
}

async fn tcp_tls(ca: &TestCa, n: u64, batch: usize) -> Row {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(
        server_crypto(ca.server_identity(), &ca.cert).expect("crypto"),
    ));
    let receiver = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        tcp.set_nodelay(true).expect("nodelay");
        let tls = acceptor.accept(tcp).await.expect("tls accept");
        let mut reader = BufReader::with_capacity(64 * 1024, tls);
        let mut got = 0u64;
        let mut body = Vec::new();
        loop {
            let len = match reader.read_u32().await {
                Ok(len) => len as usize,
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => panic!("read: {e}"),
            };
            assert!(len <= DEFAULT_MAX_FRAME, "frame too large");
            body.resize(len, 0);
            reader.read_exact(&mut body).await.expect("body");
            if batch == 1 {
                std::hint::black_box(
                    decode_body::<PodStatus>(&body, DEFAULT_MAX_FRAME).expect("decode"),
                );
                got += 1;
            } else {
                got += decode_body::<Vec<PodStatus>>(&body, DEFAULT_MAX_FRAME)
                    .expect("decode")
                    .len() as u64;
            }
        }
        got
    });
    let connector = tokio_rustls::TlsConnector::from(Arc::new(
        client_crypto(&ca.cert, Some(ca.client_identity("bench"))).expect("crypto"),
    ));
    let tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("name");
    let tls = connector.connect(name, tcp).await.expect("tls connect");
    let work = batches(n, batch);
    let bytes = wire_bytes(&work, batch);
    let start = Instant::now();
    let mut writer = BufWriter::with_capacity(64 * 1024, tls);
    for b in &work {
        let frame = if batch == 1 {
            encode_frame(&b[0], DEFAULT_MAX_FRAME)
        } else {
            encode_frame(b, DEFAULT_MAX_FRAME)
        };
        writer
            .write_all(&frame.expect("encode"))
            .await
            .expect("write");
    }
    writer.flush().await.expect("flush");
    let mut tls = writer.into_inner();
    tls.shutdown().await.expect("shutdown");
    let got = receiver.await.expect("receiver");
    let seconds = start.elapsed().as_secs_f64();
    // Dropped only now: closing a socket with unread bytes (the server's session tickets)
    // would reset the connection under the receiver.
    drop(tls);
    assert_eq!(got, n, "every message arrived");
    Row {
        transport: "TCP + rustls",
        batching: label(batch),
        messages: n,
        bytes,
        seconds,
    }
}

fn wire_bytes(work: &[Vec<PodStatus>], batch: usize) -> u64 {
    work.iter()
        .map(|b| {
            let frame = if batch == 1 {
                encode_frame(&b[0], DEFAULT_MAX_FRAME)
            } else {
                encode_frame(b, DEFAULT_MAX_FRAME)
            };
            frame.expect("encode").len() as u64
        })
        .sum()
}

fn label(batch: usize) -> String {
    if batch == 1 {
        "none (1 msg/frame)".into()
    } else {
        format!("{batch} msgs/frame")
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let n = messages();
    let size = encode_frame(&status(12345), DEFAULT_MAX_FRAME)
        .expect("encode")
        .len()
        - 4;
    runtime.block_on(async {
        let ca = TestCa::new("bench-ca");
        // Warm-up (allocators, handshakes, page faults).
        quic(&ca, 20_000, BATCH).await;
        tcp_tls(&ca, 20_000, BATCH).await;
        let rows = vec![
            quic(&ca, n, 1).await,
            quic(&ca, n, BATCH).await,
            tcp_tls(&ca, n, 1).await,
            tcp_tls(&ca, n, BATCH).await,
        ];
        println!();
        println!("{n} PodStatus messages per row, {size} bytes each encoded (bincode 2 standard), one connection");
        println!("| transport    | batching           |    msgs/s | MB/s (frames) | seconds |");
        println!("|--------------|--------------------|----------:|--------------:|--------:|");
        for r in rows {
            println!(
                "| {:<12} | {:<18} | {:>9.0} | {:>13.1} | {:>7.3} |",
                r.transport,
                r.batching,
                r.messages as f64 / r.seconds,
                r.bytes as f64 / r.seconds / 1e6,
                r.seconds
            );
        }
    });
}
