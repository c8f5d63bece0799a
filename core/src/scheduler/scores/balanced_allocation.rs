//! NodeResourcesBalancedAllocation: prefer nodes whose CPU and memory would be used in equal
//! proportion once the pod is there: 100 × (1 − the standard deviation of the two fractions).

use super::super::cycle::Cycle;
use super::super::model::NodeInfo;
use super::super::ScoringStrategy;

pub(crate) fn raw(cx: &Cycle, node: &NodeInfo, _: ScoringStrategy) -> i64 {
    let (cpu, mem) = cx.pod.scoring_requests();
    let frac = |used: i64, alloc: i64| {
        if alloc <= 0 {
            1.0
        } else {
            (used as f64 / alloc as f64).min(1.0)
        }
    };
    let c = frac(
        node.requested.milli_cpu.saturating_add(cpu),
        node.allocatable.milli_cpu,
    );
    let m = frac(
        node.requested.memory.saturating_add(mem),
        node.allocatable.memory,
    );
    // The standard deviation of two values is half their distance.
    let std = (c - m).abs() / 2.0;
    ((1.0 - std) * 100.0) as i64
}
