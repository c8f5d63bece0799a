//! Node failure, the controller side: runs `core::controllers::taint_eviction` (see there for
//! the rules) for nodes that are gone or carry a NoExecute taint, and records
//! TaintManagerEviction events.

use super::actor::{Controller, EventSpec};
use super::cache::{key_of, Cache};
use capstan_core::controllers::taint_eviction::{concerned, node_of, reconcile};
use capstan_core::controllers::Action;
use capstan_core::kinds::{ResourceKind, NODES, PODS};
use capstan_core::time::Timestamp;
use serde_json::Value;

/// See the module docs.
#[derive(Debug, Clone)]
pub struct TaintEviction {
    /// How long pods tolerate the unreachable/not-ready taints by default.
    pub pod_eviction_seconds: i64,
}

impl Controller for TaintEviction {
    const NAME: &'static str = "taint-eviction";

    fn primary(&self) -> &'static str {
        "Node"
    }

    fn kinds(&self) -> Vec<&'static ResourceKind> {
        vec![NODES, PODS]
    }

    fn keys_for(&self, kind: &str, obj: &Value, cache: &Cache) -> Vec<String> {
        // Only a node with a NoExecute taint, or one that is gone, has anything to evict or
        // clean up: heartbeats change every node every second, and looking at the pods of a
        // healthy one would be wasted work on that hot path.
        match kind {
            "Node" if concerned(obj) => vec![key_of(obj)],
            "Pod" if !node_of(obj).is_empty() => {
                let key = format!("/{}", node_of(obj));
                match cache.get("Node", &key) {
                    Some(node) if concerned(node) => vec![key],
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    fn fulfils(&self, kind: &str, _: &Value, _: &str) -> bool {
        kind == "Pod"
    }

    fn event(&self, _: &str, action: &Action, cache: &Cache) -> Option<EventSpec> {
        let Action::Delete {
            kind: "Pod",
            namespace,
            name,
            ..
        } = action
        else {
            return None;
        };
        Some(EventSpec {
            involved: (**cache.get("Pod", &format!("{namespace}/{name}"))?).clone(),
            type_: "Normal",
            reason: "TaintManagerEviction",
            message: format!("Marking for deletion Pod {namespace}/{name}"),
            component: "taint-eviction-controller",
        })
    }

    fn reconcile(&self, key: &str, cache: &Cache, now: Timestamp) -> Vec<Action> {
        let Some(node) = cache.get("Node", key) else {
            return Vec::new();
        };
        let actions = reconcile(
            node,
            cache.pods_on(key.trim_start_matches('/')).map(|p| &**p),
            self.pod_eviction_seconds,
            now,
        );
        for a in &actions {
            if let Action::Delete {
                namespace, name, ..
            } = a
            {
                tracing::info!(node = %key.trim_start_matches('/'), pod = %format!("{namespace}/{name}"), "TaintManagerEviction: evicting");
            }
        }
        actions
    }
}
