//! Pod placement, pure: [`Scheduler::schedule`] picks a node for a pod from a [`Snapshot`] of
//! the cluster, as kube-scheduler's framework does — filter plugins say which nodes can take
//! the pod (and why the others cannot), score plugins rank those that can, ties break at
//! random from a seed the caller fixes.
//!
//! - Filters (`filters/`, one file each, in this order): node readiness, NodeUnschedulable,
//!   NodeName, TaintToleration, NodeAffinity (nodeSelector and required affinity), NodePorts,
//!   NodeResourcesFit, PodTopologySpread (DoNotSchedule), InterPodAffinity (required affinity,
//!   anti-affinity, existing pods' anti-affinity).
//! - Scores (`scores/`, weighted as kube-scheduler: fit 1, balance 1, node affinity 2, taints 3,
//!   inter-pod affinity 2, spread 2): LeastAllocated or MostAllocated, BalancedAllocation,
//!   preferred node affinity, PreferNoSchedule taints, preferred inter-pod (anti-)affinity,
//!   PodTopologySpread (ScheduleAnyway).
//! - Sampling: like kube-scheduler's `percentageOfNodesToScore`, filtering stops once enough
//!   feasible nodes are found (at least 100; by default 50% − nodes/125, at least 5%), starting
//!   each decision where the last one stopped so that all nodes get their turn. A node is never
//!   chosen without passing every filter.
//! - When nothing fits, [`Unschedulable`] counts the reasons over all nodes and renders the
//!   message kube-scheduler writes into the PodScheduled condition.
//!
//! The caller **assumes** every decision at once ([`Scheduler::assume`]) so that the next
//! decision sees the node's new requests before the binding is written: decisions never
//! overcommit a node. No I/O, no clock: the master's Scheduler actor feeds it from watches,
//! tests and benchmarks from synthetic clusters.

mod cycle;
mod filters;
pub mod model;
pub mod reasons;
mod rng;
mod scores;
pub mod snapshot;
pub mod synthetic;

#[cfg(test)]
mod tests;

pub use filters::node_unschedulable::UNSCHEDULABLE_TAINT;
pub use filters::taint_toleration::tolerates;
pub use model::{AffinityTerm, HostPort, NodeInfo, PodInfo, Resources, SpreadConstraint};
pub use reasons::{Reason, Unschedulable};
pub use snapshot::{AssignedPod, Snapshot};

use cycle::Cycle;
use rng::SplitMix64;

/// How NodeResourcesFit scores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ScoringStrategy {
    /// Prefer the emptiest nodes (spreads load; kube-scheduler's default).
    #[default]
    LeastAllocated,
    /// Prefer the fullest nodes that still fit (bin-packing).
    MostAllocated,
}

impl ScoringStrategy {
    /// Parses `LeastAllocated` / `MostAllocated`.
    pub fn parse(s: &str) -> Option<ScoringStrategy> {
        match s {
            "LeastAllocated" => Some(ScoringStrategy::LeastAllocated),
            "MostAllocated" => Some(ScoringStrategy::MostAllocated),
            _ => None,
        }
    }
}

/// Scheduler settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Config {
    /// How resource fit scores.
    pub strategy: ScoringStrategy,
    /// Percentage of nodes to find feasible before scoring (1–100); `None` is adaptive.
    pub percentage_of_nodes_to_score: Option<u32>,
    /// Seed of the tie-breaking generator.
    pub seed: u64,
}

/// A decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The chosen node.
    pub node: String,
    /// Feasible nodes found (the scored ones).
    pub feasible: usize,
    /// Nodes the filters looked at.
    pub evaluated: usize,
}

/// The scheduling engine: a snapshot, settings, the tie-breaking generator and where the next
/// decision starts looking.
#[derive(Debug, Clone)]
pub struct Scheduler {
    snapshot: Snapshot,
    config: Config,
    rng: SplitMix64,
    next_start: usize,
}

/// Fewest feasible nodes to find before scoring when the cluster has at least that many.
pub const MIN_FEASIBLE_NODES: usize = 100;

impl Scheduler {
    /// An engine over an empty cluster.
    pub fn new(config: Config) -> Scheduler {
        Scheduler {
            snapshot: Snapshot::new(),
            rng: SplitMix64::new(config.seed),
            config,
            next_start: 0,
        }
    }

    /// The cluster as the scheduler sees it.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The cluster, to add or remove nodes and pods.
    pub fn snapshot_mut(&mut self) -> &mut Snapshot {
        &mut self.snapshot
    }

    /// How many feasible nodes to find among `nodes` before scoring.
    pub fn feasible_to_find(&self, nodes: usize) -> usize {
        if nodes < MIN_FEASIBLE_NODES {
            return nodes;
        }
        let pct = match self.config.percentage_of_nodes_to_score {
            Some(p) if p > 0 => p.min(100) as usize,
            // 0 means adaptive, as in kube-scheduler.
            _ => 50usize.saturating_sub(nodes / 125).max(5),
        };
        (nodes * pct / 100).max(MIN_FEASIBLE_NODES)
    }

    /// Picks a node for `pod`, or says why none fits. Does not assume it: call
    /// [`Scheduler::assume`] with the answer (or use [`Scheduler::schedule_and_assume`]).
    pub fn schedule(&mut self, pod: &PodInfo) -> Result<Placement, Unschedulable> {
        let snapshot = &self.snapshot;
        let slots = snapshot.slots();
        let total = snapshot.node_count();
        if total == 0 {
            return Err(Unschedulable::default());
        }
        let want = self.feasible_to_find(total);
        let cx = Cycle::new(pod, snapshot);
        let start = self.next_start % slots;
        let mut feasible: Vec<&NodeInfo> = Vec::with_capacity(want.min(total));
        let mut evaluated = 0;
        let mut last = start;
        // Nodes that cannot pass (wrong label, full topology domain) are not visited at all
        // when an index narrows the search; every visited node still passes every filter.
        let candidates = candidate_slots(&cx, snapshot, total);
        let order: Box<dyn Iterator<Item = usize>> = match &candidates {
            None => Box::new((0..slots).map(|k| (start + k) % slots)),
            Some(c) => {
                let p = c.partition_point(|&s| s < start);
                Box::new(c[p..].iter().chain(&c[..p]).copied())
            }
        };
        for slot in order {
            last = slot;
            let Some(node) = snapshot.node_at(slot) else {
                continue;
            };
            evaluated += 1;
            if filters::run(&cx, node).is_ok() {
                feasible.push(node);
                if feasible.len() >= want {
                    break;
                }
            }
        }
        self.next_start = (last + 1) % slots;
        if feasible.is_empty() {
            // Nothing fits: every node says why, as kube-scheduler's message counts them all.
            let mut unschedulable = Unschedulable {
                nodes: total,
                ..Unschedulable::default()
            };
            for node in snapshot.nodes() {
                if let Err(reasons) = filters::run(&cx, node) {
                    unschedulable.record(&reasons);
                }
            }
            return Err(unschedulable);
        }
        let chosen = if feasible.len() == 1 {
            0
        } else {
            let totals = scores::total(&cx, &feasible, self.config.strategy);
            let best = totals.iter().copied().max().unwrap_or(0);
            // Reservoir sampling over the best: each tie equally likely.
            let mut pick = 0;
            let mut seen = 0u64;
            for (i, &t) in totals.iter().enumerate() {
                if t == best {
                    seen += 1;
                    if self.rng.below(seen) == 0 {
                        pick = i;
                    }
                }
            }
            pick
        };
        Ok(Placement {
            node: feasible[chosen].name.clone(),
            feasible: feasible.len(),
            evaluated,
        })
    }

    /// Counts `pod` on `node` at once, before its binding is written, so the next decisions see
    /// the node's new requests.
    pub fn assume(&mut self, pod: &PodInfo, node: &str) {
        self.snapshot.add_pod(node, pod);
    }

    /// [`Scheduler::schedule`], then [`Scheduler::assume`] on success.
    pub fn schedule_and_assume(&mut self, pod: &PodInfo) -> Result<Placement, Unschedulable> {
        let p = self.schedule(pod)?;
        self.assume(pod, &p.node);
        Ok(p)
    }
}

/// The only slots that can pass the filters, when an index says so and it is fewer than all
/// `total` nodes: the named node, the nodes carrying the nodeSelector's first label, or the
/// nodes in the topology domains a DoNotSchedule spread constraint still allows. Sorted.
fn candidate_slots(cx: &Cycle, snapshot: &Snapshot, total: usize) -> Option<Vec<usize>> {
    let pod = cx.pod;
    let mut best: Option<Vec<usize>> = None;
    let mut consider = |c: Vec<usize>| {
        if c.len() < total && best.as_ref().is_none_or(|b| c.len() < b.len()) {
            best = Some(c);
        }
    };
    if let Some(name) = &pod.node_name {
        consider(snapshot.slot_of(name).into_iter().collect());
    }
    if let Some((k, v)) = pod.node_selector.iter().next() {
        consider(
            snapshot
                .nodes_labelled(k, v)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default(),
        );
    }
    for s in cx
        .spread
        .iter()
        .filter(|s| s.when == model::WhenUnsatisfiable::DoNotSchedule)
    {
        let mut slots: Vec<usize> = s
            .counts
            .iter()
            .filter(|(_, &count)| count + s.self_match - s.min <= s.max_skew)
            .flat_map(|(d, _)| snapshot.nodes_labelled(&s.key, d).into_iter().flatten())
            .copied()
            .collect();
        slots.sort_unstable();
        consider(slots);
    }
    best
}
