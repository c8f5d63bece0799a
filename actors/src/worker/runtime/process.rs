//! The `process` backend: each container is a plain process on this host, in its own process
//! group (the group id is the container's pid), with a cleared environment, stdin from
//! `/dev/null` and stdout/stderr captured to its CRI log.
//!
//! The runtime owns a small tokio runtime on its own thread ("executor") that spawns the
//! processes, pumps their output and waits for them, so [`ProcessRuntime::launch`] works from
//! any thread or actix arbiter, and a container's bookkeeping does not die with the arbiter
//! that launched it.
//!
//! Container semantics kept: when the main process exits, the rest of its process group is
//! SIGKILLed, as when a PID namespace's init exits. Not kept yet: isolation of any kind (the
//! process runs as the worker's user, in the worker's namespaces, without limits).

use std::collections::HashSet;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use capstan_core::time::Timestamp;
use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::{sysconf, Pid, SysconfVar};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::cri_log::{self, LogStream};
use super::{proc_stats, ContainerSpec, Exit, Launched, Runtime, RuntimeError, Stats, StopSignal};

/// PATH given to a container whose env does not set one (the OCI/Docker default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// HOME given to a container whose env does not set one.
pub const DEFAULT_HOME: &str = "/root";

/// How long the waiter lets the output pumps drain after the container exited before it sends
/// the Exit anyway (a process that left the group may hold the pipes open).
const LOG_DRAIN: Duration = Duration::from_secs(2);

/// Log entries queued between the pumps and the writer; a full queue slows the pumps, and so
/// the container, rather than growing memory.
const LOG_QUEUE: usize = 256;

/// Runs containers as processes on this host. See the module docs.
///
/// Keep one for the worker's lifetime: dropping it stops its executor, which leaves running
/// containers running but unwatched (their `exit` receivers see the sender dropped, nothing
/// reaps them, their output stops being logged).
#[derive(Debug)]
pub struct ProcessRuntime {
    /// The executor's handle, or why it could not start.
    executor: Result<Handle, String>,
    /// Dropping this stops the executor thread.
    _shutdown: Option<oneshot::Sender<()>>,
    /// Pids (= process group ids) of containers launched here whose main process still runs.
    live: Arc<Mutex<HashSet<u32>>>,
    /// Clock ticks per second (`sysconf(CLK_TCK)`), `None` if the OS would not say.
    ticks_per_sec: Option<u64>,
    /// Page size in bytes (`sysconf(PAGE_SIZE)`), `None` if the OS would not say.
    page_size: Option<u64>,
}

impl Default for ProcessRuntime {
    fn default() -> Self {
        ProcessRuntime::new()
    }
}

impl ProcessRuntime {
    /// Starts the executor thread. If that fails, the runtime still exists and every
    /// [`Runtime::launch`] returns [`RuntimeError::Executor`] with the reason.
    pub fn new() -> ProcessRuntime {
        let sysconf_u64 = |var| {
            sysconf(var)
                .ok()
                .flatten()
                .and_then(|v| u64::try_from(v).ok())
                .filter(|&v| v > 0)
        };
        let (executor, shutdown) = match start_executor() {
            Ok((handle, shutdown)) => (Ok(handle), Some(shutdown)),
            Err(e) => {
                tracing::error!(error = %e, "container runtime executor failed to start");
                (Err(e.to_string()), None)
            }
        };
        ProcessRuntime {
            executor,
            _shutdown: shutdown,
            live: Arc::default(),
            ticks_per_sec: sysconf_u64(SysconfVar::CLK_TCK),
            page_size: sysconf_u64(SysconfVar::PAGE_SIZE),
        }
    }

    fn is_live(&self, pid: u32) -> bool {
        lock(&self.live).contains(&pid)
    }
}

/// Builds a current-thread tokio runtime and parks it on its own thread until the returned
/// sender is dropped.
fn start_executor() -> io::Result<(Handle, oneshot::Sender<()>)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("capstan-runtime")
        .build()?;
    let handle = rt.handle().clone();
    let (tx, rx) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("capstan-runtime".into())
        .spawn(move || {
            let _ = rt.block_on(rx);
            rt.shutdown_timeout(Duration::from_secs(1));
        })?;
    Ok((handle, tx))
}

/// Locks the live set; a poisoned lock (a panic elsewhere while holding it) still holds a
/// consistent set, since every critical section is a single insert, remove or lookup.
fn lock(live: &Mutex<HashSet<u32>>) -> MutexGuard<'_, HashSet<u32>> {
    live.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Timestamp(secs)
}

/// Rejects what the OS cannot take before anything is created.
fn validate(spec: &ContainerSpec, container: &str) -> Result<(), RuntimeError> {
    let invalid = |reason: String| RuntimeError::InvalidSpec {
        container: container.to_string(),
        reason,
    };
    for (name, value) in &spec.env {
        if name.is_empty() || name.contains(['=', '\0']) {
            return Err(invalid(format!(
                "env name {name:?} is empty or holds '=' or NUL"
            )));
        }
        if value.contains('\0') {
            return Err(invalid(format!("env {name} holds a NUL byte")));
        }
    }
    if let Some(arg) = spec
        .command
        .iter()
        .chain(&spec.args)
        .find(|a| a.contains('\0'))
    {
        return Err(invalid(format!("argument {arg:?} holds a NUL byte")));
    }
    if let Some(dir) = &spec.working_dir {
        let problem = match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => None,
            Ok(_) => Some(io::Error::other("not a directory")),
            Err(e) => Some(e),
        };
        if let Some(source) = problem {
            return Err(RuntimeError::WorkingDir {
                container: container.to_string(),
                path: dir.clone(),
                source,
            });
        }
    }
    Ok(())
}

/// Prepares a fresh log file for a new container instance: creates the directory and moves a
/// previous instance's non-empty log to `<path>.1` (so `kubectl logs --previous` finds it).
fn open_log(path: &Path) -> io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::metadata(path) {
        Ok(m) if m.len() > 0 => std::fs::rename(path, cri_log::rotated_path(path))?,
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
}

/// Decodes a wait status: the exit code, or `128 + signal` for a signal death.
pub(crate) fn exit_from_status(status: ExitStatus, finished_at: Timestamp) -> Exit {
    // cgroups: oom_killed comes from the container cgroup's memory.oom_control / memory.events
    // once containers get one; a SIGKILL alone does not mean OOM.
    let (exit_code, signal) = match (status.code(), status.signal()) {
        (Some(code), _) => (code, None),
        (None, Some(sig)) => (128 + sig, Some(sig)),
        // Neither exited nor signalled cannot come out of wait(); report a generic failure.
        (None, None) => (255, None),
    };
    Exit {
        exit_code,
        signal,
        oom_killed: false,
        finished_at,
    }
}

impl Runtime for ProcessRuntime {
    fn launch(&self, spec: &ContainerSpec) -> Result<Launched, RuntimeError> {
        let container = format!("{}/{}", spec.pod_key, spec.name);
        let handle = self
            .executor
            .as_ref()
            .map_err(|reason| RuntimeError::Executor {
                reason: reason.clone(),
            })?;
        let Some((program, first_args)) = spec.command.split_first() else {
            return Err(RuntimeError::NoCommand { container });
        };
        validate(spec, &container)?;
        let log_file = open_log(&spec.log_path).map_err(|source| RuntimeError::Log {
            container: container.clone(),
            path: spec.log_path.clone(),
            source,
        })?;

        let mut cmd = tokio::process::Command::new(program);
        cmd.args(first_args)
            .args(&spec.args)
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(false);
        if !spec.env.iter().any(|(k, _)| k == "PATH") {
            cmd.env("PATH", DEFAULT_PATH);
        }
        if !spec.env.iter().any(|(k, _)| k == "HOME") {
            cmd.env("HOME", DEFAULT_HOME);
        }
        if let Some(dir) = &spec.working_dir {
            cmd.current_dir(dir);
        }

        // tokio's process driver lives in the executor: spawn in its context.
        let mut child = {
            let _entered = handle.enter();
            cmd.spawn().map_err(|source| RuntimeError::Spawn {
                container: container.clone(),
                command: program.clone(),
                source,
            })?
        };
        let Some(pid) = child.id() else {
            // Only a child already reaped has no id; a fresh one always has.
            return Err(RuntimeError::Executor {
                reason: format!("{container}: spawned process has no pid"),
            });
        };
        let started_at = now();
        lock(&self.live).insert(pid);

        let span =
            tracing::info_span!("container", pod = %spec.pod_key, container = %spec.name, pid);
        let (log_tx, log_rx) = mpsc::channel(LOG_QUEUE);
        let mut pumps = Vec::with_capacity(2);
        if let Some(out) = child.stdout.take() {
            let pump = cri_log::pump(out, LogStream::Stdout, log_tx.clone());
            pumps.push(handle.spawn(pump.instrument(span.clone())));
        }
        if let Some(err) = child.stderr.take() {
            let pump = cri_log::pump(err, LogStream::Stderr, log_tx);
            pumps.push(handle.spawn(pump.instrument(span.clone())));
        }
        let writer = cri_log::write_log(
            log_file,
            0,
            spec.log_path.clone(),
            spec.log_max_bytes,
            log_rx,
        );
        let writer = handle.spawn(writer.instrument(span.clone()));

        let (exit_tx, exit_rx) = oneshot::channel();
        let waiter = wait_for_exit(child, pid, Arc::clone(&self.live), pumps, writer, exit_tx);
        handle.spawn(waiter.instrument(span.clone()));
        span.in_scope(|| tracing::info!(command = %program, "container started"));
        Ok(Launched {
            pid,
            started_at,
            exit: exit_rx,
        })
    }

    fn signal(&self, pid: u32, sig: StopSignal) -> Result<(), RuntimeError> {
        // Never signal what we did not launch or what has already been reaped: its number may
        // belong to someone else by now. pid 0 and 1 would mean our own group and init.
        let pgid = i32::try_from(pid).ok().filter(|&p| p > 1);
        let (Some(pgid), true) = (pgid, self.is_live(pid)) else {
            return Err(RuntimeError::NotRunning { pid });
        };
        let signal = match sig {
            StopSignal::Term => Signal::SIGTERM,
            StopSignal::Kill => Signal::SIGKILL,
        };
        match killpg(Pid::from_raw(pgid), signal) {
            Ok(()) => Ok(()),
            Err(Errno::ESRCH) => Err(RuntimeError::NotRunning { pid }),
            Err(source) => Err(RuntimeError::Signal {
                pid,
                signal: sig,
                source,
            }),
        }
    }

    fn stats(&self, pid: u32) -> Option<Stats> {
        if !self.is_live(pid) {
            return None;
        }
        proc_stats::group_stats(pid, self.ticks_per_sec?, self.page_size?)
    }

    fn name(&self) -> &'static str {
        "process"
    }
}

/// Reaps the container, tears down the rest of its group, lets the log drain, then reports the
/// Exit. Runs on the executor.
async fn wait_for_exit(
    mut child: tokio::process::Child,
    pid: u32,
    live: Arc<Mutex<HashSet<u32>>>,
    pumps: Vec<JoinHandle<()>>,
    writer: JoinHandle<()>,
    exit_tx: oneshot::Sender<Exit>,
) {
    let status = child.wait().await;
    let finished_at = now();
    lock(&live).remove(&pid);
    // The main process is gone: like a PID namespace whose init exits, the rest of the group
    // goes too (and closes the pipes the pumps read). The kernel does not reuse a number while
    // any process still has it as its group id, so this reaches the container's leftovers, or
    // nobody (ESRCH); only a new group leader born on this very number in the microseconds
    // since the reap could be hit, which needs the whole pid space to wrap in between.
    if let Ok(pgid) = i32::try_from(pid) {
        if pgid > 1 {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
    let exit = match status {
        Ok(status) => exit_from_status(status, finished_at),
        Err(e) => {
            // wait() failing means tokio lost track of the child; report it as failed.
            tracing::warn!(error = %e, "waiting for container failed");
            Exit {
                exit_code: 255,
                signal: None,
                oom_killed: false,
                finished_at,
            }
        }
    };
    // The writer ends once both pumps have; give them a bounded time so the log is complete
    // when the Exit arrives, then cut off anything still holding the pipes.
    let abort_pumps: Vec<_> = pumps.iter().map(JoinHandle::abort_handle).collect();
    let drained = async {
        for pump in pumps {
            let _ = pump.await;
        }
    };
    if tokio::time::timeout(LOG_DRAIN, drained).await.is_err() {
        tracing::warn!("container output still open after exit; closing its log");
        abort_pumps.iter().for_each(tokio::task::AbortHandle::abort);
    }
    let _ = tokio::time::timeout(LOG_DRAIN, writer).await;
    tracing::info!(
        exit_code = exit.exit_code,
        signal = exit.signal,
        "container exited"
    );
    let _ = exit_tx.send(exit);
}
