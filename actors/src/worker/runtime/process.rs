//! The `process` backend: each container is a plain process on this host, started and watched
//! by its own shim process ([`super::shim`], `capstan shim DIR`), in its own process group and
//! (when the worker may use them) its own cgroup, with a cleared environment, stdin from
//! `/dev/null` and stdout/stderr captured to its CRI log.
//!
//! The worker talks to its containers through their state directories ([`super::record`]):
//! it writes the spec, starts the shim (a child of the worker), reads the shim's one-line
//! report, and learns the exit from `exit.json` once the shim exits. Because the shim, not the
//! worker, holds the container's pipes and reaps it, a worker can be killed and restarted:
//! [`ProcessRuntime::recover`] reads the directories back and hands every container still
//! running (or finished meanwhile) to the new worker, which adopts the wanted ones and stops
//! the rest.
//!
//! The runtime owns a small tokio runtime on its own thread ("executor") that starts shims and
//! waits for them, so a container's bookkeeping does not die with the actix arbiter that
//! launched it.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use capstan_core::time::Timestamp;
use nix::errno::Errno;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::{sysconf, Pid, SysconfVar};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::cgroups::{Cgroups, ContainerCgroup};
use super::record::{self, ExitRecord, ShimSpec, StartRecord, EXIT, SHIM_LOG, SPEC, STARTED};
use super::shim::{io_kind, Report};
use super::{
    proc_stats, ContainerSample, ContainerSpec, Exit, LaunchFuture, Launched, Recovered,
    RecoveredState, Runtime, RuntimeError, Stats, StopSignal,
};

/// PATH given to a container whose env does not set one (the OCI/Docker default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// HOME given to a container whose env does not set one.
pub const DEFAULT_HOME: &str = "/root";

/// How long a shim may take to report that its container started.
const SHIM_REPORT_WITHIN: Duration = Duration::from_secs(30);

/// How often an adopted shim (not this worker's child, so not waitable) is checked.
const ADOPTED_POLL: Duration = Duration::from_millis(200);

/// How a [`ProcessRuntime`] is set up.
#[derive(Debug, Clone)]
pub struct ProcessRuntimeConfig {
    /// Where the containers' state directories live (`<data_dir>/containers`).
    pub state_dir: PathBuf,
    /// The shim command: program and leading arguments; the container's state directory is
    /// appended (the worker uses its own binary: `capstan shim`).
    pub shim: Vec<OsString>,
    /// Whether to confine containers with cgroups when the machine allows it.
    pub cgroups: bool,
    /// The pids limit of each container's cgroup.
    pub pids_limit: u64,
    /// This worker's cgroup subtree under `capstan/` (its node name): its containers' cgroups
    /// live there, and only there does it clean up.
    pub cgroup_name: String,
}

/// A container this runtime knows to be running.
#[derive(Debug, Clone)]
struct LiveContainer {
    pod_uid: String,
    name: String,
    /// The main process's start time: with the pid, its identity.
    start: u64,
    cgroup: Option<ContainerCgroup>,
}

type LiveSet = Arc<Mutex<HashMap<u32, LiveContainer>>>;

/// Runs containers as processes on this host, each under a shim. See the module docs.
#[derive(Debug)]
pub struct ProcessRuntime {
    /// The executor's handle, or why it could not start.
    executor: Result<Handle, String>,
    /// Dropping this stops the executor thread.
    _shutdown: Option<oneshot::Sender<()>>,
    /// Containers whose main process runs, by pid (= process group id).
    live: LiveSet,
    /// Clock ticks per second (`sysconf(CLK_TCK)`), `None` if the OS would not say.
    ticks_per_sec: Option<u64>,
    /// Page size in bytes (`sysconf(PAGE_SIZE)`), `None` if the OS would not say.
    page_size: Option<u64>,
    config: ProcessRuntimeConfig,
    cgroups: Cgroups,
}

impl ProcessRuntime {
    /// Starts the executor thread and decides about cgroups (see [`Cgroups::detect`]; the
    /// caller logs [`ProcessRuntime::cgroups`]'s reason once if they are off). If the executor
    /// cannot start, every launch returns [`RuntimeError::Executor`] with the reason.
    pub fn new(config: ProcessRuntimeConfig) -> ProcessRuntime {
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
        let cgroups = Cgroups::detect(config.cgroups, &config.cgroup_name);
        ProcessRuntime {
            executor,
            _shutdown: shutdown,
            live: Arc::default(),
            ticks_per_sec: sysconf_u64(SysconfVar::CLK_TCK),
            page_size: sysconf_u64(SysconfVar::PAGE_SIZE),
            config,
            cgroups,
        }
    }

    /// Whether and how containers are confined.
    pub fn cgroups(&self) -> &Cgroups {
        &self.cgroups
    }

    fn container_dir(&self, pod_uid: &str, name: &str) -> PathBuf {
        self.config.state_dir.join(pod_uid).join(name)
    }

    fn live_entry(&self, pid: u32) -> Option<LiveContainer> {
        lock(&self.live).get(&pid).cloned()
    }

    /// Everything up to starting the shim: checks, state directory, cgroup, spec file.
    fn prepare(&self, spec: &ContainerSpec) -> Result<(PathBuf, ShimSpec), RuntimeError> {
        let container = format!("{}/{}", spec.pod_key, spec.name);
        if spec.command.is_empty() {
            return Err(RuntimeError::NoCommand { container });
        }
        validate(spec, &container)?;
        if spec.pod_uid.is_empty()
            || spec.pod_uid.contains(['/', '\0'])
            || spec.name.contains(['/', '\0'])
            || [".", ".."].contains(&spec.pod_uid.as_str())
        {
            return Err(RuntimeError::InvalidSpec {
                container,
                reason: "pod uid and container name must be usable as file names".into(),
            });
        }
        let dir = self.container_dir(&spec.pod_uid, &spec.name);
        let state_err = |source: io::Error| RuntimeError::State {
            container: container.clone(),
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(state_err)?;
        // The previous run of this container (if any) is over and its exit consumed.
        for f in [STARTED, EXIT] {
            match std::fs::remove_file(dir.join(f)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(state_err(e)),
            }
        }
        let cgroup = self
            .cgroups
            .create(
                &format!("{}_{}", spec.pod_uid, spec.name),
                &spec.limits,
                self.config.pids_limit,
            )
            .map_err(|e| RuntimeError::Cgroup {
                container: container.clone(),
                reason: e.to_string(),
            })?;
        let shim_spec = ShimSpec {
            pod_key: spec.pod_key.clone(),
            pod_uid: spec.pod_uid.clone(),
            name: spec.name.clone(),
            argv: spec.command.iter().chain(&spec.args).cloned().collect(),
            env: spec.env.clone(),
            working_dir: spec.working_dir.clone(),
            log_path: spec.log_path.clone(),
            log_max_bytes: spec.log_max_bytes,
            cgroup,
        };
        record::write(&dir, SPEC, &shim_spec).map_err(state_err)?;
        Ok((dir, shim_spec))
    }

    /// Reads the state directories left by a previous worker on this data_dir. Containers whose
    /// shim still runs are adopted (tracked, signalable, their exit reported when it comes);
    /// containers that ended meanwhile are reported with their exit; a container whose shim
    /// died is killed (nobody would reap or log it) and reported as killed. Launches that were
    /// interrupted before their process ran are cleaned up. Call once, before any launch.
    pub fn recover_containers(&self) -> Vec<Recovered> {
        let mut out = Vec::new();
        let mut keep = HashSet::new();
        let Ok(pods) = std::fs::read_dir(&self.config.state_dir) else {
            return out;
        };
        for pod in pods.flatten() {
            let pod_uid = pod.file_name().to_string_lossy().into_owned();
            let Ok(containers) = std::fs::read_dir(pod.path()) else {
                continue;
            };
            for c in containers.flatten() {
                let name = c.file_name().to_string_lossy().into_owned();
                let dir = c.path();
                match self.recover_one(&dir, &pod_uid, &name) {
                    Some(r) => {
                        if matches!(r.state, RecoveredState::Running(_)) {
                            keep.insert(format!("{pod_uid}_{name}"));
                        }
                        out.push(r);
                    }
                    None => {
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                }
            }
        }
        self.cgroups.sweep(&keep);
        out
    }

    fn recover_one(&self, dir: &Path, pod_uid: &str, name: &str) -> Option<Recovered> {
        let spec: ShimSpec = record::read(dir, SPEC).ok()??;
        let Some(started) = record::read::<StartRecord>(dir, STARTED).ok().flatten() else {
            // Interrupted before the process ran: nothing to adopt.
            if let Some(cg) = &spec.cgroup {
                cg.remove();
            }
            return None;
        };
        let started_at = Timestamp(started.started_at);
        let recovered = |state| {
            Some(Recovered {
                pod_uid: pod_uid.to_string(),
                container: name.to_string(),
                pid: started.pid,
                started_at,
                state,
            })
        };
        if let Some(exit) = record::read::<ExitRecord>(dir, EXIT).ok().flatten() {
            return recovered(RecoveredState::Exited(exit.to_exit()));
        }
        if record::is_alive(started.shim_pid, started.shim_start) {
            let handle = self.executor.as_ref().ok()?;
            lock(&self.live).insert(
                started.pid,
                LiveContainer {
                    pod_uid: pod_uid.to_string(),
                    name: name.to_string(),
                    start: started.pid_start,
                    cgroup: spec.cgroup.clone(),
                },
            );
            let (tx, rx) = oneshot::channel();
            handle.spawn(watch_adopted(
                dir.to_path_buf(),
                started,
                Arc::clone(&self.live),
                tx,
            ));
            tracing::info!(
                pod_uid,
                container = name,
                pid = started.pid,
                "adopted a running container"
            );
            return recovered(RecoveredState::Running(rx));
        }
        // The shim is gone without recording an exit: kill whatever is left unsupervised.
        kill_unsupervised(&started, spec.cgroup.as_ref());
        if let Some(cg) = &spec.cgroup {
            cg.remove();
        }
        tracing::warn!(
            pod_uid,
            container = name,
            pid = started.pid,
            "container had lost its shim; killed"
        );
        recovered(RecoveredState::Exited(Exit {
            exit_code: 137,
            signal: Some(9),
            oom_killed: false,
            finished_at: crate::store::now(),
        }))
    }
}

impl Drop for ProcessRuntime {
    /// A runtime that goes with no container left takes its cgroup subtree along.
    fn drop(&mut self) {
        if lock(&self.live).is_empty() {
            self.cgroups.remove_if_empty();
        }
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

/// Locks the live set; a poisoned lock still holds a consistent map, since every critical
/// section is a single insert, remove or lookup.
fn lock(live: &Mutex<HashMap<u32, LiveContainer>>) -> MutexGuard<'_, HashMap<u32, LiveContainer>> {
    live.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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

/// SIGKILLs a container whose shim is gone: its process group and its cgroup's processes,
/// each only if it is still the process the records name.
fn kill_unsupervised(started: &StartRecord, cgroup: Option<&ContainerCgroup>) {
    if record::is_alive(started.pid, started.pid_start) {
        if let Ok(pgid) = i32::try_from(started.pid) {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
    for p in cgroup.map(ContainerCgroup::pids).unwrap_or_default() {
        if let Ok(p) = i32::try_from(p) {
            let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
        }
    }
}

/// The Exit recorded in `dir`, or `None` (the shim died without recording one: whatever it
/// left is killed).
fn read_exit(dir: &Path, started: &StartRecord, cgroup: Option<&ContainerCgroup>) -> Option<Exit> {
    match record::read::<ExitRecord>(dir, EXIT) {
        Ok(Some(exit)) => Some(exit.to_exit()),
        other => {
            tracing::warn!(dir = %dir.display(), result = ?other.map(|_| ()), "the shim ended without recording an exit; killing what is left");
            kill_unsupervised(started, cgroup);
            if let Some(cg) = cgroup {
                cg.remove();
            }
            None
        }
    }
}

/// Starts a shim for the prepared container and waits for its report. Runs on the executor.
async fn start_shim(
    shim: Vec<OsString>,
    dir: PathBuf,
    spec: ShimSpec,
    live: LiveSet,
) -> Result<Launched, RuntimeError> {
    let container = format!("{}/{}", spec.pod_key, spec.name);
    let cleanup = |spec: &ShimSpec| {
        if let Some(cg) = &spec.cgroup {
            cg.remove();
        }
    };
    let shim_log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(SHIM_LOG))
        .map_err(|source| RuntimeError::State {
            container: container.clone(),
            path: dir.join(SHIM_LOG),
            source,
        })?;
    let Some((program, args)) = shim.split_first() else {
        return Err(RuntimeError::Executor {
            reason: "no shim command configured".into(),
        });
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(shim_log)
        .process_group(0)
        .kill_on_drop(false);
    let mut child = cmd.spawn().map_err(|e| RuntimeError::Executor {
        reason: format!("starting the shim {program:?}: {e}"),
    })?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let mut out = BufReader::new(out);
        match tokio::time::timeout(SHIM_REPORT_WITHIN, out.read_line(&mut line)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => line = format!("failed\tshim\tother\treading the shim's report: {e}"),
            Err(_) => {
                let _ = child.start_kill();
                line = format!("failed\tshim\tother\tno report within {SHIM_REPORT_WITHIN:?}");
            }
        }
    }
    let command = spec.argv.first().cloned().unwrap_or_default();
    match Report::decode(&line) {
        Report::Started => {}
        Report::Failed {
            stage,
            kind,
            message,
        } => {
            let _ = child.wait().await;
            cleanup(&spec);
            return Err(match stage.as_str() {
                "spawn" => RuntimeError::Spawn {
                    container,
                    command,
                    source: io::Error::new(io_kind(&kind), message),
                },
                "log" => RuntimeError::Log {
                    container,
                    path: spec.log_path.clone(),
                    source: io::Error::other(message),
                },
                "cgroup" => RuntimeError::Cgroup {
                    container,
                    reason: message,
                },
                _ => RuntimeError::Executor {
                    reason: format!("{container}: {message}"),
                },
            });
        }
    }
    let started = match record::read::<StartRecord>(&dir, STARTED) {
        Ok(Some(s)) => s,
        other => {
            let _ = child.wait().await;
            cleanup(&spec);
            return Err(RuntimeError::Executor {
                reason: format!(
                    "{container}: the shim reported a start but {STARTED} is unreadable: {other:?}"
                ),
            });
        }
    };
    lock(&live).insert(
        started.pid,
        LiveContainer {
            pod_uid: spec.pod_uid.clone(),
            name: spec.name.clone(),
            start: started.pid_start,
            cgroup: spec.cgroup.clone(),
        },
    );
    let (exit_tx, exit_rx) = oneshot::channel();
    let pid = started.pid;
    tracing::info!(pod = %spec.pod_key, container = %spec.name, pid, command = %command, "container started");
    tokio::spawn(async move {
        let _ = child.wait().await;
        lock(&live).remove(&pid);
        if let Some(exit) = read_exit(&dir, &started, spec.cgroup.as_ref()) {
            tracing::info!(pod = %spec.pod_key, container = %spec.name, pid, exit_code = exit.exit_code, signal = exit.signal, oom_killed = exit.oom_killed, "container exited");
            let _ = exit_tx.send(exit);
        }
    });
    Ok(Launched {
        pid,
        started_at: Timestamp(started.started_at),
        exit: exit_rx,
    })
}

/// Waits for an adopted container's shim (not our child: polled) and reports its Exit.
async fn watch_adopted(
    dir: PathBuf,
    started: StartRecord,
    live: LiveSet,
    exit_tx: oneshot::Sender<Exit>,
) {
    while record::is_alive(started.shim_pid, started.shim_start) {
        tokio::time::sleep(ADOPTED_POLL).await;
    }
    let cgroup = lock(&live).remove(&started.pid).and_then(|c| c.cgroup);
    if let Some(exit) = read_exit(&dir, &started, cgroup.as_ref()) {
        let _ = exit_tx.send(exit);
    }
}

impl Runtime for ProcessRuntime {
    fn launch(&self, spec: &ContainerSpec) -> LaunchFuture {
        let handle = match &self.executor {
            Ok(h) => h.clone(),
            Err(reason) => {
                let reason = reason.clone();
                return Box::pin(async move { Err(RuntimeError::Executor { reason }) });
            }
        };
        let (dir, shim_spec) = match self.prepare(spec) {
            Ok(p) => p,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let task = handle.spawn(start_shim(
            self.config.shim.clone(),
            dir,
            shim_spec,
            Arc::clone(&self.live),
        ));
        Box::pin(async move {
            task.await.map_err(|e| RuntimeError::Executor {
                reason: format!("the launch task failed: {e}"),
            })?
        })
    }

    fn signal(&self, pid: u32, sig: StopSignal) -> Result<(), RuntimeError> {
        // Never signal what we did not launch or what has ended: its number may belong to
        // someone else by now. pid 0 and 1 would mean our own group and init.
        let pgid = i32::try_from(pid).ok().filter(|&p| p > 1);
        let entry = self.live_entry(pid);
        let (Some(pgid), Some(entry)) = (pgid, entry) else {
            return Err(RuntimeError::NotRunning { pid });
        };
        if !record::is_alive(pid, entry.start) {
            return Err(RuntimeError::NotRunning { pid });
        }
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
        let entry = self.live_entry(pid)?;
        match &entry.cgroup {
            Some(cg) => cg.stats(),
            None => proc_stats::group_stats(pid, self.ticks_per_sec?, self.page_size?),
        }
    }

    fn usage(&self) -> Vec<ContainerSample> {
        let live: Vec<(u32, LiveContainer)> = lock(&self.live)
            .iter()
            .map(|(pid, c)| (*pid, c.clone()))
            .collect();
        live.into_iter()
            .filter_map(|(pid, c)| {
                let stats = match &c.cgroup {
                    Some(cg) => cg.stats(),
                    None => proc_stats::group_stats(pid, self.ticks_per_sec?, self.page_size?),
                }?;
                Some(ContainerSample {
                    pod_uid: c.pod_uid,
                    container: c.name,
                    stats,
                })
            })
            .collect()
    }

    fn recover(&self) -> Vec<Recovered> {
        self.recover_containers()
    }

    fn forget_pod(&self, pod_uid: &str) {
        if pod_uid.is_empty() || pod_uid.contains('/') || [".", ".."].contains(&pod_uid) {
            return;
        }
        if lock(&self.live).values().any(|c| c.pod_uid == pod_uid) {
            return;
        }
        let dir = self.config.state_dir.join(pod_uid);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "could not remove pod state")
            }
        }
    }

    fn name(&self) -> &'static str {
        "process"
    }
}
