//! `logs -f`: a followed log streams new lines as the container writes them and ends when the
//! container stops, through the API, `capstan logs -f` and stock kubectl.

use crate::support::{capstan_bin, eventually, free_ports, tempdir, Master, Proc};
use capstan_node::client::Client;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PODS: &str = "/api/v1/namespaces/default/pods";
const KUBECTL: &str = "/usr/bin/kubectl";

/// Writes line-0 … line-4, one a second, then exits.
const COUNTER: &str = "i=0; while [ $i -lt 5 ]; do echo line-$i; i=$((i+1)); sleep 1; done";

/// A master and one worker "w1" (whose log says when a log follower stops).
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
        "info,capstan_actors::worker::log_server=debug",
        dir,
    );
    let c = master.client.clone();
    eventually(Duration::from_secs(60), "w1 Ready", || {
        let n = c.get("/api/v1/nodes/w1").ok()?.json().ok()?;
        (capstan_core::node_status::ready_status(&n) == Some("True")).then_some(())
    });
    (master, worker)
}

fn create(c: &Client, name: &str, script: &str) {
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                     "spec": {"nodeName": "w1", "restartPolicy": "Never", "terminationGracePeriodSeconds": 2,
                              "containers": [{"name": "main", "image": "busybox",
                                              "command": ["sh", "-c", script]}]}});
    let r = c
        .send_json("POST", PODS, "application/json", &pod)
        .expect("post");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}

fn phase(c: &Client, name: &str) -> String {
    c.get(&format!("{PODS}/{name}"))
        .ok()
        .and_then(|r| r.json().ok())
        .and_then(|p: Value| p["status"]["phase"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn wait_running(c: &Client, name: &str) {
    eventually(Duration::from_secs(60), &format!("{name} Running"), || {
        (phase(c, name) == "Running").then_some(())
    });
}

/// A client process whose stdout lines arrive on a channel as it prints them.
struct Follower {
    what: String,
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Follower {
    fn spawn(what: &str, cmd: &mut Command) -> Follower {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        let stdout = child.stdout.take().expect("stdout piped");
        let mut err = child.stderr.take().expect("stderr piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            sink.lock().expect("lock").push_str(&text);
        });
        Follower {
            what: what.to_string(),
            child,
            lines,
            stderr,
        }
    }

    fn next_line(&self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }

    /// Every line until stdout closes, then the exit status; fails after `timeout`.
    fn read_to_exit(&mut self, timeout: Duration) -> (Vec<String>, ExitStatus) {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => got.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "{} did not end within {timeout:?}; printed {got:?}; stderr: {}",
                    self.what,
                    self.stderr_text()
                ),
            }
        }
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return (got, st);
            }
            assert!(
                Instant::now() < deadline,
                "{} closed stdout but did not exit within {timeout:?}",
                self.what
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn still_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn stderr_text(&self) -> String {
        self.stderr.lock().expect("lock").clone()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn capstan_logs(m: &Master, args: &[&str]) -> Follower {
    let mut cmd = Command::new(capstan_bin());
    cmd.args(["--kubeconfig", m.kubeconfig.to_str().expect("utf8"), "logs"])
        .args(args);
    Follower::spawn(&format!("capstan logs {args:?}"), &mut cmd)
}

fn kubectl_logs(m: &Master, home: &Path, args: &[&str]) -> Follower {
    let mut cmd = Command::new(KUBECTL);
    cmd.arg("logs")
        .args(args)
        .env("KUBECONFIG", &m.kubeconfig)
        .env("HOME", home)
        .env("KUBECACHEDIR", home.join("cache"));
    Follower::spawn(&format!("kubectl logs {args:?}"), &mut cmd)
}

fn counted() -> Vec<String> {
    (0..5).map(|i| format!("line-{i}")).collect()
}

#[test]
fn kubectl_and_capstan_follow_a_log_until_the_container_ends() {
    let dir = tempdir();
    let (m, _w) = cluster(dir.path());
    let c = &m.client;
    create(c, "counter", COUNTER);
    wait_running(c, "counter");
    let home = tempdir();
    let kubectl = Path::new(KUBECTL).exists();
    if !kubectl {
        eprintln!("{KUBECTL} is not installed: following with capstan only");
    }
    // Both start while the container runs and end on their own once it has exited.
    let mut followers = vec![capstan_logs(&m, &["counter", "-f"])];
    if kubectl {
        followers.push(kubectl_logs(&m, home.path(), &["counter", "-f"]));
    }
    for f in &mut followers {
        let (lines, status) = f.read_to_exit(Duration::from_secs(60));
        assert!(
            status.success(),
            "{} exit status {status:?}; stderr: {}",
            f.what,
            f.stderr_text()
        );
        assert_eq!(lines, counted(), "{}: every line once, in order", f.what);
    }
    eventually(Duration::from_secs(60), "counter Succeeded", || {
        (phase(c, "counter") == "Succeeded").then_some(())
    });

    // Following a container that has already stopped gives its log and ends; tailLines,
    // timestamps and limitBytes apply as without follow.
    let get = |query: &str| {
        let r = c
            .request(
                "GET",
                &format!("{PODS}/counter/log?follow=true{query}"),
                None,
                "text/plain",
            )
            .expect("log");
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        String::from_utf8_lossy(&r.body).into_owned()
    };
    assert_eq!(get(""), "line-0\nline-1\nline-2\nline-3\nline-4\n");
    assert_eq!(get("&tailLines=2"), "line-3\nline-4\n");
    assert_eq!(get("&limitBytes=9"), "line-0\nli");
    let stamped = get("&timestamps=true&tailLines=1");
    assert!(
        stamped.starts_with("20") && stamped.ends_with(" line-4\n"),
        "{stamped}"
    );
    if kubectl {
        let mut f = kubectl_logs(&m, home.path(), &["counter", "-f", "--tail=1"]);
        let (lines, status) = f.read_to_exit(Duration::from_secs(60));
        assert!(status.success(), "stderr: {}", f.stderr_text());
        assert_eq!(lines, vec!["line-4".to_string()]);
    }

    // Errors are those of a plain log request.
    let r = c
        .request(
            "GET",
            &format!("{PODS}/counter/log?follow=true&container=nope"),
            None,
            "text/plain",
        )
        .expect("log");
    assert_eq!(r.status, 400);
    let r = c
        .request(
            "GET",
            &format!("{PODS}/counter/log?follow=true&previous=true"),
            None,
            "text/plain",
        )
        .expect("log");
    assert_eq!(
        r.status,
        400,
        "no previous run: {}",
        String::from_utf8_lossy(&r.body)
    );
}

#[test]
fn a_followed_log_streams_while_the_container_runs() {
    let dir = tempdir();
    let (m, w) = cluster(dir.path());
    let c = &m.client;
    create(c, "sleeper", "echo first; sleep 3600");
    wait_running(c, "sleeper");

    // Through the API: the first line arrives while the answer stays open (the container
    // sleeps for an hour, so only streaming can deliver it).
    let (tx, rx) = mpsc::channel();
    let api = c.clone();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let res = api.get_streaming(
            &format!("{PODS}/sleeper/log?follow=true"),
            "text/plain",
            |data| {
                seen.extend_from_slice(data);
                !seen.ends_with(b"first\n")
            },
        );
        let _ = tx.send((res.map_err(|e| e.to_string()), seen));
    });
    let (res, seen) = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the first line arrives through the API while the pod runs");
    assert!(res.is_ok(), "{res:?}");
    assert_eq!(String::from_utf8_lossy(&seen), "first\n");

    // Through `capstan logs -f`, read line by line, then killed.
    let mut cli = capstan_logs(&m, &["sleeper", "-f"]);
    let first = cli.next_line(Duration::from_secs(30));
    assert_eq!(
        first.as_deref(),
        Some("first"),
        "stderr: {}",
        cli.stderr_text()
    );
    assert!(cli.still_running(), "capstan logs -f waits for more");
    drop(cli);
    // Both clients went away while the container idles: the worker's followers stop (the
    // master dropped their QUIC streams) instead of polling on for an hour.
    eventually(Duration::from_secs(30), "both followers stopped", || {
        let gone = w
            .stderr_text()
            .lines()
            .filter(|l| l.contains("log follower gone") && l.contains("default/sleeper"))
            .count();
        (gone >= 2).then_some(())
    });

    // A follower still open when the pod is deleted ends on its own: its container stopped.
    let mut last = capstan_logs(&m, &["sleeper", "-f"]);
    assert_eq!(
        last.next_line(Duration::from_secs(30)).as_deref(),
        Some("first")
    );
    let r = c
        .send_json(
            "DELETE",
            &format!("{PODS}/sleeper"),
            "application/json",
            &json!({}),
        )
        .expect("delete");
    assert_eq!(r.status, 200);
    let (rest, status) = last.read_to_exit(Duration::from_secs(60));
    assert!(
        rest.is_empty() && status.success(),
        "ends cleanly: {rest:?} {status:?}; stderr: {}",
        last.stderr_text()
    );
}
