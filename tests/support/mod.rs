//! Shared helpers for the integration tests: start a real `capstan master` process on a fresh
//! data_dir and a free port, talk to it over real HTTPS, kill it.
#![allow(dead_code)]

pub mod webdriver;

use capstan_node::client::Client;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The `capstan` binary under test.
pub fn capstan_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_capstan"))
}

/// A running master process.
pub struct Master {
    child: Option<Child>,
    /// Its data_dir.
    pub data_dir: PathBuf,
    /// `https://127.0.0.1:PORT`
    pub url: String,
    /// The admin kubeconfig it wrote.
    pub kubeconfig: PathBuf,
    /// An admin client.
    pub client: Client,
    /// The QUIC address workers join.
    pub nodes: String,
}

impl Master {
    /// Starts a master on `data_dir` (created if needed) listening on free ports, as an API server
    /// alone (no scheduler writing to pods, as kube-apiserver's own tests run).
    pub fn start(data_dir: &Path) -> Master {
        std::fs::create_dir_all(data_dir).expect("create data_dir");
        let config = data_dir.join("master.toml");
        let text = format!(
            "[master]\ndata_dir = {:?}\napi_listen = \"127.0.0.1:0\"\nnode_listen = \"127.0.0.1:0\"\nwatch_history = 100\nscheduler = false\n",
            data_dir
        );
        std::fs::write(&config, text).expect("write config");
        Master::start_with_config(data_dir, &config)
    }

    /// Starts a master from an existing config file (whose data_dir is `data_dir`).
    pub fn start_with_config(data_dir: &Path, config: &Path) -> Master {
        let mut child = Command::new(capstan_bin())
            .args(["master", "--config"])
            .arg(config)
            .env(
                "CAPSTAN_LOG",
                std::env::var("TEST_MASTER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn capstan master");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("capstan master ready: ") {
                    let _ = tx.send(line);
                }
            }
        });
        let ready = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("master printed its ready line within 60s");
        let field = |k: &str| {
            ready
                .split_whitespace()
                .find_map(|f| f.strip_prefix(&format!("{k}=")).map(str::to_string))
                .unwrap_or_else(|| panic!("ready line has {k}=: {ready}"))
        };
        let kubeconfig = PathBuf::from(field("kubeconfig"));
        let client = Client::from_kubeconfig(&kubeconfig).expect("kubeconfig loads");
        Master {
            child: Some(child),
            data_dir: data_dir.to_path_buf(),
            url: field("api"),
            kubeconfig,
            client,
            nodes: field("nodes"),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, and the exit status.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(st)) = c.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = c.kill();
        c.wait().ok()
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// A free TCP port and a free UDP port on 127.0.0.1 (probed by binding port 0).
pub fn free_ports() -> (u16, u16) {
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("tcp probe");
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp probe");
    (
        tcp.local_addr().expect("addr").port(),
        udp.local_addr().expect("addr").port(),
    )
}

/// A running child process whose stderr lines are kept for inspection.
pub struct Proc {
    child: Option<Child>,
    /// Every stderr line so far.
    pub stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Proc {
    /// Spawns `capstan ARGS` with `CAPSTAN_LOG` set.
    pub fn spawn(args: &[&str], log: &str, cwd: &Path) -> Proc {
        let mut child = Command::new(capstan_bin())
            .args(args)
            .env("CAPSTAN_LOG", log)
            .current_dir(cwd)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn capstan");
        let err = child.stderr.take().expect("stderr piped");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                sink.lock().expect("lock").push(line);
            }
        });
        Proc {
            child: Some(child),
            stderr: lines,
        }
    }

    /// Waits up to `timeout` for the process to exit; its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let c = self.child.as_mut()?;
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(st)) = c.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
    }

    /// stderr so far, as one string.
    pub fn stderr_text(&self) -> String {
        self.stderr.lock().expect("lock").join("\n")
    }

    /// SIGKILL.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    /// SIGTERM first, so a worker stops its pods' processes and leaves none behind; SIGKILL if it
    /// has not exited within 15 s.
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            if matches!(c.try_wait(), Ok(None)) {
                self.terminate();
                let _ = self.wait_exit(Duration::from_secs(15));
            }
        }
        self.kill9();
    }
}

/// Polls `f` every 100 ms until it returns Some or `timeout` passes.
pub fn eventually<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A master and workers as processes, all described by one config file written in `dir`
/// (`cluster.toml`; data under `dir/master` and `dir/<worker>`), with every node Ready.
pub struct Cluster {
    /// The master.
    pub master: Master,
    /// The workers, in the order given.
    pub workers: Vec<Proc>,
    /// The config file.
    pub config: PathBuf,
}

impl Cluster {
    /// Starts a master and `workers` — (name, extra TOML lines of its `[[worker]]` table) —
    /// on free ports, and waits until every node is Ready.
    pub fn start(dir: &Path, workers: &[(&str, &str)]) -> Cluster {
        let (api, quic) = free_ports();
        let mut text = format!(
            "[master]\ndata_dir = {:?}\napi_listen = \"127.0.0.1:{api}\"\nnode_listen = \"127.0.0.1:{quic}\"\n\n",
            dir.join("master"),
        );
        for (name, extra) in workers {
            text.push_str(&format!(
                "[[worker]]\nname = \"{name}\"\nmaster = \"127.0.0.1:{quic}\"\ntoken_file = {:?}\ndata_dir = {:?}\n{extra}\n",
                dir.join("master/node-token"),
                dir.join(name)
            ));
        }
        let config = dir.join("cluster.toml");
        std::fs::write(&config, text).expect("config");
        let master = Master::start_with_config(&dir.join("master"), &config);
        let mut cluster = Cluster {
            master,
            workers: Vec::new(),
            config,
        };
        for (name, _) in workers {
            let w = cluster.spawn_worker(dir, name);
            cluster.workers.push(w);
        }
        wait_nodes_ready(&cluster.master.client, workers.len());
        cluster
    }

    /// Starts (again) the worker `name` of this cluster's config.
    pub fn spawn_worker(&self, dir: &Path, name: &str) -> Proc {
        Proc::spawn(
            &[
                "worker",
                "--config",
                self.config.to_str().expect("utf8"),
                "--name",
                name,
            ],
            "info",
            dir,
        )
    }
}

/// Waits until `n` nodes are Ready.
pub fn wait_nodes_ready(c: &Client, n: usize) {
    eventually(
        Duration::from_secs(60),
        &format!("{n} node(s) Ready"),
        || {
            let nodes: serde_json::Value = c.get("/api/v1/nodes").ok()?.json().ok()?;
            let ready = nodes["items"]
                .as_array()?
                .iter()
                .filter(|n| capstan_core::node_status::ready_status(n) == Some("True"))
                .count();
            (ready == n).then_some(())
        },
    );
}

/// Live (not zombie) processes whose command line is exactly `argv`.
pub fn processes(argv: &[&str]) -> Vec<u32> {
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want)
                && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                    s.rfind(')')
                        .and_then(|i| s.as_bytes().get(i + 2))
                        .is_some_and(|st| !matches!(st, b'Z' | b'X'))
                })
        })
        .collect()
}

/// Live processes whose command line is exactly `argv` and whose working directory is `cwd`:
/// the containers of one cluster whose workers run in `cwd`, not those of a test running beside
/// it (containers inherit the working directory of their worker through the shim).
pub fn processes_in(argv: &[&str], cwd: &Path) -> Vec<u32> {
    let Ok(cwd) = std::fs::canonicalize(cwd) else {
        return Vec::new();
    };
    processes(argv)
        .into_iter()
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|d| d == cwd))
        .collect()
}

/// The pid of a live `capstan worker --name NAME` whose working directory is `cwd`.
pub fn worker_pid(cwd: &std::path::Path, name: &str) -> Option<u32> {
    let cwd = std::fs::canonicalize(cwd).ok()?;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_worker = args.iter().any(|a| a == "worker")
            && args.windows(2).any(|w| w[0] == "--name" && w[1] == name);
        let same_dir =
            std::fs::read_link(entry.path().join("cwd")).ok().as_deref() == Some(cwd.as_path());
        let alive =
            std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|s| !s.contains(") Z "));
        if is_worker && same_dir && alive {
            return Some(pid);
        }
    }
    None
}
