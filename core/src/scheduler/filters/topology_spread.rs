//! PodTopologySpread (DoNotSchedule): placing the pod in the node's domain must not make that
//! domain exceed the least loaded one by more than maxSkew; a node without the topology key
//! does not qualify.

use super::super::cycle::Cycle;
use super::super::model::{NodeInfo, WhenUnsatisfiable};
use super::super::reasons::Reason;

pub(crate) fn filter(cx: &Cycle, node: &NodeInfo) -> Result<(), Vec<Reason>> {
    for s in cx
        .spread
        .iter()
        .filter(|s| s.when == WhenUnsatisfiable::DoNotSchedule)
    {
        let Some(d) = node.labels.get(&s.key) else {
            return Err(vec![Reason::TopologySpreadMissingLabel]);
        };
        let count = s.counts.get(d).copied().unwrap_or(0);
        if count + s.self_match - s.min > s.max_skew {
            return Err(vec![Reason::TopologySpread]);
        }
    }
    Ok(())
}
