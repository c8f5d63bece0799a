//! `capstan bench scheduler`: the scheduler's decision path (`capstan_actors::scheduler::decide`
//! over the pure engine, in batches, each decision assumed at once) against a synthetic
//! cluster (`capstan_core::scheduler::synthetic`), in process, without the store. Prints a
//! summary table, then one line of JSON.

use super::util::{outln, VerbResult};
use anyhow::bail;
use capstan_actors::scheduler::{decide, Queue};
use capstan_core::scheduler::{synthetic, Config, Resources, Scheduler};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchWhat {
    /// Scheduling throughput of the real scheduler core on a synthetic cluster, in process.
    Scheduler(SchedulerBench),
    /// A master process, hollow nodes over real QUIC, and pods created through the API.
    Cluster(super::bench_cluster::ClusterBench),
}

#[derive(Debug, clap::Args)]
pub struct SchedulerBench {
    /// Nodes in the synthetic cluster (1–100000).
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub nodes: u64,
    /// Pods to schedule (1–2000000).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=2_000_000))]
    pub pods: u64,
    /// Seed of the synthetic cluster and of tie-breaking.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Decisions per batch (as the scheduler actor's).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: u64,
    /// percentageOfNodesToScore (1–100); adaptive when absent.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub percentage: Option<u32>,
}

pub fn run(args: BenchArgs, _kubeconfig: Option<&Path>) -> VerbResult {
    match args.what {
        BenchWhat::Scheduler(b) => scheduler(b),
        BenchWhat::Cluster(b) => super::bench_cluster::run(b),
    }
}

/// The `q`-quantile of sorted values.
fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn scheduler(b: SchedulerBench) -> VerbResult {
    let (n_nodes, n_pods) = (b.nodes as usize, b.pods as usize);
    let setup = Instant::now();
    let mut engine = Scheduler::new(Config {
        seed: b.seed,
        percentage_of_nodes_to_score: b.percentage,
        ..Config::default()
    });
    let nodes = synthetic::nodes(n_nodes, b.seed);
    let allocatable: HashMap<String, Resources> = nodes
        .iter()
        .map(|n| (n.name.clone(), n.allocatable))
        .collect();
    for n in nodes {
        engine.snapshot_mut().upsert_node(n);
    }
    let mut queue = Queue::default();
    let null = Arc::new(Value::Null);
    let mut requests = HashMap::with_capacity(n_pods);
    for p in synthetic::pods(n_pods, b.seed) {
        requests.insert(p.uid.clone(), p.requests);
        queue.upsert(&p.uid.clone(), null.clone(), p);
    }
    let setup_s = setup.elapsed().as_secs_f64();
    eprintln!(
        "synthetic cluster: {n_nodes} nodes, {n_pods} pods (built in {setup_s:.2} s); scheduling in batches of {}",
        b.batch
    );

    let bar = indicatif::ProgressBar::new(n_pods as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} pods decided ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut timings: Vec<u64> = Vec::with_capacity(n_pods);
    let mut placements: Vec<(String, String)> = Vec::with_capacity(n_pods);
    let mut unschedulable = 0usize;
    let mut reasons: HashMap<String, usize> = HashMap::new();
    let start = Instant::now();
    loop {
        let (decided, failed) = decide(
            &mut engine,
            &mut queue,
            b.batch as usize,
            Instant::now(),
            Some(&mut timings),
        );
        if decided.is_empty() && failed.is_empty() {
            break;
        }
        bar.inc((decided.len() + failed.len()) as u64);
        unschedulable += failed.len();
        for f in failed {
            // Pods that fit nowhere now back off in the real scheduler; here they stay out.
            queue.remove(&f.uid);
            *reasons.entry(f.message).or_default() += 1;
        }
        placements.extend(decided.into_iter().map(|d| (d.uid, d.node)));
    }
    let seconds = start.elapsed().as_secs_f64();
    bar.finish_and_clear();

    // Independent check: sum what each node got against what it offers.
    let mut used: HashMap<&str, Resources> = HashMap::new();
    for (uid, node) in &placements {
        if let Some(r) = requests.get(uid) {
            used.entry(node.as_str()).or_default().add(r);
        }
    }
    let overcommitted = used
        .iter()
        .filter(|(node, r)| allocatable.get(**node).is_none_or(|a| !r.fits_in(a)))
        .count();
    timings.sort_unstable();
    let scheduled = placements.len();
    let pods_per_second = if seconds > 0.0 {
        (scheduled + unschedulable) as f64 / seconds
    } else {
        0.0
    };
    let (p50, p99, max) = (
        quantile(&timings, 0.50) as f64 / 1000.0,
        quantile(&timings, 0.99) as f64 / 1000.0,
        timings.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
    let rows = [
        ("nodes", n_nodes.to_string()),
        ("pods", n_pods.to_string()),
        ("scheduled", scheduled.to_string()),
        ("unschedulable", unschedulable.to_string()),
        ("seconds", format!("{seconds:.3}")),
        ("pods/second", format!("{pods_per_second:.0}")),
        ("decision p50", format!("{p50:.1} µs")),
        ("decision p99", format!("{p99:.1} µs")),
        ("decision max", format!("{max:.1} µs")),
        ("overcommitted nodes", overcommitted.to_string()),
    ];
    outln("SCHEDULER BENCH");
    for (k, v) in rows {
        outln(&format!("  {k:<22}{v:>14}"));
    }
    let mut top: Vec<(String, usize)> = reasons.into_iter().collect();
    top.sort_by_key(|t| std::cmp::Reverse(t.1));
    for (msg, n) in top.iter().take(3) {
        outln(&format!("  unschedulable ×{n}: {msg}"));
    }
    outln(
        &json!({
            "nodes": n_nodes, "pods": n_pods, "scheduled": scheduled,
            "unschedulable": unschedulable, "seconds": seconds,
            "pods_per_second": pods_per_second.round(),
            "p50_decision_us": p50, "p99_decision_us": p99,
            "overcommitted_nodes": overcommitted, "seed": b.seed, "batch": b.batch,
        })
        .to_string(),
    );
    if overcommitted > 0 {
        bail!("{overcommitted} node(s) overcommitted");
    }
    Ok(())
}
