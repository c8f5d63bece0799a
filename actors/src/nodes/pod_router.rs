//! PodRouter: one watch of the store's Pods for all node sessions. It keeps an index of the
//! pods bound to each node (keys only) and hands each change to the sessions of the pod's node,
//! so a change costs one lookup however many nodes are connected — not one wake-up and one
//! filter per node, as a watch per session would.
//!
//! A session subscribes and gets, atomically, the keys of its node's pods and a queue of every
//! later change to them. It reads those pods from the database for its snapshot; a change the
//! snapshot already holds (the pod's resourceVersion is at or above the change's revision) is
//! skipped by [`Snapshot::is_stale`]. A session whose queue fills up (its worker does not read)
//! loses its subscription: its pod stream ends, the worker reconnects and gets a new snapshot.

use crate::store::{EventType, StoreHandle, WatchEvent};
use actix::prelude::*;
use capstan_core::binding::bound_node as node_of;
use capstan_core::fingerprint::without_status;
use capstan_core::kinds::PODS;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Changes a session may have queued before it loses its subscription.
pub const SESSION_QUEUE: usize = 8192;

/// A pod's `(namespace, name)`.
pub type PodKey = (String, String);

/// Subscribe to the pods of one node.
#[derive(Debug, Message)]
#[rtype(result = "Option<Subscription>")]
pub struct Subscribe {
    /// The node.
    pub node: String,
}

/// What a subscriber gets.
#[derive(Debug)]
pub struct Subscription {
    /// The last revision the router had routed when the subscription began: every change
    /// after it comes through `changes`.
    pub revision: u64,
    /// The pods bound to the node at `revision`.
    pub keys: Vec<PodKey>,
    /// Every later change to a pod bound to the node, in revision order. Ends when the
    /// subscription is dropped (the session fell too far behind, or the router restarted).
    pub changes: mpsc::Receiver<Arc<WatchEvent>>,
    /// The router's progress, for bookmarks: see [`Subscription::bookmark`].
    routed: Arc<AtomicU64>,
}

impl Subscription {
    /// A revision up to which every change to the node's pods has been handed out, if the
    /// queue is empty; `Err(event)` gives the next change instead if one is waiting, and
    /// `Ok(None)` says the subscription ended.
    pub fn bookmark(&mut self) -> Result<Option<u64>, Arc<WatchEvent>> {
        // The router publishes its progress after queueing a change: read it first, then
        // check the queue, so a change up to that revision cannot still be in flight.
        let routed = self.routed.load(Ordering::Acquire);
        match self.changes.try_recv() {
            Ok(ev) => Err(ev),
            Err(mpsc::error::TryRecvError::Empty) => Ok(Some(routed)),
            Err(mpsc::error::TryRecvError::Disconnected) => Ok(None),
        }
    }
}

/// What a node's worker holds of its pods: the resourceVersions the snapshot was read with (to
/// skip changes it already holds) and a fingerprint of each pod as last sent, less its status
/// (`core::fingerprint`), so that a change of status alone — most often the worker's own
/// report, written back — is not sent to it again: at thousands of pods that echo was most of
/// the pod stream.
#[derive(Debug, Default)]
pub struct Snapshot {
    read_at: HashMap<PodKey, u64>,
    sent: HashMap<PodKey, u64>,
}

impl Snapshot {
    /// Reads the pods `keys` names that are still bound to `node`; returns them with the
    /// record of what was read.
    pub fn read(
        store: &StoreHandle,
        node: &str,
        keys: &[PodKey],
    ) -> Result<(Snapshot, Vec<Value>), crate::store::StoreError> {
        let mut snap = Snapshot::default();
        let mut pods = Vec::with_capacity(keys.len());
        for (ns, name) in keys {
            let Some(pod) = store.db.get(PODS, ns, name)? else {
                continue;
            };
            if node_of(&pod) != Some(node) {
                continue;
            }
            let key = (ns.clone(), name.clone());
            snap.read_at.insert(key.clone(), resource_version(&pod));
            snap.sent.insert(key, without_status(&pod));
            pods.push(pod);
        }
        Ok((snap, pods))
    }

    /// Whether `ev` tells the worker something it does not hold: not a change the snapshot
    /// already holds (a newer one retires the snapshot's entry: every later change to that pod
    /// is newer still), and a deletion, a pod it was not sent, or a change beyond status. What
    /// is to be sent is recorded as sent.
    pub fn is_news(&mut self, ev: &WatchEvent) -> bool {
        let key = key_of(ev);
        match self.read_at.get(&key) {
            Some(&rv) if ev.revision <= rv => return false,
            Some(_) => {
                self.read_at.remove(&key);
            }
            None => {}
        }
        if ev.event_type == EventType::Deleted {
            self.sent.remove(&key);
            return true;
        }
        let print = without_status(&ev.object);
        self.sent.insert(key, print) != Some(print)
    }
}

/// The router actor.
pub struct PodRouter {
    store: StoreHandle,
    routed: Arc<AtomicU64>,
    on_node: HashMap<String, HashSet<PodKey>>,
    subscribers: HashMap<String, Vec<mpsc::Sender<Arc<WatchEvent>>>>,
    /// Set while the index is being (re)built after a failed listing: subscriptions are refused
    /// meanwhile (while a listing is in flight, `ctx.wait` holds them back).
    building: bool,
}

impl PodRouter {
    /// A router over `store`'s pods.
    pub fn new(store: StoreHandle) -> PodRouter {
        PodRouter {
            store,
            routed: Arc::new(AtomicU64::new(0)),
            on_node: HashMap::new(),
            subscribers: HashMap::new(),
            building: false,
        }
    }

    /// Lists every pod into the index, then follows the store's watch from that revision.
    fn build(&mut self, ctx: &mut Context<Self>) {
        self.building = true;
        // Every subscriber re-subscribes (through a new snapshot) after a rebuild.
        self.subscribers.clear();
        let db = self.store.db.clone();
        let listing = async move {
            tokio::task::spawn_blocking(move || db.list(PODS, None))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
        };
        ctx.wait(
            listing
                .into_actor(self)
                .map(|listed, act, ctx| match listed {
                    Ok((pods, revision)) => {
                        act.on_node.clear();
                        for pod in &pods {
                            if let Some(node) = node_of(pod) {
                                act.on_node
                                    .entry(node.to_string())
                                    .or_default()
                                    .insert(key_of_object(pod));
                            }
                        }
                        match act.store.watch(revision) {
                            Ok(watch) => {
                                act.routed.store(revision, Ordering::Release);
                                act.building = false;
                                // The stream ends after the watch's first error: a rebuild starts anew.
                                ctx.add_stream(futures_util::stream::unfold(
                                    Some(watch),
                                    |w| async move {
                                        let mut w = w?;
                                        let next = w.next().await;
                                        let go_on = next.is_ok();
                                        Some((next, go_on.then_some(w)))
                                    },
                                ));
                                tracing::info!(
                                    pods = pods.len(),
                                    revision,
                                    "pod router following the store"
                                );
                            }
                            Err(e) => act.retry(ctx, e.to_string()),
                        }
                    }
                    Err(e) => act.retry(ctx, e),
                }),
        );
    }

    fn retry(&mut self, ctx: &mut Context<Self>, error: String) {
        tracing::warn!(%error, "pod router could not list pods; retrying in 1 s");
        ctx.run_later(std::time::Duration::from_secs(1), |act, ctx| act.build(ctx));
    }

    fn route(&mut self, ev: Arc<WatchEvent>) {
        if ev.resource.kind != "Pod" {
            return;
        }
        let Some(node) = node_of(&ev.object) else {
            return;
        };
        let key = key_of(&ev);
        let on_node = self.on_node.entry(node.to_string()).or_default();
        if ev.event_type == EventType::Deleted {
            on_node.remove(&key);
        } else {
            on_node.insert(key);
        }
        if let Some(subs) = self.subscribers.get_mut(node) {
            subs.retain(|tx| match tx.try_send(ev.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(%node, "a node session fell {SESSION_QUEUE} pod changes behind; its stream restarts");
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            });
        }
    }
}

impl Actor for PodRouter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.build(ctx);
    }
}

type Routed = Result<Arc<WatchEvent>, crate::store::WatchEnd>;

impl StreamHandler<Routed> for PodRouter {
    fn handle(&mut self, item: Routed, ctx: &mut Self::Context) {
        match item {
            Ok(ev) => {
                let revision = ev.revision;
                self.route(ev);
                self.routed.store(revision, Ordering::Release);
            }
            Err(end) => {
                tracing::warn!(?end, "pod router's watch ended; rebuilding its index");
                self.build(ctx);
            }
        }
    }

    fn finished(&mut self, _: &mut Self::Context) {
        // A watch stream ends only after its error, which started a rebuild: keep running.
    }
}

impl Handler<Subscribe> for PodRouter {
    type Result = Option<Subscription>;

    /// `None` while the index is not whole (a listing failed and is being retried).
    fn handle(&mut self, msg: Subscribe, _: &mut Self::Context) -> Option<Subscription> {
        if self.building {
            return None;
        }
        let (tx, rx) = mpsc::channel(SESSION_QUEUE);
        let keys = self
            .on_node
            .get(&msg.node)
            .map(|k| k.iter().cloned().collect())
            .unwrap_or_default();
        let subs = self.subscribers.entry(msg.node).or_default();
        subs.retain(|t| !t.is_closed());
        subs.push(tx);
        Some(Subscription {
            revision: self.routed.load(Ordering::Acquire),
            keys,
            changes: rx,
            routed: self.routed.clone(),
        })
    }
}

fn key_of(ev: &WatchEvent) -> PodKey {
    key_of_object(&ev.object)
}

fn key_of_object(pod: &Value) -> PodKey {
    let meta = &pod["metadata"];
    (
        meta["namespace"].as_str().unwrap_or_default().to_string(),
        meta["name"].as_str().unwrap_or_default().to_string(),
    )
}

fn resource_version(pod: &Value) -> u64 {
    pod.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
