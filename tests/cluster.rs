//! A real multi-process cluster: a master and workers joined over QUIC with mutual TLS.

use crate::support::{eventually, free_ports, tempdir, Master, Proc};
use capstan_node::client::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// A config with a master and `workers` workers, all in `dir`, on free ports.
fn write_config(dir: &Path, workers: &[&str], token: Option<&str>) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).expect("config dir");
    let (api, quic) = free_ports();
    let mut text = format!(
        "[master]\ndata_dir = {:?}\napi_listen = \"127.0.0.1:{api}\"\nnode_listen = \"127.0.0.1:{quic}\"\nheartbeat_seconds = 1\nnode_grace_seconds = 4\nwatch_history = 1000\n",
        dir.join("master")
    );
    for w in workers {
        let token_line = match token {
            Some(t) => format!("token = {t:?}"),
            None => format!("token_file = {:?}", dir.join("master/node-token")),
        };
        text.push_str(&format!(
            "\n[[worker]]\nname = {w:?}\nmaster = \"127.0.0.1:{quic}\"\n{token_line}\ndata_dir = {:?}\ncpu = \"4\"\nmemory = \"8Gi\"\nlabels = {{ zone = \"z-{w}\" }}\ntaints = [\"dedicated=edge:PreferNoSchedule\"]\n",
            dir.join(w)
        ));
    }
    let path = dir.join("cluster.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

fn worker(config: &Path, name: &str, dir: &Path) -> Proc {
    Proc::spawn(
        &[
            "worker",
            "--config",
            config.to_str().expect("utf8"),
            "--name",
            name,
        ],
        "info,capstan::pods=info",
        dir,
    )
}

fn node(c: &Client, name: &str) -> Option<Value> {
    let r = c.get(&format!("/api/v1/nodes/{name}")).ok()?;
    r.ok().then(|| r.json().ok()).flatten()
}

fn ready(c: &Client, name: &str) -> Option<String> {
    node(c, name).and_then(|n| capstan_core::node_status::ready_status(&n).map(str::to_string))
}

fn node_count(c: &Client) -> usize {
    c.get("/api/v1/nodes").expect("list").json().expect("json")["items"]
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn workers_join_fail_and_come_back() {
    let dir = tempdir();
    let config = write_config(dir.path(), &["w1", "w2"], None);
    let mut master = Master::start_with_config(&dir.path().join("master"), &config);
    let mut w1 = worker(&config, "w1", dir.path());
    let _w2 = worker(&config, "w2", dir.path());
    let c = master.client.clone();
    for n in ["w1", "w2"] {
        eventually(Duration::from_secs(60), &format!("{n} Ready"), || {
            (ready(&c, n).as_deref() == Some("True")).then_some(())
        });
    }
    if Path::new("/usr/bin/kubectl").exists() {
        let home = tempdir();
        let out = std::process::Command::new("/usr/bin/kubectl")
            .args(["get", "nodes", "--no-headers"])
            .env("KUBECONFIG", &master.kubeconfig)
            .env("HOME", home.path())
            .output()
            .expect("kubectl runs");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "kubectl get nodes: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Vec<Vec<&str>> = text
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(rows.len(), 2, "{text}");
        for (row, name) in rows.iter().zip(["w1", "w2"]) {
            assert_eq!((row[0], row[1]), (name, "Ready"), "{text}");
        }
    }
    let n1 = node(&c, "w1").expect("w1 exists");
    assert_eq!(
        n1["status"]["capacity"],
        json!({"cpu": "4", "memory": "8Gi", "pods": "110"})
    );
    assert_eq!(n1["metadata"]["labels"]["zone"], "z-w1");
    assert_eq!(n1["metadata"]["labels"]["kubernetes.io/hostname"], "w1");
    assert_eq!(n1["spec"]["taints"][0]["key"], "dedicated");
    assert!(
        std::fs::read_to_string(dir.path().join("master/node-token"))
            .expect("token")
            .starts_with("K10")
    );
    assert!(
        dir.path().join("w1/node.crt").exists(),
        "the worker keeps its certificate"
    );

    // kill -9 a worker: Unknown within grace (4 s) plus a margin.
    w1.kill9();
    let killed = std::time::Instant::now();
    eventually(Duration::from_secs(15), "w1 Unknown", || {
        (ready(&c, "w1").as_deref() == Some("Unknown")).then_some(())
    });
    assert!(
        killed.elapsed() < Duration::from_secs(12),
        "Unknown after {:?}",
        killed.elapsed()
    );
    let reason = node(&c, "w1").expect("w1")["status"]["conditions"][0]["reason"].clone();
    assert_eq!(reason, "NodeStatusUnknown");
    assert_eq!(
        ready(&c, "w2").as_deref(),
        Some("True"),
        "the other node stays Ready"
    );

    // Restart it: Ready again, still two nodes (it reuses its certificate).
    let _w1 = worker(&config, "w1", dir.path());
    eventually(Duration::from_secs(30), "w1 Ready again", || {
        (ready(&c, "w1").as_deref() == Some("True")).then_some(())
    });
    assert_eq!(node_count(&c), 2);

    // kill -9 the master and restart it: both nodes Ready again, workers untouched.
    master.kill9();
    std::thread::sleep(Duration::from_millis(500));
    let master = Master::start_with_config(&dir.path().join("master"), &config);
    let c = master.client.clone();
    let since = capstan_actors::store::now();
    // Regression: workers used to wait out the QUIC idle timeout (10 s) before noticing the
    // master was gone, so the restarted master (grace 4 s) marked them Unknown — and would
    // have evicted their pods. With a stable stateless-reset key they reconnect at once: the
    // nodes stay Ready through the grace period and after it.
    let watch_until = std::time::Instant::now() + Duration::from_secs(8);
    while std::time::Instant::now() < watch_until {
        for n in ["w1", "w2"] {
            let status = ready(&c, n);
            assert_eq!(
                status.as_deref(),
                Some("True"),
                "{n} after the master restart"
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for n in ["w1", "w2"] {
        eventually(
            Duration::from_secs(60),
            &format!("{n} heartbeats after master restart"),
            || {
                let node = node(&c, n)?;
                let hb = node["status"]["conditions"][0]["lastHeartbeatTime"]
                    .as_str()?
                    .to_string();
                let fresh = capstan_core::time::Timestamp::parse_rfc3339(&hb)? >= since;
                (fresh && capstan_core::node_status::ready_status(&node) == Some("True"))
                    .then_some(())
            },
        );
    }
    assert_eq!(node_count(&c), 2, "no duplicate nodes");
}

fn bound_pod(name: &str, node: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "1"]}]}})
}

fn create_bound(c: &Client, name: &str, node: &str) {
    let r = c
        .send_json(
            "POST",
            "/api/v1/namespaces/default/pods",
            "application/json",
            &bound_pod(name, node),
        )
        .expect("post");
    assert_eq!(
        r.status,
        201,
        "create {name}: {}",
        String::from_utf8_lossy(&r.body)
    );
}

fn added(w: &Proc, pod: &str) -> usize {
    let needle = format!("pod=\"default/{pod}\"");
    w.stderr
        .lock()
        .expect("lock")
        .iter()
        .filter(|l| l.contains(&needle) && l.contains("event=\"ADDED\""))
        .count()
}

#[test]
fn pod_stream_resumes_without_gaps_or_repeats() {
    let dir = tempdir();
    let config = write_config(dir.path(), &["w1"], None);
    let mut master = Master::start_with_config(&dir.path().join("master"), &config);
    let w1 = worker(&config, "w1", dir.path());
    let c = master.client.clone();
    eventually(Duration::from_secs(60), "w1 Ready", || {
        (ready(&c, "w1").as_deref() == Some("True")).then_some(())
    });
    for i in 0..3 {
        create_bound(&c, &format!("a{i}"), "w1");
    }
    create_bound(&c, "elsewhere", "w9");
    for i in 0..3 {
        eventually(Duration::from_secs(30), "pod received", || {
            (added(&w1, &format!("a{i}")) == 1).then_some(())
        });
    }
    master.kill9();
    let master = Master::start_with_config(&dir.path().join("master"), &config);
    let c = master.client.clone();
    for i in 0..3 {
        create_bound(&c, &format!("b{i}"), "w1");
    }
    let r = c
        .send_json(
            "DELETE",
            "/api/v1/namespaces/default/pods/a0",
            "application/json",
            &json!({}),
        )
        .expect("delete");
    assert_eq!(r.status, 200);
    for i in 0..3 {
        eventually(
            Duration::from_secs(60),
            "pod received after master restart",
            || (added(&w1, &format!("b{i}")) == 1).then_some(()),
        );
    }
    eventually(Duration::from_secs(30), "deletion received", || {
        w1.stderr
            .lock()
            .expect("lock")
            .iter()
            .any(|l| l.contains("pod=\"default/a0\"") && l.contains("event=\"DELETED\""))
            .then_some(())
    });
    for i in 0..3 {
        assert_eq!(
            added(&w1, &format!("a{i}")),
            1,
            "a{i} delivered exactly once across the master restart"
        );
        assert_eq!(
            added(&w1, &format!("b{i}")),
            1,
            "b{i} delivered exactly once"
        );
    }
    assert_eq!(
        added(&w1, "elsewhere"),
        0,
        "a pod bound to another node is not streamed"
    );
}

#[test]
fn joining_with_a_bad_token_is_refused_with_the_reason() {
    let dir = tempdir();
    let config = write_config(dir.path(), &[], None);
    let master = Master::start_with_config(&dir.path().join("master"), &config);
    let real = std::fs::read_to_string(dir.path().join("master/node-token")).expect("token");
    let (hash, _) = real
        .trim()
        .trim_start_matches("K10")
        .split_once("::")
        .expect("token form");
    let cases = [
        (
            "wrong-secret",
            format!("K10{hash}::{}", "x".repeat(48)),
            "wrong token secret",
        ),
        (
            "wrong-hash",
            format!("K10{}::{}", "0".repeat(64), "x".repeat(48)),
            "does not match the token's CA hash",
        ),
    ];
    for (name, token, want) in cases {
        let wdir = dir.path().join(name);
        let cfg = wdir.with_extension("toml");
        std::fs::create_dir_all(&wdir).expect("dir");
        std::fs::write(
            &cfg,
            format!("[[worker]]\nname = {name:?}\nmaster = {:?}\ntoken = {token:?}\ndata_dir = {wdir:?}\n", master.nodes),
        )
        .expect("write");
        let mut w = Proc::spawn(
            &["worker", "--config", cfg.to_str().expect("utf8")],
            "warn",
            dir.path(),
        );
        let status = w.wait_exit(Duration::from_secs(60)).expect("worker exits");
        assert!(!status.success(), "{name}: exit status {status:?}");
        let err = w.stderr_text();
        assert!(
            err.contains(want),
            "{name}: stderr should say {want:?}:\n{err}"
        );
        assert!(
            !wdir.join("node.crt").exists(),
            "{name}: no certificate was stored"
        );
    }
    assert_eq!(node_count(&master.client), 0, "no node registered");
}

#[test]
fn a_worker_started_before_its_master_waits_for_it() {
    let dir = tempdir();
    let config = write_config(dir.path(), &["early"], None);
    // A first start creates the CA and the node token; then the master goes away.
    let mut first = Master::start_with_config(&dir.path().join("master"), &config);
    assert!(
        first.terminate().is_some_and(|s| s.success()),
        "master stops cleanly on SIGTERM"
    );
    let mut w = worker(&config, "early", dir.path());
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        w.wait_exit(Duration::from_millis(10)).is_none(),
        "the worker keeps retrying: {}",
        w.stderr_text()
    );
    let master = Master::start_with_config(&dir.path().join("master"), &config);
    let c = master.client.clone();
    eventually(Duration::from_secs(60), "early Ready", || {
        (ready(&c, "early").as_deref() == Some("True")).then_some(())
    });
    w.terminate();
    let status = w
        .wait_exit(Duration::from_secs(20))
        .expect("worker exits on SIGTERM");
    assert!(
        status.success(),
        "worker exit status {status:?}: {}",
        w.stderr_text()
    );
}

#[test]
fn a_certificate_from_another_cluster_is_refused() {
    let dir = tempdir();
    let config_a = write_config(&dir.path().join("a"), &["roamer"], None);
    let master_a = Master::start_with_config(&dir.path().join("a/master"), &config_a);
    let w = worker(&config_a, "roamer", &dir.path().join("a"));
    let ca = master_a.client.clone();
    eventually(Duration::from_secs(60), "roamer Ready in cluster A", || {
        (ready(&ca, "roamer").as_deref() == Some("True")).then_some(())
    });
    drop(w);
    // Cluster B has its own CA; the worker keeps cluster A's certificate and presents it to B.
    std::fs::create_dir_all(dir.path().join("b")).expect("dir");
    let config_b = write_config(&dir.path().join("b"), &[], None);
    let master_b = Master::start_with_config(&dir.path().join("b/master"), &config_b);
    let cfg = dir.path().join("roamer-to-b.toml");
    let token_b = std::fs::read_to_string(dir.path().join("b/master/node-token")).expect("token");
    std::fs::write(
        &cfg,
        format!(
            "[[worker]]\nname = \"roamer\"\nmaster = {:?}\ntoken = {:?}\ndata_dir = {:?}\n",
            master_b.nodes,
            token_b.trim(),
            dir.path().join("a/roamer")
        ),
    )
    .expect("write");
    let run = |want: &str| {
        let mut w = Proc::spawn(
            &["worker", "--config", cfg.to_str().expect("utf8")],
            "warn",
            dir.path(),
        );
        let status = w
            .wait_exit(Duration::from_secs(30))
            .unwrap_or_else(|| panic!("worker did not exit:\n{}", w.stderr_text()));
        assert!(!status.success(), "exit status {status:?}");
        let err = w.stderr_text();
        assert!(err.contains(want), "stderr should say {want:?}:\n{err}");
    };
    // The worker does not trust cluster B's master…
    run("the master's certificate is not signed by the cluster CA this worker trusts");
    // …and when it does, cluster B does not accept a certificate issued by cluster A's CA.
    std::fs::copy(
        dir.path().join("b/master/pki/ca.crt"),
        dir.path().join("a/roamer/ca.crt"),
    )
    .expect("copy CA");
    run("the master rejected this worker's certificate");
    assert_eq!(
        node_count(&master_b.client),
        0,
        "cluster B registered nothing"
    );
}
