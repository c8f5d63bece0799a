//! `capstan version`: the client's version and, when a cluster answers, the server's.

use super::output::{to_json, to_yaml};
use super::util::{connect, out, outln, report, Reported, VerbResult};
use serde_json::{json, Value};
use std::path::Path;

/// `capstan version` flags.
#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    /// Only print the client version (no cluster needed).
    #[arg(long)]
    pub client: bool,
    /// Output format.
    #[arg(short = 'o', long, value_parser = ["yaml", "json"])]
    pub output: Option<String>,
}

/// `v0.1.0`
pub fn client_version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

fn server_version(kubeconfig: Option<&Path>) -> anyhow::Result<Value> {
    let client = connect(kubeconfig)?;
    let resp = client.get("/version")?;
    if !resp.ok() {
        anyhow::bail!(resp.error_text());
    }
    resp.json()
}

/// Runs `capstan version`.
pub fn run(args: VersionArgs, kubeconfig: Option<&Path>) -> VerbResult {
    let client_info = json!({"gitVersion": client_version()});
    let server = if args.client {
        None
    } else {
        Some(server_version(kubeconfig))
    };
    match args.output.as_deref() {
        Some(fmt) => {
            let mut doc = json!({"clientVersion": client_info});
            if let Some(Ok(s)) = &server {
                doc["serverVersion"] = s.clone();
            }
            out(&if fmt == "json" {
                to_json(&doc)
            } else {
                to_yaml(&doc)?
            });
        }
        None => {
            outln(&format!("Client Version: {}", client_version()));
            if let Some(Ok(s)) = &server {
                let v = s
                    .get("gitVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown");
                outln(&format!("Server Version: {v}"));
            }
        }
    }
    match server {
        Some(Err(e)) => {
            report(&e);
            Err(Reported.into())
        }
        _ => Ok(()),
    }
}
