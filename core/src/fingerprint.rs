//! A hash of what a worker acts on in a Pod: everything but its status and the bookkeeping
//! that changes with every write (`resourceVersion`, `managedFields`). Two versions of a pod with
//! the same fingerprint differ only in status, so a worker that reported that status need not be
//! sent the pod again.

use serde_json::Value;
use std::hash::{DefaultHasher, Hash, Hasher};

/// The fingerprint of `pod` less its status (see the module header).
pub fn without_status(pod: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    match pod.as_object() {
        Some(top) => {
            for (k, v) in top {
                match k.as_str() {
                    "status" => {}
                    "metadata" => {
                        k.hash(&mut h);
                        hash_skipping(v, &["resourceVersion", "managedFields"], &mut h);
                    }
                    _ => {
                        k.hash(&mut h);
                        hash_value(v, &mut h);
                    }
                }
            }
        }
        None => hash_value(pod, &mut h),
    }
    h.finish()
}

fn hash_skipping(v: &Value, skip: &[&str], h: &mut DefaultHasher) {
    match v.as_object() {
        Some(map) => {
            6u8.hash(h);
            for (k, v) in map.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
                k.hash(h);
                hash_value(v, h);
            }
        }
        None => hash_value(v, h),
    }
}

fn hash_value(v: &Value, h: &mut DefaultHasher) {
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => (2u8, n.to_string()).hash(h),
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(items) => {
            (4u8, items.len()).hash(h);
            for i in items {
                hash_value(i, h);
            }
        }
        Value::Object(map) => {
            (5u8, map.len()).hash(h);
            for (k, v) in map {
                k.hash(h);
                hash_value(v, h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "metadata": {"name": "p", "uid": "u1", "resourceVersion": "7", "labels": {"a": "1"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": "Pending"}
        })
    }

    #[test]
    fn a_status_change_keeps_the_fingerprint() {
        let mut p = pod();
        p["status"] = json!({"phase": "Running", "podIP": "10.0.0.1"});
        p["metadata"]["resourceVersion"] = json!("8");
        p["metadata"]["managedFields"] = json!([{"manager": "capstan"}]);
        assert_eq!(without_status(&pod()), without_status(&p));
    }

    #[test]
    fn anything_a_worker_acts_on_changes_it() {
        let base = without_status(&pod());
        let edits: [fn(&mut Value); 5] = [
            |p| p["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z"),
            |p| p["metadata"]["labels"]["a"] = json!("2"),
            |p| p["metadata"]["uid"] = json!("u2"),
            |p| p["spec"]["containers"][0]["image"] = json!("nginx"),
            |p| p["spec"]["activeDeadlineSeconds"] = json!(5),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut p = pod();
            edit(&mut p);
            assert_ne!(without_status(&p), base, "edit {i}");
        }
        // Values are not confused across types or positions.
        assert_ne!(
            without_status(&json!({"spec": {"a": "1"}})),
            without_status(&json!({"spec": {"a": 1}}))
        );
        assert_ne!(
            without_status(&json!({"spec": [["a"], []]})),
            without_status(&json!({"spec": [[], ["a"]]}))
        );
    }
}
