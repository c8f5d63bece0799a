//! Server and client endpoints.
//!
//! Both must be created inside a tokio runtime that outlives them: an endpoint whose runtime
//! has stopped makes later calls hang. Every network wait here is bounded by a timeout.

use std::{
    net::{Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{Arc, Mutex, PoisonError},
};

use quinn::{
    crypto::rustls::{QuicClientConfig, QuicServerConfig},
    Endpoint, VarInt,
};
use tokio::{
    sync::{mpsc, Semaphore},
    task::JoinHandle,
};
use tracing::{debug, info_span, warn, Instrument};

use crate::{Connection, TransportConfig, TransportError};

/// Handshakes in flight beyond this are refused (the client retries later).
const MAX_PENDING_HANDSHAKES: usize = 256;
/// Established connections waiting for [`Server::accept`].
const ACCEPT_QUEUE: usize = 64;

/// The kernel buffers asked for on every endpoint's UDP socket (the kernel caps them at
/// `net.core.rmem_max` / `wmem_max`). The default (about 200 KiB) overflows as soon as the
/// endpoint's thread is busy for a few milliseconds while thousands of peers send heartbeats;
/// a dropped handshake packet then waits out QUIC's retransmission timer, and a node storm
/// becomes a handshake-timeout storm.
const SOCKET_BUFFER_BYTES: usize = 8 << 20;

/// Binds a UDP socket for an endpoint, with large kernel buffers.
fn bind_udp(addr: SocketAddr) -> Result<std::net::UdpSocket, TransportError> {
    let socket = std::net::UdpSocket::bind(addr)
        .map_err(|e| TransportError::Io(format!("binding {addr}: {e}")))?;
    let state = quinn::udp::UdpSocketState::new((&socket).into())
        .map_err(|e| TransportError::Io(format!("configuring the socket on {addr}: {e}")))?;
    // Best effort: a smaller buffer still works, it only drops sooner.
    for (what, result) in [
        (
            "receive",
            state.set_recv_buffer_size((&socket).into(), SOCKET_BUFFER_BYTES),
        ),
        (
            "send",
            state.set_send_buffer_size((&socket).into(), SOCKET_BUFFER_BYTES),
        ),
    ] {
        if let Err(e) = result {
            debug!(%addr, error = %e, "could not enlarge the UDP {what} buffer");
        }
    }
    debug!(
        %addr,
        recv = ?state.recv_buffer_size((&socket).into()).ok(),
        send = ?state.send_buffer_size((&socket).into()).ok(),
        "UDP socket buffers"
    );
    Ok(socket)
}

fn require_runtime(what: &str) -> Result<(), TransportError> {
    tokio::runtime::Handle::try_current()
        .map(|_| ())
        .map_err(|_| TransportError::Io(format!("{what} must be called inside a tokio runtime")))
}

/// A listening QUIC endpoint. Handshakes run concurrently in the background, each bounded by
/// the handshake timeout; [`accept`](Self::accept) hands out the finished ones.
///
/// Dropping the server stops accepting; connections already handed out keep working.
/// [`close`](Self::close) closes them too.
pub struct Server {
    endpoint: Endpoint,
    local_addr: SocketAddr,
    established: tokio::sync::Mutex<mpsc::Receiver<Connection>>,
    acceptor: JoinHandle<()>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port). Must be called inside a tokio runtime.
    pub fn bind(
        addr: SocketAddr,
        crypto: rustls::ServerConfig,
        cfg: TransportConfig,
    ) -> Result<Server, TransportError> {
        require_runtime("Server::bind")?;
        crate::tls::install_crypto_provider();
        let crypto = QuicServerConfig::try_from(crypto)
            .map_err(|e| TransportError::Tls(format!("server config unusable for QUIC: {e}")))?;
        let mut server_config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
        server_config.transport_config(cfg.quinn()?);
        let mut endpoint_config = quinn::EndpointConfig::default();
        if let Some(key) = &cfg.stateless_reset_key {
            // Both halves must survive a restart: the reset key (so the tokens match what the
            // previous run promised) and the connection-ID generator's key (so a packet for a
            // connection of the previous run is recognised as ours and answered with a reset).
            endpoint_config
                .reset_key(Arc::new(ring::hmac::Key::new(
                    ring::hmac::HMAC_SHA256,
                    &key.0,
                )))
                .min_reset_interval(std::time::Duration::from_millis(2));
            let mut cid_key = [0u8; 8];
            cid_key.copy_from_slice(&key.0[..8]);
            let cid_key = u64::from_le_bytes(cid_key);
            endpoint_config.cid_generator(move || {
                Box::new(quinn_proto::HashedConnectionIdGenerator::from_key(cid_key))
            });
        }
        // The endpoint and its connections run on the I/O thread (see `io_thread`).
        let runtime = crate::io_thread::io_runtime()?;
        let socket = bind_udp(addr)?;
        let endpoint = Endpoint::new(endpoint_config, Some(server_config), socket, runtime)
            .map_err(|e| TransportError::Io(format!("binding {addr}: {e}")))?;
        let local_addr = endpoint
            .local_addr()
            .map_err(|e| TransportError::Io(format!("local address: {e}")))?;
        let (tx, rx) = mpsc::channel(ACCEPT_QUEUE);
        let acceptor = tokio::spawn(
            accept_loop(endpoint.clone(), Arc::new(cfg), tx)
                .instrument(info_span!("quic_server", addr = %local_addr)),
        );
        Ok(Server {
            endpoint,
            local_addr,
            established: tokio::sync::Mutex::new(rx),
            acceptor,
        })
    }

    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Connections of this endpoint, including those still in their handshake or closing.
    pub fn open_connections(&self) -> usize {
        self.endpoint.open_connections()
    }

    /// The next established connection (handshake done). Failed or slow handshakes are logged
    /// and skipped. `None` once the server is closed.
    pub async fn accept(&self) -> Option<Connection> {
        self.established.lock().await.recv().await
    }

    /// Stops accepting and closes every connection of this endpoint.
    pub fn close(&self) {
        self.endpoint
            .close(VarInt::from_u32(crate::CLOSE_NORMAL), b"server closing");
        self.acceptor.abort();
    }

    /// Closes like [`close`](Self::close), then waits (at most `limit`) until peers have been
    /// told, so that the port can be bound again at once.
    pub async fn shutdown(self, limit: std::time::Duration) {
        self.close();
        let _ = tokio::time::timeout(limit, self.endpoint.wait_idle()).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.endpoint.set_server_config(None);
        self.acceptor.abort();
    }
}

async fn accept_loop(endpoint: Endpoint, cfg: Arc<TransportConfig>, tx: mpsc::Sender<Connection>) {
    let pending = Arc::new(Semaphore::new(MAX_PENDING_HANDSHAKES));
    while let Some(incoming) = endpoint.accept().await {
        let remote = incoming.remote_address();
        let Ok(permit) = pending.clone().try_acquire_owned() else {
            warn!(%remote, "too many handshakes in flight; connection refused");
            incoming.refuse();
            continue;
        };
        let (cfg, tx) = (cfg.clone(), tx.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let connecting = match incoming.accept() {
                Ok(connecting) => connecting,
                Err(e) => {
                    debug!(%remote, error = %e, "incoming connection dropped");
                    return;
                }
            };
            match tokio::time::timeout(cfg.handshake_timeout, connecting).await {
                Ok(Ok(conn)) => {
                    let conn = Connection::new(conn, cfg);
                    debug!(%remote, peer = ?conn.peer_common_name(), "connection established");
                    // The receiver is gone only when the server is; the connection then drops.
                    let _ = tx.send(conn).await;
                }
                Ok(Err(e)) => {
                    warn!(%remote, error = %TransportError::from_connection(e), "handshake failed")
                }
                Err(_) => {
                    warn!(%remote, "handshake not finished within {:?}", cfg.handshake_timeout)
                }
            }
        });
    }
}

/// A client endpoint. One client may hold many connections; it binds an unspecified local
/// address of the target's family on first use.
pub struct Client {
    config: quinn::ClientConfig,
    cfg: Arc<TransportConfig>,
    v4: Arc<Mutex<Option<Endpoint>>>,
    v6: Arc<Mutex<Option<Endpoint>>>,
    /// Whether the endpoints run on the process's QUIC I/O thread (see [`Client::on_io_thread`])
    /// rather than on the caller's runtime.
    io_thread: bool,
}

impl Client {
    /// A client using `crypto` (see [`crate::client_crypto`] and
    /// [`crate::pinned_client_crypto`]).
    pub fn new(
        crypto: rustls::ClientConfig,
        cfg: TransportConfig,
    ) -> Result<Client, TransportError> {
        crate::tls::install_crypto_provider();
        let crypto = QuicClientConfig::try_from(crypto)
            .map_err(|e| TransportError::Tls(format!("client config unusable for QUIC: {e}")))?;
        let mut config = quinn::ClientConfig::new(Arc::new(crypto));
        config.transport_config(cfg.quinn()?);
        Ok(Client {
            config,
            cfg: Arc::new(cfg),
            v4: Arc::new(Mutex::new(None)),
            v6: Arc::new(Mutex::new(None)),
            io_thread: false,
        })
    }

    /// This client with its endpoints' drivers (socket, packet crypto, ACKs) on the process's
    /// QUIC I/O thread, as a server's are: for a process that holds thousands of connections
    /// (a fleet of hollow nodes) whose own threads are busy, so that their heartbeats are read
    /// and sent on time. Takes effect for endpoints bound after the call.
    pub fn on_io_thread(mut self) -> Client {
        self.io_thread = true;
        self
    }

    /// A client with other credentials (`crypto`) on this client's endpoints: many identities
    /// (hollow nodes) share one UDP socket.
    pub fn with_crypto(&self, crypto: rustls::ClientConfig) -> Result<Client, TransportError> {
        let crypto = QuicClientConfig::try_from(crypto)
            .map_err(|e| TransportError::Tls(format!("client config unusable for QUIC: {e}")))?;
        let mut config = quinn::ClientConfig::new(Arc::new(crypto));
        config.transport_config(self.cfg.quinn()?);
        Ok(Client {
            config,
            cfg: self.cfg.clone(),
            v4: self.v4.clone(),
            v6: self.v6.clone(),
            io_thread: self.io_thread,
        })
    }

    fn endpoint_for(&self, addr: SocketAddr) -> Result<Endpoint, TransportError> {
        let (slot, local): (_, SocketAddr) = match addr {
            SocketAddr::V4(_) => (&self.v4, (Ipv4Addr::UNSPECIFIED, 0).into()),
            SocketAddr::V6(_) => (&self.v6, (Ipv6Addr::UNSPECIFIED, 0).into()),
        };
        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(endpoint) = slot.as_ref() {
            return Ok(endpoint.clone());
        }
        require_runtime("Client::connect")?;
        let runtime: Arc<dyn quinn::Runtime> = if self.io_thread {
            crate::io_thread::io_runtime()?
        } else {
            quinn::default_runtime().ok_or_else(|| {
                TransportError::Io("no async runtime for the QUIC endpoint".into())
            })?
        };
        let endpoint = Endpoint::new(
            quinn::EndpointConfig::default(),
            None,
            bind_udp(local)?,
            runtime,
        )
        .map_err(|e| TransportError::Io(format!("binding {local}: {e}")))?;
        *slot = Some(endpoint.clone());
        Ok(endpoint)
    }

    /// Connects to `addr`, checking its certificate against `server_name` (a DNS name or an IP
    /// address), bounded by the handshake timeout.
    ///
    /// With mutual TLS the client finishes its handshake before the server has checked the
    /// client certificate: a refused certificate shows on the first call on the connection (or
    /// [`Connection::closed`]) as [`TransportError::CertificateRejected`].
    pub async fn connect(
        &self,
        addr: SocketAddr,
        server_name: &str,
    ) -> Result<Connection, TransportError> {
        let endpoint = self.endpoint_for(addr)?;
        let connecting = endpoint
            .connect_with(self.config.clone(), addr, server_name)
            .map_err(|e| match e {
                quinn::ConnectError::InvalidServerName(name) => {
                    TransportError::Tls(format!("invalid server name {name:?}"))
                }
                other => TransportError::Io(format!("connecting to {addr}: {other}")),
            })?;
        let limit = self.cfg.handshake_timeout;
        match tokio::time::timeout(limit, connecting).await {
            Ok(Ok(conn)) => Ok(Connection::new(conn, self.cfg.clone())),
            Ok(Err(e)) => Err(TransportError::from_connection(e)),
            Err(_) => Err(TransportError::Timeout(format!(
                "handshake with {addr} took over {limit:?}"
            ))),
        }
    }

    /// Closes every connection of this client.
    pub fn close(&self) {
        for slot in [&self.v4, &self.v6] {
            if let Some(endpoint) = slot.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
                endpoint.close(VarInt::from_u32(crate::CLOSE_NORMAL), b"client closing");
            }
        }
    }
}
