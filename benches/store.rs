//! Store and admission micro-benchmarks: what one durable commit costs, how group commit
//! amortises it, and what admitting a pod costs.
//!
//! Run: `cargo bench --bench store`.

use capstan_actors::store::{now, Db, WriteOp};
use capstan_core::admission::{admit, FieldValidation};
use capstan_core::kinds::by_kind;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "default", "labels": {"app": "bench"}},
           "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"],
                                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}})
}

fn creates(n: usize) -> Vec<WriteOp> {
    let pods = by_kind("v1", "Pod").expect("pods");
    (0..n)
        .map(|_| WriteOp::Create {
            resource: pods,
            object: pod(&format!("p-{}", NEXT.fetch_add(1, Ordering::Relaxed))),
        })
        .collect()
}

fn store_commits(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(&dir.path().join("bench.redb"), 100_000).expect("open");
    let mut g = c.benchmark_group("store_commit");
    g.sample_size(20);
    for batch in [1usize, 16, 128] {
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_function(format!("durable_batch_of_{batch}"), |b| {
            b.iter_batched(
                || creates(batch),
                |ops| db.apply_batch(ops, now()).expect("commit"),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn admission(c: &mut Criterion) {
    let p = pod("web");
    c.bench_function("admit_pod", |b| {
        b.iter(|| admit("Pod", &p, None, FieldValidation::Strict).expect("valid"))
    });
}

criterion_group!(benches, store_commits, admission);
criterion_main!(benches);
