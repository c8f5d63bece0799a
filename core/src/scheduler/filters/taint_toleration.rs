//! TaintToleration: a node's NoSchedule and NoExecute taints keep off pods that do not tolerate
//! them (PreferNoSchedule only scores, see `scores::taint_toleration`).

use super::super::cycle::Cycle;
use super::super::model::NodeInfo;
use super::super::reasons::Reason;
use crate::api::node::Taint;
use crate::api::pod::Toleration;

/// Whether `t` tolerates `taint`, as Kubernetes' `Toleration.ToleratesTaint`: the effect and key
/// match when set (an empty key with `Exists` tolerates everything), and `Equal` (the default)
/// needs the same value.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect
        .as_deref()
        .is_some_and(|e| !e.is_empty() && e != taint.effect)
    {
        return false;
    }
    if t.key
        .as_deref()
        .is_some_and(|k| !k.is_empty() && k != taint.key)
    {
        return false;
    }
    match t.operator.as_deref() {
        Some("Exists") => true,
        None | Some("") | Some("Equal") => {
            t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

pub(crate) fn filter(cx: &Cycle, node: &NodeInfo) -> Result<(), Vec<Reason>> {
    for taint in &node.taints {
        if !matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute") {
            continue;
        }
        if !cx.pod.tolerations.iter().any(|t| tolerates(t, taint)) {
            return Err(vec![Reason::UntoleratedTaint {
                key: taint.key.clone(),
                value: taint.value.clone().unwrap_or_default(),
            }]);
        }
    }
    Ok(())
}
