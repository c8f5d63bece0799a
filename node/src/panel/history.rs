//! The overview's charts: cluster CPU and memory allocatable, requested and used, and pods
//! Running, sampled every [`SAMPLE_EVERY`] and kept for the last [`KEEP`] samples (15 minutes).
//! Sampling reads every node and pod, so it runs only while someone has had the panel open in
//! the last [`VIEWER_TIMEOUT`] — a master nobody looks at (a benchmark) pays nothing for it.

use capstan_actors::nodes::metrics::{MetricsRegistry, MAX_AGE};
use capstan_actors::store::StoreHandle;
use capstan_core::api::node::Node;
use capstan_core::api::pod::Pod;
use capstan_core::kinds::{NODES, PODS};
use capstan_core::scheduler::{NodeInfo, PodInfo};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// How often a sample is taken.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// How many samples are kept.
pub const KEEP: usize = 180;
/// Sampling stops this long after the last panel stream ended or started.
pub const VIEWER_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// One point of the charts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// When (RFC 3339).
    pub t: String,
    /// CPU used by pods, from the workers' reports.
    pub cpu_used_millis: i64,
    /// Memory used by pods (working set).
    pub memory_used_bytes: i64,
    /// Pods in phase Running.
    pub pods_running: i64,
    /// Sum of the nodes' allocatable CPU.
    pub cpu_allocatable_millis: i64,
    /// Sum of the nodes' allocatable memory.
    pub memory_allocatable_bytes: i64,
    /// Sum of the requests of pods bound to nodes and not finished.
    pub cpu_requested_millis: i64,
    /// Same, memory.
    pub memory_requested_bytes: i64,
}

/// The shared history (cheap to clone).
#[derive(Clone)]
pub struct History {
    samples: Arc<Mutex<VecDeque<Sample>>>,
    tx: broadcast::Sender<Arc<Sample>>,
    /// Unix seconds of the last viewer activity.
    last_viewer: Arc<AtomicU64>,
}

impl Default for History {
    fn default() -> Self {
        History::new()
    }
}

impl History {
    /// An empty history.
    pub fn new() -> History {
        History {
            samples: Arc::new(Mutex::new(VecDeque::with_capacity(KEEP))),
            tx: broadcast::channel(16).0,
            last_viewer: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Someone is looking: keep sampling for a while.
    pub fn viewed(&self) {
        self.last_viewer
            .store(super::session::unix_now(), Ordering::Relaxed);
    }

    fn wanted(&self) -> bool {
        let last = self.last_viewer.load(Ordering::Relaxed);
        last > 0 && super::session::unix_now().saturating_sub(last) <= VIEWER_TIMEOUT.as_secs()
    }

    /// The samples kept, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        self.samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// New samples as they are taken.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Sample>> {
        self.tx.subscribe()
    }

    fn push(&self, s: Sample) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() >= KEEP {
            samples.pop_front();
        }
        samples.push_back(s.clone());
        drop(samples);
        let _ = self.tx.send(Arc::new(s));
    }

    /// Starts sampling on the current arbiter.
    pub fn start(&self, store: StoreHandle, metrics: MetricsRegistry) {
        let history = self.clone();
        actix::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            loop {
                tick.tick().await;
                if !history.wanted() {
                    continue;
                }
                match (store.db.list(NODES, None), store.db.list(PODS, None)) {
                    (Ok((nodes, _)), Ok((pods, _))) => {
                        let used = used(&metrics);
                        let t = capstan_actors::store::now().to_rfc3339();
                        history.push(sample(&nodes, &pods, used, t));
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        tracing::warn!(error = %e, "panel history: could not read the store")
                    }
                }
            }
        });
    }
}

/// Total CPU (millicores) and memory (bytes) the workers last reported, fresh ones only.
fn used(metrics: &MetricsRegistry) -> (i64, i64) {
    metrics.fresh().values().fold((0, 0), |(c, m), s| {
        (
            c + i64::try_from(s.usage.cpu_millis).unwrap_or(i64::MAX),
            m + i64::try_from(s.usage.memory_bytes).unwrap_or(i64::MAX),
        )
    })
}

/// A sample of the cluster's nodes and pods, with the usage measured.
pub fn sample(nodes: &[Value], pods: &[Value], used: (i64, i64), t: String) -> Sample {
    let mut s = Sample {
        t,
        cpu_used_millis: used.0,
        memory_used_bytes: used.1,
        ..Sample::default()
    };
    for n in nodes {
        if let Ok(node) = serde_json::from_value::<Node>(n.clone()) {
            let a = NodeInfo::from_node(&node).allocatable;
            s.cpu_allocatable_millis += a.milli_cpu;
            s.memory_allocatable_bytes += a.memory;
        }
    }
    for p in pods {
        let phase = p.pointer("/status/phase").and_then(Value::as_str);
        if phase == Some("Running") {
            s.pods_running += 1;
        }
        let bound = p
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        if bound && !matches!(phase, Some("Succeeded" | "Failed")) {
            if let Ok(pod) = serde_json::from_value::<Pod>(p.clone()) {
                let r = PodInfo::from_pod(&pod).requests;
                s.cpu_requested_millis += r.milli_cpu;
                s.memory_requested_bytes += r.memory;
            }
        }
    }
    s
}

/// The latest usage per node and per pod, for the panel: `{"nodes": {NAME: {cpu_millis,
/// memory_bytes}}, "pods": {"NS/NAME": {…}}}`.
pub fn usage_json(metrics: &MetricsRegistry) -> Value {
    let (mut nodes, mut pods) = (Map::new(), Map::new());
    for (name, s) in metrics.fresh_at(std::time::Instant::now(), MAX_AGE) {
        nodes.insert(
            name,
            json!({"cpu_millis": s.usage.cpu_millis, "memory_bytes": s.usage.memory_bytes}),
        );
        for p in &s.usage.pods {
            let (cpu, mem) = p.containers.iter().fold((0u64, 0u64), |(c, m), x| {
                (
                    c.saturating_add(x.cpu_millis),
                    m.saturating_add(x.memory_bytes),
                )
            });
            pods.insert(
                format!("{}/{}", p.namespace, p.name),
                json!({"cpu_millis": cpu, "memory_bytes": mem}),
            );
        }
    }
    json!({"nodes": nodes, "pods": pods})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_adds_up_nodes_and_the_requests_of_bound_live_pods() {
        let node = |name: &str| {
            json!({"metadata": {"name": name},
                   "status": {"allocatable": {"cpu": "2", "memory": "1Gi", "pods": "110"}}})
        };
        let pod = |node: &str, phase: &str, cpu: &str| {
            json!({"metadata": {"name": "p", "namespace": "default"},
                   "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i",
                            "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]},
                   "status": {"phase": phase}})
        };
        let s = sample(
            &[node("a"), node("b")],
            &[
                pod("a", "Running", "250m"),
                pod("b", "Pending", "100m"),
                pod("b", "Succeeded", "1"),
                pod("", "Pending", "1"),
            ],
            (300, 1 << 20),
            "2026-01-01T00:00:00Z".into(),
        );
        assert_eq!(s.cpu_allocatable_millis, 4000);
        assert_eq!(s.memory_allocatable_bytes, 2 << 30);
        assert_eq!(s.cpu_requested_millis, 350, "bound and not finished only");
        assert_eq!(s.memory_requested_bytes, 128 << 20);
        assert_eq!(s.pods_running, 1);
        assert_eq!((s.cpu_used_millis, s.memory_used_bytes), (300, 1 << 20));
    }

    #[test]
    fn history_keeps_the_latest_samples() {
        let h = History::new();
        for i in 0..(KEEP + 5) {
            h.push(Sample {
                pods_running: i as i64,
                ..Sample::default()
            });
        }
        let kept = h.samples();
        assert_eq!(kept.len(), KEEP);
        assert_eq!(kept[0].pods_running, 5);
        let mut rx = h.subscribe();
        h.push(Sample::default());
        assert!(rx.try_recv().is_ok(), "subscribers hear of new samples");
        assert!(!h.wanted(), "nobody looked yet");
        h.viewed();
        assert!(h.wanted());
    }
}
