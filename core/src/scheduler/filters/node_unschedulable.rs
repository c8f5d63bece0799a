//! NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes only pods that tolerate the
//! `node.kubernetes.io/unschedulable:NoSchedule` taint.

use super::super::cycle::Cycle;
use super::super::model::NodeInfo;
use super::super::reasons::Reason;
use super::taint_toleration::tolerates;
use crate::api::node::Taint;

/// The taint a cordoned node implies.
pub const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

pub(crate) fn filter(cx: &Cycle, node: &NodeInfo) -> Result<(), Vec<Reason>> {
    if !node.unschedulable {
        return Ok(());
    }
    let taint = Taint {
        key: UNSCHEDULABLE_TAINT.into(),
        value: None,
        effect: "NoSchedule".into(),
        time_added: None,
    };
    if cx.pod.tolerations.iter().any(|t| tolerates(t, &taint)) {
        Ok(())
    } else {
        Err(vec![Reason::Unschedulable])
    }
}
