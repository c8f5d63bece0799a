//! What the process runtime keeps on disk for each container, so that a restarted worker finds
//! the containers its predecessor started. One directory per container of a pod,
//! `<state_dir>/<pod uid>/<container>/`, holding:
//!
//! - `spec.json` ([`ShimSpec`]), written by the worker before it starts the shim: what to run;
//! - `started.json` ([`StartRecord`]), written by the shim once the process runs: who runs;
//! - `exit.json` ([`ExitRecord`]), written by the shim when the process has ended: how it ended;
//! - `shim.log`, the shim's own diagnostics.
//!
//! Every record is written to a temporary file and renamed into place, so a reader sees a whole
//! record or none. A pid alone is not an identity (the kernel reuses numbers): records pair each
//! pid with its start time in clock ticks since boot (`/proc/<pid>/stat` field 22), and
//! [`is_alive`] checks both.

use super::cgroups::ContainerCgroup;
use capstan_core::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::{Path, PathBuf};

/// Name of the spec file in a container's state directory.
pub(crate) const SPEC: &str = "spec.json";
/// Name of the start record.
pub(crate) const STARTED: &str = "started.json";
/// Name of the exit record.
pub(crate) const EXIT: &str = "exit.json";
/// Name of the shim's diagnostics log.
pub(crate) const SHIM_LOG: &str = "shim.log";

/// What the shim runs: the resolved container spec plus its cgroup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ShimSpec {
    /// `namespace/name`, for diagnostics.
    pub pod_key: String,
    /// The pod's uid.
    pub pod_uid: String,
    /// The container's name.
    pub name: String,
    /// `command` then `args`; never empty.
    pub argv: Vec<String>,
    /// The complete environment.
    pub env: Vec<(String, String)>,
    /// The working directory, if set.
    pub working_dir: Option<PathBuf>,
    /// The CRI log file.
    pub log_path: PathBuf,
    /// Rotate the log at this size (0: never).
    pub log_max_bytes: u64,
    /// The container's cgroup (already created, limits set), if cgroups are in use.
    pub cgroup: Option<ContainerCgroup>,
}

/// A running container, as its shim recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StartRecord {
    /// The shim's pid.
    pub shim_pid: u32,
    /// The shim's start time (ticks since boot).
    pub shim_start: u64,
    /// The container's main process (also its process group id).
    pub pid: u32,
    /// Its start time (ticks since boot).
    pub pid_start: u64,
    /// When it started (Unix seconds).
    pub started_at: i64,
}

/// How a container ended, as its shim recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ExitRecord {
    /// Exit code, or 128 + signal.
    pub exit_code: i32,
    /// The signal that killed it, if one did.
    pub signal: Option<i32>,
    /// Whether the cgroup's OOM killer ended it.
    pub oom_killed: bool,
    /// When it ended (Unix seconds).
    pub finished_at: i64,
}

impl ExitRecord {
    /// As the runtime reports it.
    pub fn to_exit(self) -> super::Exit {
        super::Exit {
            exit_code: self.exit_code,
            signal: self.signal,
            oom_killed: self.oom_killed,
            finished_at: Timestamp(self.finished_at),
        }
    }
}

/// Writes `value` as JSON to `dir/name` atomically (temporary file, then rename).
pub(crate) fn write<T: Serialize>(dir: &Path, name: &str, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(io::Error::other)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(name))
}

/// Reads `dir/name`; `Ok(None)` when it does not exist.
pub(crate) fn read<T: for<'de> Deserialize<'de>>(dir: &Path, name: &str) -> io::Result<Option<T>> {
    match std::fs::read(dir.join(name)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The start time (ticks since boot) of `pid`, zombie or not.
pub(crate) fn stat_start(pid: u32) -> Option<u64> {
    let line = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(super::proc_stats::parse_stat(&line)?.start_ticks)
}

/// The start time (ticks since boot) of `pid` if it is alive (not a zombie).
pub(crate) fn start_ticks(pid: u32) -> Option<u64> {
    let line = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let stat = super::proc_stats::parse_stat(&line)?;
    if matches!(stat.state, b'Z' | b'X' | b'x') {
        return None;
    }
    Some(stat.start_ticks)
}

/// Whether `pid` is alive and is the process that started at `start` (not a reused number).
pub(crate) fn is_alive(pid: u32, start: u64) -> bool {
    pid > 1 && start_ticks(pid) == Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_absent_is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rec = StartRecord {
            shim_pid: 10,
            shim_start: 11,
            pid: 12,
            pid_start: 13,
            started_at: 14,
        };
        write(dir.path(), STARTED, &rec).expect("write");
        assert_eq!(
            read::<StartRecord>(dir.path(), STARTED).expect("read"),
            Some(rec)
        );
        assert_eq!(read::<ExitRecord>(dir.path(), EXIT).expect("read"), None);
        std::fs::write(dir.path().join(EXIT), b"{not json").expect("write");
        let err = read::<ExitRecord>(dir.path(), EXIT).expect_err("garbage is an error");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn own_process_is_alive_and_a_wrong_start_time_is_not() {
        let me = std::process::id();
        let start = start_ticks(me).expect("this process has a start time");
        assert!(is_alive(me, start));
        assert!(
            !is_alive(me, start + 1),
            "same pid, other start: a reused number"
        );
        assert!(
            !is_alive(1, start_ticks(1).unwrap_or(0)),
            "pid 1 is never ours"
        );
    }
}
