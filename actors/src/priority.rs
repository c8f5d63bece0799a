//! Thread priorities: the threads that carry node liveness (the QUIC I/O thread and the
//! liveness thread) run ahead of bulk work when the CPU is short, as Kubernetes' API priority
//! and fairness serves node heartbeats (leases) at a level of their own. A heartbeat that waits
//! behind pod traffic makes a live node look dead and gets its pods evicted; pod traffic that
//! waits behind heartbeats is only slower.

/// The nice value asked for on liveness threads (0 is the default; lower runs first).
pub const LIVENESS_NICE: i32 = -10;

/// Gives the calling thread [`LIVENESS_NICE`]. Raising a priority needs `CAP_SYS_NICE` (or
/// root); without it the thread keeps its priority and this says so at debug level. Elsewhere
/// than Linux this does nothing.
pub fn raise_current_thread() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority only reads its integer arguments; `who` = 0 is the calling
        // thread on Linux (threads are tasks with their own nice value).
        #[allow(unsafe_code)]
        let rc = unsafe { nix::libc::setpriority(nix::libc::PRIO_PROCESS, 0, LIVENESS_NICE) };
        if rc != 0 {
            tracing::debug!(
                error = %std::io::Error::last_os_error(),
                "could not raise a liveness thread's priority; it keeps the default"
            );
        }
    }
}
