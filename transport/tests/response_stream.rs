//! Streamed responses over real connections: `Connection::request_stream` on the opener's side,
//! `IncomingStream::into_responder` on the accepter's.

mod support;

use std::time::{Duration, Instant};

use capstan_transport::{StreamKind, TransportConfig, TransportError};
use serde::{Deserialize, Serialize};
use support::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Ask {
    count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Chunk {
    Data(Vec<u8>),
    End,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_arrive_in_order_then_the_end() {
    let ca = TestCa::new("cluster-a");
    let (_server, _client, conn, served) = pair(&ca, "node-1").await;
    let serve = tokio::spawn(async move {
        let mut stream = served.accept_stream().await.expect("stream");
        assert_eq!((stream.channel, stream.kind()), (6, StreamKind::Request));
        let ask: Ask = stream.recv().await.expect("recv").expect("a request frame");
        let mut responder = stream.into_responder();
        assert_eq!(responder.channel(), 6);
        for i in 0..ask.count {
            // Spread over time: the opener reads them as they come, with no overall timeout.
            if i % 10 == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            responder
                .send(&Chunk::Data(format!("line-{i}\n").into_bytes()))
                .await
                .expect("send");
        }
        responder.send(&Chunk::End).await.expect("send end");
        responder.finish().await.expect("finish");
        // Keep the connection until the opener has read everything.
        served
    });
    let mut responses = within(
        30,
        "request_stream",
        conn.request_stream(6, &Ask { count: 50 }),
    )
    .await
    .expect("request_stream");
    assert_eq!(responses.channel(), 6);
    let mut got = Vec::new();
    loop {
        match within(30, "next frame", responses.recv::<Chunk>())
            .await
            .expect("recv")
        {
            Some(Chunk::Data(bytes)) => got.push(String::from_utf8(bytes).expect("utf8")),
            Some(Chunk::End) => break,
            None => panic!("the stream ended before End"),
        }
    }
    assert_eq!(
        got,
        (0..50).map(|i| format!("line-{i}\n")).collect::<Vec<_>>(),
        "every frame once, in order"
    );
    let end = within(30, "end of stream", responses.recv::<Chunk>())
        .await
        .expect("clean end");
    assert_eq!(end, None, "finish ends the stream");
    let _served = within(30, "server task", serve).await.expect("server task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_frames_is_just_the_end() {
    let ca = TestCa::new("cluster-a");
    let (_server, _client, conn, served) = pair(&ca, "node-1").await;
    let serve = tokio::spawn(async move {
        let mut stream = served.accept_stream().await.expect("stream");
        let _: Ask = stream.recv().await.expect("recv").expect("request");
        stream.into_responder().finish().await.expect("finish");
        served
    });
    let mut responses = within(
        30,
        "request_stream",
        conn.request_stream(6, &Ask { count: 0 }),
    )
    .await
    .expect("accepted by finish alone");
    let end = within(30, "end", responses.recv::<Chunk>())
        .await
        .expect("clean end");
    assert_eq!(end, None);
    let _served = within(30, "server task", serve).await.expect("server task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_response_stream_stops_the_responder() {
    let ca = TestCa::new("cluster-a");
    let (_server, _client, conn, served) = pair(&ca, "node-1").await;
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
    let serve = tokio::spawn(async move {
        let mut stream = served.accept_stream().await.expect("stream");
        let _: Ask = stream.recv().await.expect("recv").expect("request");
        let mut responder = stream.into_responder();
        responder
            .send(&Chunk::Data(b"first\n".to_vec()))
            .await
            .expect("first send");
        let stopped = responder.stopped();
        let _ = first_tx.send(());
        // Keep sending, as a log follower does, until the opener's departure shows.
        let started = Instant::now();
        let err = loop {
            match responder.send(&Chunk::Data(b"more\n".to_vec())).await {
                Ok(()) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => break e,
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "sends still succeed 20 s after the opener dropped its stream"
            );
        };
        // Every later send fails too, and `stopped` has resolved.
        let again = responder.send(&Chunk::End).await;
        let stopped = within(10, "stopped resolves", stopped).await;
        (err, again, stopped, served)
    });
    let mut responses = within(
        30,
        "request_stream",
        conn.request_stream(6, &Ask { count: 1 }),
    )
    .await
    .expect("request_stream");
    let first = within(30, "first frame", responses.recv::<Chunk>())
        .await
        .expect("recv");
    assert_eq!(first, Some(Chunk::Data(b"first\n".to_vec())));
    within(30, "server sent the first frame", first_rx)
        .await
        .expect("signal");
    drop(responses);
    let (err, again, stopped, served) = within(30, "the responder's send fails", serve)
        .await
        .expect("server task");
    assert!(
        matches!(err, TransportError::Closed(_)),
        "a dropped opener is a closed stream: {err:?}"
    );
    assert!(again.is_err(), "a failed responder stays failed");
    assert!(matches!(stopped, TransportError::Closed(_)), "{stopped:?}");
    // Only that stream ended: a new streamed request on the same connection works.
    let serve = tokio::spawn(async move {
        let mut stream = served.accept_stream().await.expect("second stream");
        let _: Ask = stream.recv().await.expect("recv").expect("request");
        let mut responder = stream.into_responder();
        responder.send(&Chunk::End).await.expect("send");
        responder.finish().await.expect("finish");
        served
    });
    let mut responses = within(
        30,
        "second request",
        conn.request_stream(6, &Ask { count: 0 }),
    )
    .await
    .expect("request_stream");
    let end = within(30, "second answer", responses.recv::<Chunk>())
        .await
        .expect("recv");
    assert_eq!(end, Some(Chunk::End));
    let _served = within(30, "server task", serve).await.expect("server task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_mid_answer_is_an_error() {
    let ca = TestCa::new("cluster-a");
    let (_server, _client, conn, served) = pair(&ca, "node-1").await;
    let serve = tokio::spawn(async move {
        let mut stream = served.accept_stream().await.expect("stream");
        let _: Ask = stream.recv().await.expect("recv").expect("request");
        let mut responder = stream.into_responder();
        responder
            .send(&Chunk::Data(b"partial\n".to_vec()))
            .await
            .expect("send");
        // Give the frame time to arrive, then drop everything mid-answer.
        tokio::time::sleep(Duration::from_millis(300)).await;
        served.close(0, "going away");
    });
    let mut responses = within(
        30,
        "request_stream",
        conn.request_stream(6, &Ask { count: 1 }),
    )
    .await
    .expect("request_stream");
    let first = within(30, "first frame", responses.recv::<Chunk>())
        .await
        .expect("recv");
    assert_eq!(first, Some(Chunk::Data(b"partial\n".to_vec())));
    let next = within(30, "the loss shows", responses.recv::<Chunk>()).await;
    assert!(
        matches!(next, Err(TransportError::Closed(_))),
        "a lost connection is an error, never a clean end: {next:?}"
    );
    within(30, "server task", serve).await.expect("server task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_streamed_request_times_out() {
    let ca = TestCa::new("cluster-a");
    let quick = TransportConfig {
        request_timeout: Duration::from_secs(2),
        ..cfg()
    };
    let server = server(&ca, cfg());
    let client = client(&ca, Some("node-1"), quick);
    let conn = within(
        30,
        "connect",
        client.connect(server.local_addr(), "127.0.0.1"),
    )
    .await
    .expect("connect");
    let served = within(30, "accept", server.accept()).await.expect("accept");
    // The accepter reads the request and never answers.
    let serve = tokio::spawn(async move {
        let mut stream = served.accept_stream().await.expect("stream");
        let _: Ask = stream.recv().await.expect("recv").expect("request");
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    });
    let res = within(
        30,
        "request_stream gives up",
        conn.request_stream(6, &Ask { count: 1 }),
    )
    .await;
    assert!(
        matches!(res, Err(TransportError::Timeout(_))),
        "bounded by the request timeout: {res:?}"
    );
    serve.abort();
}
