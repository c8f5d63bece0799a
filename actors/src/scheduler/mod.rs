//! The master's scheduler: the [`SchedulerActor`] places pods that have no node, with the pure
//! engine of `capstan_core::scheduler`.
//!
//! - Nodes and pods arrive through the controllers' list+watch feed (`controllers::feed`):
//!   a list, then batches of changes, a new list when the watch falls behind.
//! - `queue.rs` holds the pods waiting for a decision: an active FIFO, and those backing off
//!   after a failed attempt (1 s doubling to 10 s, as kube-scheduler) until their time comes or
//!   the cluster changes in a way that may let them fit.
//! - `batch.rs` is one batch of decisions (shared with `capstan bench scheduler`).
//! - `actor.rs` decides in batches, assumes each decision in the engine's snapshot at once (so
//!   the next decisions never overcommit a node whose bindings are still being written), writes
//!   the bindings concurrently (the store commits them in groups), and on failure writes
//!   PodScheduled=False with kube-scheduler's message and a FailedScheduling event
//!   (recorded through `crate::events`).

mod actor;
mod batch;
mod queue;

pub use actor::{GetSchedulerStats, SchedulerActor, SchedulerConfig, SchedulerStats};
pub use batch::{decide, Decided, Failed};
pub use queue::{Queue, Waiting};
