//! Hollow nodes: many simulated workers in one process, for load benchmarks. Each joins with
//! the real token flow (its own key and certificate), holds its own QUIC connection with mutual
//! TLS (sharing one UDP socket per fleet thread), registers, heartbeats, receives its pod stream and
//! reports pod statuses and events through the real `NodeAgent` and `PodActor`s — only its
//! runtime is hollow (`HollowRuntime`: no process; a container runs after a fake start delay).
//! `capstan hollow --config FILE --count N` runs a fleet by hand; `capstan bench cluster`
//! starts one in-process.

use crate::join::JoinToken;
use crate::worker::{join_as, resolve_master};
use actix::prelude::*;
use anyhow::{anyhow, Context, Result};
use capstan_actors::protocol::Hello;
use capstan_actors::worker::agent::{AgentConfig, NodeAgent, Vanish};
use capstan_actors::worker::pod::PodSettings;
use capstan_actors::worker::runtime::HollowRuntime;
use capstan_core::pod_lifecycle::BackoffPolicy;
use capstan_transport::{Client, TransportConfig};
use futures_util::StreamExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Joins at once at most this many nodes (each is a QUIC handshake and a certificate).
const JOIN_CONCURRENCY: usize = 32;

/// Nodes started together; the next wave starts [`START_WAVE_PAUSE`] later.
const START_WAVE: usize = 200;

/// The pause between two waves of nodes (200 nodes a second: 5,000 in 25 s).
const START_WAVE_PAUSE: Duration = Duration::from_secs(1);

/// What a fleet of hollow nodes looks like.
#[derive(Debug, Clone)]
pub struct HollowOptions {
    /// The master's QUIC address, and the name its certificate is checked against.
    pub master: SocketAddr,
    /// Server name for the master's certificate.
    pub server_name: String,
    /// The join token.
    pub token: JoinToken,
    /// How many nodes.
    pub count: usize,
    /// Node names are `<prefix><index>` (zero-padded to 5 digits).
    pub prefix: String,
    /// A container runs this long after its launch.
    pub start_delay: Duration,
    /// Each node's CPU, in millicores.
    pub cpu_millis: i64,
    /// Each node's memory, in bytes.
    pub memory_bytes: i64,
    /// Each node's pod capacity.
    pub max_pods: u32,
}

/// A running fleet.
pub struct HollowFleet {
    /// The nodes, by name, in index order.
    pub nodes: Vec<(String, Addr<NodeAgent>)>,
    /// The runtime they share.
    pub runtime: Arc<HollowRuntime>,
    /// The threads the nodes run on (stopped with the fleet).
    arbiters: Vec<Arbiter>,
}

impl Drop for HollowFleet {
    fn drop(&mut self) {
        for a in &self.arbiters {
            a.stop();
        }
    }
}

/// The threads a fleet's nodes are spread over: one per core, so that one node's pod work
/// does not hold back another's heartbeats on a single event loop.
fn fleet_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8))
}

impl HollowFleet {
    /// Drops these nodes abruptly (no goodbye): the master sees their heartbeats stop.
    pub fn vanish(&mut self, names: &[String]) {
        self.nodes.retain(|(n, a)| {
            let going = names.contains(n);
            if going {
                a.do_send(Vanish);
            }
            !going
        });
    }
}

fn hello(name: &str, o: &HollowOptions, index: usize) -> Hello {
    Hello {
        cpu_millis: o.cpu_millis,
        memory_bytes: o.memory_bytes,
        max_pods: o.max_pods,
        labels: vec![
            ("capstan.io/hollow".into(), "true".into()),
            ("kubernetes.io/hostname".into(), name.to_string()),
            (
                "topology.kubernetes.io/zone".into(),
                format!("zone-{}", index % 5),
            ),
        ],
        taints: Vec::new(),
        hostname: name.to_string(),
        internal_ip: "127.0.0.1".into(),
        kernel_version: crate::nodeinfo::kernel_version(),
        os_image: "hollow".into(),
        architecture: crate::nodeinfo::architecture().to_string(),
        machine_id: name.to_string(),
        worker_version: env!("CARGO_PKG_VERSION").to_string(),
        boot_id: format!("{:016x}", rand::random::<u64>()),
        resume_from: 0,
    }
}

/// Joins `o.count` hollow nodes and starts them on threads of their own ([`fleet_threads`]
/// arbiters of the current actix system); `joined` is called as each one has joined (for a
/// progress bar).
pub async fn start(o: &HollowOptions, joined: impl Fn() + Clone) -> Result<HollowFleet> {
    let runtime = Arc::new(HollowRuntime::new(o.start_delay));
    let names: Vec<String> = (0..o.count)
        .map(|i| format!("{}{i:05}", o.prefix))
        .collect();
    let creds: Vec<Result<(usize, crate::worker::Joined)>> =
        futures_util::stream::iter(names.iter().cloned().enumerate())
            .map(|(i, name)| {
                let o = o.clone();
                let joined = joined.clone();
                async move {
                    let j = join_as(
                        &name,
                        &o.token,
                        o.master,
                        &o.server_name,
                        capstan_transport::DEFAULT_MAX_FRAME,
                    )
                    .await
                    .with_context(|| format!("hollow node {name}: joining"))?;
                    joined();
                    Ok((i, j))
                }
            })
            .buffer_unordered(JOIN_CONCURRENCY)
            .collect()
            .await;
    let arbiters: Vec<Arbiter> = (0..fleet_threads()).map(|_| Arbiter::new()).collect();
    let mut nodes = Vec::with_capacity(o.count);
    let mut sorted = Vec::with_capacity(o.count);
    for c in creds {
        sorted.push(c?);
    }
    sorted.sort_by_key(|(i, _)| *i);
    // One client endpoint (one UDP socket) for the fleet, driven on the process's QUIC I/O
    // thread at raised priority, as the master's is: the nodes' threads are busy with pod work,
    // and on them the socket's receive buffer overflowed and heartbeats went out late. Each
    // node's identity is added to that endpoint.
    let base = match sorted.first() {
        Some((_, first)) => {
            let (_, ca) = first.identity()?;
            capstan_transport::on_io_thread_start(capstan_actors::priority::raise_current_thread);
            let crypto = capstan_transport::client_crypto(&ca, None)?;
            Client::new(crypto, TransportConfig::default())?.on_io_thread()
        }
        None => {
            return Ok(HollowFleet {
                nodes,
                runtime,
                arbiters,
            })
        }
    };
    for (i, j) in sorted {
        if i > 0 && i % START_WAVE == 0 {
            // Nodes come up in waves, as machines of a real cluster do, rather than all in
            // one burst of handshakes that the master would refuse and the nodes retry.
            tokio::time::sleep(START_WAVE_PAUSE).await;
        }
        let name = names[i].clone();
        let (identity, ca) = j.identity()?;
        let thread = i % arbiters.len();
        let client = base.with_crypto(capstan_transport::client_crypto(&ca, Some(identity))?)?;
        let cfg = AgentConfig {
            node_name: name.clone(),
            master: o.master,
            server_name: o.server_name.clone(),
            hello: hello(&name, o, i),
        };
        let settings = PodSettings {
            node_name: name.clone(),
            host_ip: "127.0.0.1".into(),
            log_root: std::env::temp_dir().join("capstan-hollow-logs"),
            log_max_bytes: 1 << 20,
            backoff: BackoffPolicy::default(),
        };
        let runtime = runtime.clone();
        let agent = NodeAgent::start_in_arbiter(&arbiters[thread].handle(), move |_| {
            NodeAgent::new(cfg, client, runtime, settings)
        });
        nodes.push((name, agent));
    }
    Ok(HollowFleet {
        nodes,
        runtime,
        arbiters,
    })
}

/// `capstan hollow` flags.
#[derive(Debug, clap::Args)]
pub struct HollowArgs {
    /// A config file with a `[[worker]]` table: its `master` and token are used.
    #[arg(long)]
    pub config: std::path::PathBuf,
    /// The `[[worker]]` table to take them from (default: the first).
    #[arg(long)]
    pub name: Option<String>,
    /// How many hollow nodes.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    pub count: u32,
    /// Node name prefix.
    #[arg(long, default_value = "hollow-")]
    pub prefix: String,
    /// A container runs this many milliseconds after its launch.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub start_delay_ms: u64,
}

/// Runs `capstan hollow` until SIGINT/SIGTERM.
pub fn run(args: HollowArgs) -> Result<i32> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cluster = crate::config::ClusterConfig::load(&args.config)?;
    let w = cluster.worker(args.name.as_deref())?;
    let (master, server_name) = resolve_master(&w.master)?;
    let token = JoinToken::parse(&w.read_token()?).map_err(|e| anyhow!("token: {e}"))?;
    let o = HollowOptions {
        master,
        server_name,
        token,
        count: args.count as usize,
        prefix: args.prefix,
        start_delay: Duration::from_millis(args.start_delay_ms),
        cpu_millis: 4000,
        memory_bytes: 16 << 30,
        max_pods: 110,
    };
    let system = actix::System::new();
    system.block_on(async move {
        let fleet = start(&o, || {}).await?;
        println!("capstan hollow: {} node(s) started", fleet.nodes.len());
        let mut shutdown = crate::signals::Shutdown::install()?;
        shutdown.recv().await;
        drop(fleet);
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(0)
}
