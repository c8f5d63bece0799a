//! What the store does to an object when it is written: the fields the server owns (uid,
//! creationTimestamp, generation, resourceVersion), the split between the main resource and its
//! `status` subresource, and when a write changes nothing. Pure functions over JSON.

use crate::time::Timestamp;
use serde_json::{Map, Value};

/// Which part of an object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    /// The main resource: everything but `status` (for kinds that have a status subresource).
    Main,
    /// The `status` subresource: `status` only.
    Status,
    /// A pod's `binding` subresource: the object as given, spec (`nodeName`) and status (the
    /// PodScheduled condition) alike; built by [`crate::binding::bind`], never from a client's
    /// object.
    Binding,
}

/// The object's metadata map, created if missing; `None` only when `obj` is not an object.
fn meta_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let entry = obj
        .as_object_mut()?
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut()
}

/// Server-set fields on create: uid, creationTimestamp, generation 1; resourceVersion and
/// deletion fields cleared (the store sets the resourceVersion).
pub fn on_create(obj: &mut Value, uid: &str, now: Timestamp) {
    let Some(m) = meta_mut(obj) else { return };
    m.insert("uid".into(), Value::String(uid.to_string()));
    m.insert("creationTimestamp".into(), Value::String(now.to_rfc3339()));
    m.insert("generation".into(), Value::from(1));
    m.remove("resourceVersion");
    m.remove("deletionTimestamp");
    m.remove("deletionGracePeriodSeconds");
    m.remove("selfLink");
}

/// What the API server resets on create, as Kubernetes' create strategies do: a new Pod is
/// `Pending` with its QoS class, controllers' objects start with an empty status, a Namespace
/// starts `Active`. Nodes keep the status their worker registers with.
pub fn prepare_for_create(kind: &str, obj: &mut Value) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    match kind {
        "Pod" => {
            let qos = qos_class(root.get("spec"));
            root.insert(
                "status".into(),
                serde_json::json!({"phase": "Pending", "qosClass": qos}),
            );
        }
        "Deployment" | "ReplicaSet" => {
            root.insert("status".into(), serde_json::json!({}));
        }
        "Service" => {
            root.insert("status".into(), serde_json::json!({"loadBalancer": {}}));
        }
        "Namespace" => {
            root.insert("status".into(), serde_json::json!({"phase": "Active"}));
        }
        _ => {}
    }
}

/// Kubernetes' QoS class of a pod spec: `Guaranteed` when every container has cpu and memory
/// limits equal to its requests, `BestEffort` when none sets any, else `Burstable`.
pub fn qos_class(spec: Option<&Value>) -> &'static str {
    let containers = ["containers", "initContainers"]
        .iter()
        .flat_map(|k| {
            spec.and_then(|s| s.get(*k))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .collect::<Vec<_>>();
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in &containers {
        let requests = c.pointer("/resources/requests").and_then(Value::as_object);
        let limits = c.pointer("/resources/limits").and_then(Value::as_object);
        if requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let l = limits.and_then(|l| l.get(res));
            let r = requests.and_then(|r| r.get(res)).or(l);
            let same = match (l, r) {
                (Some(l), Some(r)) => quantities_equal(l, r),
                _ => false,
            };
            if !same {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

fn quantities_equal(a: &Value, b: &Value) -> bool {
    let parse = |v: &Value| -> Option<i64> {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        crate::quantity::parse_quantity(&text)
            .ok()
            .map(|q| q.milli_value())
    };
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The spec-like part of an object: every top-level field but metadata, status, apiVersion
/// and kind. A change here bumps `metadata.generation`.
fn spec_part(obj: &Value) -> Map<String, Value> {
    obj.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind")
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Builds the object to store for an update of `old` by `new`:
/// - `Main`: `status` is kept from `old` when `has_status`; uid, creationTimestamp, deletion
///   fields and generation are kept; generation bumps when the spec part changed.
/// - `Status`: everything is kept from `old` except `status`.
/// - `Binding`: `new` as it is (metadata identity and generation still kept from `old`).
pub fn on_update(old: &Value, new: &Value, sub: Subresource, has_status: bool) -> Value {
    let mut out = match sub {
        Subresource::Status => {
            let mut o = old.clone();
            match new.get("status") {
                Some(s) => o["status"] = s.clone(),
                None => {
                    if let Some(m) = o.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            o
        }
        Subresource::Binding => new.clone(),
        Subresource::Main => {
            let mut o = new.clone();
            if has_status {
                match old.get("status") {
                    Some(s) => o["status"] = s.clone(),
                    None => {
                        if let Some(m) = o.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            o
        }
    };
    let old_meta = old
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let bump = sub == Subresource::Main && spec_part(old) != spec_part(&out);
    let Some(m) = meta_mut(&mut out) else {
        return out;
    };
    for k in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        match old_meta.get(k) {
            Some(v) => m.insert(k.into(), v.clone()),
            None => m.remove(k),
        };
    }
    for k in ["name", "namespace"] {
        if let Some(v) = old_meta.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    if bump {
        let g = old_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        m.insert("generation".into(), Value::from(g + 1));
    }
    m.remove("selfLink");
    out
}

/// Whether storing `new` over `old` would change nothing a client can see (resourceVersion and
/// managedFields aside). Such writes are not committed and keep their resourceVersion.
pub fn is_noop(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
            m.remove("managedFields");
        }
        v
    };
    strip(old) == strip(new)
}

/// Marks an object as being deleted at `now` (it has finalizers, so it stays until they are
/// removed). Returns false if it was already marked.
pub fn mark_deleting(obj: &mut Value, now: Timestamp, grace_seconds: i64) -> bool {
    let Some(m) = meta_mut(obj) else { return false };
    if m.get("deletionTimestamp").is_some_and(|v| !v.is_null()) {
        return false;
    }
    m.insert("deletionTimestamp".into(), Value::String(now.to_rfc3339()));
    m.insert(
        "deletionGracePeriodSeconds".into(),
        Value::from(grace_seconds),
    );
    let g = m.get("generation").and_then(Value::as_i64).unwrap_or(0);
    m.insert("generation".into(), Value::from(g + 1));
    true
}

/// Whether the object carries finalizers.
pub fn has_finalizers(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

/// Adds `finalizer` to the object's finalizers; false when it was already there (or the object
/// has no metadata).
pub fn add_finalizer(obj: &mut Value, finalizer: &str) -> bool {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return false;
    };
    let list = meta
        .entry("finalizers")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !list.is_array() {
        *list = Value::Array(Vec::new());
    }
    match list.as_array_mut() {
        Some(f) if !f.iter().any(|x| x == finalizer) => {
            f.push(Value::String(finalizer.to_string()));
            true
        }
        _ => false,
    }
}

/// Whether the object is marked for deletion.
pub fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    #[test]
    fn finalizers_are_added_once() {
        let mut o = serde_json::json!({"metadata": {"name": "a"}});
        assert!(super::add_finalizer(&mut o, "foregroundDeletion"));
        assert!(!super::add_finalizer(&mut o, "foregroundDeletion"));
        assert!(super::add_finalizer(&mut o, "orphan"));
        assert_eq!(
            o["metadata"]["finalizers"],
            serde_json::json!(["foregroundDeletion", "orphan"])
        );
        assert!(
            !super::add_finalizer(&mut serde_json::json!({}), "x"),
            "no metadata"
        );
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn create_sets_server_fields() {
        let mut o =
            json!({"metadata": {"name": "a", "resourceVersion": "9", "uid": "fake"}, "spec": {}});
        on_create(&mut o, "u-1", Timestamp(0));
        assert_eq!(o["metadata"]["uid"], "u-1");
        assert_eq!(o["metadata"]["generation"], 1);
        assert_eq!(o["metadata"]["creationTimestamp"], "1970-01-01T00:00:00Z");
        assert!(o["metadata"].get("resourceVersion").is_none());
    }

    #[test]
    fn generation_bumps_on_spec_changes_only() {
        let old = json!({"metadata": {"name": "a", "uid": "u", "generation": 1, "labels": {"x": "1"}},
                         "spec": {"replicas": 1}, "status": {"replicas": 0}});
        let relabel = json!({"metadata": {"name": "a", "labels": {"x": "2"}}, "spec": {"replicas": 1},
                             "status": {"replicas": 99}});
        let out = on_update(&old, &relabel, Subresource::Main, true);
        assert_eq!(out["metadata"]["generation"], 1, "labels are not spec");
        assert_eq!(
            out["status"]["replicas"], 0,
            "main update keeps the old status"
        );
        assert_eq!(out["metadata"]["uid"], "u", "uid is immutable");
        let rescale = json!({"metadata": {"name": "a"}, "spec": {"replicas": 3}});
        let out = on_update(&old, &rescale, Subresource::Main, true);
        assert_eq!(out["metadata"]["generation"], 2);
        let status = json!({"metadata": {"name": "a", "labels": {}}, "spec": {"replicas": 7}, "status": {"replicas": 1}});
        let out = on_update(&old, &status, Subresource::Status, true);
        assert_eq!(out["spec"]["replicas"], 1, "status update keeps the spec");
        assert_eq!(
            out["metadata"]["labels"]["x"], "1",
            "status update keeps metadata"
        );
        assert_eq!(out["status"]["replicas"], 1);
        assert_eq!(out["metadata"]["generation"], 1);
    }

    #[test]
    fn qos_classes() {
        let cases = [
            (
                "no resources",
                json!({"containers": [{"name": "a"}]}),
                "BestEffort",
            ),
            (
                "limits only",
                json!({"containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}),
                "Guaranteed",
            ),
            (
                "equal",
                json!({"containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m", "memory": "1Gi"}}}]}),
                "Guaranteed",
            ),
            (
                "requests below limits",
                json!({"containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}}}]}),
                "Burstable",
            ),
            (
                "one of two",
                json!({"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}, {"name": "b"}]}),
                "Burstable",
            ),
        ];
        for (name, spec, want) in cases {
            assert_eq!(qos_class(Some(&spec)), want, "{name}");
        }
        let mut pod =
            json!({"spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Running"}});
        prepare_for_create("Pod", &mut pod);
        assert_eq!(
            pod["status"],
            json!({"phase": "Pending", "qosClass": "BestEffort"})
        );
    }

    #[test]
    fn noop_ignores_resource_version() {
        let a = json!({"metadata": {"name": "a", "resourceVersion": "1"}, "spec": {"x": 1}});
        let b = json!({"metadata": {"name": "a", "resourceVersion": "5"}, "spec": {"x": 1}});
        assert!(is_noop(&a, &b));
        let c = json!({"metadata": {"name": "a"}, "spec": {"x": 2}});
        assert!(!is_noop(&a, &c));
    }

    #[test]
    fn deletion_marks_once() {
        let mut o = json!({"metadata": {"name": "a", "finalizers": ["x"], "generation": 3}});
        assert!(has_finalizers(&o));
        assert!(mark_deleting(&mut o, Timestamp(10), 0));
        assert!(is_deleting(&o));
        assert_eq!(o["metadata"]["generation"], 4);
        assert!(!mark_deleting(&mut o, Timestamp(20), 0));
        assert_eq!(o["metadata"]["deletionTimestamp"], "1970-01-01T00:00:10Z");
    }
}
