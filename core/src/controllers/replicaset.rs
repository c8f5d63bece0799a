//! The ReplicaSet controller's decision, pure: given a ReplicaSet and the pods of its namespace,
//! what to create, adopt, release and delete, and the status to write — as
//! kube-controller-manager's replicaset controller computes it.
//!
//! - Pods it controls are those with a controller ownerReference to its uid; active ones are
//!   neither terminal (Succeeded/Failed) nor being deleted.
//! - Orphans (no controller) whose labels match the selector are adopted; controlled pods
//!   whose labels stopped matching are released.
//! - Too few: create the difference from the template (generateName `<rs>-`, controller
//!   ownerReference). Too many: delete the difference, preferring pods not yet on a node, then
//!   not ready, then the newest.
//! - Status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (ready for at
//!   least minReadySeconds), observedGeneration.
//!
//! Expectations (not creating twice from a stale cache) are the caller's: it must not act on a
//! ReplicaSet again until the effects of its last actions have been observed.

use super::Action;
use crate::api::apps::ReplicaSet;
use crate::time::Timestamp;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Most pods created or deleted in one reconcile (Kubernetes' burstReplicas).
pub const BURST: usize = 500;

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or_default()
}

fn labels(v: &Value) -> BTreeMap<String, String> {
    v.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The uid of the pod's controller, if it has one.
pub fn controller_uid(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))?
        .get("uid")?
        .as_str()
}

fn terminal_or_deleting(pod: &Value) -> bool {
    matches!(s(pod, "/status/phase"), "Succeeded" | "Failed")
        || pod
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|v| !v.is_null())
}

/// Whether the pod's Ready condition is True, and since when.
fn ready_since(pod: &Value) -> Option<Option<Timestamp>> {
    let c = pod
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready" && c["status"] == "True")?;
    Some(
        c.get("lastTransitionTime")
            .and_then(Value::as_str)
            .and_then(Timestamp::parse_rfc3339),
    )
}

/// The controller ownerReference a ReplicaSet puts on its pods.
fn owner_ref(rs: &ReplicaSet) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs.metadata.name,
           "uid": rs.metadata.uid, "controller": true, "blockOwnerDeletion": true})
}

/// A new pod from the ReplicaSet's template.
pub fn pod_from_template(rs: &ReplicaSet) -> Value {
    let template = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    let mut meta = template.get("metadata").cloned().unwrap_or(json!({}));
    if !meta.is_object() {
        meta = json!({});
    }
    meta["generateName"] = json!(format!("{}-", rs.metadata.name));
    meta["namespace"] = json!(rs.metadata.namespace);
    meta["ownerReferences"] = json!([owner_ref(rs)]);
    if let Some(m) = meta.as_object_mut() {
        m.remove("name");
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
           "spec": template.get("spec").cloned().unwrap_or(json!({}))})
}

/// The actions that converge `rs` given `pods`: the pods of its namespace it controls and the
/// orphans (others are ignored, so a caller may pass just those two groups).
pub fn reconcile(rs: &ReplicaSet, pods: &[&Value], now: Timestamp) -> Vec<Action> {
    let mut actions = Vec::new();
    let uid = rs.metadata.uid.as_str();
    let spec = rs.spec.clone().unwrap_or_default();
    let selector = spec.selector.clone().unwrap_or_default();
    let deleting = rs.metadata.deletion_timestamp.is_some();
    let mut owned: Vec<&Value> = Vec::new();
    for &p in pods {
        match controller_uid(p) {
            Some(c) if c == uid => {
                if !selector.is_empty() && !selector.matches(&labels(p)) {
                    // Released: drop our ownerReference.
                    let mut released = p.clone();
                    if let Some(refs) = released
                        .pointer_mut("/metadata/ownerReferences")
                        .and_then(Value::as_array_mut)
                    {
                        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
                    }
                    actions.push(Action::Update { object: released });
                } else {
                    owned.push(p);
                }
            }
            Some(_) => {}
            None => {
                let adoptable = !deleting
                    && !selector.is_empty()
                    && !terminal_or_deleting(p)
                    && selector.matches(&labels(p));
                if adoptable {
                    let mut adopted = p.clone();
                    let refs = adopted["metadata"]
                        .as_object_mut()
                        .map(|m| m.entry("ownerReferences").or_insert_with(|| json!([])));
                    if let Some(Value::Array(refs)) = refs {
                        refs.push(owner_ref(rs));
                    }
                    actions.push(Action::Update { object: adopted });
                    owned.push(p);
                }
            }
        }
    }
    let active: Vec<&Value> = owned
        .iter()
        .copied()
        .filter(|p| !terminal_or_deleting(p))
        .collect();
    let want = usize::try_from(spec.replicas.unwrap_or(1).max(0)).unwrap_or(0);
    if !deleting {
        if active.len() < want {
            for _ in 0..(want - active.len()).min(BURST) {
                actions.push(Action::Create {
                    object: pod_from_template(rs),
                });
            }
        } else if active.len() > want {
            let mut ranked = active.clone();
            // Unscheduled first, then not ready, then the newest.
            ranked.sort_by_key(|p| {
                (
                    !s(p, "/spec/nodeName").is_empty(),
                    ready_since(p).is_some(),
                    std::cmp::Reverse(s(p, "/metadata/creationTimestamp").to_string()),
                )
            });
            for p in ranked.iter().take((active.len() - want).min(BURST)) {
                actions.push(Action::Delete {
                    kind: "Pod",
                    namespace: s(p, "/metadata/namespace").to_string(),
                    name: s(p, "/metadata/name").to_string(),
                    uid: s(p, "/metadata/uid").to_string(),
                });
            }
        }
    }
    // Status.
    let template_labels = spec
        .template
        .as_ref()
        .map(|t| t.metadata.labels.clone())
        .unwrap_or_default();
    let min_ready = i64::from(spec.min_ready_seconds.unwrap_or(0).max(0));
    let count = |f: &dyn Fn(&Value) -> bool| active.iter().filter(|p| f(p)).count() as i64;
    let fully_labeled = count(&|p| {
        let l = labels(p);
        template_labels.iter().all(|(k, v)| l.get(k) == Some(v))
    });
    let ready = count(&|p| ready_since(p).is_some());
    let available = count(&|p| match ready_since(p) {
        None => false,
        Some(_) if min_ready == 0 => true,
        Some(since) => since.is_some_and(|t| t.seconds_until(now) >= min_ready),
    });
    let status = json!({
        "replicas": active.len(),
        "fullyLabeledReplicas": fully_labeled,
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": rs.metadata.generation.unwrap_or(0),
    });
    let current = rs
        .status
        .as_ref()
        .and_then(|st| serde_json::to_value(st).ok())
        .unwrap_or(json!({}));
    let differs = [
        "replicas",
        "fullyLabeledReplicas",
        "readyReplicas",
        "availableReplicas",
        "observedGeneration",
    ]
    .iter()
    .any(|k| {
        current.get(*k).and_then(Value::as_i64).unwrap_or(0) != status[*k].as_i64().unwrap_or(0)
    });
    if differs {
        let mut obj = serde_json::to_value(rs).unwrap_or(Value::Null);
        obj["status"] = status;
        actions.push(Action::UpdateStatus { object: obj });
    }
    // Pods ready but not yet available: look again when they will be.
    if min_ready > 0 && ready > available {
        actions.push(Action::RequeueAfter {
            millis: u64::try_from(min_ready).unwrap_or(1) * 1000,
        });
    }
    actions
}
