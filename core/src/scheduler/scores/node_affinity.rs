//! NodeAffinity score: the sum of the weights of the preferred node affinity terms the node
//! matches.

use super::super::cycle::Cycle;
use super::super::model::{term_matches, NodeInfo};
use super::super::ScoringStrategy;

pub(crate) fn raw(cx: &Cycle, node: &NodeInfo, _: ScoringStrategy) -> i64 {
    cx.pod
        .preferred_affinity
        .iter()
        .filter(|t| term_matches(&t.preference, &node.name, &node.labels))
        .map(|t| i64::from(t.weight))
        .sum()
}
