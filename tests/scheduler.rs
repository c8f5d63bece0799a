//! The scheduler with real processes: a master and three workers of different capacity, labels
//! and taints. Pods with selectors, tolerations and anti-affinity land where they must; pods
//! that fit nowhere stay Pending with kube-scheduler's message, and are placed once the
//! cluster changes (an uncordon); kubectl's cordon and taint work, and so do capstan's.

use crate::support::{eventually, tempdir, Cluster, Master, Proc};
use capstan_node::client::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const PODS: &str = "/api/v1/namespaces/default/pods";

fn cluster(dir: &Path) -> (Master, Vec<Proc>, std::path::PathBuf) {
    let c = Cluster::start(
        dir,
        &[
            ("small", "cpu = \"1\"\nmemory = \"1Gi\"\nlabels = { size = \"small\" }"),
            ("big", "cpu = \"4\"\nmemory = \"8Gi\"\nlabels = { size = \"big\", disk = \"ssd\" }"),
            (
                "gpu",
                "cpu = \"2\"\nmemory = \"4Gi\"\nlabels = { accel = \"gpu\" }\ntaints = [\"dedicated=gpu:NoSchedule\"]",
            ),
        ],
    );
    (c.master, c.workers, c.config)
}

fn create(c: &Client, name: &str, labels: Value, spec_extra: Value) {
    let mut spec = json!({"terminationGracePeriodSeconds": 1,
        "containers": [{"name": "main", "image": "busybox", "command": ["sleep", "3600"],
                        "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}}}]});
    if let (Some(s), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
        for (k, v) in extra {
            s.insert(k.clone(), v.clone());
        }
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": name, "labels": labels}, "spec": spec});
    let r = c
        .send_json("POST", PODS, "application/json", &pod)
        .expect("post");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}

fn get(c: &Client, name: &str) -> Value {
    c.get(&format!("{PODS}/{name}"))
        .expect("get")
        .json()
        .expect("json")
}

fn node_of(c: &Client, name: &str) -> String {
    eventually(
        Duration::from_secs(60),
        &format!("{name} scheduled"),
        || {
            let p = get(c, name);
            p["spec"]["nodeName"].as_str().map(str::to_string)
        },
    )
}

fn unschedulable_message(c: &Client, name: &str, want: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let p = get(c, name);
        let cond = p["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "PodScheduled"))
            .cloned()
            .unwrap_or_default();
        if cond["status"] == "False"
            && cond["reason"] == "Unschedulable"
            && cond["message"] == want
            && p["spec"]["nodeName"].is_null()
        {
            return p;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name}: wanted Unschedulable with {want:?}, last seen {cond}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn kubectl(dir: &Path, m: &Master, args: &[&str]) -> String {
    let out = std::process::Command::new("/usr/bin/kubectl")
        .args(args)
        .env("KUBECONFIG", &m.kubeconfig)
        .env("HOME", dir)
        .output()
        .expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn capstan(m: &Master, args: &[&str]) -> String {
    let out = std::process::Command::new(crate::support::capstan_bin())
        .args(args)
        .arg("--kubeconfig")
        .arg(&m.kubeconfig)
        .output()
        .expect("run capstan");
    assert!(
        out.status.success(),
        "capstan {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn pods_land_where_their_constraints_say_and_impossible_ones_explain_why() {
    let dir = tempdir();
    let (m, _workers, _config) = cluster(dir.path());
    let c = &m.client;

    // nodeSelector → the only ssd node.
    create(
        c,
        "wants-ssd",
        json!({}),
        json!({"nodeSelector": {"disk": "ssd"}}),
    );
    // Toleration + selector → the tainted gpu node.
    create(
        c,
        "wants-gpu",
        json!({}),
        json!({"nodeSelector": {"accel": "gpu"},
               "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]}),
    );
    assert_eq!(node_of(c, "wants-ssd"), "big");
    assert_eq!(node_of(c, "wants-gpu"), "gpu");
    // The Scheduled event, as kube-scheduler words it.
    eventually(Duration::from_secs(30), "Scheduled event", || {
        let evs = c
            .get("/api/v1/namespaces/default/events")
            .ok()?
            .json()
            .ok()?;
        let evs: Value = evs;
        evs["items"]
            .as_array()?
            .iter()
            .any(|e| {
                e["reason"] == "Scheduled"
                    && e["message"] == "Successfully assigned default/wants-ssd to big"
            })
            .then_some(())
    });
    // Running for real on the chosen worker.
    eventually(Duration::from_secs(60), "wants-ssd Running", || {
        (get(c, "wants-ssd")["status"]["phase"] == "Running").then_some(())
    });

    // Three replicas that refuse to share a node: two untainted nodes, so two fit.
    let anti = json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "spread"}}, "topologyKey": "kubernetes.io/hostname"}]}}});
    for i in 0..3 {
        create(
            c,
            &format!("spread-{i}"),
            json!({"app": "spread"}),
            anti.clone(),
        );
    }
    let mut placed = Vec::new();
    let mut pending = Vec::new();
    eventually(Duration::from_secs(60), "spread pods decided", || {
        placed.clear();
        pending.clear();
        for i in 0..3 {
            let name = format!("spread-{i}");
            let p = get(c, &name);
            match p["spec"]["nodeName"].as_str() {
                Some(n) => placed.push(n.to_string()),
                None if p["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "PodScheduled" && c["status"] == "False")
                }) =>
                {
                    pending.push(name)
                }
                None => return None,
            }
        }
        (placed.len() == 2 && pending.len() == 1).then_some(())
    });
    placed.sort();
    assert_eq!(placed, ["big", "small"], "one per untainted node");
    unschedulable_message(
        c,
        &pending[0],
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match pod anti-affinity rules.",
    );

    // Too big for any node.
    create(
        c,
        "huge",
        json!({}),
        json!({"containers": [{"name": "main", "image": "busybox", "command": ["sleep", "3600"],
                               "resources": {"requests": {"cpu": "16"}}}]}),
    );
    let huge = unschedulable_message(
        c,
        "huge",
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.",
    );
    assert_eq!(huge["status"]["phase"], "Pending");
    // A FailedScheduling event says the same.
    eventually(Duration::from_secs(30), "FailedScheduling event", || {
        let evs = c
            .get("/api/v1/namespaces/default/events")
            .ok()?
            .json()
            .ok()?;
        evs["items"]
            .as_array()?
            .iter()
            .any(|e| {
                e["reason"] == "FailedScheduling"
                    && e["involvedObject"]["name"] == "huge"
                    && e["type"] == "Warning"
            })
            .then_some(())
    });
    // kubectl describe shows the condition's message.
    let described = kubectl(dir.path(), &m, &["describe", "pod", "huge"]);
    assert!(described.contains("PodScheduled"), "{described}");

    // Cordon the ssd node with kubectl: an ssd pod now waits, and lands after the uncordon.
    let out = kubectl(dir.path(), &m, &["cordon", "big"]);
    assert!(out.contains("node/big cordoned"), "{out}");
    create(
        c,
        "ssd-later",
        json!({}),
        json!({"nodeSelector": {"disk": "ssd"}}),
    );
    unschedulable_message(
        c,
        "ssd-later",
        "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable.",
    );
    let out = capstan(&m, &["uncordon", "big"]);
    assert!(out.contains("node/big uncordoned"), "{out}");
    assert_eq!(node_of(c, "ssd-later"), "big");

    // capstan taint: the small node now repels plain pods; kubectl taint removes it again.
    let out = capstan(&m, &["taint", "small", "maintenance=now:NoSchedule"]);
    assert!(out.contains("node/small tainted"), "{out}");
    create(c, "plain", json!({}), json!({}));
    assert_eq!(node_of(c, "plain"), "big", "small is tainted, gpu too");
    let out = kubectl(
        dir.path(),
        &m,
        &["taint", "nodes", "small", "maintenance:NoSchedule-"],
    );
    assert!(out.contains("untainted"), "{out}");
    let small = c
        .get("/api/v1/nodes/small")
        .expect("get")
        .json()
        .expect("json");
    assert!(
        small["spec"]["taints"]
            .as_array()
            .is_none_or(|t| t.is_empty()),
        "{small}"
    );
}

#[test]
fn the_binding_subresource_binds_once() {
    let dir = tempdir();
    let m = Master::start(dir.path());
    let c = &m.client;
    // No nodes: the pod waits, and the binding subresource places it by hand.
    create(
        c,
        "manual",
        json!({}),
        json!({"schedulerName": "someone-else"}),
    );
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "manual"},
                         "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}});
    let r = c
        .send_json(
            "POST",
            &format!("{PODS}/manual/binding"),
            "application/json",
            &binding,
        )
        .expect("bind");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let p = get(c, "manual");
    assert_eq!(p["spec"]["nodeName"], "n1");
    assert!(p["status"]["conditions"].as_array().is_some_and(|cs| cs
        .iter()
        .any(|c| c["type"] == "PodScheduled" && c["status"] == "True")));
    // A second binding is a conflict naming the node.
    let again = json!({"target": {"kind": "Node", "name": "n2"}});
    let r = c
        .send_json(
            "POST",
            &format!("{PODS}/manual/binding"),
            "application/json",
            &again,
        )
        .expect("bind");
    assert_eq!(r.status, 409);
    let body = String::from_utf8_lossy(&r.body);
    assert!(
        body.contains("already assigned to node \\\"n1\\\""),
        "{body}"
    );
    // Bad input changes nothing.
    let r = c
        .send_json(
            "POST",
            &format!("{PODS}/manual/binding"),
            "application/json",
            &json!({"target": {}}),
        )
        .expect("bind");
    assert_eq!(r.status, 400);
    let r = c
        .send_json(
            "POST",
            &format!("{PODS}/missing/binding"),
            "application/json",
            &binding,
        )
        .expect("bind");
    assert!(r.status == 404 || r.status == 400, "{}", r.status);
    assert_eq!(get(c, "manual")["spec"]["nodeName"], "n1");
}
