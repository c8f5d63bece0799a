//! A small blocking Kubernetes REST client over HTTPS (ureq + rustls), used by the CLI verbs
//! and by the integration tests. It trusts only the kubeconfig's CA and sends its bearer token.

use crate::kubeconfig::Resolved;
use anyhow::{anyhow, Context, Result};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::Duration;

/// Largest response body read (lists of many objects can be large).
const MAX_RESPONSE: u64 = 512 * 1024 * 1024;

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
    /// `Warning` headers, text only.
    pub warnings: Vec<String>,
}

impl Response {
    /// The body as JSON.
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "server answered {} with a body that is not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The Kubernetes error message (`Error from server (NotFound): pods "x" not found`).
    pub fn error_text(&self) -> String {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(v) if v.get("kind").and_then(Value::as_str) == Some("Status") => {
                let reason = v.get("reason").and_then(Value::as_str).unwrap_or("Unknown");
                let msg = v.get("message").and_then(Value::as_str).unwrap_or_default();
                if self.status == 401 {
                    "error: You must be logged in to the server (Unauthorized)".to_string()
                } else {
                    format!("Error from server ({reason}): {msg}")
                }
            }
            _ => format!(
                "error: the server answered {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            ),
        }
    }
}

/// A client for one cluster.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    /// The base URL.
    pub server: String,
    token: Option<String>,
    /// The default namespace.
    pub namespace: String,
}

impl Client {
    /// A client for a resolved kubeconfig.
    pub fn new(r: &Resolved) -> Result<Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(pem) = &r.ca_pem {
            let mut certs = Vec::new();
            use rustls_pki_types::pem::PemObject;
            for c in rustls_pki_types::CertificateDer::pem_slice_iter(pem) {
                let c = c.map_err(|e| anyhow!("the kubeconfig's CA is not valid PEM: {e}"))?;
                certs.push(ureq::tls::Certificate::from_der(&c).to_owned());
            }
            tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build()
            .into();
        Ok(Client {
            agent,
            server: r.server.clone(),
            token: r.token.clone(),
            namespace: r.namespace.clone(),
        })
    }

    /// A client from the kubeconfig at `path`.
    pub fn from_kubeconfig(path: &std::path::Path) -> Result<Client> {
        Client::new(&crate::kubeconfig::load(path)?)
    }

    fn build(
        &self,
        method: &str,
        path: &str,
        accept: &str,
        content_type: Option<&str>,
    ) -> ureq::http::request::Builder {
        let mut b = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{}", self.server, path))
            .header("Accept", accept)
            .header("User-Agent", concat!("capstan/", env!("CARGO_PKG_VERSION")));
        if let Some(ct) = content_type {
            b = b.header("Content-Type", ct);
        }
        if let Some(t) = &self.token {
            b = b.header("Authorization", format!("Bearer {t}"));
        }
        b
    }

    /// Sends one request and reads the whole answer.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        accept: &str,
    ) -> Result<Response> {
        let builder = self.build(method, path, accept, body.as_ref().map(|b| b.0));
        let result = match body {
            Some((_, bytes)) => self.agent.run(builder.body(bytes)?),
            None => self.agent.run(builder.body(())?),
        };
        let mut resp =
            result.map_err(|e| anyhow!("cannot reach the API server at {}: {e}", self.server))?;
        let status = resp.status().as_u16();
        let warnings = resp
            .headers()
            .get_all("Warning")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(warning_text)
            .collect();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()?;
        Ok(Response {
            status,
            body,
            warnings,
        })
    }

    /// GET as JSON.
    pub fn get(&self, path: &str) -> Result<Response> {
        self.request("GET", path, None, "application/json")
    }

    /// Sends a JSON body.
    pub fn send_json(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &Value,
    ) -> Result<Response> {
        self.request(
            method,
            path,
            Some((content_type, serde_json::to_vec(body)?)),
            "application/json",
        )
    }

    /// Opens a watch (`path` must carry `watch=true`) and calls `on_event` for each event
    /// until it returns false or the stream ends.
    pub fn watch(
        &self,
        path: &str,
        accept: &str,
        mut on_event: impl FnMut(Value) -> bool,
    ) -> Result<()> {
        let builder = self.build("GET", path, accept, None);
        let mut resp = self
            .agent
            .run(builder.body(())?)
            .map_err(|e| anyhow!("cannot reach the API server at {}: {e}", self.server))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let body = resp.body_mut().read_to_vec()?;
            return Err(anyhow!(Response {
                status,
                body,
                warnings: vec![]
            }
            .error_text()));
        }
        let reader = BufReader::new(resp.into_body().into_with_config().limit(u64::MAX).reader());
        for line in reader.lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(&line).context("watch event is not JSON")?;
            if !on_event(v) {
                break;
            }
        }
        Ok(())
    }
}

/// `299 - "unknown field \"x\""` → `unknown field "x"`.
fn warning_text(h: &str) -> String {
    let rest = h.splitn(3, ' ').nth(2).unwrap_or(h).trim();
    match rest.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => rest.to_string(),
    }
}

impl Client {
    /// GETs `path` and hands the body to `on_data` piece by piece as it arrives (a followed
    /// log), until it ends or `on_data` returns false. A non-2xx answer is an error with the
    /// server's message.
    pub fn get_streaming(
        &self,
        path: &str,
        accept: &str,
        mut on_data: impl FnMut(&[u8]) -> bool,
    ) -> Result<()> {
        use std::io::Read;
        let builder = self.build("GET", path, accept, None);
        let mut resp = self
            .agent
            .run(builder.body(())?)
            .map_err(|e| anyhow!("cannot reach the API server at {}: {e}", self.server))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let body = resp
                .body_mut()
                .with_config()
                .limit(MAX_RESPONSE)
                .read_to_vec()?;
            return Err(anyhow!(Response {
                status,
                body,
                warnings: vec![]
            }
            .error_text()));
        }
        let mut reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(anyhow!("reading the answer of {}: {e}", self.server)),
            };
            if !on_data(&buf[..n]) {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn warnings_unquote() {
        assert_eq!(
            super::warning_text(r#"299 - "unknown field \"spec.foo\"""#),
            r#"unknown field "spec.foo""#
        );
    }
}
