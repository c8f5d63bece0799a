//! The README's two-minute walkthrough (a rolling update and a node failure), run line by line
//! against a `capstan up` cluster made from `configs/local.toml` on free ports: every `kubectl`
//! line must succeed, the `pkill` patterns must find this cluster's worker-2 (only it is
//! signalled), the watch line is replaced by waiting for what it promises, and the end state is
//! what the README says: six pods, each running on one node only.

use crate::support::{capstan_bin, eventually, free_ports, processes_in, tempdir, worker_pid};
use capstan_node::client::Client;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MARKER: &str = "<!-- walkthrough: tests/readme_walkthrough.rs";
const PODS: &str = "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb";
const DEPLOYMENT: &str = "/apis/apps/v1/namespaces/default/deployments/web";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The commands of the README's walkthrough block, comments stripped.
fn walkthrough() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let start = readme.find(MARKER).expect("walkthrough marker in README");
    let block = &readme[start..];
    let body = block
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a ```sh block after the marker")
        .0;
    body.lines()
        .map(|l| {
            l.split_once(" #")
                .map_or(l, |(cmd, _)| cmd)
                .trim()
                .to_string()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// Splits a command line into words (single and double quotes group; no expansion).
fn words(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for ch in line.chars() {
        match (quote, ch) {
            (None, '\'' | '"') => (quote, any) = (Some(ch), true),
            (Some(q), _) if ch == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// `capstan up`, stopped (and its stopped worker continued) however the test ends.
struct Up {
    child: Child,
    dir: PathBuf,
}

impl Drop for Up {
    fn drop(&mut self) {
        if let Some(pid) = worker_pid(&self.dir, "worker-2") {
            signal(pid, "CONT");
        }
        signal(self.child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok || sig == "CONT" || sig == "TERM", "kill -{sig} {pid}");
}

fn start_up(dir: &Path) -> Up {
    let (api, quic) = free_ports();
    let config = std::fs::read_to_string(repo().join("configs/local.toml"))
        .expect("configs/local.toml")
        .replace("127.0.0.1:6443", &format!("127.0.0.1:{api}"))
        .replace("127.0.0.1:7443", &format!("127.0.0.1:{quic}"));
    std::fs::write(dir.join("cluster.toml"), config).expect("config");
    let mut child = Command::new(capstan_bin())
        .args(["up", "--config", "cluster.toml"])
        .current_dir(dir)
        .env("CAPSTAN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn capstan up");
    let out = child.stdout.take().expect("stdout");
    let up = Up {
        child,
        dir: dir.to_path_buf(),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("capstan up came up");
        if line.contains("Capstan is up") {
            return up;
        }
    }
}

/// Live web pods: (name, node, phase).
fn web_pods(c: &Client) -> Vec<(String, String, String)> {
    let list: Value = c.get(PODS).expect("list").json().expect("json");
    let s = |p: &Value, ptr: &str| {
        p.pointer(ptr)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            (
                s(p, "/metadata/name"),
                s(p, "/spec/nodeName"),
                s(p, "/status/phase"),
            )
        })
        .collect()
}

/// The web containers of the cluster running in `dir` (each pod runs one).
fn web_processes(dir: &Path) -> usize {
    processes_in(
        &[
            "sh",
            "-c",
            "echo web is up; while true; do sleep 3600; done",
        ],
        dir,
    )
    .len()
}

fn ready(c: &Client, node: &str) -> Option<String> {
    let n: Value = c.get(&format!("/api/v1/nodes/{node}")).ok()?.json().ok()?;
    capstan_core::node_status::ready_status(&n).map(str::to_string)
}

#[test]
fn the_readme_walkthrough_works_as_written() {
    let dir = tempdir();
    let up = start_up(dir.path());
    let kubeconfig = dir.path().join(".capstan/kubeconfig.yaml");
    let c = Client::from_kubeconfig(&kubeconfig).expect("kubeconfig");
    let began = Instant::now();
    let mut stopped_at = None;
    for line in walkthrough() {
        eprintln!("$ {line}");
        let w = words(&line);
        match w.first().map(String::as_str) {
            Some("export") => assert_eq!(
                w[1], "KUBECONFIG=$PWD/.capstan/kubeconfig.yaml",
                "the walkthrough uses capstan up's kubeconfig"
            ),
            Some("kubectl") if w.iter().any(|a| a == "-w" || a == "--watch") => {
                // The watch shows worker-2's pods going and coming back on worker-1.
                eventually(Duration::from_secs(60), "worker-2 Unknown", || {
                    (ready(&c, "worker-2").as_deref() == Some("Unknown")).then_some(())
                });
                let pods = eventually(Duration::from_secs(60), "6 Running on worker-1", || {
                    let pods = web_pods(&c);
                    (pods.len() == 6 && pods.iter().all(|p| p.1 == "worker-1" && p.2 == "Running"))
                        .then_some(pods)
                });
                let took = stopped_at.map(|t: Instant| t.elapsed());
                eprintln!(
                    "worker-2 stopped → {} pods Running on worker-1 in {took:?}",
                    pods.len()
                );
            }
            Some("kubectl") => {
                let out = Command::new("/usr/bin/kubectl")
                    .args(&w[1..])
                    .current_dir(repo())
                    .env("KUBECONFIG", &kubeconfig)
                    .env("HOME", dir.path())
                    .output()
                    .expect("run kubectl");
                assert!(
                    out.status.success(),
                    "{line}: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                if w.iter().any(|a| a == "undo") {
                    eventually(
                        Duration::from_secs(60),
                        "revision 3 without VERSION",
                        || {
                            let d: Value = c.get(DEPLOYMENT).ok()?.json().ok()?;
                            let env = &d["spec"]["template"]["spec"]["containers"][0]["env"];
                            (d["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                                == "3"
                                && env.as_array().is_none_or(|e| e.is_empty()))
                            .then_some(())
                        },
                    );
                }
            }
            Some("pkill") => {
                assert_eq!(w.len(), 4, "pkill -SIG -f PATTERN: {line}");
                assert_eq!(w[2], "-f");
                let ours = worker_pid(dir.path(), "worker-2").expect("worker-2 runs");
                let found = Command::new("pgrep")
                    .args(["-f", &w[3]])
                    .output()
                    .expect("pgrep");
                let found = String::from_utf8_lossy(&found.stdout).into_owned();
                assert!(
                    found.lines().any(|l| l.trim() == ours.to_string()),
                    "the pattern {:?} does not find worker-2 ({ours}): {found}",
                    w[3]
                );
                let sig = w[1].trim_start_matches('-');
                signal(ours, sig);
                if sig == "STOP" {
                    stopped_at = Some(Instant::now());
                }
            }
            other => panic!("the walkthrough has a command this test does not know: {other:?}"),
        }
    }
    // worker-2 is back: Ready, and it stopped what was evicted from it.
    eventually(Duration::from_secs(60), "worker-2 Ready again", || {
        (ready(&c, "worker-2").as_deref() == Some("True")).then_some(())
    });
    eventually(Duration::from_secs(60), "six web containers in all", || {
        (web_processes(dir.path()) == 6).then_some(())
    });
    // The rollback may still be rolling (maxSurge 1: a seventh pod for a while) when worker-2
    // returns; it ends with six pods, all Running.
    let pods = eventually(Duration::from_secs(60), "six web pods, all Running", || {
        let pods = web_pods(&c);
        (pods.len() == 6 && pods.iter().all(|p| p.2 == "Running")).then_some(pods)
    });
    assert_eq!(pods.len(), 6, "{pods:?}");
    assert_eq!(
        web_processes(dir.path()),
        6,
        "one container per pod: {pods:?}"
    );
    eprintln!("walkthrough done in {:?}", began.elapsed());

    // What happened is in the Events, as kubectl and capstan show them.
    let run = |program: &Path, args: &[&str]| {
        let out = Command::new(program)
            .args(args)
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", dir.path())
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let kubectl = Path::new("/usr/bin/kubectl");
    let pod = &pods[0].0;
    let described = run(kubectl, &["describe", "pod", pod]);
    for want in [
        "Scheduled",
        "default-scheduler",
        "Pulled",
        "Created",
        "Started",
        "kubelet",
    ] {
        assert!(
            described.contains(want),
            "kubectl describe pod lacks {want}:\n{described}"
        );
    }
    let described = run(&capstan_bin(), &["describe", "pod", pod]);
    assert!(described.contains("Started container web"), "{described}");
    let described = run(&capstan_bin(), &["describe", "deployment", "web"]);
    assert!(described.contains("ScalingReplicaSet"), "{described}");
    let described = run(&capstan_bin(), &["describe", "node", "worker-2"]);
    assert!(described.contains("NodeNotReady"), "{described}");
    let events = run(&capstan_bin(), &["get", "events"]);
    for want in ["TaintManagerEviction", "SuccessfulCreate", "Killing"] {
        assert!(
            events.contains(want),
            "capstan get events lacks {want}:\n{events}"
        );
    }
    drop(up);
    eventually(Duration::from_secs(30), "no web container left", || {
        (web_processes(dir.path()) == 0).then_some(())
    });
}
