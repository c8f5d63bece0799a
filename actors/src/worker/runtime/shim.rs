//! The container shim: one small process per running container (`capstan shim DIR`), in the
//! role containerd-shim or conmon play. The worker starts it and may die and come back; the
//! shim stays and keeps the container supervised:
//!
//! - it starts the container's process in its own process group, moved into the container's
//!   cgroup between fork and exec;
//! - it holds the container's stdout/stderr pipes and writes them to the CRI log (so a worker
//!   restart neither loses output nor SIGPIPEs the container);
//! - it reaps the process, kills what is left of its group (and of its cgroup), records how it
//!   ended — exit code, signal, OOM kill — in `exit.json`, removes the cgroup and exits.
//!
//! It tells the worker how the start went with one line on its stdout ([`Report`]), then points
//! its stdout at /dev/null. Everything else it has to say goes to `shim.log` (its stderr).

use super::cri_log::{self, LogStream};
use super::record::{self, ExitRecord, ShimSpec, StartRecord, EXIT, SPEC, STARTED};
use super::{DEFAULT_HOME, DEFAULT_PATH};
use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long the shim lets the output pumps drain after the container exited (a process that
/// left the group may hold the pipes open).
const LOG_DRAIN: Duration = Duration::from_secs(2);

/// Log entries queued between the pumps and the writer; a full queue slows the pumps, and so
/// the container, rather than growing memory.
const LOG_QUEUE: usize = 256;

/// The one line a shim writes to the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Report {
    /// The process runs; `started.json` is written.
    Started,
    /// It could not be started.
    Failed {
        /// `spec`, `log`, `cgroup` or `spawn`.
        stage: String,
        /// For `spawn`: `notfound`, `permission`, `invalid` or `other`.
        kind: String,
        /// The OS's words.
        message: String,
    },
}

impl Report {
    /// The line, without the newline. Tabs and newlines in the message become spaces.
    pub fn encode(&self) -> String {
        match self {
            Report::Started => "started".to_string(),
            Report::Failed {
                stage,
                kind,
                message,
            } => format!(
                "failed\t{stage}\t{kind}\t{}",
                message.replace(['\t', '\n', '\r'], " ")
            ),
        }
    }

    /// Parses a line; anything unknown is a failure of stage `shim` carrying the line.
    pub fn decode(line: &str) -> Report {
        let line = line.trim_end();
        if line == "started" {
            return Report::Started;
        }
        let mut parts = line.splitn(4, '\t');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("failed"), Some(stage), Some(kind), Some(message)) => Report::Failed {
                stage: stage.to_string(),
                kind: kind.to_string(),
                message: message.to_string(),
            },
            _ => Report::Failed {
                stage: "shim".into(),
                kind: "other".into(),
                message: if line.is_empty() {
                    "the shim exited without reporting".into()
                } else {
                    format!("unexpected shim output: {line:?}")
                },
            },
        }
    }
}

fn io_kind_name(kind: io::ErrorKind) -> &'static str {
    match kind {
        io::ErrorKind::NotFound => "notfound",
        io::ErrorKind::PermissionDenied => "permission",
        io::ErrorKind::InvalidInput => "invalid",
        _ => "other",
    }
}

/// The `io::ErrorKind` a [`Report::Failed`] kind stands for.
pub(crate) fn io_kind(name: &str) -> io::ErrorKind {
    match name {
        "notfound" => io::ErrorKind::NotFound,
        "permission" => io::ErrorKind::PermissionDenied,
        "invalid" => io::ErrorKind::InvalidInput,
        _ => io::ErrorKind::Other,
    }
}

/// Writes the report line to stdout. Nothing is written there afterwards (the worker reading
/// it may be gone; SIGPIPE is ignored, so a stray write would only fail).
fn report(r: &Report) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}", r.encode());
    let _ = out.flush();
}

fn failed(stage: &str, kind: &str, message: impl Into<String>) -> i32 {
    let message = message.into();
    eprintln!("capstan shim: {stage}: {message}");
    report(&Report::Failed {
        stage: stage.into(),
        kind: kind.into(),
        message,
    });
    1
}

/// Runs the shim for the container whose state directory is `dir`; returns the process exit
/// code (0 once the container has run and its exit is recorded).
pub fn run(dir: &Path) -> i32 {
    let spec: ShimSpec = match record::read(dir, SPEC) {
        Ok(Some(spec)) => spec,
        Ok(None) => return failed("spec", "other", format!("{} has no {SPEC}", dir.display())),
        Err(e) => return failed("spec", "other", format!("{SPEC}: {e}")),
    };
    if spec.argv.is_empty() {
        return failed("spec", "other", "no command");
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return failed("spec", "other", format!("starting the shim's runtime: {e}")),
    };
    rt.block_on(supervise(dir, spec))
}

async fn supervise(dir: &Path, spec: ShimSpec) -> i32 {
    // Orphans of the container (daemonized grandchildren) are reparented here, not to init, so
    // the shim can reap them.
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        eprintln!("capstan shim: cannot become a subreaper: {e}");
    }
    let log_file = match open_log(&spec.log_path) {
        Ok(f) => f,
        Err(e) => return failed("log", "other", format!("{}: {e}", spec.log_path.display())),
    };
    let mut procs_files = Vec::new();
    for path in spec.cgroup.iter().flat_map(|c| c.procs_files()) {
        match std::fs::OpenOptions::new().write(true).open(&path) {
            Ok(f) => procs_files.push(OwnedFd::from(f)),
            Err(e) => return failed("cgroup", "other", format!("{}: {e}", path.display())),
        }
    }
    let (program, rest) = spec.argv.split_first().unwrap_or((&spec.argv[0], &[]));
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(rest)
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
    if let Some(wd) = &spec.working_dir {
        cmd.current_dir(wd);
    }
    let fds: Vec<i32> = procs_files.iter().map(AsRawFd::as_raw_fd).collect();
    // SAFETY: the closure runs in the forked child before exec and only calls write(2) on
    // descriptors opened above — async-signal-safe, no allocation, no locks.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(move || {
            for &fd in &fds {
                // "0" is "the writing process": the child joins the cgroup before exec.
                if nix::libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failed("spawn", io_kind_name(e.kind()), e.to_string()),
    };
    drop(procs_files);
    let Some(pid) = child.id() else {
        return failed("spawn", "other", "the spawned process has no pid");
    };
    let started = StartRecord {
        shim_pid: std::process::id(),
        shim_start: record::stat_start(std::process::id()).unwrap_or(0),
        pid,
        // Not reaped yet, so /proc/<pid> exists even if it has already exited.
        pid_start: record::stat_start(pid).unwrap_or(0),
        started_at: crate::store::now().0,
    };
    if let Err(e) = record::write(dir, STARTED, &started) {
        let _ = child.start_kill();
        let _ = child.wait().await;
        return failed("spec", "other", format!("writing {STARTED}: {e}"));
    }
    report(&Report::Started);

    let (log_tx, log_rx) = mpsc::channel(LOG_QUEUE);
    let mut pumps = Vec::with_capacity(2);
    if let Some(out) = child.stdout.take() {
        pumps.push(tokio::spawn(cri_log::pump(
            out,
            LogStream::Stdout,
            log_tx.clone(),
        )));
    }
    if let Some(err) = child.stderr.take() {
        pumps.push(tokio::spawn(cri_log::pump(err, LogStream::Stderr, log_tx)));
    }
    let writer = tokio::spawn(cri_log::write_log(
        log_file,
        0,
        spec.log_path.clone(),
        spec.log_max_bytes,
        log_rx,
    ));

    let status = child.wait().await;
    let finished_at = crate::store::now().0;
    // The main process is gone: like a PID namespace whose init exits, the rest goes too —
    // its process group, and anything in its cgroup that left the group.
    if let Ok(pgid) = i32::try_from(pid) {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
    if let Some(cg) = &spec.cgroup {
        for p in cg.pids() {
            if let Ok(p) = i32::try_from(p) {
                let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
            }
        }
    }
    let abort: Vec<_> = pumps
        .iter()
        .map(tokio::task::JoinHandle::abort_handle)
        .collect();
    let drained = async {
        for p in pumps {
            let _ = p.await;
        }
    };
    if tokio::time::timeout(LOG_DRAIN, drained).await.is_err() {
        eprintln!("capstan shim: output still open after exit; closing the log");
        abort.iter().for_each(tokio::task::AbortHandle::abort);
    }
    let _ = tokio::time::timeout(LOG_DRAIN, writer).await;
    reap_orphans();

    let (exit_code, signal) = match status {
        Ok(s) => exit_code(s),
        Err(e) => {
            eprintln!("capstan shim: waiting for the container failed: {e}");
            (255, None)
        }
    };
    let oom_killed = spec.cgroup.as_ref().is_some_and(|c| c.oom_killed());
    let exit = ExitRecord {
        exit_code,
        signal,
        oom_killed,
        finished_at,
    };
    if let Some(cg) = &spec.cgroup {
        cg.remove();
    }
    match record::write(dir, EXIT, &exit) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("capstan shim: writing {EXIT}: {e}");
            1
        }
    }
}

/// Decodes a wait status as kubelet reports it: the exit code, or `128 + signal` for a
/// signal death, with the signal.
pub(crate) fn exit_code(status: std::process::ExitStatus) -> (i32, Option<i32>) {
    match (status.code(), status.signal()) {
        (Some(code), _) => (code, None),
        (None, Some(sig)) => (128 + sig, Some(sig)),
        // Neither exited nor signalled cannot come out of wait(); report a generic failure.
        (None, None) => (255, None),
    }
}

/// Reaps children reparented to the shim (it is a subreaper), for up to a second.
fn reap_orphans() {
    for _ in 0..20 {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(nix::sys::wait::WaitStatus::StillAlive) => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Ok(_) => {}
            Err(_) => return, // ECHILD: none left
        }
    }
}

/// Prepares a fresh log file for a new container instance: creates the directory and moves a
/// previous instance's non-empty log to `<path>.1` (so `kubectl logs --previous` finds it).
pub(crate) fn open_log(path: &Path) -> io::Result<std::fs::File> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip() {
        assert_eq!(Report::decode("started\n"), Report::Started);
        let f = Report::Failed {
            stage: "spawn".into(),
            kind: "notfound".into(),
            message: "No such file\tor directory\n".into(),
        };
        match Report::decode(&f.encode()) {
            Report::Failed {
                stage,
                kind,
                message,
            } => {
                assert_eq!((stage.as_str(), kind.as_str()), ("spawn", "notfound"));
                assert_eq!(
                    message, "No such file or directory",
                    "trailing space trimmed"
                );
                assert_eq!(io_kind(&kind), io::ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        }
        match Report::decode("") {
            Report::Failed { stage, message, .. } => {
                assert_eq!(stage, "shim");
                assert!(message.contains("without reporting"));
            }
            other => panic!("{other:?}"),
        }
    }
}
