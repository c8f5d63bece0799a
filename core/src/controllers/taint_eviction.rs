//! Node failure, the eviction decision: pods on a node with a NoExecute taint they do not
//! tolerate are evicted (deleted, so their ReplicaSets replace them elsewhere). The unreachable
//! and not-ready taints that the node lifecycle puts on a silent node count as tolerated for
//! `pod_eviction_seconds` by every pod that does not say otherwise (Kubernetes' admission adds
//! 300 s; Capstan's default is 2); a pod's own toleration with `tolerationSeconds` sets its
//! time, one without tolerates forever. Pods already Terminating on a node that is gone are
//! deleted outright (their worker cannot confirm), as Kubernetes' pod GC does.

use super::Action;
use crate::api::node::Taint;
use crate::api::pod::Toleration;
use crate::node_status::{ready_status, NOT_READY_TAINT, UNREACHABLE_TAINT};
use crate::scheduler::tolerates;
use crate::time::Timestamp;
use serde_json::Value;

/// The node a pod is bound to (empty: none).
pub fn node_of(pod: &Value) -> &str {
    crate::binding::bound_node(pod).unwrap_or_default()
}

/// Whether the node has stopped reporting (Ready=Unknown).
pub fn gone(node: &Value) -> bool {
    ready_status(node) == Some("Unknown")
}

/// The node's NoExecute taints.
pub fn no_execute_taints(node: &Value) -> Vec<Taint> {
    node.pointer("/spec/taints")
        .and_then(|t| serde_json::from_value::<Vec<Taint>>(t.clone()).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.effect == "NoExecute")
        .collect()
}

/// Whether the node's pods need looking at: it is gone or carries a NoExecute taint. Healthy
/// nodes (the common case, changed by every heartbeat) need nothing.
pub fn concerned(node: &Value) -> bool {
    gone(node) || !no_execute_taints(node).is_empty()
}

/// Seconds the pod may stay on a node with `taint`: `None` forever, `Some(0)` not at all.
pub fn tolerated_for(tolerations: &[Toleration], taint: &Taint, default: i64) -> Option<i64> {
    let matching: Vec<&Toleration> = tolerations.iter().filter(|t| tolerates(t, taint)).collect();
    if matching.is_empty() {
        return if taint.key == UNREACHABLE_TAINT || taint.key == NOT_READY_TAINT {
            Some(default)
        } else {
            Some(0)
        };
    }
    // The longest toleration wins; one without seconds is forever.
    if matching.iter().any(|t| t.toleration_seconds.is_none()) {
        return None;
    }
    matching
        .iter()
        .filter_map(|t| t.toleration_seconds)
        .max()
        .map(|s| s.max(0))
}

fn delete(pod: &Value) -> Action {
    let s = |p: &str| {
        pod.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Action::Delete {
        kind: "Pod",
        namespace: s("/metadata/namespace"),
        name: s("/metadata/name"),
        uid: s("/metadata/uid"),
    }
}

/// The evictions due on `node` at `now` among `pods` (those bound to other nodes are
/// ignored), and a requeue for the next one that will be due.
pub fn reconcile<'a>(
    node: &Value,
    pods: impl IntoIterator<Item = &'a Value>,
    pod_eviction_seconds: i64,
    now: Timestamp,
) -> Vec<Action> {
    let name = node
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let gone = gone(node);
    let no_execute = no_execute_taints(node);
    let mut actions = Vec::new();
    let mut next: Option<i64> = None;
    for pod in pods.into_iter().filter(|p| node_of(p) == name) {
        let terminating = pod
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|v| !v.is_null());
        if terminating {
            if gone {
                actions.push(delete(pod));
            }
            continue;
        }
        let tolerations: Vec<Toleration> = pod
            .pointer("/spec/tolerations")
            .and_then(|t| serde_json::from_value(t.clone()).ok())
            .unwrap_or_default();
        // The earliest moment one of the taints stops being tolerated.
        let mut evict_at: Option<i64> = None;
        for t in &no_execute {
            let Some(secs) = tolerated_for(&tolerations, t, pod_eviction_seconds) else {
                continue;
            };
            let added = t
                .time_added
                .as_deref()
                .and_then(Timestamp::parse_rfc3339)
                .unwrap_or(now);
            let at = added.0.saturating_add(secs);
            evict_at = Some(evict_at.map_or(at, |e: i64| e.min(at)));
        }
        match evict_at {
            Some(at) if at <= now.0 => actions.push(delete(pod)),
            Some(at) => next = Some(next.map_or(at, |n| n.min(at))),
            None => {}
        }
    }
    if let Some(at) = next {
        actions.push(Action::RequeueAfter {
            millis: u64::try_from((at - now.0).max(0) * 1000 + 100).unwrap_or(1000),
        });
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_status::{mark_healthy, mark_unknown, set_unreachable_taint};
    use serde_json::json;

    fn taint(key: &str) -> Taint {
        Taint {
            key: key.into(),
            value: None,
            effect: "NoExecute".into(),
            time_added: None,
        }
    }

    fn tol(key: &str, secs: Option<i64>) -> Toleration {
        Toleration {
            key: Some(key.into()),
            operator: Some("Exists".into()),
            value: None,
            effect: Some("NoExecute".into()),
            toleration_seconds: secs,
        }
    }

    #[test]
    fn tolerations_set_the_eviction_time() {
        let u = taint(UNREACHABLE_TAINT);
        assert_eq!(
            tolerated_for(&[], &u, 2),
            Some(2),
            "default for unreachable"
        );
        assert_eq!(
            tolerated_for(&[], &taint("custom"), 2),
            Some(0),
            "others: at once"
        );
        assert_eq!(
            tolerated_for(&[tol(UNREACHABLE_TAINT, Some(60))], &u, 2),
            Some(60)
        );
        assert_eq!(
            tolerated_for(&[tol(UNREACHABLE_TAINT, None)], &u, 2),
            None,
            "forever"
        );
        assert_eq!(
            tolerated_for(
                &[
                    tol(UNREACHABLE_TAINT, Some(5)),
                    tol(UNREACHABLE_TAINT, Some(9))
                ],
                &u,
                2
            ),
            Some(9)
        );
    }

    fn pod(name: &str, node: &str, tolerations: Value) -> Value {
        json!({"metadata": {"name": name, "namespace": "default", "uid": format!("u-{name}")},
               "spec": {"nodeName": node, "tolerations": tolerations}})
    }

    fn deleted(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Delete { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect()
    }

    fn requeue(actions: &[Action]) -> Option<u64> {
        actions.iter().find_map(|a| match a {
            Action::RequeueAfter { millis } => Some(*millis),
            _ => None,
        })
    }

    #[test]
    fn a_silent_node_loses_its_pods_after_the_eviction_delay() {
        let t0 = Timestamp(1_000_000);
        let mut node = json!({"metadata": {"name": "n1"}, "status": {"conditions": [
            {"type": "Ready", "status": "True"}]}});
        mark_healthy(&mut node, t0);
        assert!(!concerned(&node), "a healthy node needs nothing");
        mark_unknown(&mut node, t0);
        assert!(set_unreachable_taint(&mut node, true, t0));
        assert!(concerned(&node));
        let pods = [
            pod("plain", "n1", json!([])),
            pod(
                "patient",
                "n1",
                json!([{"key": UNREACHABLE_TAINT, "operator": "Exists",
                                         "effect": "NoExecute", "tolerationSeconds": 30}]),
            ),
            pod("forever", "n1", json!([{"operator": "Exists"}])),
            pod("elsewhere", "n2", json!([])),
        ];
        // Before the delay: nothing, and a requeue for when the first is due (2 s + margin).
        let a = reconcile(&node, &pods, 2, Timestamp(t0.0 + 1));
        assert!(deleted(&a).is_empty());
        assert_eq!(requeue(&a), Some(1100));
        // At 2 s the plain pod goes; the patient one is due at 30 s.
        let a = reconcile(&node, &pods, 2, Timestamp(t0.0 + 2));
        assert_eq!(deleted(&a), ["plain"]);
        assert_eq!(requeue(&a), Some(28_100));
        let a = reconcile(&node, &pods[1..], 2, Timestamp(t0.0 + 30));
        assert_eq!(deleted(&a), ["patient"]);
        assert_eq!(requeue(&a), None, "the tolerating-forever pod stays");
        // The node returns: the taint is lifted, nothing more is evicted.
        mark_healthy(&mut node, Timestamp(t0.0 + 31));
        assert!(set_unreachable_taint(
            &mut node,
            false,
            Timestamp(t0.0 + 31)
        ));
        assert!(!set_unreachable_taint(
            &mut node,
            false,
            Timestamp(t0.0 + 31)
        ));
        assert!(!concerned(&node));
        assert!(reconcile(&node, &pods, 2, Timestamp(t0.0 + 40)).is_empty());
    }

    #[test]
    fn terminating_pods_of_a_gone_node_are_deleted_outright() {
        let t0 = Timestamp(5_000);
        let mut node = json!({"metadata": {"name": "n1"}, "status": {"conditions": [
            {"type": "Ready", "status": "True"}]}});
        let mut p = pod("leaving", "n1", json!([]));
        p["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        // On a live node the worker confirms the deletion itself.
        assert!(reconcile(&node, [&p], 2, t0).is_empty());
        mark_unknown(&mut node, t0);
        assert_eq!(deleted(&reconcile(&node, [&p], 2, t0)), ["leaving"]);
    }

    #[test]
    fn other_no_execute_taints_evict_at_once_unless_tolerated() {
        let t0 = Timestamp(9_000);
        let node = json!({"metadata": {"name": "n1"},
            "spec": {"taints": [{"key": "maintenance", "effect": "NoExecute"},
                                {"key": "soft", "effect": "NoSchedule"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let pods = [
            pod("plain", "n1", json!([])),
            pod(
                "ok",
                "n1",
                json!([{"key": "maintenance", "operator": "Exists"}]),
            ),
        ];
        assert_eq!(deleted(&reconcile(&node, &pods, 2, t0)), ["plain"]);
    }
}
