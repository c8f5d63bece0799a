//! `capstan master`: the control plane process. Opens the store, prepares the PKI, token and
//! kubeconfig, and serves the Kubernetes API over HTTPS until SIGTERM/SIGINT.

use crate::api::{self, ApiState};
use crate::config::MasterConfig;
use crate::{kubeconfig, pki};
use actix_web::{middleware, web, App, HttpServer};
use anyhow::{Context, Result};
use capstan_actors::store::Store;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};

/// Watchers may fall this many events behind before they are cut off.
const WATCH_BUFFER: usize = 65_536;

/// Files under a master's data_dir.
pub struct MasterPaths {
    /// The redb database.
    pub database: std::path::PathBuf,
    /// The admin bearer token.
    pub admin_token: std::path::PathBuf,
    /// The admin kubeconfig.
    pub kubeconfig: std::path::PathBuf,
}

impl MasterPaths {
    /// The layout under `data_dir`.
    pub fn new(data_dir: &std::path::Path) -> MasterPaths {
        MasterPaths {
            database: data_dir.join("state.redb"),
            admin_token: data_dir.join("admin-token"),
            kubeconfig: data_dir.join("kubeconfig.yaml"),
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

/// Runs the master until a shutdown signal.
pub fn run(cfg: MasterConfig) -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating data_dir {}", cfg.data_dir.display()))?;
    let paths = MasterPaths::new(&cfg.data_dir);
    let ca = pki::ClusterCa::load_or_create(&pki::pki_dir(&cfg.data_dir))?;
    let token = pki::load_or_create_token(&paths.admin_token)?;

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

    let system = actix::System::new();
    system.block_on(async move {
        let store = Store::start(&paths.database, cfg.watch_history, WATCH_BUFFER)
            .with_context(|| format!("opening the store at {}", paths.database.display()))?;
        let state = web::Data::new(ApiState {
            store,
            token,
            server_address,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(middleware::from_fn(api::authenticate))
                .configure(api::routes)
        })
        .listen_rustls_0_23(listener, tls)?
        .shutdown_timeout(5)
        .run();
        tracing::info!(%url, kubeconfig = %paths.kubeconfig.display(), "master ready");
        // Tests and `capstan up` wait for this line.
        println!(
            "capstan master ready: api={url} kubeconfig={}",
            paths.kubeconfig.display()
        );
        server.await.context("API server")?;
        tracing::info!("master stopped");
        Ok::<(), anyhow::Error>(())
    })
}
