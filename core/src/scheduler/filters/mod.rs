//! Filter plugins, one per file, run in kube-scheduler's order. Each looks at one node (with the
//! decision's precomputed [`Cycle`]) and either passes it or says why not. The first plugin that
//! rejects a node decides its reasons (as kube-scheduler stops at the first failing plugin).

pub(crate) mod host_ports;
pub(crate) mod inter_pod_affinity;
pub(crate) mod node_affinity;
pub(crate) mod node_name;
pub(crate) mod node_ready;
pub(crate) mod node_unschedulable;
pub(crate) mod resources_fit;
pub(crate) mod taint_toleration;
pub(crate) mod topology_spread;

use super::cycle::Cycle;
use super::model::NodeInfo;
use super::reasons::Reason;

/// A filter: `Ok` passes the node, `Err` carries the reasons it does not.
pub(crate) type FilterFn = fn(&Cycle, &NodeInfo) -> Result<(), Vec<Reason>>;

/// Every filter, in order.
pub(crate) const FILTERS: [FilterFn; 9] = [
    node_ready::filter,
    node_unschedulable::filter,
    node_name::filter,
    taint_toleration::filter,
    node_affinity::filter,
    host_ports::filter,
    resources_fit::filter,
    topology_spread::filter,
    inter_pod_affinity::filter,
];

/// Runs the filters on one node; `Err` with the first failing plugin's reasons.
pub(crate) fn run(cx: &Cycle, node: &NodeInfo) -> Result<(), Vec<Reason>> {
    for f in FILTERS {
        f(cx, node)?;
    }
    Ok(())
}
