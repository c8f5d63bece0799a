//! `capstan bench cluster`: a whole cluster under load on this machine. A master runs as a
//! child process on a fresh data_dir (so its RSS and CPU are its own); N hollow nodes run in this
//! process (real joins, real QUIC with mutual TLS, real agents — no container processes); a
//! load generator creates P pods through the HTTPS API (as D Deployments, or bare pods). It
//! measures scheduling throughput, pod startup latency (create → Running seen through a
//! watch), API write latency, and with `--kill-nodes M` node-loss recovery; samples the
//! master's RSS and CPU; checks that every pod ends Running exactly once on a live node with no
//! node overcommitted. Prints a summary table, writes result.json, report.md and SVG plots into
//! `--out`, and ends with one line of JSON.

mod observe;
mod report;

use super::util::{outln, VerbResult};
use crate::client::Client;
use crate::hollow::{HollowFleet, HollowOptions};
use crate::join::JoinToken;
use anyhow::{anyhow, bail, Context, Result};
use observe::{PodSeen, ProcSample, Shared};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `capstan bench cluster` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterBench {
    /// Hollow nodes (1–20000).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=20_000))]
    pub nodes: u64,
    /// Pods to create (1–500000).
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..=500_000))]
    pub pods: u64,
    /// Create the pods as this many Deployments (0: bare pods, one API write each).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub deployments: u64,
    /// Creations per second (0: as fast as the API takes them).
    #[arg(long, default_value_t = 0)]
    pub create_rate: u64,
    /// Drop this many hollow nodes abruptly once every pod runs, and measure the recovery
    /// (needs --deployments: bare pods are not recreated).
    #[arg(long, default_value_t = 0)]
    pub kill_nodes: u64,
    /// Where result.json, report.md and the plots go.
    #[arg(long, default_value = "bench-cluster")]
    pub out: PathBuf,
    /// A hollow container runs this many milliseconds after its launch.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub start_delay_ms: u64,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 1800, value_parser = clap::value_parser!(u64).range(10..=86_400))]
    pub timeout: u64,
}

/// Concurrent API writers of the load generator.
const WRITERS: usize = 16;

fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::new(len);
    b.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, {{elapsed}})"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b
}

/// The master child: killed when dropped.
struct MasterChild {
    child: Child,
    /// Removed (with the store) once the master is gone.
    _data_dir: tempfile::TempDir,
}

impl Drop for MasterChild {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `capstan master` on a fresh data_dir; returns it with (kubeconfig, QUIC address, token).
fn start_master() -> Result<(MasterChild, PathBuf, String, PathBuf)> {
    let data_dir = tempfile::tempdir().context("a data_dir for the master")?;
    let config = data_dir.path().join("master.toml");
    std::fs::write(
        &config,
        format!(
            "[master]\ndata_dir = {:?}\napi_listen = \"127.0.0.1:0\"\nnode_listen = \"127.0.0.1:0\"\nwatch_history = 2000000\n",
            data_dir.path().join("state")
        ),
    )?;
    let exe = std::env::current_exe().context("the capstan binary")?;
    let mut child = Command::new(exe)
        .args(["master", "--config"])
        .arg(&config)
        .env(
            "CAPSTAN_LOG",
            std::env::var("CAPSTAN_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the master")?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("no master stdout"))?;
    let master = MasterChild {
        child,
        _data_dir: data_dir,
    };
    let mut lines = BufReader::new(stdout).lines();
    let ready = loop {
        match lines.next() {
            Some(Ok(l)) if l.starts_with("capstan master ready:") => break l,
            Some(Ok(_)) => continue,
            _ => bail!("the master exited before it was ready"),
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let field = |k: &str| {
        ready
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .map(str::to_string)
            .ok_or_else(|| anyhow!("the master's ready line lacks {k}"))
    };
    Ok((
        master,
        PathBuf::from(field("kubeconfig")?),
        field("nodes")?,
        PathBuf::from(field("node-token")?),
    ))
}

enum FleetCmd {
    Vanish(Vec<String>),
    Stop,
}

/// Runs the fleet on an actix system of its own thread; returns once every node has joined,
/// with the sender of the fleet's commands.
fn start_fleet(
    o: HollowOptions,
) -> Result<(
    tokio::sync::mpsc::UnboundedSender<FleetCmd>,
    std::thread::JoinHandle<()>,
)> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<FleetCmd>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let joined = bar(o.count as u64, "hollow nodes joined");
    let handle = std::thread::spawn(move || {
        let system = actix::System::new();
        system.block_on(async move {
            let j = joined.clone();
            let fleet: Result<HollowFleet> = crate::hollow::start(&o, move || j.inc(1)).await;
            joined.finish_and_clear();
            let mut fleet = match fleet {
                Ok(f) => f,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("{e:#}")));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(()));
            while let Some(cmd) = rx.recv().await {
                match cmd {
                    FleetCmd::Vanish(names) => fleet.vanish(&names),
                    FleetCmd::Stop => break,
                }
            }
            let all: Vec<String> = fleet.nodes.iter().map(|(n, _)| n.clone()).collect();
            fleet.vanish(&all);
        });
    });
    ready_rx
        .recv()
        .map_err(|_| anyhow!("the hollow fleet stopped"))?
        .map_err(|e| anyhow!(e))?;
    Ok((tx, handle))
}

fn pod_manifest(i: u64) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": format!("bench-{i:06}"), "labels": {"app": "bench"}},
           "spec": {"terminationGracePeriodSeconds": 0, "containers": [container()]}})
}

fn container() -> Value {
    json!({"name": "c", "image": "hollow", "command": ["sleep", "infinity"],
           "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}})
}

fn deployment_manifest(d: u64, replicas: u64) -> Value {
    let app = format!("bench-{d:04}");
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": app},
           "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                    "template": {"metadata": {"labels": {"app": app}},
                                 "spec": {"terminationGracePeriodSeconds": 0,
                                          "containers": [container()]}}}})
}

/// Creates the load; returns the sorted write latencies (µs) and how many writes were retried.
fn generate(c: &Client, b: &ClusterBench, shared: &Shared) -> Result<(Vec<u64>, usize)> {
    let writes: Vec<(String, Value)> = match b.pods.checked_div(b.deployments) {
        None => (0..b.pods)
            .map(|i| {
                (
                    "/api/v1/namespaces/default/pods".to_string(),
                    pod_manifest(i),
                )
            })
            .collect(),
        Some(per) => {
            let extra = b.pods % b.deployments;
            (0..b.deployments)
                .map(|d| {
                    (
                        "/apis/apps/v1/namespaces/default/deployments".to_string(),
                        deployment_manifest(d, per + u64::from(d < extra)),
                    )
                })
                .collect()
        }
    };
    let total = writes.len();
    let progress = bar(total as u64, "API writes");
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let retries = Arc::new(AtomicUsize::new(0));
    let writes = Arc::new(writes);
    let start = Instant::now();
    let threads: Vec<_> = (0..WRITERS.min(total))
        .map(|_| {
            let (c, next, latencies, errors, writes, progress, shared, retries) = (
                c.clone(),
                next.clone(),
                latencies.clone(),
                errors.clone(),
                writes.clone(),
                progress.clone(),
                shared.clone(),
                retries.clone(),
            );
            let rate = b.create_rate;
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((path, body)) = writes.get(i) else {
                    return;
                };
                if rate > 0 {
                    let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
                let sent = Instant::now();
                if body["kind"] == "Pod" {
                    let key = format!(
                        "default/{}",
                        body["metadata"]["name"].as_str().unwrap_or_default()
                    );
                    shared
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .pods
                        .entry(key)
                        .or_default()
                        .created = Some(sent);
                }
                match post_retrying(&c, path, body, &retries) {
                    Ok(r) if r.status == 201 => latencies
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(sent.elapsed().as_micros() as u64),
                    Ok(r) => errors
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("{path}: {} {}", r.status, r.error_text())),
                    Err(e) => errors
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("{path}: {e}")),
                }
                progress.inc(1);
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    progress.finish_and_clear();
    let errors = errors.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(first) = errors.first() {
        bail!(
            "{} of {total} API writes failed; the first: {first}",
            errors.len()
        );
    }
    let mut l = latencies.lock().unwrap_or_else(|e| e.into_inner()).clone();
    l.sort_unstable();
    Ok((l, retries.load(Ordering::Relaxed)))
}

/// How often a write that could not reach the API server is tried again.
const WRITE_ATTEMPTS: u32 = 3;

/// POSTs `body`, trying again (after 1 s, then 2 s) when the request could not reach the API
/// server, as clients do; a retried create that finds its object already there (the earlier
/// attempt landed after all) counts as created. Each retry is counted in `retries` and
/// reported, so a slow-to-accept server shows in the results.
fn post_retrying(
    c: &Client,
    path: &str,
    body: &Value,
    retries: &AtomicUsize,
) -> Result<crate::client::Response> {
    let mut attempt = 1;
    loop {
        match c.send_json("POST", path, "application/json", body) {
            Ok(r) if attempt > 1 && r.status == 409 => {
                return Ok(crate::client::Response { status: 201, ..r })
            }
            Err(_) if attempt < WRITE_ATTEMPTS => {
                retries.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_secs(u64::from(attempt)));
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn quantile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i.min(sorted.len() - 1)).copied()
}

fn live_running(pods: &HashMap<String, PodSeen>, dead: &HashSet<String>) -> usize {
    pods.values()
        .filter(|p| !p.gone && p.phase == "Running" && !dead.contains(&p.node))
        .count()
}

/// Waits until `want` pods run on live nodes, with a progress bar; false on timeout.
fn wait_running(
    shared: &Shared,
    want: usize,
    dead: &HashSet<String>,
    deadline: Instant,
    what: &str,
) -> Result<bool> {
    let progress = bar(want as u64, what);
    loop {
        let (n, err) = {
            let o = shared.lock().unwrap_or_else(|e| e.into_inner());
            (live_running(&o.pods, dead), o.error.clone())
        };
        progress.set_position(n.min(want) as u64);
        if n >= want {
            progress.finish_and_clear();
            return Ok(true);
        }
        if let Some(e) = err {
            progress.finish_and_clear();
            bail!("{e}");
        }
        if Instant::now() >= deadline {
            progress.finish_and_clear();
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the benchmark.
/// Frames the master has sent and received over QUIC, from its `/metrics`.
fn transport_frames(client: &Client) -> Option<u64> {
    let r = client.get("/metrics").ok()?;
    let text = String::from_utf8(r.body).ok()?;
    let value = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))?
            .trim()
            .parse()
            .ok()
    };
    Some(
        value("capstan_transport_frames_sent_total")?
            + value("capstan_transport_frames_received_total")?,
    )
}

pub fn run(b: ClusterBench) -> VerbResult {
    // The hollow nodes run in this process: their warnings (a lost connection…) matter.
    let filter = tracing_subscriber::EnvFilter::try_from_env("CAPSTAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    if b.kill_nodes > 0 && b.deployments == 0 {
        bail!("--kill-nodes needs --deployments > 0: bare pods are not recreated elsewhere");
    }
    if b.kill_nodes > 0 && b.kill_nodes >= b.nodes {
        bail!("--kill-nodes must leave at least one node");
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let begin = Instant::now();
    let deadline = begin + Duration::from_secs(b.timeout);
    let (master, kubeconfig, nodes_addr, token_file) = start_master()?;
    let master_pid = master.child.id();
    let client = Client::from_kubeconfig(&kubeconfig)?;
    let token = JoinToken::parse(std::fs::read_to_string(&token_file)?.trim())
        .map_err(|e| anyhow!("node token: {e}"))?;
    let master_addr = nodes_addr
        .parse()
        .with_context(|| format!("the master's node address {nodes_addr:?}"))?;
    let shared: Shared = Arc::new(Mutex::new(observe::Observed::default()));
    let samples = Arc::new(Mutex::new(Vec::<ProcSample>::new()));
    let done = Arc::new(AtomicBool::new(false));
    observe::sample_master(
        master_pid,
        begin,
        Duration::from_millis(500),
        shared.clone(),
        samples.clone(),
        done.clone(),
    );

    let (fleet, fleet_thread) = start_fleet(HollowOptions {
        master: master_addr,
        server_name: "127.0.0.1".into(),
        token,
        count: b.nodes as usize,
        prefix: "hollow-".into(),
        start_delay: Duration::from_millis(b.start_delay_ms),
        cpu_millis: 4000,
        memory_bytes: 16 << 30,
        max_pods: 110,
    })?;
    // Every node Ready before the load starts.
    let ready_bar = bar(b.nodes, "nodes Ready");
    let nodes_seen = observe::watch_nodes_until_ready(client.clone(), b.nodes as usize);
    loop {
        let (ready, error) = {
            let s = nodes_seen.lock().unwrap_or_else(|e| e.into_inner());
            (s.ready.len(), s.error.clone())
        };
        if let Some(e) = error {
            bail!("{e} ({ready} of {} nodes Ready)", b.nodes);
        }
        ready_bar.set_position(ready as u64);
        if ready as u64 >= b.nodes {
            break;
        }
        if Instant::now() >= deadline {
            bail!("only {ready} of {} nodes became Ready", b.nodes);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    ready_bar.finish_and_clear();
    let rv = client.get("/api/v1/pods")?.json()?["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("0")
        .to_string();
    observe::watch_pods(client.clone(), rv, shared.clone());

    let load_start = Instant::now();
    let frames_at_start = transport_frames(&client);
    let (api, api_retries) = generate(&client, &b, &shared)?;
    let all_running = wait_running(
        &shared,
        b.pods as usize,
        &HashSet::new(),
        deadline,
        "pods Running",
    )?;
    let load_end = Instant::now();
    let frames_at_end = transport_frames(&client);

    // Node loss: drop nodes that hold pods, wait until every pod runs on a live node again.
    let mut dead = HashSet::new();
    let mut recovery = None;
    if b.kill_nodes > 0 && all_running {
        let mut by_node: HashMap<String, usize> = HashMap::new();
        for p in shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pods
            .values()
        {
            if !p.gone {
                *by_node.entry(p.node.clone()).or_default() += 1;
            }
        }
        let mut victims: Vec<(String, usize)> =
            by_node.into_iter().filter(|(n, _)| !n.is_empty()).collect();
        victims.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let victims: Vec<String> = victims
            .into_iter()
            .take(b.kill_nodes as usize)
            .map(|v| v.0)
            .collect();
        dead = victims.iter().cloned().collect();
        let killed_at = Instant::now();
        let _ = fleet.send(FleetCmd::Vanish(victims));
        if wait_running(
            &shared,
            b.pods as usize,
            &dead,
            deadline,
            "pods Running again",
        )? {
            recovery = Some(killed_at.elapsed().as_secs_f64());
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    done.store(true, Ordering::Relaxed);

    // Results.
    let o = shared.lock().unwrap_or_else(|e| e.into_inner());
    let live: Vec<&PodSeen> = o.pods.values().filter(|p| !p.gone).collect();
    let running_live = live_running(&o.pods, &dead);
    let lost = (b.pods as usize).saturating_sub(running_live);
    if lost > 0 {
        let stuck: Vec<String> = o
            .pods
            .iter()
            .filter(|(_, p)| !p.gone && p.phase != "Running")
            .map(|(k, p)| format!("{k} ({} on {:?})", p.phase, p.node))
            .take(10)
            .collect();
        eprintln!("pods not Running: {stuck:?}");
    }
    let duplicates = running_live.saturating_sub(b.pods as usize);
    let mut per_node: HashMap<&str, (i64, i64, i64)> = HashMap::new();
    for p in &live {
        if !p.node.is_empty() {
            let e = per_node.entry(p.node.as_str()).or_default();
            e.0 += p.requests.0;
            e.1 += p.requests.1;
            e.2 += 1;
        }
    }
    let overcommitted = per_node
        .values()
        .filter(|(c, m, n)| *c > 4000 || *m > 16 << 30 || *n > 110)
        .count();
    // Throughput over the load itself (replacements after a node loss come later).
    let first_created = o.pods.values().filter_map(|p| p.created).min();
    let in_load = |t: &Instant| *t <= load_end;
    let last_bound = o
        .pods
        .values()
        .filter_map(|p| p.bound)
        .filter(in_load)
        .max();
    let bound = o
        .pods
        .values()
        .filter(|p| p.bound.as_ref().is_some_and(in_load))
        .count();
    let pods_per_second = match (first_created, last_bound) {
        (Some(f), Some(l)) if l > f => Some(bound as f64 / l.duration_since(f).as_secs_f64()),
        _ => None,
    };
    // Milliseconds from creation to `until`, sorted, for the pods created during the load.
    let since_created = |until: fn(&PodSeen) -> Option<Instant>| -> Vec<u64> {
        let mut ms: Vec<u64> = o
            .pods
            .values()
            .filter(|p| p.created.as_ref().is_some_and(in_load))
            .filter_map(|p| Some(until(p)?.checked_duration_since(p.created?)?.as_millis() as u64))
            .collect();
        ms.sort_unstable();
        ms
    };
    let startup = since_created(|p| p.running);
    // The scheduling part of it: created → bound.
    let scheduling = since_created(|p| p.bound);
    let ms = |us: Option<u64>| us.map(|u| u as f64 / 1000.0);
    let s = samples.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let rss_peak = s.iter().map(|x| x.rss_mb).fold(0.0_f64, f64::max);
    let cpu_mean = if s.len() > 1 {
        s.iter().skip(1).map(|x| x.cpu_cores).sum::<f64>() / (s.len() - 1) as f64
    } else {
        0.0
    };
    let result = json!({
        "nodes": b.nodes,
        "pods": b.pods,
        "deployments": b.deployments,
        "pods_per_second": pods_per_second.map(|v| (v * 10.0).round() / 10.0),
        "startup_p50_ms": quantile(&startup, 0.5),
        "startup_p90_ms": quantile(&startup, 0.9),
        "startup_p99_ms": quantile(&startup, 0.99),
        "scheduling_p50_ms": quantile(&scheduling, 0.5),
        "scheduling_p99_ms": quantile(&scheduling, 0.99),
        "api_p50_ms": ms(quantile(&api, 0.5)),
        "api_p99_ms": ms(quantile(&api, 0.99)),
        "api_write_retries": api_retries,
        "transport_msgs_per_second": match (frames_at_start, frames_at_end) {
            (Some(a), Some(z)) if load_end > load_start => Some(
                (z.saturating_sub(a) as f64 / load_end.duration_since(load_start).as_secs_f64())
                    .round(),
            ),
            _ => None,
        },
        "node_loss_recovery_s": recovery.map(|v| (v * 100.0).round() / 100.0),
        "killed_nodes": dead.len(),
        "master_rss_mb": (rss_peak * 10.0).round() / 10.0,
        "master_cpu_cores": (cpu_mean * 100.0).round() / 100.0,
        "lost_pods": lost,
        "duplicate_pods": duplicates,
        "overcommitted_nodes": overcommitted,
        "load_seconds": (load_end.duration_since(load_start).as_secs_f64() * 10.0).round() / 10.0,
        "all_running": all_running,
    });
    drop(o);
    let running_plot: Vec<(f64, f64)> = s.iter().map(|x| (x.t, x.running as f64)).collect();
    let rss_plot: Vec<(f64, f64)> = s.iter().map(|x| (x.t, x.rss_mb)).collect();
    let cdf: Vec<(f64, f64)> = startup
        .iter()
        .enumerate()
        .step_by((startup.len() / 500).max(1))
        .map(|(i, v)| (*v as f64, (i + 1) as f64 / startup.len() as f64))
        .collect();
    report::write_all(&b.out, &result, &command, &running_plot, &cdf, &rss_plot)
        .with_context(|| format!("writing {}", b.out.display()))?;
    let _ = fleet.send(FleetCmd::Stop);
    let _ = fleet_thread.join();
    drop(master);
    outln(&report::table(&result));
    outln(&format!("report: {}", b.out.join("report.md").display()));
    outln(&result.to_string());
    Ok(())
}
