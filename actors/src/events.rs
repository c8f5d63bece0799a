//! Recording Kubernetes Events about an object: one Event per (object, type, reason, message),
//! named `<object>.<hash>`, whose `count` and `lastTimestamp` grow when it happens again.

use crate::store::{StoreError, StoreHandle, WriteOp};
use capstan_core::kinds;
use capstan_core::write_rules::Subresource;
use serde_json::{json, Value};
use std::hash::{Hash, Hasher};

/// Longest event message kept (as the API server's limit on events.k8s.io notes); longer ones
/// are cut.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// Where an event comes from: `source.component` and `source.host` (a node's kubelet).
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// `kubelet`, `default-scheduler`, `replicaset-controller`…
    pub component: &'a str,
    /// The node, for events a worker reports.
    pub host: Option<&'a str>,
}

/// Records (or counts once more) an event about `object` from `component`.
pub async fn record_event(
    store: &StoreHandle,
    object: &Value,
    type_: &str,
    reason: &str,
    message: &str,
    component: &str,
) -> Result<(), StoreError> {
    let source = Source {
        component,
        host: None,
    };
    record_events(store, object, type_, reason, message, source, 1).await
}

/// Records an event that happened `count` times (at least once) from `source`.
pub async fn record_events(
    store: &StoreHandle,
    object: &Value,
    type_: &str,
    reason: &str,
    message: &str,
    source: Source<'_>,
    count: u32,
) -> Result<(), StoreError> {
    let count = i64::from(count.max(1));
    let message = truncate(message);
    let component = source.component;
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
        "source": match source.host {
            Some(host) => json!({"component": component, "host": host}),
            None => json!({"component": component}),
        },
        "firstTimestamp": now, "lastTimestamp": now, "count": count,
        "reportingComponent": component,
        "reportingInstance": source.host.unwrap_or_default(),
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
                let before = e.get("count").and_then(Value::as_i64).unwrap_or(1);
                e["count"] = json!(before.saturating_add(count));
                e["lastTimestamp"] = json!(now);
                true
            })
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    }
}

/// `message` cut to [`MAX_MESSAGE_BYTES`] on a character boundary.
fn truncate(message: &str) -> &str {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message;
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    &message[..end]
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("short"), "short");
        let long = "é".repeat(700); // 1,400 bytes
        let cut = truncate(&long);
        assert!(cut.len() <= super::MAX_MESSAGE_BYTES && cut.len() >= 1022);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
