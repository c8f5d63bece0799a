//! Streams: the header that opens each one, push senders, and streams accepted from the peer.
//!
//! Wire format of a stream (every item is a frame, see [`crate::frame`]):
//! - opener → accepter: header `[version u32 BE][channel u16 BE][kind u8]`, then message frames
//!   (one for a request, any number for a push stream), then the end of the stream;
//! - accepter → opener: reply `[version u32 BE][status u8]` (0 accepted, 1 version mismatch),
//!   then, for a request, one response frame, or any number of them for a streamed response
//!   ([`Connection::request_stream`], [`IncomingStream::into_responder`]), then the end of the
//!   stream.
//!
//! Header and reply start with the version in a fixed layout so that any future version can
//! still read it; trailing bytes after the known fields are ignored.

use quinn::{RecvStream, SendStream, VarInt};
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    frame::{encode_frame, encode_frame_into, read_frame_bytes, write_bytes},
    Connection, TransportError,
};

/// Largest header or reply frame accepted.
pub(crate) const HEADER_MAX: usize = 64;

/// Application error code on a stream we refuse (version mismatch, bad header).
pub(crate) const STREAM_REFUSED: VarInt = VarInt::from_u32(1);

/// Application error code on a streamed response the opener no longer wants.
pub(crate) const STREAM_CANCELLED: VarInt = VarInt::from_u32(2);

/// What the opener of a stream means to do with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamKind {
    /// One request frame, one response frame.
    Request,
    /// Any number of frames from the opener; no response.
    Push,
}

const ACCEPTED: u8 = 0;
const VERSION_MISMATCH: u8 = 1;

/// Appends the opening header frame of a stream to `buf`.
#[doc(hidden)]
pub fn encode_header(version: u32, channel: u16, kind: StreamKind, buf: &mut Vec<u8>) {
    buf.extend_from_slice(&7u32.to_be_bytes());
    buf.extend_from_slice(&version.to_be_bytes());
    buf.extend_from_slice(&channel.to_be_bytes());
    buf.push(match kind {
        StreamKind::Request => 0,
        StreamKind::Push => 1,
    });
}

pub(crate) enum Header {
    Ok { channel: u16, kind: StreamKind },
    OtherVersion(u32),
}

pub(crate) fn parse_header(body: &[u8], ours: u32) -> Result<Header, TransportError> {
    let version = body
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| TransportError::Decode(format!("stream header of {} bytes", body.len())))?;
    if version != ours {
        return Ok(Header::OtherVersion(version));
    }
    match body.get(4..7) {
        Some(&[c0, c1, 0]) => Ok(Header::Ok {
            channel: u16::from_be_bytes([c0, c1]),
            kind: StreamKind::Request,
        }),
        Some(&[c0, c1, 1]) => Ok(Header::Ok {
            channel: u16::from_be_bytes([c0, c1]),
            kind: StreamKind::Push,
        }),
        Some(&[_, _, kind]) => Err(TransportError::Decode(format!(
            "unknown stream kind {kind}"
        ))),
        _ => Err(TransportError::Decode(format!(
            "stream header of {} bytes",
            body.len()
        ))),
    }
}

fn encode_reply(version: u32, status: u8, buf: &mut Vec<u8>) {
    buf.extend_from_slice(&5u32.to_be_bytes());
    buf.extend_from_slice(&version.to_be_bytes());
    buf.push(status);
}

/// Reads the accepter's reply; an error unless it accepted the stream with our version.
pub(crate) async fn read_reply(
    conn: &Connection,
    recv: &mut RecvStream,
) -> Result<(), TransportError> {
    let body = conn
        .guard(read_frame_bytes(recv, HEADER_MAX).await)?
        .ok_or_else(|| {
            TransportError::Closed("the peer ended the stream without answering".into())
        })?;
    let theirs = body
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| TransportError::Decode(format!("stream reply of {} bytes", body.len())))?;
    let ours = conn.version;
    match body.get(4) {
        _ if theirs != ours => Err(TransportError::VersionMismatch { ours, theirs }),
        Some(&ACCEPTED) => Ok(()),
        Some(&VERSION_MISMATCH) => Err(TransportError::VersionMismatch { ours, theirs }),
        Some(status) => Err(TransportError::Decode(format!(
            "unknown stream reply status {status}"
        ))),
        None => Err(TransportError::Decode("stream reply without status".into())),
    }
}

/// Refuses a stream whose header carried another version: tells the opener our version, then
/// drops the stream.
pub(crate) async fn refuse_version(mut send: SendStream, mut recv: RecvStream, ours: u32) {
    let _ = recv.stop(STREAM_REFUSED);
    let mut buf = Vec::with_capacity(9);
    encode_reply(ours, VERSION_MISMATCH, &mut buf);
    let _ = write_bytes(&mut send, buf).await;
    let _ = send.finish();
}

/// Sending half of a long-lived push stream opened with [`Connection::open_push`].
///
/// Each [`send`](Self::send) is bounded by the request timeout (a peer that stops reading makes
/// it fail with [`TransportError::Timeout`]); after any error the stream is reset and every later
/// send fails.
pub struct PushSender {
    pub(crate) channel: u16,
    pub(crate) send: SendStream,
    // Held so that the peer's side of the reply direction stays open.
    pub(crate) _recv: RecvStream,
    pub(crate) conn: Connection,
    pub(crate) broken: bool,
}

impl PushSender {
    /// The channel this stream was opened on.
    pub fn channel(&self) -> u16 {
        self.channel
    }

    /// Sends one message as one frame (a `Vec` of messages batches them).
    pub async fn send<T: Serialize>(&mut self, msg: &T) -> Result<(), TransportError> {
        let buf = encode_frame(msg, self.conn.settings.max_frame)?;
        self.send_encoded(buf).await
    }

    /// Writes raw bytes on the stream: a test hook for malformed frames.
    #[doc(hidden)]
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        self.send_encoded(bytes.to_vec()).await
    }

    async fn send_encoded(&mut self, buf: Vec<u8>) -> Result<(), TransportError> {
        if self.broken {
            return Err(TransportError::Closed(format!(
                "push stream on channel {} failed earlier",
                self.channel
            )));
        }
        let limit = self.conn.settings.request_timeout;
        let res = match tokio::time::timeout(limit, write_bytes(&mut self.send, buf)).await {
            Ok(res) => res,
            Err(_) => Err(TransportError::Timeout(format!(
                "push on channel {}: the peer did not take the frame within {limit:?}",
                self.channel
            ))),
        };
        if res.is_err() {
            // A write cut off half-way leaves the stream unframed: never write it again.
            self.broken = true;
            let _ = self.send.reset(STREAM_REFUSED);
        }
        res
    }

    /// Ends the stream and waits (bounded by the request timeout) until the peer has received
    /// everything.
    pub async fn finish(mut self) -> Result<(), TransportError> {
        if self.broken {
            return Err(TransportError::Closed("push stream failed earlier".into()));
        }
        self.send
            .finish()
            .map_err(|e| TransportError::Closed(e.to_string()))?;
        let limit = self.conn.settings.request_timeout;
        match tokio::time::timeout(limit, self.send.stopped()).await {
            Ok(Ok(None)) => Ok(()),
            Ok(Ok(Some(code))) => Err(TransportError::Closed(format!(
                "peer stopped reading the push stream (code {code})"
            ))),
            Ok(Err(quinn::StoppedError::ConnectionLost(e))) => {
                Err(TransportError::from_connection(e))
            }
            Ok(Err(e)) => Err(TransportError::Closed(e.to_string())),
            Err(_) => Err(TransportError::Timeout(format!(
                "push on channel {}: end of stream not acknowledged within {limit:?}",
                self.channel
            ))),
        }
    }
}

/// A stream the peer opened, header read and version checked.
pub struct IncomingStream {
    /// The channel the opener named.
    pub channel: u16,
    pub(crate) kind: StreamKind,
    pub(crate) send: SendStream,
    pub(crate) recv: RecvStream,
    pub(crate) conn: Connection,
    /// Whether the "accepted" reply still has to be written (requests send it with the
    /// response, to save a packet).
    pub(crate) reply_pending: bool,
}

impl IncomingStream {
    /// Whether the opener made a request (and waits for [`respond`](Self::respond), or for the
    /// frames of [`into_responder`](Self::into_responder) if it asked for a streamed response)
    /// or a push stream.
    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// The connection this stream belongs to.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The next frame, `None` at the end of the stream. Waits as long as the peer keeps the
    /// stream open (push streams are long-lived); the connection's idle timeout bounds a dead
    /// peer. A frame over the limit closes the connection.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Result<Option<T>, TransportError> {
        let max = self.conn.settings.max_frame;
        match self
            .conn
            .guard(read_frame_bytes(&mut self.recv, max).await)?
        {
            Some(body) => crate::frame::decode_body(&body, max).map(Some),
            None => Ok(None),
        }
    }

    /// Writes one response frame and ends the stream (for requests; on a push stream the frame
    /// is sent to the pusher, which ignores it). Returns once the response is queued: keep a
    /// handle of the connection alive until it is delivered (dropping the last one closes the
    /// connection at once).
    pub async fn respond<T: Serialize>(mut self, msg: &T) -> Result<(), TransportError> {
        let mut buf = Vec::with_capacity(128);
        if self.reply_pending {
            encode_reply(self.conn.version, ACCEPTED, &mut buf);
        }
        encode_frame_into(msg, self.conn.settings.max_frame, &mut buf)?;
        let limit = self.conn.settings.request_timeout;
        match tokio::time::timeout(limit, write_bytes(&mut self.send, buf)).await {
            Ok(res) => res?,
            Err(_) => {
                let _ = self.send.reset(STREAM_REFUSED);
                return Err(TransportError::Timeout(format!(
                    "response on channel {}: the peer did not take it within {limit:?}",
                    self.channel
                )));
            }
        }
        self.send
            .finish()
            .map_err(|e| TransportError::Closed(e.to_string()))
    }

    /// Turns a request into a streamed response: the opener (which called
    /// [`Connection::request_stream`]) receives every frame sent with [`Responder::send`], then
    /// the end of the stream at [`Responder::finish`]. The "accepted" reply goes out with the
    /// first frame.
    pub fn into_responder(self) -> Responder {
        Responder {
            channel: self.channel,
            send: self.send,
            _recv: self.recv,
            conn: self.conn,
            reply_pending: self.reply_pending,
            broken: false,
        }
    }

    /// Writes the "accepted" reply now (push streams get it before the opener may send).
    pub(crate) async fn accept_now(&mut self) -> Result<(), TransportError> {
        let mut buf = Vec::with_capacity(9);
        encode_reply(self.conn.version, ACCEPTED, &mut buf);
        let limit = self.conn.settings.request_timeout;
        tokio::time::timeout(limit, write_bytes(&mut self.send, buf))
            .await
            .map_err(|_| TransportError::Timeout("writing a stream reply".into()))??;
        self.reply_pending = false;
        Ok(())
    }
}

/// The opener's side of a streamed response ([`Connection::request_stream`]): the frames the
/// peer sends, in order. Dropping it stops the stream: the peer's next send fails.
pub struct ResponseStream {
    pub(crate) channel: u16,
    // Finished already; held so that nothing about the request direction changes early.
    pub(crate) _send: SendStream,
    pub(crate) recv: RecvStream,
    pub(crate) conn: Connection,
}

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseStream")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl ResponseStream {
    /// The channel the request was sent on.
    pub fn channel(&self) -> u16 {
        self.channel
    }

    /// The next response, `None` once the peer has finished its answer. Waits as long as the
    /// peer keeps the stream open (no overall timeout); the connection's idle timeout bounds a
    /// dead peer. A peer that resets the stream gives [`TransportError::Closed`]; a frame over
    /// the limit closes the connection.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Result<Option<T>, TransportError> {
        let max = self.conn.settings.max_frame;
        match self
            .conn
            .guard(read_frame_bytes(&mut self.recv, max).await)?
        {
            Some(body) => crate::frame::decode_body(&body, max).map(Some),
            None => Ok(None),
        }
    }
}

impl Drop for ResponseStream {
    fn drop(&mut self) {
        // Fails harmlessly when the answer was read to its end.
        let _ = self.recv.stop(STREAM_CANCELLED);
    }
}

/// The accepter's side of a streamed response ([`IncomingStream::into_responder`]).
///
/// Each [`send`](Self::send) is bounded by the request timeout (a peer that stops reading makes
/// it fail with [`TransportError::Timeout`]); an opener that dropped its [`ResponseStream`]
/// makes it fail with [`TransportError::Closed`]. After any error the stream is reset and every
/// later send fails. Dropping a responder without [`finish`](Self::finish) ends the stream as
/// well.
pub struct Responder {
    channel: u16,
    send: SendStream,
    // Held so that the opener's request direction is not stopped under it.
    _recv: RecvStream,
    conn: Connection,
    reply_pending: bool,
    broken: bool,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("channel", &self.channel)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl Responder {
    /// The channel the request came on.
    pub fn channel(&self) -> u16 {
        self.channel
    }

    /// The connection this stream belongs to.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Sends one response frame (the first one carries the "accepted" reply too).
    pub async fn send<T: Serialize>(&mut self, msg: &T) -> Result<(), TransportError> {
        if self.broken {
            return Err(TransportError::Closed(format!(
                "streamed response on channel {} failed earlier",
                self.channel
            )));
        }
        let mut buf = Vec::with_capacity(128);
        if self.reply_pending {
            encode_reply(self.conn.version, ACCEPTED, &mut buf);
        }
        encode_frame_into(msg, self.conn.settings.max_frame, &mut buf)?;
        let limit = self.conn.settings.request_timeout;
        let res = match tokio::time::timeout(limit, write_bytes(&mut self.send, buf)).await {
            Ok(res) => res,
            Err(_) => Err(TransportError::Timeout(format!(
                "streamed response on channel {}: the peer did not take the frame within {limit:?}",
                self.channel
            ))),
        };
        match res {
            Ok(()) => {
                self.reply_pending = false;
                Ok(())
            }
            Err(e) => {
                // A write cut off half-way leaves the stream unframed: never write it again.
                self.broken = true;
                let _ = self.send.reset(STREAM_REFUSED);
                Err(e)
            }
        }
    }

    /// Resolves when the opener no longer reads the stream: it dropped its [`ResponseStream`]
    /// (or the connection is lost). Lets an idle responder notice without sending. Does not
    /// borrow the responder.
    pub fn stopped(&self) -> impl std::future::Future<Output = TransportError> + Send + 'static {
        let stopped = self.send.stopped();
        let channel = self.channel;
        async move {
            match stopped.await {
                Ok(Some(code)) => TransportError::Closed(format!(
                    "the peer stopped reading the streamed response on channel {channel} (code {code})"
                )),
                Ok(None) => TransportError::Closed(format!(
                    "streamed response on channel {channel} is complete"
                )),
                Err(quinn::StoppedError::ConnectionLost(e)) => TransportError::from_connection(e),
                Err(e) => TransportError::Closed(e.to_string()),
            }
        }
    }

    /// Ends the answer: the opener's [`ResponseStream::recv`] gives `None` after the frames
    /// sent. Returns once the end is queued (keep a handle of the connection alive until it is
    /// delivered, as with [`IncomingStream::respond`]).
    pub async fn finish(mut self) -> Result<(), TransportError> {
        if self.broken {
            return Err(TransportError::Closed(format!(
                "streamed response on channel {} failed earlier",
                self.channel
            )));
        }
        if self.reply_pending {
            let mut buf = Vec::with_capacity(9);
            encode_reply(self.conn.version, ACCEPTED, &mut buf);
            let limit = self.conn.settings.request_timeout;
            match tokio::time::timeout(limit, write_bytes(&mut self.send, buf)).await {
                Ok(res) => res?,
                Err(_) => {
                    let _ = self.send.reset(STREAM_REFUSED);
                    return Err(TransportError::Timeout(format!(
                        "streamed response on channel {}: the peer did not take the reply within {limit:?}",
                        self.channel
                    )));
                }
            }
        }
        self.send
            .finish()
            .map_err(|e| TransportError::Closed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        for kind in [StreamKind::Request, StreamKind::Push] {
            let mut buf = Vec::new();
            encode_header(1, 513, kind, &mut buf);
            assert_eq!(&buf[..4], &7u32.to_be_bytes(), "length prefix");
            match parse_header(&buf[4..], 1).expect("parse") {
                Header::Ok { channel, kind: k } => {
                    assert_eq!((channel, k), (513, kind));
                }
                Header::OtherVersion(v) => panic!("version {v} reported as other"),
            }
        }
    }

    #[test]
    fn other_versions_are_read_even_with_another_layout() {
        let body = [0, 0, 3, 231, 0xff];
        assert!(matches!(
            parse_header(&body, 1),
            Ok(Header::OtherVersion(999))
        ));
    }

    #[test]
    fn malformed_headers_are_decode_errors() {
        for body in [
            &[][..],
            &[0, 0, 0],
            &[0, 0, 0, 1, 0, 1],
            &[0, 0, 0, 1, 0, 1, 9],
        ] {
            assert!(
                matches!(parse_header(body, 1), Err(TransportError::Decode(_))),
                "{body:?} must be refused"
            );
        }
    }
}
