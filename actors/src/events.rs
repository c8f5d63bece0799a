//! Recording Kubernetes Events about an object: one Event per (object, type, reason, message),
//! named `<object>.<hash>`, whose `count` and `lastTimestamp` grow when it happens again.

use crate::store::{StoreError, StoreHandle, WriteOp};
use capstan_core::kinds;
use capstan_core::write_rules::Subresource;
use serde_json::{json, Value};
use std::hash::{Hash, Hasher};

/// Records (or counts once more) an event about `object` from `component`.
pub async fn record_event(
    store: &StoreHandle,
    object: &Value,
    type_: &str,
    reason: &str,
    message: &str,
    component: &str,
) -> Result<(), StoreError> {
    let Some(events) = kinds::by_path("", "v1", "events") else {
        return Ok(());
    };
    let s = |p: &str| {
        object
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (namespace, name, uid) = (
        s("/metadata/namespace"),
        s("/metadata/name"),
        s("/metadata/uid"),
    );
    let namespace = if namespace.is_empty() {
        "default".to_string()
    } else {
        namespace
    };
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&uid, type_, reason, message, component).hash(&mut h);
    let event_name = format!("{name}.{:016x}", h.finish());
    let now = crate::store::now().to_rfc3339();
    let event = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": event_name, "namespace": namespace},
        "involvedObject": {
            "kind": object.get("kind").cloned().unwrap_or(json!("Pod")),
            "apiVersion": object.get("apiVersion").cloned().unwrap_or(json!("v1")),
            "namespace": namespace, "name": name, "uid": uid,
            "resourceVersion": s("/metadata/resourceVersion"),
        },
        "reason": reason, "message": message, "type": type_,
        "source": {"component": component},
        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        "reportingComponent": component,
    });
    match store
        .write(WriteOp::Create {
            resource: events,
            object: event,
        })
        .await
    {
        Ok(_) => Ok(()),
        Err(StoreError::AlreadyExists { .. }) => store
            .modify(events, &namespace, &event_name, Subresource::Main, |e| {
                let count = e.get("count").and_then(Value::as_i64).unwrap_or(1);
                e["count"] = json!(count + 1);
                e["lastTimestamp"] = json!(now);
                true
            })
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    }
}
