//! `describe node`.

use super::events::events_section;
use super::text::{header, list, map, multiline, resource_list, rfc1123z, s, Doc};
use capstan_core::time::Timestamp;
use serde_json::Value;

/// The roles a node's labels give it (`node-role.kubernetes.io/<role>`, `kubernetes.io/role`).
pub fn node_roles(node: &Value) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    if let Some(labels) = map(node, "/metadata/labels") {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.push(role.to_string());
                }
            } else if k == "kubernetes.io/role" {
                if let Some(r) = v.as_str().filter(|r| !r.is_empty()) {
                    roles.push(r.to_string());
                }
            }
        }
    }
    roles.sort();
    roles.dedup();
    roles
}

/// A node as `kubectl describe node` shows it.
pub fn render_node(node: &Value, events: &[Value], now: Timestamp) -> String {
    let mut d = Doc::new();
    header(&mut d, node);
    let roles = node_roles(node);
    d.field(
        0,
        "Roles",
        &if roles.is_empty() {
            "<none>".to_string()
        } else {
            roles.join(",")
        },
    );
    let taints: Vec<String> = list(node, "/spec/taints")
        .iter()
        .map(|t| {
            let (k, v, e) = (s(t, "/key"), s(t, "/value"), s(t, "/effect"));
            if v.is_empty() {
                format!("{k}:{e}")
            } else {
                format!("{k}={v}:{e}")
            }
        })
        .collect();
    multiline(&mut d, 0, "Taints", &taints);
    let unschedulable = node
        .pointer("/spec/unschedulable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    d.field(0, "Unschedulable", &unschedulable.to_string());
    let conditions = list(node, "/status/conditions");
    if !conditions.is_empty() {
        d.line(0, "Conditions:");
        d.line(
            1,
            "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage",
        );
        d.line(
            1,
            "----\t------\t-----------------\t------------------\t------\t-------",
        );
        for c in conditions {
            d.line(
                1,
                &format!(
                    "{} \t{} \t{} \t{} \t{} \t{}",
                    s(c, "/type"),
                    s(c, "/status"),
                    rfc1123z(s(c, "/lastHeartbeatTime")),
                    rfc1123z(s(c, "/lastTransitionTime")),
                    s(c, "/reason"),
                    super::text::clean(s(c, "/message"))
                ),
            );
        }
    }
    d.line(0, "Addresses:");
    for a in list(node, "/status/addresses") {
        d.field(1, s(a, "/type"), s(a, "/address"));
    }
    for (key, title) in [
        ("/status/capacity", "Capacity"),
        ("/status/allocatable", "Allocatable"),
    ] {
        if map(node, key).is_some_and(|m| !m.is_empty()) {
            d.line(0, &format!("{title}:"));
            resource_list(&mut d, 1, map(node, key));
        }
    }
    d.line(0, "System Info:");
    for (key, title) in [
        ("machineID", "Machine ID"),
        ("systemUUID", "System UUID"),
        ("bootID", "Boot ID"),
        ("kernelVersion", "Kernel Version"),
        ("osImage", "OS Image"),
        ("operatingSystem", "Operating System"),
        ("architecture", "Architecture"),
        ("containerRuntimeVersion", "Container Runtime Version"),
        ("kubeletVersion", "Kubelet Version"),
        ("kubeProxyVersion", "Kube-Proxy Version"),
    ] {
        d.field(1, title, s(node, &format!("/status/nodeInfo/{key}")));
    }
    for (key, title) in [
        ("/spec/podCIDR", "PodCIDR"),
        ("/spec/providerID", "ProviderID"),
    ] {
        if !s(node, key).is_empty() {
            d.field(0, title, s(node, key));
        }
    }
    events_section(&mut d, events, now);
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nodes_show_roles_taints_and_resources() {
        let node = json!({
            "metadata": {"name": "n1", "creationTimestamp": "2024-01-01T00:00:00Z",
                "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "n1"}},
            "spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}, {"key": "x", "effect": "NoExecute"}]},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ready",
                    "lastHeartbeatTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": "n1"}],
                "capacity": {"pods": "110", "cpu": "4", "memory": "8Gi"},
                "allocatable": {"cpu": "3800m"},
                "nodeInfo": {"kubeletVersion": "v1.32.0-capstan", "architecture": "amd64"},
            },
        });
        let text = render_node(&node, &[], Timestamp(0));
        for want in [
            "Roles:              control-plane\n",
            "Taints:             dedicated=db:NoSchedule\n                    x:NoExecute\n",
            "Unschedulable:      false\n",
            "  Ready   True    Mon, 01 Jan 2024 00:00:00 +0000   Mon, 01 Jan 2024 00:00:00 +0000   KubeletReady   ready\n",
            "Addresses:\n  InternalIP:  10.0.0.1\n  Hostname:    n1\n",
            "Capacity:\n  cpu:     4\n  memory:  8Gi\n  pods:    110\n",
            "Allocatable:\n  cpu:  3800m\n",
            "  Architecture:               amd64\n",
            "Events:",
        ] {
            assert!(text.contains(want), "{want:?} missing from\n{text}");
        }
        assert!(!text.contains("Namespace:"), "{text}");
    }
}
