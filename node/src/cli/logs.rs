//! `capstan logs POD [-c CONTAINER] [--tail N] [--previous] [--timestamps] [-f]`: a container's
//! log, read by the master from the pod's worker; with `-f`, followed until the container stops.

use super::util::{check_name, connect, out, parse_namespace, with_query, VerbResult};
use std::path::Path;

/// `capstan logs` flags.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The pod (`NAME` or `pod/NAME`).
    pub pod: String,
    /// The container (needed when the pod has several).
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Only the last N lines (-1: all).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub tail: i64,
    /// The previous (terminated) run's log.
    #[arg(short = 'p', long)]
    pub previous: bool,
    /// Prefix each line with its RFC 3339 timestamp.
    #[arg(long)]
    pub timestamps: bool,
    /// Keep printing new lines as the container writes them, until it stops (ignored with
    /// --previous).
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// The namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long, value_parser = parse_namespace)]
    pub namespace: Option<String>,
}

/// Runs `capstan logs`.
pub fn run(args: LogsArgs, kubeconfig: Option<&Path>) -> VerbResult {
    let name = args
        .pod
        .strip_prefix("pod/")
        .or_else(|| args.pod.strip_prefix("pods/"))
        .unwrap_or(&args.pod);
    check_name(name).map_err(anyhow::Error::msg)?;
    if let Some(c) = &args.container {
        check_name(c).map_err(anyhow::Error::msg)?;
    }
    if args.tail < -1 {
        anyhow::bail!("--tail: must be -1 (all) or a non-negative number of lines");
    }
    let client = connect(kubeconfig)?;
    let ns = args
        .namespace
        .clone()
        .unwrap_or_else(|| client.namespace.clone());
    let follow = args.follow && !args.previous;
    let tail = if args.tail >= 0 {
        args.tail.to_string()
    } else {
        String::new()
    };
    let path = with_query(
        &format!("/api/v1/namespaces/{ns}/pods/{name}/log"),
        &[
            ("container", args.container.as_deref().unwrap_or("")),
            ("tailLines", &tail),
            ("previous", if args.previous { "true" } else { "" }),
            ("timestamps", if args.timestamps { "true" } else { "" }),
            ("follow", if follow { "true" } else { "" }),
        ],
    );
    if follow {
        return client.get_streaming(&path, "text/plain, application/json", |data| {
            use std::io::Write;
            let mut so = std::io::stdout().lock();
            if so.write_all(data).and_then(|()| so.flush()).is_err() {
                // stdout is gone (a closed pipe): nobody reads on.
                std::process::exit(1);
            }
            true
        });
    }
    let resp = client.request("GET", &path, None, "text/plain, application/json")?;
    if !resp.ok() {
        anyhow::bail!(resp.error_text());
    }
    out(&String::from_utf8_lossy(&resp.body));
    Ok(())
}
