//! Deployments with real processes and stock kubectl: apply, rollout status, a rolling update
//! that never drops below the desired ready count (maxUnavailable 0, maxSurge 1), rollout undo,
//! scaling through the scale subresource, rollout restart, deletion with --cascade=orphan (and
//! adoption by the Deployment applied again), and deletion taking ReplicaSets and pods along;
//! minReadySeconds holding availability back.

use crate::support::{eventually, tempdir, Cluster, Master, Proc};
use capstan_node::client::Client;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

const PODS: &str = "/api/v1/namespaces/default/pods";
const RSS: &str = "/apis/apps/v1/namespaces/default/replicasets";
const DEPLOYMENT: &str = "/apis/apps/v1/namespaces/default/deployments/web";

fn cluster(dir: &Path) -> (Master, Vec<Proc>) {
    const SIZE: &str = "cpu = \"4\"\nmemory = \"4Gi\"";
    let c = Cluster::start(dir, &[("w1", SIZE), ("w2", SIZE)]);
    (c.master, c.workers)
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
        "kubectl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Live (not terminating) pods of app=web: (name, node, ready).
fn web_pods(c: &Client) -> Vec<(String, String, bool)> {
    let list: Value = c
        .get(&format!("{PODS}?labelSelector=app%3Dweb"))
        .expect("list")
        .json()
        .expect("json");
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            let ready = p["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            (
                p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                p["spec"]["nodeName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                ready,
            )
        })
        .collect()
}

fn ready_count(c: &Client) -> usize {
    web_pods(c).iter().filter(|p| p.2).count()
}

fn settled(c: &Client, n: usize) {
    eventually(
        Duration::from_secs(90),
        &format!("{n} ready web pods"),
        || {
            let pods = web_pods(c);
            (pods.len() == n && pods.iter().all(|p| p.2)).then_some(())
        },
    );
}

fn get(c: &Client, path: &str) -> Value {
    c.get(path).expect("get").json().expect("json")
}

fn replicasets(c: &Client) -> Vec<Value> {
    let list: Value = c.get(RSS).expect("list").json().expect("json");
    list["items"].as_array().cloned().unwrap_or_default()
}

#[test]
fn deployments_roll_out_scale_undo_and_go() {
    let dir = tempdir();
    let (m, _workers) = cluster(dir.path());
    let c = &m.client;
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/deployment.yaml"),
    )
    .expect("example")
    .replace("replicas: 3", "replicas: 6");
    let file = dir.path().join("web.yaml");
    std::fs::write(&file, &manifest).expect("write");
    let f = file.to_str().expect("utf8");

    kubectl(dir.path(), &m, &["apply", "-f", f]);
    kubectl(
        dir.path(),
        &m,
        &["rollout", "status", "deployment/web", "--timeout=90s"],
    );
    settled(c, 6);
    let mut nodes: Vec<String> = web_pods(c).into_iter().map(|p| p.1).collect();
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes, ["w1", "w2"], "spread across both workers");

    // A template change rolls out without ever dropping below 6 ready pods.
    let changed = manifest.replace("echo web is up", "echo web v2 is up");
    std::fs::write(&file, &changed).expect("write");
    kubectl(dir.path(), &m, &["apply", "-f", f]);
    let started = Instant::now();
    let mut lowest = usize::MAX;
    loop {
        lowest = lowest.min(ready_count(c));
        let rss = replicasets(c);
        let done = rss.len() == 2
            && rss.iter().any(|r| {
                r["spec"]["replicas"] == 0 && r["status"]["replicas"].as_i64().unwrap_or(0) == 0
            })
            && web_pods(c).len() == 6;
        if done {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "rollout did not finish: {rss:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        lowest >= 6,
        "ready pods dropped to {lowest} during the rollout"
    );
    kubectl(
        dir.path(),
        &m,
        &["rollout", "status", "deployment/web", "--timeout=90s"],
    );
    let d: Value = c
        .get("/apis/apps/v1/namespaces/default/deployments/web")
        .expect("get")
        .json()
        .expect("json");
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );

    // rollout undo: the first template (and its ReplicaSet) again, as revision 3.
    kubectl(dir.path(), &m, &["rollout", "undo", "deployment/web"]);
    kubectl(
        dir.path(),
        &m,
        &["rollout", "status", "deployment/web", "--timeout=90s"],
    );
    eventually(Duration::from_secs(60), "undo done", || {
        let d: Value = c
            .get("/apis/apps/v1/namespaces/default/deployments/web")
            .ok()?
            .json()
            .ok()?;
        let cmd = d["spec"]["template"]["spec"]["containers"][0]["command"][2].as_str()?;
        (cmd.starts_with("echo web is up")
            && d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3")
            .then_some(())
    });
    assert_eq!(replicasets(c).len(), 2, "the old ReplicaSet was reused");

    // Scale through the scale subresource.
    for n in [10usize, 0, 3] {
        kubectl(
            dir.path(),
            &m,
            &["scale", "deployment", "web", &format!("--replicas={n}")],
        );
        settled(c, n);
    }
    let described = kubectl(dir.path(), &m, &["describe", "deployment", "web"]);
    assert!(
        described.contains("ScalingReplicaSet") && described.contains("Scaled up replica set web-"),
        "{described}"
    );
    kubectl(dir.path(), &m, &["get", "rs,pods", "-o", "wide"]);

    // rollout restart: a new template (restartedAt), so every pod is replaced, one at a time.
    let before: BTreeSet<String> = web_pods(c).into_iter().map(|p| p.0).collect();
    kubectl(dir.path(), &m, &["rollout", "restart", "deployment/web"]);
    kubectl(
        dir.path(),
        &m,
        &["rollout", "status", "deployment/web", "--timeout=90s"],
    );
    eventually(Duration::from_secs(60), "every pod replaced", || {
        let pods = web_pods(c);
        (pods.len() == 3 && pods.iter().all(|p| p.2 && !before.contains(&p.0))).then_some(())
    });
    let d = get(c, DEPLOYMENT);
    assert!(
        d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string(),
        "{d}"
    );
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "4"
    );

    // Orphan: the Deployment goes, its ReplicaSets and pods stay, without an owner.
    let pods_before: BTreeSet<String> = web_pods(c).into_iter().map(|p| p.0).collect();
    kubectl(
        dir.path(),
        &m,
        &["delete", "deployment", "web", "--cascade=orphan"],
    );
    eventually(Duration::from_secs(30), "deployment gone", || {
        (c.get(DEPLOYMENT).ok()?.status == 404).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let orphans = replicasets(c);
    assert_eq!(orphans.len(), 3, "ReplicaSets stay");
    assert!(
        orphans.iter().all(|r| r["metadata"]["ownerReferences"]
            .as_array()
            .is_none_or(|o| o.is_empty())),
        "{orphans:#?}"
    );
    let pods_after: BTreeSet<String> = web_pods(c).into_iter().map(|p| p.0).collect();
    assert_eq!(pods_after, pods_before, "pods stay");

    // Applied again, the Deployment adopts the orphaned ReplicaSets.
    kubectl(dir.path(), &m, &["apply", "-f", f]);
    let uid = get(c, DEPLOYMENT)["metadata"]["uid"].clone();
    eventually(Duration::from_secs(60), "ReplicaSets adopted", || {
        replicasets(c)
            .iter()
            .all(|r| r["metadata"]["ownerReferences"][0]["uid"] == uid)
            .then_some(())
    });

    // Deleting the Deployment takes its ReplicaSets and pods along.
    kubectl(dir.path(), &m, &["delete", "-f", f]);
    eventually(Duration::from_secs(60), "all gone", || {
        (replicasets(c).is_empty() && web_pods(c).is_empty()).then_some(())
    });
}

#[test]
fn min_ready_seconds_holds_availability_back() {
    let dir = tempdir();
    let (m, _workers) = cluster(dir.path());
    let c = &m.client;
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/deployment.yaml"),
    )
    .expect("example")
    .replace("replicas: 3", "replicas: 2\n  minReadySeconds: 3");
    let file = dir.path().join("web.yaml");
    std::fs::write(&file, &manifest).expect("write");
    kubectl(
        dir.path(),
        &m,
        &["apply", "-f", file.to_str().expect("utf8")],
    );

    // Ready first, available only once every pod has been ready for minReadySeconds.
    let mut saw_ready_not_available = false;
    let available_at = eventually(Duration::from_secs(90), "2 available", || {
        let d = get(c, DEPLOYMENT);
        let ready = d["status"]["readyReplicas"].as_i64().unwrap_or(0);
        let available = d["status"]["availableReplicas"].as_i64().unwrap_or(0);
        if ready == 2 && available < 2 {
            saw_ready_not_available = true;
        }
        (available == 2).then(capstan_actors::store::now)
    });
    assert!(
        saw_ready_not_available,
        "ready pods counted as available at once"
    );
    let list: Value = c
        .get(&format!("{PODS}?labelSelector=app%3Dweb"))
        .expect("list")
        .json()
        .expect("json");
    for p in list["items"].as_array().expect("items") {
        let ready_since = p["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
            .and_then(|c| c["lastTransitionTime"].as_str())
            .and_then(capstan_core::time::Timestamp::parse_rfc3339)
            .expect("Ready since");
        // Timestamps have whole seconds: allow one.
        assert!(
            ready_since.seconds_until(available_at) >= 2,
            "available {available_at:?}, ready since {ready_since:?}"
        );
    }
    let d = get(c, DEPLOYMENT);
    let available = d["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Available"))
        .expect("Available condition");
    assert_eq!(available["status"], "True", "{d}");
}
