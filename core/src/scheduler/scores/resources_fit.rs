//! NodeResourcesFit score: LeastAllocated (prefer emptier nodes, the default) or MostAllocated
//! (bin-packing), averaged over CPU and memory, counting the pod itself (a pod without requests
//! counts as 100m / 200 MiB, as kube-scheduler's non-zero defaults).

use super::super::cycle::Cycle;
use super::super::model::NodeInfo;
use super::super::ScoringStrategy;

fn fraction_score(requested: i64, allocatable: i64, strategy: ScoringStrategy) -> i64 {
    if allocatable <= 0 {
        return 0;
    }
    let requested = requested.clamp(0, allocatable);
    match strategy {
        ScoringStrategy::LeastAllocated => (allocatable - requested) * 100 / allocatable,
        ScoringStrategy::MostAllocated => requested * 100 / allocatable,
    }
}

pub(crate) fn raw(cx: &Cycle, node: &NodeInfo, strategy: ScoringStrategy) -> i64 {
    let (cpu, mem) = cx.pod.scoring_requests();
    let c = fraction_score(
        node.requested.milli_cpu.saturating_add(cpu),
        node.allocatable.milli_cpu,
        strategy,
    );
    let m = fraction_score(
        node.requested.memory.saturating_add(mem),
        node.allocatable.memory,
        strategy,
    );
    (c + m) / 2
}
