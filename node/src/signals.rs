//! SIGTERM/SIGINT for the long-running processes. Handlers are installed when
//! [`Shutdown::install`] returns, so a signal that arrives right after a process says it is ready
//! is never lost to the default action.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Installed SIGTERM and SIGINT handlers.
pub struct Shutdown {
    term: Signal,
    int: Signal,
}

impl Shutdown {
    /// Installs the handlers now (inside a tokio runtime).
    pub fn install() -> std::io::Result<Shutdown> {
        Ok(Shutdown {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Resolves at the next SIGTERM or SIGINT.
    pub async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
