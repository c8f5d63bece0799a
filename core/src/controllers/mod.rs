//! Controllers' decisions, pure: each controller's `reconcile` looks at the objects it cares
//! about and returns [`Action`]s; the actors in `capstan-actors` run them against the store.

pub mod deployment;
pub mod expectations;
pub mod replicaset;
#[cfg(test)]
mod simulation;
pub mod taint_eviction;

use serde_json::Value;

/// What a controller wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create this object (kind and apiVersion set; `generateName` allowed).
    Create {
        /// The object.
        object: Value,
    },
    /// Replace this object's main resource (its resourceVersion makes the write conditional).
    Update {
        /// The object.
        object: Value,
    },
    /// Replace this object's status.
    UpdateStatus {
        /// The object.
        object: Value,
    },
    /// Delete an object.
    Delete {
        /// Its kind (`Pod`, `ReplicaSet`…).
        kind: &'static str,
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// Its uid (the delete is refused if the object was replaced).
        uid: String,
    },
    /// Reconcile again after this many milliseconds.
    RequeueAfter {
        /// The delay.
        millis: u64,
    },
}
