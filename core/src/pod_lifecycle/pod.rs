//! A pod's `status` from its containers, as kubelet computes it (`getPhase`,
//! `generateAPIPodStatus` and the status manager's `lastTransitionTime` rule).

use super::backoff::RestartPolicy;
use super::container::{ContainerState, ContainerStatus};
use crate::time::Timestamp;
use serde_json::{json, Map, Value};

/// Conditions kubelet owns: regenerated on every status, never copied from the previous one.
const KUBELET_CONDITIONS: &[&str] = &[
    "PodScheduled",
    "Ready",
    "Initialized",
    "ContainersReady",
    "PodReadyToStartContainers",
];

/// Everything a pod's status is computed from.
#[derive(Debug, Clone)]
pub struct PodStatusInput<'a> {
    /// The pod's `spec.restartPolicy`.
    pub restart_policy: RestartPolicy,
    /// Init container statuses, in spec order; all must be terminated with exit 0 for the pod to
    /// be Initialized. Give one per init container (a fresh [`ContainerStatus::new`] for those
    /// not yet created): missing entries count as not initialized but cannot be named.
    pub init: &'a [ContainerStatus],
    /// The number of init containers in the spec.
    pub init_total: usize,
    /// Regular container statuses, in spec order.
    pub containers: &'a [ContainerStatus],
    /// The node's IP (`hostIP`); omitted when empty.
    pub host_ip: &'a str,
    /// The pod's IP (`podIP`); omitted when empty.
    pub pod_ip: &'a str,
    /// When the worker accepted the pod (`startTime`); omitted when `None`.
    pub start_time: Option<Timestamp>,
    /// Now, for the `lastTransitionTime` of conditions that change.
    pub now: Timestamp,
    /// Previous conditions (JSON array) so lastTransitionTime only changes when status changes.
    /// Conditions kubelet does not own (e.g. `DisruptionTarget`) are carried over.
    pub previous_conditions: Option<&'a Value>,
    /// The pod is being deleted and its containers will not be (re)started: once none runs, the
    /// phase is terminal (`Succeeded` if every container exited 0, else `Failed`).
    pub deleting: bool,
}

/// The pod's phase: `Pending`, `Running`, `Succeeded` or `Failed`, by kubelet's rules.
///
/// - A failed init container under `restartPolicy: Never` fails the pod.
/// - A deleting pod with nothing running is terminal (`Succeeded` only if every container
///   exited 0).
/// - `Pending` while init containers are not done (and no regular container has run) or any
///   container has never started.
/// - `Running` while any container runs.
/// - All containers stopped: `Always` keeps `Running` (they restart); otherwise `Succeeded` if
///   all exited 0, `Failed` under `Never`, `Running` under `OnFailure` (failures restart).
///
/// Kubelet also keeps a terminal phase sticky; that is the caller's job (it knows the old phase).
pub fn pod_phase(i: &PodStatusInput) -> &'static str {
    let mut pending_init = 0;
    let mut failed_init = 0;
    for idx in 0..i.init_total.max(i.init.len()) {
        let Some(c) = i.init.get(idx) else {
            pending_init += 1;
            continue;
        };
        match c.state() {
            ContainerState::Running { .. } => pending_init += 1,
            ContainerState::Terminated(t) => failed_init += usize::from(t.exit_code != 0),
            ContainerState::Waiting { .. } => match c.last_state() {
                Some(last) => failed_init += usize::from(last.exit_code != 0),
                None => pending_init += 1,
            },
        }
    }

    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for c in i.containers {
        match c.state() {
            ContainerState::Running { .. } => running += 1,
            ContainerState::Terminated(t) => {
                stopped += 1;
                succeeded += usize::from(t.exit_code == 0);
            }
            ContainerState::Waiting { .. } if c.last_state().is_some() => stopped += 1,
            ContainerState::Waiting { .. } => waiting += 1,
        }
    }

    if failed_init > 0 && i.restart_policy == RestartPolicy::Never {
        return "Failed";
    }
    if i.deleting && running == 0 && !i.init.iter().any(ContainerStatus::is_running) {
        let all_succeeded = stopped > 0 && stopped == succeeded && waiting == 0;
        return if all_succeeded { "Succeeded" } else { "Failed" };
    }
    let any_started = i.containers.iter().any(ContainerStatus::has_started);
    if (pending_init > 0 && !any_started) || waiting > 0 {
        return "Pending";
    }
    if running > 0 {
        return "Running";
    }
    if stopped == 0 {
        return "Pending";
    }
    match i.restart_policy {
        RestartPolicy::Always => "Running",
        _ if stopped == succeeded => "Succeeded",
        RestartPolicy::Never => "Failed",
        RestartPolicy::OnFailure => "Running",
    }
}

/// The pod's `status` JSON as kubelet posts it: `phase`, `conditions` (carried-over foreign
/// ones, then Initialized, Ready, ContainersReady, PodScheduled), `hostIP(s)`, `podIP(s)`,
/// `startTime`, `initContainerStatuses`, `containerStatuses`. `qosClass` is the API server's.
pub fn pod_status_json(i: &PodStatusInput) -> Value {
    let phase = pod_phase(i);
    let previous: &[Value] = i
        .previous_conditions
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);

    let mut conditions: Vec<Value> = previous
        .iter()
        .filter(|c| {
            let kind = c.get("type").and_then(Value::as_str).unwrap_or("");
            !KUBELET_CONDITIONS.contains(&kind)
        })
        .cloned()
        .collect();
    let containers_ready = containers_ready(i, phase);
    let ready = Condition {
        kind: "Ready",
        ..containers_ready.clone()
    };
    let scheduled = Condition {
        kind: "PodScheduled",
        status: true,
        reason: None,
        message: None,
    };
    for c in [initialized(i, phase), ready, containers_ready, scheduled] {
        conditions.push(c.to_json(previous, i.now));
    }

    let mut m = Map::new();
    m.insert("phase".into(), json!(phase));
    m.insert("conditions".into(), Value::Array(conditions));
    if !i.host_ip.is_empty() {
        m.insert("hostIP".into(), json!(i.host_ip));
        m.insert("hostIPs".into(), json!([{ "ip": i.host_ip }]));
    }
    if !i.pod_ip.is_empty() {
        m.insert("podIP".into(), json!(i.pod_ip));
        m.insert("podIPs".into(), json!([{ "ip": i.pod_ip }]));
    }
    if let Some(start) = i.start_time {
        m.insert("startTime".into(), json!(start.to_rfc3339()));
    }
    let has_init = i.init_total > 0 || !i.init.is_empty();
    if !i.init.is_empty() {
        let statuses = i.init.iter().map(|c| {
            let mut v = status_json(c, has_init);
            // Kubelet: an init container is ready once it has exited 0.
            v["ready"] = json!(c.is_terminated() == Some(0));
            v
        });
        m.insert("initContainerStatuses".into(), statuses.collect());
    }
    if !i.containers.is_empty() {
        let statuses = i.containers.iter().map(|c| status_json(c, has_init));
        m.insert("containerStatuses".into(), statuses.collect());
    }
    Value::Object(m)
}

/// A container's JSON; in a pod with init containers a container not yet created waits
/// `PodInitializing` (kubelet's default waiting reason) rather than `ContainerCreating`.
fn status_json(c: &ContainerStatus, has_init: bool) -> Value {
    let mut v = c.to_json();
    let creating = matches!(
        c.state(),
        ContainerState::Waiting { reason, message: None } if reason == "ContainerCreating"
    );
    if has_init && creating && !c.has_started() {
        v["state"]["waiting"]["reason"] = json!("PodInitializing");
    }
    v
}

/// A kubelet-owned pod condition before its `lastTransitionTime` is settled.
#[derive(Debug, Clone)]
struct Condition {
    kind: &'static str,
    status: bool,
    reason: Option<&'static str>,
    message: Option<String>,
}

impl Condition {
    fn new(kind: &'static str, status: bool, reason: &'static str, message: String) -> Condition {
        Condition {
            kind,
            status,
            reason: Some(reason),
            message: (!message.is_empty()).then_some(message),
        }
    }

    fn is_true(kind: &'static str) -> Condition {
        Condition {
            kind,
            status: true,
            reason: None,
            message: None,
        }
    }

    /// The JSON, keeping the previous `lastTransitionTime` when the status has not changed.
    fn to_json(&self, previous: &[Value], now: Timestamp) -> Value {
        let status = if self.status { "True" } else { "False" };
        let old = previous
            .iter()
            .find(|c| c.get("type").and_then(Value::as_str) == Some(self.kind));
        let transition = match old {
            Some(old) if old.get("status").and_then(Value::as_str) == Some(status) => old
                .get("lastTransitionTime")
                .cloned()
                .unwrap_or(Value::Null),
            _ => json!(now.to_rfc3339()),
        };
        let mut m = Map::new();
        m.insert("type".into(), json!(self.kind));
        m.insert("status".into(), json!(status));
        m.insert("lastProbeTime".into(), Value::Null);
        m.insert("lastTransitionTime".into(), transition);
        if let Some(reason) = self.reason {
            m.insert("reason".into(), json!(reason));
        }
        if let Some(message) = &self.message {
            m.insert("message".into(), json!(message));
        }
        Value::Object(m)
    }
}

/// Go's `%s` of a `[]string`: `[a b]`.
fn go_list(names: &[&str]) -> String {
    format!("[{}]", names.join(" "))
}

/// Kubelet's `GeneratePodInitializedCondition`.
fn initialized(i: &PodStatusInput, phase: &str) -> Condition {
    let missing = i.init_total.saturating_sub(i.init.len());
    if i.init.is_empty() && missing > 0 {
        return Condition::new(
            "Initialized",
            false,
            "UnknownContainerStatuses",
            String::new(),
        );
    }
    if phase == "Succeeded" && missing == 0 {
        return Condition::new("Initialized", true, "PodCompleted", String::new());
    }
    if i.containers.iter().any(ContainerStatus::has_started) {
        return Condition::is_true("Initialized");
    }
    let incomplete: Vec<&str> = i
        .init
        .iter()
        .filter(|c| c.is_terminated() != Some(0))
        .map(ContainerStatus::name)
        .collect();
    if incomplete.is_empty() && missing == 0 {
        return Condition::is_true("Initialized");
    }
    let message = if incomplete.is_empty() {
        String::new()
    } else {
        format!(
            "containers with incomplete status: {}",
            go_list(&incomplete)
        )
    };
    Condition::new("Initialized", false, "ContainersNotInitialized", message)
}

/// Kubelet's `GenerateContainersReadyCondition` (the Ready condition mirrors it: no readiness
/// gates).
fn containers_ready(i: &PodStatusInput, phase: &str) -> Condition {
    if i.containers.is_empty() {
        return Condition::new(
            "ContainersReady",
            false,
            "UnknownContainerStatuses",
            String::new(),
        );
    }
    match phase {
        "Succeeded" => {
            return Condition::new("ContainersReady", false, "PodCompleted", String::new())
        }
        "Failed" => return Condition::new("ContainersReady", false, "PodFailed", String::new()),
        _ => {}
    }
    let unready: Vec<&str> = i
        .containers
        .iter()
        .filter(|c| !c.ready())
        .map(ContainerStatus::name)
        .collect();
    if unready.is_empty() {
        return Condition::is_true("ContainersReady");
    }
    let message = format!("containers with unready status: {}", go_list(&unready));
    Condition::new("ContainersReady", false, "ContainersNotReady", message)
}
