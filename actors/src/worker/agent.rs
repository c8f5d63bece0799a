//! NodeAgent: the root actor of a worker process.

use super::pod::{PodActor, PodEventReport, PodGone, PodSettings, PodStatusReport, StopPod};
use super::runtime::{stop_gracefully, Recovered, RecoveredState, Runtime};
use crate::protocol::{
    channel, ContainerUsage, Heartbeat, Hello, HelloAck, LogRequest, NodeUsage, PodEvent, PodRef,
    PodStatusUpdate, PodStreamMsg, PodUsage, StatusBatch,
};
use actix::prelude::*;
use capstan_transport::{connect_with_backoff, Backoff, Client, Connection, TransportError};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How often pod status changes are batched to the master.
const STATUS_FLUSH: Duration = Duration::from_millis(100);

/// How long a heartbeat waits for the agent's usage sample before it goes without one.
const USAGE_WAIT: Duration = Duration::from_millis(200);

/// How a worker reaches its master.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// This node's name (also the CN of its certificate).
    pub node_name: String,
    /// The master's QUIC address.
    pub master: SocketAddr,
    /// The name the master's certificate must carry (host name or IP).
    pub server_name: String,
    /// What to register (resume_from is filled in per connection).
    pub hello: Hello,
}

/// A pod the node should run, as far as the agent knows.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredPod {
    /// The pod's uid.
    pub uid: String,
    /// The revision of the pod's last change.
    pub revision: u64,
    /// The pod as the master sent it.
    pub pod: Arc<Value>,
}

impl DesiredPod {
    /// Whether the pod has finished (phase Succeeded or Failed, as last reported).
    pub fn terminal(&self) -> bool {
        matches!(
            self.pod.pointer("/status/phase").and_then(Value::as_str),
            Some("Succeeded" | "Failed")
        )
    }

    /// Whether the pod is being deleted (its containers must stop, then the worker confirms).
    pub fn deleting(&self) -> bool {
        self.pod
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|v| !v.is_null())
    }
}

/// The worker's root actor.
pub struct NodeAgent {
    cfg: AgentConfig,
    client: Arc<Client>,
    desired: DesiredPods,
    runtime: Arc<dyn Runtime>,
    settings: Arc<PodSettings>,
    /// Running pod actors by `namespace/name`, with the uid they run.
    pods: HashMap<String, (String, Addr<PodActor>)>,
    /// Status changes not yet sent, the latest per pod.
    pending: BTreeMap<String, PodStatusUpdate>,
    /// Set when the worker is stopping: no pod is started again.
    shutting_down: bool,
    /// Deleting pods whose containers have stopped, to confirm to the master.
    stopped: BTreeMap<String, PodRef>,
    /// Uids already confirmed stopped (each is confirmed once per connection's flush).
    confirmed: std::collections::HashSet<String>,
    /// The last status each running pod reported, by `namespace/name`.
    last_status: HashMap<String, Value>,
    /// Containers an earlier worker on this data_dir started, by pod uid, until the first
    /// desired set arrives and decides which are adopted and which are stopped.
    recovered: HashMap<String, Vec<Recovered>>,
    /// The previous usage sample per (pod uid, container): when, and CPU nanoseconds.
    usage_prev: HashMap<(String, String), (std::time::Instant, u64)>,
    /// Pod events not yet sent, identical ones counted together.
    events: PendingEvents,
}

/// Most distinct pod events held between two flushes; more are dropped (and counted in the
/// log): events are informational, statuses are what must not be lost.
const MAX_PENDING_EVENTS: usize = 1024;

/// Pod events waiting for the next status flush, in the order they first happened.
#[derive(Default)]
struct PendingEvents {
    list: Vec<PodEvent>,
    index: HashMap<(String, &'static str, String), usize>,
    dropped: u64,
}

impl PendingEvents {
    fn add(&mut self, e: PodEventReport) {
        let key = (e.uid.clone(), e.reason, e.message.clone());
        if let Some(&i) = self.index.get(&key) {
            self.list[i].count = self.list[i].count.saturating_add(1);
            return;
        }
        if self.list.len() >= MAX_PENDING_EVENTS {
            self.dropped += 1;
            return;
        }
        let (namespace, name) = e.key.split_once('/').unwrap_or(("default", &e.key));
        self.index.insert(key, self.list.len());
        self.list.push(PodEvent {
            pod: PodRef {
                namespace: namespace.to_string(),
                name: name.to_string(),
                uid: e.uid,
            },
            type_: e.type_.to_string(),
            reason: e.reason.to_string(),
            message: e.message,
            count: 1,
        });
    }

    fn take(&mut self) -> Vec<PodEvent> {
        if self.dropped > 0 {
            tracing::warn!(
                dropped = self.dropped,
                "pod events dropped: more than {MAX_PENDING_EVENTS} between two flushes"
            );
            self.dropped = 0;
        }
        self.index.clear();
        std::mem::take(&mut self.list)
    }
}

impl NodeAgent {
    /// An agent that connects with `client` (mutual TLS with the node's certificate) and runs
    /// containers with `runtime`.
    pub fn new(
        cfg: AgentConfig,
        client: impl Into<Arc<Client>>,
        runtime: Arc<dyn Runtime>,
        settings: PodSettings,
    ) -> NodeAgent {
        NodeAgent {
            cfg,
            client: client.into(),
            desired: DesiredPods::default(),
            runtime,
            settings: Arc::new(settings),
            pods: HashMap::new(),
            pending: BTreeMap::new(),
            shutting_down: false,
            stopped: BTreeMap::new(),
            confirmed: std::collections::HashSet::new(),
            last_status: HashMap::new(),
            recovered: HashMap::new(),
            usage_prev: HashMap::new(),
            events: PendingEvents::default(),
        }
    }

    /// Converges the pod actors to the desired pods: starts new ones, stops removed ones,
    /// replaces ones whose uid changed, leaves the rest alone.
    fn reconcile(&mut self, ctx: &mut Context<Self>) {
        if self.shutting_down {
            return;
        }
        let doomed: Vec<String> = self
            .pods
            .iter()
            .filter(|(key, (uid, _))| {
                self.desired
                    .pods
                    .get(*key)
                    .is_none_or(|d| &d.uid != uid || d.deleting())
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in doomed {
            if let Some((_, addr)) = self.pods.get(&key) {
                addr.do_send(StopPod);
            }
            // The actor stays in the map until it reports itself gone.
            if self.desired.pods.get(&key).is_none_or(|d| !d.deleting()) {
                self.pods.remove(&key);
            }
            self.pending.remove(&key);
        }
        for (key, d) in &self.desired.pods {
            let recovered = self.recovered.remove(&d.uid);
            if d.deleting() {
                if let (Some(recovered), false) = (recovered, self.pods.contains_key(key)) {
                    // Deleted while no worker ran: adopt what still runs, to stop it gracefully.
                    let actor = PodActor::new(
                        d.pod.clone(),
                        self.settings.clone(),
                        self.runtime.clone(),
                        ctx.address().recipient(),
                        ctx.address().recipient(),
                        ctx.address().recipient(),
                    )
                    .adopting(recovered)
                    .start();
                    actor.do_send(StopPod);
                    self.pods.insert(key.clone(), (d.uid.clone(), actor));
                    continue;
                }
                // Nothing runs for it here: confirm at once.
                if !self.pods.contains_key(key) && self.confirmed.insert(d.uid.clone()) {
                    let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
                    self.stopped.insert(
                        key.clone(),
                        PodRef {
                            namespace: namespace.into(),
                            name: name.into(),
                            uid: d.uid.clone(),
                        },
                    );
                }
                continue;
            }
            if self.pods.contains_key(key) {
                continue;
            }
            if recovered.is_none() && d.terminal() {
                // It ran to completion under an earlier worker whose records are gone: a
                // finished pod is never run again.
                continue;
            }
            let actor = PodActor::new(
                d.pod.clone(),
                self.settings.clone(),
                self.runtime.clone(),
                ctx.address().recipient(),
                ctx.address().recipient(),
                ctx.address().recipient(),
            )
            .adopting(recovered.unwrap_or_default())
            .start();
            self.pods.insert(key.clone(), (d.uid.clone(), actor));
        }
        self.stop_unwanted_recovered();
        let desired = &self.desired.pods;
        self.confirmed
            .retain(|uid| desired.values().any(|d| &d.uid == uid));
    }
}

/// The pods the master wants on this node, converged from the pod stream, and the revision
/// up to which every change has been applied (the resume point after a reconnect).
#[derive(Debug, Clone, Default)]
pub struct DesiredPods {
    pods: BTreeMap<String, DesiredPod>,
    applied: u64,
}

impl DesiredPods {
    fn log(event: &str, key: &str, revision: u64) {
        tracing::info!(target: "capstan::pods", event, pod = key, revision, "pod");
    }

    /// Applies one pod-stream message; returns the revision now fully applied.
    fn apply(&mut self, msg: PodStreamMsg) -> u64 {
        match msg {
            PodStreamMsg::Snapshot { revision, pods } => {
                let mut fresh = BTreeMap::new();
                for bytes in pods {
                    if let Some((key, uid, pod)) = identity(&bytes) {
                        fresh.insert(
                            key,
                            DesiredPod {
                                uid,
                                revision,
                                pod: Arc::new(pod),
                            },
                        );
                    }
                }
                for (key, p) in &fresh {
                    match self.pods.get(key) {
                        None => Self::log("ADDED", key, p.revision),
                        Some(old) if old.uid != p.uid => Self::log("REPLACED", key, p.revision),
                        Some(_) => {}
                    }
                }
                for key in self.pods.keys() {
                    if !fresh.contains_key(key) {
                        Self::log("DELETED", key, revision);
                    }
                }
                self.pods = fresh;
                self.applied = revision;
            }
            PodStreamMsg::Change {
                revision,
                deleted,
                pod,
            } => {
                if let Some((key, uid, pod)) = identity(&pod) {
                    if deleted {
                        if self.pods.remove(&key).is_some() {
                            Self::log("DELETED", &key, revision);
                        }
                    } else {
                        let event = if self.pods.contains_key(&key) {
                            "MODIFIED"
                        } else {
                            "ADDED"
                        };
                        Self::log(event, &key, revision);
                        self.pods.insert(
                            key,
                            DesiredPod {
                                uid,
                                revision,
                                pod: Arc::new(pod),
                            },
                        );
                    }
                }
                self.applied = self.applied.max(revision);
            }
            PodStreamMsg::Bookmark { revision } => self.applied = self.applied.max(revision),
        }
        self.applied
    }

    /// The pods, by `namespace/name`.
    pub fn pods(&self) -> &BTreeMap<String, DesiredPod> {
        &self.pods
    }

    /// Every change up to this revision has been applied.
    pub fn applied(&self) -> u64 {
        self.applied
    }
}

fn identity(bytes: &[u8]) -> Option<(String, String, Value)> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let ns = v.pointer("/metadata/namespace")?.as_str()?.to_string();
    let name = v.pointer("/metadata/name")?.as_str()?.to_string();
    let uid = v
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Some((format!("{ns}/{name}"), uid, v))
}

/// Apply a pod-stream message; answers the revision now applied.
#[derive(Debug, Message)]
#[rtype(result = "u64")]
struct Apply(PodStreamMsg);

/// The revision to resume the pod stream from.
#[derive(Debug, Message)]
#[rtype(result = "u64")]
struct GetResume;

/// The worker is stopping: stop every pod (gracefully) and start none. Answers how many pod
/// actors are still running; ask again until it is 0.
#[derive(Debug, Message)]
#[rtype(result = "usize")]
pub struct StopAllPods;

/// Where a container's log is, if the pod runs here and has that container.
#[derive(Debug, Message)]
#[rtype(result = "Option<std::path::PathBuf>")]
pub(crate) struct LogPath(pub(crate) LogRequest);

/// Whether a container of a pod on this node is running now (as last reported).
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub(crate) struct ContainerRunning {
    /// `namespace/name`
    pub key: String,
    /// The container.
    pub container: String,
}

/// Status changes to send, taken out of the agent.
#[derive(Debug, Message)]
#[rtype(result = "(Vec<PodStatusUpdate>, Vec<PodRef>, Vec<PodEvent>)")]
struct TakeStatuses;

/// The desired pods (for tests and status).
#[derive(Debug, Message)]
#[rtype(result = "BTreeMap<String, DesiredPod>")]
pub struct GetPods;

/// A fatal error: the worker cannot go on (its certificate was refused, the master is not the
/// one its CA names).
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Fatal(String);

impl Actor for NodeAgent {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        tracing::info!(node = %self.cfg.node_name, master = %self.cfg.master, "node agent started");
        for r in self.runtime.recover() {
            self.recovered.entry(r.pod_uid.clone()).or_default().push(r);
        }
        if !self.recovered.is_empty() {
            tracing::info!(pods = self.recovered.len(), "found containers of an earlier worker; adopting the wanted ones once the master says which");
        }
        actix::spawn(run(ctx.address(), self.client.clone(), self.cfg.clone()));
    }
}

impl NodeAgent {
    /// Stops the recovered containers of pods the master no longer wants here (deleted or
    /// moved while no worker ran): SIGTERM, SIGKILL after a grace period, then their records go.
    fn stop_unwanted_recovered(&mut self) {
        for (uid, containers) in self.recovered.drain() {
            let runtime = self.runtime.clone();
            actix::spawn(async move {
                for c in containers {
                    if let RecoveredState::Running(mut exit) = c.state {
                        tracing::info!(pod_uid = %uid, container = %c.container, pid = c.pid,
                            "stopping a container of a pod no longer bound to this node");
                        stop_gracefully(&*runtime, c.pid, &mut exit, UNWANTED_GRACE).await;
                    }
                }
                runtime.forget_pod(&uid);
            });
        }
    }

    /// The usage of every running container, with CPU averaged since the previous sample.
    fn collect_usage(&mut self) -> Option<NodeUsage> {
        let now = std::time::Instant::now();
        let by_uid: HashMap<&str, &str> = self
            .pods
            .iter()
            .map(|(key, (uid, _))| (uid.as_str(), key.as_str()))
            .collect();
        let mut pods: BTreeMap<String, PodUsage> = BTreeMap::new();
        let mut next_prev = HashMap::new();
        let mut window_ms = 0u64;
        for sample in self.runtime.usage() {
            let Some(key) = by_uid.get(sample.pod_uid.as_str()) else {
                continue;
            };
            let id = (sample.pod_uid.clone(), sample.container.clone());
            let cpu_millis = match self.usage_prev.get(&id) {
                Some((at, nanos)) => {
                    let elapsed = now.duration_since(*at).as_nanos().max(1);
                    window_ms = window_ms.max(now.duration_since(*at).as_millis() as u64);
                    let used = u128::from(sample.stats.cpu_usage_nanos.saturating_sub(*nanos));
                    u64::try_from(used * 1000 / elapsed).unwrap_or(u64::MAX)
                }
                None => 0,
            };
            next_prev.insert(id, (now, sample.stats.cpu_usage_nanos));
            let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
            let pod = pods.entry(key.to_string()).or_insert_with(|| PodUsage {
                namespace: namespace.to_string(),
                name: name.to_string(),
                uid: sample.pod_uid.clone(),
                containers: Vec::new(),
            });
            pod.containers.push(ContainerUsage {
                name: sample.container,
                cpu_millis,
                memory_bytes: sample.stats.memory_bytes,
            });
        }
        let first = self.usage_prev.is_empty() && !next_prev.is_empty();
        self.usage_prev = next_prev;
        if first {
            // CPU needs two samples; the next heartbeat carries the first usage.
            return None;
        }
        let pods: Vec<PodUsage> = pods.into_values().collect();
        let containers = pods.iter().flat_map(|p| &p.containers);
        Some(NodeUsage {
            window_ms,
            cpu_millis: containers.clone().map(|c| c.cpu_millis).sum(),
            memory_bytes: containers.map(|c| c.memory_bytes).sum(),
            pods,
        })
    }
}

/// How long a recovered container of an unwanted pod has between SIGTERM and SIGKILL (its
/// pod's own grace period is not known any more).
const UNWANTED_GRACE: Duration = Duration::from_secs(10);

/// The node's usage now, for the next heartbeat.
#[derive(Debug, Message)]
#[rtype(result = "Option<NodeUsage>")]
struct CollectUsage;

impl Handler<CollectUsage> for NodeAgent {
    type Result = Option<NodeUsage>;
    fn handle(&mut self, _: CollectUsage, _: &mut Self::Context) -> Option<NodeUsage> {
        self.collect_usage()
    }
}

impl Handler<Apply> for NodeAgent {
    type Result = u64;
    fn handle(&mut self, msg: Apply, ctx: &mut Self::Context) -> u64 {
        let applied = self.desired.apply(msg.0);
        self.reconcile(ctx);
        applied
    }
}

impl Handler<PodStatusReport> for NodeAgent {
    type Result = ();
    fn handle(&mut self, msg: PodStatusReport, _: &mut Self::Context) {
        // Only the current incarnation of a pod reports.
        if self
            .pods
            .get(&msg.key)
            .is_some_and(|(uid, _)| *uid == msg.uid)
        {
            self.last_status.insert(msg.key.clone(), msg.status.clone());
            let (namespace, name) = msg.key.split_once('/').unwrap_or(("default", &msg.key));
            self.pending.insert(
                msg.key.clone(),
                PodStatusUpdate {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    uid: msg.uid,
                    status: msg.status.to_string().into_bytes(),
                },
            );
        }
    }
}

/// A new session with the master began: queue every pod's latest status again (a batch taken
/// but not delivered before the connection dropped would otherwise be lost for good, since a
/// pod reports only changes).
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct ResendStatuses;

impl Handler<ResendStatuses> for NodeAgent {
    type Result = ();
    fn handle(&mut self, _: ResendStatuses, _: &mut Self::Context) {
        for (key, status) in &self.last_status {
            let Some((uid, _)) = self.pods.get(key) else {
                continue;
            };
            let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
            self.pending.insert(
                key.clone(),
                PodStatusUpdate {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    uid: uid.clone(),
                    status: status.to_string().into_bytes(),
                },
            );
        }
    }
}

/// Stop at once, as if the worker's process had died: no goodbye to the master, pods left as
/// they are (load benchmarks drop hollow nodes this way).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Vanish;

impl Handler<Vanish> for NodeAgent {
    type Result = ();
    fn handle(&mut self, _: Vanish, ctx: &mut Self::Context) {
        tracing::info!(node = %self.cfg.node_name, "vanishing");
        self.shutting_down = true;
        ctx.stop();
    }
}

impl Handler<PodEventReport> for NodeAgent {
    type Result = ();
    fn handle(&mut self, msg: PodEventReport, _: &mut Self::Context) {
        self.events.add(msg);
    }
}

impl Handler<PodGone> for NodeAgent {
    type Result = ();
    fn handle(&mut self, msg: PodGone, ctx: &mut Self::Context) {
        if self
            .pods
            .get(&msg.key)
            .is_some_and(|(uid, _)| *uid == msg.uid)
        {
            self.pods.remove(&msg.key);
            self.last_status.remove(&msg.key);
        }
        // A pod actor that stopped while still wanted (it should not) is started again.
        self.reconcile(ctx);
    }
}

impl Handler<LogPath> for NodeAgent {
    type Result = Option<std::path::PathBuf>;
    fn handle(&mut self, LogPath(req): LogPath, _: &mut Self::Context) -> Self::Result {
        let d = self
            .desired
            .pods
            .get(&format!("{}/{}", req.namespace, req.name))?;
        let has = ["/spec/containers", "/spec/initContainers"]
            .iter()
            .any(|p| {
                d.pod
                    .pointer(p)
                    .and_then(Value::as_array)
                    .is_some_and(|cs| {
                        cs.iter().any(|c| {
                            c.get("name").and_then(Value::as_str) == Some(req.container.as_str())
                        })
                    })
            });
        has.then(|| {
            self.settings
                .log_root
                .join(format!("{}_{}_{}", req.namespace, req.name, d.uid))
                .join(format!("{}.log", req.container))
        })
    }
}

impl Handler<ContainerRunning> for NodeAgent {
    type Result = bool;
    fn handle(&mut self, msg: ContainerRunning, _: &mut Self::Context) -> bool {
        let Some(status) = self.last_status.get(&msg.key) else {
            return false;
        };
        ["/containerStatuses", "/initContainerStatuses"]
            .iter()
            .filter_map(|p| status.pointer(p).and_then(Value::as_array))
            .flatten()
            .any(|c| {
                c.get("name").and_then(Value::as_str) == Some(msg.container.as_str())
                    && c.pointer("/state/running").is_some()
            })
    }
}

impl Handler<StopAllPods> for NodeAgent {
    type Result = usize;
    fn handle(&mut self, _: StopAllPods, _: &mut Self::Context) -> usize {
        if !self.shutting_down {
            self.shutting_down = true;
            for (_, addr) in self.pods.values() {
                addr.do_send(StopPod);
            }
        }
        self.pods.len()
    }
}

impl Handler<TakeStatuses> for NodeAgent {
    type Result = MessageResult<TakeStatuses>;
    fn handle(&mut self, _: TakeStatuses, _: &mut Self::Context) -> Self::Result {
        MessageResult((
            std::mem::take(&mut self.pending).into_values().collect(),
            std::mem::take(&mut self.stopped).into_values().collect(),
            self.events.take(),
        ))
    }
}

impl Handler<GetResume> for NodeAgent {
    type Result = u64;
    fn handle(&mut self, _: GetResume, _: &mut Self::Context) -> u64 {
        self.desired.applied()
    }
}

impl Handler<GetPods> for NodeAgent {
    type Result = MessageResult<GetPods>;
    fn handle(&mut self, _: GetPods, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.desired.pods().clone())
    }
}

impl Handler<Fatal> for NodeAgent {
    type Result = ();
    fn handle(&mut self, msg: Fatal, ctx: &mut Self::Context) {
        tracing::error!(node = %self.cfg.node_name, error = %msg.0, "worker cannot continue");
        eprintln!("error: {}", msg.0);
        ctx.stop();
        System::current().stop_with_code(2);
    }
}

/// Errors after which retrying cannot help.
fn is_fatal(e: &TransportError) -> bool {
    matches!(
        e,
        TransportError::CertificateRejected(_) | TransportError::ServerUntrusted(_)
    )
}

fn explain(e: &TransportError) -> String {
    match e {
        TransportError::CertificateRejected(d) => {
            format!("the master rejected this worker's certificate (issued by another cluster's CA?): {d}")
        }
        TransportError::ServerUntrusted(d) => format!(
            "the master's certificate is not signed by the cluster CA this worker trusts: {d}"
        ),
        other => other.to_string(),
    }
}

async fn run(agent: Addr<NodeAgent>, client: Arc<Client>, cfg: AgentConfig) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    loop {
        let conn = match connect_with_backoff(
            &client,
            cfg.master,
            &cfg.server_name,
            &mut backoff,
            is_fatal,
        )
        .await
        {
            Ok(c) => c,
            Err(e) => {
                agent.do_send(Fatal(explain(&e)));
                return;
            }
        };
        backoff.reset();
        match session(&agent, &conn, &cfg).await {
            Ok(()) => {}
            Err(SessionError::Fatal(why)) => {
                agent.do_send(Fatal(why));
                return;
            }
            Err(SessionError::Lost(why)) => {
                tracing::warn!(node = %cfg.node_name, reason = %why, "lost the master; reconnecting");
            }
        }
        conn.close(0, "reconnecting");
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// Aborts its tasks when dropped (a session's readers end with the session).
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

enum SessionError {
    Fatal(String),
    Lost(String),
}

impl From<TransportError> for SessionError {
    fn from(e: TransportError) -> Self {
        if is_fatal(&e) {
            SessionError::Fatal(explain(&e))
        } else {
            SessionError::Lost(e.to_string())
        }
    }
}

impl From<MailboxError> for SessionError {
    fn from(e: MailboxError) -> Self {
        SessionError::Fatal(format!("node agent gone: {e}"))
    }
}

async fn session(
    agent: &Addr<NodeAgent>,
    conn: &Connection,
    cfg: &AgentConfig,
) -> Result<(), SessionError> {
    let mut hello = cfg.hello.clone();
    hello.resume_from = agent.send(GetResume).await?;
    let heartbeat_seconds = match conn
        .request::<Hello, HelloAck>(channel::HELLO, &hello)
        .await?
    {
        HelloAck::Registered {
            heartbeat_seconds, ..
        } => heartbeat_seconds.clamp(1, 60),
        HelloAck::Refused { reason } => {
            return Err(SessionError::Fatal(format!(
                "the master refused this node: {reason}"
            )))
        }
    };
    tracing::info!(node = %cfg.node_name, resume_from = hello.resume_from, "registered with the master");
    agent.send(ResendStatuses).await?;
    let mut heartbeats = conn.open_push(channel::HEARTBEAT).await?;
    let mut status = conn.open_push(channel::STATUS).await?;
    let mut pods_stream = loop {
        let s = conn.accept_stream().await?;
        if s.channel == channel::PODS {
            break s;
        }
        tracing::warn!(
            channel = s.channel,
            "unexpected stream from the master; ignored"
        );
    };
    // Reading a frame is not cancel-safe (a partly read frame would be lost and the stream
    // left mid-frame), so the reads run in tasks of their own and the loop below selects on
    // channels, which are. The tasks end with the connection.
    let (pods_tx, mut pods) = tokio::sync::mpsc::channel(64);
    let pod_reader = tokio::spawn(async move {
        loop {
            let msg = pods_stream.recv::<PodStreamMsg>().await;
            let end = !matches!(msg, Ok(Some(_)));
            if pods_tx.send(msg).await.is_err() || end {
                return;
            }
        }
    });
    let (streams_tx, mut streams) = tokio::sync::mpsc::channel(16);
    let accept_conn = conn.clone();
    let acceptor = tokio::spawn(async move {
        loop {
            let s = accept_conn.accept_stream().await;
            let end = s.is_err();
            if streams_tx.send(s).await.is_err() || end {
                return;
            }
        }
    });
    // Heartbeats have a task of their own: a status stream held back by a busy master must not
    // hold them back too (the master would take a live node for dead and evict its pods).
    let (beat_err_tx, mut beat_err) = tokio::sync::mpsc::channel::<SessionError>(1);
    let beat_agent = agent.clone();
    let beater = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(heartbeat_seconds));
        let mut seq = 0u64;
        loop {
            tick.tick().await;
            seq += 1;
            // A busy agent (a long mailbox of pod work) must not delay the heartbeat: without
            // an answer in time it goes out without the usage sample.
            let usage = match tokio::time::timeout(USAGE_WAIT, beat_agent.send(CollectUsage)).await
            {
                Ok(Ok(u)) => u,
                Ok(Err(e)) => {
                    let _ = beat_err_tx.send(e.into()).await;
                    return;
                }
                Err(_) => None,
            };
            if let Err(e) = heartbeats.send(&Heartbeat { seq, usage }).await {
                let _ = beat_err_tx.send(e.into()).await;
                return;
            }
        }
    });
    let _readers = AbortOnDrop(vec![pod_reader, acceptor, beater]);
    let mut flush = tokio::time::interval(STATUS_FLUSH);
    let mut acked = 0u64;
    loop {
        tokio::select! {
            _ = flush.tick() => {
                let (updates, stopped, events) = agent.send(TakeStatuses).await?;
                if !updates.is_empty() || !stopped.is_empty() || !events.is_empty() {
                    status.send(&StatusBatch { acked_revision: acked, updates, stopped, events }).await?;
                }
            }
            e = beat_err.recv() => {
                return Err(e.unwrap_or_else(|| SessionError::Lost("the heartbeat task ended".into())));
            }
            msg = pods.recv() => match msg.ok_or_else(|| SessionError::Lost("the pod stream reader ended".into()))?? {
                // The revision applied rides on the next status batch: a frame back for every
                // pod change (and bookmark) would double the master's packets to read.
                Some(m) => acked = agent.send(Apply(m)).await?,
                None => return Err(SessionError::Lost("the master ended the pod stream".into())),
            },
            incoming = streams.recv() => {
                let stream = incoming.ok_or_else(|| SessionError::Lost("the stream acceptor ended".into()))??;
                if stream.channel == channel::LOGS {
                    actix::spawn(super::log_server::serve_log(agent.clone(), stream));
                } else {
                    tracing::warn!(channel = stream.channel, "unexpected stream from the master; ignored");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, uid: &str) -> Vec<u8> {
        serde_json::json!({"metadata": {"namespace": "default", "name": name, "uid": uid}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn snapshot_then_changes_converge() {
        let mut a = DesiredPods::default();
        assert_eq!(
            a.apply(PodStreamMsg::Snapshot {
                revision: 10,
                pods: vec![pod("a", "1"), pod("b", "2")]
            }),
            10
        );
        assert_eq!(
            a.apply(PodStreamMsg::Change {
                revision: 12,
                deleted: false,
                pod: pod("c", "3")
            }),
            12
        );
        assert_eq!(
            a.apply(PodStreamMsg::Change {
                revision: 13,
                deleted: true,
                pod: pod("a", "1")
            }),
            13
        );
        assert_eq!(a.apply(PodStreamMsg::Bookmark { revision: 20 }), 20);
        let keys: Vec<&String> = a.pods.keys().collect();
        assert_eq!(keys, ["default/b", "default/c"]);
        // A later snapshot replaces the set.
        a.apply(PodStreamMsg::Snapshot {
            revision: 30,
            pods: vec![pod("c", "3")],
        });
        assert_eq!(a.pods.keys().collect::<Vec<_>>(), ["default/c"]);
        assert_eq!(a.applied, 30);
    }
}
