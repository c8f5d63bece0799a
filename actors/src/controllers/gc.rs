//! The garbage collector: an object whose owners (every `ownerReferences` entry) are all gone is
//! deleted — background propagation, as Kubernetes' default. Before deleting, the owner's
//! absence is confirmed in the store itself (the cache may not have seen a new owner yet).

use super::actor::Controller;
use super::cache::{key_of, Cache};
use crate::store::Db;
use capstan_core::controllers::Action;
use capstan_core::kinds::{self, ResourceKind, PODS};
use capstan_core::time::Timestamp;
use serde_json::Value;
use std::sync::Arc;

/// The kinds whose objects may have owners here.
const DEPENDENTS: [&str; 2] = ["Pod", "ReplicaSet"];

/// See the module docs.
pub struct GarbageCollector {
    db: Arc<Db>,
}

impl GarbageCollector {
    /// A collector that confirms absences in `db`.
    pub fn new(db: Arc<Db>) -> GarbageCollector {
        GarbageCollector { db }
    }
}

fn owners(obj: &Value) -> Vec<(String, String, String, String)> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .map(|r| {
                    let s = |k: &str| {
                        r.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    (s("apiVersion"), s("kind"), s("name"), s("uid"))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn split(key: &str) -> Option<(&str, &str)> {
    key.split_once(':')
}

impl Controller for GarbageCollector {
    const NAME: &'static str = "garbage-collector";

    fn primary(&self) -> &'static str {
        "Pod"
    }

    fn kinds(&self) -> Vec<&'static ResourceKind> {
        [PODS]
            .into_iter()
            .chain(kinds::by_kind("apps/v1", "ReplicaSet"))
            .chain(kinds::by_kind("apps/v1", "Deployment"))
            .collect()
    }

    fn initial_keys(&self, cache: &Cache) -> Vec<String> {
        DEPENDENTS
            .iter()
            .flat_map(|k| {
                cache
                    .all(k)
                    .filter(|o| !owners(o).is_empty())
                    .map(move |o| format!("{k}:{}", key_of(o)))
            })
            .collect()
    }

    fn keys_for(&self, kind: &str, obj: &Value, cache: &Cache) -> Vec<String> {
        let mut keys = Vec::new();
        if DEPENDENTS.contains(&kind) && !owners(obj).is_empty() {
            keys.push(format!("{kind}:{}", key_of(obj)));
        }
        // An owner changed (or went): look at its dependents.
        let uid = obj
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for k in DEPENDENTS {
            for d in cache.in_namespace(k, ns) {
                if owners(d).iter().any(|o| o.3 == uid) {
                    keys.push(format!("{k}:{}", key_of(d)));
                }
            }
        }
        keys
    }

    fn fulfils(&self, _: &str, _: &Value, _: &str) -> bool {
        true
    }

    fn reconcile(&self, key: &str, cache: &Cache, _: Timestamp) -> Vec<Action> {
        let Some((kind, ns_name)) = split(key) else {
            return Vec::new();
        };
        let Some(obj) = cache.get(kind, ns_name) else {
            return Vec::new();
        };
        let refs = owners(obj);
        if refs.is_empty() {
            return Vec::new();
        }
        let (ns, name) = ns_name.split_once('/').unwrap_or(("", ns_name));
        let owner_alive = refs.iter().any(|(api, k, n, uid)| {
            let Some(resource) = kinds::by_kind(api, k) else {
                return true; // an owner kind we do not know: never collect
            };
            let owner_ns = if resource.namespaced { ns } else { "" };
            match self.db.get(resource, owner_ns, n) {
                Ok(Some(o)) => o.pointer("/metadata/uid").and_then(Value::as_str) == Some(uid),
                Ok(None) => false,
                Err(_) => true,
            }
        });
        if owner_alive {
            return Vec::new();
        }
        let Some(kind) = DEPENDENTS.iter().find(|k| **k == kind) else {
            return Vec::new();
        };
        tracing::info!(kind, object = ns_name, "owner gone: deleting");
        vec![Action::Delete {
            kind,
            namespace: ns.to_string(),
            name: name.to_string(),
            uid: obj
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        }]
    }
}
