//! NodeLifecycle: notices nodes whose workers went silent and marks them Ready=Unknown
//! (reason NodeStatusUnknown) after `node_grace_seconds`, taints them unreachable:NoExecute
//! (which evicts their pods) as fast as the eviction rates allow
//! (`core::node_eviction`, Kubernetes' disruption handling: 0.1 nodes/s while few nodes are
//! silent, 0.01/s once most are, none and no taint at all when every node is), and marks them
//! Ready again, untainted, when they are heard from again. Liveness is kept in memory
//! (`core::node_status::NodeLiveness`) and fed by the node sessions' heartbeats; after a
//! master restart every known node starts a fresh grace period.
//!
//! The marks of one node are written one at a time: a node that goes silent and comes back
//! while its first mark is being written gets the second once the first has landed, so the
//! store always ends with the node's latest state whatever order the writes would have raced
//! in.

use crate::store::{now, StoreHandle};
use actix::prelude::*;
use capstan_core::kinds::NODES;
use capstan_core::node_eviction::{Disruption, EvictionLimiter, EvictionRates};
use capstan_core::node_status::{
    grace_ms, has_unreachable_taint, heartbeat_interval_s, mark_healthy, mark_unknown,
    ready_status, NodeLiveness,
};
use capstan_core::time::Timestamp;
use capstan_core::write_rules::Subresource;
use serde_json::Value;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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
    /// How many nodes the lifecycle knows (registered, live or silent).
    known: Arc<AtomicUsize>,
    config: LifecycleConfig,
}

/// How the lifecycle judges and treats silent nodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifecycleConfig {
    /// Silent this long (at `heartbeat_seconds`) is Unknown.
    pub grace: Duration,
    /// How often workers heartbeat in a small cluster.
    pub heartbeat_seconds: u64,
    /// In a larger one, workers heartbeat less often so that the master reads at most this
    /// many heartbeats a second, and the grace stretches with the interval
    /// (`core::node_status::heartbeat_interval_s`).
    pub max_heartbeats_per_second: u64,
    /// How fast silent nodes are tainted for eviction.
    pub rates: EvictionRates,
}

impl Default for LifecycleConfig {
    /// The master's defaults: heartbeats every second (up to 1,000 nodes), 4 s grace,
    /// Kubernetes' eviction rates.
    fn default() -> Self {
        LifecycleConfig {
            grace: Duration::from_secs(4),
            heartbeat_seconds: 1,
            max_heartbeats_per_second: 1000,
            rates: EvictionRates::default(),
        }
    }
}

impl Liveness {
    /// Starts a [`NodeLifecycle`] on a new thread, with a raised priority where allowed
    /// (`priority`). Must be called inside an actix system.
    pub fn start(store: StoreHandle, config: LifecycleConfig) -> Liveness {
        // The thread lives until the actix system stops; dropping the `Arbiter` does not end it.
        let thread = actix::Arbiter::new().handle();
        thread.spawn_fn(crate::priority::raise_current_thread);
        let known = Arc::new(AtomicUsize::new(0));
        let counter = known.clone();
        let lifecycle = NodeLifecycle::start_in_arbiter(&thread, move |_| {
            NodeLifecycle::new(store, config, counter)
        });
        Liveness {
            lifecycle,
            thread,
            known,
            config,
        }
    }

    /// How often a worker registering now should heartbeat: every `heartbeat_seconds`, or less
    /// often in a cluster too large for the master's heartbeat budget.
    pub fn heartbeat_seconds(&self) -> u64 {
        let nodes = self.known.load(Ordering::Relaxed) + 1;
        heartbeat_interval_s(
            self.config.heartbeat_seconds,
            nodes,
            self.config.max_heartbeats_per_second,
        )
    }
}

/// How long a failed mark waits before it is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// What a node should be stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// Ready and untainted.
    Ready,
    /// Ready=Unknown, with or without the unreachable:NoExecute taint.
    Unknown { taint: bool },
}

/// The node lifecycle controller.
pub struct NodeLifecycle {
    store: StoreHandle,
    config: LifecycleConfig,
    liveness: NodeLiveness,
    /// Published for the sessions: `liveness.len()`.
    known: Arc<AtomicUsize>,
    epoch: Instant,
    check_every: Duration,
    /// Nodes that are (or are being) stored as not Ready or with the unreachable taint: they
    /// are marked Ready and untainted when heard again. Every other node is left to its
    /// session, which keeps its status fresh.
    unready: HashSet<String>,
    /// Silent nodes waiting for the limiter to let them be tainted, oldest silence first (a
    /// node heard meanwhile is skipped when its turn comes).
    to_taint: VecDeque<String>,
    /// Silent nodes that are (or are being) tainted.
    tainted: HashSet<String>,
    limiter: EvictionLimiter,
    /// The disruption state of the last check (logged when it changes).
    state: Disruption,
    /// Nodes whose mark is being written.
    writing: HashSet<String>,
}

impl NodeLifecycle {
    /// A controller that marks nodes silent for the grace Unknown and taints them at the
    /// eviction rates; it keeps the number of nodes it knows in `known`.
    pub fn new(
        store: StoreHandle,
        config: LifecycleConfig,
        known: Arc<AtomicUsize>,
    ) -> NodeLifecycle {
        let grace = config.grace;
        let check_every = (grace / 8).clamp(Duration::from_millis(100), Duration::from_secs(1));
        NodeLifecycle {
            store,
            config,
            liveness: NodeLiveness::new(grace.as_millis() as u64),
            known,
            epoch: Instant::now(),
            check_every,
            unready: HashSet::new(),
            to_taint: VecDeque::new(),
            tainted: HashSet::new(),
            limiter: EvictionLimiter::new(config.rates),
            state: Disruption::Normal,
            writing: HashSet::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Stretches the grace period with the heartbeat interval the cluster's size calls for.
    fn pace(&mut self) {
        let c = &self.config;
        let total = self.liveness.len();
        self.known.store(total, Ordering::Relaxed);
        let interval =
            heartbeat_interval_s(c.heartbeat_seconds, total, c.max_heartbeats_per_second);
        let grace = grace_ms(c.grace.as_millis() as u64, c.heartbeat_seconds, interval);
        if grace != self.liveness.grace() {
            tracing::info!(
                nodes = total,
                heartbeat_seconds = interval,
                grace_ms = grace,
                "heartbeat pacing changed"
            );
            self.liveness.set_grace(grace);
        }
    }

    fn check(&mut self, ctx: &mut Context<Self>) {
        self.pace();
        let now = self.now_ms();
        for node in self.liveness.newly_silent(now) {
            self.unready.insert(node.clone());
            self.to_taint.push_back(node.clone());
            self.sync(node, ctx);
        }
        let (silent, total) = (self.liveness.silent_count(), self.liveness.len());
        let state = Disruption::of(silent, total);
        if state != self.state {
            match state {
                Disruption::Normal => tracing::info!(silent, total, "few nodes silent: evicting at the normal rate"),
                Disruption::Partial => tracing::warn!(silent, total, "most nodes silent (partial disruption): evicting at the secondary rate"),
                Disruption::Full => tracing::warn!(total, "every node silent (full disruption): the fault is taken to be the master's; no evictions, taints lifted"),
            }
            self.state = state;
        }
        if state == Disruption::Full {
            // Every silent node goes back in line, untainted.
            let lifted: Vec<String> = self.tainted.drain().collect();
            for node in lifted {
                self.to_taint.push_back(node.clone());
                self.sync(node, ctx);
            }
        }
        // Drop the nodes heard since they were queued, already tainted, or queued twice, so
        // that the limiter's tokens go to nodes that are waiting.
        let mut queued = HashSet::new();
        let (unready, tainted, liveness) = (&self.unready, &self.tainted, &self.liveness);
        self.to_taint.retain(|n| {
            unready.contains(n)
                && liveness.is_silent(n)
                && !tainted.contains(n)
                && queued.insert(n.clone())
        });
        let waiting = self.to_taint.len();
        let mut allowed = self.limiter.take(now, state, total, waiting);
        while allowed > 0 {
            let Some(node) = self.to_taint.pop_front() else {
                break;
            };
            allowed -= 1;
            self.tainted.insert(node.clone());
            self.sync(node, ctx);
        }
    }

    fn wanted(&self, node: &str) -> Mark {
        if self.unready.contains(node) {
            Mark::Unknown {
                taint: self.tainted.contains(node),
            }
        } else {
            Mark::Ready
        }
    }

    /// Writes the mark `node` should have now ([`Self::wanted`]), unless a write for it is in
    /// flight: that one's completion calls `sync` again.
    fn sync(&mut self, node: String, ctx: &mut Context<Self>) {
        if !self.writing.insert(node.clone()) {
            return;
        }
        let mark = self.wanted(&node);
        let store = self.store.clone();
        let name = node.clone();
        ctx.spawn(
            async move {
                match mark {
                    Mark::Ready => mark_node_ready(&store, &name).await,
                    Mark::Unknown { taint } => mark_node_unknown(&store, &name, taint).await,
                }
            }
            .into_actor(self)
            .map(move |result, act, ctx| {
                act.writing.remove(&node);
                match result {
                    Err(e) => {
                        tracing::warn!(%node, error = %e, ?mark, "could not mark the node; retrying");
                        ctx.run_later(RETRY, move |act, ctx| act.sync(node, ctx));
                    }
                    Ok(()) if act.wanted(&node) != mark => act.sync(node, ctx),
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

/// A silent node: Ready=Unknown (with a NodeNotReady event when it changes), tainted
/// unreachable:NoExecute if `taint`, else untainted.
async fn mark_node_unknown(
    store: &StoreHandle,
    node: &str,
    taint: bool,
) -> Result<(), crate::store::StoreError> {
    let marked = set_conditions(store, node, "Unknown", mark_unknown).await?;
    if let Some(obj) = marked {
        tracing::warn!(%node, "node stopped reporting: Ready=Unknown");
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
    if set_unreachable_taint(store, node, taint).await? && taint {
        tracing::warn!(%node, "silent node tainted unreachable:NoExecute: its pods will be evicted");
    }
    Ok(())
}

/// Adds (with `timeAdded` now) or removes the unreachable:NoExecute taint; whether it changed
/// anything.
async fn set_unreachable_taint(
    store: &StoreHandle,
    node: &str,
    on: bool,
) -> Result<bool, crate::store::StoreError> {
    let t = now();
    store
        .modify(NODES, "", node, Subresource::Main, |obj| {
            capstan_core::node_status::set_unreachable_taint(obj, on, t)
        })
        .await
        .map(|changed| changed.is_some())
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
                        if has_unreachable_taint(&n) {
                            self.tainted.insert(name.to_string());
                        }
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "node lifecycle could not list nodes"),
        }
        self.pace();
        ctx.run_interval(self.check_every, |act, ctx| act.check(ctx));
    }
}

impl Handler<Heard> for NodeLifecycle {
    type Result = ();

    fn handle(&mut self, msg: Heard, ctx: &mut Self::Context) {
        let now = self.now_ms();
        self.liveness.heard(&msg.node, now);
        if self.unready.remove(&msg.node) {
            self.tainted.remove(&msg.node);
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

    fn stored(store: &StoreHandle, name: &str) -> Value {
        store.db.get(NODES, "", name).expect("read").expect(name)
    }

    async fn until(store: &StoreHandle, what: &str, ok: impl Fn(&dyn Fn(&str) -> Value) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !ok(&|name| stored(store, name)) {
            assert!(Instant::now() < deadline, "timed out waiting for: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A store holding Ready nodes with these names.
    async fn cluster(dir: &std::path::Path, names: &[&str]) -> StoreHandle {
        let store = Store::start(&dir.join("state.redb"), 1000, 1024).expect("store");
        for name in names {
            let mut node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}});
            mark_healthy(&mut node, now());
            store
                .write(WriteOp::Create {
                    resource: NODES,
                    object: node,
                })
                .await
                .expect("create node");
        }
        store
    }

    /// Keeps `name` heard from every 50 ms, for the rest of the test.
    fn keep_heard(liveness: &Liveness, name: &str) {
        let (lifecycle, name) = (liveness.lifecycle.clone(), name.to_string());
        actix::spawn(async move {
            loop {
                lifecycle.do_send(Heard { node: name.clone() });
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }

    fn unknown(n: &Value) -> bool {
        ready_status(n) == Some("Unknown")
    }

    fn ready_untainted(n: &Value) -> bool {
        ready_status(n) == Some("True") && !has_unreachable_taint(n)
    }

    /// A node silent past the grace period is marked Unknown and tainted; heard again (on the
    /// same connection, with no new registration) it is marked Ready and untainted — by the
    /// lifecycle alone, as heartbeats no longer read the stored node. Flapping while a mark is
    /// in flight ends in the latest state.
    #[actix::test]
    async fn silent_nodes_are_marked_unknown_and_ready_again_when_heard() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = cluster(dir.path(), &["n1", "n2"]).await;
        let liveness = Liveness::start(
            store.clone(),
            LifecycleConfig {
                grace: Duration::from_millis(400),
                ..LifecycleConfig::default()
            },
        );
        keep_heard(&liveness, "n2");
        let heard = || liveness.lifecycle.do_send(Heard { node: "n1".into() });
        heard();
        until(&store, "n1 Unknown and tainted", |get| {
            let n = get("n1");
            unknown(&n) && has_unreachable_taint(&n)
        })
        .await;
        assert_eq!(
            stored(&store, "n1")["status"]["conditions"][0]["reason"],
            "NodeStatusUnknown"
        );
        assert!(ready_untainted(&stored(&store, "n2")), "n2 is heard");
        heard();
        until(&store, "n1 Ready and untainted", |get| {
            ready_untainted(&get("n1"))
        })
        .await;
        // Silent again, then heard at once: whatever order the marks land in, the node is
        // Ready in the end while heartbeats keep coming.
        until(&store, "n1 Unknown again", |get| unknown(&get("n1"))).await;
        keep_heard(&liveness, "n1");
        until(&store, "n1 Ready after the flap", |get| {
            ready_untainted(&get("n1"))
        })
        .await;
    }

    /// Taints follow the eviction rates: of two silent nodes in five, one is tainted at once
    /// and the other waits its turn (one every 10 s); with every node silent, none is tainted
    /// and a taint already set is lifted, while all are still marked Unknown.
    #[actix::test]
    async fn taints_are_rate_limited_and_withheld_when_every_node_is_silent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let names = ["n1", "n2", "n3", "n4", "n5"];
        let store = cluster(dir.path(), &names).await;
        let liveness = Liveness::start(
            store.clone(),
            LifecycleConfig {
                grace: Duration::from_millis(400),
                ..LifecycleConfig::default()
            },
        );
        for n in ["n3", "n4", "n5"] {
            keep_heard(&liveness, n);
        }
        let tainted = |get: &dyn Fn(&str) -> Value| {
            ["n1", "n2"]
                .iter()
                .filter(|n| has_unreachable_taint(&get(n)))
                .count()
        };
        until(&store, "n1 and n2 Unknown, one tainted", |get| {
            unknown(&get("n1")) && unknown(&get("n2")) && tainted(get) == 1
        })
        .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            tainted(&|n| stored(&store, n)),
            1,
            "the second waits for the limiter"
        );

        // Every node silent: the fault is taken to be the master's.
        let dir = tempfile::tempdir().expect("tempdir");
        let store = cluster(dir.path(), &["m1", "m2", "m3"]).await;
        store
            .modify(NODES, "", "m1", Subresource::Main, |obj| {
                capstan_core::node_status::set_unreachable_taint(obj, true, now())
            })
            .await
            .expect("taint m1");
        let _liveness = Liveness::start(
            store.clone(),
            LifecycleConfig {
                grace: Duration::from_millis(400),
                ..LifecycleConfig::default()
            },
        );
        until(&store, "all Unknown, none tainted", |get| {
            ["m1", "m2", "m3"].iter().all(|n| {
                let n = get(n);
                unknown(&n) && !has_unreachable_taint(&n)
            })
        })
        .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        for n in ["m1", "m2", "m3"] {
            assert!(
                !has_unreachable_taint(&stored(&store, n)),
                "{n} stays untainted"
            );
        }
    }
}
