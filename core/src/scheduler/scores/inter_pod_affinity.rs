//! InterPodAffinity score: for each preferred affinity (positive weight) or anti-affinity
//! (negative weight) term, the weight times the matching pods in the node's domain.

use super::super::cycle::Cycle;
use super::super::model::NodeInfo;
use super::super::ScoringStrategy;

pub(crate) fn raw(cx: &Cycle, node: &NodeInfo, _: ScoringStrategy) -> i64 {
    cx.preferred
        .iter()
        .filter_map(|(key, weights)| weights.get(node.labels.get(*key)?))
        .sum()
}
