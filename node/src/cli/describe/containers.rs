//! Containers, pod templates, volumes and tolerations, shared by the pod, replica set and
//! deployment renderers (kubectl's `describeContainers` and `DescribePodTemplate`).

use super::text::{
    annotations_multiline, int, labels_multiline, list, map, multiline, or_none, resource_list, s,
    scalar, yes_no, Doc,
};
use serde_json::Value;

/// `Containers:` (or `Init Containers:`) with each container's details; `statuses` are the
/// pod's container statuses (none for templates); `space` indents the title (`"  "` in templates).
pub fn describe_containers(
    d: &mut Doc,
    title: &str,
    containers: &[Value],
    statuses: Option<&[Value]>,
    space: &str,
) {
    d.line(0, &format!("{space}{title}:"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for c in containers {
        let name = s(c, "/name");
        let status = statuses.and_then(|st| st.iter().find(|x| s(x, "/name") == name));
        d.line(1, &format!("{name_indent}{name}:"));
        if let Some(st) = status {
            d.field(2, "Container ID", s(st, "/containerID"));
        }
        d.field(2, "Image", s(c, "/image"));
        if let Some(st) = status {
            d.field(2, "Image ID", s(st, "/imageID"));
        }
        let ports = list(c, "/ports");
        let proto = |p: &Value| {
            let pr = s(p, "/protocol");
            if pr.is_empty() {
                "TCP".to_string()
            } else {
                pr.to_string()
            }
        };
        let container_ports: Vec<String> = ports
            .iter()
            .map(|p| format!("{}/{}", int(p, "/containerPort", 0), proto(p)))
            .collect();
        let host_ports: Vec<String> = ports
            .iter()
            .map(|p| format!("{}/{}", int(p, "/hostPort", 0), proto(p)))
            .collect();
        if container_ports.len() > 1 {
            d.field(2, "Ports", &container_ports.join(", "));
            d.field(2, "Host Ports", &host_ports.join(", "));
        } else {
            d.field(2, "Port", &or_none(&container_ports.join(", ")));
            d.field(2, "Host Port", &or_none(&host_ports.join(", ")));
        }
        for (key, title) in [("/command", "Command"), ("/args", "Args")] {
            let items = list(c, key);
            if !items.is_empty() {
                d.line(2, &format!("{title}:"));
                for item in items {
                    for part in scalar(Some(item)).split('\n') {
                        d.line(3, &part.replace('\t', " "));
                    }
                }
            }
        }
        if let Some(st) = status {
            container_state(d, "State", st.get("state"));
            if st.pointer("/lastState/terminated").is_some() {
                container_state(d, "Last State", st.get("lastState"));
            }
            d.field(
                2,
                "Ready",
                yes_no(st.get("ready").and_then(Value::as_bool).unwrap_or(false)),
            );
            d.field(2, "Restart Count", &int(st, "/restartCount", 0).to_string());
        }
        for (key, title) in [
            ("/resources/limits", "Limits"),
            ("/resources/requests", "Requests"),
        ] {
            if map(c, key).is_some_and(|m| !m.is_empty()) {
                d.line(2, &format!("{title}:"));
                resource_list(d, 3, map(c, key));
            }
        }
        for (key, title) in [
            ("/livenessProbe", "Liveness"),
            ("/readinessProbe", "Readiness"),
            ("/startupProbe", "Startup"),
        ] {
            if let Some(p) = c.pointer(key).filter(|p| p.is_object()) {
                d.field(2, title, &describe_probe(p));
            }
        }
        environment(d, c);
        mounts(d, c);
    }
}

fn container_state(d: &mut Doc, title: &str, state: Option<&Value>) {
    let state = state.unwrap_or(&Value::Null);
    if let Some(r) = state.get("running").filter(|v| v.is_object()) {
        d.field(2, title, "Running");
        d.field(3, "Started", &super::text::rfc1123z(s(r, "/startedAt")));
    } else if let Some(t) = state.get("terminated").filter(|v| v.is_object()) {
        d.field(2, title, "Terminated");
        if !s(t, "/reason").is_empty() {
            d.field(3, "Reason", s(t, "/reason"));
        }
        if !s(t, "/message").is_empty() {
            d.field(3, "Message", s(t, "/message"));
        }
        d.field(3, "Exit Code", &int(t, "/exitCode", 0).to_string());
        if int(t, "/signal", 0) > 0 {
            d.field(3, "Signal", &int(t, "/signal", 0).to_string());
        }
        d.field(3, "Started", &super::text::rfc1123z(s(t, "/startedAt")));
        d.field(3, "Finished", &super::text::rfc1123z(s(t, "/finishedAt")));
    } else {
        d.field(2, title, "Waiting");
        let reason = state
            .pointer("/waiting/reason")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !reason.is_empty() {
            d.field(3, "Reason", reason);
        }
    }
}

/// `http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3`.
pub fn describe_probe(p: &Value) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        int(p, "/initialDelaySeconds", 0),
        int(p, "/timeoutSeconds", 1),
        int(p, "/periodSeconds", 10),
        int(p, "/successThreshold", 1),
        int(p, "/failureThreshold", 3)
    );
    if let Some(e) = p.get("exec").filter(|v| v.is_object()) {
        let cmd: Vec<String> = list(e, "/command")
            .iter()
            .map(|c| scalar(Some(c)))
            .collect();
        return format!("exec [{}] {attrs}", cmd.join(" "));
    }
    if let Some(h) = p.get("httpGet").filter(|v| v.is_object()) {
        let scheme = s(h, "/scheme").to_ascii_lowercase();
        let scheme = if scheme.is_empty() {
            "http".to_string()
        } else {
            scheme
        };
        let port = scalar(h.get("port"));
        let host = s(h, "/host");
        let hostport = if port.is_empty() {
            host.to_string()
        } else {
            format!("{host}:{port}")
        };
        return format!("http-get {scheme}://{hostport}{} {attrs}", s(h, "/path"));
    }
    if let Some(t) = p.get("tcpSocket").filter(|v| v.is_object()) {
        return format!(
            "tcp-socket {}:{} {attrs}",
            s(t, "/host"),
            scalar(t.get("port"))
        );
    }
    if let Some(g) = p.get("grpc").filter(|v| v.is_object()) {
        return format!(
            "grpc <pod>:{} {} {attrs}",
            int(g, "/port", 0),
            s(g, "/service")
        );
    }
    format!("unknown {attrs}")
}

fn environment(d: &mut Doc, c: &Value) {
    let env = list(c, "/env");
    if env.is_empty() {
        d.field(2, "Environment", "<none>");
        return;
    }
    d.line(2, "Environment:");
    for e in env {
        let name = s(e, "/name");
        if let Some(from) = e.get("valueFrom").filter(|v| v.is_object()) {
            let text = if let Some(f) = from.get("fieldRef") {
                format!(" ({}:{})", s(f, "/apiVersion"), s(f, "/fieldPath"))
            } else if let Some(r) = from.get("resourceFieldRef") {
                format!("{} ({})", s(r, "/resource"), s(r, "/containerName"))
            } else if let Some(k) = from.get("secretKeyRef") {
                format!(
                    "<set to the key '{}' in secret '{}'>",
                    s(k, "/key"),
                    s(k, "/name")
                )
            } else if let Some(k) = from.get("configMapKeyRef") {
                format!(
                    "<set to the key '{}' of config map '{}'>",
                    s(k, "/key"),
                    s(k, "/name")
                )
            } else {
                "<set from an unknown source>".to_string()
            };
            d.field(3, name, &text);
            continue;
        }
        let value = s(e, "/value");
        let mut lines = value.split('\n');
        d.field(3, name, lines.next().unwrap_or_default());
        for more in lines {
            d.line(3, &format!("\t{}", more.replace('\t', " ")));
        }
    }
}

fn mounts(d: &mut Doc, c: &Value) {
    let mut ms: Vec<&Value> = list(c, "/volumeMounts").iter().collect();
    if ms.is_empty() {
        d.field(2, "Mounts", "<none>");
        return;
    }
    d.line(2, "Mounts:");
    ms.sort_by_key(|m| s(m, "/mountPath"));
    for m in ms {
        let mut flags = vec![
            if m.get("readOnly").and_then(Value::as_bool) == Some(true) {
                "ro".to_string()
            } else {
                "rw".to_string()
            },
        ];
        if !s(m, "/subPath").is_empty() {
            flags.push(format!("path={:?}", s(m, "/subPath")));
        }
        d.line(
            3,
            &format!(
                "{} from {} ({})",
                s(m, "/mountPath"),
                s(m, "/name"),
                flags.join(",")
            ),
        );
    }
}

/// `Volumes:` and each volume's source.
pub fn describe_volumes(d: &mut Doc, volumes: &[Value], space: &str) {
    if volumes.is_empty() {
        d.field(0, &format!("{space}Volumes"), "<none>");
        return;
    }
    d.line(0, &format!("{space}Volumes:"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for v in volumes {
        d.line(1, &format!("{name_indent}{}:", s(v, "/name")));
        if let Some(h) = v.get("hostPath") {
            d.field(2, "Type", "HostPath (bare host directory volume)");
            d.field(2, "Path", s(h, "/path"));
            d.field(2, "HostPathType", s(h, "/type"));
        } else if let Some(e) = v.get("emptyDir") {
            d.field(
                2,
                "Type",
                "EmptyDir (a temporary directory that shares a pod's lifetime)",
            );
            d.field(2, "Medium", s(e, "/medium"));
            d.field(2, "SizeLimit", &or_none(&scalar(e.get("sizeLimit"))));
        } else if let Some(c) = v.get("configMap") {
            d.field(2, "Type", "ConfigMap (a volume populated by a ConfigMap)");
            d.field(2, "Name", s(c, "/name"));
            d.field(
                2,
                "Optional",
                &c.get("optional")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                    .to_string(),
            );
        } else if let Some(sec) = v.get("secret") {
            d.field(2, "Type", "Secret (a volume populated by a Secret)");
            d.field(2, "SecretName", s(sec, "/secretName"));
            d.field(
                2,
                "Optional",
                &sec.get("optional")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                    .to_string(),
            );
        } else {
            let kind = v
                .as_object()
                .and_then(|m| m.keys().find(|k| k.as_str() != "name"))
                .cloned()
                .unwrap_or_default();
            d.field(2, "Type", &or_none(&kind));
        }
    }
}

/// `Tolerations:` one per line (`key=value:Effect op=Exists for 300s`), or `<none>`.
pub fn tolerations_multiline(d: &mut Doc, title: &str, tolerations: &[Value]) {
    let items: Vec<String> = tolerations
        .iter()
        .map(|t| {
            let (key, value, effect) = (s(t, "/key"), s(t, "/value"), s(t, "/effect"));
            let mut out = key.to_string();
            if !value.is_empty() {
                out.push_str(&format!("={value}"));
            }
            if !effect.is_empty() {
                out.push_str(&format!(":{effect}"));
            }
            if s(t, "/operator") == "Exists" && value.is_empty() {
                out.push_str(if key.is_empty() && effect.is_empty() {
                    "op=Exists"
                } else {
                    " op=Exists"
                });
            }
            if let Some(secs) = t.get("tolerationSeconds").and_then(Value::as_i64) {
                out.push_str(&format!(" for {secs}s"));
            }
            out
        })
        .collect();
    multiline(d, 0, title, &items);
}

/// kubectl's `DescribePodTemplate`.
pub fn describe_pod_template(d: &mut Doc, template: Option<&Value>) {
    d.line(0, "Pod Template:");
    let Some(t) = template.filter(|t| t.is_object()) else {
        d.line(1, "<unset>");
        return;
    };
    labels_multiline(d, 1, "Labels", map(t, "/metadata/labels"));
    if map(t, "/metadata/annotations").is_some_and(|m| !m.is_empty()) {
        annotations_multiline(d, 1, "Annotations", map(t, "/metadata/annotations"));
    }
    if !s(t, "/spec/serviceAccountName").is_empty() {
        d.field(1, "Service Account", s(t, "/spec/serviceAccountName"));
    }
    let init = list(t, "/spec/initContainers");
    if !init.is_empty() {
        describe_containers(d, "Init Containers", init, None, "  ");
    }
    describe_containers(d, "Containers", list(t, "/spec/containers"), None, "  ");
    describe_volumes(d, list(t, "/spec/volumes"), "  ");
    if !s(t, "/spec/priorityClassName").is_empty() {
        d.field(1, "Priority Class Name", s(t, "/spec/priorityClassName"));
    }
    labels_multiline(d, 1, "Node-Selectors", map(t, "/spec/nodeSelector"));
    tolerations_multiline(d, "  Tolerations", list(t, "/spec/tolerations"));
}
