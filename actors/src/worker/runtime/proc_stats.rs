//! Resource usage of a process group, read from `/proc/<pid>/stat` (proc(5)).
//!
//! Used when containers have no cgroup; with one, the cgroup's own counters are read instead
//! (they also count processes that left the group).

use super::Stats;

/// The fields of one `/proc/<pid>/stat` line that [`Stats`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcStat {
    /// Process state letter (`R`, `S`, `Z`, …).
    pub state: u8,
    /// Process group id.
    pub pgrp: i64,
    /// utime + stime + cutime + cstime, in clock ticks.
    pub cpu_ticks: u64,
    /// Resident set size in pages.
    pub rss_pages: u64,
    /// Start time in clock ticks since boot: with the pid, an identity the kernel never reuses.
    pub start_ticks: u64,
}

/// Parses a `/proc/<pid>/stat` line. The command name (field 2) is in parentheses and may hold
/// spaces and `)`, so fields are counted from the last `)`. `None` on anything malformed.
pub(crate) fn parse_stat(line: &str) -> Option<ProcStat> {
    let after_comm = &line[line.rfind(')')? + 1..];
    // Field 3 (state) is index 0 here, so field N is index N - 3.
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let num = |field: usize| -> Option<u64> { fields.get(field - 3)?.parse().ok() };
    let state = *fields.first()?.as_bytes().first()?;
    let pgrp = fields.get(5 - 3)?.parse().ok()?;
    // Children's times (cutime, cstime) keep the total from dropping when a shell reaps a
    // short-lived child.
    let cpu_ticks = [14, 15, 16, 17]
        .iter()
        .map(|&f| num(f))
        .try_fold(0u64, |sum, v| Some(sum.saturating_add(v?)))?;
    // rss may read as negative in odd kernel states; treat that as zero.
    let rss: i64 = fields.get(24 - 3)?.parse().ok()?;
    let start_ticks = num(22)?;
    Some(ProcStat {
        state,
        pgrp,
        cpu_ticks,
        rss_pages: u64::try_from(rss).unwrap_or(0),
        start_ticks,
    })
}

/// Sums usage over every live (not zombie) process whose group is `pgid`. `None` when the group
/// has no live process. `ticks_per_sec` and `page_size` come from sysconf.
pub(crate) fn group_stats(pgid: u32, ticks_per_sec: u64, page_size: u64) -> Option<Stats> {
    let entries = std::fs::read_dir("/proc").ok()?;
    let mut ticks: u64 = 0;
    let mut pages: u64 = 0;
    let mut pids: u32 = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        // A process may exit between read_dir and this read: skip it.
        let Ok(line) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(stat) = parse_stat(&line) else {
            continue;
        };
        if stat.pgrp != i64::from(pgid) || matches!(stat.state, b'Z' | b'X' | b'x') {
            continue;
        }
        ticks = ticks.saturating_add(stat.cpu_ticks);
        pages = pages.saturating_add(stat.rss_pages);
        pids = pids.saturating_add(1);
    }
    if pids == 0 || ticks_per_sec == 0 {
        return None;
    }
    let nanos = u128::from(ticks) * 1_000_000_000 / u128::from(ticks_per_sec);
    Some(Stats {
        cpu_usage_nanos: u64::try_from(nanos).unwrap_or(u64::MAX),
        memory_bytes: pages.saturating_mul(page_size),
        pids,
    })
}
