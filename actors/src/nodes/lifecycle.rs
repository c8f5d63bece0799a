//! NodeLifecycle: notices nodes whose workers went silent and marks them Ready=Unknown
//! (reason NodeStatusUnknown) after `node_grace_seconds`. Liveness is kept in memory
//! (`core::node_status::NodeLiveness`) and fed by the node sessions' heartbeats; after a master
//! restart every known node starts a fresh grace period.

use crate::store::{now, StoreHandle};
use actix::prelude::*;
use capstan_core::kinds::NODES;
use capstan_core::node_status::{has_unreachable_taint, mark_unknown, ready_status, NodeLiveness};
use capstan_core::write_rules::Subresource;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// A node was heard from (hello or heartbeat).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Heard {
    /// The node's name.
    pub node: String,
}

/// The node lifecycle controller.
pub struct NodeLifecycle {
    store: StoreHandle,
    liveness: NodeLiveness,
    epoch: Instant,
    check_every: Duration,
    /// Nodes carrying the unreachable taint (to lift when they are heard again).
    tainted: HashSet<String>,
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
            tainted: HashSet::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn check(&mut self, ctx: &mut Context<Self>) {
        let silent = self.liveness.newly_silent(self.now_ms());
        for node in silent {
            self.tainted.insert(node.clone());
            let store = self.store.clone();
            ctx.spawn(
                async move {
                    if let Err(e) = mark_node_unknown(&store, &node).await {
                        tracing::warn!(%node, error = %e, "could not mark node Unknown");
                    }
                }
                .into_actor(self),
            );
        }
    }
}

async fn mark_node_unknown(
    store: &StoreHandle,
    node: &str,
) -> Result<(), crate::store::StoreError> {
    let marked = store
        .modify(NODES, "", node, Subresource::Status, |obj| {
            let live = ready_status(obj) != Some("Unknown");
            if live {
                mark_unknown(obj, now());
            }
            live
        })
        .await?;
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
                        if has_unreachable_taint(&n) {
                            self.tainted.insert(name.to_string());
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
        if self.tainted.remove(&msg.node) {
            let store = self.store.clone();
            let node = msg.node;
            ctx.spawn(
                async move {
                    match set_unreachable_taint(&store, &node, false).await {
                        Ok(()) => tracing::info!(%node, "node reporting again: unreachable taint lifted"),
                        Err(e) => tracing::warn!(%node, error = %e, "could not lift the unreachable taint"),
                    }
                }
                .into_actor(self),
            );
        }
    }
}
