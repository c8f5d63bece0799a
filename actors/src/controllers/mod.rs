//! The master's controllers. `actor.rs` is the generic controller actor (informer cache fed by
//! `feed.rs`, `workqueue.rs`, expectations, an executor of `capstan_core::controllers::Action`s);
//! each controller is a small [`Controller`] implementation around a pure reconcile:
//! `deployment.rs` (rollouts over ReplicaSets), `replicaset.rs` (keeps replicas), `gc.rs` (deletes objects whose owners are gone),
//! `taint_eviction.rs` (evicts pods from nodes with NoExecute taints, e.g. unreachable ones).

pub mod actor;
pub mod cache;
pub mod deployment;
pub mod event_ttl;
pub mod feed;
pub mod gc;
pub mod replicaset;
pub mod taint_eviction;
pub mod workqueue;

pub use actor::{Controller, ControllerActor, EventSpec};
