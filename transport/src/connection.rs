//! One QUIC connection: typed requests, push streams, and the streams the peer opens.

use std::{net::SocketAddr, sync::Arc};

use quinn::VarInt;
use rustls::pki_types::CertificateDer;
use serde::{de::DeserializeOwned, Serialize};
use tracing::{debug, warn};

use crate::{
    frame::{decode_body, encode_frame_into, read_frame_bytes, write_bytes},
    stream::{
        self, encode_header, Header, IncomingStream, PushSender, ResponseStream, StreamKind,
        HEADER_MAX,
    },
    tls::common_name,
    TransportConfig, TransportError, PROTOCOL_VERSION,
};

/// Application close code: normal shutdown.
pub const CLOSE_NORMAL: u32 = 0;
/// Application close code: the peer broke the framing (a frame over the limit).
pub const CLOSE_PROTOCOL_VIOLATION: u32 = 1;

/// A QUIC connection to a peer. Cheap to clone; all clones are the same connection, which
/// closes (code 0) when the last clone is dropped, or earlier through [`Connection::close`].
#[derive(Clone)]
pub struct Connection {
    pub(crate) inner: quinn::Connection,
    pub(crate) settings: Arc<TransportConfig>,
    peer_cn: Option<Arc<str>>,
    pub(crate) version: u32,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("remote", &self.inner.remote_address())
            .field("peer_cn", &self.peer_cn)
            .finish_non_exhaustive()
    }
}

impl Connection {
    pub(crate) fn new(inner: quinn::Connection, settings: Arc<TransportConfig>) -> Connection {
        let peer_cn = inner
            .peer_identity()
            .and_then(|id| id.downcast::<Vec<CertificateDer<'static>>>().ok())
            .and_then(|chain| chain.first().and_then(|leaf| common_name(leaf)))
            .map(Arc::from);
        Connection {
            inner,
            settings,
            peer_cn,
            version: PROTOCOL_VERSION,
        }
    }

    /// Speak another protocol version on the streams this handle opens: a test hook.
    #[doc(hidden)]
    pub fn with_protocol_version(mut self, version: u32) -> Connection {
        self.version = version;
        self
    }

    /// The underlying quinn connection: a test hook.
    #[doc(hidden)]
    pub fn quinn(&self) -> &quinn::Connection {
        &self.inner
    }

    /// Common name of the peer's verified certificate: on a server, the client certificate's CN
    /// (the node name); `None` for unauthenticated (joining) clients.
    pub fn peer_common_name(&self) -> Option<String> {
        self.peer_cn.as_deref().map(str::to_owned)
    }

    /// The peer's address.
    pub fn remote_address(&self) -> SocketAddr {
        self.inner.remote_address()
    }

    /// Sends `req` on a fresh stream of `channel` and waits for one response. The whole call is
    /// bounded by the request timeout.
    pub async fn request<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        channel: u16,
        req: &Req,
    ) -> Result<Resp, TransportError> {
        let max = self.settings.max_frame;
        let mut buf = Vec::with_capacity(128);
        encode_header(self.version, channel, StreamKind::Request, &mut buf);
        encode_frame_into(req, max, &mut buf)?;
        let exchange = async {
            let (mut send, mut recv) = self
                .inner
                .open_bi()
                .await
                .map_err(TransportError::from_connection)?;
            write_bytes(&mut send, buf).await?;
            let _ = send.finish();
            stream::read_reply(self, &mut recv).await?;
            match self.guard(read_frame_bytes(&mut recv, max).await)? {
                Some(body) => decode_body(&body, max),
                None => Err(TransportError::Closed(format!(
                    "the peer ended the request on channel {channel} without answering"
                ))),
            }
        };
        let limit = self.settings.request_timeout;
        tokio::time::timeout(limit, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(TransportError::Timeout(format!(
                    "request on channel {channel} took over {limit:?}"
                )))
            })
    }

    /// Sends `req` on a fresh stream of `channel` and returns the stream of responses the peer
    /// sends (it answers with [`IncomingStream::into_responder`]). Returns once the peer has
    /// accepted the stream, i.e. once its first response frame (or the end of its answer) is
    /// on the way; that wait is bounded by the request timeout. Reading the responses then has
    /// no overall bound: the connection's idle timeout bounds a dead peer. Dropping the
    /// [`ResponseStream`] tells the peer to stop.
    pub async fn request_stream<Req: Serialize>(
        &self,
        channel: u16,
        req: &Req,
    ) -> Result<ResponseStream, TransportError> {
        let max = self.settings.max_frame;
        let mut buf = Vec::with_capacity(128);
        encode_header(self.version, channel, StreamKind::Request, &mut buf);
        encode_frame_into(req, max, &mut buf)?;
        let open = async {
            let (mut send, mut recv) = self
                .inner
                .open_bi()
                .await
                .map_err(TransportError::from_connection)?;
            write_bytes(&mut send, buf).await?;
            let _ = send.finish();
            // On an error or the timeout, dropping the unfinished `recv` stops the stream.
            stream::read_reply(self, &mut recv).await?;
            Ok(ResponseStream {
                channel,
                _send: send,
                recv,
                conn: self.clone(),
            })
        };
        let limit = self.settings.request_timeout;
        tokio::time::timeout(limit, open).await.unwrap_or_else(|_| {
            Err(TransportError::Timeout(format!(
                "streamed request on channel {channel}: no answer within {limit:?}"
            )))
        })
    }

    /// Opens a long-lived push stream on `channel`. Returns once the peer has accepted it (its
    /// version matches), bounded by the request timeout.
    pub async fn open_push(&self, channel: u16) -> Result<PushSender, TransportError> {
        let mut buf = Vec::with_capacity(11);
        encode_header(self.version, channel, StreamKind::Push, &mut buf);
        let open = async {
            let (mut send, mut recv) = self
                .inner
                .open_bi()
                .await
                .map_err(TransportError::from_connection)?;
            write_bytes(&mut send, buf).await?;
            stream::read_reply(self, &mut recv).await?;
            Ok(PushSender {
                channel,
                send,
                _recv: recv,
                conn: self.clone(),
                broken: false,
            })
        };
        let limit = self.settings.request_timeout;
        tokio::time::timeout(limit, open).await.unwrap_or_else(|_| {
            Err(TransportError::Timeout(format!(
                "opening a push stream on channel {channel} took over {limit:?}"
            )))
        })
    }

    /// The next stream the peer opened (request or push), header read and version checked.
    ///
    /// Streams that are not usable are answered, logged (`warn`) and skipped here, so an `Err`
    /// always means the connection is over: a stream with another protocol version (its opener
    /// gets [`TransportError::VersionMismatch`]), a malformed header, a header that does not
    /// arrive within the request timeout. Headers are read one stream at a time: a peer that
    /// dawdles only delays its own connection.
    pub async fn accept_stream(&self) -> Result<IncomingStream, TransportError> {
        loop {
            let (send, mut recv) = self
                .inner
                .accept_bi()
                .await
                .map_err(TransportError::from_connection)?;
            let limit = self.settings.request_timeout;
            let header = match tokio::time::timeout(limit, read_frame_bytes(&mut recv, HEADER_MAX))
                .await
            {
                Ok(Ok(Some(body))) => body,
                Ok(Ok(None)) => {
                    debug!(remote = %self.remote_address(), "stream ended before its header; skipped");
                    continue;
                }
                Ok(Err(e @ TransportError::FrameTooLarge { .. })) => return self.guard(Err(e)),
                Ok(Err(e)) => {
                    if let Some(reason) = self.inner.close_reason() {
                        return Err(TransportError::from_connection(reason));
                    }
                    warn!(remote = %self.remote_address(), error = %e, "bad stream header; stream skipped");
                    continue;
                }
                Err(_) => {
                    warn!(remote = %self.remote_address(), "stream header not received within {limit:?}; stream skipped");
                    continue;
                }
            };
            match stream::parse_header(&header, self.version) {
                Ok(Header::Ok { channel, kind }) => {
                    let mut incoming = IncomingStream {
                        channel,
                        kind,
                        send,
                        recv,
                        conn: self.clone(),
                        reply_pending: true,
                    };
                    if kind == StreamKind::Push {
                        if let Err(e) = incoming.accept_now().await {
                            if let Some(reason) = self.inner.close_reason() {
                                return Err(TransportError::from_connection(reason));
                            }
                            warn!(remote = %self.remote_address(), channel, error = %e, "cannot accept push stream; skipped");
                            continue;
                        }
                    }
                    return Ok(incoming);
                }
                Ok(Header::OtherVersion(theirs)) => {
                    let err = TransportError::VersionMismatch {
                        ours: self.version,
                        theirs,
                    };
                    warn!(remote = %self.remote_address(), error = %err, "stream refused");
                    stream::refuse_version(send, recv, self.version).await;
                }
                Err(e) => {
                    warn!(remote = %self.remote_address(), error = %e, "bad stream header; stream skipped");
                    let _ = recv.stop(stream::STREAM_REFUSED);
                }
            }
        }
    }

    /// Resolves when the connection ends, with the reason.
    pub async fn closed(&self) -> TransportError {
        TransportError::from_connection(self.inner.closed().await)
    }

    /// Why the connection ended, if it has.
    pub fn close_reason(&self) -> Option<TransportError> {
        self.inner
            .close_reason()
            .map(TransportError::from_connection)
    }

    /// Closes the connection at once with an application `code` and `reason`.
    pub fn close(&self, code: u32, reason: &str) {
        self.inner.close(VarInt::from_u32(code), reason.as_bytes());
    }

    /// Closes the connection when `res` says the peer broke the framing.
    pub(crate) fn guard<T>(&self, res: Result<T, TransportError>) -> Result<T, TransportError> {
        if let Err(e @ TransportError::FrameTooLarge { .. }) = &res {
            warn!(remote = %self.remote_address(), error = %e, "closing connection");
            self.close(CLOSE_PROTOCOL_VIOLATION, "frame too large");
        }
        res
    }
}
