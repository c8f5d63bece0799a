//! The garbage collector: an object whose owners (every `ownerReferences` entry) are all gone is
//! deleted — background propagation, as Kubernetes' default. Before deleting, the owner's
//! absence is confirmed in the store itself (the cache may not have seen a new owner yet).
//! Foreground deletion: an owner being deleted with the `foregroundDeletion` finalizer counts as
//! gone for its dependents, and once none is left the collector lifts the finalizer so the owner
//! goes too. Dependents that own others (a Deployment's ReplicaSets) are deleted in the
//! foreground as well, so a Deployment goes only after its pods. (Orphan deletion is done by
//! the API server, which removes the ownerReferences.)

use super::actor::Controller;
use super::cache::{key_of, Cache};
use crate::store::Db;
use capstan_core::controllers::Action;
use capstan_core::kinds::{self, ResourceKind, PODS};
use capstan_core::time::Timestamp;
use capstan_core::write_rules::add_finalizer;
use serde_json::Value;
use std::sync::Arc;

/// The kinds whose objects may have owners here.
const DEPENDENTS: [&str; 2] = ["Pod", "ReplicaSet"];

/// The kinds whose objects may own others here.
const OWNERS: [&str; 2] = ["ReplicaSet", "Deployment"];

/// The finalizer of foreground deletion.
pub const FOREGROUND: &str = "foregroundDeletion";

fn foreground_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
        && obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|x| x == FOREGROUND))
}

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
        // An owner went or is going: look at its dependents (found through the cache's index
        // of owner uids). Other changes of an owner (its status, its scale) do not concern them.
        let uid = obj
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let gone = || {
            cache
                .get(kind, &key_of(obj))
                .is_none_or(|now| now.pointer("/metadata/uid").and_then(Value::as_str) != Some(uid))
        };
        let deleting = obj
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|v| !v.is_null());
        if OWNERS.contains(&kind) && (deleting || gone()) {
            keys.extend(cache.owned_by(uid).map(|(k, key)| format!("{k}:{key}")));
        }
        // An owner in a foreground deletion looks at itself; so do the owners of a dependent
        // that changed or went.
        if OWNERS.contains(&kind) && foreground_deleting(obj) {
            keys.push(format!("{kind}:{}", key_of(obj)));
        }
        for (_, owner_kind, name, owner_uid) in owners(obj) {
            if let Some(o) = cache.get(&owner_kind, &format!("{ns}/{name}")) {
                if o.pointer("/metadata/uid").and_then(Value::as_str) == Some(owner_uid.as_str())
                    && foreground_deleting(o)
                {
                    keys.push(format!("{owner_kind}:{ns}/{name}"));
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
        if OWNERS.contains(&kind) && foreground_deleting(obj) {
            let uid = obj
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let ns = ns_name.split_once('/').map_or("", |(n, _)| n);
            let left = DEPENDENTS.iter().any(|k| {
                cache
                    .in_namespace(k, ns)
                    .any(|d| owners(d).iter().any(|o| o.3 == uid))
            });
            if !left {
                let mut lifted = (**obj).clone();
                if let Some(f) = lifted
                    .pointer_mut("/metadata/finalizers")
                    .and_then(Value::as_array_mut)
                {
                    f.retain(|x| x != FOREGROUND);
                }
                tracing::info!(
                    kind,
                    object = ns_name,
                    "dependents gone: finishing foreground deletion"
                );
                return vec![Action::Update { object: lifted }];
            }
        }
        let refs = owners(obj);
        if refs.is_empty() {
            return Vec::new();
        }
        let (ns, name) = ns_name.split_once('/').unwrap_or(("", ns_name));
        let mut owner_alive = false;
        let mut owner_in_foreground = false;
        for (api, k, n, uid) in &refs {
            let Some(resource) = kinds::by_kind(api, k) else {
                owner_alive = true; // an owner kind we do not know: never collect
                continue;
            };
            let owner_ns = if resource.namespaced { ns } else { "" };
            match self.db.get(resource, owner_ns, n) {
                Ok(Some(o)) if o.pointer("/metadata/uid").and_then(Value::as_str) == Some(uid) => {
                    if foreground_deleting(&o) {
                        owner_in_foreground = true;
                    } else {
                        owner_alive = true;
                    }
                }
                Ok(_) => {}
                Err(_) => owner_alive = true,
            }
        }
        let being_deleted = obj
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|v| !v.is_null());
        if owner_alive || being_deleted {
            return Vec::new();
        }
        let Some(kind) = DEPENDENTS.iter().find(|k| **k == kind) else {
            return Vec::new();
        };
        // Foreground propagates down the chain (as Kubernetes' collector does): a dependent
        // that owns others, of an owner deleted in the foreground, is itself deleted in the
        // foreground — the finalizer first, then the delete marks it.
        if owner_in_foreground && OWNERS.contains(kind) {
            let mut marked = (**obj).clone();
            if add_finalizer(&mut marked, FOREGROUND) {
                tracing::info!(
                    kind,
                    object = ns_name,
                    "owner deleted in the foreground: so is this"
                );
                return vec![Action::Update { object: marked }];
            }
        }
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
