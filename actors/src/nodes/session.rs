//! NodeSession: the master's view of one connected worker. It owns the QUIC connection, takes
//! the worker's hello (registering the Node), its heartbeats (renewing the Node's Ready
//! condition) and its status batches (writing `pods/status`), and streams to it every Pod
//! bound to its node: a snapshot, then live changes (but not those that change only a pod's
//! status: the worker wrote it).
//! The node name comes from the worker's client certificate, so a worker cannot act for
//! another node.

use super::lifecycle::{Heard, Liveness, NodeLifecycle};
use super::metrics::MetricsRegistry;
use super::node_object::{merge_registration, node_from_hello};
use super::pod_router::{PodRouter, Snapshot, Subscribe};
use crate::events::{record_events, Source};
use crate::protocol::{channel, Heartbeat, Hello, HelloAck, PodEvent, PodStreamMsg, StatusBatch};
use crate::store::{now, EventType, StoreError, StoreHandle, WriteOp};
use actix::prelude::*;
use capstan_core::kinds::{NODES, PODS};
use capstan_core::node_status::mark_healthy;
use capstan_core::write_rules::Subresource;
use capstan_transport::{Connection, IncomingStream};
use futures_util::future::join_all;
use serde_json::Value;
use std::time::Duration;

/// Tell a session to end (a newer connection of the same node took over).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Replace;

/// A session ended; sent to the gateway.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SessionEnded {
    /// The node.
    pub node: String,
    /// Which connection (sessions of one node are told apart by it).
    pub id: u64,
}

/// The master's parts every session works with (the gateway hands each session a copy).
#[derive(Clone)]
pub struct SessionPeers {
    /// The store.
    pub store: StoreHandle,
    /// Told of every heartbeat; heartbeats are read on its thread.
    pub liveness: Liveness,
    /// Hands out the changes to this node's pods.
    pub router: Addr<PodRouter>,
    /// Told when the session ends.
    pub gateway: Recipient<SessionEnded>,
}

/// One connected worker.
pub struct NodeSession {
    node: String,
    id: u64,
    conn: Connection,
    peers: SessionPeers,
    metrics: MetricsRegistry,
}

impl NodeSession {
    /// A session for `node` over `conn`.
    pub fn new(node: String, id: u64, conn: Connection, peers: SessionPeers) -> NodeSession {
        NodeSession {
            node,
            id,
            conn,
            peers,
            metrics: MetricsRegistry::new(),
        }
    }

    /// Records the usage the worker reports in its heartbeats into `metrics` (by default, into
    /// a registry of its own that nobody reads).
    pub fn with_metrics(mut self, metrics: MetricsRegistry) -> NodeSession {
        self.metrics = metrics;
        self
    }
}

/// A stream the worker opened.
#[derive(Message)]
#[rtype(result = "()")]
struct Incoming(IncomingStream);

impl Actor for NodeSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        tracing::info!(node = %self.node, peer = %self.conn.remote_address(), "node session started");
        let conn = self.conn.clone();
        ctx.add_stream(futures_util::stream::unfold(conn, |c| async move {
            match c.accept_stream().await {
                Ok(s) => Some((Incoming(s), c)),
                Err(e) => {
                    tracing::debug!(error = %e, "node connection ended");
                    None
                }
            }
        }));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.conn.close(0, "session ended");
        self.peers.gateway.do_send(SessionEnded {
            node: self.node.clone(),
            id: self.id,
        });
        tracing::info!(node = %self.node, "node session ended");
    }
}

impl StreamHandler<Incoming> for NodeSession {
    fn handle(&mut self, Incoming(stream): Incoming, ctx: &mut Self::Context) {
        let (node, store, conn) = (
            self.node.clone(),
            self.peers.store.clone(),
            self.conn.clone(),
        );
        match stream.channel {
            channel::HELLO => {
                // Paced to the cluster's size (`Liveness::heartbeat_seconds`).
                let beat = self.peers.liveness.heartbeat_seconds();
                let lifecycle = self.peers.liveness.lifecycle.clone();
                let router = self.peers.router.clone();
                ctx.spawn(
                    async move {
                        if let Err(e) =
                            hello(stream, &node, &store, &conn, &lifecycle, &router, beat).await
                        {
                            tracing::warn!(%node, error = %e, "hello failed; closing the connection");
                            conn.close(1, "hello failed");
                        }
                    }
                    .into_actor(self),
                );
            }
            channel::HEARTBEAT => {
                // On the liveness thread; the loop ends with the connection, which the
                // session closes when it stops.
                let lifecycle = self.peers.liveness.lifecycle.clone();
                let metrics = self.metrics.clone();
                self.peers
                    .liveness
                    .thread
                    .spawn(heartbeats(stream, node, store, lifecycle, metrics));
            }
            channel::STATUS => {
                ctx.spawn(statuses(stream, node, store).into_actor(self));
            }
            other => {
                tracing::warn!(node = %self.node, channel = other, "unexpected stream from worker; ignored")
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl Handler<Replace> for NodeSession {
    type Result = ();

    fn handle(&mut self, _: Replace, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

/// Registers (or re-registers) the node and starts its pod stream.
async fn hello(
    mut stream: IncomingStream,
    node: &str,
    store: &StoreHandle,
    conn: &Connection,
    lifecycle: &Addr<NodeLifecycle>,
    router: &Addr<PodRouter>,
    heartbeat_seconds: u64,
) -> Result<(), String> {
    let msg: Hello = stream
        .recv()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("hello stream ended early")?;
    let seen_ip = conn.remote_address().ip().to_string();
    register(store, node, &msg, &seen_ip)
        .await
        .map_err(|e| e.to_string())?;
    lifecycle.do_send(Heard {
        node: node.to_string(),
    });
    stream
        .respond(&HelloAck::Registered {
            node_name: node.to_string(),
            heartbeat_seconds,
        })
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(%node, resume_from = msg.resume_from, "node registered");
    stream_pods(conn, store, router, node).await
}

async fn register(
    store: &StoreHandle,
    node: &str,
    hello: &Hello,
    seen_ip: &str,
) -> Result<(), StoreError> {
    let fresh = node_from_hello(node, hello, seen_ip, now());
    for _ in 0..5 {
        let result = match store.db.get(NODES, "", node)? {
            None => {
                store
                    .write(WriteOp::Create {
                        resource: NODES,
                        object: fresh.clone(),
                    })
                    .await
            }
            Some(stored) => {
                let rev = revision(&stored);
                let merged = merge_registration(&stored, &fresh, now());
                let main = store
                    .write(WriteOp::Update {
                        resource: NODES,
                        object: merged.clone(),
                        subresource: Subresource::Main,
                        expected_revision: rev,
                    })
                    .await;
                match main {
                    Ok(r) => {
                        let mut with_status = r.object;
                        with_status["status"] = merged["status"].clone();
                        store
                            .write(WriteOp::Update {
                                resource: NODES,
                                object: with_status,
                                subresource: Subresource::Status,
                                expected_revision: None,
                            })
                            .await
                    }
                    Err(e) => Err(e),
                }
            }
        };
        match result {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict { .. } | StoreError::AlreadyExists { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Storage(format!(
        "could not register node {node}: too many conflicting writes"
    )))
}

fn revision(obj: &Value) -> Option<u64> {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

/// How often a live node's status is written back (its conditions' `lastHeartbeatTime`), as
/// kubelet's nodeStatusReportFrequency (5 minutes there). Liveness itself is in memory
/// (`NodeLifecycle`), fed by every heartbeat, and a node back from silence is marked Ready by
/// the lifecycle: 5,000 nodes cost about 80 writes a second, not 5,000.
pub const NODE_STATUS_REFRESH: std::time::Duration = std::time::Duration::from_secs(60);

/// Feeds every heartbeat to the node lifecycle, keeps the usage it carries (in memory only),
/// and renews the node's conditions when they are due ([`NODE_STATUS_REFRESH`]). A heartbeat
/// costs no store read or write.
async fn heartbeats(
    mut stream: IncomingStream,
    node: String,
    store: StoreHandle,
    lifecycle: Addr<NodeLifecycle>,
    metrics: MetricsRegistry,
) {
    // Registration has just written the status.
    let mut written = std::time::Instant::now();
    // The renewal in flight, if any. It runs beside the loop: a store slow to answer (under
    // load) must not hold back the reading of heartbeats, or live nodes would look dead.
    let mut renewing: Option<tokio::task::JoinHandle<bool>> = None;
    loop {
        match stream.recv::<Heartbeat>().await {
            Ok(Some(hb)) => {
                lifecycle.do_send(Heard { node: node.clone() });
                if let Some(usage) = hb.usage {
                    metrics.record(&node, usage);
                }
                if renewing.as_ref().is_some_and(|t| !t.is_finished()) {
                    continue;
                }
                if let Some(done) = renewing.take() {
                    if done.await.unwrap_or(false) {
                        written = std::time::Instant::now();
                    }
                }
                if written.elapsed() >= NODE_STATUS_REFRESH {
                    let (store, node) = (store.clone(), node.clone());
                    renewing = Some(tokio::spawn(async move {
                        match renew(&store, &node).await {
                            Ok(()) => true,
                            Err(e) => {
                                tracing::warn!(%node, error = %e, "could not renew node status");
                                false
                            }
                        }
                    }));
                }
            }
            Ok(None) => return,
            Err(e) => {
                tracing::debug!(%node, error = %e, "heartbeat stream ended");
                return;
            }
        }
    }
}

async fn renew(store: &StoreHandle, node: &str) -> Result<(), StoreError> {
    store
        .modify(NODES, "", node, Subresource::Status, |obj| {
            mark_healthy(obj, now());
            true
        })
        .await
        .map(|_| ())
}

/// Writes the pod statuses a worker reports.
async fn statuses(mut stream: IncomingStream, node: String, store: StoreHandle) {
    loop {
        match stream.recv::<StatusBatch>().await {
            Ok(Some(batch)) => {
                // Each step's writes go to the store together (one group commit, not one
                // commit each): a batch holds one status per pod and events already counted,
                // so they do not depend on each other. Events first: a Killing event may come
                // in the batch that removes its pod.
                record_pod_events(&store, &node, batch.events).await;
                join_all(batch.stopped.iter().map(|p| async {
                    if let Err(e) = confirm_stopped(&store, &node, p).await {
                        tracing::warn!(%node, pod = %p.name, error = %e, "could not remove a stopped pod");
                    }
                }))
                .await;
                tracing::debug!(%node, acked = batch.acked_revision, updates = ?batch.updates.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), "status batch");
                join_all(batch.updates.into_iter().map(|u| {
                    let (store, node) = (&store, &node);
                    async move {
                        let Ok(status) = serde_json::from_slice::<Value>(&u.status) else {
                            tracing::warn!(%node, pod = %u.name, "status that is not JSON; dropped");
                            return;
                        };
                        if let Err(e) =
                            write_pod_status(store, node, &u.namespace, &u.name, &u.uid, status).await
                        {
                            tracing::warn!(%node, pod = %u.name, error = %e, "could not write pod status");
                        }
                    }
                }))
                .await;
            }
            Ok(None) => return,
            Err(e) => {
                tracing::debug!(%node, error = %e, "status stream ended");
                return;
            }
        }
    }
}

/// Most worker events recorded from one batch; the rest are dropped (events are informational).
const MAX_EVENTS_PER_BATCH: usize = 256;

/// Records the events a worker reports about its pods, as the kubelet of `node`. An event
/// with an unknown type, an empty or over-long reason, or about a pod that is not this
/// node's (or not that incarnation) is dropped.
async fn record_pod_events(store: &StoreHandle, node: &str, events: Vec<PodEvent>) {
    if events.len() > MAX_EVENTS_PER_BATCH {
        tracing::warn!(%node, events = events.len(), "too many pod events in one batch; the rest dropped");
    }
    join_all(
        events
            .into_iter()
            .take(MAX_EVENTS_PER_BATCH)
            .map(|e| record_pod_event(store, node, e)),
    )
    .await;
}

async fn record_pod_event(store: &StoreHandle, node: &str, e: PodEvent) {
    let valid_reason = !e.reason.is_empty()
        && e.reason.len() <= 128
        && e.reason.chars().all(|c| c.is_ascii_alphanumeric());
    if !matches!(e.type_.as_str(), "Normal" | "Warning") || !valid_reason {
        tracing::warn!(%node, reason = %e.reason, type_ = %e.type_, "malformed pod event; dropped");
        return;
    }
    let pod = match store.db.get(PODS, &e.pod.namespace, &e.pod.name) {
        Ok(Some(pod)) => pod,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(%node, error = %err, "could not read a pod for its event");
            return;
        }
    };
    if !bound_to(&pod, node)
        || pod.pointer("/metadata/uid").and_then(Value::as_str) != Some(e.pod.uid.as_str())
    {
        return;
    }
    let source = Source {
        component: "kubelet",
        host: Some(node),
    };
    if let Err(err) = record_events(
        store, &pod, &e.type_, &e.reason, &e.message, source, e.count,
    )
    .await
    {
        tracing::warn!(%node, pod = %e.pod.name, error = %err, "could not record a pod event");
    }
}

async fn write_pod_status(
    store: &StoreHandle,
    node: &str,
    ns: &str,
    name: &str,
    uid: &str,
    status: Value,
) -> Result<(), StoreError> {
    store
        .modify(PODS, ns, name, Subresource::Status, |pod| {
            // A worker writes only its own pods' statuses, and not an older incarnation's.
            let mine = bound_to(pod, node)
                && pod.pointer("/metadata/uid").and_then(Value::as_str) == Some(uid);
            if mine {
                pod["status"] = status.clone();
            } else {
                tracing::warn!(%node, pod = %name, "a status for a pod not on this node (or an older incarnation); dropped");
            }
            mine
        })
        .await
        .map(|written| {
            if written.is_none() {
                tracing::debug!(%node, pod = %name, "status not written (pod gone or not ours)");
            }
        })
}

/// The worker stopped every container of a pod being deleted: remove the object (only this
/// node's pod, only that incarnation, only if it is being deleted).
async fn confirm_stopped(
    store: &StoreHandle,
    node: &str,
    p: &crate::protocol::PodRef,
) -> Result<(), StoreError> {
    let Some(pod) = store.db.get(PODS, &p.namespace, &p.name)? else {
        return Ok(());
    };
    let same = pod.pointer("/metadata/uid").and_then(Value::as_str) == Some(p.uid.as_str());
    if !same || !bound_to(&pod, node) || !capstan_core::write_rules::is_deleting(&pod) {
        return Ok(());
    }
    match store
        .write(WriteOp::Delete {
            resource: PODS,
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            expected_uid: Some(p.uid.clone()),
            expected_revision: None,
            grace_seconds: None,
        })
        .await
    {
        Ok(_) | Err(StoreError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

fn bound_to(pod: &Value, node: &str) -> bool {
    pod.pointer("/spec/nodeName").and_then(Value::as_str) == Some(node)
}

/// How long a node's pod stream stays quiet before it is sent a bookmark (the revision it is
/// up to). Kubernetes' watch bookmarks come about once a minute; every bookmark is a frame to
/// send, and at 5,000 nodes one each 5 s was 1,000 frames a second.
const BOOKMARK_AFTER: Duration = Duration::from_secs(60);

/// Streams the node's pods: a snapshot (the pods the [`PodRouter`] has bound to the node), then
/// every later change the router hands this session that the worker does not already hold
/// ([`Snapshot::is_news`]), with a bookmark after a quiet minute so the worker's applied
/// revision keeps up. The worker's resume point is not needed: a snapshot is one read per pod
/// of this node, not a scan of every pod.
async fn stream_pods(
    conn: &Connection,
    store: &StoreHandle,
    router: &Addr<PodRouter>,
    node: &str,
) -> Result<(), String> {
    let mut push = conn
        .open_push(channel::PODS)
        .await
        .map_err(|e| e.to_string())?;
    let mut sub = router
        .send(Subscribe {
            node: node.to_string(),
        })
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the pod router is rebuilding its index")?;
    let (store2, node2, keys) = (
        store.clone(),
        node.to_string(),
        std::mem::take(&mut sub.keys),
    );
    let (mut snapshot, pods) =
        tokio::task::spawn_blocking(move || Snapshot::read(&store2, &node2, &keys))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    push.send(&PodStreamMsg::Snapshot {
        revision: sub.revision,
        pods: pods.iter().map(|p| p.to_string().into_bytes()).collect(),
    })
    .await
    .map_err(|e| e.to_string())?;
    drop(pods);
    loop {
        let ev = match tokio::time::timeout(BOOKMARK_AFTER, sub.changes.recv()).await {
            Ok(Some(ev)) => ev,
            Ok(None) => return Err("the pod router dropped this session's subscription".into()),
            Err(_) => match sub.bookmark() {
                Ok(Some(revision)) => {
                    push.send(&PodStreamMsg::Bookmark { revision })
                        .await
                        .map_err(|e| e.to_string())?;
                    continue;
                }
                Ok(None) => return Err("the pod router dropped this session's subscription".into()),
                Err(ev) => ev,
            },
        };
        if !snapshot.is_news(&ev) {
            continue;
        }
        let msg = PodStreamMsg::Change {
            revision: ev.revision,
            deleted: ev.event_type == EventType::Deleted,
            pod: ev.object.to_string().into_bytes(),
        };
        push.send(&msg).await.map_err(|e| e.to_string())?;
    }
}
