//! `capstan master`: the control plane process. Opens the store, prepares the PKI, token and
//! kubeconfig, and serves the Kubernetes API over HTTPS until SIGTERM/SIGINT.

use crate::api::{self, ApiState};
use crate::config::MasterConfig;
use crate::{join, kubeconfig, pki};
use actix::Actor;
use actix_web::{middleware, web, App, HttpServer};
use anyhow::{Context, Result};
use capstan_actors::controllers::deployment::DeploymentController;
use capstan_actors::controllers::gc::GarbageCollector;
use capstan_actors::controllers::replicaset::ReplicaSetController;
use capstan_actors::controllers::taint_eviction::TaintEviction;
use capstan_actors::controllers::ControllerActor;
use capstan_actors::nodes::gateway::{JoinAuthority, NodeGateway};
use capstan_actors::nodes::lifecycle::{LifecycleConfig, Liveness};
use capstan_actors::nodes::metrics::MetricsRegistry;
use capstan_actors::scheduler::{SchedulerActor, SchedulerConfig};
use capstan_actors::store::Store;
use capstan_core::node_eviction::EvictionRates;
use capstan_transport::{Identity, ResetKey, Server, TransportConfig};
use rustls_pki_types::CertificateDer;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

/// Watchers may fall this many events behind before they are cut off.
const WATCH_BUFFER: usize = 65_536;

/// What the node plane's thread needs to start.
struct NodePlane {
    store: capstan_actors::store::StoreHandle,
    addr: SocketAddr,
    listen: String,
    crypto: rustls::ServerConfig,
    transport: TransportConfig,
    lifecycle: LifecycleConfig,
    authority: Arc<MasterAuthority>,
    metrics: MetricsRegistry,
}

impl NodePlane {
    /// Binds the QUIC endpoint and starts the lifecycle and the gateway on the current
    /// arbiter; returns the gateway and the bound address.
    fn start(self) -> Result<(actix::Addr<NodeGateway>, SocketAddr)> {
        let server = Server::bind(self.addr, self.crypto, self.transport)
            .with_context(|| format!("binding master.node_listen {}", self.listen))?;
        let node_addr = server.local_addr();
        let liveness = Liveness::start(self.store.clone(), self.lifecycle);
        let gateway = NodeGateway::new(server, self.store, liveness, self.authority)
            .with_metrics(self.metrics)
            .start();
        Ok((gateway, node_addr))
    }
}

/// Files under a master's data_dir.
pub struct MasterPaths {
    /// The redb database.
    pub database: std::path::PathBuf,
    /// The admin bearer token.
    pub admin_token: std::path::PathBuf,
    /// The admin kubeconfig.
    pub kubeconfig: std::path::PathBuf,
    /// The join token workers present.
    pub node_token: std::path::PathBuf,
}

impl MasterPaths {
    /// The layout under `data_dir`.
    pub fn new(data_dir: &std::path::Path) -> MasterPaths {
        MasterPaths {
            database: data_dir.join("state.redb"),
            admin_token: data_dir.join("admin-token"),
            kubeconfig: data_dir.join("kubeconfig.yaml"),
            node_token: data_dir.join("node-token"),
        }
    }
}

/// The host part of the URL clients use for a listen address.
fn client_host(addr: &SocketAddr) -> IpAddr {
    if addr.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        addr.ip()
    }
}

/// Joins workers: checks the token secret, issues node certificates from the cluster CA.
struct MasterAuthority {
    token: join::JoinToken,
    ca: Arc<pki::ClusterCa>,
}

impl JoinAuthority for MasterAuthority {
    fn secret_matches(&self, secret: &str) -> bool {
        self.token.secret_matches(secret)
    }

    fn issue(&self, node: &str, spki_der: &[u8]) -> Result<(String, String), String> {
        let cert = self
            .ca
            .issue_node_client(node, spki_der)
            .map_err(|e| format!("{e:#}"))?;
        Ok((cert, self.ca.cert_pem.clone()))
    }
}

/// Runs the master until a shutdown signal.
pub fn run(cfg: MasterConfig) -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating data_dir {}", cfg.data_dir.display()))?;
    let paths = MasterPaths::new(&cfg.data_dir);
    let ca = Arc::new(pki::ClusterCa::load_or_create(&pki::pki_dir(
        &cfg.data_dir,
    ))?);
    let token = pki::load_or_create_token(&paths.admin_token)?;
    let node_token = join::load_or_create(&paths.node_token, &ca.cert_der)?;

    let listener = TcpListener::bind(cfg.api_addr()?)
        .with_context(|| format!("binding master.api_listen {}", cfg.api_listen))?;
    let local = listener.local_addr()?;
    let host = client_host(&local);
    let mut sans = vec![
        "127.0.0.1".to_string(),
        "::1".to_string(),
        "localhost".to_string(),
        host.to_string(),
    ];
    sans.extend(pki::hostname());
    sans.extend(cfg.tls_sans.iter().cloned());
    sans.sort();
    sans.dedup();
    let serving = ca.issue_server(&sans)?;
    let ca_der = CertificateDer::from(ca.cert_der.clone());
    // Workers see the CA at the end of the chain, so a joining worker can pin it by hash.
    let node_identity = Identity {
        cert_chain: vec![serving.cert_der.clone(), ca_der.clone()],
        key: serving.key.clone_key(),
    };
    let node_crypto = capstan_transport::server_crypto(node_identity, &ca_der)
        .context("building the node listener's TLS config")?;
    let tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![serving.cert_der.clone()], serving.key)
        .context("building the API server's TLS config")?;

    let server_address = SocketAddr::new(host, local.port()).to_string();
    let url = format!("https://{server_address}");
    kubeconfig::write(
        &paths.kubeconfig,
        &kubeconfig::admin(&url, &ca.cert_pem, &token),
    )?;

    // The QUIC I/O thread carries every heartbeat: it runs ahead of bulk work where allowed.
    capstan_transport::on_io_thread_start(capstan_actors::priority::raise_current_thread);
    let system = actix::System::new();
    system.block_on(async move {
        let store = Store::start(&paths.database, cfg.watch_history, WATCH_BUFFER)
            .with_context(|| format!("opening the store at {}", paths.database.display()))?;
        // The node plane — the QUIC endpoint, the node sessions, the pod router and the node
        // lifecycle — runs on a thread of its own: heartbeats are read and counted there, so a
        // busy controller or store on this thread cannot make live nodes look dead.
        let node_plane = actix::Arbiter::new();
        let (plane_tx, plane_rx) = tokio::sync::oneshot::channel();
        let plane = NodePlane {
            store: store.clone(),
            addr: cfg.node_addr()?,
            listen: cfg.node_listen.clone(),
            crypto: node_crypto,
            transport: TransportConfig {
                max_frame: cfg.max_frame_bytes,
                // No pings from the master: each worker's heartbeats (every
                // heartbeat_seconds) keep its connection alive, and pinging thousands of
                // workers would double the packets the master must read (each ping is
                // acknowledged).
                keep_alive: Duration::ZERO,
                // Stable across restarts: after a crash, workers learn from the new master's
                // first reply that their old connection is gone, and reconnect at once.
                stateless_reset_key: Some(ResetKey(ca.derive_secret("quic stateless reset"))),
                ..TransportConfig::default()
            },
            lifecycle: LifecycleConfig {
                grace: Duration::from_secs(cfg.node_grace_seconds),
                heartbeat_seconds: cfg.heartbeat_seconds,
                max_heartbeats_per_second: cfg.max_heartbeats_per_second,
                rates: EvictionRates {
                    normal: cfg.node_eviction_rate,
                    secondary: cfg.secondary_node_eviction_rate,
                },
            },
            authority: Arc::new(MasterAuthority { token: node_token, ca: ca.clone() }),
            // The usage workers report, in memory only: sessions write it, the metrics API
            // reads it.
            metrics: MetricsRegistry::new(),
        };
        let metrics = plane.metrics.clone();
        node_plane.spawn(async move {
            let _ = plane_tx.send(plane.start());
        });
        let (gateway, node_addr) = plane_rx
            .await
            .context("the node plane's thread ended")??;
        let scheduler = cfg.scheduler.then(|| {
            SchedulerActor::new(
            store.clone(),
            SchedulerConfig {
                engine: capstan_core::scheduler::Config {
                    strategy: capstan_core::scheduler::ScoringStrategy::parse(&cfg.scheduler_scoring)
                        .unwrap_or_default(),
                    percentage_of_nodes_to_score: (cfg.percentage_of_nodes_to_score > 0)
                        .then_some(cfg.percentage_of_nodes_to_score),
                    seed: rand::random(),
                },
                ..SchedulerConfig::default()
            },
        )
        .start()
        });
        // Controllers: each an actor with its own informer cache.
        ControllerActor::new(ReplicaSetController, store.clone()).start();
        ControllerActor::new(DeploymentController, store.clone()).start();
        actix::spawn(capstan_actors::controllers::event_ttl::run(
            store.clone(),
            Duration::from_secs(3600),
        ));
        ControllerActor::new(GarbageCollector::new(store.db.clone()), store.clone()).start();
        ControllerActor::new(
            TaintEviction { pod_eviction_seconds: cfg.pod_eviction_seconds },
            store.clone(),
        )
        .start();
        let panel = crate::panel::Panel::new(&token);
        panel.history.start(store.clone(), metrics.clone());
        let state = web::Data::new(ApiState { store, token, server_address, gateway, metrics, scheduler, panel });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(middleware::from_fn(api::authenticate))
                .configure(api::routes)
        })
        .disable_signals()
        .listen_rustls_0_23(listener, tls)?
        .shutdown_timeout(5)
        .run();
        let mut shutdown = crate::signals::Shutdown::install().context("installing signal handlers")?;
        let handle = server.handle();
        actix::spawn(async move {
            shutdown.recv().await;
            tracing::info!("shutdown signal: stopping");
            handle.stop(true).await;
        });
        tracing::info!(%url, kubeconfig = %paths.kubeconfig.display(), nodes = %node_addr, "master ready");
        // Tests and `capstan up` wait for this line.
        println!(
            "capstan master ready: api={url} kubeconfig={} nodes={node_addr} node-token={}",
            paths.kubeconfig.display(),
            paths.node_token.display()
        );
        server.await.context("API server")?;
        tracing::info!("master stopped");
        Ok::<(), anyhow::Error>(())
    })
}
