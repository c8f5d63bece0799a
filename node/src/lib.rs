//! capstan-node: everything behind the `capstan` binary.
//!
//! Config files, the master process (`capstan master`: store + HTTPS Kubernetes API), the
//! PKI and kubeconfig, the REST client, and the kubectl-like CLI verbs. Business rules live in
//! `capstan-core`; actors in `capstan-actors`. This crate wires them to sockets, files,
//! processes and the terminal.
#![forbid(unsafe_code)]

pub mod api;
pub mod cli;
pub mod client;
pub mod config;
pub mod join;
pub mod kubeconfig;
pub mod master;
pub mod nodeinfo;
pub mod pki;
pub mod signals;
pub mod up;
pub mod worker;

/// The `capstan` binary's entry point.
pub fn main() -> std::process::ExitCode {
    cli::main()
}
