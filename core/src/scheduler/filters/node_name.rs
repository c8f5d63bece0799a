//! NodeName: a pod that names a node (`spec.nodeName`) fits only there.

use super::super::cycle::Cycle;
use super::super::model::NodeInfo;
use super::super::reasons::Reason;

pub(crate) fn filter(cx: &Cycle, node: &NodeInfo) -> Result<(), Vec<Reason>> {
    match &cx.pod.node_name {
        Some(name) if *name != node.name => Err(vec![Reason::NodeName]),
        _ => Ok(()),
    }
}
