//! An informer cache: the latest copy of every object of the watched kinds, by kind and
//! `namespace/name`, fed from a list and then watch events, with two indexes: objects by the
//! uids of their owners, Pods by their node (so finding an owner's dependents or a node's pods
//! does not scan every pod).

use crate::store::{EventType, WatchEvent};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// `namespace/name` of an object.
pub fn key_of(obj: &Value) -> String {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
    format!("{}/{}", s("/metadata/namespace"), s("/metadata/name"))
}

/// The uids in an object's `ownerReferences`.
fn owner_uids(obj: &Value) -> impl Iterator<Item = &str> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("uid").and_then(Value::as_str))
}

/// The cache.
#[derive(Debug, Default)]
pub struct Cache {
    by_kind: HashMap<&'static str, BTreeMap<String, Arc<Value>>>,
    /// Owner uid → the (kind, `namespace/name`) of the objects that name it as an owner.
    by_owner: HashMap<String, BTreeSet<(&'static str, String)>>,
    /// Node name → the `namespace/name` of the Pods bound to it.
    by_node: HashMap<String, BTreeSet<String>>,
    /// The `namespace/name` of the Pods that have no controller (that a ReplicaSet may adopt).
    uncontrolled_pods: BTreeSet<String>,
}

/// Whether `obj` has an ownerReference with `controller: true`.
fn has_controller(obj: &Value) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        })
}

/// The node a Pod is bound to, if any.
fn pod_node<'a>(kind: &str, obj: &'a Value) -> Option<&'a str> {
    (kind == "Pod")
        .then(|| capstan_core::binding::bound_node(obj))
        .flatten()
}

impl Cache {
    /// Replaces everything of `kind` with `objects`.
    pub fn replace(&mut self, kind: &'static str, objects: Vec<Value>) {
        for (key, old) in self.by_kind.remove(kind).unwrap_or_default() {
            self.unindex(kind, &key, &old);
        }
        let map: BTreeMap<String, Arc<Value>> = objects
            .into_iter()
            .map(|o| (key_of(&o), Arc::new(o)))
            .collect();
        for (key, obj) in &map {
            self.index(kind, key, obj);
        }
        self.by_kind.insert(kind, map);
    }

    /// Applies one watch event; returns the object's previous copy.
    pub fn apply(&mut self, e: &WatchEvent) -> Option<Arc<Value>> {
        let kind = e.resource.kind;
        let map = self.by_kind.entry(kind).or_default();
        let key = key_of(&e.object);
        let old = if e.event_type == EventType::Deleted {
            map.remove(&key)
        } else {
            map.insert(key.clone(), e.object.clone())
        };
        if let Some(old) = &old {
            self.unindex(kind, &key, old);
        }
        if e.event_type != EventType::Deleted {
            self.index(kind, &key, &e.object);
        }
        old
    }

    fn index(&mut self, kind: &'static str, key: &str, obj: &Value) {
        if kind == "Pod" && !has_controller(obj) {
            self.uncontrolled_pods.insert(key.to_string());
        }
        if let Some(node) = pod_node(kind, obj) {
            self.by_node
                .entry(node.to_string())
                .or_default()
                .insert(key.to_string());
        }
        for uid in owner_uids(obj) {
            self.by_owner
                .entry(uid.to_string())
                .or_default()
                .insert((kind, key.to_string()));
        }
    }

    fn unindex(&mut self, kind: &'static str, key: &str, obj: &Value) {
        if kind == "Pod" {
            self.uncontrolled_pods.remove(key);
        }
        if let Some(node) = pod_node(kind, obj) {
            if let Some(set) = self.by_node.get_mut(node) {
                set.remove(key);
                if set.is_empty() {
                    self.by_node.remove(node);
                }
            }
        }
        for uid in owner_uids(obj) {
            if let Some(set) = self.by_owner.get_mut(uid) {
                set.remove(&(kind, key.to_string()));
                if set.is_empty() {
                    self.by_owner.remove(uid);
                }
            }
        }
    }

    /// The Pods of `namespace` that have no controller.
    pub fn uncontrolled_pods<'a>(
        &'a self,
        namespace: &str,
    ) -> impl Iterator<Item = &'a Arc<Value>> + 'a {
        let prefix = format!("{namespace}/");
        let pods = self.by_kind.get("Pod");
        self.uncontrolled_pods
            .range(prefix.clone()..)
            .take_while(move |k| k.starts_with(&prefix))
            .filter_map(move |k| pods?.get(k))
    }

    /// The Pods bound to `node`.
    pub fn pods_on<'a>(&'a self, node: &str) -> impl Iterator<Item = &'a Arc<Value>> + 'a {
        let pods = self.by_kind.get("Pod");
        self.by_node
            .get(node)
            .into_iter()
            .flatten()
            .filter_map(move |key| pods?.get(key))
    }

    /// The (kind, `namespace/name`) of every object that names `uid` as an owner.
    pub fn owned_by(&self, uid: &str) -> impl Iterator<Item = &(&'static str, String)> {
        self.by_owner.get(uid).into_iter().flatten()
    }

    /// One object.
    pub fn get(&self, kind: &str, key: &str) -> Option<&Arc<Value>> {
        self.by_kind.get(kind)?.get(key)
    }

    /// Every object of `kind` in `namespace`.
    pub fn in_namespace<'a>(
        &'a self,
        kind: &str,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a Arc<Value>> + 'a {
        let prefix = format!("{namespace}/");
        self.by_kind
            .get(kind)
            .into_iter()
            .flat_map(move |m| {
                m.range(prefix.clone()..).take_while({
                    let prefix = prefix.clone();
                    move |(k, _)| k.starts_with(&prefix)
                })
            })
            .map(|(_, v)| v)
    }

    /// Every object of `kind`.
    pub fn all<'a>(&'a self, kind: &str) -> impl Iterator<Item = &'a Arc<Value>> + 'a {
        self.by_kind.get(kind).into_iter().flat_map(|m| m.values())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capstan_core::kinds::PODS;
    use serde_json::json;

    fn event(t: EventType, obj: Value) -> WatchEvent {
        WatchEvent {
            revision: 1,
            event_type: t,
            resource: PODS,
            namespace: "default".into(),
            object: Arc::new(obj),
        }
    }

    fn pod(name: &str, owner: Option<&str>) -> Value {
        let refs: Vec<Value> = owner
            .map(|u| json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": u}))
            .into_iter()
            .collect();
        json!({"metadata": {"namespace": "default", "name": name, "ownerReferences": refs}})
    }

    fn bound(name: &str, node: &str) -> Value {
        json!({"metadata": {"namespace": "default", "name": name}, "spec": {"nodeName": node}})
    }

    fn on(c: &Cache, node: &str) -> Vec<String> {
        c.pods_on(node).map(|p| key_of(p)).collect()
    }

    #[test]
    fn the_node_index_follows_binding_deletion_and_relists() {
        let mut c = Cache::default();
        c.replace("Pod", vec![bound("a", "n1"), pod("b", None)]);
        assert_eq!(on(&c, "n1"), ["default/a"]);
        // Bound by the scheduler.
        c.apply(&event(EventType::Modified, bound("b", "n2")));
        assert_eq!(on(&c, "n2"), ["default/b"]);
        c.apply(&event(EventType::Added, bound("c", "n1")));
        assert_eq!(on(&c, "n1"), ["default/a", "default/c"]);
        c.apply(&event(EventType::Deleted, bound("a", "n1")));
        assert_eq!(on(&c, "n1"), ["default/c"]);
        c.replace("Pod", vec![bound("d", "n3")]);
        assert!(on(&c, "n1").is_empty() && on(&c, "n2").is_empty());
        assert_eq!(on(&c, "n3"), ["default/d"]);
    }

    #[test]
    fn pods_without_a_controller_are_indexed_by_namespace() {
        let controlled = |name: &str| {
            json!({"metadata": {"namespace": "default", "name": name, "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u1", "controller": true}]}})
        };
        let other_ns = json!({"metadata": {"namespace": "other", "name": "x"}});
        let mut c = Cache::default();
        c.replace("Pod", vec![controlled("a"), pod("b", Some("u2")), other_ns]);
        let keys = |c: &Cache, ns: &str| -> Vec<String> {
            c.uncontrolled_pods(ns).map(|p| key_of(p)).collect()
        };
        // An ownerReference that is not a controller leaves the pod adoptable.
        assert_eq!(keys(&c, "default"), ["default/b"]);
        assert_eq!(keys(&c, "other"), ["other/x"]);
        // Adopted: no longer uncontrolled; released: uncontrolled again.
        c.apply(&event(EventType::Modified, controlled("b")));
        assert!(keys(&c, "default").is_empty());
        c.apply(&event(EventType::Modified, pod("a", None)));
        assert_eq!(keys(&c, "default"), ["default/a"]);
        c.apply(&event(EventType::Deleted, pod("a", None)));
        assert!(keys(&c, "default").is_empty());
    }

    fn owned(c: &Cache, uid: &str) -> Vec<String> {
        c.owned_by(uid).map(|(_, k)| k.clone()).collect()
    }

    #[test]
    fn the_owner_index_follows_adds_changes_deletes_and_relists() {
        let mut c = Cache::default();
        c.replace("Pod", vec![pod("a", Some("u1")), pod("b", None)]);
        assert_eq!(owned(&c, "u1"), ["default/a"]);
        c.apply(&event(EventType::Added, pod("c", Some("u1"))));
        assert_eq!(owned(&c, "u1"), ["default/a", "default/c"]);
        // Released: its ownerReference removed.
        c.apply(&event(EventType::Modified, pod("a", None)));
        assert_eq!(owned(&c, "u1"), ["default/c"]);
        // Adopted by another owner.
        c.apply(&event(EventType::Modified, pod("b", Some("u2"))));
        assert_eq!(owned(&c, "u2"), ["default/b"]);
        c.apply(&event(EventType::Deleted, pod("c", Some("u1"))));
        assert!(owned(&c, "u1").is_empty());
        assert!(!c.by_owner.contains_key("u1"), "empty sets are dropped");
        // A relist replaces the index of that kind.
        c.replace("Pod", vec![pod("d", Some("u3"))]);
        assert!(owned(&c, "u2").is_empty());
        assert_eq!(owned(&c, "u3"), ["default/d"]);
    }
}
