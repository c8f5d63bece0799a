//! Request/response, push streams, version checks and frame limits over real connections.

mod support;

use std::time::Duration;

use capstan_transport::{
    encode_header, read_frame, write_frame, StreamKind, TransportConfig, TransportError,
    PROTOCOL_VERSION,
};
use serde::{Deserialize, Serialize};
use support::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Ping {
    seq: u64,
    note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Reply {
    Pong { seq: u64 },
    Refused(String),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_get_their_responses_on_each_channel() {
    let ca = TestCa::new("cluster-a");
    let (_server, _client, conn, served) = pair(&ca, "node-1").await;
    let echo = tokio::spawn(async move {
        while let Ok(mut stream) = served.accept_stream().await {
            assert_eq!(stream.kind(), StreamKind::Request);
            let channel = stream.channel;
            let ping: Ping = stream.recv().await.expect("recv").expect("a request frame");
            let reply = if channel == 2 {
                Reply::Refused(ping.note)
            } else {
                Reply::Pong { seq: ping.seq }
            };
            stream.respond(&reply).await.expect("respond");
        }
    });
    let mut calls = Vec::new();
    for seq in 0..50u64 {
        let conn = conn.clone();
        calls.push(tokio::spawn(async move {
            let channel = if seq % 5 == 0 { 2 } else { 1 };
            let reply: Reply = conn
                .request(
                    channel,
                    &Ping {
                        seq,
                        note: format!("n{seq}"),
                    },
                )
                .await
                .expect("request");
            (seq, channel, reply)
        }));
    }
    for call in calls {
        let (seq, channel, reply) = within(30, "request", call).await.expect("task");
        let want = if channel == 2 {
            Reply::Refused(format!("n{seq}"))
        } else {
            Reply::Pong { seq }
        };
        assert_eq!(reply, want, "request {seq} on channel {channel}");
    }
    conn.close(0, "done");
    within(30, "server loop ends", echo)
        .await
        .expect("server task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_stream_delivers_100_messages_in_order() {
    let ca = TestCa::new("cluster-a");
    let (_server, _client, conn, served) = pair(&ca, "node-1").await;
    let reader = tokio::spawn(async move {
        let mut stream = served.accept_stream().await.expect("push stream");
        assert_eq!((stream.channel, stream.kind()), (9, StreamKind::Push));
        let mut got = Vec::new();
        while let Some(ping) = stream.recv::<Ping>().await.expect("recv") {
            got.push(ping.seq);
        }
        got
    });
    let mut push = within(30, "open push", conn.open_push(9))
        .await
        .expect("open_push");
    assert_eq!(push.channel(), 9);
    for seq in 0..100 {
        push.send(&Ping {
            seq,
            note: "x".repeat(seq as usize),
        })
        .await
        .expect("send");
    }
    within(30, "finish", push.finish()).await.expect("finish");
    let got = within(30, "reader", reader).await.expect("reader task");
    assert_eq!(
        got,
        (0..100).collect::<Vec<_>>(),
        "every message once, in order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_mismatch_is_reported_to_the_opener_and_the_connection_survives() {
    let ca = TestCa::new("cluster-a");
    let (_server, _client, conn, served) = pair(&ca, "node-1").await;
    let serve = tokio::spawn(async move {
        // The bad streams are refused inside accept_stream; only the good request comes out.
        let stream = served.accept_stream().await.expect("good stream");
        assert_eq!(stream.channel, 3);
        stream.respond(&"ok".to_string()).await.expect("respond");
        // Dropping the last handle closes the connection, maybe before the response is out.
        served
    });
    let future = conn.clone().with_protocol_version(999);
    let err = within(
        30,
        "request",
        future.request::<_, String>(1, &"hello".to_string()),
    )
    .await
    .expect_err("version 999 must be refused");
    assert_eq!(
        err,
        TransportError::VersionMismatch {
            ours: 999,
            theirs: PROTOCOL_VERSION
        }
    );
    assert!(!err.is_retryable());
    let err = within(30, "push", future.open_push(1))
        .await
        .err()
        .expect("push with version 999 must be refused");
    assert_eq!(
        err,
        TransportError::VersionMismatch {
            ours: 999,
            theirs: PROTOCOL_VERSION
        }
    );

    let ok: String = within(30, "good request", conn.request(3, &"again".to_string()))
        .await
        .expect("connection still works");
    assert_eq!(ok, "ok");
    within(30, "server", serve).await.expect("server task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_messages_are_refused_before_sending() {
    let ca = TestCa::new("cluster-a");
    let small = TransportConfig {
        max_frame: 1024,
        ..cfg()
    };
    let server = server(&ca, small.clone());
    let client = client(&ca, Some("node-1"), small);
    let conn = within(
        30,
        "connect",
        client.connect(server.local_addr(), "127.0.0.1"),
    )
    .await
    .expect("connect");
    let err = conn
        .request::<_, ()>(1, &vec![0u8; 4096])
        .await
        .expect_err("too large");
    assert!(
        matches!(err, TransportError::FrameTooLarge { max: 1024, .. }),
        "{err:?}"
    );
    let mut push = within(30, "open push", async {
        let served = server.accept().await.expect("accepted");
        let (push, stream) = tokio::join!(conn.open_push(1), served.accept_stream());
        (push.expect("push"), stream.expect("stream"), served)
    })
    .await;
    let err = push.0.send(&vec![0u8; 4096]).await.expect_err("too large");
    assert!(
        matches!(err, TransportError::FrameTooLarge { len, max: 1024 } if len > 4096),
        "{err:?}"
    );
    // Refused before writing: the stream is still good.
    push.0
        .send(&7u32)
        .await
        .expect("small message after a refused one");
    assert_eq!(push.1.recv::<u32>().await.expect("recv"), Some(7));
    assert!(
        conn.close_reason().is_none(),
        "refusing our own message does not close anything"
    );
    drop(push.2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_length_prefix_closes_only_that_connection() {
    let ca = TestCa::new("cluster-a");
    let cfg = TransportConfig {
        max_frame: 64 * 1024,
        ..cfg()
    };
    let server = server(&ca, cfg.clone());
    let addr = server.local_addr();
    let bad_client = client(&ca, Some("bad"), cfg.clone());
    let good_client = client(&ca, Some("good"), cfg.clone());
    let bad = within(30, "connect", bad_client.connect(addr, "127.0.0.1"))
        .await
        .expect("connect");
    let good = within(30, "connect", good_client.connect(addr, "127.0.0.1"))
        .await
        .expect("connect");

    // Serve every connection like a real server: one task per connection, one per stream.
    let serving = tokio::spawn(async move {
        let mut outcomes = Vec::new();
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let conn = server.accept().await.expect("accept");
            tasks.push(tokio::spawn(async move {
                let cn = conn.peer_common_name().expect("authenticated");
                let mut results = Vec::new();
                loop {
                    match conn.accept_stream().await {
                        Ok(mut stream) if stream.kind() == StreamKind::Push => {
                            results.push(format!("{:?}", stream.recv::<Vec<u8>>().await));
                        }
                        Ok(stream) => stream
                            .respond(&"served".to_string())
                            .await
                            .expect("respond"),
                        Err(e) => {
                            results.push(format!("accept_stream: {e}"));
                            break;
                        }
                    }
                }
                (cn, results)
            }));
        }
        for task in tasks {
            outcomes.push(task.await.expect("connection task"));
        }
        (server, outcomes)
    });

    let mut push = within(30, "open push", bad.open_push(5))
        .await
        .expect("open push");
    push.send_raw(&u32::MAX.to_be_bytes())
        .await
        .expect("raw write");
    let reason = within(30, "bad connection closed", bad.closed()).await;
    assert!(
        matches!(&reason, TransportError::Closed(msg) if msg.contains("frame too large")),
        "the server closes the offender with a reason: {reason:?}"
    );

    let answer: String = within(30, "good request", good.request(1, &()))
        .await
        .expect("good client still served");
    assert_eq!(answer, "served");
    good.close(0, "bye");
    let (_server, outcomes) = within(30, "serving", serving).await.expect("server task");
    let bad_outcome = outcomes
        .iter()
        .find(|(cn, _)| cn == "bad")
        .expect("bad connection");
    assert!(
        bad_outcome.1.iter().any(|r| r.contains("FrameTooLarge")),
        "the server saw FrameTooLarge: {:?}",
        bad_outcome.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_without_response_and_slow_response() {
    let ca = TestCa::new("cluster-a");
    let quick = TransportConfig {
        request_timeout: Duration::from_secs(2),
        ..cfg()
    };
    let server = server(&ca, quick.clone());
    let client = client(&ca, Some("node-1"), quick);
    let conn = within(
        30,
        "connect",
        client.connect(server.local_addr(), "127.0.0.1"),
    )
    .await
    .expect("connect");
    let served = within(30, "accept", server.accept())
        .await
        .expect("accepted");
    let serve = tokio::spawn(async move {
        // First request: dropped unanswered. Second: held past the timeout.
        let first = served.accept_stream().await.expect("first");
        drop(first);
        let second = served.accept_stream().await.expect("second");
        tokio::time::sleep(Duration::from_secs(4)).await;
        drop(second);
        served
    });
    let err = within(30, "dropped", conn.request::<_, u8>(1, &1u8))
        .await
        .expect_err("no response");
    assert!(
        matches!(&err, TransportError::Closed(m) if m.contains("without answering")),
        "{err:?}"
    );
    let err = within(30, "slow", conn.request::<_, u8>(1, &2u8))
        .await
        .expect_err("too slow");
    assert!(matches!(err, TransportError::Timeout(_)), "{err:?}");
    assert!(err.is_retryable());
    within(30, "server", serve).await.expect("server task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_response_type_is_a_decode_error() {
    let ca = TestCa::new("cluster-a");
    let (_server, _client, conn, served) = pair(&ca, "node-1").await;
    tokio::spawn(async move {
        let stream = served.accept_stream().await.expect("stream");
        stream
            .respond(&"not a number".to_string())
            .await
            .expect("respond");
        served.closed().await
    });
    let err = within(30, "request", conn.request::<_, Ping>(1, &()))
        .await
        .expect_err("type mismatch");
    assert!(matches!(err, TransportError::Decode(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_frames_round_trip_and_end_cleanly() {
    let ca = TestCa::new("cluster-a");
    let (_server, _client, conn, served) = pair(&ca, "node-1").await;
    let (mut send, _recv) = conn.quinn().open_bi().await.expect("open");
    for seq in 0..3 {
        write_frame(
            &mut send,
            &Ping {
                seq,
                note: "raw".into(),
            },
            1024,
        )
        .await
        .expect("write");
    }
    send.finish().expect("finish");
    let (_send, mut recv) = within(30, "accept_bi", served.quinn().accept_bi())
        .await
        .expect("accept_bi");
    for seq in 0..3 {
        let ping: Option<Ping> = read_frame(&mut recv, 1024).await.expect("read");
        assert_eq!(
            ping,
            Some(Ping {
                seq,
                note: "raw".into()
            })
        );
    }
    assert_eq!(
        read_frame::<Ping>(&mut recv, 1024)
            .await
            .expect("clean end"),
        None
    );

    // A header frame built by hand is what Connection sends.
    let mut header = Vec::new();
    encode_header(PROTOCOL_VERSION, 1, StreamKind::Request, &mut header);
    assert_eq!(header, [0, 0, 0, 7, 0, 0, 0, 1, 0, 1, 0]);
}
