//! The container runtime: how a worker starts, signals, measures and reads the logs of a
//! pod's containers.
//!
//! [`Runtime`] is the seam the pod actors code against; [`ProcessRuntime`] is its first backend
//! and runs each container as a plain process on this host under a shim process ([`shim`]),
//! in its own process group and, when the worker runs as root with a writable cgroup
//! hierarchy, its own cgroup with the container's memory, CPU and pids limits ([`cgroups`]).
//! Output is captured to a CRI-format log file ([`read_log`] reads it back for `kubectl
//! logs`). A restarted worker finds the containers its predecessor started
//! ([`Runtime::recover`]). An OCI backend (runc) comes later behind the same trait.
//!
//! This module does not decide *when* to start, restart or stop a container (that is the pod
//! actor's job, fed by `capstan-core`), and it does not isolate beyond cgroups: no namespaces,
//! no user switch, no image.
//!
//! Architecture invariant: a runtime never signals a process it did not launch. Every call that
//! takes a `pid` checks it against the runtime's running containers, pid *and* start time, so a
//! stale pid (the container exited, the kernel reused the number) is a
//! [`RuntimeError::NotRunning`], never a signal to a stranger.

pub mod cgroups;
mod cri_log;
mod hollow;
mod proc_stats;
mod process;
mod record;
pub mod shim;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use capstan_core::time::Timestamp;
use tokio::sync::oneshot;

pub use cgroups::{Cgroups, Limits};
pub(crate) use cri_log::parse_entry;
pub use cri_log::read_log;
pub use hollow::HollowRuntime;
pub use process::{ProcessRuntime, ProcessRuntimeConfig, DEFAULT_HOME, DEFAULT_PATH};

/// Everything a runtime needs to create and start one container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSpec {
    /// The owning pod as `namespace/name`, for logs and errors.
    pub pod_key: String,
    /// The owning pod's uid.
    pub pod_uid: String,
    /// The container's name within its pod.
    pub name: String,
    /// The executable and its first arguments; required by the process backend (it has no
    /// image entrypoint to fall back on). Run directly, no shell.
    pub command: Vec<String>,
    /// Arguments appended after `command[1..]`.
    pub args: Vec<String>,
    /// The complete environment, already resolved by the caller (fieldRef, secrets, …); later
    /// entries win over earlier ones with the same name.
    pub env: Vec<(String, String)>,
    /// The working directory; the runtime's own when `None`.
    pub working_dir: Option<PathBuf>,
    /// Where the container's output goes, in CRI log format, e.g.
    /// `<data_dir>/pods/<uid>/<container>.log`. Parent directories are created.
    pub log_path: PathBuf,
    /// Rotate the log to `<log_path>.1` before it would grow past this many bytes (one rotated
    /// file is kept); `0` never rotates.
    pub log_max_bytes: u64,
    /// `resources.limits` (enforced with cgroups when the worker can use them).
    pub limits: Limits,
}

/// A started container.
#[derive(Debug)]
pub struct Launched {
    /// The container's main process; also its process group id, and the handle for
    /// [`Runtime::signal`] and [`Runtime::stats`].
    pub pid: u32,
    /// When it was started.
    pub started_at: Timestamp,
    /// Resolves once with the container's [`Exit`]. Dropping it does not stop the container.
    pub exit: oneshot::Receiver<Exit>,
}

/// How a container ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// The exit code, or `128 + signal` when a signal killed the main process.
    pub exit_code: i32,
    /// The signal that killed the main process, if one did.
    pub signal: Option<i32>,
    /// Whether the kernel's OOM killer ended it (known only with cgroups).
    pub oom_killed: bool,
    /// When the runtime saw the main process exit.
    pub finished_at: Timestamp,
}

/// The signals a runtime sends to stop a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGTERM: ask politely.
    Term,
    /// SIGKILL: no questions.
    Kill,
}

/// A container's resource usage, summed over its processes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// CPU time (user + system, including reaped children) in nanoseconds.
    pub cpu_usage_nanos: u64,
    /// Resident memory in bytes.
    pub memory_bytes: u64,
    /// Live processes.
    pub pids: u32,
}

/// A container's launch, resolved on the runtime's executor.
pub type LaunchFuture = Pin<Box<dyn Future<Output = Result<Launched, RuntimeError>> + Send>>;

/// One running container's usage, for the node's usage report.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSample {
    /// The pod's uid.
    pub pod_uid: String,
    /// The container's name.
    pub container: String,
    /// Its usage now.
    pub stats: Stats,
}

/// A container found by [`Runtime::recover`]: started by an earlier worker on this data_dir.
#[derive(Debug)]
pub struct Recovered {
    /// The pod's uid.
    pub pod_uid: String,
    /// The container's name.
    pub container: String,
    /// Its main process (the handle for [`Runtime::signal`] while it runs).
    pub pid: u32,
    /// When it started.
    pub started_at: Timestamp,
    /// Running (adopted) or ended while no worker watched.
    pub state: RecoveredState,
}

/// Where a recovered container is.
#[derive(Debug)]
pub enum RecoveredState {
    /// Still running, now watched by this runtime: its Exit arrives on the receiver.
    Running(oneshot::Receiver<Exit>),
    /// It ended while no worker watched.
    Exited(Exit),
}

/// Errors of the container runtime.
///
/// Retryable versus fatal: [`RuntimeError::is_retryable`] says whether the same call may succeed
/// later without a change to the spec. Either way the pod actor reports the error in the
/// container's status and applies its restart backoff; a fatal one will simply fail again.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The spec has no command, and the process backend has no image entrypoint to fall back on.
    #[error("container {container}: no command given (the process backend needs one)")]
    NoCommand {
        /// The container, as `namespace/name/container`.
        container: String,
    },
    /// The spec holds something the OS cannot take (an env name that is empty or holds `=` or
    /// NUL, a NUL byte in an argument or value).
    #[error("container {container}: invalid spec: {reason}")]
    InvalidSpec {
        /// The container, as `namespace/name/container`.
        container: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The working directory does not exist or is not a directory.
    #[error("container {container}: working directory {}: {source}", path.display())]
    WorkingDir {
        /// The container, as `namespace/name/container`.
        container: String,
        /// The directory asked for.
        path: PathBuf,
        /// Why it cannot be used.
        #[source]
        source: std::io::Error,
    },
    /// The log file or its directory could not be created, rotated or opened.
    #[error("container {container}: log file {}: {source}", path.display())]
    Log {
        /// The container, as `namespace/name/container`.
        container: String,
        /// The log file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The OS would not start the command (no such file, permission denied, not executable, …).
    #[error("container {container}: cannot start {command:?}: {source}")]
    Spawn {
        /// The container, as `namespace/name/container`.
        container: String,
        /// The command that failed (`command[0]`).
        command: String,
        /// The OS's reason.
        #[source]
        source: std::io::Error,
    },
    /// The container's state directory could not be written or read.
    #[error("container {container}: state directory {}: {source}", path.display())]
    State {
        /// The container, as `namespace/name/container`.
        container: String,
        /// The file or directory.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The container's cgroup could not be created or joined.
    #[error("container {container}: cgroup: {reason}")]
    Cgroup {
        /// The container, as `namespace/name/container`.
        container: String,
        /// Why.
        reason: String,
    },
    /// The runtime's own executor (the thread that waits for containers and pumps their
    /// output) could not be started or has gone away.
    #[error("container runtime executor unavailable: {reason}")]
    Executor {
        /// Why.
        reason: String,
    },
    /// This runtime has no running container with that pid: it exited already, or was never
    /// launched here. Nothing was signalled.
    #[error("no running container with pid {pid}")]
    NotRunning {
        /// The pid asked for.
        pid: u32,
    },
    /// The kernel refused to deliver the signal.
    #[error("{signal:?} to process group {pid}: {source}")]
    Signal {
        /// The process group.
        pid: u32,
        /// The signal.
        signal: StopSignal,
        /// The kernel's reason.
        #[source]
        source: nix::errno::Errno,
    },
}

impl RuntimeError {
    /// Whether the same call may succeed later without a change to the spec: transient I/O
    /// (log files, executor, signal delivery) or a spawn failure other than "not found" /
    /// "permission denied". A spec problem is fatal until the spec changes.
    pub fn is_retryable(&self) -> bool {
        use std::io::ErrorKind;
        match self {
            RuntimeError::NoCommand { .. }
            | RuntimeError::InvalidSpec { .. }
            | RuntimeError::WorkingDir { .. }
            | RuntimeError::NotRunning { .. } => false,
            RuntimeError::Spawn { source, .. } => !matches!(
                source.kind(),
                ErrorKind::NotFound | ErrorKind::PermissionDenied | ErrorKind::InvalidInput
            ),
            RuntimeError::Log { .. }
            | RuntimeError::State { .. }
            | RuntimeError::Cgroup { .. }
            | RuntimeError::Executor { .. }
            | RuntimeError::Signal { .. } => true,
        }
    }
}

/// A container runtime: creates, signals and measures containers.
pub trait Runtime: Send + Sync + 'static {
    /// Creates and starts the container. Once started, the runtime waits for it and sends its
    /// Exit on `Launched::exit`.
    fn launch(&self, spec: &ContainerSpec) -> LaunchFuture;
    /// Signals the container's whole process group.
    fn signal(&self, pid: u32, sig: StopSignal) -> Result<(), RuntimeError>;
    /// Resource usage of the running container whose main process is `pid`.
    fn stats(&self, pid: u32) -> Option<Stats>;
    /// Usage of every running container.
    fn usage(&self) -> Vec<ContainerSample>;
    /// The containers an earlier worker on this data_dir started (call once, at start).
    fn recover(&self) -> Vec<Recovered>;
    /// Drops what the runtime keeps about a pod whose containers have all ended.
    fn forget_pod(&self, pod_uid: &str);
    /// A short name for nodeInfo.containerRuntimeVersion ("process").
    fn name(&self) -> &'static str;
}

/// Graceful stop: SIGTERM to the group, then SIGKILL after `grace` if it has not exited;
/// resolves with the Exit.
///
/// `None` when no Exit arrives: the receiver was already consumed or its sender dropped, or the
/// container outlived the SIGKILL by [`KILL_WAIT`] (a process stuck in the kernel).
pub async fn stop_gracefully(
    rt: &dyn Runtime,
    pid: u32,
    exit: &mut oneshot::Receiver<Exit>,
    grace: Duration,
) -> Option<Exit> {
    if !grace.is_zero() {
        match rt.signal(pid, StopSignal::Term) {
            // Not running any more: its Exit is on the way (or already there).
            Ok(()) | Err(RuntimeError::NotRunning { .. }) => {}
            Err(e) => tracing::warn!(pid, error = %e, "SIGTERM failed; killing"),
        }
        if let Ok(result) = tokio::time::timeout(grace, &mut *exit).await {
            return result.ok();
        }
        tracing::info!(
            pid,
            grace_ms = grace.as_millis() as u64,
            "grace period over; SIGKILL"
        );
    }
    if let Err(e) = rt.signal(pid, StopSignal::Kill) {
        if !matches!(e, RuntimeError::NotRunning { .. }) {
            tracing::warn!(pid, error = %e, "SIGKILL failed");
        }
    }
    tokio::time::timeout(KILL_WAIT, &mut *exit).await.ok()?.ok()
}

/// How long [`stop_gracefully`] waits for an Exit after SIGKILL before giving up.
pub const KILL_WAIT: Duration = Duration::from_secs(10);
