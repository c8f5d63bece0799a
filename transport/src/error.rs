//! The one error type of this crate, and how quinn's errors map onto it.
//!
//! Retryable errors ([`TransportError::is_retryable`]) are those a later attempt may not meet
//! (timeouts, a lost connection, a socket error); the others need a different input, a
//! different configuration or a new certificate.

use quinn::{ConnectionError, ReadError, ReadExactError, WriteError};

/// Everything that can go wrong in the transport.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// TLS configuration or a handshake failure that is not about certificates (no common
    /// protocol, bad key, bad ALPN...).
    #[error("TLS error: {0}")]
    Tls(String),
    /// The peer refused the certificate we presented (unknown CA, bad, expired or missing
    /// certificate). For a worker: its node certificate is not from this cluster's CA; it must
    /// join again. Not retryable.
    #[error("the peer rejected our certificate: {0}")]
    CertificateRejected(String),
    /// We did not trust the peer's certificate: not signed by the CA we trust, or (first
    /// contact) no certificate in its chain matches the CA pin of the join token. Seen by
    /// clients about servers (hence the name) and by servers about client certificates.
    #[error("the peer's certificate is not trusted: {0}")]
    ServerUntrusted(String),
    /// An operation did not finish in time; the text says which.
    #[error("timed out: {0}")]
    Timeout(String),
    /// A frame is longer than the configured maximum (on write, or as announced by a peer's
    /// length prefix; the connection is then closed).
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// Length of the refused frame body.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// The peer speaks another protocol version on a stream.
    #[error("protocol version mismatch: ours is {ours}, the peer's is {theirs}")]
    VersionMismatch {
        /// Our protocol version.
        ours: u32,
        /// The peer's protocol version.
        theirs: u32,
    },
    /// A frame body or header could not be decoded into the expected type.
    #[error("cannot decode frame: {0}")]
    Decode(String),
    /// A message could not be encoded (a serde type bincode cannot represent).
    #[error("cannot encode message: {0}")]
    Encode(String),
    /// The connection or stream is closed (by us, by the peer, reset, or finished early).
    #[error("closed: {0}")]
    Closed(String),
    /// A socket error (bind, send, receive).
    #[error("I/O error: {0}")]
    Io(String),
}

impl TransportError {
    /// Whether trying again later (reconnecting, re-sending) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::Closed(_) | Self::Io(_))
    }

    /// Whether this is a certificate problem on either side
    /// ([`Self::CertificateRejected`] or [`Self::ServerUntrusted`]).
    pub fn is_certificate_error(&self) -> bool {
        matches!(
            self,
            Self::CertificateRejected(_) | Self::ServerUntrusted(_)
        )
    }

    /// Maps a connection-level error, telling "our certificate was refused" from "we refused
    /// theirs" by whether the TLS alert came from the peer (`ConnectionClosed`) or from our own
    /// stack (`TransportError`).
    pub(crate) fn from_connection(err: ConnectionError) -> Self {
        match err {
            ConnectionError::TransportError(te) => {
                let code = u64::from(te.code);
                match tls_alert(code) {
                    Some(alert) if is_certificate_alert(alert) => {
                        Self::ServerUntrusted(te.reason.clone())
                    }
                    Some(alert) => Self::Tls(format!("{} (TLS alert {alert})", te.reason)),
                    None => Self::Closed(format!("protocol error: {te}")),
                }
            }
            ConnectionError::ConnectionClosed(close) => {
                let code = u64::from(close.error_code);
                let reason = String::from_utf8_lossy(&close.reason).into_owned();
                match tls_alert(code) {
                    Some(alert) if is_certificate_alert(alert) => {
                        Self::CertificateRejected(format!(
                            "peer sent TLS alert {} ({alert:#x}){}",
                            alert_name(alert),
                            if reason.is_empty() {
                                String::new()
                            } else {
                                format!(": {reason}")
                            }
                        ))
                    }
                    Some(alert) => Self::Tls(format!(
                        "peer sent TLS alert {} ({alert:#x}) {reason}",
                        alert_name(alert)
                    )),
                    None => Self::Closed(format!("aborted by peer: {close}")),
                }
            }
            ConnectionError::ApplicationClosed(close) => Self::Closed(format!(
                "closed by peer (code {}): {}",
                close.error_code,
                String::from_utf8_lossy(&close.reason)
            )),
            ConnectionError::VersionMismatch => {
                Self::Closed("peer supports no common QUIC version".into())
            }
            ConnectionError::Reset => Self::Closed("connection reset by peer".into()),
            ConnectionError::TimedOut => Self::Timeout("connection idle timeout".into()),
            ConnectionError::LocallyClosed => Self::Closed("connection closed locally".into()),
            ConnectionError::CidsExhausted => Self::Closed("connection IDs exhausted".into()),
        }
    }

    pub(crate) fn from_write(err: WriteError) -> Self {
        match err {
            WriteError::ConnectionLost(e) => Self::from_connection(e),
            WriteError::Stopped(code) => {
                Self::Closed(format!("peer stopped reading the stream (code {code})"))
            }
            other => Self::Closed(other.to_string()),
        }
    }

    pub(crate) fn from_read(err: ReadError) -> Self {
        match err {
            ReadError::ConnectionLost(e) => Self::from_connection(e),
            ReadError::Reset(code) => Self::Closed(format!("peer reset the stream (code {code})")),
            other => Self::Closed(other.to_string()),
        }
    }

    pub(crate) fn from_read_exact(err: ReadExactError) -> Self {
        match err {
            ReadExactError::FinishedEarly(n) => {
                Self::Closed(format!("stream ended in the middle of a frame ({n} bytes)"))
            }
            ReadExactError::ReadError(e) => Self::from_read(e),
        }
    }
}

/// The TLS alert carried by a QUIC CRYPTO_ERROR code (0x100..=0x1ff), if it is one.
fn tls_alert(code: u64) -> Option<u8> {
    (0x100..=0x1ff)
        .contains(&code)
        .then_some((code & 0xff) as u8)
}

/// Alerts that mean "this certificate is not acceptable". `decrypt_error` (0x33) is what
/// rustls sends when a certificate's signature does not verify (a same-named CA with another key).
fn is_certificate_alert(alert: u8) -> bool {
    matches!(alert, 0x2a..=0x2e | 0x30 | 0x31 | 0x33 | 0x74)
}

fn alert_name(alert: u8) -> &'static str {
    match alert {
        0x28 => "handshake_failure",
        0x2a => "bad_certificate",
        0x2b => "unsupported_certificate",
        0x2c => "certificate_revoked",
        0x2d => "certificate_expired",
        0x2e => "certificate_unknown",
        0x2f => "illegal_parameter",
        0x30 => "unknown_ca",
        0x31 => "access_denied",
        0x32 => "decode_error",
        0x33 => "decrypt_error",
        0x46 => "protocol_version",
        0x50 => "internal_error",
        0x6d => "missing_extension",
        0x74 => "certificate_required",
        0x78 => "no_application_protocol",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quinn::{ConnectionClose, TransportErrorCode};

    fn closed_by_peer(alert: u8) -> ConnectionError {
        ConnectionError::ConnectionClosed(ConnectionClose {
            error_code: TransportErrorCode::crypto(alert),
            frame_type: None,
            reason: bytes::Bytes::new(),
        })
    }

    #[test]
    fn peer_certificate_alerts_mean_our_certificate_was_rejected() {
        for alert in [0x2a, 0x30, 0x74] {
            let err = TransportError::from_connection(closed_by_peer(alert));
            assert!(
                matches!(err, TransportError::CertificateRejected(_)),
                "alert {alert:#x} gave {err:?}"
            );
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn other_peer_alerts_are_tls_errors() {
        let err = TransportError::from_connection(closed_by_peer(0x78));
        assert!(
            matches!(err, TransportError::Tls(ref s) if s.contains("no_application_protocol")),
            "{err:?}"
        );
    }

    #[test]
    fn idle_timeout_is_retryable() {
        let err = TransportError::from_connection(ConnectionError::TimedOut);
        assert!(err.is_retryable(), "{err:?}");
    }
}
