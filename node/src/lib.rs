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
pub mod hollow;
pub mod join;
pub mod kubeconfig;
pub mod master;
pub mod nodeinfo;
pub mod panel;
pub mod pki;
pub mod signals;
pub mod up;
pub mod worker;

/// The `capstan` binary's entry point.
pub fn main() -> std::process::ExitCode {
    // `capstan shim DIR` is started by workers, one per container: handled before anything
    // else (no logging setup, no argument parser) to keep it small and fast.
    let mut args = std::env::args_os().skip(1);
    capstan_actors::memory::limit_malloc_arenas();
    if args.next().as_deref() == Some(std::ffi::OsStr::new("shim")) {
        return match (args.next(), args.next()) {
            (Some(dir), None) => {
                let code = capstan_actors::worker::runtime::shim::run(std::path::Path::new(&dir));
                std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
            }
            _ => {
                eprintln!("usage: capstan shim CONTAINER_STATE_DIR (started by workers)");
                std::process::ExitCode::from(2)
            }
        };
    }
    cli::main()
}
