//! One scheduling decision on a synthetic cluster of 500 and 5,000 nodes, each already holding
//! ten pods: a plain pod, and the synthetic workload's mix (selectors, tolerations,
//! anti-affinity, spread). The decision is not assumed, so every iteration sees the same
//! cluster.
//!
//! Run: `cargo bench --bench scheduler`.

use capstan_core::scheduler::{synthetic, Config, PodInfo, Scheduler};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn cluster(nodes: usize) -> Scheduler {
    let mut s = Scheduler::new(Config {
        seed: 7,
        ..Config::default()
    });
    for n in synthetic::nodes(nodes, 7) {
        s.snapshot_mut().upsert_node(n);
    }
    // Ten pods per node from the same workload, placed by the scheduler itself.
    for p in synthetic::pods(nodes * 10, 11) {
        let _ = s.schedule_and_assume(&p);
    }
    s
}

fn decisions(c: &mut Criterion) {
    let mut g = c.benchmark_group("schedule_one");
    for nodes in [500usize, 5000] {
        let mut s = cluster(nodes);
        // Pod 50 of the workload is a plain one (see synthetic.rs).
        let plain: PodInfo = synthetic::pod(1_000_050, 13);
        g.bench_with_input(BenchmarkId::new("plain", nodes), &nodes, |b, _| {
            b.iter(|| s.schedule(&plain).expect("fits"))
        });
        let mix: Vec<PodInfo> = synthetic::pods(100, 17);
        let mut i = 0;
        g.bench_with_input(BenchmarkId::new("mix", nodes), &nodes, |b, _| {
            b.iter(|| {
                i = (i + 1) % mix.len();
                s.schedule(&mix[i])
            })
        });
    }
    g.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
