//! `describe pod`.

use super::containers::{describe_containers, describe_volumes, tolerations_multiline};
use super::events::events_section;
use super::text::{controlled_by, header, labels_multiline, list, map, rfc1123z, s, since, Doc};
use capstan_core::time::Timestamp;
use serde_json::Value;

/// A pod as `kubectl describe pod` shows it.
pub fn render_pod(pod: &Value, events: &[Value], now: Timestamp) -> String {
    let mut d = Doc::new();
    header(&mut d, pod);
    if let Some(p) = pod.pointer("/spec/priority").and_then(Value::as_i64) {
        d.field(0, "Priority", &p.to_string());
    }
    if !s(pod, "/spec/priorityClassName").is_empty() {
        d.field(0, "Priority Class Name", s(pod, "/spec/priorityClassName"));
    }
    if !s(pod, "/spec/serviceAccountName").is_empty() {
        d.field(0, "Service Account", s(pod, "/spec/serviceAccountName"));
    }
    let node = s(pod, "/spec/nodeName");
    if node.is_empty() {
        d.field(0, "Node", "<none>");
    } else {
        d.field(0, "Node", &format!("{node}/{}", s(pod, "/status/hostIP")));
    }
    if !s(pod, "/status/startTime").is_empty() {
        d.field(0, "Start Time", &rfc1123z(s(pod, "/status/startTime")));
    }
    let deletion = s(pod, "/metadata/deletionTimestamp");
    if deletion.is_empty() {
        d.field(0, "Status", s(pod, "/status/phase"));
    } else {
        d.field(
            0,
            "Status",
            &format!("Terminating (lasts {})", since(deletion, now)),
        );
        if let Some(g) = pod
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
        {
            d.field(0, "Termination Grace Period", &format!("{g}s"));
        }
    }
    for (key, title) in [("/status/reason", "Reason"), ("/status/message", "Message")] {
        if !s(pod, key).is_empty() {
            d.field(0, title, s(pod, key));
        }
    }
    d.field(0, "IP", s(pod, "/status/podIP"));
    let ips = list(pod, "/status/podIPs");
    if ips.is_empty() {
        d.field(0, "IPs", "<none>");
    } else {
        d.line(0, "IPs:");
        for ip in ips {
            d.field(1, "IP", s(ip, "/ip"));
        }
    }
    if let Some(c) = controlled_by(pod) {
        d.field(0, "Controlled By", &c);
    }
    let init = list(pod, "/spec/initContainers");
    if !init.is_empty() {
        describe_containers(
            &mut d,
            "Init Containers",
            init,
            Some(list(pod, "/status/initContainerStatuses")),
            "",
        );
    }
    describe_containers(
        &mut d,
        "Containers",
        list(pod, "/spec/containers"),
        Some(list(pod, "/status/containerStatuses")),
        "",
    );
    let conditions = list(pod, "/status/conditions");
    if !conditions.is_empty() {
        d.line(0, "Conditions:");
        d.line(1, "Type\tStatus");
        for c in conditions {
            d.line(1, &format!("{} \t{} ", s(c, "/type"), s(c, "/status")));
        }
    }
    describe_volumes(&mut d, list(pod, "/spec/volumes"), "");
    let qos = s(pod, "/status/qosClass");
    if !qos.is_empty() {
        d.field(0, "QoS Class", qos);
    }
    labels_multiline(&mut d, 0, "Node-Selectors", map(pod, "/spec/nodeSelector"));
    tolerations_multiline(&mut d, "Tolerations", list(pod, "/spec/tolerations"));
    events_section(&mut d, events, now);
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "web", "namespace": "default", "uid": "u1",
                "creationTimestamp": "2024-01-01T00:00:00Z",
                "labels": {"app": "web"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a"},
                "ownerReferences": [{"kind": "ReplicaSet", "name": "web-abc", "controller": true}],
            },
            "spec": {
                "nodeName": "node1",
                "containers": [{
                    "name": "nginx", "image": "nginx:1.25",
                    "command": ["sh", "-c"], "args": ["sleep 10"],
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m"}},
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5},
                    "readinessProbe": {"exec": {"command": ["true"]}},
                }],
                "tolerations": [
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                ],
            },
            "status": {
                "phase": "Running", "hostIP": "10.0.0.1", "podIP": "10.1.0.5",
                "podIPs": [{"ip": "10.1.0.5"}],
                "startTime": "2024-01-01T00:00:01Z",
                "qosClass": "Burstable",
                "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
                "containerStatuses": [{
                    "name": "nginx", "ready": true, "restartCount": 2, "containerID": "capstan://abc", "imageID": "",
                    "state": {"running": {"startedAt": "2024-01-01T00:00:02Z"}},
                }],
            },
        })
    }

    #[test]
    fn pods_describe_like_kubectl() {
        let now = Timestamp::parse_rfc3339("2024-01-01T00:10:00Z").expect("time");
        let events = vec![
            json!({"type": "Normal", "reason": "Started", "message": "Started container nginx",
                   "source": {"component": "kubelet"}, "firstTimestamp": "2024-01-01T00:00:02Z", "lastTimestamp": "2024-01-01T00:00:02Z", "count": 1}),
            json!({"type": "Normal", "reason": "Scheduled", "message": "Successfully assigned default/web to node1",
                   "reportingComponent": "default-scheduler", "eventTime": "2024-01-01T00:00:00Z"}),
            json!({"type": "Warning", "reason": "BackOff", "message": "Back-off restarting",
                   "source": {"component": "kubelet"}, "firstTimestamp": "2024-01-01T00:01:00Z", "lastTimestamp": "2024-01-01T00:08:00Z", "count": 4}),
        ];
        let text = render_pod(&pod(), &events, now);
        let want = "\
Name:               web
Namespace:          default
Labels:             app=web
Annotations:        team: a
CreationTimestamp:  Mon, 01 Jan 2024 00:00:00 +0000
Node:               node1/10.0.0.1
Start Time:         Mon, 01 Jan 2024 00:00:01 +0000
Status:             Running
IP:                 10.1.0.5
IPs:
  IP:           10.1.0.5
Controlled By:  ReplicaSet/web-abc
Containers:
  nginx:
    Container ID:  capstan://abc
    Image:         nginx:1.25
    Image ID:      \n    Port:          80/TCP
    Host Port:     0/TCP
    Command:
      sh
      -c
    Args:
      sleep 10
    State:          Running
      Started:      Mon, 01 Jan 2024 00:00:02 +0000
    Ready:          True
    Restart Count:  2
    Limits:
      cpu:  500m
    Requests:
      cpu:        100m
      memory:     64Mi
    Liveness:     http-get http://:8080/healthz delay=0s timeout=1s period=5s #success=1 #failure=3
    Readiness:    exec [true] delay=0s timeout=1s period=10s #success=1 #failure=3
    Environment:  <none>
    Mounts:       <none>
Conditions:
  Type           Status
  Ready          True \n  PodScheduled   True \nVolumes:         <none>
QoS Class:       Burstable
Node-Selectors:  <none>
Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
Events:
  Type     Reason     Age              From               Message
  ----     ------     ----             ----               -------
  Normal   Scheduled  10m              default-scheduler  Successfully assigned default/web to node1
  Normal   Started    9m58s            kubelet            Started container nginx
  Warning  BackOff    2m (x4 over 9m)  kubelet            Back-off restarting
";
        assert_eq!(text, want, "\n{text}");
    }

    #[test]
    fn pending_pods_describe_without_status() {
        let p = json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
        let text = render_pod(&p, &[], Timestamp(0));
        for want in [
            "Node:",
            "<none>",
            "Containers:\n  c:\n    Image:",
            "Events:",
            "Tolerations:",
        ] {
            assert!(text.contains(want), "{want:?} missing from\n{text}");
        }
        assert!(!text.contains("State:"), "{text}");
        assert!(
            text.ends_with("Tolerations:      <none>\nEvents:           <none>\n"),
            "{text}"
        );
    }
}
