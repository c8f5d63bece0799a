//! The ReplicaSet controller: keeps `replicas` pods matching each ReplicaSet
//! (`capstan_core::controllers::replicaset` decides).

use super::actor::{Controller, EventSpec};
use super::cache::{key_of, Cache};
use capstan_core::api::apps::ReplicaSet;
use capstan_core::controllers::replicaset::{controller_uid, reconcile};
use capstan_core::controllers::Action;
use capstan_core::kinds::{self, ResourceKind, PODS};
use capstan_core::time::Timestamp;
use serde_json::Value;

/// See the module docs.
#[derive(Debug, Default)]
pub struct ReplicaSetController;

fn ns(obj: &Value) -> &str {
    obj.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

impl Controller for ReplicaSetController {
    const NAME: &'static str = "replicaset";

    fn primary(&self) -> &'static str {
        "ReplicaSet"
    }

    fn kinds(&self) -> Vec<&'static ResourceKind> {
        kinds::by_kind("apps/v1", "ReplicaSet")
            .into_iter()
            .chain([PODS])
            .collect()
    }

    fn keys_for(&self, kind: &str, obj: &Value, cache: &Cache) -> Vec<String> {
        match kind {
            "ReplicaSet" => vec![key_of(obj)],
            "Pod" => match controller_uid(obj) {
                Some(uid) => cache
                    .in_namespace("ReplicaSet", ns(obj))
                    .filter(|rs| rs.pointer("/metadata/uid").and_then(Value::as_str) == Some(uid))
                    .map(|rs| key_of(rs))
                    .collect(),
                // An orphan: the ReplicaSets that may adopt it.
                None => cache
                    .in_namespace("ReplicaSet", ns(obj))
                    .filter(|rs| {
                        let labels = obj
                            .pointer("/metadata/labels")
                            .and_then(|l| serde_json::from_value(l.clone()).ok())
                            .unwrap_or_default();
                        rs.pointer("/spec/selector")
                            .and_then(|s| {
                                serde_json::from_value::<capstan_core::selector::LabelSelector>(
                                    s.clone(),
                                )
                                .ok()
                            })
                            .is_some_and(|s| !s.is_empty() && s.matches(&labels))
                    })
                    .map(|rs| key_of(rs))
                    .collect(),
            },
            _ => Vec::new(),
        }
    }

    fn fulfils(&self, kind: &str, obj: &Value, key: &str) -> bool {
        // A pod we created appearing, or one we deleted going (or being marked).
        kind == "Pod" && controller_uid(obj).is_some() && key.starts_with(&format!("{}/", ns(obj)))
    }

    fn event(&self, key: &str, action: &Action, cache: &Cache) -> Option<EventSpec> {
        let (reason, message) = match action {
            Action::Create { object } if object["kind"] == "Pod" => {
                ("SuccessfulCreate", "Created pod: {name}".to_string())
            }
            Action::Delete {
                kind: "Pod", name, ..
            } => ("SuccessfulDelete", format!("Deleted pod: {name}")),
            _ => return None,
        };
        Some(EventSpec {
            involved: (**cache.get("ReplicaSet", key)?).clone(),
            type_: "Normal",
            reason,
            message,
            component: "replicaset-controller",
        })
    }

    fn reconcile(&self, key: &str, cache: &Cache, now: Timestamp) -> Vec<Action> {
        let Some(obj) = cache.get("ReplicaSet", key) else {
            return Vec::new();
        };
        let Ok(rs) = serde_json::from_value::<ReplicaSet>((**obj).clone()) else {
            tracing::warn!(replicaset = key, "not understood; skipped");
            return Vec::new();
        };
        // The pods it controls (through the cache's owner index), then the orphans it may
        // adopt: no copy, and no look at the pods of other ReplicaSets.
        let uid = rs.metadata.uid.as_str();
        let mut pods: Vec<&Value> = cache
            .owned_by(uid)
            .filter(|(kind, _)| *kind == "Pod")
            .filter_map(|(_, key)| cache.get("Pod", key))
            .map(|p| &**p)
            .filter(|p| controller_uid(p) == Some(uid))
            .collect();
        pods.extend(
            cache
                .uncontrolled_pods(&rs.metadata.namespace)
                .map(|p| &**p),
        );
        reconcile(&rs, &pods, now)
    }
}
