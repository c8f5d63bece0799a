//! The Node object a worker's [`Hello`] registers, and how a re-registration merges into the
//! stored one (labels a user added, cordons and taints stay).

use crate::protocol::Hello;
use capstan_core::node_status::mark_healthy;
use capstan_core::quantity::{format_bytes, format_milli_cpu};
use capstan_core::time::Timestamp;
use serde_json::{json, Map, Value};

/// The version string workers report as their kubelet version.
pub const KUBELET_VERSION: &str = "v1.32.0-capstan";

/// The Node for `name` as its worker describes it in `hello`; `seen_ip` is the address the
/// master sees the worker at (used when the worker does not name one).
pub fn node_from_hello(name: &str, hello: &Hello, seen_ip: &str, now: Timestamp) -> Value {
    let mut labels = Map::new();
    labels.insert("kubernetes.io/hostname".into(), json!(name));
    labels.insert("kubernetes.io/os".into(), json!("linux"));
    labels.insert("kubernetes.io/arch".into(), json!(hello.architecture));
    for (k, v) in &hello.labels {
        labels.insert(k.clone(), json!(v));
    }
    let taints: Vec<Value> = hello
        .taints
        .iter()
        .map(|t| {
            let mut o = json!({"key": t.key, "effect": t.effect});
            if !t.value.is_empty() {
                o["value"] = json!(t.value);
            }
            o
        })
        .collect();
    let ip = if hello.internal_ip.is_empty() {
        seen_ip
    } else {
        &hello.internal_ip
    };
    let resources = json!({
        "cpu": format_milli_cpu(hello.cpu_millis),
        "memory": format_bytes(hello.memory_bytes),
        "pods": hello.max_pods.to_string(),
    });
    let mut node = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {},
        "status": {
            "capacity": resources.clone(),
            "allocatable": resources,
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": hello.hostname}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
            "nodeInfo": {
                "machineID": hello.machine_id,
                "systemUUID": hello.machine_id,
                "bootID": hello.boot_id,
                "kernelVersion": hello.kernel_version,
                "osImage": hello.os_image,
                "containerRuntimeVersion": format!("capstan-process://{}", hello.worker_version),
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux",
                "architecture": hello.architecture,
            },
            "phase": "Running",
        },
    });
    if !taints.is_empty() {
        node["spec"]["taints"] = json!(taints);
    }
    mark_healthy(&mut node, now);
    node
}

/// Merges a fresh registration into the stored Node: the worker's labels win over stored ones
/// of the same key, labels others added stay; `spec` (cordon, taints edited since) is kept;
/// status comes from the registration, with condition transition times carried over.
pub fn merge_registration(stored: &Value, fresh: &Value, now: Timestamp) -> Value {
    let mut out = stored.clone();
    let mut labels = stored
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(f) = fresh.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in f {
            labels.insert(k.clone(), v.clone());
        }
    }
    out["metadata"]["labels"] = Value::Object(labels);
    let conditions = stored
        .pointer("/status/conditions")
        .cloned()
        .unwrap_or_else(|| json!([]));
    out["status"] = fresh["status"].clone();
    out["status"]["conditions"] = conditions;
    mark_healthy(&mut out, now);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::WireTaint;

    fn hello() -> Hello {
        Hello {
            cpu_millis: 2000,
            memory_bytes: 4 * 1024 * 1024 * 1024,
            max_pods: 110,
            labels: vec![("zone".into(), "a".into())],
            taints: vec![WireTaint {
                key: "dedicated".into(),
                value: "gpu".into(),
                effect: "NoSchedule".into(),
            }],
            hostname: "host-1".into(),
            internal_ip: String::new(),
            kernel_version: "6.1.0".into(),
            os_image: "Debian GNU/Linux 12 (bookworm)".into(),
            architecture: "amd64".into(),
            machine_id: "m1".into(),
            worker_version: "0.1.0".into(),
            boot_id: "boot".into(),
            resume_from: 0,
        }
    }

    #[test]
    fn registration_describes_the_machine() {
        let n = node_from_hello("w1", &hello(), "127.0.0.1", Timestamp(10));
        assert_eq!(
            n["status"]["capacity"],
            json!({"cpu": "2", "memory": "4Gi", "pods": "110"})
        );
        assert_eq!(n["metadata"]["labels"]["kubernetes.io/hostname"], "w1");
        assert_eq!(n["metadata"]["labels"]["zone"], "a");
        assert_eq!(
            n["spec"]["taints"][0],
            json!({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"})
        );
        assert_eq!(n["status"]["addresses"][0]["address"], "127.0.0.1");
        assert_eq!(capstan_core::node_status::ready_status(&n), Some("True"));
    }

    #[test]
    fn reregistration_keeps_what_others_changed() {
        let first = node_from_hello("w1", &hello(), "127.0.0.1", Timestamp(10));
        let mut stored = first.clone();
        stored["metadata"]["labels"]["node-role.kubernetes.io/edge"] = json!("");
        stored["spec"] = json!({"unschedulable": true});
        capstan_core::node_status::mark_unknown(&mut stored, Timestamp(20));
        let fresh = node_from_hello("w1", &hello(), "127.0.0.1", Timestamp(30));
        let merged = merge_registration(&stored, &fresh, Timestamp(30));
        assert_eq!(
            merged["metadata"]["labels"]["node-role.kubernetes.io/edge"],
            ""
        );
        assert_eq!(merged["spec"]["unschedulable"], true);
        assert_eq!(
            capstan_core::node_status::ready_status(&merged),
            Some("True")
        );
        assert_eq!(
            merged["status"]["conditions"][0]["lastTransitionTime"],
            Timestamp(30).to_rfc3339()
        );
    }
}
