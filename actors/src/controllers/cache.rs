//! An informer cache: the latest copy of every object of the watched kinds, by kind and
//! `namespace/name`, fed from a list and then watch events.

use crate::store::{EventType, WatchEvent};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// `namespace/name` of an object.
pub fn key_of(obj: &Value) -> String {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
    format!("{}/{}", s("/metadata/namespace"), s("/metadata/name"))
}

/// The cache.
#[derive(Debug, Default)]
pub struct Cache {
    by_kind: HashMap<&'static str, BTreeMap<String, Arc<Value>>>,
}

impl Cache {
    /// Replaces everything of `kind` with `objects`.
    pub fn replace(&mut self, kind: &'static str, objects: Vec<Value>) {
        let map = objects
            .into_iter()
            .map(|o| (key_of(&o), Arc::new(o)))
            .collect();
        self.by_kind.insert(kind, map);
    }

    /// Applies one watch event; returns the object's previous copy.
    pub fn apply(&mut self, e: &WatchEvent) -> Option<Arc<Value>> {
        let map = self.by_kind.entry(e.resource.kind).or_default();
        let key = key_of(&e.object);
        if e.event_type == EventType::Deleted {
            map.remove(&key)
        } else {
            map.insert(key, e.object.clone())
        }
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
