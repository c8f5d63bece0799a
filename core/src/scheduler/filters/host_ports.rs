//! NodePorts: a host port the pod asks for must be free on the node.

use super::super::cycle::Cycle;
use super::super::model::NodeInfo;
use super::super::reasons::Reason;

pub(crate) fn filter(cx: &Cycle, node: &NodeInfo) -> Result<(), Vec<Reason>> {
    let clash = cx
        .pod
        .host_ports
        .iter()
        .any(|want| node.used_ports.iter().any(|used| used.conflicts(want)));
    if clash {
        Err(vec![Reason::HostPorts])
    } else {
        Ok(())
    }
}
