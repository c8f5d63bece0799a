//! SchedulerActor: see the module docs of `scheduler`.

use super::queue::{Queue, Waiting};
use crate::controllers::feed::{self, Changed, Listed};
use crate::store::{EventType, StoreHandle};
use actix::prelude::*;
use capstan_core::api::node::Node;
use capstan_core::api::pod::Pod;
use capstan_core::binding::{bind, mark_unschedulable};
use capstan_core::kinds::{NODES, PODS};
use capstan_core::scheduler::{Config, NodeInfo, PodInfo, Scheduler, Snapshot};
use capstan_core::write_rules::Subresource;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The scheduler names this scheduler serves (and the empty name, which defaults to the first).
pub const SCHEDULER_NAMES: [&str; 2] = ["default-scheduler", "capstan"];

/// How often backing-off pods are checked.
const TICK: Duration = Duration::from_millis(250);

/// Scheduler settings.
#[derive(Debug, Clone, Copy)]
pub struct SchedulerConfig {
    /// The engine's settings (scoring strategy, sampling, seed).
    pub engine: Config,
    /// Most decisions per batch (between batches the actor takes its messages).
    pub batch: usize,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            engine: Config::default(),
            batch: 512,
        }
    }
}

/// What the scheduler has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedulerStats {
    /// Decisions that found a node.
    pub scheduled: u64,
    /// Attempts that found none.
    pub unschedulable_attempts: u64,
    /// Bindings that did not land (the pod changed, went or was bound by someone else).
    pub binding_failures: u64,
    /// Pods waiting now.
    pub waiting: usize,
    /// Bindings being written now.
    pub in_flight: usize,
    /// Nodes known.
    pub nodes: usize,
}

/// Decide a batch.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Drain;

/// Asks for [`SchedulerStats`].
#[derive(Debug, Message)]
#[rtype(result = "SchedulerStats")]
pub struct GetSchedulerStats;

/// A decision whose binding is being written.
struct InFlight {
    node: String,
    waiting: Waiting,
}

/// The scheduler. See the module docs.
pub struct SchedulerActor {
    store: StoreHandle,
    config: SchedulerConfig,
    engine: Scheduler,
    queue: Queue,
    in_flight: HashMap<String, InFlight>,
    draining: bool,
    stats: SchedulerStats,
}

fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or_default()
}

fn is_ours(pod: &Value) -> bool {
    let name = str_at(pod, "/spec/schedulerName");
    name.is_empty() || SCHEDULER_NAMES.contains(&name)
}

fn terminal(pod: &Value) -> bool {
    matches!(str_at(pod, "/status/phase"), "Succeeded" | "Failed")
}

fn deleting(pod: &Value) -> bool {
    pod.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

fn pod_info(pod: &Value) -> Option<PodInfo> {
    match serde_json::from_value::<Pod>(pod.clone()) {
        Ok(p) => Some(PodInfo::from_pod(&p)),
        Err(e) => {
            tracing::warn!(pod = str_at(pod, "/metadata/name"), error = %e, "scheduler: pod not understood");
            None
        }
    }
}

fn node_info(node: &Value) -> Option<NodeInfo> {
    // Read in place: a Node is changed by every status renewal, and copying the whole object
    // first would double the cost of each.
    <Node as serde::Deserialize>::deserialize(node)
        .ok()
        .map(|n| NodeInfo::from_node(&n))
}

/// Whether a node's change may let waiting pods fit: it is new, became Ready or schedulable,
/// or its capacity, labels or taints changed.
fn may_help(old: Option<&NodeInfo>, new: &NodeInfo) -> bool {
    let Some(old) = old else {
        return true;
    };
    (new.ready && !old.ready)
        || (old.unschedulable && !new.unschedulable)
        || new.allocatable != old.allocatable
        || new.labels != old.labels
        || new.taints != old.taints
}

impl SchedulerActor {
    /// A scheduler over `store`.
    pub fn new(store: StoreHandle, config: SchedulerConfig) -> SchedulerActor {
        SchedulerActor {
            store,
            engine: Scheduler::new(config.engine),
            config,
            queue: Queue::default(),
            in_flight: HashMap::new(),
            draining: false,
            stats: SchedulerStats::default(),
        }
    }

    fn kick(&mut self, ctx: &mut Context<Self>) {
        if !self.draining && self.queue.active_len() > 0 {
            self.draining = true;
            ctx.notify(Drain);
        }
    }

    /// Applies one pod as it now is (or its deletion). Returns whether resources were freed.
    fn apply_pod(&mut self, pod: &Arc<Value>, deleted: bool) -> bool {
        let uid = str_at(pod, "/metadata/uid").to_string();
        if uid.is_empty() {
            return false;
        }
        if deleted {
            self.queue.remove(&uid);
            self.in_flight.remove(&uid);
            return self.engine.snapshot_mut().remove_pod(&uid).is_some();
        }
        let node = str_at(pod, "/spec/nodeName");
        if !node.is_empty() {
            self.queue.remove(&uid);
            self.in_flight.remove(&uid);
            if terminal(pod) {
                return self.engine.snapshot_mut().remove_pod(&uid).is_some();
            }
            if let Some(info) = pod_info(pod) {
                self.engine.snapshot_mut().add_pod(node, &info);
            }
            return false;
        }
        if let Some(f) = self.in_flight.get_mut(&uid) {
            // Our binding is on its way; keep the latest copy in case it has to be redone.
            f.waiting.pod = pod.clone();
            return false;
        }
        if is_ours(pod) && !deleting(pod) && !terminal(pod) {
            if let Some(info) = pod_info(pod) {
                self.queue.upsert(&uid, pod.clone(), info);
            }
        } else {
            self.queue.remove(&uid);
        }
        false
    }

    /// Applies one node; returns whether the change may let waiting pods fit.
    fn apply_node(&mut self, node: &Value, deleted: bool) -> bool {
        let name = str_at(node, "/metadata/name");
        if deleted {
            self.engine.snapshot_mut().remove_node(name);
            return false;
        }
        let Some(info) = node_info(node) else {
            return false;
        };
        let helps = may_help(self.engine.snapshot().node(name), &info);
        self.engine.snapshot_mut().upsert_node(info);
        helps
    }

    fn on_bound(&mut self, results: Vec<(String, Result<(), String>)>) {
        for (uid, result) in results {
            let Err(why) = result else {
                continue;
            };
            self.stats.binding_failures += 1;
            let Some(f) = self.in_flight.remove(&uid) else {
                continue;
            };
            // Undo the assumption, then look at the pod as it is now.
            self.engine.snapshot_mut().remove_pod(&uid);
            let (ns, name) = (
                str_at(&f.waiting.pod, "/metadata/namespace").to_string(),
                str_at(&f.waiting.pod, "/metadata/name").to_string(),
            );
            match self.store.db.get(PODS, &ns, &name) {
                Ok(Some(current)) if str_at(&current, "/metadata/uid") == uid => {
                    tracing::debug!(pod = %name, node = %f.node, reason = %why, "binding did not land");
                    let current = Arc::new(current);
                    self.apply_pod(&current, false);
                    self.queue.retry_now(&uid);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(pod = %name, error = %e, "scheduler: re-reading a pod failed; retrying it");
                    self.queue
                        .upsert(&uid, f.waiting.pod.clone(), f.waiting.info.clone());
                    self.queue.retry_now(&uid);
                }
            }
        }
    }
}

async fn bind_one(store: StoreHandle, pod: Arc<Value>, node: String) -> Result<(), String> {
    let (ns, name) = (
        str_at(&pod, "/metadata/namespace"),
        str_at(&pod, "/metadata/name"),
    );
    let uid = str_at(&pod, "/metadata/uid").to_string();
    let now = crate::store::now();
    let mut refused = None;
    let stored = store
        .modify(PODS, ns, name, Subresource::Binding, |p| {
            if str_at(p, "/metadata/uid") != uid {
                refused = Some("the pod was replaced".to_string());
                return false;
            }
            match bind(p, &node, now) {
                Ok(bound) => {
                    *p = bound;
                    true
                }
                Err(e) => {
                    refused = Some(e.to_string());
                    false
                }
            }
        })
        .await
        .map_err(|e| e.to_string())?;
    match (stored, refused) {
        (Some(bound), _) => {
            let message = format!("Successfully assigned {ns}/{name} to {node}");
            if let Err(e) = crate::events::record_event(
                &store,
                &bound,
                "Normal",
                "Scheduled",
                &message,
                "default-scheduler",
            )
            .await
            {
                tracing::debug!(pod = name, error = %e, "could not record the Scheduled event");
            }
            Ok(())
        }
        (None, Some(why)) => Err(why),
        (None, None) => Err("the pod is gone".into()),
    }
}

async fn report_unschedulable(store: StoreHandle, pod: Arc<Value>, message: String) {
    let (ns, name) = (
        str_at(&pod, "/metadata/namespace"),
        str_at(&pod, "/metadata/name"),
    );
    let uid = str_at(&pod, "/metadata/uid").to_string();
    let now = crate::store::now();
    let written = store
        .modify(PODS, ns, name, Subresource::Status, |p| {
            if str_at(p, "/metadata/uid") != uid || !str_at(p, "/spec/nodeName").is_empty() {
                return false;
            }
            match mark_unschedulable(p, &message, now) {
                Some(marked) => {
                    *p = marked;
                    true
                }
                None => false,
            }
        })
        .await;
    if let Err(e) = written {
        tracing::debug!(pod = name, error = %e, "could not write the Unschedulable condition");
    }
    if let Err(e) = crate::events::record_event(
        &store,
        &pod,
        "Warning",
        "FailedScheduling",
        &message,
        "default-scheduler",
    )
    .await
    {
        tracing::debug!(pod = name, error = %e, "could not record the FailedScheduling event");
    }
}

impl Actor for SchedulerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        tracing::info!(strategy = ?self.config.engine.strategy, "scheduler started");
        // The same list+watch feed as the controllers', over nodes and pods.
        actix::spawn(feed::run(
            ctx.address().recipient(),
            ctx.address().recipient(),
            self.store.clone(),
            vec![NODES, PODS],
        ));
        ctx.run_interval(TICK, |act, ctx| {
            if act.queue.wake(Instant::now(), false) > 0 {
                act.kick(ctx);
            }
        });
    }
}

impl Handler<Listed> for SchedulerActor {
    type Result = ();
    fn handle(&mut self, Listed(lists): Listed, ctx: &mut Self::Context) {
        *self.engine.snapshot_mut() = Snapshot::new();
        // Nodes first, so that pods are counted against nodes that exist.
        let (nodes, pods): (Vec<_>, Vec<_>) = lists.into_iter().partition(|(k, _)| *k == "Node");
        for n in nodes.iter().flat_map(|(_, objects)| objects) {
            self.apply_node(n, false);
        }
        for p in pods.into_iter().flat_map(|(_, objects)| objects) {
            self.apply_pod(&Arc::new(p), false);
        }
        // Decisions still being written stay assumed.
        for f in self.in_flight.values() {
            self.engine.snapshot_mut().add_pod(&f.node, &f.waiting.info);
        }
        tracing::info!(
            nodes = self.engine.snapshot().node_count(),
            waiting = self.queue.len(),
            "scheduler synced"
        );
        self.queue.wake(Instant::now(), true);
        self.kick(ctx);
    }
}

impl Handler<Changed> for SchedulerActor {
    type Result = ();
    fn handle(&mut self, Changed(events): Changed, ctx: &mut Self::Context) {
        let mut helps = false;
        for e in events {
            let deleted = e.event_type == EventType::Deleted;
            helps |= match e.resource.kind {
                "Pod" => self.apply_pod(&e.object, deleted),
                "Node" => self.apply_node(&e.object, deleted),
                _ => false,
            };
        }
        if helps {
            self.queue.wake(Instant::now(), true);
        }
        self.kick(ctx);
    }
}

impl Handler<Drain> for SchedulerActor {
    type Result = ();
    fn handle(&mut self, _: Drain, ctx: &mut Self::Context) {
        self.draining = false;
        let (decided, failed) = super::decide(
            &mut self.engine,
            &mut self.queue,
            self.config.batch,
            Instant::now(),
            None,
        );
        self.stats.scheduled += decided.len() as u64;
        self.stats.unschedulable_attempts += failed.len() as u64;
        let mut binds = Vec::with_capacity(decided.len());
        for d in decided {
            binds.push((d.uid.clone(), d.waiting.pod.clone(), d.node.clone()));
            self.in_flight.insert(
                d.uid,
                InFlight {
                    node: d.node,
                    waiting: d.waiting,
                },
            );
        }
        let failures: Vec<(Arc<Value>, String)> =
            failed.into_iter().map(|f| (f.pod, f.message)).collect();
        if !binds.is_empty() {
            let store = self.store.clone();
            let writes =
                futures_util::future::join_all(binds.into_iter().map(move |(uid, pod, node)| {
                    let store = store.clone();
                    async move { (uid, bind_one(store, pod, node).await) }
                }));
            ctx.spawn(writes.into_actor(self).map(|results, act, ctx| {
                act.on_bound(results);
                act.kick(ctx);
            }));
        }
        for (pod, message) in failures {
            actix::spawn(report_unschedulable(self.store.clone(), pod, message));
        }
        self.kick(ctx);
    }
}

impl Handler<GetSchedulerStats> for SchedulerActor {
    type Result = MessageResult<GetSchedulerStats>;
    fn handle(&mut self, _: GetSchedulerStats, _: &mut Self::Context) -> Self::Result {
        MessageResult(SchedulerStats {
            waiting: self.queue.len(),
            in_flight: self.in_flight.len(),
            nodes: self.engine.snapshot().node_count(),
            ..self.stats
        })
    }
}
