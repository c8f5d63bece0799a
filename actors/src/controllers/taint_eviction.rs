//! Node failure, the controller side: pods on a node with a NoExecute taint they do not tolerate
//! are evicted (deleted, so their ReplicaSets replace them elsewhere). The unreachable and
//! not-ready taints that the node lifecycle puts on a silent node count as tolerated for
//! `pod_eviction_seconds` by every pod that does not say otherwise (Kubernetes' admission adds
//! 300 s; Capstan's default is 2); a pod's own toleration with `tolerationSeconds` sets its
//! time, one without tolerates forever. Pods already Terminating on a node that is gone are
//! deleted outright (their worker cannot confirm), as Kubernetes' pod GC does.

use super::actor::{Controller, EventSpec};
use super::cache::{key_of, Cache};
use capstan_core::api::node::Taint;
use capstan_core::api::pod::Toleration;
use capstan_core::controllers::Action;
use capstan_core::kinds::{ResourceKind, NODES, PODS};
use capstan_core::node_status::ready_status;
use capstan_core::scheduler::tolerates;
use capstan_core::time::Timestamp;
use serde_json::Value;

/// The taint a silent node gets.
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// The taint a NotReady node gets.
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";

/// See the module docs.
#[derive(Debug, Clone)]
pub struct TaintEviction {
    /// How long pods tolerate the unreachable/not-ready taints by default.
    pub pod_eviction_seconds: i64,
}

fn node_of(pod: &Value) -> &str {
    pod.pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Whether the node has stopped reporting (Ready=Unknown).
fn gone(node: &Value) -> bool {
    ready_status(node) == Some("Unknown")
}

/// The node's NoExecute taints.
fn no_execute_taints(node: &Value) -> Vec<Taint> {
    node.pointer("/spec/taints")
        .and_then(|t| serde_json::from_value::<Vec<Taint>>(t.clone()).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.effect == "NoExecute")
        .collect()
}

/// Seconds the pod may stay on a node with `taint`: `None` forever, `Some(0)` not at all.
fn tolerated_for(tolerations: &[Toleration], taint: &Taint, default: i64) -> Option<i64> {
    let matching: Vec<&Toleration> = tolerations.iter().filter(|t| tolerates(t, taint)).collect();
    if matching.is_empty() {
        return if taint.key == UNREACHABLE || taint.key == NOT_READY {
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

impl Controller for TaintEviction {
    const NAME: &'static str = "taint-eviction";

    fn primary(&self) -> &'static str {
        "Node"
    }

    fn kinds(&self) -> Vec<&'static ResourceKind> {
        vec![NODES, PODS]
    }

    fn keys_for(&self, kind: &str, obj: &Value, cache: &Cache) -> Vec<String> {
        // Only a node with a NoExecute taint, or one that is gone, has anything to evict or
        // clean up: heartbeats change every node every second, and looking at the pods of a
        // healthy one would be wasted work on that hot path.
        let concerned = |node: &Value| gone(node) || !no_execute_taints(node).is_empty();
        match kind {
            "Node" if concerned(obj) => vec![key_of(obj)],
            "Pod" if !node_of(obj).is_empty() => {
                let key = format!("/{}", node_of(obj));
                match cache.get("Node", &key) {
                    Some(node) if concerned(node) => vec![key],
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    fn fulfils(&self, kind: &str, _: &Value, _: &str) -> bool {
        kind == "Pod"
    }

    fn event(&self, _: &str, action: &Action, cache: &Cache) -> Option<EventSpec> {
        let Action::Delete {
            kind: "Pod",
            namespace,
            name,
            ..
        } = action
        else {
            return None;
        };
        Some(EventSpec {
            involved: (**cache.get("Pod", &format!("{namespace}/{name}"))?).clone(),
            type_: "Normal",
            reason: "TaintManagerEviction",
            message: format!("Marking for deletion Pod {namespace}/{name}"),
            component: "taint-eviction-controller",
        })
    }

    fn reconcile(&self, key: &str, cache: &Cache, now: Timestamp) -> Vec<Action> {
        let Some(node) = cache.get("Node", key) else {
            return Vec::new();
        };
        let name = key.trim_start_matches('/');
        let gone = gone(node);
        let no_execute = no_execute_taints(node);
        let mut actions = Vec::new();
        let mut next: Option<i64> = None;
        for pod in cache.all("Pod").filter(|p| node_of(p) == name) {
            let terminating = pod
                .pointer("/metadata/deletionTimestamp")
                .is_some_and(|v| !v.is_null());
            let delete = || Action::Delete {
                kind: "Pod",
                namespace: pod
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                name: pod
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                uid: pod
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            };
            if terminating {
                if gone {
                    actions.push(delete());
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
                let Some(secs) = tolerated_for(&tolerations, t, self.pod_eviction_seconds) else {
                    continue;
                };
                let added = t
                    .time_added
                    .as_deref()
                    .and_then(Timestamp::parse_rfc3339)
                    .unwrap_or(now);
                let at = added.0 + secs;
                evict_at = Some(evict_at.map_or(at, |e: i64| e.min(at)));
            }
            match evict_at {
                Some(at) if at <= now.0 => {
                    tracing::info!(node = name, pod = %key_of(pod), "TaintManagerEviction: evicting");
                    actions.push(delete());
                }
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let u = taint(UNREACHABLE);
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
            tolerated_for(&[tol(UNREACHABLE, Some(60))], &u, 2),
            Some(60)
        );
        assert_eq!(
            tolerated_for(&[tol(UNREACHABLE, None)], &u, 2),
            None,
            "forever"
        );
        assert_eq!(
            tolerated_for(
                &[tol(UNREACHABLE, Some(5)), tol(UNREACHABLE, Some(9))],
                &u,
                2
            ),
            Some(9)
        );
    }
}
