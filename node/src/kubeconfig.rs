//! kubeconfig files: the master writes one for the admin; the CLI reads any (the subset that
//! token- and CA-based clusters use), resolved from `--kubeconfig`, `$KUBECONFIG`,
//! `./.capstan/kubeconfig.yaml`, then `~/.kube/config`.

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A kubeconfig document (the parts Capstan reads and writes).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct KubeConfig {
    /// `v1`
    #[serde(default, rename = "apiVersion")]
    pub api_version: String,
    /// `Config`
    #[serde(default)]
    pub kind: String,
    /// Named clusters.
    #[serde(default)]
    pub clusters: Vec<NamedCluster>,
    /// Named users.
    #[serde(default)]
    pub users: Vec<NamedUser>,
    /// Named contexts.
    #[serde(default)]
    pub contexts: Vec<NamedContext>,
    /// The context in use.
    #[serde(default)]
    pub current_context: String,
}

/// `clusters[]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NamedCluster {
    /// Its name.
    pub name: String,
    /// Its settings.
    pub cluster: Cluster,
}

/// `clusters[].cluster`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cluster {
    /// `https://127.0.0.1:6443`
    pub server: String,
    /// Base64 PEM of the CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority_data: Option<String>,
    /// Path of the CA PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<String>,
}

/// `users[]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NamedUser {
    /// Its name.
    pub name: String,
    /// Its credentials.
    #[serde(default)]
    pub user: User,
}

/// `users[].user`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct User {
    /// Bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// File holding the bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
}

/// `contexts[]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NamedContext {
    /// Its name.
    pub name: String,
    /// Which cluster and user.
    pub context: Context_,
}

/// `contexts[].context`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Context_ {
    /// Cluster name.
    pub cluster: String,
    /// User name.
    #[serde(default)]
    pub user: String,
    /// Default namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// What a client needs to talk to a cluster.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Base URL, no trailing slash.
    pub server: String,
    /// CA certificate PEM, if any.
    pub ca_pem: Option<Vec<u8>>,
    /// Bearer token, if any.
    pub token: Option<String>,
    /// Default namespace.
    pub namespace: String,
}

/// Builds the admin kubeconfig the master writes.
pub fn admin(server: &str, ca_pem: &str, token: &str) -> KubeConfig {
    let b64 = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    KubeConfig {
        api_version: "v1".into(),
        kind: "Config".into(),
        clusters: vec![NamedCluster {
            name: "capstan".into(),
            cluster: Cluster {
                server: server.into(),
                certificate_authority_data: Some(b64),
                certificate_authority: None,
            },
        }],
        users: vec![NamedUser {
            name: "capstan-admin".into(),
            user: User {
                token: Some(token.into()),
                token_file: None,
            },
        }],
        contexts: vec![NamedContext {
            name: "capstan".into(),
            context: Context_ {
                cluster: "capstan".into(),
                user: "capstan-admin".into(),
                namespace: Some("default".into()),
            },
        }],
        current_context: "capstan".into(),
    }
}

/// Writes `cfg` to `path` with mode 0600.
pub fn write(path: &Path, cfg: &KubeConfig) -> Result<()> {
    let text = yaml_serde::to_string(cfg)?;
    crate::pki::write_private(path, text.as_bytes())
}

/// The kubeconfig path to use: the flag, `$KUBECONFIG` (first entry), `./.capstan/kubeconfig.yaml`
/// if it exists, else `~/.kube/config`.
pub fn locate(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(env) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        if let Some(first) = std::env::split_paths(&env).next() {
            return first;
        }
    }
    let local = PathBuf::from(".capstan/kubeconfig.yaml");
    if local.exists() {
        return local;
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".kube/config")
}

/// Reads and resolves the current context of the kubeconfig at `path`.
pub fn load(path: &Path) -> Result<Resolved> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("reading kubeconfig {}", path.display()))?;
    if meta.len() > 4 * 1024 * 1024 {
        bail!("kubeconfig {} is larger than 4 MiB", path.display());
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading kubeconfig {}", path.display()))?;
    let cfg: KubeConfig = yaml_serde::from_str(&text)
        .with_context(|| format!("parsing kubeconfig {}", path.display()))?;
    let ctx = cfg
        .contexts
        .iter()
        .find(|c| c.name == cfg.current_context)
        .ok_or_else(|| {
            anyhow!(
                "kubeconfig {}: current-context {:?} not found",
                path.display(),
                cfg.current_context
            )
        })?;
    let cluster = cfg
        .clusters
        .iter()
        .find(|c| c.name == ctx.context.cluster)
        .ok_or_else(|| {
            anyhow!(
                "kubeconfig {}: cluster {:?} not found",
                path.display(),
                ctx.context.cluster
            )
        })?;
    let user = cfg.users.iter().find(|u| u.name == ctx.context.user);
    let base = path.parent().unwrap_or(Path::new("."));
    let ca_pem = match (
        &cluster.cluster.certificate_authority_data,
        &cluster.cluster.certificate_authority,
    ) {
        (Some(d), _) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(d.trim())
                .context("clusters[].cluster.certificate-authority-data is not base64")?,
        ),
        (None, Some(f)) => {
            Some(std::fs::read(base.join(f)).with_context(|| format!("reading CA file {f}"))?)
        }
        _ => None,
    };
    let token = match user.map(|u| &u.user) {
        Some(User { token: Some(t), .. }) => Some(t.clone()),
        Some(User {
            token_file: Some(f),
            ..
        }) => Some(
            std::fs::read_to_string(base.join(f))
                .with_context(|| format!("reading token file {f}"))?
                .trim()
                .to_string(),
        ),
        _ => None,
    };
    Ok(Resolved {
        server: cluster.cluster.server.trim_end_matches('/').to_string(),
        ca_pem,
        token,
        namespace: ctx
            .context
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_kubeconfig_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("kubeconfig.yaml");
        write(&p, &admin("https://127.0.0.1:1234", "PEM", "tok")).expect("write");
        let r = load(&p).expect("load");
        assert_eq!(r.server, "https://127.0.0.1:1234");
        assert_eq!(r.ca_pem.as_deref(), Some(&b"PEM"[..]));
        assert_eq!(r.token.as_deref(), Some("tok"));
        assert_eq!(r.namespace, "default");
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(text.contains("certificate-authority-data"), "{text}");
        assert!(text.contains("current-context: capstan"), "{text}");
    }
}
