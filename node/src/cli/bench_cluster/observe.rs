//! What `capstan bench cluster` watches while it runs: every pod through the API's watch (when
//! it was created, bound and first seen Running, and where), and the master process's RSS and
//! CPU from `/proc`.

use crate::client::Client;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One pod as the watch saw it.
#[derive(Debug, Clone, Default)]
pub struct PodSeen {
    /// When the load generator's create was acknowledged, or the watch first saw it.
    pub created: Option<Instant>,
    /// When it was first seen bound.
    pub bound: Option<Instant>,
    /// When it was first seen Running.
    pub running: Option<Instant>,
    /// Its node, as last seen.
    pub node: String,
    /// Its phase, as last seen.
    pub phase: String,
    /// Deleted (or being deleted).
    pub gone: bool,
    /// CPU and memory requested (for the overcommit check).
    pub requests: (i64, i64),
}

/// Everything seen, shared with the watcher thread.
#[derive(Default)]
pub struct Observed {
    /// Pods by `namespace/name`.
    pub pods: HashMap<String, PodSeen>,
    /// The watch failed (its message).
    pub error: Option<String>,
}

/// Shared view.
pub type Shared = Arc<Mutex<Observed>>;

/// Nodes as a watch sees them: which are Ready, until `wanted` are (then the watch stops).
#[derive(Debug, Default)]
pub struct NodesSeen {
    /// The names of the nodes whose Ready condition is True.
    pub ready: HashSet<String>,
    /// The watch ended before `wanted` nodes were Ready (its message).
    pub error: Option<String>,
}

/// Watches Nodes on a thread until `wanted` of them are Ready. A watch, not a list polled in a
/// loop: at 5,000 nodes each list is 15 MB of JSON, and polling it would load the master (and
/// this process) far more than the nodes themselves.
pub fn watch_nodes_until_ready(client: Client, wanted: usize) -> Arc<Mutex<NodesSeen>> {
    let seen = Arc::new(Mutex::new(NodesSeen::default()));
    let out = seen.clone();
    std::thread::spawn(move || {
        let result = client.watch(
            "/api/v1/nodes?watch=true&timeoutSeconds=3600",
            "application/json",
            |ev| {
                let obj = &ev["object"];
                if ev["type"].as_str() == Some("ERROR") {
                    return false;
                }
                let name = obj["metadata"]["name"].as_str().unwrap_or_default();
                let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
                let ready = ev["type"].as_str() != Some("DELETED")
                    && capstan_core::node_status::ready_status(obj) == Some("True");
                if ready {
                    s.ready.insert(name.to_string());
                } else {
                    s.ready.remove(name);
                }
                s.ready.len() < wanted
            },
        );
        let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
        if s.ready.len() < wanted {
            s.error = Some(match result {
                Ok(()) => "the node watch ended".to_string(),
                Err(e) => format!("the node watch failed: {e}"),
            });
        }
    });
    out
}

fn requests(p: &Value) -> (i64, i64) {
    let pod: Result<capstan_core::api::pod::Pod, _> = serde_json::from_value(p.clone());
    match pod {
        Ok(pod) => {
            let r = capstan_core::scheduler::PodInfo::from_pod(&pod).requests;
            (r.milli_cpu, r.memory)
        }
        Err(_) => (0, 0),
    }
}

/// Watches every pod (from `resource_version`) on a thread until `stop` says so.
pub fn watch_pods(client: Client, resource_version: String, shared: Shared) {
    std::thread::spawn(move || {
        let path = format!(
            "/api/v1/pods?watch=true&resourceVersion={resource_version}&timeoutSeconds=3600"
        );
        let result = client.watch(&path, "application/json", |ev| {
            let now = Instant::now();
            let obj = &ev["object"];
            let kind = ev["type"].as_str().unwrap_or_default();
            if kind == "ERROR" {
                return false;
            }
            let key = format!(
                "{}/{}",
                obj["metadata"]["namespace"].as_str().unwrap_or_default(),
                obj["metadata"]["name"].as_str().unwrap_or_default()
            );
            let mut o = shared.lock().unwrap_or_else(|e| e.into_inner());
            let seen = o.pods.entry(key).or_default();
            seen.created.get_or_insert(now);
            let node = obj["spec"]["nodeName"].as_str().unwrap_or_default();
            if !node.is_empty() {
                seen.bound.get_or_insert(now);
                seen.node = node.to_string();
            }
            seen.phase = obj["status"]["phase"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if seen.phase == "Running" {
                seen.running.get_or_insert(now);
            }
            if seen.requests == (0, 0) {
                seen.requests = requests(obj);
            }
            seen.gone = kind == "DELETED" || !obj["metadata"]["deletionTimestamp"].is_null();
            true
        });
        let mut o = shared.lock().unwrap_or_else(|e| e.into_inner());
        o.error = Some(match result {
            Ok(()) => "the pod watch ended".to_string(),
            Err(e) => format!("the pod watch failed: {e}"),
        });
    });
}

/// One sample of the master process.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    /// Seconds since the start of the run.
    pub t: f64,
    /// Resident memory, MiB.
    pub rss_mb: f64,
    /// CPU used since the previous sample, in cores (1.0 = one core busy).
    pub cpu_cores: f64,
    /// Pods Running at that time.
    pub running: usize,
}

/// RSS (KiB) and CPU time (clock ticks) of `pid`.
pub fn proc_stat(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((rss, utime + stime))
}

/// Samples the master every `every` on a thread into `samples`, until `done` is set.
pub fn sample_master(
    pid: u32,
    start: Instant,
    every: Duration,
    shared: Shared,
    samples: Arc<Mutex<Vec<ProcSample>>>,
    done: Arc<std::sync::atomic::AtomicBool>,
) {
    std::thread::spawn(move || {
        // Clock ticks per second: 100 on Linux.
        const HZ: f64 = 100.0;
        let mut last: Option<(Instant, u64)> = None;
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            if let Some((rss_kb, ticks)) = proc_stat(pid) {
                let now = Instant::now();
                let cpu = last.map_or(0.0, |(t, prev)| {
                    (ticks.saturating_sub(prev) as f64 / HZ) / now.duration_since(t).as_secs_f64()
                });
                last = Some((now, ticks));
                let running = shared
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .pods
                    .values()
                    .filter(|p| p.phase == "Running" && !p.gone)
                    .count();
                samples
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(ProcSample {
                        t: now.duration_since(start).as_secs_f64(),
                        rss_mb: rss_kb as f64 / 1024.0,
                        cpu_cores: cpu,
                        running,
                    });
            }
            std::thread::sleep(every);
        }
    });
}
