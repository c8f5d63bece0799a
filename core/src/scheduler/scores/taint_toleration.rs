//! TaintToleration score: the number of PreferNoSchedule taints the pod does not tolerate
//! (fewer is better).

use super::super::cycle::Cycle;
use super::super::filters::taint_toleration::tolerates;
use super::super::model::NodeInfo;
use super::super::ScoringStrategy;

pub(crate) fn raw(cx: &Cycle, node: &NodeInfo, _: ScoringStrategy) -> i64 {
    node.taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule")
        .filter(|t| !cx.pod.tolerations.iter().any(|tol| tolerates(tol, t)))
        .count() as i64
}
