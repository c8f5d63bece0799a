//! One container's status as kubelet reports it in `status.containerStatuses[]`: a state
//! machine fed by the worker's `ContainerActor`.

use super::backoff::go_duration;
use crate::time::Timestamp;
use serde_json::{json, Map, Value};

/// What happened to a container (fed by the `ContainerActor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerEvent {
    /// Being created (waiting `ContainerCreating`).
    Creating,
    /// It cannot be created from its spec (waiting `CreateContainerConfigError` with the
    /// message), e.g. no command for the process runtime.
    ConfigError {
        /// Why, shown as the waiting state's message.
        message: String,
    },
    /// The process started.
    Started {
        /// When it started.
        at: Timestamp,
        /// The runtime's id for this run; reported as `capstan://<id>`.
        container_id: String,
    },
    /// It exited. `signal` is set when killed by a signal (the exit code is then reported as
    /// 128 + signal, as Kubernetes does); `oom_killed` when the cgroup OOM killer ended it.
    Exited {
        /// When it exited.
        at: Timestamp,
        /// The process's exit code (ignored when `signal` is set).
        exit_code: i32,
        /// The signal that killed it, if any.
        signal: Option<i32>,
        /// Killed by the OOM killer (reason `OOMKilled`).
        oom_killed: bool,
        /// A termination message, if the runtime has one.
        message: Option<String>,
    },
    /// Waiting to be restarted after a crash (waiting `CrashLoopBackOff`, message
    /// `back-off 20s restarting failed container=NAME pod=POD`).
    BackingOff {
        /// The delay before the next start, from [`super::CrashLoop::next_delay`].
        delay_ms: u64,
        /// The pod as named in the message (kubelet writes `name_namespace(uid)`).
        pod: String,
    },
    /// Readiness changed (from the readiness probe; containers without one are ready once
    /// running). Ignored as `true` unless the container is running.
    Ready(bool),
    /// The startup probe passed (or there is none): `started` becomes true. Ignored unless the
    /// container is running.
    StartupDone,
}

/// A finished run of a container (`state.terminated` / `lastState.terminated`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminated {
    /// The exit code; 128 + signal when killed by a signal.
    pub exit_code: i32,
    /// The signal that killed it, if any.
    pub signal: Option<i32>,
    /// `OOMKilled`, `Completed` (exit 0) or `Error`.
    pub reason: String,
    /// The termination message, if any.
    pub message: Option<String>,
    /// When this run started (`None` if it never did).
    pub started_at: Option<Timestamp>,
    /// When this run ended.
    pub finished_at: Timestamp,
    /// The runtime's id for this run (without the `capstan://` prefix).
    pub container_id: String,
}

impl Terminated {
    /// The Kubernetes `ContainerStateTerminated` JSON.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("exitCode".into(), json!(self.exit_code));
        if let Some(signal) = self.signal {
            m.insert("signal".into(), json!(signal));
        }
        m.insert("reason".into(), json!(self.reason));
        if let Some(message) = &self.message {
            m.insert("message".into(), json!(message));
        }
        m.insert(
            "startedAt".into(),
            self.started_at
                .map_or(Value::Null, |t| json!(t.to_rfc3339())),
        );
        m.insert("finishedAt".into(), json!(self.finished_at.to_rfc3339()));
        if !self.container_id.is_empty() {
            m.insert("containerID".into(), json!(runtime_id(&self.container_id)));
        }
        Value::Object(m)
    }
}

/// Where a container is now (`state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerState {
    /// Not running: being created, misconfigured or backing off.
    Waiting {
        /// `ContainerCreating`, `CreateContainerConfigError`, `CrashLoopBackOff`, ….
        reason: String,
        /// Details, if any.
        message: Option<String>,
    },
    /// The process is running.
    Running {
        /// When it started.
        started_at: Timestamp,
    },
    /// The process has exited.
    Terminated(Terminated),
}

impl ContainerState {
    /// The Kubernetes `ContainerState` JSON: `{"waiting":…}`, `{"running":…}` or
    /// `{"terminated":…}`.
    pub fn to_json(&self) -> Value {
        match self {
            ContainerState::Waiting { reason, message } => {
                let mut w = Map::new();
                w.insert("reason".into(), json!(reason));
                if let Some(message) = message {
                    w.insert("message".into(), json!(message));
                }
                json!({ "waiting": w })
            }
            ContainerState::Running { started_at } => {
                json!({ "running": { "startedAt": started_at.to_rfc3339() } })
            }
            ContainerState::Terminated(t) => json!({ "terminated": t.to_json() }),
        }
    }
}

/// One container's status, updated by [`ContainerStatus::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerStatus {
    name: String,
    image: String,
    state: ContainerState,
    last_state: Option<Terminated>,
    restart_count: i32,
    ready: bool,
    started: Option<bool>,
    container_id: String,
    /// How many times the process has started; `restart_count` is this minus one.
    starts: u32,
}

impl ContainerStatus {
    /// A container not yet started: waiting `ContainerCreating`, not ready, restart count 0.
    pub fn new(name: &str, image: &str) -> ContainerStatus {
        ContainerStatus {
            name: name.to_string(),
            image: image.to_string(),
            state: waiting("ContainerCreating", None),
            last_state: None,
            restart_count: 0,
            ready: false,
            started: Some(false),
            container_id: String::new(),
            starts: 0,
        }
    }

    /// Continues the count of an earlier worker: the container has already been restarted
    /// `restart_count` times before the run about to be reported (adopted or started). Call
    /// before the first event.
    pub fn carry_over_restarts(&mut self, restart_count: i32) {
        self.starts = u32::try_from(restart_count).unwrap_or(0);
        self.restart_count = restart_count.max(0);
    }

    /// Applies one event. Leaving a terminated state (to wait, back off or start again) moves it
    /// to `lastState`; every start after the first increments `restartCount`.
    pub fn handle(&mut self, ev: ContainerEvent) {
        match ev {
            ContainerEvent::Creating => self.wait(waiting("ContainerCreating", None)),
            ContainerEvent::ConfigError { message } => {
                self.wait(waiting("CreateContainerConfigError", Some(message)))
            }
            ContainerEvent::BackingOff { delay_ms, pod } => {
                let message = format!(
                    "back-off {} restarting failed container={} pod={pod}",
                    go_duration(delay_ms),
                    self.name
                );
                self.wait(waiting("CrashLoopBackOff", Some(message)));
            }
            ContainerEvent::Started { at, container_id } => {
                self.retire_terminated();
                self.starts += 1;
                self.restart_count = i32::try_from(self.starts - 1).unwrap_or(i32::MAX);
                self.container_id = container_id;
                self.state = ContainerState::Running { started_at: at };
                self.ready = false;
                self.started = Some(false);
            }
            ContainerEvent::Exited {
                at,
                exit_code,
                signal,
                oom_killed,
                message,
            } => {
                let exit_code = signal.map_or(exit_code, |s| 128 + s);
                let reason = if oom_killed {
                    "OOMKilled"
                } else if exit_code == 0 {
                    "Completed"
                } else {
                    "Error"
                };
                let started_at = match self.state {
                    ContainerState::Running { started_at } => Some(started_at),
                    _ => None,
                };
                self.state = ContainerState::Terminated(Terminated {
                    exit_code,
                    signal,
                    reason: reason.to_string(),
                    message,
                    started_at,
                    finished_at: at,
                    container_id: self.container_id.clone(),
                });
                self.ready = false;
                self.started = Some(false);
            }
            ContainerEvent::Ready(ready) => self.ready = ready && self.is_running(),
            ContainerEvent::StartupDone => {
                if self.is_running() {
                    self.started = Some(true);
                }
            }
        }
    }

    /// Exactly Kubernetes' `ContainerStatus` JSON (`containerID` omitted before the first start).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("image".into(), json!(self.image));
        m.insert("imageID".into(), json!(""));
        if !self.container_id.is_empty() {
            m.insert("containerID".into(), json!(runtime_id(&self.container_id)));
        }
        m.insert("ready".into(), json!(self.ready));
        m.insert("restartCount".into(), json!(self.restart_count));
        if let Some(started) = self.started {
            m.insert("started".into(), json!(started));
        }
        m.insert("state".into(), self.state.to_json());
        m.insert(
            "lastState".into(),
            self.last_state
                .as_ref()
                .map_or(json!({}), |t| json!({ "terminated": t.to_json() })),
        );
        Value::Object(m)
    }

    /// Whether the process is running.
    pub fn is_running(&self) -> bool {
        matches!(self.state, ContainerState::Running { .. })
    }

    /// The exit code, if the container is in a terminated state.
    pub fn is_terminated(&self) -> Option<i32> {
        match &self.state {
            ContainerState::Terminated(t) => Some(t.exit_code),
            _ => None,
        }
    }

    /// Whether the container is ready (running and passing its readiness probe).
    pub fn ready(&self) -> bool {
        self.ready
    }

    /// The container's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The container's image.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The current state.
    pub fn state(&self) -> &ContainerState {
        &self.state
    }

    /// The previous run, once the container has left a terminated state.
    pub fn last_state(&self) -> Option<&Terminated> {
        self.last_state.as_ref()
    }

    /// How many times the container has been restarted.
    pub fn restart_count(&self) -> i32 {
        self.restart_count
    }

    /// Whether the startup probe has passed in the current run.
    pub fn started(&self) -> Option<bool> {
        self.started
    }

    /// The runtime's id of the current or last run (without `capstan://`); empty before the
    /// first start.
    pub fn container_id(&self) -> &str {
        &self.container_id
    }

    /// Whether the container has run at least once: running, terminated, or waiting with a
    /// previous run (kubelet's "has started" test).
    pub fn has_started(&self) -> bool {
        match self.state {
            ContainerState::Running { .. } | ContainerState::Terminated(_) => true,
            ContainerState::Waiting { .. } => self.last_state.is_some(),
        }
    }

    fn wait(&mut self, state: ContainerState) {
        self.retire_terminated();
        self.state = state;
        self.ready = false;
        self.started = Some(false);
    }

    /// Moves a terminated state to `lastState` before the container leaves it.
    fn retire_terminated(&mut self) {
        let placeholder = waiting("ContainerCreating", None);
        match std::mem::replace(&mut self.state, placeholder) {
            ContainerState::Terminated(t) => self.last_state = Some(t),
            other => self.state = other,
        }
    }
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState::Waiting {
        reason: reason.to_string(),
        message,
    }
}

fn runtime_id(id: &str) -> String {
    format!("capstan://{id}")
}
