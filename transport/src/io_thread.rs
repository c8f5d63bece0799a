//! The QUIC I/O thread: a tokio runtime of its own on which a server endpoint's driver
//! (reading and writing the UDP socket) and every connection's driver (packet crypto, ACKs,
//! TLS handshakes, loss recovery) run — and those of [`crate::Client::on_io_thread`] clients —
//! so that the work of the callers' tasks (a master's node sessions, a fleet's hollow nodes)
//! cannot starve the socket. On one busy event loop the socket's receive
//! buffer overflows, handshake packets are dropped, and each drop waits out QUIC's
//! retransmission timer.
//!
//! Callers keep using the connections from their own runtimes; quinn wakes them across
//! threads.

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::{Arc, Mutex, OnceLock, PoisonError},
    time::Instant,
};

use quinn::{AsyncTimer, AsyncUdpSocket, Runtime, TokioRuntime};
use tokio::runtime::Handle;

/// A quinn runtime that puts timers, tasks and sockets on one tokio runtime, whichever thread
/// asks.
#[derive(Debug)]
pub(crate) struct OnHandle(Handle);

impl Runtime for OnHandle {
    fn new_timer(&self, i: Instant) -> Pin<Box<dyn AsyncTimer>> {
        let _in = self.0.enter();
        TokioRuntime.new_timer(i)
    }

    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        self.0.spawn(future);
    }

    fn wrap_udp_socket(&self, t: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        let _in = self.0.enter();
        TokioRuntime.wrap_udp_socket(t)
    }

    fn now(&self) -> Instant {
        TokioRuntime.now()
    }
}

/// Called first on the I/O thread when it starts, if set (e.g. to raise its priority).
static ON_START: OnceLock<fn()> = OnceLock::new();

/// Sets what the QUIC I/O thread runs first when it starts (once per process; later calls are
/// ignored). Call it before the first [`crate::Server::bind`] or connect of a
/// [`crate::Client::on_io_thread`] client.
pub fn on_io_thread_start(hook: fn()) {
    let _ = ON_START.set(hook);
}

/// The process's QUIC I/O runtime (started on first use; it lives as long as the process).
pub(crate) fn io_runtime() -> Result<Arc<OnHandle>, crate::TransportError> {
    start_io_runtime()
        .map_err(|e| crate::TransportError::Io(format!("starting the QUIC I/O thread: {e}")))
}

fn start_io_runtime() -> io::Result<Arc<OnHandle>> {
    static HANDLE: Mutex<Option<Handle>> = Mutex::new(None);
    let mut slot = HANDLE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(h) = slot.as_ref() {
        return Ok(Arc::new(OnHandle(h.clone())));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let handle = rt.handle().clone();
    std::thread::Builder::new()
        .name("quic-io".into())
        .spawn(move || {
            if let Some(hook) = ON_START.get() {
                hook();
            }
            rt.block_on(std::future::pending::<()>())
        })?;
    *slot = Some(handle.clone());
    Ok(Arc::new(OnHandle(handle)))
}
