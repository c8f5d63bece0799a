//! Container resource limits and accounting with Linux control groups, v1 or v2.
//!
//! Each container gets its own cgroup, `capstan/<worker>/<pod uid>_<container>`, under the root
//! of each hierarchy (one subtree per worker, so that workers sharing a machine never touch each
//! other's cgroups): in v1 one directory per controller (memory, cpu, cpuacct, pids), in v2 one
//! directory. `limits.memory` becomes the memory limit (with swap held to the same limit, so
//! exceeding it means the OOM killer, not swapping), `limits.cpu` a CFS quota over a 100 ms
//! period, and every container gets a pids limit. The shim moves the container's process into
//! the cgroup between fork and exec (it writes `0` — "me" — to each `cgroup.procs`), so not one
//! allocation happens outside the limit.
//!
//! [`Cgroups::detect`] decides once per worker whether cgroups can be used: running as root and
//! able to create the `capstan` parent. If not, it says why and containers run unconfined.
//!
//! Usage is read from the cgroup's own counters: `cpuacct.usage` / `cpu.stat usage_usec`, the
//! working set (`usage - inactive_file`, as kubelet reports it), `pids.current`. An OOM kill is
//! read from the `oom_kill` counter of `memory.oom_control` (v1) or `memory.events` (v2).

use super::Stats;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The parent cgroup of every container, under each hierarchy's root.
pub const PARENT: &str = "capstan";

/// CFS period for CPU limits, in microseconds (Kubernetes uses the kernel's default, 100 ms).
const CFS_PERIOD_US: u64 = 100_000;

/// The smallest CFS quota the kernel accepts, in microseconds.
const MIN_CFS_QUOTA_US: u64 = 1_000;

/// A container's resource limits, from `resources.limits`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `limits.memory` in bytes.
    pub memory_bytes: Option<u64>,
    /// `limits.cpu` in millicores.
    pub cpu_millis: Option<u64>,
}

/// Which cgroup hierarchy this worker uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cgroups {
    /// Version 1: a mount per controller (some may be co-mounted).
    V1 {
        /// The memory controller's `capstan` parent.
        memory: PathBuf,
        /// The cpu controller's `capstan` parent, if mounted and writable.
        cpu: Option<PathBuf>,
        /// The cpuacct controller's `capstan` parent, if mounted and writable.
        cpuacct: Option<PathBuf>,
        /// The pids controller's `capstan` parent, if mounted and writable.
        pids: Option<PathBuf>,
    },
    /// Version 2: one unified hierarchy.
    V2 {
        /// The `capstan` parent.
        parent: PathBuf,
    },
    /// No cgroups: containers run unconfined.
    Off {
        /// Why, for the worker's one warning.
        reason: String,
    },
}

/// One container's cgroup, as the shim needs it (also written to its spec file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerCgroup {
    /// 1 or 2.
    pub version: u8,
    /// Every directory of this cgroup (the process joins each; each is removed at the end).
    pub dirs: Vec<PathBuf>,
    /// The memory controller's directory.
    pub memory: PathBuf,
    /// Where CPU usage is read (v1 cpuacct, v2 the cgroup itself), if available.
    pub cpu_usage: Option<PathBuf>,
    /// Where `pids.current` is, if available.
    pub pids: Option<PathBuf>,
}

/// One mount from /proc/self/mountinfo: its mount point, file system type and super options.
fn mounts(mountinfo: &str) -> Vec<(PathBuf, String, String)> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let mount_point = before.split(' ').nth(4)?;
            let mut rest = after.split(' ');
            let fstype = rest.next()?.to_string();
            let _source = rest.next()?;
            let options = rest.next().unwrap_or_default().to_string();
            Some((PathBuf::from(unescape(mount_point)), fstype, options))
        })
        .collect()
}

/// Mount points in mountinfo escape space, tab, newline and backslash as octal.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let code: String = chars.by_ref().take(3).collect();
            match u8::from_str_radix(&code, 8) {
                Ok(b) => out.push(char::from(b)),
                Err(_) => {
                    out.push('\\');
                    out.push_str(&code);
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Creates `dir` (and its parents); an existing one is fine.
fn ensure_dir(dir: &Path) -> io::Result<()> {
    match std::fs::create_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn write_file(dir: &Path, file: &str, value: &str) -> io::Result<()> {
    std::fs::write(dir.join(file), value)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.join(file).display())))
}

/// A `key value` line's value from a flat-keyed cgroup file.
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

impl Cgroups {
    /// Decides whether this worker can confine containers: `enabled` (the worker config), root,
    /// a cgroup hierarchy with the memory controller, and a writable `capstan` parent.
    pub fn detect(enabled: bool, worker: &str) -> Cgroups {
        if !enabled {
            return Cgroups::Off {
                reason: "disabled in the worker config (cgroups = false)".into(),
            };
        }
        if !nix::unistd::geteuid().is_root() {
            return Cgroups::Off {
                reason: "the worker does not run as root".into(),
            };
        }
        let info = match std::fs::read_to_string("/proc/self/mountinfo") {
            Ok(info) => info,
            Err(e) => {
                return Cgroups::Off {
                    reason: format!("cannot read /proc/self/mountinfo: {e}"),
                }
            }
        };
        if worker.is_empty() || worker.contains(['/', '\0']) || worker.starts_with('.') {
            return Cgroups::Off {
                reason: format!("{worker:?} is not usable as a cgroup name"),
            };
        }
        Cgroups::from_mounts(&mounts(&info), worker)
    }

    fn from_mounts(mounts: &[(PathBuf, String, String)], worker: &str) -> Cgroups {
        let v1 = |controller: &str| {
            mounts
                .iter()
                .find(|(_, fs, opts)| fs == "cgroup" && opts.split(',').any(|o| o == controller))
                .map(|(mp, _, _)| mp.join(PARENT).join(worker))
        };
        if let Some(memory) = v1("memory") {
            if let Err(e) = ensure_dir(&memory) {
                return Cgroups::Off {
                    reason: format!("cannot create {}: {e}", memory.display()),
                };
            }
            let usable = |p: Option<PathBuf>| p.filter(|p| ensure_dir(p).is_ok());
            return Cgroups::V1 {
                memory,
                cpu: usable(v1("cpu")),
                cpuacct: usable(v1("cpuacct")),
                pids: usable(v1("pids")),
            };
        }
        let unified = mounts.iter().find(|(mp, fs, _)| {
            fs == "cgroup2"
                && std::fs::read_to_string(mp.join("cgroup.controllers"))
                    .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"))
        });
        let Some((root, _, _)) = unified else {
            return Cgroups::Off {
                reason: "no cgroup hierarchy with the memory controller is mounted".into(),
            };
        };
        let parent = root.join(PARENT).join(worker);
        let setup = || -> io::Result<()> {
            let enable = |dir: &Path| {
                let available = std::fs::read_to_string(dir.join("cgroup.controllers"))?;
                let wanted: Vec<String> = ["memory", "cpu", "pids"]
                    .iter()
                    .filter(|c| available.split_whitespace().any(|a| a == **c))
                    .map(|c| format!("+{c}"))
                    .collect();
                write_file(dir, "cgroup.subtree_control", &wanted.join(" "))
            };
            enable(root)?;
            ensure_dir(&root.join(PARENT))?;
            enable(&root.join(PARENT))?;
            ensure_dir(&parent)?;
            enable(&parent)
        };
        match setup() {
            Ok(()) => Cgroups::V2 { parent },
            Err(e) => Cgroups::Off {
                reason: format!("cannot set up {}: {e}", parent.display()),
            },
        }
    }

    /// Removes this worker's own subtree if it holds no container cgroup any more (best effort;
    /// a worker leaving with containers running keeps it).
    pub fn remove_if_empty(&self) {
        let dirs: Vec<&PathBuf> = match self {
            Cgroups::Off { .. } => return,
            Cgroups::V1 {
                memory,
                cpu,
                cpuacct,
                pids,
            } => std::iter::once(memory)
                .chain(cpu.iter())
                .chain(cpuacct.iter())
                .chain(pids.iter())
                .collect(),
            Cgroups::V2 { parent } => vec![parent],
        };
        for d in dirs {
            // rmdir fails (EBUSY/ENOTEMPTY) while children exist: exactly what we want.
            let _ = std::fs::remove_dir(d);
        }
    }

    /// Why cgroups are off, if they are.
    pub fn off_reason(&self) -> Option<&str> {
        match self {
            Cgroups::Off { reason } => Some(reason),
            _ => None,
        }
    }

    /// Creates the cgroup named `name` with `limits` and a pids limit; `Ok(None)` when cgroups
    /// are off.
    pub fn create(
        &self,
        name: &str,
        limits: &Limits,
        pids_max: u64,
    ) -> io::Result<Option<ContainerCgroup>> {
        let quota = limits
            .cpu_millis
            .map(|m| (m.saturating_mul(CFS_PERIOD_US) / 1000).max(MIN_CFS_QUOTA_US));
        match self {
            Cgroups::Off { .. } => Ok(None),
            Cgroups::V1 {
                memory,
                cpu,
                cpuacct,
                pids,
            } => {
                let mem = memory.join(name);
                ensure_dir(&mem)?;
                let memory_limit = limits
                    .memory_bytes
                    .map_or_else(|| "-1".to_string(), |b| b.to_string());
                write_file(&mem, "memory.limit_in_bytes", &memory_limit)?;
                if mem.join("memory.memsw.limit_in_bytes").exists() {
                    // Swap held to the same limit: over the limit is an OOM kill, not swapping.
                    let _ = write_file(&mem, "memory.memsw.limit_in_bytes", &memory_limit);
                }
                let mut dirs = vec![mem.clone()];
                if let Some(cpu) = cpu {
                    let dir = cpu.join(name);
                    ensure_dir(&dir)?;
                    write_file(&dir, "cpu.cfs_period_us", &CFS_PERIOD_US.to_string())?;
                    let q = quota.map_or_else(|| "-1".to_string(), |q| q.to_string());
                    write_file(&dir, "cpu.cfs_quota_us", &q)?;
                    dirs.push(dir);
                }
                let cpu_usage = match cpuacct {
                    // cpu and cpuacct co-mounted: the same directory.
                    Some(acct) if Some(acct) == cpu.as_ref() => Some(acct.join(name)),
                    Some(acct) => {
                        let dir = acct.join(name);
                        ensure_dir(&dir)?;
                        dirs.push(dir.clone());
                        Some(dir)
                    }
                    None => None,
                };
                let pids_dir = match pids {
                    Some(p) => {
                        let dir = p.join(name);
                        ensure_dir(&dir)?;
                        write_file(&dir, "pids.max", &pids_max.to_string())?;
                        dirs.push(dir.clone());
                        Some(dir)
                    }
                    None => None,
                };
                dirs.dedup();
                Ok(Some(ContainerCgroup {
                    version: 1,
                    dirs,
                    memory: mem,
                    cpu_usage,
                    pids: pids_dir,
                }))
            }
            Cgroups::V2 { parent } => {
                let dir = parent.join(name);
                ensure_dir(&dir)?;
                let max = |v: Option<u64>| v.map_or_else(|| "max".to_string(), |v| v.to_string());
                write_file(&dir, "memory.max", &max(limits.memory_bytes))?;
                if limits.memory_bytes.is_some() && dir.join("memory.swap.max").exists() {
                    let _ = write_file(&dir, "memory.swap.max", "0");
                }
                if dir.join("cpu.max").exists() {
                    write_file(&dir, "cpu.max", &format!("{} {CFS_PERIOD_US}", max(quota)))?;
                }
                let pids = dir.join("pids.max").exists();
                if pids {
                    write_file(&dir, "pids.max", &pids_max.to_string())?;
                }
                Ok(Some(ContainerCgroup {
                    version: 2,
                    dirs: vec![dir.clone()],
                    memory: dir.clone(),
                    cpu_usage: Some(dir.clone()),
                    pids: pids.then_some(dir),
                }))
            }
        }
    }

    /// Removes the container cgroups under the parent that hold no process and are not named
    /// in `keep` (left over from containers whose shim died with them).
    pub fn sweep(&self, keep: &std::collections::HashSet<String>) {
        let parents: Vec<&PathBuf> = match self {
            Cgroups::Off { .. } => return,
            Cgroups::V1 {
                memory,
                cpu,
                cpuacct,
                pids,
            } => std::iter::once(memory)
                .chain(cpu.iter())
                .chain(cpuacct.iter())
                .chain(pids.iter())
                .collect(),
            Cgroups::V2 { parent } => vec![parent],
        };
        for parent in parents {
            let Ok(entries) = std::fs::read_dir(parent) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if path.is_dir() && !keep.contains(&name) {
                    let empty = std::fs::read_to_string(path.join("cgroup.procs"))
                        .is_ok_and(|p| p.trim().is_empty());
                    if empty {
                        let _ = std::fs::remove_dir(&path);
                    }
                }
            }
        }
    }
}

impl ContainerCgroup {
    /// The `cgroup.procs` files the container's process writes itself into.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    /// Every process in the cgroup (also those that left the process group).
    pub fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.memory.join("cgroup.procs"))
            .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    /// CPU time, working-set memory and process count; `None` if the cgroup is gone.
    pub fn stats(&self) -> Option<Stats> {
        let (usage_file, inactive_key) = if self.version == 1 {
            ("memory.usage_in_bytes", "total_inactive_file")
        } else {
            ("memory.current", "inactive_file")
        };
        let usage = read_u64(&self.memory.join(usage_file))?;
        let inactive = std::fs::read_to_string(self.memory.join("memory.stat"))
            .ok()
            .and_then(|s| keyed(&s, inactive_key))
            .unwrap_or(0);
        let cpu_usage_nanos = self
            .cpu_usage
            .as_ref()
            .and_then(|dir| {
                if self.version == 1 {
                    read_u64(&dir.join("cpuacct.usage"))
                } else {
                    let stat = std::fs::read_to_string(dir.join("cpu.stat")).ok()?;
                    keyed(&stat, "usage_usec").map(|us| us.saturating_mul(1000))
                }
            })
            .unwrap_or(0);
        let pids = self
            .pids
            .as_ref()
            .and_then(|dir| read_u64(&dir.join("pids.current")))
            .map_or_else(|| self.pids().len() as u32, |n| n as u32);
        Some(Stats {
            cpu_usage_nanos,
            memory_bytes: usage.saturating_sub(inactive),
            pids,
        })
    }

    /// Whether the kernel's OOM killer has killed a process of this cgroup.
    pub fn oom_killed(&self) -> bool {
        let file = if self.version == 1 {
            "memory.oom_control"
        } else {
            "memory.events"
        };
        std::fs::read_to_string(self.memory.join(file))
            .ok()
            .and_then(|s| keyed(&s, "oom_kill"))
            .is_some_and(|n| n > 0)
    }

    /// Removes the cgroup's directories (retrying briefly while the last processes leave).
    pub fn remove(&self) {
        for dir in &self.dirs {
            for attempt in 0..20 {
                match std::fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                    Err(e) if attempt == 19 => {
                        tracing::warn!(cgroup = %dir.display(), error = %e, "cgroup not removed");
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
35 25 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 25 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
37 25 0:32 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
38 25 0:33 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
39 25 0:34 / /my\\040dir rw - ext4 /dev/sda1 rw";

    #[test]
    fn mountinfo_is_parsed_with_escapes() {
        let m = mounts(HYBRID);
        assert_eq!(m.len(), 5);
        assert_eq!(m[0].0, PathBuf::from("/sys/fs/cgroup/memory"));
        assert_eq!(m[1].2, "rw,cpu,cpuacct");
        assert_eq!(m[3].1, "cgroup2");
        assert_eq!(m[4].0, PathBuf::from("/my dir"));
    }

    #[test]
    fn keyed_files_are_read() {
        let stat = "cache 10\ntotal_inactive_file 4096\nusage_usec 77\n";
        assert_eq!(keyed(stat, "total_inactive_file"), Some(4096));
        assert_eq!(keyed(stat, "usage_usec"), Some(77));
        assert_eq!(keyed(stat, "missing"), None);
        assert_eq!(
            keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", "oom_kill"),
            Some(2)
        );
    }

    #[test]
    fn no_memory_controller_means_off_with_a_reason() {
        let only_pids = mounts("37 25 0:32 / /nonexistent/pids rw - cgroup cgroup rw,pids");
        match Cgroups::from_mounts(&only_pids, "w") {
            Cgroups::Off { reason } => assert!(reason.contains("memory"), "{reason}"),
            other => panic!("expected Off, got {other:?}"),
        }
        assert!(Cgroups::detect(false, "w")
            .off_reason()
            .is_some_and(|r| r.contains("config")));
    }

    /// On a machine where the worker can use cgroups (root, writable hierarchy), a cgroup is
    /// created with the limits written, and removed again. Elsewhere it says why it skips.
    #[test]
    fn create_writes_limits_and_remove_cleans_up() {
        let cg = Cgroups::detect(true, &format!("unit-test-{}", std::process::id()));
        if let Some(reason) = cg.off_reason() {
            eprintln!("skipping: cgroups unavailable here: {reason}");
            return;
        }
        let name = format!("test-{}", std::process::id());
        let limits = Limits {
            memory_bytes: Some(64 << 20),
            cpu_millis: Some(250),
        };
        let c = cg
            .create(&name, &limits, 77)
            .expect("create")
            .expect("cgroups are on");
        let (mem_file, cpu_file, cpu_value) = if c.version == 1 {
            ("memory.limit_in_bytes", "cpu.cfs_quota_us", "25000")
        } else {
            ("memory.max", "cpu.max", "25000 100000")
        };
        assert_eq!(read_u64(&c.memory.join(mem_file)), Some(64 << 20));
        if let Some(cpu_dir) = c.dirs.iter().find(|d| d.join(cpu_file).exists()).cloned() {
            let v = std::fs::read_to_string(cpu_dir.join(cpu_file)).expect("read cpu");
            assert_eq!(v.trim(), cpu_value);
        }
        if let Some(p) = &c.pids {
            assert_eq!(read_u64(&p.join("pids.max")), Some(77));
        }
        assert!(c.pids().is_empty());
        assert!(!c.oom_killed());
        c.remove();
        assert!(c.dirs.iter().all(|d| !d.exists()), "removed: {:?}", c.dirs);
        cg.remove_if_empty();
    }
}
