//! capstan-transport: the master ↔ worker wire. Its one job is to carry typed messages between
//! two authenticated processes over QUIC: endpoints with mutual TLS (and CA pinning for first
//! contact), length-prefixed bincode 2 frames with a hard size limit, streams that open with a
//! protocol version and a channel number, request/response and push streams, and reconnecting
//! with backoff.
//!
//! It does **not** know what a pod, a node or a join token is: messages are any
//! `Serialize + DeserializeOwned` type and channels are plain `u16`s that callers assign. It does
//! not issue certificates (callers hand it DER certificates and keys), does not decide what an
//! unauthenticated peer may do (it only reports [`Connection::peer_common_name`]), and does not
//! retry requests on its own.
//!
//! Layout: [`frame`] (framing and codec), [`tls`] (rustls configurations), `endpoint`
//! ([`Server`], [`Client`]), `io_thread` (the server endpoints' own I/O thread,
//! [`on_io_thread_start`]), `connection` ([`Connection`]), `stream` (stream headers,
//! [`PushSender`], [`IncomingStream`], streamed responses with [`ResponseStream`] and
//! [`Responder`]), `backoff` ([`Backoff`], [`connect_with_backoff`]) and `error`
//! ([`TransportError`]). Peer input never panics a task: every malformed frame, header
//! or certificate becomes a [`TransportError`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backoff;
mod config;
mod connection;
mod endpoint;
mod error;
pub mod frame;
mod io_thread;
mod stream;
pub mod tls;

pub use backoff::{connect_with_backoff, Backoff};
pub use config::{ResetKey, TransportConfig};
pub use connection::{Connection, CLOSE_NORMAL, CLOSE_PROTOCOL_VIOLATION};
pub use endpoint::{Client, Server};
pub use error::TransportError;
pub use frame::{decode_body, encode_frame, frame_counts, read_frame, write_frame, FrameCounts};
pub use io_thread::on_io_thread_start;
#[doc(hidden)]
pub use stream::encode_header;
pub use stream::{IncomingStream, PushSender, Responder, ResponseStream, StreamKind};
pub use tls::{
    client_crypto, pinned_client_crypto, server_crypto, sha256_hex, Identity, PinnedCa, ALPN,
};

/// Version of the stream protocol, sent at the start of every stream.
pub const PROTOCOL_VERSION: u32 = 1;

/// Default largest frame body, in bytes.
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;
