//! Binding a pod to a node, as the `pods/binding` subresource does in Kubernetes: `spec.nodeName`
//! is set once (never moved) and the PodScheduled condition becomes True. And the other side:
//! the PodScheduled=False/Unschedulable condition with the scheduler's message.

use crate::time::Timestamp;
use serde_json::{json, Value};

/// Why a pod cannot be bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    /// It already has a node.
    #[error("pod {pod} is already assigned to node {node:?}")]
    AlreadyAssigned {
        /// The pod.
        pod: String,
        /// Its node.
        node: String,
    },
    /// It is being deleted.
    #[error("pod {0} is being deleted, cannot be assigned to a host")]
    Terminating(String),
    /// The binding names no node.
    #[error("target.name: Required value: a binding must name a node")]
    NoTarget,
}

/// The node a pod is bound to, if any (`spec.nodeName`, not empty).
pub fn bound_node(pod: &Value) -> Option<&str> {
    pod.pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
}

/// The pod with `spec.nodeName = node` and PodScheduled=True; an error if it already has a node
/// or is being deleted.
pub fn bind(pod: &Value, node: &str, now: Timestamp) -> Result<Value, BindError> {
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if node.is_empty() {
        return Err(BindError::NoTarget);
    }
    if let Some(current) = bound_node(pod) {
        return Err(BindError::AlreadyAssigned {
            pod: name,
            node: current.to_string(),
        });
    }
    if pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return Err(BindError::Terminating(name));
    }
    let mut out = pod.clone();
    out["spec"]["nodeName"] = json!(node);
    set_condition(
        &mut out,
        json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null,
               "lastTransitionTime": now.to_rfc3339()}),
    );
    Ok(out)
}

/// The pod with PodScheduled=False, reason Unschedulable and `message`; `None` when the pod
/// already says exactly that (nothing to write).
pub fn mark_unschedulable(pod: &Value, message: &str, now: Timestamp) -> Option<Value> {
    let current = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "PodScheduled"));
    if current.is_some_and(|c| {
        c["status"] == "False" && c["reason"] == "Unschedulable" && c["message"] == message
    }) {
        return None;
    }
    let mut out = pod.clone();
    if !out.get("status").is_some_and(Value::is_object) {
        out["status"] = json!({"phase": "Pending"});
    }
    set_condition(
        &mut out,
        json!({"type": "PodScheduled", "status": "False", "lastProbeTime": null,
               "lastTransitionTime": now.to_rfc3339(), "reason": "Unschedulable",
               "message": message}),
    );
    Some(out)
}

/// Replaces (or adds) the condition of the same type; keeps lastTransitionTime when the
/// status does not change.
fn set_condition(pod: &mut Value, mut cond: Value) {
    if !pod.get("status").is_some_and(Value::is_object) {
        pod["status"] = json!({});
    }
    let conditions = pod["status"]
        .as_object_mut()
        .map(|s| s.entry("conditions").or_insert_with(|| json!([])));
    let Some(Value::Array(list)) = conditions else {
        pod["status"]["conditions"] = json!([cond]);
        return;
    };
    match list.iter_mut().find(|c| c["type"] == cond["type"]) {
        Some(existing) => {
            if existing["status"] == cond["status"] {
                cond["lastTransitionTime"] = existing["lastTransitionTime"].clone();
            }
            *existing = cond;
        }
        None => list.push(cond),
    }
}

/// The node a `Binding` object names (`target.name`), checked: kind Node (or unset), a name.
pub fn binding_target(binding: &Value) -> Result<String, BindError> {
    let target = binding.get("target").ok_or(BindError::NoTarget)?;
    if target
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| !k.is_empty() && k != "Node")
    {
        return Err(BindError::NoTarget);
    }
    target
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .ok_or(BindError::NoTarget)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Value {
        json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": []},
               "status": {"phase": "Pending"}})
    }

    #[test]
    fn bind_sets_node_and_scheduled_condition_once() {
        let now = Timestamp(1_700_000_000);
        let bound = bind(&pending(), "n1", now).expect("binds");
        assert_eq!(bound["spec"]["nodeName"], "n1");
        let c = &bound["status"]["conditions"][0];
        assert_eq!(
            (c["type"].as_str(), c["status"].as_str()),
            (Some("PodScheduled"), Some("True"))
        );
        assert_eq!(
            bind(&bound, "n2", now).unwrap_err().to_string(),
            "pod p is already assigned to node \"n1\""
        );
        let mut dying = pending();
        dying["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
        assert!(matches!(
            bind(&dying, "n1", now),
            Err(BindError::Terminating(_))
        ));
        assert_eq!(bind(&pending(), "", now), Err(BindError::NoTarget));
    }

    #[test]
    fn unschedulable_condition_is_written_only_when_it_changes() {
        let now = Timestamp(1_700_000_000);
        let marked =
            mark_unschedulable(&pending(), "0/1 nodes are available: 1 Too many pods.", now)
                .expect("changes");
        let c = &marked["status"]["conditions"][0];
        assert_eq!(c["reason"], "Unschedulable");
        assert_eq!(c["status"], "False");
        assert!(
            mark_unschedulable(&marked, "0/1 nodes are available: 1 Too many pods.", now).is_none()
        );
        let later = Timestamp(1_700_000_100);
        let again = mark_unschedulable(&marked, "0/2 nodes are available: 2 Too many pods.", later)
            .expect("new message");
        // Same status: the transition time stays.
        assert_eq!(
            again["status"]["conditions"][0]["lastTransitionTime"],
            c["lastTransitionTime"]
        );
        // Binding afterwards flips it to True with a new transition time.
        let bound = bind(&again, "n1", later).expect("binds");
        let c = &bound["status"]["conditions"][0];
        assert_eq!(c["status"], "True");
        assert!(c.get("reason").is_none());
        assert_eq!(c["lastTransitionTime"], later.to_rfc3339());
    }

    #[test]
    fn binding_targets_are_checked() {
        assert_eq!(
            binding_target(&json!({"target": {"kind": "Node", "name": "n1"}})),
            Ok("n1".to_string())
        );
        assert!(binding_target(&json!({"target": {"kind": "Pod", "name": "x"}})).is_err());
        assert!(binding_target(&json!({"target": {}})).is_err());
        assert!(binding_target(&json!({})).is_err());
    }
}
