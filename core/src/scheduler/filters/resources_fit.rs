//! NodeResourcesFit: the pod's requests (the larger of its containers' sum and its largest init
//! container) fit in what the node has left, for CPU, memory and the pod count; every resource
//! short is a reason.

use super::super::cycle::Cycle;
use super::super::model::NodeInfo;
use super::super::reasons::Reason;

pub(crate) fn filter(cx: &Cycle, node: &NodeInfo) -> Result<(), Vec<Reason>> {
    let want = &cx.pod.requests;
    let (alloc, used) = (&node.allocatable, &node.requested);
    let mut reasons = Vec::new();
    if used.pods.saturating_add(1) > alloc.pods {
        reasons.push(Reason::TooManyPods);
    }
    if want.milli_cpu > 0 && used.milli_cpu.saturating_add(want.milli_cpu) > alloc.milli_cpu {
        reasons.push(Reason::Insufficient("cpu"));
    }
    if want.memory > 0 && used.memory.saturating_add(want.memory) > alloc.memory {
        reasons.push(Reason::Insufficient("memory"));
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(reasons)
    }
}
