//! Scheduler tests: table-driven per filter and per score plugin, the Unschedulable message,
//! and engine behaviour (sampling, ties, assumptions). The submodules hold the bigger suites:
//!
//! - `filter_plugins`: one table per filter plugin, checked plugin by plugin and through
//!   [`Scheduler::schedule`].
//! - `score_plugins`: one table per score plugin (normalised scores and the winner).
//! - `from_objects`: [`PodInfo::from_pod`] and [`NodeInfo::from_node`] from Kubernetes JSON.
//! - `engine`: the Unschedulable message through the engine, sampling, assumptions, the
//!   snapshot's bookkeeping, determinism.
//! - `oracle`: an independent re-implementation of the hard constraints, for the two below.
//! - `property`: random clusters and pod streams with deletions, checked against the oracle.
//! - `simulation`: 1,000 nodes, 20,000 pods, failures and joins on a virtual clock.

use super::*;
use crate::api::node::Taint;
use crate::api::pod::Toleration;
use crate::selector::LabelSelector;
use std::collections::BTreeMap;

mod engine;
mod filter_plugins;
mod from_objects;
mod oracle;
mod property;
mod score_plugins;
mod simulation;

/// The hostname label every node carries.
const HOSTNAME: &str = "kubernetes.io/hostname";
/// The zone label.
const ZONE: &str = "topology.kubernetes.io/zone";

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(crate) fn node(name: &str, cpu: i64, mem_mi: i64) -> NodeInfo {
    NodeInfo {
        name: name.into(),
        labels: labels(&[("kubernetes.io/hostname", name)]),
        ready: true,
        allocatable: Resources {
            milli_cpu: cpu,
            memory: mem_mi << 20,
            pods: 110,
        },
        ..NodeInfo::default()
    }
}

pub(crate) fn pod(uid: &str, cpu: i64, mem_mi: i64) -> PodInfo {
    PodInfo {
        uid: uid.into(),
        namespace: "default".into(),
        name: uid.into(),
        requests: Resources {
            milli_cpu: cpu,
            memory: mem_mi << 20,
            pods: 1,
        },
        ..PodInfo::default()
    }
}

fn taint(key: &str, value: &str, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        value: Some(value.into()),
        effect: effect.into(),
        time_added: None,
    }
}

/// A toleration; empty strings are unset fields.
fn toleration(key: &str, op: &str, value: &str, effect: &str) -> Toleration {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Toleration {
        key: opt(key),
        operator: opt(op),
        value: opt(value),
        effect: opt(effect),
        toleration_seconds: None,
    }
}

/// A standard node (4 CPUs, 8 GiB) in `zone`.
fn zoned(name: &str, zone: &str) -> NodeInfo {
    with_labels(node(name, 4000, 8192), &[(ZONE, zone)])
}

/// `n` with more labels.
fn with_labels(mut n: NodeInfo, pairs: &[(&str, &str)]) -> NodeInfo {
    n.labels.extend(labels(pairs));
    n
}

/// `p` with labels.
fn labelled(mut p: PodInfo, pairs: &[(&str, &str)]) -> PodInfo {
    p.labels.extend(labels(pairs));
    p
}

/// A selector on exact labels.
fn selector(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: labels(pairs),
        ..LabelSelector::default()
    }
}

/// A required (weight 0) or preferred inter-pod term over `default` pods matching `pairs`.
fn term(pairs: &[(&str, &str)], topology_key: &str, weight: i32) -> AffinityTerm {
    AffinityTerm {
        selector: selector(pairs),
        namespaces: Some(vec!["default".into()]),
        topology_key: topology_key.into(),
        weight,
    }
}

/// A spread constraint over pods matching `pairs`.
fn spread(pairs: &[(&str, &str)], key: &str, max_skew: i64, hard: bool) -> SpreadConstraint {
    SpreadConstraint {
        max_skew,
        topology_key: key.into(),
        when: if hard {
            model::WhenUnsatisfiable::DoNotSchedule
        } else {
            model::WhenUnsatisfiable::ScheduleAnyway
        },
        selector: selector(pairs),
    }
}

/// An engine over `nodes` with `existing` pods (node, pod) counted.
fn engine_with(config: Config, nodes: &[NodeInfo], existing: &[(&str, PodInfo)]) -> Scheduler {
    let mut s = Scheduler::new(config);
    for n in nodes {
        s.snapshot_mut().upsert_node(n.clone());
    }
    for (n, p) in existing {
        s.snapshot_mut().add_pod(n, p);
    }
    s
}

#[test]
fn unschedulable_message_is_kubernetes_word_for_word() {
    let mut u = Unschedulable {
        nodes: 5,
        ..Unschedulable::default()
    };
    u.record(&[Reason::Insufficient("cpu")]);
    u.record(&[Reason::Insufficient("cpu"), Reason::Insufficient("memory")]);
    u.record(&[Reason::Insufficient("cpu")]);
    for _ in 0..2 {
        u.record(&[Reason::UntoleratedTaint {
            key: "dedicated".into(),
            value: "gpu".into(),
        }]);
    }
    assert_eq!(
        u.to_string(),
        "0/5 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu."
    );
    assert_eq!(
        Unschedulable::default().to_string(),
        "no nodes available to schedule pods"
    );
}

#[test]
fn tolerations_follow_kubernetes_rules() {
    let t = taint("dedicated", "gpu", "NoSchedule");
    let tol = |key: Option<&str>, op: Option<&str>, value: Option<&str>, effect: Option<&str>| {
        Toleration {
            key: key.map(Into::into),
            operator: op.map(Into::into),
            value: value.map(Into::into),
            effect: effect.map(Into::into),
            toleration_seconds: None,
        }
    };
    let cases = [
        (
            "equal match",
            tol(Some("dedicated"), None, Some("gpu"), None),
            true,
        ),
        (
            "equal other value",
            tol(Some("dedicated"), Some("Equal"), Some("cpu"), None),
            false,
        ),
        (
            "exists key",
            tol(Some("dedicated"), Some("Exists"), None, None),
            true,
        ),
        (
            "exists everything",
            tol(None, Some("Exists"), None, None),
            true,
        ),
        (
            "other effect",
            tol(Some("dedicated"), Some("Exists"), None, Some("NoExecute")),
            false,
        ),
        (
            "same effect",
            tol(Some("dedicated"), Some("Exists"), None, Some("NoSchedule")),
            true,
        ),
        (
            "other key",
            tol(Some("zone"), Some("Exists"), None, None),
            false,
        ),
    ];
    for (name, t2, want) in cases {
        assert_eq!(tolerates(&t2, &t), want, "{name}");
    }
}

/// A seeded generator for the random tests (the scheduler's own SplitMix64, so no new
/// dependency): reproducible from its seed.
struct Gen(rng::SplitMix64);

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen(rng::SplitMix64::new(seed))
    }

    /// A value in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.0.below(100) < percent
    }

    /// One of `items` (not empty).
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}
