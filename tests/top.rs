//! Resource usage: the workers' reported usage served as the metrics API (`metrics.k8s.io`)
//! that stock `kubectl top` reads, and `capstan top nodes|pods`.

use crate::support::{eventually, free_ports, tempdir, Master, Proc};
use capstan_node::client::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

const KUBECTL: &str = "/usr/bin/kubectl";
const METRICS: &str = "/apis/metrics.k8s.io/v1beta1";

/// A master and one worker "w1".
fn cluster(dir: &Path) -> (Master, Proc) {
    let (api, quic) = free_ports();
    let text = format!(
        "[master]\ndata_dir = {:?}\napi_listen = \"127.0.0.1:{api}\"\nnode_listen = \"127.0.0.1:{quic}\"\n\n\
         [[worker]]\nname = \"w1\"\nmaster = \"127.0.0.1:{quic}\"\ntoken_file = {:?}\ndata_dir = {:?}\n",
        dir.join("master"),
        dir.join("master/node-token"),
        dir.join("w1")
    );
    let config = dir.join("cluster.toml");
    std::fs::write(&config, text).expect("config");
    let master = Master::start_with_config(&dir.join("master"), &config);
    let worker = Proc::spawn(
        &[
            "worker",
            "--config",
            config.to_str().expect("utf8"),
            "--name",
            "w1",
        ],
        "info",
        dir,
    );
    let c = master.client.clone();
    eventually(Duration::from_secs(60), "w1 Ready", || {
        let n = c.get("/api/v1/nodes/w1").ok()?.json().ok()?;
        (capstan_core::node_status::ready_status(&n) == Some("True")).then_some(())
    });
    (master, worker)
}

/// Runs stock kubectl against the master with a fresh discovery cache.
fn kubectl(m: &Master, home: &Path, args: &[&str]) -> Output {
    Command::new(KUBECTL)
        .args(args)
        .env("KUBECONFIG", &m.kubeconfig)
        .env("HOME", home)
        .env("KUBECACHEDIR", home.join("cache"))
        .output()
        .expect("kubectl runs")
}

/// Runs `capstan --kubeconfig K ARGS`.
fn capstan(m: &Master, args: &[&str]) -> Output {
    Command::new(crate::support::capstan_bin())
        .arg("--kubeconfig")
        .arg(&m.kubeconfig)
        .args(args)
        .output()
        .expect("capstan runs")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// The whitespace-separated cells of the first line of `out` whose first cell is `first`.
fn row(out: &str, first: &str) -> Option<Vec<String>> {
    out.lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .find(|cells| cells.first().map(String::as_str) == Some(first))
}

/// Millicores from a `123m` cell.
fn millis(cell: &str) -> Option<u64> {
    cell.strip_suffix('m')?.parse().ok()
}

#[test]
fn metrics_api_is_discoverable_and_guarded() {
    let dir = tempdir();
    let m = Master::start(&dir.path().join("master"));
    let c = &m.client;

    let groups = c.get("/apis").expect("apis").json().expect("json");
    let g = groups["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["name"] == "metrics.k8s.io")
        .cloned()
        .expect("metrics.k8s.io in /apis");
    assert_eq!(g["preferredVersion"]["version"], "v1beta1");
    let res = c.get(METRICS).expect("resources").json().expect("json");
    assert_eq!(res["kind"], "APIResourceList");
    assert_eq!(res["groupVersion"], "metrics.k8s.io/v1beta1");

    // No node has reported anything: empty lists, 404 for names.
    let nodes = c.get(&format!("{METRICS}/nodes")).expect("list");
    assert_eq!(nodes.status, 200);
    let nodes = nodes.json().expect("json");
    assert_eq!(nodes["kind"], "NodeMetricsList");
    assert_eq!(nodes["apiVersion"], "metrics.k8s.io/v1beta1");
    assert_eq!(nodes["items"], json!([]));
    let pods = c.get(&format!("{METRICS}/pods")).expect("list");
    assert_eq!(pods.status, 200);
    assert_eq!(pods.json().expect("json")["kind"], "PodMetricsList");
    for path in [
        format!("{METRICS}/nodes/nope"),
        format!("{METRICS}/namespaces/default/pods/nope"),
    ] {
        let r = c.get(&path).expect("get");
        assert_eq!(r.status, 404, "{path}");
        let s = r.json().expect("status");
        assert_eq!(
            (s["kind"].as_str(), s["reason"].as_str()),
            (Some("Status"), Some("NotFound"))
        );
    }
    let r = c
        .get(&format!("{METRICS}/namespaces/default/deployments"))
        .expect("get");
    assert_eq!(r.status, 404);
    let r = c.get("/apis/metrics.k8s.io/v1/nodes").expect("get");
    assert_eq!(r.status, 404);
    let r = c
        .send_json(
            "DELETE",
            &format!("{METRICS}/nodes/w1"),
            "application/json",
            &json!({}),
        )
        .expect("delete");
    assert_eq!(r.status, 405);
    let r = c
        .get(&format!("{METRICS}/pods?labelSelector=%3D%3D%3D"))
        .expect("bad selector");
    assert_eq!(r.status, 400);

    // Same bearer-token auth as the rest of the API.
    let mut resolved = capstan_node::kubeconfig::load(&m.kubeconfig).expect("kubeconfig");
    resolved.token = None;
    let anon = Client::new(&resolved).expect("client");
    for path in [format!("{METRICS}/nodes"), format!("{METRICS}/pods")] {
        assert_eq!(anon.get(&path).expect("get").status, 401, "{path}");
    }

    // kubectl finds the metrics API (it does not say "Metrics API not available"); there are
    // just no metrics yet.
    if Path::new(KUBECTL).exists() {
        let home = tempdir();
        let o = kubectl(&m, home.path(), &["top", "node"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(
            err.contains("metrics not available yet") && !err.contains("Metrics API not available"),
            "kubectl top node: {err}"
        );
    }
}

#[test]
fn top_shows_a_busy_pod_and_its_node() {
    let dir = tempdir();
    let (m, _worker) = cluster(dir.path());
    let c = &m.client;
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": "burn", "labels": {"app": "burn"}},
                     "spec": {"nodeName": "w1", "terminationGracePeriodSeconds": 2,
                              "containers": [{"name": "main", "image": "busybox",
                                              "command": ["sh", "-c", "while :; do :; done"],
                                              "resources": {"requests": {"cpu": "100m", "memory": "16Mi"}}}]}});
    let r = c
        .send_json(
            "POST",
            "/api/v1/namespaces/default/pods",
            "application/json",
            &pod,
        )
        .expect("post");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    eventually(Duration::from_secs(60), "burn Running", || {
        let p = c
            .get("/api/v1/namespaces/default/pods/burn")
            .ok()?
            .json()
            .ok()?;
        (p["status"]["phase"] == "Running").then_some(())
    });

    // The worker reports usage with its heartbeats; wait for a sample with the pod burning CPU.
    let pm = eventually(
        Duration::from_secs(90),
        "PodMetrics for burn with CPU",
        || {
            let r = c
                .get(&format!("{METRICS}/namespaces/default/pods/burn"))
                .ok()?;
            let v = (r.status == 200).then(|| r.json().ok()).flatten()?;
            let cpu = v["containers"][0]["usage"]["cpu"].as_str()?.to_string();
            (cpu != "0").then_some(v)
        },
    );
    assert_eq!(pm["kind"], "PodMetrics");
    assert_eq!(pm["metadata"]["namespace"], "default");
    assert_eq!(pm["metadata"]["labels"]["app"], "burn");
    assert_eq!(pm["containers"][0]["name"], "main");
    assert!(pm["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(pm["window"].as_str().is_some_and(|w| w.ends_with('s')));
    assert!(pm["containers"][0]["usage"]["memory"].is_string());

    // Lists, with label selectors on the Pod's and Node's labels.
    let list = |q: &str| -> Value {
        c.get(&format!("{METRICS}/{q}"))
            .expect("list")
            .json()
            .expect("json")
    };
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["metadata"]["name"].as_str().map(str::to_string))
            .collect()
    };
    assert!(names(&list("pods")).contains(&"burn".to_string()));
    assert_eq!(
        names(&list("namespaces/default/pods?labelSelector=app%3Dburn")),
        ["burn"]
    );
    assert!(names(&list("namespaces/default/pods?labelSelector=app%3Dother")).is_empty());
    assert!(names(&list("namespaces/kube-system/pods")).is_empty());
    let nodes = list("nodes");
    assert_eq!(nodes["kind"], "NodeMetricsList");
    assert_eq!(names(&nodes), ["w1"]);
    assert!(names(&list("nodes?labelSelector=nope%3Dnope")).is_empty());
    let node = c
        .get(&format!("{METRICS}/nodes/w1"))
        .expect("get")
        .json()
        .expect("json");
    assert_eq!(node["kind"], "NodeMetrics");
    assert!(node["usage"]["cpu"].is_string() && node["usage"]["memory"].is_string());

    if Path::new(KUBECTL).exists() {
        let home = tempdir();
        let out = eventually(
            Duration::from_secs(60),
            "kubectl top pod shows burn busy",
            || {
                let o = kubectl(&m, home.path(), &["top", "pod"]);
                let t = text(&o);
                let r = row(&t, "burn")?;
                (millis(r.get(1)?)? > 0).then_some(t)
            },
        );
        assert!(out.starts_with("NAME"), "kubectl top pod: {out}");
        let o = kubectl(&m, home.path(), &["top", "pod", "-A"]);
        assert!(
            row(&text(&o), "default").is_some(),
            "kubectl top pod -A: {}",
            text(&o)
        );
        let o = kubectl(&m, home.path(), &["top", "node"]);
        let t = text(&o);
        assert!(
            o.status.success() && row(&t, "w1").is_some(),
            "kubectl top node: {t}{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    // capstan top nodes: used, requested (the burning pod's 100m) and allocatable.
    let o = capstan(&m, &["top", "nodes"]);
    let t = text(&o);
    assert!(
        o.status.success(),
        "capstan top nodes: {t}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let header = row(&t, "NAME").expect("header");
    let w1 = row(&t, "w1").expect("w1 row");
    let col = |h: &str| {
        header
            .iter()
            .position(|x| x == h)
            .unwrap_or_else(|| panic!("{h} in {header:?}"))
    };
    assert_eq!(w1[col("CPU-REQ")], "100m", "{t}");
    assert_eq!(w1[col("MEM-REQ")], "16Mi", "{t}");
    assert!(millis(&w1[col("CPU(cores)")]).is_some(), "{t}");
    assert!(millis(&w1[col("CPU-ALLOC")]).is_some_and(|a| a > 0), "{t}");

    // capstan top pods: the pod, busy, against its request.
    let o = capstan(&m, &["top", "pods"]);
    let t = text(&o);
    assert!(
        o.status.success(),
        "capstan top pods: {t}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let header = row(&t, "NAME").expect("header");
    let burn = row(&t, "burn").expect("burn row");
    let col = |h: &str| {
        header
            .iter()
            .position(|x| x == h)
            .unwrap_or_else(|| panic!("{h} in {header:?}"))
    };
    assert_eq!(burn[col("CPU-REQ")], "100m", "{t}");
    assert_eq!(burn[col("MEM-REQ")], "16Mi", "{t}");
    assert!(millis(&burn[col("CPU(cores)")]).is_some(), "{t}");
    let o = capstan(&m, &["top", "pods", "-A"]);
    let t = text(&o);
    assert!(
        row(&t, "NAMESPACE").is_some() && row(&t, "default").is_some(),
        "capstan top pods -A: {t}"
    );
    let o = capstan(&m, &["top", "pods", "-n", "kube-system"]);
    assert!(o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("No resources found in kube-system namespace."),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
