//! The `capstan` command line (clap): process launchers (`master`) and kubectl-like verbs
//! (`apply`, `get`, `describe`, `delete`, `logs`, `top`, `version`).

pub mod apply;
pub mod bench;
pub mod bench_cluster;
pub mod delete;
pub mod describe;
pub mod get;
pub mod logs;
pub mod manifests;
pub mod node_ops;
pub mod output;
pub mod rollout;
pub mod tabwriter;
pub mod top;
pub mod util;
pub mod version;
mod watch;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Capstan: a small container orchestrator that speaks the Kubernetes API.
#[derive(Debug, Parser)]
#[command(name = "capstan", version)]
pub struct Cli {
    /// Path of the kubeconfig (else $KUBECONFIG, ./.capstan/kubeconfig.yaml, ~/.kube/config).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The verb.
    #[command(subcommand)]
    pub command: Command,
}

/// Every verb.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the master: store, scheduler, controllers and the HTTPS Kubernetes API.
    Master {
        /// TOML config file with a [master] table.
        #[arg(long, default_value = "configs/master.toml")]
        config: PathBuf,
    },
    /// Run a worker (a node) from a [[worker]] table.
    Worker {
        /// TOML config file with [[worker]] tables.
        #[arg(long)]
        config: PathBuf,
        /// Which [[worker]] (needed when the file has several).
        #[arg(long)]
        name: Option<String>,
    },
    /// Start a whole local cluster (master + workers as processes) from one config file.
    Up {
        /// TOML config with a [master] table and [[worker]] tables.
        #[arg(long, default_value = "configs/local.toml")]
        config: PathBuf,
    },
    /// Create or update objects from manifest files (like `kubectl apply`).
    Apply(apply::ApplyArgs),
    /// List objects or get them by name (like `kubectl get`).
    Get(get::GetArgs),
    /// Show objects in detail, with their events (like `kubectl describe`).
    Describe(describe::DescribeArgs),
    /// Delete objects by name or by manifest (like `kubectl delete`).
    Delete(delete::DeleteArgs),
    /// Print a container's log (like `kubectl logs`).
    Logs(logs::LogsArgs),
    /// CPU and memory used, requested and allocatable, per node or pod (like `kubectl top`).
    Top(top::TopArgs),
    /// Mark a node unschedulable (like `kubectl cordon`).
    Cordon(node_ops::NodeArgs),
    /// Mark a node schedulable again (like `kubectl uncordon`).
    Uncordon(node_ops::NodeArgs),
    /// Add or remove node taints (like `kubectl taint nodes`): key=value:Effect, key:Effect-, key-.
    Taint(node_ops::TaintArgs),
    /// Cordon a node and evict its pods (like `kubectl drain`).
    Drain(node_ops::DrainArgs),
    /// Manage a Deployment's rollout: status, history, undo, restart (like `kubectl rollout`).
    Rollout(rollout::RolloutArgs),
    /// Set the replicas of a Deployment or ReplicaSet (like `kubectl scale`).
    Scale(rollout::ScaleArgs),
    /// Benchmarks: `capstan bench scheduler --nodes N --pods P [--seed S]`.
    Bench(bench::BenchArgs),
    /// Run N simulated ("hollow") nodes against a master, for load tests.
    Hollow(crate::hollow::HollowArgs),
    /// Print the client and server versions.
    Version(version::VersionArgs),
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("CAPSTAN_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Parses the command line and runs the verb; errors go to stderr with a non-zero exit.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Usage errors exit 1 like kubectl; --help and --version succeed.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Master { config } => {
            init_tracing();
            crate::config::ClusterConfig::load(&config).and_then(|c| {
                let m = c
                    .master
                    .ok_or_else(|| anyhow::anyhow!("{}: no [master] table", config.display()))?;
                crate::master::run(m)
            })
        }
        Command::Worker { config, name } => {
            init_tracing();
            let code = crate::config::ClusterConfig::load(&config)
                .and_then(|c| c.worker(name.as_deref()).cloned())
                .and_then(crate::worker::run);
            return match code {
                Ok(0) => ExitCode::SUCCESS,
                Ok(c) => ExitCode::from(c.clamp(1, 255) as u8),
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Up { config } => crate::up::run(&config),
        Command::Hollow(args) => {
            init_tracing();
            return match crate::hollow::run(args) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Apply(args) => apply::run(args, cli.kubeconfig.as_deref()),
        Command::Get(args) => get::run(args, cli.kubeconfig.as_deref()),
        Command::Describe(args) => describe::run(args, cli.kubeconfig.as_deref()),
        Command::Delete(args) => delete::run(args, cli.kubeconfig.as_deref()),
        Command::Logs(args) => logs::run(args, cli.kubeconfig.as_deref()),
        Command::Top(args) => top::run(args, cli.kubeconfig.as_deref()),
        Command::Cordon(args) => node_ops::cordon(args, cli.kubeconfig.as_deref(), true),
        Command::Uncordon(args) => node_ops::cordon(args, cli.kubeconfig.as_deref(), false),
        Command::Taint(args) => node_ops::taint(args, cli.kubeconfig.as_deref()),
        Command::Drain(args) => node_ops::drain(args, cli.kubeconfig.as_deref()),
        Command::Rollout(args) => rollout::run(args, cli.kubeconfig.as_deref()),
        Command::Scale(args) => rollout::scale(args, cli.kubeconfig.as_deref()),
        Command::Bench(args) => bench::run(args, cli.kubeconfig.as_deref()),
        Command::Version(args) => version::run(args, cli.kubeconfig.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<util::Reported>() => ExitCode::FAILURE,
        Err(e) => {
            util::report(&e);
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn arguments_are_validated() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("capstan").chain(args.iter().copied()))
        };
        let ok: &[&[&str]] = &[
            &["get", "pods"],
            &["get", "po", "web", "-o", "wide", "-n", "dev"],
            &[
                "get",
                "deploy",
                "-A",
                "-w",
                "--show-labels",
                "-l",
                "app=web",
                "--field-selector",
                "status.phase=Running",
            ],
            &["describe", "pod", "web"],
            &["delete", "pod", "a", "b"],
            &["delete", "-f", "-"],
            &["apply", "-f", "-", "-f", "-"],
            &["version", "--client"],
            &["--kubeconfig", "/tmp/k", "get", "nodes"],
            &["top", "nodes"],
            &["top", "node", "-l", "role=worker"],
            &["top", "pods", "-n", "dev"],
            &["top", "po", "-A", "-l", "app=web"],
        ];
        for a in ok {
            assert!(parse(a).is_ok(), "{a:?}: {:?}", parse(a).err());
        }
        let bad: &[(&[&str], &str)] = &[
            (&["get", "pods", "-o", "table"], "--output"),
            (&["get", "pods", "-n", "Bad_NS"], "--namespace"),
            (&["get"], "KIND"),
            (&["apply"], "--filename"),
            (
                &["apply", "-f", "/definitely/not/here.yaml"],
                "does not exist",
            ),
            (&["delete"], "KIND"),
            (&["delete", "pod", "x", "-f", "-"], "cannot be used"),
            (&["top"], "Usage"),
            (&["top", "deployments"], "unrecognized subcommand"),
            (&["top", "pods", "-n", "dev", "-A"], "cannot be used"),
            (&["top", "pods", "-n", "Bad_NS"], "--namespace"),
        ];
        for (a, want) in bad {
            let err = parse(a).expect_err("must be rejected").to_string();
            assert!(err.contains(want), "{a:?}: {err}");
        }
    }
}
