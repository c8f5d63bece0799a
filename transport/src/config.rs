//! Limits and timers shared by servers, clients and their connections.

use std::{sync::Arc, time::Duration};

use quinn::{IdleTimeout, VarInt};

use crate::{TransportError, DEFAULT_MAX_FRAME};

/// Limits and timers of an endpoint and of every connection it makes or accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportConfig {
    /// Largest frame body accepted or sent, in bytes (default 16 MiB).
    pub max_frame: usize,
    /// Interval of QUIC keep-alive pings (default 1 s); zero disables them.
    pub keep_alive: Duration,
    /// A connection that hears nothing for this long is dead (default 10 s).
    pub idle_timeout: Duration,
    /// Bound on a TLS handshake, on both sides (default 5 s).
    pub handshake_timeout: Duration,
    /// Bound on one request/response, on opening a push stream, on one push send, and on
    /// reading a stream header (default 10 s).
    pub request_timeout: Duration,
    /// Servers only: the key of QUIC stateless resets. Give a server restarted on the same
    /// address the same key and the clients of its previous run learn at their next packet that
    /// their connection is gone (and reconnect at once) instead of waiting out the idle
    /// timeout. `None`: a random key per run (quinn's default).
    pub stateless_reset_key: Option<ResetKey>,
}

/// A secret for QUIC stateless resets (kept out of `Debug` output).
#[derive(Clone, PartialEq, Eq)]
pub struct ResetKey(pub [u8; 32]);

impl std::fmt::Debug for ResetKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResetKey(..)")
    }
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            max_frame: DEFAULT_MAX_FRAME,
            keep_alive: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            stateless_reset_key: None,
        }
    }
}

impl TransportConfig {
    /// The quinn transport parameters for this configuration. Peers may open bidirectional
    /// streams only: this protocol has no use for unidirectional ones.
    pub(crate) fn quinn(&self) -> Result<Arc<quinn::TransportConfig>, TransportError> {
        let idle = IdleTimeout::try_from(self.idle_timeout).map_err(|_| {
            TransportError::Io(format!("idle timeout {:?} too large", self.idle_timeout))
        })?;
        let mut transport = quinn::TransportConfig::default();
        transport
            .max_idle_timeout(Some(idle))
            .keep_alive_interval((!self.keep_alive.is_zero()).then_some(self.keep_alive))
            .max_concurrent_uni_streams(VarInt::from_u32(0));
        Ok(Arc::new(transport))
    }
}
