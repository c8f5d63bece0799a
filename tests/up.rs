//! `capstan up`: one command starts a master and its workers as processes and stops them all.

use crate::support::{capstan_bin, eventually, free_ports, tempdir, worker_pid};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn up_starts_a_three_process_cluster_and_stops_it() {
    let dir = tempdir();
    let (api, quic) = free_ports();
    let config = format!(
        "[master]\ndata_dir = \"state\"\napi_listen = \"127.0.0.1:{api}\"\nnode_listen = \"127.0.0.1:{quic}\"\n\n\
         [[worker]]\nname = \"worker-1\"\nmaster = \"127.0.0.1:{quic}\"\ntoken_file = \"state/node-token\"\ndata_dir = \"state/worker-1\"\n\n\
         [[worker]]\nname = \"worker-2\"\nmaster = \"127.0.0.1:{quic}\"\ntoken_file = \"state/node-token\"\ndata_dir = \"state/worker-2\"\n"
    );
    std::fs::write(dir.path().join("cluster.toml"), config).expect("write config");
    let mut up = Command::new(capstan_bin())
        .args(["up", "--config", "cluster.toml"])
        .current_dir(dir.path())
        .env("CAPSTAN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn capstan up");
    let out = up.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !lines.iter().any(|l: &String| l.contains("Capstan is up")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        lines.push(
            rx.recv_timeout(left)
                .unwrap_or_else(|_| panic!("capstan up did not come up: {lines:#?}")),
        );
    }
    let kubeconfig = dir.path().join(".capstan/kubeconfig.yaml");
    eventually(Duration::from_secs(10), "export line", || {
        while let Ok(l) = rx.try_recv() {
            lines.push(l);
        }
        lines
            .iter()
            .any(|l| l.contains(&format!("export KUBECONFIG={}", kubeconfig.display())))
            .then_some(())
    });
    let client = capstan_node::client::Client::from_kubeconfig(&kubeconfig)
        .expect("kubeconfig written by up");
    let nodes = client
        .get("/api/v1/nodes")
        .expect("list")
        .json()
        .expect("json");
    let ready: Vec<&str> = nodes["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| capstan_core::node_status::ready_status(n) == Some("True"))
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    assert_eq!(ready, ["worker-1", "worker-2"]);

    // A child that dies is restarted: kill -9 worker-1 and watch its node come back.
    let pid = worker_pid(dir.path(), "worker-1").expect("worker-1 runs as a child process");
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
    eventually(Duration::from_secs(30), "worker-1 restarted", || {
        worker_pid(dir.path(), "worker-1").filter(|p| *p != pid)
    });
    let restarted = capstan_actors::store::now();
    eventually(
        Duration::from_secs(60),
        "worker-1 Ready after restart",
        || {
            let n = client.get("/api/v1/nodes/worker-1").ok()?.json().ok()?;
            let hb = n["status"]["conditions"][0]["lastHeartbeatTime"]
                .as_str()?
                .to_string();
            let t = capstan_core::time::Timestamp::parse_rfc3339(&hb)?;
            (t >= restarted && capstan_core::node_status::ready_status(&n) == Some("True"))
                .then_some(())
        },
    );

    let _ = Command::new("kill")
        .args(["-TERM", &up.id().to_string()])
        .status();
    let status = eventually(Duration::from_secs(30), "capstan up to exit", || {
        up.try_wait().ok().flatten()
    });
    assert!(status.success(), "capstan up exit status {status:?}");
    // Every child is gone: the API port is free again.
    eventually(Duration::from_secs(15), "API port released", || {
        std::net::TcpListener::bind(("127.0.0.1", api)).ok()
    });
    assert!(
        worker_pid(dir.path(), "worker-2").is_none(),
        "workers stopped with capstan up"
    );
}
