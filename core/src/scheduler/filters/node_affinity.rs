//! NodeAffinity: `spec.nodeSelector` and required node affinity (terms ORed, expressions ANDed;
//! In, NotIn, Exists, DoesNotExist, Gt, Lt; matchFields on `metadata.name`).

use super::super::cycle::Cycle;
use super::super::model::{term_matches, NodeInfo, PodInfo};
use super::super::reasons::Reason;

/// Whether the node satisfies the pod's nodeSelector and required node affinity.
pub(crate) fn passes(pod: &PodInfo, node: &NodeInfo) -> bool {
    pod.node_selector
        .iter()
        .all(|(k, v)| node.labels.get(k) == Some(v))
        && pod.required_affinity.as_ref().is_none_or(|sel| {
            sel.node_selector_terms
                .iter()
                .any(|t| term_matches(t, &node.name, &node.labels))
        })
}

pub(crate) fn filter(cx: &Cycle, node: &NodeInfo) -> Result<(), Vec<Reason>> {
    if passes(cx.pod, node) {
        Ok(())
    } else {
        Err(vec![Reason::NodeAffinity])
    }
}
