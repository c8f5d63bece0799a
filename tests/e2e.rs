//! Capstan's end-to-end tests, one test binary: each module starts real processes (a `capstan
//! master`, workers, containers through the shim, kubectl, Chromium) on fresh data_dirs and free
//! ports and drives them over real HTTPS and QUIC. One binary instead of one per file keeps the
//! link time and the disk a clean build needs small; `cargo test --test e2e MODULE::` runs one
//! module.

mod support;

mod api_https;
mod bench_cluster;
mod cli;
mod cluster;
mod controllers;
mod deployments;
mod durability;
mod kubectl;
mod logs_follow;
mod node_protocol;
mod panel_browser;
mod panel_http;
mod pods;
mod process_runtime;
mod readme_walkthrough;
mod rollout_cli;
mod scheduler;
mod top;
mod up;
mod worker_restart;
