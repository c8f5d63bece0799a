//! The load benchmark's smoke run: 50 hollow nodes over real QUIC, 2,000 pods as five
//! Deployments through the API, one node dropped at steady state. Asserts correctness only —
//! every pod Running exactly once on a live node, nothing lost, no node overcommitted, the node
//! loss recovered, the transport counted, the report written — never speed.

use crate::support::{capstan_bin, tempdir};
use serde_json::Value;
use std::process::Command;

#[test]
fn a_small_cluster_under_load_loses_nothing() {
    let dir = tempdir();
    let out = dir.path().join("report");
    let run = Command::new(capstan_bin())
        .args([
            "bench",
            "cluster",
            "--nodes",
            "50",
            "--pods",
            "2000",
            "--deployments",
            "5",
            "--kill-nodes",
            "1",
            "--timeout",
            "600",
            "--out",
        ])
        .arg(&out)
        .env("CAPSTAN_LOG", "error")
        .output()
        .expect("run capstan bench cluster");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "bench failed: {stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let last = stdout.lines().last().expect("output");
    let r: Value = serde_json::from_str(last).expect("the last line is JSON");
    eprintln!("{r}");
    assert_eq!(r["nodes"], 50);
    assert_eq!(r["pods"], 2000);
    assert_eq!(r["all_running"], true, "{r}");
    assert_eq!(r["lost_pods"], 0, "{r}");
    assert_eq!(r["duplicate_pods"], 0, "{r}");
    assert_eq!(r["overcommitted_nodes"], 0, "{r}");
    assert_eq!(r["killed_nodes"], 1, "{r}");
    assert!(
        r["node_loss_recovery_s"].is_number(),
        "the node loss recovered: {r}"
    );
    for key in [
        "pods_per_second",
        "startup_p50_ms",
        "startup_p99_ms",
        "api_p99_ms",
        "transport_msgs_per_second",
        "master_rss_mb",
    ] {
        assert!(r[key].is_number(), "{key} measured: {r}");
    }
    for file in [
        "result.json",
        "report.md",
        "pods-running.svg",
        "startup-cdf.svg",
        "master-rss.svg",
    ] {
        let text = std::fs::read_to_string(out.join(file)).unwrap_or_default();
        assert!(!text.is_empty(), "{file} written");
    }
    assert!(
        stdout.contains("pods bound per second"),
        "a summary table: {stdout}"
    );
}
