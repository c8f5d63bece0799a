//! One batch of scheduling decisions: pods taken from the queue in order, each placed and
//! assumed at once (so the next one sees its requests), or sent back to back off. The actor
//! writes the bindings of a batch concurrently; `capstan bench scheduler` runs the same path.

use super::queue::{Queue, Waiting};
use capstan_core::scheduler::Scheduler;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// A pod placed (and assumed) on a node, its binding still to write.
#[derive(Debug, Clone)]
pub struct Decided {
    /// The pod's uid.
    pub uid: String,
    /// The pod as queued.
    pub waiting: Waiting,
    /// The chosen node.
    pub node: String,
}

/// A pod no node can take now.
#[derive(Debug, Clone)]
pub struct Failed {
    /// The pod's uid.
    pub uid: String,
    /// The pod as queued.
    pub pod: Arc<Value>,
    /// kube-scheduler's message (`0/3 nodes are available: ...`).
    pub message: String,
}

/// Decides up to `max` pods from `queue`. Placed pods leave the queue; failed ones stay in it,
/// backing off from `now`. With `timings`, each decision's duration (ns) is appended.
pub fn decide(
    engine: &mut Scheduler,
    queue: &mut Queue,
    max: usize,
    now: Instant,
    mut timings: Option<&mut Vec<u64>>,
) -> (Vec<Decided>, Vec<Failed>) {
    let mut decided = Vec::new();
    let mut failed = Vec::new();
    for _ in 0..max.max(1) {
        let Some((uid, waiting)) = queue.pop() else {
            break;
        };
        let started = timings.is_some().then(Instant::now);
        let result = engine.schedule_and_assume(&waiting.info);
        if let (Some(t), Some(start)) = (timings.as_deref_mut(), started) {
            t.push(start.elapsed().as_nanos() as u64);
        }
        match result {
            Ok(placement) => {
                queue.remove(&uid);
                decided.push(Decided {
                    uid,
                    waiting,
                    node: placement.node,
                });
            }
            Err(why) => {
                let message = why.to_string();
                queue.failed(&uid, message.clone(), now);
                failed.push(Failed {
                    uid,
                    pod: waiting.pod,
                    message,
                });
            }
        }
    }
    (decided, failed)
}
