//! The Deployment controller: rolls each Deployment's template out over ReplicaSets
//! (`capstan_core::controllers::deployment` decides: RollingUpdate or Recreate, revisions,
//! history, status and conditions).

use super::actor::{Controller, EventSpec};
use super::cache::{key_of, Cache};
use capstan_core::api::apps::{Deployment, ReplicaSet};
use capstan_core::api::pod::Pod;
use capstan_core::controllers::deployment::reconcile;
use capstan_core::controllers::replicaset::controller_uid;
use capstan_core::controllers::Action;
use capstan_core::kinds::{self, ResourceKind, PODS};
use capstan_core::time::Timestamp;
use serde_json::Value;

/// See the module docs.
#[derive(Debug, Default)]
pub struct DeploymentController;

fn ns(obj: &Value) -> &str {
    obj.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn uid(obj: &Value) -> &str {
    obj.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The Deployments (keys) in the object's namespace whose uid is `owner`.
fn owner_keys(cache: &Cache, kind: &str, namespace: &str, owner: &str) -> Vec<String> {
    cache
        .in_namespace(kind, namespace)
        .filter(|o| uid(o) == owner)
        .map(|o| key_of(o))
        .collect()
}

impl Controller for DeploymentController {
    const NAME: &'static str = "deployment";

    fn primary(&self) -> &'static str {
        "Deployment"
    }

    fn kinds(&self) -> Vec<&'static ResourceKind> {
        kinds::by_kind("apps/v1", "Deployment")
            .into_iter()
            .chain(kinds::by_kind("apps/v1", "ReplicaSet"))
            .chain([PODS])
            .collect()
    }

    fn keys_for(&self, kind: &str, obj: &Value, cache: &Cache) -> Vec<String> {
        match kind {
            "Deployment" => vec![key_of(obj)],
            "ReplicaSet" => match controller_uid(obj) {
                Some(owner) => owner_keys(cache, "Deployment", ns(obj), owner),
                // An orphan ReplicaSet: every Deployment of the namespace may adopt it.
                None => cache
                    .in_namespace("Deployment", ns(obj))
                    .map(|d| key_of(d))
                    .collect(),
            },
            // Pods matter for Recreate (waiting for old pods to go): pod → RS → Deployment.
            "Pod" => controller_uid(obj)
                .map(|rs_uid| {
                    cache
                        .in_namespace("ReplicaSet", ns(obj))
                        .filter(|rs| uid(rs) == rs_uid)
                        .filter_map(|rs| controller_uid(rs))
                        .flat_map(|d| owner_keys(cache, "Deployment", ns(obj), d))
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn fulfils(&self, kind: &str, _: &Value, _: &str) -> bool {
        kind == "ReplicaSet"
    }

    fn event(&self, key: &str, action: &Action, cache: &Cache) -> Option<EventSpec> {
        let replicas = |o: &Value| {
            o.pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(0)
        };
        let message = match action {
            Action::Create { object } if object["kind"] == "ReplicaSet" => format!(
                "Scaled up replica set {} from 0 to {}",
                object
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("{name}"),
                replicas(object)
            ),
            Action::Update { object } if object["kind"] == "ReplicaSet" => {
                let old = cache.get("ReplicaSet", &key_of(object))?;
                let (from, to) = (replicas(old), replicas(object));
                if from == to {
                    return None;
                }
                let dir = if to > from { "up" } else { "down" };
                format!(
                    "Scaled {dir} replica set {} from {from} to {to}",
                    object
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                )
            }
            _ => return None,
        };
        Some(EventSpec {
            involved: (**cache.get("Deployment", key)?).clone(),
            type_: "Normal",
            reason: "ScalingReplicaSet",
            message,
            component: "deployment-controller",
        })
    }

    fn reconcile(&self, key: &str, cache: &Cache, now: Timestamp) -> Vec<Action> {
        let Some(obj) = cache.get("Deployment", key) else {
            return Vec::new();
        };
        let Ok(d) = serde_json::from_value::<Deployment>((**obj).clone()) else {
            tracing::warn!(deployment = key, "not understood; skipped");
            return Vec::new();
        };
        let namespace = d.metadata.namespace.clone();
        let rss: Vec<ReplicaSet> = cache
            .in_namespace("ReplicaSet", &namespace)
            .filter_map(|r| serde_json::from_value((**r).clone()).ok())
            .collect();
        // Pods are only needed by Recreate; the others skip the conversion.
        let recreate = d
            .spec
            .as_ref()
            .and_then(|s| s.strategy.as_ref())
            .and_then(|s| s.type_.as_deref())
            == Some("Recreate");
        let pods: Vec<Pod> = if recreate {
            cache
                .in_namespace("Pod", &namespace)
                .filter_map(|p| serde_json::from_value((**p).clone()).ok())
                .collect()
        } else {
            Vec::new()
        };
        reconcile(&d, &rss, &pods, now)
    }
}
