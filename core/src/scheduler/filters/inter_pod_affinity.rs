//! InterPodAffinity (required): the node's domain must hold a pod matching each affinity term,
//! none matching an anti-affinity term, and no existing pod's anti-affinity may forbid the pod
//! there — checked in that order, as kube-scheduler does (the first that fails is the reason).

use super::super::cycle::Cycle;
use super::super::model::NodeInfo;
use super::super::reasons::Reason;

pub(crate) fn filter(cx: &Cycle, node: &NodeInfo) -> Result<(), Vec<Reason>> {
    for (key, allowed) in &cx.affinity {
        let ok = match (node.labels.get(*key), allowed) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(d), Some(set)) => set.contains(d),
        };
        if !ok {
            return Err(vec![Reason::PodAffinity]);
        }
    }
    for (key, taken) in &cx.anti {
        if node.labels.get(*key).is_some_and(|d| taken.contains(d)) {
            return Err(vec![Reason::PodAntiAffinity]);
        }
    }
    for (key, forbidden) in &cx.existing_anti {
        if node.labels.get(key).is_some_and(|d| forbidden.contains(d)) {
            return Err(vec![Reason::ExistingAntiAffinity]);
        }
    }
    Ok(())
}
