//! Controllers with real processes: a ReplicaSet keeps its replicas (created, scheduled and run
//! on two workers), follows scaling, adopts a matching orphan, and its pods go with it when it
//! is deleted (garbage collection); a Deployment's pods come back on the other worker when a
//! worker is killed, and run on one node only once it returns; Orphan and Foreground deletion;
//! drain.

use crate::support::{eventually, processes, tempdir, wait_nodes_ready, Cluster, Master, Proc};
use capstan_node::client::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const RS: &str = "/apis/apps/v1/namespaces/default/replicasets";
const PODS: &str = "/api/v1/namespaces/default/pods";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

fn cluster(dir: &Path) -> (Master, Vec<Proc>) {
    let (m, w, _) = cluster_with_config(dir);
    (m, w)
}

fn cluster_with_config(dir: &Path) -> (Master, Vec<Proc>, std::path::PathBuf) {
    const SIZE: &str = "cpu = \"2\"\nmemory = \"2Gi\"";
    let c = Cluster::start(dir, &[("w1", SIZE), ("w2", SIZE)]);
    (c.master, c.workers, c.config)
}

fn wait_ready(c: &Client, n: usize) {
    wait_nodes_ready(c, n);
}

/// The pods labelled app=web (of the ReplicaSet or Deployment `web`): (name, node, phase).
fn pods_of(c: &Client) -> Vec<(String, String, String)> {
    let list = c
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
            let s = |ptr: &str| {
                p.pointer(ptr)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            (s("/metadata/name"), s("/spec/nodeName"), s("/status/phase"))
        })
        .collect()
}

fn running(c: &Client, n: usize) -> Vec<(String, String, String)> {
    eventually(
        Duration::from_secs(90),
        &format!("{n} web pods Running"),
        || {
            let pods = pods_of(c);
            (pods.len() == n && pods.iter().all(|p| p.2 == "Running")).then_some(pods)
        },
    )
}

fn scale(c: &Client, replicas: i64) {
    let r = c
        .request(
            "PATCH",
            &format!("{RS}/web"),
            Some((
                "application/merge-patch+json",
                json!({"spec": {"replicas": replicas}})
                    .to_string()
                    .into_bytes(),
            )),
            "application/json",
        )
        .expect("patch");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

#[test]
fn a_replicaset_keeps_its_replicas_and_its_pods_go_with_it() {
    let dir = tempdir();
    let (m, _workers) = cluster(dir.path());
    let c = &m.client;
    let rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
        "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"terminationGracePeriodSeconds": 1,
                                       "containers": [{"name": "c", "image": "busybox",
                                                       "command": ["sleep", "3600"],
                                                       "resources": {"requests": {"cpu": "100m"}}}]}}}});
    let r = c
        .send_json("POST", RS, "application/json", &rs)
        .expect("post");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let pods = running(c, 4);
    let mut nodes: Vec<&str> = pods.iter().map(|p| p.1.as_str()).collect();
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes, ["w1", "w2"], "spread over both workers: {pods:?}");
    assert!(pods.iter().all(|p| p.0.starts_with("web-")), "{pods:?}");
    // Status follows.
    eventually(Duration::from_secs(30), "status 4/4 ready", || {
        let rs = c.get(&format!("{RS}/web")).ok()?.json().ok()?;
        (rs["status"]["replicas"] == 4 && rs["status"]["readyReplicas"] == 4).then_some(())
    });

    // A pod deleted by hand is replaced.
    let victim = pods[0].0.clone();
    let r = c
        .request(
            "DELETE",
            &format!("{PODS}/{victim}"),
            None,
            "application/json",
        )
        .expect("delete");
    assert!(r.status == 200 || r.status == 202);
    eventually(Duration::from_secs(60), "replacement", || {
        let pods = pods_of(c);
        (pods.len() == 4
            && pods.iter().all(|p| p.2 == "Running")
            && !pods.iter().any(|p| p.0 == victim))
        .then_some(())
    });

    // The ReplicaSet says what it did.
    eventually(Duration::from_secs(30), "SuccessfulCreate events", || {
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
                e["reason"] == "SuccessfulCreate"
                    && e["involvedObject"]["kind"] == "ReplicaSet"
                    && e["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("Created pod: web-"))
            })
            .then_some(())
    });

    scale(c, 6);
    running(c, 6);
    scale(c, 2);
    running(c, 2);

    // An orphan with matching labels is adopted (and then one too many is removed).
    let orphan = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "stray", "labels": {"app": "web"}},
        "spec": {"terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}]}});
    let r = c
        .send_json("POST", PODS, "application/json", &orphan)
        .expect("post");
    assert_eq!(r.status, 201);
    running(c, 2);

    // Deleting the ReplicaSet deletes its pods (background propagation).
    let r = c
        .request("DELETE", &format!("{RS}/web"), None, "application/json")
        .expect("delete");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    eventually(Duration::from_secs(60), "pods collected", || {
        pods_of(c).is_empty().then_some(())
    });
}

/// Live processes whose command line is exactly `sleep SECONDS`.
fn sleepers(seconds: &str) -> usize {
    processes(&["sleep", seconds]).len()
}

#[test]
fn pods_of_a_lost_node_come_back_elsewhere_and_never_run_twice() {
    let dir = tempdir();
    let (m, mut workers, config) = cluster_with_config(dir.path());
    let c = &m.client;
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 6, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"terminationGracePeriodSeconds": 1,
                                       "containers": [{"name": "c", "image": "busybox",
                                                       "command": ["sleep", "3604"],
                                                       "resources": {"requests": {"cpu": "100m"}}}]}}}});
    let r = c
        .send_json("POST", DEPLOYMENTS, "application/json", &deployment)
        .expect("post");
    assert_eq!(r.status, 201);
    let pods = running(c, 6);
    assert!(
        pods.iter().any(|p| p.1 == "w1") && pods.iter().any(|p| p.1 == "w2"),
        "spread over both workers: {pods:?}"
    );

    // w2 dies: its pods are evicted and recreated on w1.
    let lost = std::time::Instant::now();
    workers[1].kill9();
    let healed = eventually(Duration::from_secs(60), "6 Running on w1", || {
        let pods = pods_of(c);
        (pods.len() == 6 && pods.iter().all(|p| p.2 == "Running" && p.1 == "w1")).then_some(pods)
    });
    eprintln!(
        "node loss → all 6 pods Running on w1 in {:?}",
        lost.elapsed()
    );
    let n2 = c
        .get("/api/v1/nodes/w2")
        .expect("get")
        .json()
        .expect("json");
    assert!(
        n2["spec"]["taints"].as_array().is_some_and(|t| t
            .iter()
            .any(|t| t["key"] == "node.kubernetes.io/unreachable")),
        "{n2}"
    );

    // w2 comes back: it stops what was evicted from it; each pod runs on one node only.
    workers[1] = Proc::spawn(
        &[
            "worker",
            "--config",
            config.to_str().expect("utf8"),
            "--name",
            "w2",
        ],
        "info",
        dir.path(),
    );
    wait_ready(c, 2);
    eventually(
        Duration::from_secs(60),
        "exactly 6 container processes",
        || (sleepers("3604") == 6).then_some(()),
    );
    let after = pods_of(c);
    assert_eq!(after.len(), 6, "{after:?}");
    let mut names: Vec<&str> = after.iter().map(|p| p.0.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 6);
    assert_eq!(
        healed
            .iter()
            .map(|p| &p.0)
            .collect::<std::collections::BTreeSet<_>>(),
        after
            .iter()
            .map(|p| &p.0)
            .collect::<std::collections::BTreeSet<_>>(),
        "the same six pods"
    );
    // The taint is lifted.
    eventually(Duration::from_secs(30), "taint lifted", || {
        let n2 = c.get("/api/v1/nodes/w2").ok()?.json().ok()?;
        n2["spec"]["taints"]
            .as_array()
            .is_none_or(|t| {
                t.iter()
                    .all(|t| t["key"] != "node.kubernetes.io/unreachable")
            })
            .then_some(())
    });
    let r = c
        .request(
            "DELETE",
            &format!("{DEPLOYMENTS}/web"),
            None,
            "application/json",
        )
        .expect("delete");
    assert_eq!(r.status, 200);
    eventually(Duration::from_secs(60), "cleaned up", || {
        (sleepers("3604") == 0).then_some(())
    });
}

fn rs_named(name: &str, app: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                 "template": {"metadata": {"labels": {"app": app}},
                              "spec": {"terminationGracePeriodSeconds": 1,
                                       "containers": [{"name": "c", "image": "busybox",
                                                       "command": ["sleep", "3600"]}]}}}})
}

fn app_pods(c: &Client, app: &str) -> Vec<Value> {
    let list: Value = c
        .get(&format!("{PODS}?labelSelector=app%3D{app}"))
        .expect("list")
        .json()
        .expect("json");
    list["items"].as_array().cloned().unwrap_or_default()
}

#[test]
fn orphan_keeps_dependents_and_foreground_waits_for_them() {
    let dir = tempdir();
    let (m, _workers) = cluster(dir.path());
    let c = &m.client;
    for (name, app) in [("keep", "orph"), ("fg", "fore")] {
        let r = c
            .send_json("POST", RS, "application/json", &rs_named(name, app, 2))
            .expect("post");
        assert_eq!(r.status, 201);
    }
    for app in ["orph", "fore"] {
        eventually(Duration::from_secs(60), "2 pods", || {
            (app_pods(c, app).len() == 2).then_some(())
        });
    }
    // Orphan: the ReplicaSet goes, its pods stay without an ownerReference.
    let r = c
        .send_json(
            "DELETE",
            &format!("{RS}/keep"),
            "application/json",
            &json!({"propagationPolicy": "Orphan"}),
        )
        .expect("delete");
    assert_eq!(r.status, 200);
    eventually(Duration::from_secs(30), "keep gone", || {
        (c.get(&format!("{RS}/keep")).ok()?.status == 404).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let kept = app_pods(c, "orph");
    assert_eq!(kept.len(), 2, "orphans stay");
    assert!(kept.iter().all(|p| p["metadata"]["ownerReferences"]
        .as_array()
        .is_none_or(|r| r.is_empty())));

    // Foreground: the ReplicaSet stays (deleting) until its pods are gone, then goes.
    let r = c
        .send_json(
            "DELETE",
            &format!("{RS}/fg"),
            "application/json",
            &json!({"propagationPolicy": "Foreground"}),
        )
        .expect("delete");
    assert_eq!(r.status, 200);
    let marked: Value = r.json().expect("json");
    assert!(
        marked["metadata"]["deletionTimestamp"].is_string(),
        "{marked}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let rs = c.get(&format!("{RS}/fg")).expect("get");
        let pods = app_pods(c, "fore");
        if rs.status == 404 && pods.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "fg not gone: {} {}\npods: {pods:#?}",
            rs.status,
            String::from_utf8_lossy(&rs.body)
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Foreground down a chain: a Deployment goes only after its ReplicaSet, which goes only
    // after its pods.
    let mut d = rs_named("chain", "chain", 2);
    d["kind"] = json!("Deployment");
    // Pods that take their whole grace period to stop, so the chain is seen waiting.
    d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = json!(2);
    d["spec"]["template"]["spec"]["containers"][0]["command"] =
        json!(["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]);
    let r = c
        .send_json("POST", DEPLOYMENTS, "application/json", &d)
        .expect("post");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    eventually(Duration::from_secs(60), "2 chain pods Running", || {
        let pods = app_pods(c, "chain");
        (pods.len() == 2 && pods.iter().all(|p| p["status"]["phase"] == "Running")).then_some(())
    });
    let r = c
        .send_json(
            "DELETE",
            &format!("{DEPLOYMENTS}/chain"),
            "application/json",
            &json!({"propagationPolicy": "Foreground"}),
        )
        .expect("delete");
    assert_eq!(r.status, 200);
    let chain_sets = || -> Vec<Value> {
        let list: Value = c
            .get(&format!("{RS}?labelSelector=app%3Dchain"))
            .expect("list")
            .json()
            .expect("json");
        list["items"].as_array().cloned().unwrap_or_default()
    };
    let mut saw_rs_in_foreground = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let sets = chain_sets();
        saw_rs_in_foreground |= sets.iter().any(|r| {
            r["metadata"]["deletionTimestamp"].is_string()
                && r["metadata"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == "foregroundDeletion"))
        });
        let gone = c.get(&format!("{DEPLOYMENTS}/chain")).expect("get").status == 404;
        if gone {
            assert!(
                sets.is_empty() && app_pods(c, "chain").is_empty(),
                "the Deployment went before its dependents: {sets:#?}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "chain not gone");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        saw_rs_in_foreground,
        "the ReplicaSet was deleted in the foreground too"
    );
}

#[test]
fn drain_moves_pods_off_a_node() {
    let dir = tempdir();
    let (m, _workers) = cluster(dir.path());
    let c = &m.client;
    let r = c
        .send_json("POST", RS, "application/json", &rs_named("web", "web", 4))
        .expect("post");
    assert_eq!(r.status, 201);
    // Drain a node that holds some of them (where they land is the scheduler's choice).
    let pods = running(c, 4);
    let from = pods[0].1.clone();
    let to = if from == "w1" { "w2" } else { "w1" };
    // An unmanaged pod on it makes drain refuse without --force.
    let stray = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stray"},
        "spec": {"nodeName": from, "terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}]}});
    assert_eq!(
        c.send_json("POST", PODS, "application/json", &stray)
            .expect("post")
            .status,
        201
    );
    let run = |args: &[&str]| {
        std::process::Command::new(crate::support::capstan_bin())
            .args(args)
            .arg("--kubeconfig")
            .arg(&m.kubeconfig)
            .output()
            .expect("run capstan")
    };
    let refused = run(&["drain", &from]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("declare no controller") && err.contains("default/stray"),
        "{err}"
    );
    let out = run(&["drain", &from, "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("node/{from} drained")));
    let node: Value = c
        .get(&format!("/api/v1/nodes/{from}"))
        .expect("get")
        .json()
        .expect("json");
    assert_eq!(node["spec"]["unschedulable"], true);
    let moved = running(c, 4);
    assert!(moved.iter().all(|p| p.1 == to), "{moved:?}");
}
