//! NodeLifecycle: notices nodes whose workers went silent and marks them Ready=Unknown
//! (reason NodeStatusUnknown) with the unreachable:NoExecute taint after `node_grace_seconds`,
//! and marks them Ready again, untainted, when they are heard from again. Liveness is kept in
//! memory (`core::node_status::NodeLiveness`) and fed by the node sessions' heartbeats; after a
//! master restart every known node starts a fresh grace period.
//!
//! The marks of one node are written one at a time: a node that goes silent and comes back
//! while its first mark is being written gets the second once the first has landed, so the
//! store always ends with the node's latest state whatever order the writes would have raced
//! in.

use crate::store::{now, StoreHandle};
use actix::prelude::*;
use capstan_core::kinds::NODES;
use capstan_core::node_status::{
    has_unreachable_taint, mark_healthy, mark_unknown, ready_status, NodeLiveness,
};
use capstan_core::time::Timestamp;
use capstan_core::write_rules::Subresource;
use serde_json::Value;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// A node was heard from (hello or heartbeat).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Heard {
    /// The node's name.
    pub node: String,
}

/// Where heartbeats are read and counted: the node lifecycle and the thread it runs on. Node
/// sessions run each worker's heartbeat loop on that thread, which does nothing else, so the
/// pod traffic of thousands of nodes (on the node plane's thread) cannot delay a heartbeat long
/// enough to make a live node look dead.
#[derive(Clone)]
pub struct Liveness {
    /// The lifecycle actor.
    pub lifecycle: Addr<NodeLifecycle>,
    /// Its thread.
    pub thread: actix::ArbiterHandle,
}

impl Liveness {
    /// Starts a [`NodeLifecycle`] (silent after `grace`) on a new thread, with a raised
    /// priority where allowed (`priority`). Must be called inside an actix system.
    pub fn start(store: StoreHandle, grace: Duration) -> Liveness {
        // The thread lives until the actix system stops; dropping the `Arbiter` does not end it.
        let thread = actix::Arbiter::new().handle();
        thread.spawn_fn(crate::priority::raise_current_thread);
        let lifecycle =
            NodeLifecycle::start_in_arbiter(&thread, move |_| NodeLifecycle::new(store, grace));
        Liveness { lifecycle, thread }
    }
}

/// How long a failed mark waits before it is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// The node lifecycle controller.
pub struct NodeLifecycle {
    store: StoreHandle,
    liveness: NodeLiveness,
    epoch: Instant,
    check_every: Duration,
    /// Nodes that are (or are being) stored as not Ready or with the unreachable taint: they
    /// are marked Ready and untainted when heard again. Every other node is left to its
    /// session, which keeps its status fresh.
    unready: HashSet<String>,
    /// Nodes whose mark is being written.
    writing: HashSet<String>,
}

impl NodeLifecycle {
    /// A controller that marks nodes silent for `grace` Unknown.
    pub fn new(store: StoreHandle, grace: Duration) -> NodeLifecycle {
        let check_every = (grace / 8).clamp(Duration::from_millis(100), Duration::from_secs(1));
        NodeLifecycle {
            store,
            liveness: NodeLiveness::new(grace.as_millis() as u64),
            epoch: Instant::now(),
            check_every,
            unready: HashSet::new(),
            writing: HashSet::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn check(&mut self, ctx: &mut Context<Self>) {
        for node in self.liveness.newly_silent(self.now_ms()) {
            self.unready.insert(node.clone());
            self.sync(node, ctx);
        }
    }

    /// Writes the mark `node` should have now (Unknown if it is in `unready`, else Ready),
    /// unless a write for it is in flight: that one's completion calls `sync` again.
    fn sync(&mut self, node: String, ctx: &mut Context<Self>) {
        if !self.writing.insert(node.clone()) {
            return;
        }
        let ready = !self.unready.contains(&node);
        let store = self.store.clone();
        let name = node.clone();
        ctx.spawn(
            async move {
                if ready {
                    mark_node_ready(&store, &name).await
                } else {
                    mark_node_unknown(&store, &name).await
                }
            }
            .into_actor(self)
            .map(move |result, act, ctx| {
                act.writing.remove(&node);
                let wanted_ready = !act.unready.contains(&node);
                match result {
                    Err(e) => {
                        tracing::warn!(%node, error = %e, ready, "could not mark the node; retrying");
                        ctx.run_later(RETRY, move |act, ctx| act.sync(node, ctx));
                    }
                    Ok(()) if wanted_ready != ready => act.sync(node, ctx),
                    Ok(()) => {}
                }
            }),
        );
    }
}

/// Sets the node's conditions with `mark` unless its Ready condition already has `status`;
/// returns the node as written, if it was.
async fn set_conditions(
    store: &StoreHandle,
    node: &str,
    status: &str,
    mark: fn(&mut Value, Timestamp),
) -> Result<Option<Value>, crate::store::StoreError> {
    store
        .modify(NODES, "", node, Subresource::Status, |obj| {
            let change = ready_status(obj) != Some(status);
            if change {
                mark(obj, now());
            }
            change
        })
        .await
}

/// A node heard again: Ready (its conditions renewed) and the unreachable taint lifted.
async fn mark_node_ready(store: &StoreHandle, node: &str) -> Result<(), crate::store::StoreError> {
    set_conditions(store, node, "True", mark_healthy).await?;
    set_unreachable_taint(store, node, false).await?;
    tracing::info!(%node, "node reporting again: Ready, unreachable taint lifted");
    Ok(())
}

async fn mark_node_unknown(
    store: &StoreHandle,
    node: &str,
) -> Result<(), crate::store::StoreError> {
    let marked = set_conditions(store, node, "Unknown", mark_unknown).await?;
    if let Some(obj) = marked {
        tracing::warn!(%node, "node stopped reporting: Ready=Unknown, tainted unreachable:NoExecute");
        let message = format!("Node {node} status is now: NodeNotReady");
        if let Err(e) = crate::events::record_event(
            store,
            &obj,
            "Normal",
            "NodeNotReady",
            &message,
            "node-controller",
        )
        .await
        {
            tracing::debug!(%node, error = %e, "could not record the NodeNotReady event");
        }
    }
    set_unreachable_taint(store, node, true).await
}

/// Adds (with `timeAdded` now) or removes the unreachable:NoExecute taint.
async fn set_unreachable_taint(
    store: &StoreHandle,
    node: &str,
    on: bool,
) -> Result<(), crate::store::StoreError> {
    let t = now();
    store
        .modify(NODES, "", node, Subresource::Main, |obj| {
            capstan_core::node_status::set_unreachable_taint(obj, on, t)
        })
        .await
        .map(|_| ())
}

impl Actor for NodeLifecycle {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Every node already registered gets a full grace period from now.
        match self.store.db.list(NODES, None) {
            Ok((items, _)) => {
                let now = self.now_ms();
                for n in items {
                    if let Some(name) = n.pointer("/metadata/name").and_then(|v| v.as_str()) {
                        self.liveness.heard(name, now);
                        if has_unreachable_taint(&n) || ready_status(&n) != Some("True") {
                            self.unready.insert(name.to_string());
                        }
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "node lifecycle could not list nodes"),
        }
        ctx.run_interval(self.check_every, |act, ctx| act.check(ctx));
    }
}

impl Handler<Heard> for NodeLifecycle {
    type Result = ();

    fn handle(&mut self, msg: Heard, ctx: &mut Self::Context) {
        let now = self.now_ms();
        self.liveness.heard(&msg.node, now);
        if self.unready.remove(&msg.node) {
            self.sync(msg.node, ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, WriteOp};
    use capstan_core::node_status::has_unreachable_taint;
    use serde_json::{json, Value};

    fn stored(store: &StoreHandle) -> Value {
        store.db.get(NODES, "", "n1").expect("read").expect("n1")
    }

    async fn until(store: &StoreHandle, what: &str, ok: impl Fn(&Value) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !ok(&stored(store)) {
            assert!(Instant::now() < deadline, "timed out waiting for: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A node silent past the grace period is marked Unknown and tainted; heard again (on the
    /// same connection, with no new registration) it is marked Ready and untainted — by the
    /// lifecycle alone, as heartbeats no longer read the stored node. Flapping while a mark is
    /// in flight ends in the latest state.
    #[actix::test]
    async fn silent_nodes_are_marked_unknown_and_ready_again_when_heard() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::start(&dir.path().join("state.redb"), 1000, 1024).expect("store");
        let mut node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}});
        mark_healthy(&mut node, now());
        store
            .write(WriteOp::Create {
                resource: NODES,
                object: node,
            })
            .await
            .expect("create n1");
        let liveness = Liveness::start(store.clone(), Duration::from_millis(400));
        let heard = || liveness.lifecycle.do_send(Heard { node: "n1".into() });
        heard();
        until(&store, "Unknown and tainted", |n| {
            ready_status(n) == Some("Unknown") && has_unreachable_taint(n)
        })
        .await;
        assert_eq!(
            stored(&store)["status"]["conditions"][0]["reason"],
            "NodeStatusUnknown"
        );
        heard();
        until(&store, "Ready and untainted", |n| {
            ready_status(n) == Some("True") && !has_unreachable_taint(n)
        })
        .await;
        // Silent again, then heard at once: whatever order the marks land in, the node is
        // Ready in the end while heartbeats keep coming.
        until(&store, "Unknown again", |n| {
            ready_status(n) == Some("Unknown")
        })
        .await;
        let lifecycle = liveness.lifecycle.clone();
        actix::spawn(async move {
            loop {
                lifecycle.do_send(Heard { node: "n1".into() });
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        until(&store, "Ready after the flap", |n| {
            ready_status(n) == Some("True") && !has_unreachable_taint(n)
        })
        .await;
    }
}
