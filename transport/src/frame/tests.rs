use std::collections::BTreeMap;

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::*;
use crate::DEFAULT_MAX_FRAME;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Phase {
    Pending,
    Running { since: u64 },
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Status {
    name: String,
    namespace: String,
    rv: u64,
    restarts: i32,
    phase: Phase,
    labels: BTreeMap<String, String>,
    ip: Option<String>,
    payload: Vec<u8>,
}

fn sample() -> Status {
    Status {
        name: "web-7f9c".into(),
        namespace: "default".into(),
        rv: 42,
        restarts: -1,
        phase: Phase::Running {
            since: 1_700_000_000,
        },
        labels: [("app".to_string(), "web".to_string())].into(),
        ip: Some("10.0.0.7".into()),
        payload: vec![1, 2, 3],
    }
}

fn split(frame: &[u8]) -> (usize, &[u8]) {
    let len = u32::from_be_bytes(frame[..4].try_into().expect("prefix")) as usize;
    (len, &frame[4..])
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
    let frame = encode_frame(&value, DEFAULT_MAX_FRAME).expect("encode");
    let (len, body) = split(&frame);
    assert_eq!(
        len,
        body.len(),
        "length prefix must equal body length for {value:?}"
    );
    let back: T = decode_body(body, DEFAULT_MAX_FRAME).expect("decode");
    assert_eq!(back, value, "round trip changed the value");
}

#[test]
fn every_shape_round_trips() {
    round_trip(sample());
    round_trip(Phase::Pending);
    round_trip(Phase::Failed("oom".into()));
    round_trip(());
    round_trip(u64::MAX);
    round_trip(String::new());
    round_trip(vec![sample(); 64]);
    round_trip((7u16, "x".to_string(), None::<u8>));
    round_trip(vec![0u8; 100_000]);
}

#[test]
fn truncated_bodies_are_refused() {
    let frame = encode_frame(&sample(), DEFAULT_MAX_FRAME).expect("encode");
    let body = &frame[4..];
    for cut in 0..body.len() {
        let res = decode_body::<Status>(&body[..cut], DEFAULT_MAX_FRAME);
        assert!(
            matches!(res, Err(TransportError::Decode(_))),
            "a body cut to {cut} bytes must be a Decode error, got {res:?}"
        );
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let mut frame = encode_frame(&sample(), DEFAULT_MAX_FRAME).expect("encode");
    frame.push(0);
    let res = decode_body::<Status>(&frame[4..], DEFAULT_MAX_FRAME);
    assert!(matches!(res, Err(TransportError::Decode(_))), "{res:?}");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut ok = 0;
    for i in 0..20_000 {
        let len = rng.random_range(0..256);
        let mut body = vec![0u8; len];
        rng.fill(&mut body[..]);
        // Mutate a valid body half of the time so that decoding gets deep.
        if i % 2 == 0 {
            let valid = encode_frame(&sample(), DEFAULT_MAX_FRAME).expect("encode");
            body = valid[4..].to_vec();
            let at = rng.random_range(0..body.len());
            body[at] = rng.random();
        }
        if decode_body::<Status>(&body, DEFAULT_MAX_FRAME).is_ok() {
            ok += 1;
        }
        let _ = decode_body::<Vec<Status>>(&body, DEFAULT_MAX_FRAME);
        let _ = decode_body::<String>(&body, DEFAULT_MAX_FRAME);
    }
    assert!(ok < 20_000, "garbage cannot all decode");
}

#[test]
fn huge_inner_length_is_refused_without_allocating() {
    // A Vec<u8> claiming u64::MAX / 2 bytes, varint encoded (0xFD = u64 follows).
    let mut body = vec![0xFD];
    body.extend_from_slice(&(u64::MAX / 2).to_le_bytes());
    let res = decode_body::<Vec<u8>>(&body, DEFAULT_MAX_FRAME);
    assert!(matches!(res, Err(TransportError::Decode(_))), "{res:?}");
    let res = decode_body::<String>(&body, DEFAULT_MAX_FRAME);
    assert!(matches!(res, Err(TransportError::Decode(_))), "{res:?}");
}

#[test]
fn oversize_frames_are_refused_on_encode_and_decode() {
    let big = vec![7u8; 1000];
    let res = encode_frame(&big, 999);
    assert_eq!(
        res,
        Err(TransportError::FrameTooLarge {
            len: 1003,
            max: 999
        }),
        "a 1000-byte vector encodes to 1003 bytes (0xFB + u16 length, then the bytes)"
    );
    let frame = encode_frame(&big, DEFAULT_MAX_FRAME).expect("encode");
    let res = decode_body::<Vec<u8>>(&frame[4..], 999);
    assert_eq!(
        res,
        Err(TransportError::FrameTooLarge {
            len: 1003,
            max: 999
        })
    );
}

#[test]
fn encode_into_appends_and_leaves_buffer_intact_on_error() {
    let mut buf = Vec::new();
    encode_frame_into(&1u8, 16, &mut buf).expect("small");
    encode_frame_into(&2u8, 16, &mut buf).expect("small");
    assert_eq!(buf, [0, 0, 0, 1, 1, 0, 0, 0, 1, 2]);
    let before = buf.clone();
    assert!(encode_frame_into(&vec![0u8; 64], 16, &mut buf).is_err());
    assert_eq!(buf, before, "a refused frame must not leave bytes behind");
}
