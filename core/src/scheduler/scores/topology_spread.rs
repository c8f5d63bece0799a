//! PodTopologySpread score (ScheduleAnyway): the matching pods already in the node's domain,
//! summed over the constraints (fewer is better); a node without the key counts as the most
//! loaded domain.

use super::super::cycle::Cycle;
use super::super::model::{NodeInfo, WhenUnsatisfiable};
use super::super::ScoringStrategy;

pub(crate) fn raw(cx: &Cycle, node: &NodeInfo, _: ScoringStrategy) -> i64 {
    cx.spread
        .iter()
        .filter(|s| s.when == WhenUnsatisfiable::ScheduleAnyway)
        .map(|s| match node.labels.get(&s.key) {
            Some(d) => s.counts.get(d).copied().unwrap_or(0),
            None => s.counts.values().copied().max().unwrap_or(0) + 1,
        })
        .sum()
}
