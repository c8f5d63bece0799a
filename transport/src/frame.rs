//! Frames: a u32 big-endian body length, then a bincode 2 body (`config::standard()`).
//!
//! Decoding is bounded twice: the length prefix is checked against `max_frame` before any body
//! byte is read, and bincode runs with a byte limit so that a length *inside* the body (a string,
//! a byte vector) can never make it allocate more than the frame could hold.

use bincode::config::{self, Config};
use bytes::Bytes;
use quinn::{RecvStream, SendStream};
use serde::{de::DeserializeOwned, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::TransportError;

/// Size of the length prefix.
pub const LENGTH_PREFIX: usize = 4;

static FRAMES_ENCODED: AtomicU64 = AtomicU64::new(0);
static FRAMES_RECEIVED: AtomicU64 = AtomicU64::new(0);

/// Frames this process has encoded (to send) and received since it started, over every
/// connection: the master's transport message counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameCounts {
    /// Frames encoded for sending.
    pub sent: u64,
    /// Frames read off a stream.
    pub received: u64,
}

/// The process's frame counters.
pub fn frame_counts() -> FrameCounts {
    FrameCounts {
        sent: FRAMES_ENCODED.load(Ordering::Relaxed),
        received: FRAMES_RECEIVED.load(Ordering::Relaxed),
    }
}

/// Encodes `msg` as one frame, length prefix included. Refuses bodies over `max_frame`.
pub fn encode_frame<T: Serialize>(msg: &T, max_frame: usize) -> Result<Vec<u8>, TransportError> {
    let mut buf = Vec::with_capacity(128);
    encode_frame_into(msg, max_frame, &mut buf)?;
    Ok(buf)
}

/// Appends one frame (length prefix included) for `msg` to `buf`. On error `buf` is left as it
/// was.
pub fn encode_frame_into<T: Serialize>(
    msg: &T,
    max_frame: usize,
    buf: &mut Vec<u8>,
) -> Result<(), TransportError> {
    let start = buf.len();
    buf.extend_from_slice(&[0; LENGTH_PREFIX]);
    if let Err(e) = bincode::serde::encode_into_std_write(msg, buf, config::standard()) {
        buf.truncate(start);
        return Err(TransportError::Encode(e.to_string()));
    }
    let len = buf.len() - start - LENGTH_PREFIX;
    let max = max_frame.min(u32::MAX as usize);
    if len > max {
        buf.truncate(start);
        return Err(TransportError::FrameTooLarge {
            len,
            max: max_frame,
        });
    }
    FRAMES_ENCODED.fetch_add(1, Ordering::Relaxed);
    buf[start..start + LENGTH_PREFIX].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(())
}

/// Decodes one frame body (without its length prefix). Refuses bodies over `max_frame`,
/// truncated or garbage bytes, and trailing bytes after the value.
pub fn decode_body<T: DeserializeOwned>(
    body: &[u8],
    max_frame: usize,
) -> Result<T, TransportError> {
    if body.len() > max_frame {
        return Err(TransportError::FrameTooLarge {
            len: body.len(),
            max: max_frame,
        });
    }
    // The limit only has to be at least the body length: with serde, bincode claims exactly the
    // bytes of each string or byte vector before allocating it, and those bytes must be in the
    // body. The limit is a const generic, hence the buckets.
    const SMALL: usize = crate::DEFAULT_MAX_FRAME;
    const LARGE: usize = 256 * 1024 * 1024;
    const HUGE: usize = u32::MAX as usize;
    let std = config::standard();
    if body.len() <= SMALL {
        decode_with(body, std.with_limit::<SMALL>())
    } else if body.len() <= LARGE {
        decode_with(body, std.with_limit::<LARGE>())
    } else {
        decode_with(body, std.with_limit::<HUGE>())
    }
}

fn decode_with<T: DeserializeOwned, C: Config>(body: &[u8], cfg: C) -> Result<T, TransportError> {
    let (value, used) = bincode::serde::decode_from_slice::<T, C>(body, cfg)
        .map_err(|e| TransportError::Decode(e.to_string()))?;
    if used != body.len() {
        return Err(TransportError::Decode(format!(
            "{} trailing bytes after the message",
            body.len() - used
        )));
    }
    Ok(value)
}

/// Writes `msg` as one frame. Not cancel-safe: a stream whose write was abandoned half-way must
/// not be written again.
pub async fn write_frame<T: Serialize>(
    send: &mut SendStream,
    msg: &T,
    max_frame: usize,
) -> Result<(), TransportError> {
    let buf = encode_frame(msg, max_frame)?;
    write_bytes(send, buf).await
}

/// Writes already encoded frames.
pub(crate) async fn write_bytes(send: &mut SendStream, buf: Vec<u8>) -> Result<(), TransportError> {
    send.write_chunk(Bytes::from(buf))
        .await
        .map_err(TransportError::from_write)
}

/// Reads the next frame and decodes it. `Ok(None)` on a clean end of stream (no byte of a new
/// frame). A length prefix over `max_frame` gives [`TransportError::FrameTooLarge`] before any
/// body byte is read; the helpers of [`crate::Connection`] then close the connection.
pub async fn read_frame<T: DeserializeOwned>(
    recv: &mut RecvStream,
    max_frame: usize,
) -> Result<Option<T>, TransportError> {
    match read_frame_bytes(recv, max_frame).await? {
        Some(body) => decode_body(&body, max_frame).map(Some),
        None => Ok(None),
    }
}

/// Reads the next frame body without decoding it.
pub(crate) async fn read_frame_bytes(
    recv: &mut RecvStream,
    max_frame: usize,
) -> Result<Option<Vec<u8>>, TransportError> {
    let mut prefix = [0u8; LENGTH_PREFIX];
    match recv.read_exact(&mut prefix).await {
        Ok(()) => {}
        Err(quinn::ReadExactError::FinishedEarly(0)) => return Ok(None),
        Err(e) => return Err(TransportError::from_read_exact(e)),
    }
    let len = u32::from_be_bytes(prefix) as usize;
    if len > max_frame {
        return Err(TransportError::FrameTooLarge {
            len,
            max: max_frame,
        });
    }
    // Grow with the data actually received rather than trusting the prefix up front.
    let mut body = Vec::with_capacity(len.min(64 * 1024));
    while body.len() < len {
        match recv.read_chunk(len - body.len(), true).await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk.bytes),
            Ok(None) => {
                return Err(TransportError::Closed(format!(
                    "stream ended in the middle of a frame ({} of {len} bytes)",
                    body.len()
                )))
            }
            Err(e) => return Err(TransportError::from_read(e)),
        }
    }
    FRAMES_RECEIVED.fetch_add(1, Ordering::Relaxed);
    Ok(Some(body))
}

#[cfg(test)]
mod tests;
