//! Server-side tables (`meta.k8s.io/v1` `Table`): the columns kubectl prints for each kind,
//! computed from the stored JSON the way kubectl's printers do (pod STATUS, READY, RESTARTS…).

use crate::time::{age, Timestamp};
use serde_json::{json, Map, Value};

/// What each row carries besides its cells (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// A `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the query parameter; unknown or missing values mean `Metadata`.
    pub fn from_param(p: Option<&str>) -> IncludeObject {
        match p {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// One column: its header, cell type and whether it shows only with `-o wide` (priority 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The header as kubectl shows it (upper-cased by the client).
    pub name: &'static str,
    /// `string`, `integer` or `date`.
    pub kind: &'static str,
    /// 0 = always shown, 1 = only with `-o wide`.
    pub priority: u8,
    /// One line for `kubectl explain`-like readers.
    pub description: &'static str,
}

const fn col(
    name: &'static str,
    kind: &'static str,
    priority: u8,
    description: &'static str,
) -> Column {
    Column {
        name,
        kind,
        priority,
        description,
    }
}

const NAME: Column = col(
    "Name",
    "string",
    0,
    "Name must be unique within a namespace.",
);
const AGE: Column = col("Age", "string", 0, "Time since the object was created.");

/// The columns for `kind` (`Pod`, `Node`, …); unknown kinds get Name and Age.
pub fn columns(kind: &str) -> Vec<Column> {
    match kind {
        "Pod" => vec![
            NAME,
            col(
                "Ready",
                "string",
                0,
                "The number of containers that are ready.",
            ),
            col(
                "Status",
                "string",
                0,
                "The aggregate status of the containers in this pod.",
            ),
            col(
                "Restarts",
                "string",
                0,
                "The number of times the containers have restarted.",
            ),
            AGE,
            col("IP", "string", 1, "IP address allocated to the pod."),
            col(
                "Node",
                "string",
                1,
                "Name of the node the pod is assigned to.",
            ),
            col(
                "Nominated Node",
                "string",
                1,
                "Node nominated for preemption.",
            ),
            col("Readiness Gates", "string", 1, "Pod readiness gates."),
        ],
        "Node" => vec![
            NAME,
            col("Status", "string", 0, "The status of the node."),
            col("Roles", "string", 0, "The roles of the node."),
            AGE,
            col(
                "Version",
                "string",
                0,
                "Kubelet version reported by the node.",
            ),
            col("Internal-IP", "string", 1, "Internal IP of the node."),
            col("External-IP", "string", 1, "External IP of the node."),
            col("OS-Image", "string", 1, "OS image reported by the node."),
            col(
                "Kernel-Version",
                "string",
                1,
                "Kernel version reported by the node.",
            ),
            col(
                "Container-Runtime",
                "string",
                1,
                "Container runtime reported by the node.",
            ),
        ],
        "Deployment" => vec![
            NAME,
            col(
                "Ready",
                "string",
                0,
                "Ready replicas out of desired replicas.",
            ),
            col(
                "Up-to-date",
                "integer",
                0,
                "Replicas updated to the newest template.",
            ),
            col("Available", "integer", 0, "Replicas available to users."),
            AGE,
            col(
                "Containers",
                "string",
                1,
                "Container names in the template.",
            ),
            col("Images", "string", 1, "Container images in the template."),
            col("Selector", "string", 1, "Label selector for pods."),
        ],
        "ReplicaSet" => vec![
            NAME,
            col("Desired", "integer", 0, "Number of desired pods."),
            col("Current", "integer", 0, "Number of actual pods."),
            col("Ready", "integer", 0, "Number of ready pods."),
            AGE,
            col(
                "Containers",
                "string",
                1,
                "Container names in the template.",
            ),
            col("Images", "string", 1, "Container images in the template."),
            col("Selector", "string", 1, "Label selector for pods."),
        ],
        "Service" => vec![
            NAME,
            col("Type", "string", 0, "The type of the service."),
            col("Cluster-IP", "string", 0, "The cluster IP of the service."),
            col("External-IP", "string", 0, "External IPs of the service."),
            col("Port(s)", "string", 0, "The ports of the service."),
            AGE,
            col("Selector", "string", 1, "Label selector for pods."),
        ],
        "Endpoints" => vec![
            NAME,
            col("Endpoints", "string", 0, "Endpoint addresses and ports."),
            AGE,
        ],
        "Event" => vec![
            col(
                "Last Seen",
                "string",
                0,
                "Time since the event was last seen.",
            ),
            col("Type", "string", 0, "Normal or Warning."),
            col("Reason", "string", 0, "Short machine-readable reason."),
            col("Object", "string", 0, "The object the event is about."),
            col("Message", "string", 0, "Human-readable description."),
            col("Subobject", "string", 1, "Field path within the object."),
            col("Source", "string", 1, "Component that reported the event."),
            col(
                "First Seen",
                "string",
                1,
                "Time since the event was first seen.",
            ),
            col("Count", "string", 1, "How many times the event happened."),
            col("Name", "string", 1, "Name of the event object."),
        ],
        "Namespace" => vec![
            NAME,
            col("Status", "string", 0, "The phase of the namespace."),
            AGE,
        ],
        _ => vec![NAME, AGE],
    }
}

/// A full `meta.k8s.io/v1` Table for `objects` of `kind`.
pub fn build_table(
    kind: &str,
    objects: &[Value],
    now: Timestamp,
    include: IncludeObject,
    resource_version: &str,
) -> Value {
    let defs: Vec<Value> = columns(kind)
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": c.kind,
                "format": if c.name == "Name" { "name" } else { "" },
                "description": c.description,
                "priority": c.priority,
            })
        })
        .collect();
    let rows: Vec<Value> = objects.iter().map(|o| row(kind, o, now, include)).collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": { "resourceVersion": resource_version },
        "columnDefinitions": defs,
        "rows": rows,
    })
}

/// One table row for `obj`.
pub fn row(kind: &str, obj: &Value, now: Timestamp, include: IncludeObject) -> Value {
    let mut r = Map::new();
    r.insert("cells".into(), Value::Array(cells(kind, obj, now)));
    match include {
        IncludeObject::None => {}
        IncludeObject::Object => {
            r.insert("object".into(), obj.clone());
        }
        IncludeObject::Metadata => {
            r.insert(
                "object".into(),
                json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj.get("metadata").cloned().unwrap_or(Value::Null),
                }),
            );
        }
    }
    Value::Object(r)
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, k| cur.get(*k))
}

fn text(v: &Value, path: &[&str]) -> String {
    match s(v, path) {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn int(v: &Value, path: &[&str]) -> i64 {
    s(v, path).and_then(Value::as_i64).unwrap_or(0)
}

fn list<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    s(v, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn or_none(t: String) -> String {
    if t.is_empty() {
        "<none>".to_string()
    } else {
        t
    }
}

fn created_age(obj: &Value, now: Timestamp) -> String {
    age(
        s(obj, &["metadata", "creationTimestamp"]).and_then(Value::as_str),
        now,
    )
}

/// The cells of `obj`'s row, in the order of [`columns`].
pub fn cells(kind: &str, obj: &Value, now: Timestamp) -> Vec<Value> {
    let name = Value::String(text(obj, &["metadata", "name"]));
    let age_cell = Value::String(created_age(obj, now));
    match kind {
        "Pod" => pod_cells(obj, now, name, age_cell),
        "Node" => node_cells(obj, name, age_cell),
        "Deployment" => {
            let (containers, images) = template_containers(obj);
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    int(obj, &["status", "readyReplicas"]),
                    s(obj, &["spec", "replicas"])
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                )),
                json!(int(obj, &["status", "updatedReplicas"])),
                json!(int(obj, &["status", "availableReplicas"])),
                age_cell,
                json!(containers),
                json!(images),
                json!(selector_string(s(obj, &["spec", "selector"]))),
            ]
        }
        "ReplicaSet" => {
            let (containers, images) = template_containers(obj);
            vec![
                name,
                json!(s(obj, &["spec", "replicas"])
                    .and_then(Value::as_i64)
                    .unwrap_or(1)),
                json!(int(obj, &["status", "replicas"])),
                json!(int(obj, &["status", "readyReplicas"])),
                age_cell,
                json!(containers),
                json!(images),
                json!(selector_string(s(obj, &["spec", "selector"]))),
            ]
        }
        "Service" => service_cells(obj, name, age_cell),
        "Endpoints" => {
            let mut eps = Vec::new();
            for subset in list(obj, &["subsets"]) {
                for addr in list(subset, &["addresses"]) {
                    for port in list(subset, &["ports"]) {
                        eps.push(format!("{}:{}", text(addr, &["ip"]), int(port, &["port"])));
                    }
                }
            }
            let shown = if eps.len() > 3 {
                format!("{} + {} more...", eps[..3].join(","), eps.len() - 3)
            } else {
                eps.join(",")
            };
            vec![name, json!(or_none(shown)), age_cell]
        }
        "Event" => event_cells(obj, now),
        "Namespace" => vec![name, json!(text(obj, &["status", "phase"])), age_cell],
        _ => vec![name, age_cell],
    }
}

fn pod_cells(obj: &Value, now: Timestamp, name: Value, age_cell: Value) -> Vec<Value> {
    let total = list(obj, &["spec", "containers"]).len();
    let statuses = list(obj, &["status", "containerStatuses"]);
    let ready = statuses
        .iter()
        .filter(|c| c.get("ready").and_then(Value::as_bool).unwrap_or(false))
        .count();
    let mut restarts = 0;
    let mut last_restart: Option<Timestamp> = None;
    for c in statuses {
        restarts += int(c, &["restartCount"]);
        if let Some(t) = s(c, &["lastState", "terminated", "finishedAt"])
            .and_then(Value::as_str)
            .and_then(Timestamp::parse_rfc3339)
        {
            last_restart = Some(last_restart.map_or(t, |l| l.max(t)));
        }
    }
    let restarts_text = match last_restart {
        Some(t) if restarts > 0 => format!(
            "{restarts} ({} ago)",
            crate::time::human_duration(t.seconds_until(now))
        ),
        _ => restarts.to_string(),
    };
    let ip = or_none(text(obj, &["status", "podIP"]));
    let node = or_none(text(obj, &["spec", "nodeName"]));
    let nominated = or_none(text(obj, &["status", "nominatedNodeName"]));
    vec![
        name,
        json!(format!("{ready}/{total}")),
        json!(pod_status(obj)),
        json!(restarts_text),
        age_cell,
        json!(ip),
        json!(node),
        json!(nominated),
        json!("<none>"),
    ]
}

/// kubectl's pod STATUS column: phase, refined by reasons of init and app containers, and
/// `Terminating` once a deletion is under way.
pub fn pod_status(obj: &Value) -> String {
    let mut reason = text(obj, &["status", "phase"]);
    if reason.is_empty() {
        reason = "Pending".to_string();
    }
    let status_reason = text(obj, &["status", "reason"]);
    if !status_reason.is_empty() {
        reason = status_reason;
    }
    let init_total = list(obj, &["spec", "initContainers"]).len();
    let mut initializing = false;
    for (i, c) in list(obj, &["status", "initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let term = s(c, &["state", "terminated"]);
        if let Some(t) = term {
            if int(t, &["exitCode"]) == 0 {
                continue;
            }
            let r = text(t, &["reason"]);
            reason = if !r.is_empty() {
                format!("Init:{r}")
            } else if int(t, &["signal"]) != 0 {
                format!("Init:Signal:{}", int(t, &["signal"]))
            } else {
                format!("Init:ExitCode:{}", int(t, &["exitCode"]))
            };
        } else {
            let w = text(c, &["state", "waiting", "reason"]);
            reason = if !w.is_empty() && w != "PodInitializing" {
                format!("Init:{w}")
            } else {
                format!("Init:{i}/{init_total}")
            };
        }
        initializing = true;
        break;
    }
    if !initializing {
        let mut has_running = false;
        for c in list(obj, &["status", "containerStatuses"]).iter().rev() {
            let w = text(c, &["state", "waiting", "reason"]);
            let t = s(c, &["state", "terminated"]);
            if !w.is_empty() {
                reason = w;
            } else if let Some(t) = t {
                let r = text(t, &["reason"]);
                reason = if !r.is_empty() {
                    r
                } else if int(t, &["signal"]) != 0 {
                    format!("Signal:{}", int(t, &["signal"]))
                } else {
                    format!("ExitCode:{}", int(t, &["exitCode"]))
                };
            } else if s(c, &["state", "running"]).is_some()
                && c.get("ready").and_then(Value::as_bool) == Some(true)
            {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".to_string();
        }
    }
    if s(obj, &["metadata", "deletionTimestamp"]).is_some_and(|v| !v.is_null()) {
        reason = if text(obj, &["status", "reason"]) == "NodeLost" {
            "Unknown".to_string()
        } else {
            "Terminating".to_string()
        };
    }
    reason
}

fn node_cells(obj: &Value, name: Value, age_cell: Value) -> Vec<Value> {
    let mut status = "Unknown".to_string();
    for c in list(obj, &["status", "conditions"]) {
        if text(c, &["type"]) == "Ready" {
            status = match text(c, &["status"]).as_str() {
                "True" => "Ready".to_string(),
                "False" => "NotReady".to_string(),
                _ => "Unknown".to_string(),
            };
        }
    }
    if s(obj, &["spec", "unschedulable"]).and_then(Value::as_bool) == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    let mut roles: Vec<String> = s(obj, &["metadata", "labels"])
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    let addr = |t: &str| {
        list(obj, &["status", "addresses"])
            .iter()
            .find(|a| text(a, &["type"]) == t)
            .map(|a| text(a, &["address"]))
            .unwrap_or_default()
    };
    vec![
        name,
        json!(status),
        json!(or_none(roles.join(","))),
        age_cell,
        json!(text(obj, &["status", "nodeInfo", "kubeletVersion"])),
        json!(or_none(addr("InternalIP"))),
        json!(or_none(addr("ExternalIP"))),
        json!(or_none(text(obj, &["status", "nodeInfo", "osImage"]))),
        json!(or_none(text(obj, &["status", "nodeInfo", "kernelVersion"]))),
        json!(or_none(text(
            obj,
            &["status", "nodeInfo", "containerRuntimeVersion"]
        ))),
    ]
}

fn service_cells(obj: &Value, name: Value, age_cell: Value) -> Vec<Value> {
    let ty = text(obj, &["spec", "type"]);
    let cluster_ip = or_none(text(obj, &["spec", "clusterIP"]));
    let external: Vec<String> = list(obj, &["spec", "externalIPs"])
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let external = match ty.as_str() {
        "ExternalName" => text(obj, &["spec", "externalName"]),
        "LoadBalancer" if external.is_empty() => "<pending>".to_string(),
        _ => or_none(external.join(",")),
    };
    let ports: Vec<String> = list(obj, &["spec", "ports"])
        .iter()
        .map(|p| {
            let proto = text(p, &["protocol"]);
            let proto = if proto.is_empty() {
                "TCP".to_string()
            } else {
                proto
            };
            match int(p, &["nodePort"]) {
                0 => format!("{}/{proto}", int(p, &["port"])),
                np => format!("{}:{np}/{proto}", int(p, &["port"])),
            }
        })
        .collect();
    let selector = s(obj, &["spec", "selector"])
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    vec![
        name,
        json!(ty),
        json!(cluster_ip),
        json!(external),
        json!(or_none(ports.join(","))),
        age_cell,
        json!(or_none(selector)),
    ]
}

fn event_cells(obj: &Value, now: Timestamp) -> Vec<Value> {
    let last = ["lastTimestamp", "eventTime", "firstTimestamp"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str))
        .or_else(|| s(obj, &["metadata", "creationTimestamp"]).and_then(Value::as_str));
    let first = obj
        .get("firstTimestamp")
        .and_then(Value::as_str)
        .or_else(|| s(obj, &["metadata", "creationTimestamp"]).and_then(Value::as_str));
    let kind = text(obj, &["involvedObject", "kind"]).to_ascii_lowercase();
    let object = format!("{kind}/{}", text(obj, &["involvedObject", "name"]));
    let mut source = text(obj, &["source", "component"]);
    if source.is_empty() {
        source = text(obj, &["reportingComponent"]);
    }
    let host = text(obj, &["source", "host"]);
    if !host.is_empty() {
        source = format!("{source}, {host}");
    }
    let count = match int(obj, &["count"]) {
        0 => 1,
        n => n,
    };
    vec![
        json!(age(last, now)),
        json!(text(obj, &["type"])),
        json!(text(obj, &["reason"])),
        json!(object),
        json!(text(obj, &["message"])),
        json!(text(obj, &["involvedObject", "fieldPath"])),
        json!(source),
        json!(age(first, now)),
        json!(count.to_string()),
        json!(text(obj, &["metadata", "name"])),
    ]
}

fn template_containers(obj: &Value) -> (String, String) {
    let cs = list(obj, &["spec", "template", "spec", "containers"]);
    let names: Vec<String> = cs.iter().map(|c| text(c, &["name"])).collect();
    let images: Vec<String> = cs.iter().map(|c| text(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

/// Renders a structured selector (`{matchLabels, matchExpressions}`) in string form.
pub fn selector_string(sel: Option<&Value>) -> String {
    let Some(sel) = sel else {
        return "<none>".to_string();
    };
    let mut parts = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            parts.push(format!("{k}={}", v.as_str().unwrap_or_default()));
        }
    }
    for e in list(sel, &["matchExpressions"]) {
        let key = text(e, &["key"]);
        let values: Vec<&str> = list(e, &["values"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match text(e, &["operator"]).as_str() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key,
            "DoesNotExist" => format!("!{key}"),
            op => format!("{key} {op} ({})", values.join(",")),
        });
    }
    if parts.is_empty() {
        "<none>".to_string()
    } else {
        parts.join(",")
    }
}

#[cfg(test)]
mod tests;
