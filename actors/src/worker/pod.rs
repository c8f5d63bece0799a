//! PodActor: one pod on this node, the supervisor of its containers. It runs init containers
//! one by one to success, then the app containers; applies the pod's restartPolicy with
//! CrashLoopBackOff backoff when a container exits; computes the pod's status exactly as
//! Kubernetes reports it (`core::pod_lifecycle`) and sends every change to the NodeAgent.

use super::container::{ContainerActor, Start, StopContainer};
use super::probe::{ProbeActor, ProbeKind, ProbeResult, StopProbe};
use super::runtime::{ContainerSpec, Launched, Limits, Recovered, RecoveredState, Runtime};
use actix::prelude::*;
use capstan_core::pod_lifecycle::{
    pod_status_json, BackoffPolicy, ContainerEvent, ContainerStatus, CrashLoop, PodStatusInput,
    RestartPolicy,
};
use capstan_core::time::Timestamp;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every PodActor of a node shares.
#[derive(Debug, Clone)]
pub struct PodSettings {
    /// This node's name.
    pub node_name: String,
    /// This node's IP (pods share the host network for now, so it is also the pod IP).
    pub host_ip: String,
    /// Where container logs go: `<log_root>/<namespace>_<name>_<uid>/<container>.log`.
    pub log_root: PathBuf,
    /// Rotate a container log at this size.
    pub log_max_bytes: u64,
    /// CrashLoopBackOff timing.
    pub backoff: BackoffPolicy,
}

/// The pod's status changed; for the NodeAgent to batch to the master.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct PodStatusReport {
    /// `namespace/name`
    pub key: String,
    /// The pod's uid.
    pub uid: String,
    /// The new `status`.
    pub status: Value,
}

/// Something happened to one of the pod's containers, to be recorded as an Event (the
/// kubelet's Pulled, Created, Started, Killing, BackOff, Unhealthy, Failed).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct PodEventReport {
    /// `namespace/name`
    pub key: String,
    /// The pod's uid.
    pub uid: String,
    /// `Normal` or `Warning`.
    pub type_: &'static str,
    /// The reason.
    pub reason: &'static str,
    /// The message.
    pub message: String,
}

/// The pod actor stopped (all its containers are gone).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct PodGone {
    /// `namespace/name`
    pub key: String,
    /// The pod's uid.
    pub uid: String,
}

/// Stop every container (the pod was deleted or moved away).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct StopPod;

/// A container run started.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ContainerStarted {
    /// Container name.
    pub name: String,
    /// Whether it is an init container.
    pub init: bool,
    /// Which run.
    pub run: u64,
    /// When.
    pub at: Timestamp,
    /// Runtime id.
    pub container_id: String,
}

/// A container run ended.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ContainerExited {
    /// Container name.
    pub name: String,
    /// Whether it is an init container.
    pub init: bool,
    /// Which run.
    pub run: u64,
    /// How it ended (None when it never started or the wait was lost).
    pub exit: Option<super::runtime::Exit>,
    /// Why it could not start, if it could not.
    pub launch_error: Option<String>,
}

struct Running {
    run: u64,
    /// Started by this actor (not adopted from an earlier worker): its start is an event.
    fresh: bool,
    addr: Addr<ContainerActor>,
    since: Instant,
    probes: Vec<Addr<ProbeActor>>,
}

/// One pod.
pub struct PodActor {
    key: String,
    uid: String,
    pod: Arc<Value>,
    settings: Arc<PodSettings>,
    runtime: Arc<dyn Runtime>,
    report_to: Recipient<PodStatusReport>,
    events_to: Recipient<PodEventReport>,
    gone_to: Recipient<PodGone>,
    restart_policy: RestartPolicy,
    init_specs: Vec<Value>,
    app_specs: Vec<Value>,
    init_status: Vec<ContainerStatus>,
    app_status: Vec<ContainerStatus>,
    /// Index of the init container running or next to run; `init_specs.len()` once all are done.
    next_init: usize,
    running: HashMap<String, Running>,
    crash: HashMap<String, CrashLoop>,
    next_run: u64,
    start_time: Option<Timestamp>,
    last_status: Option<Value>,
    stopping: bool,
    failed_init: bool,
    /// Containers an earlier worker started for this pod, to adopt at start.
    recovered: Vec<Recovered>,
}

fn list(pod: &Value, path: &str) -> Vec<Value> {
    pod.pointer(path)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn now() -> Timestamp {
    crate::store::now()
}

impl PodActor {
    /// A pod actor for `pod` (the pod JSON as streamed by the master).
    pub fn new(
        pod: Arc<Value>,
        settings: Arc<PodSettings>,
        runtime: Arc<dyn Runtime>,
        report_to: Recipient<PodStatusReport>,
        events_to: Recipient<PodEventReport>,
        gone_to: Recipient<PodGone>,
    ) -> PodActor {
        let ns = pod
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let name = pod
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let uid = pod
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let init_specs = list(&pod, "/spec/initContainers");
        let app_specs = list(&pod, "/spec/containers");
        let status_of = |c: &Value| {
            ContainerStatus::new(
                c.get("name").and_then(Value::as_str).unwrap_or_default(),
                c.get("image").and_then(Value::as_str).unwrap_or_default(),
            )
        };
        PodActor {
            key: format!("{ns}/{name}"),
            uid,
            restart_policy: RestartPolicy::parse(
                pod.pointer("/spec/restartPolicy")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            ),
            init_status: init_specs.iter().map(status_of).collect(),
            app_status: app_specs.iter().map(status_of).collect(),
            init_specs,
            app_specs,
            pod,
            settings,
            runtime,
            report_to,
            events_to,
            gone_to,
            next_init: 0,
            running: HashMap::new(),
            crash: HashMap::new(),
            next_run: 0,
            start_time: None,
            last_status: None,
            stopping: false,
            failed_init: false,
            recovered: Vec::new(),
        }
    }

    /// Adopt these containers (found by `Runtime::recover`) instead of starting afresh.
    pub fn adopting(mut self, recovered: Vec<Recovered>) -> PodActor {
        self.recovered = recovered;
        self
    }

    fn event(&self, type_: &'static str, reason: &'static str, message: String) {
        self.events_to.do_send(PodEventReport {
            key: self.key.clone(),
            uid: self.uid.clone(),
            type_,
            reason,
            message,
        });
    }

    fn grace(&self) -> Duration {
        let secs = self
            .pod
            .pointer("/spec/terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(30);
        Duration::from_secs(secs.clamp(0, 3600) as u64)
    }

    fn status_mut(&mut self, name: &str, init: bool) -> Option<&mut ContainerStatus> {
        let list = if init {
            &mut self.init_status
        } else {
            &mut self.app_status
        };
        list.iter_mut().find(|c| c.name() == name)
    }

    fn spec_of(&self, name: &str, init: bool) -> Option<&Value> {
        let list = if init {
            &self.init_specs
        } else {
            &self.app_specs
        };
        list.iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
    }

    /// The container's env, with the downward-API fields the process runtime supports.
    fn env(&self, c: &Value) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for e in c
            .get("env")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let name = e
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if let Some(v) = e.get("value").and_then(Value::as_str) {
                out.push((name, v.to_string()));
                continue;
            }
            let field = e
                .pointer("/valueFrom/fieldRef/fieldPath")
                .and_then(Value::as_str);
            let value = match field {
                Some("metadata.name") => self
                    .pod
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                Some("metadata.namespace") => self
                    .pod
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                Some("metadata.uid") => Some(self.uid.clone()),
                Some("spec.nodeName") => Some(self.settings.node_name.clone()),
                Some("spec.serviceAccountName") => self
                    .pod
                    .pointer("/spec/serviceAccountName")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                Some("status.podIP") | Some("status.hostIP") => Some(self.settings.host_ip.clone()),
                Some(other) => {
                    return Err(format!(
                        "env {name}: fieldRef {other} is not supported by the process runtime"
                    ))
                }
                None if e.get("valueFrom").is_some() => {
                    return Err(format!(
                        "env {name}: only fieldRef values are supported by the process runtime"
                    ))
                }
                None => Some(String::new()),
            };
            out.push((name, value.unwrap_or_default()));
        }
        Ok(out)
    }

    fn container_spec(&self, c: &Value) -> Result<ContainerSpec, String> {
        let name = c
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let strings = |k: &str| -> Vec<String> {
            c.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let command = strings("command");
        if command.is_empty() {
            return Err(format!(
                "container {name} has no command: the process runtime runs `command` + `args` and does not run images (image {:?} is recorded only)",
                c.get("image").and_then(Value::as_str).unwrap_or_default()
            ));
        }
        let ns = self
            .pod
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let pod_name = self
            .pod
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let dir = self
            .settings
            .log_root
            .join(format!("{ns}_{pod_name}_{}", self.uid));
        Ok(ContainerSpec {
            pod_key: self.key.clone(),
            pod_uid: self.uid.clone(),
            name: name.clone(),
            command,
            args: strings("args"),
            env: self.env(c)?,
            working_dir: c
                .get("workingDir")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            log_path: dir.join(format!("{name}.log")),
            log_max_bytes: self.settings.log_max_bytes,
            limits: limits(c)?,
        })
    }

    fn launch(&mut self, name: &str, init: bool, ctx: &mut Context<Self>) {
        if self.stopping {
            return;
        }
        let Some(c) = self.spec_of(name, init).cloned() else {
            return;
        };
        match self.container_spec(&c) {
            Err(message) => {
                self.event("Warning", "Failed", format!("Error: {message}"));
                if let Some(s) = self.status_mut(name, init) {
                    s.handle(ContainerEvent::ConfigError { message });
                }
            }
            Ok(spec) => {
                let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
                self.event(
                    "Normal",
                    "Pulled",
                    format!("Container image \"{image}\" already present on machine"),
                );
                self.event("Normal", "Created", format!("Created container {name}"));
                self.next_run += 1;
                let run = self.next_run;
                let ids = (self.key.clone(), self.uid.clone(), name.to_string());
                let addr = ContainerActor::new(
                    ids,
                    Start::Launch(Box::new(spec)),
                    self.runtime.clone(),
                    ctx.address(),
                    run,
                    init,
                )
                .start();
                self.running.insert(
                    name.to_string(),
                    Running {
                        run,
                        fresh: true,
                        addr,
                        since: Instant::now(),
                        probes: Vec::new(),
                    },
                );
            }
        }
        self.report();
    }

    fn start_app_containers(&mut self, ctx: &mut Context<Self>) {
        let names: Vec<String> = self
            .app_specs
            .iter()
            .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
            .collect();
        for n in names {
            self.launch(&n, false, ctx);
        }
    }

    fn report(&mut self) {
        if self.stopping {
            return;
        }
        let input = PodStatusInput {
            restart_policy: self.restart_policy,
            init: &self.init_status,
            init_total: self.init_specs.len(),
            containers: &self.app_status,
            host_ip: &self.settings.host_ip,
            pod_ip: &self.settings.host_ip,
            start_time: self.start_time,
            now: now(),
            previous_conditions: self.last_status.as_ref().and_then(|s| s.get("conditions")),
            deleting: false,
        };
        let status = pod_status_json(&input);
        if self.last_status.as_ref() != Some(&status) {
            self.last_status = Some(status.clone());
            self.report_to.do_send(PodStatusReport {
                key: self.key.clone(),
                uid: self.uid.clone(),
                status,
            });
        }
    }
}

impl Actor for PodActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        tracing::info!(pod = %self.key, uid = %self.uid, "pod actor started");
        self.start_time = Some(now());
        if !self.recovered.is_empty() {
            let recovered = std::mem::take(&mut self.recovered);
            self.adopt(recovered, ctx);
            self.report();
            return;
        }
        if let Some(first) = self
            .init_specs
            .first()
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string)
        {
            self.launch(&first, true, ctx);
        } else {
            self.start_app_containers(ctx);
        }
        self.report();
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::info!(pod = %self.key, "pod actor stopped");
        self.runtime.forget_pod(&self.uid);
        self.gone_to.do_send(PodGone {
            key: self.key.clone(),
            uid: self.uid.clone(),
        });
    }
}

impl Handler<ContainerStarted> for PodActor {
    type Result = ();

    fn handle(&mut self, msg: ContainerStarted, ctx: &mut Self::Context) {
        let Some(running) = self.running.get(&msg.name) else {
            return;
        };
        if running.run != msg.run {
            return;
        }
        if running.fresh {
            self.event(
                "Normal",
                "Started",
                format!("Started container {}", msg.name),
            );
        }
        let init = msg.init;
        if let Some(s) = self.status_mut(&msg.name, init) {
            s.handle(ContainerEvent::Started {
                at: msg.at,
                container_id: msg.container_id,
            });
        }
        if !init {
            if self.probe_spec(&msg.name, ProbeKind::Startup).is_some() {
                self.start_probe(&msg.name, msg.run, ProbeKind::Startup, ctx);
            } else {
                self.startup_done(&msg.name, msg.run, ctx);
            }
        }
        self.report();
    }
}

impl Handler<ContainerExited> for PodActor {
    type Result = ();

    fn handle(&mut self, msg: ContainerExited, ctx: &mut Self::Context) {
        let Some(running) = self.running.get(&msg.name) else {
            return;
        };
        if running.run != msg.run {
            return;
        }
        let ran_for_ms = running.since.elapsed().as_millis() as u64;
        if let Some(r) = self.running.remove(&msg.name) {
            for p in r.probes {
                p.do_send(StopProbe);
            }
        }
        if let (None, Some(err)) = (&msg.exit, &msg.launch_error) {
            self.event("Warning", "Failed", format!("Error: {err}"));
        }
        let (code, event) = match (&msg.exit, &msg.launch_error) {
            (Some(e), _) => (
                e.exit_code,
                ContainerEvent::Exited {
                    at: e.finished_at,
                    exit_code: e.exit_code,
                    signal: e.signal,
                    oom_killed: e.oom_killed,
                    message: None,
                },
            ),
            (None, Some(err)) => (
                128,
                ContainerEvent::Exited {
                    at: now(),
                    exit_code: 128,
                    signal: None,
                    oom_killed: false,
                    message: Some(err.clone()),
                },
            ),
            (None, None) => (
                137,
                ContainerEvent::Exited {
                    at: now(),
                    exit_code: 137,
                    signal: Some(9),
                    oom_killed: false,
                    message: Some("lost track of the process".into()),
                },
            ),
        };
        if let Some(s) = self.status_mut(&msg.name, msg.init) {
            s.handle(event);
        }
        if self.stopping {
            if self.running.is_empty() {
                ctx.stop();
            }
            return;
        }
        let name = msg.name.clone();
        if msg.init {
            if code == 0 {
                self.next_init += 1;
                match self
                    .init_specs
                    .get(self.next_init)
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                {
                    Some(next) => self.launch(&next, true, ctx),
                    None => self.start_app_containers(ctx),
                }
            } else if self.restart_policy == RestartPolicy::Never {
                self.failed_init = true;
            } else {
                self.schedule_restart(name, true, ran_for_ms, ctx);
            }
        } else if self.restart_policy.restarts_after(code) {
            self.schedule_restart(name, false, ran_for_ms, ctx);
        }
        self.report();
    }
}

impl PodActor {
    fn schedule_restart(
        &mut self,
        name: String,
        init: bool,
        ran_for_ms: u64,
        ctx: &mut Context<Self>,
    ) {
        let policy = self.settings.backoff;
        let delay = self
            .crash
            .entry(name.clone())
            .or_default()
            .next_delay(ran_for_ms, &policy);
        let key = self.key.clone();
        let (ns, pod_name) = key.split_once('/').unwrap_or(("default", &key));
        self.event(
            "Warning",
            "BackOff",
            format!(
                "Back-off restarting failed container {name} in pod {pod_name}_{ns}({})",
                self.uid
            ),
        );
        if let Some(s) = self.status_mut(&name, init) {
            s.handle(ContainerEvent::BackingOff {
                delay_ms: delay,
                pod: key,
            });
        }
        tracing::info!(pod = %self.key, container = %name, delay_ms = delay, "container exited; restarting after backoff");
        ctx.run_later(Duration::from_millis(delay), move |act, ctx| {
            act.launch(&name, init, ctx)
        });
    }
}

impl PodActor {
    fn probe_spec(&self, container: &str, kind: ProbeKind) -> Option<Value> {
        let key = match kind {
            ProbeKind::Liveness => "livenessProbe",
            ProbeKind::Readiness => "readinessProbe",
            ProbeKind::Startup => "startupProbe",
        };
        self.spec_of(container, false)?
            .get(key)
            .filter(|p| p.is_object())
            .cloned()
    }

    fn start_probe(&mut self, container: &str, run: u64, kind: ProbeKind, ctx: &mut Context<Self>) {
        let (Some(probe), Some(spec)) = (
            self.probe_spec(container, kind),
            self.spec_of(container, false).cloned(),
        ) else {
            return;
        };
        let env = self.env(&spec).unwrap_or_default();
        let actor = ProbeActor::new(
            kind,
            probe,
            spec,
            run,
            self.settings.host_ip.clone(),
            env,
            ctx.address().recipient(),
        )
        .start();
        if let Some(r) = self.running.get_mut(container) {
            r.probes.push(actor);
        }
    }

    /// Startup is over (the startup probe passed, or there is none): liveness and readiness
    /// probing begins; without a readiness probe the container is ready now.
    fn startup_done(&mut self, container: &str, run: u64, ctx: &mut Context<Self>) {
        if let Some(s) = self.status_mut(container, false) {
            s.handle(ContainerEvent::StartupDone);
        }
        self.start_probe(container, run, ProbeKind::Liveness, ctx);
        if self.probe_spec(container, ProbeKind::Readiness).is_some() {
            self.start_probe(container, run, ProbeKind::Readiness, ctx);
        } else if let Some(s) = self.status_mut(container, false) {
            s.handle(ContainerEvent::Ready(true));
        }
    }
}

impl Handler<ProbeResult> for PodActor {
    type Result = ();

    fn handle(&mut self, msg: ProbeResult, ctx: &mut Self::Context) {
        let Some(running) = self.running.get(&msg.container) else {
            return;
        };
        if running.run != msg.run || self.stopping {
            return;
        }
        if !msg.success {
            let kind = match msg.kind {
                ProbeKind::Liveness => "Liveness",
                ProbeKind::Readiness => "Readiness",
                ProbeKind::Startup => "Startup",
            };
            self.event(
                "Warning",
                "Unhealthy",
                format!("{kind} probe failed: {}", msg.message.trim_end()),
            );
        }
        if !msg.concluded {
            return;
        }
        let Some(running) = self.running.get(&msg.container) else {
            return;
        };
        match (msg.kind, msg.success) {
            (ProbeKind::Startup, true) => self.startup_done(&msg.container, msg.run, ctx),
            (ProbeKind::Readiness, ready) => {
                if let Some(s) = self.status_mut(&msg.container, false) {
                    s.handle(ContainerEvent::Ready(ready));
                }
            }
            (ProbeKind::Liveness, true) => {}
            (kind, false) => {
                let what = if kind == ProbeKind::Liveness {
                    "liveness"
                } else {
                    "startup"
                };
                tracing::info!(pod = %self.key, container = %msg.container, probe = what, message = %msg.message,
                    "container failed its probe; killing it to restart per policy");
                let grace = self.grace();
                running.addr.do_send(StopContainer { grace });
                self.event(
                    "Normal",
                    "Killing",
                    format!(
                        "Container {} failed {what} probe, will be restarted",
                        msg.container
                    ),
                );
            }
        }
        self.report();
    }
}

impl Handler<StopPod> for PodActor {
    type Result = ();

    fn handle(&mut self, _: StopPod, ctx: &mut Self::Context) {
        if self.stopping {
            return;
        }
        self.stopping = true;
        if self.running.is_empty() {
            ctx.stop();
            return;
        }
        let grace = self.grace();
        for (name, r) in &self.running {
            r.addr.do_send(StopContainer { grace });
            self.event("Normal", "Killing", format!("Stopping container {name}"));
        }
    }
}

/// `resources.limits` of a container spec; a malformed quantity is a config error naming it.
fn limits(c: &Value) -> Result<Limits, String> {
    let get = |res: &str| -> Result<Option<capstan_core::quantity::ParsedQuantity>, String> {
        match c.pointer(&format!("/resources/limits/{res}")) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                capstan_core::quantity::parse_quantity(&text)
                    .map(Some)
                    .map_err(|e| format!("resources.limits.{res}: {e}"))
            }
        }
    };
    let non_negative = |v: i64| u64::try_from(v).ok().filter(|&v| v > 0);
    Ok(Limits {
        memory_bytes: get("memory")?.and_then(|q| non_negative(q.value())),
        cpu_millis: get("cpu")?.and_then(|q| non_negative(q.milli_value())),
    })
}

impl PodActor {
    /// Starts from the containers an earlier worker left: their statuses continue where the
    /// master last saw them (restart counts), running ones are adopted, ones that ended
    /// meanwhile are reported as ended (and restarted per policy), and whatever has no record
    /// is started as usual.
    fn adopt(&mut self, recovered: Vec<Recovered>, ctx: &mut Context<Self>) {
        tracing::info!(pod = %self.key, containers = recovered.len(), "adopting containers started by an earlier worker");
        for (list, field) in [
            (&mut self.init_status, "initContainerStatuses"),
            (&mut self.app_status, "containerStatuses"),
        ] {
            for c in list.iter_mut() {
                let count = self
                    .pod
                    .pointer(&format!("/status/{field}"))
                    .and_then(Value::as_array)
                    .and_then(|a| {
                        a.iter()
                            .find(|s| s.get("name").and_then(Value::as_str) == Some(c.name()))
                    })
                    .and_then(|s| s.get("restartCount"))
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                c.carry_over_restarts(i32::try_from(count).unwrap_or(0));
            }
        }
        let name_of = |c: &Value| {
            c.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let init_names: Vec<String> = self.init_specs.iter().map(name_of).collect();
        let app_names: Vec<String> = self.app_specs.iter().map(name_of).collect();
        let mut by_name: HashMap<String, Recovered> = recovered
            .into_iter()
            .map(|r| (r.container.clone(), r))
            .collect();
        let any_app = app_names.iter().any(|n| by_name.contains_key(n));
        // The init container to hand to an actor (the last one with a record), unless the app
        // containers have started, which means every init container completed.
        let current_init = if any_app {
            None
        } else {
            init_names.iter().rposition(|n| by_name.contains_key(n))
        };
        let done_inits = current_init.unwrap_or(if any_app { init_names.len() } else { 0 });
        for name in &init_names[..done_inits] {
            let rec = by_name.remove(name);
            let uid = self.uid.clone();
            if let Some(s) = self.status_mut(name, true) {
                replay_completed(s, rec, &uid);
            }
        }
        self.next_init = done_inits;
        if let Some(i) = current_init {
            if let Some(rec) = by_name.remove(&init_names[i]) {
                self.adopt_one(rec, true, ctx);
            }
        } else if any_app || init_names.is_empty() {
            for name in &app_names {
                match by_name.remove(name) {
                    Some(rec) => self.adopt_one(rec, false, ctx),
                    None => self.launch(name, false, ctx),
                }
            }
        } else {
            self.launch(&init_names[0], true, ctx);
        }
        // Records of containers the spec no longer has: stop what still runs.
        for (name, rec) in by_name {
            if let RecoveredState::Running(_) = rec.state {
                tracing::warn!(pod = %self.key, container = %name, "stopping a recovered container the pod no longer has");
                let _ = self
                    .runtime
                    .signal(rec.pid, super::runtime::StopSignal::Kill);
            }
        }
    }

    /// Hands a recovered container to a ContainerActor; one that ended meanwhile is handed over
    /// with its exit already delivered, so it is reported (and restarted) like any exit.
    fn adopt_one(&mut self, rec: Recovered, init: bool, ctx: &mut Context<Self>) {
        let exit = match rec.state {
            RecoveredState::Running(rx) => rx,
            RecoveredState::Exited(exit) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let _ = tx.send(exit);
                rx
            }
        };
        self.next_run += 1;
        let run = self.next_run;
        let ids = (self.key.clone(), self.uid.clone(), rec.container.clone());
        let launched = Launched {
            pid: rec.pid,
            started_at: rec.started_at,
            exit,
        };
        let addr = ContainerActor::new(
            ids,
            Start::Adopt(launched),
            self.runtime.clone(),
            ctx.address(),
            run,
            init,
        )
        .start();
        self.running.insert(
            rec.container,
            Running {
                run,
                fresh: false,
                addr,
                since: Instant::now(),
                probes: Vec::new(),
            },
        );
    }
}

/// Replays a completed init container into its status: from its record when there is one,
/// otherwise as completed now (the app containers ran, so it did complete).
fn replay_completed(s: &mut ContainerStatus, rec: Option<Recovered>, pod_uid: &str) {
    let (started_at, pid, exit) = match rec {
        Some(Recovered {
            started_at,
            pid,
            state: RecoveredState::Exited(exit),
            ..
        }) => (started_at, pid, Some(exit)),
        Some(r) => (r.started_at, r.pid, None),
        None => (now(), 0, None),
    };
    s.handle(ContainerEvent::Started {
        at: started_at,
        container_id: format!("{pod_uid}-{}-{pid}", s.name()),
    });
    let (at, exit_code, signal, oom_killed) = exit.map_or((now(), 0, None, false), |e| {
        (e.finished_at, e.exit_code, e.signal, e.oom_killed)
    });
    s.handle(ContainerEvent::Exited {
        at,
        exit_code,
        signal,
        oom_killed,
        message: None,
    });
}
