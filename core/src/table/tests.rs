use super::*;

const NOW: Timestamp = Timestamp(1_000_000);

fn at(secs_ago: i64) -> String {
    Timestamp(NOW.0 - secs_ago).to_rfc3339()
}

struct Case {
    name: &'static str,
    pod: Value,
    want: [&'static str; 4],
}

fn check(c: &Case) {
    let cells = cells("Pod", &c.pod, NOW);
    let got: Vec<String> = cells[1..5]
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(got, c.want, "case {}", c.name);
}

#[test]
fn pod_rows_read_like_kubectl() {
    let cases = [
        Case {
            name: "new pod, nothing reported",
            pod: json!({"metadata": {"name": "a", "creationTimestamp": at(30)},
                        "spec": {"containers": [{"name": "c"}]}}),
            want: ["0/1", "Pending", "0", "30s"],
        },
        Case {
            name: "running and ready",
            pod: json!({"metadata": {"name": "a", "creationTimestamp": at(400)},
                        "spec": {"containers": [{"name": "c"}, {"name": "d"}]},
                        "status": {"phase": "Running", "containerStatuses": [
                            {"name": "c", "ready": true, "restartCount": 0, "state": {"running": {}}},
                            {"name": "d", "ready": false, "restartCount": 0, "state": {"running": {}}}]}}),
            want: ["1/2", "Running", "0", "6m40s"],
        },
        Case {
            name: "crash loop with restarts",
            pod: json!({"metadata": {"name": "a", "creationTimestamp": at(3600)},
                        "spec": {"containers": [{"name": "c"}]},
                        "status": {"phase": "Running", "containerStatuses": [
                            {"name": "c", "ready": false, "restartCount": 4,
                             "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                             "lastState": {"terminated": {"exitCode": 1, "finishedAt": at(90)}}}]}}),
            want: ["0/1", "CrashLoopBackOff", "4 (90s ago)", "60m"],
        },
        Case {
            name: "completed",
            pod: json!({"metadata": {"name": "a", "creationTimestamp": at(10)},
                        "spec": {"containers": [{"name": "c"}]},
                        "status": {"phase": "Succeeded", "containerStatuses": [
                            {"name": "c", "ready": false, "restartCount": 0,
                             "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}}),
            want: ["0/1", "Completed", "0", "10s"],
        },
        Case {
            name: "init container still running",
            pod: json!({"metadata": {"name": "a", "creationTimestamp": at(10)},
                        "spec": {"initContainers": [{"name": "i"}, {"name": "j"}], "containers": [{"name": "c"}]},
                        "status": {"phase": "Pending", "initContainerStatuses": [
                            {"name": "i", "ready": false, "restartCount": 0, "state": {"running": {}}}]}}),
            want: ["0/1", "Init:0/2", "0", "10s"],
        },
        Case {
            name: "terminating",
            pod: json!({"metadata": {"name": "a", "creationTimestamp": at(10), "deletionTimestamp": at(0)},
                        "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Running"}}),
            want: ["0/1", "Terminating", "0", "10s"],
        },
    ];
    for c in &cases {
        check(c);
    }
}

#[test]
fn node_status_shows_readiness_and_cordon() {
    let node = json!({"metadata": {"name": "n1", "creationTimestamp": at(86_400 * 3),
                                   "labels": {"node-role.kubernetes.io/control-plane": ""}},
                      "spec": {"unschedulable": true},
                      "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                 "nodeInfo": {"kubeletVersion": "v1.32.0-capstan"},
                                 "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}]}});
    let c = cells("Node", &node, NOW);
    assert_eq!(c[1], json!("Ready,SchedulingDisabled"));
    assert_eq!(c[2], json!("control-plane"));
    assert_eq!(c[3], json!("3d"));
    assert_eq!(c[4], json!("v1.32.0-capstan"));
    assert_eq!(c[5], json!("127.0.0.1"));
}

#[test]
fn deployment_and_table_shape() {
    let d = json!({"metadata": {"name": "web", "creationTimestamp": at(5)},
                   "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                            "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}},
                   "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
    let t = build_table(
        "Deployment",
        std::slice::from_ref(&d),
        NOW,
        IncludeObject::Metadata,
        "42",
    );
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["metadata"]["resourceVersion"], "42");
    assert_eq!(t["columnDefinitions"].as_array().map(Vec::len), Some(8));
    let row = &t["rows"][0];
    assert_eq!(
        row["cells"],
        json!(["web", "2/3", 3, 2, "5s", "nginx", "nginx:1.25", "app=web"])
    );
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(row["object"]["metadata"]["name"], "web");
}

#[test]
fn service_ports_and_selector() {
    let svc = json!({"metadata": {"name": "web", "creationTimestamp": at(5)},
                     "spec": {"type": "NodePort", "clusterIP": "10.0.0.5", "selector": {"app": "web"},
                              "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}});
    let c = cells("Service", &svc, NOW);
    assert_eq!(
        c[1..5],
        [
            json!("NodePort"),
            json!("10.0.0.5"),
            json!("<none>"),
            json!("80:30080/TCP,53/UDP")
        ]
    );
    assert_eq!(c[6], json!("app=web"));
}
