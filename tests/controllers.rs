//! Controllers with real processes: a ReplicaSet keeps its replicas (created, scheduled and run
//! on two workers), follows scaling, adopts a matching orphan, and its pods go with it when it
//! is deleted (garbage collection).

mod support;

use capstan_node::client::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use support::{eventually, free_ports, tempdir, Master, Proc};

const RS: &str = "/apis/apps/v1/namespaces/default/replicasets";
const PODS: &str = "/api/v1/namespaces/default/pods";

fn cluster(dir: &Path) -> (Master, Vec<Proc>) {
    let (api, quic) = free_ports();
    let worker = |name: &str| {
        format!(
            "[[worker]]\nname = \"{name}\"\nmaster = \"127.0.0.1:{quic}\"\ntoken_file = {:?}\ndata_dir = {:?}\ncpu = \"2\"\nmemory = \"2Gi\"\n",
            dir.join("master/node-token"),
            dir.join(name)
        )
    };
    let text = format!(
        "[master]\ndata_dir = {:?}\napi_listen = \"127.0.0.1:{api}\"\nnode_listen = \"127.0.0.1:{quic}\"\n\n{}{}",
        dir.join("master"),
        worker("w1"),
        worker("w2"),
    );
    let config = dir.join("cluster.toml");
    std::fs::write(&config, text).expect("config");
    let master = Master::start_with_config(&dir.join("master"), &config);
    let workers = ["w1", "w2"]
        .iter()
        .map(|n| {
            Proc::spawn(
                &[
                    "worker",
                    "--config",
                    config.to_str().expect("utf8"),
                    "--name",
                    n,
                ],
                "info",
                dir,
            )
        })
        .collect();
    let c = master.client.clone();
    eventually(Duration::from_secs(60), "two nodes Ready", || {
        let nodes = c.get("/api/v1/nodes").ok()?.json().ok()?;
        let ready = nodes["items"]
            .as_array()?
            .iter()
            .filter(|n| capstan_core::node_status::ready_status(n) == Some("True"))
            .count();
        (ready == 2).then_some(())
    });
    (master, workers)
}

/// The pods of the ReplicaSet `web`: (name, node, phase).
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
