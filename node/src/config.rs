//! Config files (TOML). One file may describe a whole local cluster: a `[master]` table now,
//! `[[worker]]` tables from step 2. Unknown keys are errors that name the key.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Largest config file read.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// A whole config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// The master's settings.
    pub master: Option<MasterConfig>,
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

    fn check(&self) -> Result<()> {
        self.api_addr()?;
        if self.data_dir.as_os_str().is_empty() {
            bail!("master.data_dir: must not be empty");
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

impl ClusterConfig {
    /// Parses and checks a config text. `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<ClusterConfig> {
        let cfg: ClusterConfig =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        if let Some(m) = &cfg.master {
            m.check().with_context(|| origin.to_string())?;
        }
        Ok(cfg)
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
        if let Some(m) = &mut cfg.master {
            if m.data_dir.is_relative() {
                m.data_dir = std::env::current_dir()?.join(&m.data_dir);
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
