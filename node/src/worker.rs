//! `capstan worker`: a node. On first start it joins with the token (pinning the master's CA
//! by the token's hash, proving the secret, receiving a certificate for its node name) and keeps
//! the certificate in its data_dir; from then on it speaks mutual TLS. The NodeAgent actor does
//! the rest. A worker started before its master keeps retrying with backoff; SIGTERM/SIGINT stop
//! it cleanly.

use crate::config::WorkerConfig;
use crate::join::JoinToken;
use crate::nodeinfo;
use crate::pki::write_private;
use actix::Actor;
use anyhow::{anyhow, bail, Context, Result};
use capstan_actors::protocol::{channel, Hello, JoinRequest, JoinResponse, WireTaint};
use capstan_actors::worker::agent::{AgentConfig, NodeAgent, StopAllPods};
use capstan_actors::worker::pod::PodSettings;
use capstan_actors::worker::runtime::{ProcessRuntime, ProcessRuntimeConfig};
use capstan_core::pod_lifecycle::BackoffPolicy;
use capstan_transport::{Backoff, Client, Identity, PinnedCa, TransportConfig, TransportError};
use rcgen::{KeyPair, PublicKeyData};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The shim command: this very binary, `capstan shim DIR`.
fn shim_command() -> Result<Vec<std::ffi::OsString>> {
    let exe = std::env::current_exe().context("locating the capstan binary for the shim")?;
    Ok(vec![exe.into_os_string(), "shim".into()])
}

/// The longest a stopping worker waits for its pods to stop.
const STOP_PODS_WITHIN: u64 = 60;

/// The worker's credential files.
struct Credentials<'a> {
    dir: &'a Path,
}

impl Credentials<'_> {
    fn cert(&self) -> std::path::PathBuf {
        self.dir.join("node.crt")
    }
    fn key(&self) -> std::path::PathBuf {
        self.dir.join("node.key")
    }
    fn ca(&self) -> std::path::PathBuf {
        self.dir.join("ca.crt")
    }

    /// The stored identity and CA, if the worker has joined before.
    fn load(&self) -> Result<Option<(Identity, CertificateDer<'static>)>> {
        if !(self.cert().exists() && self.key().exists() && self.ca().exists()) {
            return Ok(None);
        }
        let cert = CertificateDer::from_pem_file(self.cert()).context("reading node.crt")?;
        let key = PrivateKeyDer::from_pem_file(self.key()).context("reading node.key")?;
        let ca = CertificateDer::from_pem_file(self.ca()).context("reading ca.crt")?;
        Ok(Some((
            Identity {
                cert_chain: vec![cert],
                key,
            },
            ca,
        )))
    }

    fn save(&self, cert_pem: &str, key_pem: &str, ca_pem: &str) -> Result<()> {
        write_private(&self.key(), key_pem.as_bytes())?;
        write_private(&self.cert(), cert_pem.as_bytes())?;
        write_private(&self.ca(), ca_pem.as_bytes())
    }
}

/// Resolves `host:port`; the host is also the name the master's certificate must carry.
pub fn resolve_master(master: &str) -> Result<(SocketAddr, String)> {
    let (host, _) = master
        .rsplit_once(':')
        .ok_or_else(|| anyhow!("master: {master:?} must be host:port"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let addr = master
        .to_socket_addrs()
        .with_context(|| format!("master: cannot resolve {master:?}"))?
        .next()
        .ok_or_else(|| anyhow!("master: {master:?} resolves to no address"))?;
    Ok((addr, host))
}

fn hello(cfg: &WorkerConfig) -> Result<Hello> {
    let cpu_millis = match &cfg.cpu {
        Some(q) => capstan_core::quantity::parse_quantity(q)
            .map_err(|e| anyhow!("cpu: {e}"))?
            .milli_value(),
        None => nodeinfo::cpu_millis(),
    };
    let memory_bytes = match &cfg.memory {
        Some(q) => capstan_core::quantity::parse_quantity(q)
            .map_err(|e| anyhow!("memory: {e}"))?
            .value(),
        None => nodeinfo::memory_bytes(),
    };
    let mut taints = Vec::new();
    for t in &cfg.taints {
        let (key, value, effect) = nodeinfo::parse_taint(t)?;
        taints.push(WireTaint { key, value, effect });
    }
    let boot: [u8; 8] = rand::random();
    Ok(Hello {
        cpu_millis,
        memory_bytes,
        max_pods: cfg.max_pods.unwrap_or(110),
        labels: cfg
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        taints,
        hostname: crate::pki::hostname().unwrap_or_else(|| cfg.name.clone()),
        internal_ip: String::new(),
        kernel_version: nodeinfo::kernel_version(),
        os_image: nodeinfo::os_image(),
        architecture: nodeinfo::architecture().to_string(),
        machine_id: nodeinfo::machine_id(),
        worker_version: env!("CARGO_PKG_VERSION").to_string(),
        boot_id: boot.iter().map(|b| format!("{b:02x}")).collect(),
        resume_from: 0,
    })
}

/// The local IP this machine uses to reach `master` (no packet is sent: a connected UDP
/// socket only picks a route).
fn local_ip_towards(master: SocketAddr) -> Option<std::net::IpAddr> {
    let bind: SocketAddr = if master.is_ipv4() {
        "0.0.0.0:0".parse().ok()?
    } else {
        "[::]:0".parse().ok()?
    };
    let s = std::net::UdpSocket::bind(bind).ok()?;
    s.connect(master).ok()?;
    Some(s.local_addr().ok()?.ip())
}

/// What joining gives a node: its certificate and key, and the cluster CA (all PEM).
pub struct Joined {
    /// The node's client certificate.
    pub cert_pem: String,
    /// Its private key (generated here; it never leaves the node).
    pub key_pem: String,
    /// The cluster CA.
    pub ca_pem: String,
}

impl Joined {
    /// The identity and CA these credentials give, for mutual TLS.
    pub fn identity(&self) -> Result<(Identity, CertificateDer<'static>)> {
        let cert = CertificateDer::from_pem_slice(self.cert_pem.as_bytes())
            .context("the node certificate is not PEM")?;
        let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .context("the node key is not PEM")?;
        let ca =
            CertificateDer::from_pem_slice(self.ca_pem.as_bytes()).context("the CA is not PEM")?;
        Ok((
            Identity {
                cert_chain: vec![cert],
                key,
            },
            ca,
        ))
    }
}

/// First contact: pin the CA by the token's hash, prove the secret, get a certificate.
async fn join(
    cfg: &WorkerConfig,
    token: &JoinToken,
    addr: SocketAddr,
    server_name: &str,
) -> Result<()> {
    let joined = join_as(&cfg.name, token, addr, server_name, cfg.max_frame_bytes).await?;
    Credentials { dir: &cfg.data_dir }.save(&joined.cert_pem, &joined.key_pem, &joined.ca_pem)?;
    tracing::info!(node = %cfg.name, "joined the cluster; certificate stored");
    Ok(())
}

/// Joins as node `name` with `token` (the token flow of every worker; hollow nodes use it too)
/// and returns the credentials.
pub async fn join_as(
    name: &str,
    token: &JoinToken,
    addr: SocketAddr,
    server_name: &str,
    max_frame: usize,
) -> Result<Joined> {
    let pin = PinnedCa::new(&token.ca_hash);
    let client = Client::new(
        capstan_transport::pinned_client_crypto(&pin)?,
        TransportConfig {
            max_frame,
            ..TransportConfig::default()
        },
    )?;
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    let conn = capstan_transport::connect_with_backoff(&client, addr, server_name, &mut backoff, |e| {
        matches!(e, TransportError::ServerUntrusted(_) | TransportError::CertificateRejected(_))
    })
    .await
    .map_err(|e| match e {
        TransportError::ServerUntrusted(d) => anyhow!(
            "the master's CA does not match the token's CA hash (sha256 {}): refusing to join ({d})",
            token.ca_hash
        ),
        other => anyhow!("cannot reach the master at {addr}: {other}"),
    })?;
    let key = KeyPair::generate()?;
    let req = JoinRequest {
        node_name: name.to_string(),
        secret: token.secret.clone(),
        public_key_der: key.subject_public_key_info(),
    };
    let resp: JoinResponse = conn
        .request(channel::JOIN, &req)
        .await
        .map_err(|e| anyhow!("join request failed: {e}"))?;
    conn.close(0, "joined");
    match resp {
        JoinResponse::Accepted { cert_pem, ca_pem } => {
            let ca = CertificateDer::from_pem_slice(ca_pem.as_bytes())
                .context("the master sent an invalid CA")?;
            if capstan_transport::sha256_hex(&ca) != token.ca_hash {
                bail!("the master sent a CA that does not match the token's CA hash; refusing it");
            }
            Ok(Joined {
                cert_pem,
                key_pem: key.serialize_pem(),
                ca_pem,
            })
        }
        JoinResponse::Refused { reason } => bail!("join refused by the master: {reason}"),
    }
}

/// Runs a worker until a shutdown signal. Returns the process exit code.
pub fn run(cfg: WorkerConfig) -> Result<i32> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating data_dir {}", cfg.data_dir.display()))?;
    let (addr, server_name) = resolve_master(&cfg.master)?;
    let mut hello = hello(&cfg)?;
    let host_ip = cfg
        .address
        .or_else(|| local_ip_towards(addr))
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "127.0.0.1".into());
    hello.internal_ip = host_ip.clone();
    let settings = PodSettings {
        node_name: cfg.name.clone(),
        host_ip,
        log_root: cfg.data_dir.join("pods"),
        log_max_bytes: cfg.log_max_bytes,
        backoff: BackoffPolicy {
            initial_ms: cfg.crash_backoff_initial_ms,
            cap_ms: cfg.crash_backoff_max_ms,
            reset_after_ms: cfg.crash_backoff_reset_ms,
        },
    };
    let system = actix::System::new();
    system.block_on(async {
        let creds = Credentials { dir: &cfg.data_dir };
        if creds.load()?.is_none() {
            let token = JoinToken::parse(&cfg.read_token()?).map_err(|e| anyhow!("token: {e}"))?;
            join(&cfg, &token, addr, &server_name).await?;
        }
        let (identity, ca) = creds
            .load()?
            .ok_or_else(|| anyhow!("credentials missing after join"))?;
        let client = Client::new(
            capstan_transport::client_crypto(&ca, Some(identity))?,
            TransportConfig {
                max_frame: cfg.max_frame_bytes,
                ..TransportConfig::default()
            },
        )?;
        let agent_cfg = AgentConfig {
            node_name: cfg.name.clone(),
            master: addr,
            server_name: server_name.clone(),
            hello,
        };
        let runtime = ProcessRuntime::new(ProcessRuntimeConfig {
            state_dir: cfg.data_dir.join("containers"),
            shim: shim_command()?,
            cgroups: cfg.cgroups,
            pids_limit: cfg.pids_limit,
            cgroup_name: cfg.name.clone(),
        });
        if let Some(reason) = runtime.cgroups().off_reason() {
            tracing::warn!(
                reason,
                "cgroups unavailable: containers run WITHOUT memory, CPU or pids limits and OOM kills are not reported"
            );
            eprintln!("warning: cgroups unavailable ({reason}): containers run without resource limits");
        }
        let agent = NodeAgent::new(agent_cfg, client, Arc::new(runtime), settings).start();
        let mut shutdown =
            crate::signals::Shutdown::install().context("installing signal handlers")?;
        actix::spawn(async move {
            shutdown.recv().await;
            tracing::info!("worker stopping: stopping its pods");
            // Pods stop gracefully (their terminationGracePeriodSeconds), then the worker exits:
            // no process is left behind without a supervisor.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(STOP_PODS_WITHIN);
            while let Ok(left) = agent.send(StopAllPods).await {
                if left == 0 || tokio::time::Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            actix::System::current().stop();
        });
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(system.run_with_code()?)
}
