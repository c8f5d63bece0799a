//! Node liveness and conditions: which nodes have gone silent (on a virtual clock), and how a
//! Node's conditions change when its worker reports in or stops reporting.

use crate::time::Timestamp;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The conditions a worker reports, with the status each has when it is healthy.
pub const HEALTHY_CONDITIONS: &[(&str, &str, &str, &str)] = &[
    (
        "Ready",
        "True",
        "KubeletReady",
        "capstan worker is posting ready status",
    ),
    (
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "worker has sufficient memory available",
    ),
    (
        "DiskPressure",
        "False",
        "KubeletHasNoDiskPressure",
        "worker has no disk pressure",
    ),
    (
        "PIDPressure",
        "False",
        "KubeletHasSufficientPID",
        "worker has sufficient PID available",
    ),
];

/// How often a worker heartbeats in a cluster of `nodes`: every `base_s` seconds, or less
/// often when the master would otherwise read more than `max_per_s` heartbeats a second (as
/// Nomad's `max_heartbeats_per_second` stretches its heartbeat TTL with the cluster's size).
pub fn heartbeat_interval_s(base_s: u64, nodes: usize, max_per_s: u64) -> u64 {
    base_s.max(1).max((nodes as u64).div_ceil(max_per_s.max(1)))
}

/// The grace period that goes with a heartbeat interval: the configured one (`base_grace_ms`
/// for `base_s`), stretched as much as the interval is.
pub fn grace_ms(base_grace_ms: u64, base_s: u64, interval_s: u64) -> u64 {
    let base_s = base_s.max(1);
    base_grace_ms.saturating_mul(interval_s.max(base_s)) / base_s
}

/// Tracks when each node was last heard from, in milliseconds of any monotonic clock.
#[derive(Debug, Clone)]
pub struct NodeLiveness {
    grace_ms: u64,
    last_seen: BTreeMap<String, u64>,
    silent: BTreeSet<String>,
}

impl NodeLiveness {
    /// Nodes silent for more than `grace_ms` are reported once by [`NodeLiveness::newly_silent`].
    pub fn new(grace_ms: u64) -> NodeLiveness {
        NodeLiveness {
            grace_ms,
            last_seen: BTreeMap::new(),
            silent: BTreeSet::new(),
        }
    }

    /// The node was heard from at `now_ms` (a hello or a heartbeat).
    pub fn heard(&mut self, node: &str, now_ms: u64) {
        self.last_seen.insert(node.to_string(), now_ms);
        self.silent.remove(node);
    }

    /// Forgets a node (deleted).
    pub fn forget(&mut self, node: &str) {
        self.last_seen.remove(node);
        self.silent.remove(node);
    }

    /// Nodes whose silence passed the grace period since the last call; each is reported once
    /// until it is heard from again.
    pub fn newly_silent(&mut self, now_ms: u64) -> Vec<String> {
        let mut out = Vec::new();
        for (node, seen) in &self.last_seen {
            if now_ms.saturating_sub(*seen) > self.grace_ms && !self.silent.contains(node) {
                out.push(node.clone());
            }
        }
        self.silent.extend(out.iter().cloned());
        out
    }

    /// Whether the node is currently considered silent.
    pub fn is_silent(&self, node: &str) -> bool {
        self.silent.contains(node)
    }

    /// Changes the grace period (for nodes not yet reported silent).
    pub fn set_grace(&mut self, grace_ms: u64) {
        self.grace_ms = grace_ms;
    }

    /// The grace period.
    pub fn grace(&self) -> u64 {
        self.grace_ms
    }

    /// How many nodes are tracked.
    pub fn len(&self) -> usize {
        self.last_seen.len()
    }

    /// Whether no node is tracked.
    pub fn is_empty(&self) -> bool {
        self.last_seen.is_empty()
    }

    /// How many tracked nodes are silent.
    pub fn silent_count(&self) -> usize {
        self.silent.len()
    }
}

/// Sets one condition in a Node's `status.conditions`, keeping `lastTransitionTime` unless the
/// status changes; `lastHeartbeatTime` is always `now`.
pub fn set_condition(
    node: &mut Value,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) {
    if !node.get("status").is_some_and(Value::is_object) {
        node["status"] = json!({});
    }
    if !node["status"]
        .get("conditions")
        .is_some_and(Value::is_array)
    {
        node["status"]["conditions"] = json!([]);
    }
    let t = now.to_rfc3339();
    let Some(conds) = node["status"]["conditions"].as_array_mut() else {
        return;
    };
    let existing = conds
        .iter_mut()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind));
    match existing {
        Some(c) => {
            if c.get("status").and_then(Value::as_str) != Some(status) {
                c["lastTransitionTime"] = json!(t);
            }
            c["status"] = json!(status);
            c["reason"] = json!(reason);
            c["message"] = json!(message);
            c["lastHeartbeatTime"] = json!(t);
        }
        None => conds.push(json!({
            "type": kind, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": t, "lastTransitionTime": t,
        })),
    }
}

/// Marks every healthy condition as reported by a live worker.
pub fn mark_healthy(node: &mut Value, now: Timestamp) {
    for (kind, status, reason, message) in HEALTHY_CONDITIONS {
        set_condition(node, kind, status, reason, message, now);
    }
}

/// Marks the node's conditions Unknown (reason NodeStatusUnknown), as Kubernetes' node
/// lifecycle controller does when a kubelet stops posting status. `lastHeartbeatTime` keeps
/// the last time the worker was heard from.
pub fn mark_unknown(node: &mut Value, now: Timestamp) {
    let t = now.to_rfc3339();
    let Some(conds) = node
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for c in conds.iter_mut() {
        if c.get("status").and_then(Value::as_str) != Some("Unknown") {
            c["lastTransitionTime"] = json!(t);
        }
        c["status"] = json!("Unknown");
        c["reason"] = json!("NodeStatusUnknown");
        c["message"] = json!("Kubelet stopped posting node status.");
    }
}

/// The taint a node that stopped reporting gets (its pods are evicted after a delay, see
/// `controllers::taint_eviction`).
pub const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";
/// The taint a NotReady node gets.
pub const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";

/// Whether the node carries the unreachable taint.
pub fn has_unreachable_taint(node: &Value) -> bool {
    node.pointer("/spec/taints")
        .and_then(Value::as_array)
        .is_some_and(|ts| ts.iter().any(|t| t["key"] == UNREACHABLE_TAINT))
}

/// Adds (`on`, with `timeAdded` now) or removes the unreachable:NoExecute taint. Returns
/// whether the node changed.
pub fn set_unreachable_taint(node: &mut Value, on: bool, now: Timestamp) -> bool {
    if has_unreachable_taint(node) == on {
        return false;
    }
    if !node.get("spec").is_some_and(Value::is_object) {
        node["spec"] = json!({});
    }
    if !node["spec"].get("taints").is_some_and(Value::is_array) {
        node["spec"]["taints"] = json!([]);
    }
    if let Some(ts) = node["spec"]["taints"].as_array_mut() {
        if on {
            ts.push(json!({"key": UNREACHABLE_TAINT, "effect": "NoExecute",
                           "timeAdded": now.to_rfc3339()}));
        } else {
            ts.retain(|t| t["key"] != UNREACHABLE_TAINT);
        }
    }
    true
}

/// The status of the node's Ready condition (`True`, `False`, `Unknown`), if any.
pub fn ready_status(node: &Value) -> Option<&str> {
    node.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))?
        .get("status")?
        .as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_slow_down_past_the_master_budget_and_grace_follows() {
        // Up to 1,000 nodes at 1,000 heartbeats/s: every second, grace 4 s.
        assert_eq!(heartbeat_interval_s(1, 0, 1000), 1);
        assert_eq!(heartbeat_interval_s(1, 1000, 1000), 1);
        assert_eq!(heartbeat_interval_s(1, 1001, 1000), 2);
        assert_eq!(heartbeat_interval_s(1, 5000, 1000), 5);
        assert_eq!(
            heartbeat_interval_s(10, 5000, 1000),
            10,
            "never faster than configured"
        );
        assert_eq!(
            heartbeat_interval_s(1, 5000, 0),
            5000,
            "a zero budget is taken as 1"
        );
        assert_eq!(grace_ms(4000, 1, 1), 4000);
        assert_eq!(grace_ms(4000, 1, 5), 20_000);
        assert_eq!(grace_ms(9000, 3, 6), 18_000);
        assert_eq!(grace_ms(4000, 2, 1), 4000, "never shorter than configured");
        // Whatever the size, the master reads at most the budget (give or take one node).
        for nodes in [1usize, 999, 1000, 1001, 4999, 5000, 20_000] {
            let every = heartbeat_interval_s(1, nodes, 1000);
            assert!(
                nodes as u64 / every <= 1000,
                "{nodes} nodes every {every} s"
            );
        }
    }

    #[test]
    fn silence_is_reported_once_per_outage() {
        let mut l = NodeLiveness::new(4000);
        l.heard("a", 0);
        l.heard("b", 0);
        assert!(
            l.newly_silent(4000).is_empty(),
            "exactly at grace is not silent"
        );
        l.heard("b", 3000);
        assert_eq!(l.newly_silent(4001), vec!["a"]);
        assert!(l.newly_silent(5000).is_empty(), "reported once");
        assert_eq!(l.newly_silent(7001), vec!["b"]);
        l.heard("a", 8000);
        assert!(!l.is_silent("a"));
        assert_eq!(l.newly_silent(12_001), vec!["a"]);
        l.forget("a");
        assert!(l.newly_silent(100_000).is_empty());
    }

    #[test]
    fn conditions_transition_with_times() {
        let mut n = json!({"metadata": {"name": "n"}});
        mark_healthy(&mut n, Timestamp(100));
        assert_eq!(ready_status(&n), Some("True"));
        assert_eq!(n["status"]["conditions"].as_array().map(Vec::len), Some(4));
        mark_healthy(&mut n, Timestamp(200));
        let ready = &n["status"]["conditions"][0];
        assert_eq!(
            ready["lastTransitionTime"],
            Timestamp(100).to_rfc3339(),
            "no transition"
        );
        assert_eq!(ready["lastHeartbeatTime"], Timestamp(200).to_rfc3339());
        mark_unknown(&mut n, Timestamp(300));
        let ready = &n["status"]["conditions"][0];
        assert_eq!(ready_status(&n), Some("Unknown"));
        assert_eq!(ready["reason"], "NodeStatusUnknown");
        assert_eq!(ready["lastTransitionTime"], Timestamp(300).to_rfc3339());
        assert_eq!(
            ready["lastHeartbeatTime"],
            Timestamp(200).to_rfc3339(),
            "keeps the last heartbeat"
        );
        mark_healthy(&mut n, Timestamp(400));
        assert_eq!(
            n["status"]["conditions"][0]["lastTransitionTime"],
            Timestamp(400).to_rfc3339()
        );
    }
}
