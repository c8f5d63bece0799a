//! Config files (TOML). One file may describe a whole local cluster: a `[master]` table now,
//! `[[worker]]` tables from step 2. Unknown keys are errors that name the key.

use anyhow::{bail, Context, Result};
use capstan_actors::nodes::lifecycle::LifecycleConfig;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Largest config file read.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// A whole config file: a master and any number of workers, so one file can describe a whole
/// local cluster.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// The master's settings.
    pub master: Option<MasterConfig>,
    /// `[[worker]]` tables.
    #[serde(default)]
    pub worker: Vec<WorkerConfig>,
}

/// `[[worker]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    /// The node name (DNS-1123 subdomain); also the CN of its client certificate.
    pub name: String,
    /// `host:port` of the master's QUIC listener (`master.node_listen`).
    pub master: String,
    /// The join token (`K10<sha256 of the CA>::<secret>`), or…
    pub token: Option<String>,
    /// …a file holding it (relative paths resolve against the current directory).
    pub token_file: Option<PathBuf>,
    /// Where the worker keeps its certificate and state.
    pub data_dir: PathBuf,
    /// CPU capacity override, a quantity (`2`, `1500m`).
    pub cpu: Option<String>,
    /// Memory capacity override, a quantity (`4Gi`).
    pub memory: Option<String>,
    /// Most pods this node runs (default 110).
    pub max_pods: Option<u32>,
    /// Node labels.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Taints, `key=value:Effect` or `key:Effect`.
    #[serde(default)]
    pub taints: Vec<String>,
    /// Largest frame accepted from the master, in bytes.
    #[serde(default = "default_max_frame")]
    pub max_frame_bytes: usize,
    /// The IP this node (and, sharing the host network, its pods) is reached at; default: the
    /// local address used to reach the master.
    pub address: Option<std::net::IpAddr>,
    /// First CrashLoopBackOff delay, in milliseconds (Kubernetes: 10 s).
    #[serde(default = "default_backoff_initial")]
    pub crash_backoff_initial_ms: u64,
    /// Longest CrashLoopBackOff delay, in milliseconds (Kubernetes: 300 s).
    #[serde(default = "default_backoff_max")]
    pub crash_backoff_max_ms: u64,
    /// A container that ran this long has its backoff reset, in milliseconds (Kubernetes: 10 min).
    #[serde(default = "default_backoff_reset")]
    pub crash_backoff_reset_ms: u64,
    /// A container log is rotated at this size (one rotated file is kept).
    #[serde(default = "default_log_max")]
    pub log_max_bytes: u64,
    /// Confine containers with cgroups (memory, CPU, pids limits) when running as root with a
    /// writable cgroup hierarchy; `false` runs them unconfined.
    #[serde(default = "default_true")]
    pub cgroups: bool,
    /// The pids limit of each container's cgroup.
    #[serde(default = "default_pids_limit")]
    pub pids_limit: u64,
}

fn default_true() -> bool {
    true
}

fn default_pids_limit() -> u64 {
    4096
}

fn default_backoff_initial() -> u64 {
    10_000
}

fn default_backoff_max() -> u64 {
    300_000
}

fn default_backoff_reset() -> u64 {
    600_000
}

fn default_log_max() -> u64 {
    10 * 1024 * 1024
}

/// `[master]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MasterConfig {
    /// Where the store, PKI, token and kubeconfig live. Relative paths resolve against the
    /// current directory.
    pub data_dir: PathBuf,
    /// HTTPS listen address of the Kubernetes API (port 0 picks a free port).
    #[serde(default = "default_api_listen")]
    pub api_listen: String,
    /// Revisions of change history kept for watchers.
    #[serde(default = "default_watch_history")]
    pub watch_history: u64,
    /// Extra names and IPs for the serving certificate.
    #[serde(default)]
    pub tls_sans: Vec<String>,
    /// UDP listen address of the QUIC listener workers join (port 0 picks a free port).
    #[serde(default = "default_node_listen")]
    pub node_listen: String,
    /// How often workers send heartbeats.
    #[serde(default = "default_heartbeat")]
    pub heartbeat_seconds: u64,
    /// A node silent this long gets Ready=Unknown.
    #[serde(default = "default_grace")]
    pub node_grace_seconds: u64,
    /// The most heartbeats a second the master reads: in a cluster larger than this (times
    /// `heartbeat_seconds`) workers heartbeat less often and the grace stretches to match, as
    /// Nomad's `max_heartbeats_per_second`.
    #[serde(default = "default_max_heartbeats")]
    pub max_heartbeats_per_second: u64,
    /// Largest frame accepted from a worker, in bytes.
    #[serde(default = "default_max_frame")]
    pub max_frame_bytes: usize,
    /// How the scheduler scores resource fit: `LeastAllocated` (spread, the default) or
    /// `MostAllocated` (bin-pack).
    #[serde(default = "default_scoring")]
    pub scheduler_scoring: String,
    /// Percentage of nodes to find feasible before scoring (1–100); 0 is adaptive, as
    /// kube-scheduler's percentageOfNodesToScore.
    #[serde(default)]
    pub percentage_of_nodes_to_score: u32,
    /// Run the scheduler (`false`: an API server alone; pods need `spec.nodeName` or an outside
    /// scheduler using the `pods/binding` subresource).
    #[serde(default = "default_scheduler")]
    pub scheduler: bool,
    /// How long pods stay on an unreachable node before they are evicted (unless their own
    /// toleration says otherwise). Kubernetes waits 300 s; Capstan 2.
    #[serde(default = "default_pod_eviction")]
    pub pod_eviction_seconds: i64,
    /// Silent nodes tainted for eviction per second while few nodes are silent (Kubernetes'
    /// `--node-eviction-rate`); the first is tainted at once. 0 never evicts.
    #[serde(default = "default_eviction_rate")]
    pub node_eviction_rate: f64,
    /// The same once at least 55 % of more than 50 nodes are silent (Kubernetes'
    /// `--secondary-node-eviction-rate`). With every node silent nothing is evicted.
    #[serde(default = "default_secondary_eviction_rate")]
    pub secondary_node_eviction_rate: f64,
}

fn default_max_heartbeats() -> u64 {
    LifecycleConfig::default().max_heartbeats_per_second
}

fn default_eviction_rate() -> f64 {
    LifecycleConfig::default().rates.normal
}

fn default_secondary_eviction_rate() -> f64 {
    LifecycleConfig::default().rates.secondary
}

fn default_pod_eviction() -> i64 {
    2
}

fn default_scheduler() -> bool {
    true
}

fn default_scoring() -> String {
    "LeastAllocated".to_string()
}

fn default_node_listen() -> String {
    "127.0.0.1:7443".to_string()
}

fn default_heartbeat() -> u64 {
    LifecycleConfig::default().heartbeat_seconds
}

fn default_max_frame() -> usize {
    capstan_transport::DEFAULT_MAX_FRAME
}

/// The accepted range of `max_frame_bytes`.
const MAX_FRAME_RANGE: std::ops::RangeInclusive<usize> = 64 * 1024..=256 * 1024 * 1024;

fn default_grace() -> u64 {
    LifecycleConfig::default().grace.as_secs()
}

fn default_api_listen() -> String {
    "127.0.0.1:6443".to_string()
}

fn default_watch_history() -> u64 {
    50_000
}

impl MasterConfig {
    /// The parsed listen address; the error names the key.
    pub fn api_addr(&self) -> Result<SocketAddr> {
        self.api_listen.parse().with_context(|| {
            format!(
                "master.api_listen: invalid address {:?} (want host:port)",
                self.api_listen
            )
        })
    }

    /// The parsed QUIC listen address; the error names the key.
    pub fn node_addr(&self) -> Result<SocketAddr> {
        self.node_listen.parse().with_context(|| {
            format!(
                "master.node_listen: invalid address {:?} (want host:port)",
                self.node_listen
            )
        })
    }

    fn check(&self) -> Result<()> {
        self.api_addr()?;
        self.node_addr()?;
        if !(1..=60).contains(&self.heartbeat_seconds) {
            bail!(
                "master.heartbeat_seconds: {} is out of range 1..=60",
                self.heartbeat_seconds
            );
        }
        if self.node_grace_seconds <= self.heartbeat_seconds || self.node_grace_seconds > 3600 {
            bail!(
                "master.node_grace_seconds: {} must be above heartbeat_seconds ({}) and at most 3600",
                self.node_grace_seconds,
                self.heartbeat_seconds
            );
        }
        if self.data_dir.as_os_str().is_empty() {
            bail!("master.data_dir: must not be empty");
        }
        if !MAX_FRAME_RANGE.contains(&self.max_frame_bytes) {
            bail!(
                "master.max_frame_bytes: {} is out of range 65536..=268435456",
                self.max_frame_bytes
            );
        }
        if capstan_core::scheduler::ScoringStrategy::parse(&self.scheduler_scoring).is_none() {
            bail!(
                "master.scheduler_scoring: {:?} is not LeastAllocated or MostAllocated",
                self.scheduler_scoring
            );
        }
        if !(0..=86_400).contains(&self.pod_eviction_seconds) {
            bail!(
                "master.pod_eviction_seconds: {} is out of range 0..=86400",
                self.pod_eviction_seconds
            );
        }
        if !(1..=1_000_000).contains(&self.max_heartbeats_per_second) {
            bail!(
                "master.max_heartbeats_per_second: {} is out of range 1..=1000000",
                self.max_heartbeats_per_second
            );
        }
        for (field, rate) in [
            ("node_eviction_rate", self.node_eviction_rate),
            (
                "secondary_node_eviction_rate",
                self.secondary_node_eviction_rate,
            ),
        ] {
            if !(0.0..=1000.0).contains(&rate) {
                bail!("master.{field}: {rate} is out of range 0..=1000 (nodes a second)");
            }
        }
        if self.percentage_of_nodes_to_score > 100 {
            bail!(
                "master.percentage_of_nodes_to_score: {} is out of range 0..=100",
                self.percentage_of_nodes_to_score
            );
        }
        if !(100..=10_000_000).contains(&self.watch_history) {
            bail!(
                "master.watch_history: {} is out of range 100..=10000000",
                self.watch_history
            );
        }
        for san in &self.tls_sans {
            if san.is_empty() || san.len() > 253 {
                bail!("master.tls_sans: invalid entry {san:?}");
            }
        }
        Ok(())
    }
}

impl WorkerConfig {
    fn check(&self, i: usize) -> Result<()> {
        let at = format!("worker[{i}]");
        if !capstan_core::validation::is_dns1123_subdomain(&self.name).is_empty() {
            bail!(
                "{at}.name: {:?} is not a valid node name (lowercase DNS-1123 subdomain)",
                self.name
            );
        }
        if self.master.is_empty() || !self.master.contains(':') {
            bail!("{at}.master: {:?} must be host:port", self.master);
        }
        match (&self.token, &self.token_file) {
            (Some(_), Some(_)) => bail!("{at}: set token or token_file, not both"),
            (None, None) => bail!("{at}: token or token_file is required"),
            (Some(t), None) if crate::join::JoinToken::parse(t).is_err() => {
                bail!("{at}.token: not a join token (want K10<sha256 hex>::<secret>)")
            }
            _ => {}
        }
        if self.data_dir.as_os_str().is_empty() {
            bail!("{at}.data_dir: must not be empty");
        }
        for (key, q) in [("cpu", &self.cpu), ("memory", &self.memory)] {
            if let Some(q) = q {
                let ok = capstan_core::quantity::parse_quantity(q)
                    .is_ok_and(|p| !p.is_negative() && !p.is_zero());
                if !ok {
                    bail!("{at}.{key}: {q:?} is not a positive quantity");
                }
            }
        }
        if !MAX_FRAME_RANGE.contains(&self.max_frame_bytes) {
            bail!(
                "{at}.max_frame_bytes: {} is out of range 65536..=268435456",
                self.max_frame_bytes
            );
        }
        if self.crash_backoff_initial_ms == 0
            || self.crash_backoff_initial_ms > self.crash_backoff_max_ms
        {
            bail!(
                "{at}.crash_backoff_initial_ms: must be above 0 and at most crash_backoff_max_ms"
            );
        }
        if self.crash_backoff_max_ms > 3_600_000 {
            bail!("{at}.crash_backoff_max_ms: at most 3600000 (one hour)");
        }
        if self.crash_backoff_reset_ms == 0 {
            bail!("{at}.crash_backoff_reset_ms: must be above 0");
        }
        if !(4096..=1024 * 1024 * 1024).contains(&self.log_max_bytes) {
            bail!(
                "{at}.log_max_bytes: {} is out of range 4096..=1073741824",
                self.log_max_bytes
            );
        }
        if !(16..=4_194_304).contains(&self.pids_limit) {
            bail!(
                "{at}.pids_limit: {} is out of range 16..=4194304",
                self.pids_limit
            );
        }
        if self.max_pods.is_some_and(|p| p == 0 || p > 10_000) {
            bail!("{at}.max_pods: must be 1..=10000");
        }
        for t in &self.taints {
            crate::nodeinfo::parse_taint(t).with_context(|| format!("{at}.taints"))?;
        }
        Ok(())
    }

    /// The join token, read from `token` or `token_file`.
    pub fn read_token(&self) -> Result<String> {
        match (&self.token, &self.token_file) {
            (Some(t), _) => Ok(t.trim().to_string()),
            (None, Some(f)) => {
                let meta = std::fs::metadata(f)
                    .with_context(|| format!("reading token_file {}", f.display()))?;
                if meta.len() > 4096 {
                    bail!("token_file {} is larger than 4 KiB", f.display());
                }
                Ok(std::fs::read_to_string(f)?.trim().to_string())
            }
            (None, None) => bail!("token or token_file is required"),
        }
    }
}

impl ClusterConfig {
    /// Parses and checks a config text. `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<ClusterConfig> {
        let cfg: ClusterConfig =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        if let Some(m) = &cfg.master {
            m.check().with_context(|| origin.to_string())?;
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, w) in cfg.worker.iter().enumerate() {
            w.check(i).with_context(|| origin.to_string())?;
            if !names.insert(w.name.clone()) {
                bail!(
                    "{origin}: worker[{i}].name: duplicate node name {:?}",
                    w.name
                );
            }
        }
        Ok(cfg)
    }

    /// The `[[worker]]` named `name`, or the only one.
    pub fn worker(&self, name: Option<&str>) -> Result<&WorkerConfig> {
        match name {
            Some(n) => self
                .worker
                .iter()
                .find(|w| w.name == n)
                .ok_or_else(|| anyhow::anyhow!("no [[worker]] named {n:?}")),
            None if self.worker.len() == 1 => Ok(&self.worker[0]),
            None if self.worker.is_empty() => bail!("no [[worker]] table"),
            None => bail!(
                "{} [[worker]] tables: pick one with --name",
                self.worker.len()
            ),
        }
    }

    /// Reads, size-checks and parses a config file; relative data_dirs resolve against the
    /// current directory.
    pub fn load(path: &Path) -> Result<ClusterConfig> {
        let meta = std::fs::metadata(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        if meta.len() > MAX_CONFIG_BYTES {
            bail!(
                "{}: config file is {} bytes, over the {MAX_CONFIG_BYTES} byte limit",
                path.display(),
                meta.len()
            );
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let mut cfg = ClusterConfig::parse(&text, &path.display().to_string())?;
        let cwd = std::env::current_dir()?;
        if let Some(m) = &mut cfg.master {
            if m.data_dir.is_relative() {
                m.data_dir = cwd.join(&m.data_dir);
            }
        }
        for w in &mut cfg.worker {
            if w.data_dir.is_relative() {
                w.data_dir = cwd.join(&w.data_dir);
            }
            if let Some(f) = &mut w.token_file {
                if f.is_relative() {
                    *f = cwd.join(&*f);
                }
            }
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors_name_the_key() {
        let cfg = ClusterConfig::parse("[master]\ndata_dir = \"x\"\n", "t.toml").expect("valid");
        let m = cfg.master.expect("master table");
        assert_eq!(m.api_listen, "127.0.0.1:6443");
        let cases = [
            ("[master]\ndata_dir = \"x\"\nbogus = 1\n", "bogus"),
            (
                "[master]\ndata_dir = \"x\"\napi_listen = \"nope\"\n",
                "master.api_listen",
            ),
            ("[mastr]\n", "mastr"),
            ("[master]\n", "data_dir"),
            (
                "[master]\ndata_dir = \"x\"\nwatch_history = 1\n",
                "master.watch_history",
            ),
            ("[master]\ndata_dir = \"x\"\nmax_frame_bytes = 10\n", "master.max_frame_bytes"),
            ("[master]\ndata_dir = \"x\"\nnode_grace_seconds = 1\n", "master.node_grace_seconds"),
            ("[[worker]]\nname = \"Bad\"\nmaster = \"h:1\"\ntoken_file = \"t\"\ndata_dir = \"w\"\n", "worker[0].name"),
            ("[[worker]]\nname = \"w\"\nmaster = \"h:1\"\ndata_dir = \"w\"\n", "token or token_file"),
            ("[[worker]]\nname = \"w\"\nmaster = \"h:1\"\ntoken = \"nope\"\ndata_dir = \"w\"\n", "worker[0].token"),
            ("[[worker]]\nname = \"w\"\nmaster = \"h:1\"\ntoken_file = \"t\"\ndata_dir = \"w\"\ncpu = \"lots\"\n", "worker[0].cpu"),
            ("[[worker]]\nname = \"w\"\nmaster = \"h:1\"\ntoken_file = \"t\"\ndata_dir = \"w\"\ntaints = [\"x\"]\n", "worker[0].taints"),
            ("[[worker]]\nname = \"w\"\nmaster = \"h:1\"\ntoken_file = \"t\"\ndata_dir = \"w\"\ncolour = 1\n", "colour"),
        ];
        for (text, want) in cases {
            let err = format!("{:#}", ClusterConfig::parse(text, "t.toml").unwrap_err());
            assert!(
                err.contains(want),
                "error for {text:?} should name {want}: {err}"
            );
        }
    }
}
