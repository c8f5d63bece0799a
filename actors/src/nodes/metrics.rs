//! The latest resource usage each node reported in its heartbeats, kept in memory only (a
//! sample costs no store write) for the metrics API. A sample older than [`MAX_AGE`] is not
//! served: a node that stopped heartbeating has no metrics.

use crate::protocol::NodeUsage;
use capstan_core::time::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// How old a sample may be and still be served.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// One node's latest usage, with when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageSample {
    /// What the worker measured.
    pub usage: NodeUsage,
    /// When the master received it (monotonic, for the age).
    pub received: Instant,
    /// When the master received it (wall clock, for the API's `timestamp`).
    pub timestamp: Timestamp,
}

impl UsageSample {
    /// Whether the sample is at most `max_age` old at `now`.
    pub fn is_fresh(&self, now: Instant, max_age: Duration) -> bool {
        now.saturating_duration_since(self.received) <= max_age
    }
}

/// The registry: a cheaply cloneable handle shared by the node sessions (writers) and the API
/// server (readers).
#[derive(Debug, Clone, Default)]
pub struct MetricsRegistry {
    inner: Arc<RwLock<HashMap<String, Arc<UsageSample>>>>,
}

impl MetricsRegistry {
    /// An empty registry.
    pub fn new() -> MetricsRegistry {
        MetricsRegistry::default()
    }

    /// Records `usage` as `node`'s latest sample, received now.
    pub fn record(&self, node: &str, usage: NodeUsage) {
        self.record_at(node, usage, Instant::now(), crate::store::now());
    }

    /// Records `usage` as `node`'s latest sample, received at `received` / `timestamp`.
    pub fn record_at(&self, node: &str, usage: NodeUsage, received: Instant, timestamp: Timestamp) {
        let sample = Arc::new(UsageSample {
            usage,
            received,
            timestamp,
        });
        self.inner
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(node.to_string(), sample);
    }

    /// `node`'s latest sample if it is at most [`MAX_AGE`] old.
    pub fn latest(&self, node: &str) -> Option<Arc<UsageSample>> {
        self.latest_at(node, Instant::now(), MAX_AGE)
    }

    /// `node`'s latest sample if it is at most `max_age` old at `now`.
    pub fn latest_at(
        &self,
        node: &str,
        now: Instant,
        max_age: Duration,
    ) -> Option<Arc<UsageSample>> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(node)
            .filter(|s| s.is_fresh(now, max_age))
            .cloned()
    }

    /// Every node's latest sample that is at most [`MAX_AGE`] old.
    pub fn fresh(&self) -> HashMap<String, Arc<UsageSample>> {
        self.fresh_at(Instant::now(), MAX_AGE)
    }

    /// Every node's latest sample that is at most `max_age` old at `now`.
    pub fn fresh_at(&self, now: Instant, max_age: Duration) -> HashMap<String, Arc<UsageSample>> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, s)| s.is_fresh(now, max_age))
            .map(|(n, s)| (n.clone(), s.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ContainerUsage, PodUsage};

    fn usage(cpu: u64) -> NodeUsage {
        NodeUsage {
            window_ms: 1000,
            cpu_millis: cpu,
            memory_bytes: 1 << 20,
            pods: vec![PodUsage {
                namespace: "default".into(),
                name: "p".into(),
                uid: "u1".into(),
                containers: vec![ContainerUsage {
                    name: "main".into(),
                    cpu_millis: cpu,
                    memory_bytes: 1 << 20,
                }],
            }],
        }
    }

    #[test]
    fn keeps_the_latest_sample_per_node() {
        let r = MetricsRegistry::new();
        assert!(r.latest("n1").is_none());
        r.record("n1", usage(10));
        r.record("n2", usage(20));
        r.record("n1", usage(30));
        assert_eq!(r.latest("n1").map(|s| s.usage.cpu_millis), Some(30));
        assert_eq!(r.latest("n2").map(|s| s.usage.cpu_millis), Some(20));
        assert!(r.latest("n3").is_none());
        let all = r.fresh();
        assert_eq!(all.len(), 2);
        assert_eq!(all["n1"].usage.pods[0].containers[0].cpu_millis, 30);
    }

    #[test]
    fn clones_share_the_registry() {
        let r = MetricsRegistry::new();
        let writer = r.clone();
        writer.record("n1", usage(5));
        assert_eq!(r.latest("n1").map(|s| s.usage.cpu_millis), Some(5));
    }

    #[test]
    fn stale_samples_are_not_served() {
        let r = MetricsRegistry::new();
        let t0 = Instant::now();
        r.record_at("old", usage(1), t0, Timestamp(1_000));
        r.record_at(
            "new",
            usage(2),
            t0 + Duration::from_secs(50),
            Timestamp(1_050),
        );
        let later = t0 + Duration::from_secs(61);
        assert!(r.latest_at("old", later, MAX_AGE).is_none());
        let new = r.latest_at("new", later, MAX_AGE).expect("fresh");
        assert_eq!(new.timestamp, Timestamp(1_050));
        let fresh = r.fresh_at(later, MAX_AGE);
        assert_eq!(fresh.keys().collect::<Vec<_>>(), vec!["new"]);
        // Exactly at the limit is still fresh; a sample "from the future" (clock skew between
        // the recorder and the reader) counts as new.
        assert!(r.latest_at("old", t0 + MAX_AGE, MAX_AGE).is_some());
        assert!(r.latest_at("new", t0, MAX_AGE).is_some());
        // A new sample revives a stale node.
        r.record_at("old", usage(3), later, Timestamp(1_061));
        assert_eq!(
            r.latest_at("old", later, MAX_AGE)
                .map(|s| s.usage.cpu_millis),
            Some(3)
        );
    }
}
