//! Nodes that are not Ready are not candidates.

use super::super::cycle::Cycle;
use super::super::model::NodeInfo;
use super::super::reasons::Reason;

pub(crate) fn filter(_: &Cycle, node: &NodeInfo) -> Result<(), Vec<Reason>> {
    if node.ready {
        Ok(())
    } else {
        Err(vec![Reason::NotReady])
    }
}
