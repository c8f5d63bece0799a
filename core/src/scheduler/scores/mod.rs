//! Score plugins, one per file: each gives a feasible node a raw score; raw scores are
//! normalised to 0–100 across the feasible nodes, weighted (kube-scheduler's default weights)
//! and summed. Plugins with nothing to say about a pod are skipped.

pub(crate) mod balanced_allocation;
pub(crate) mod inter_pod_affinity;
pub(crate) mod node_affinity;
pub(crate) mod resources_fit;
pub(crate) mod taint_toleration;
pub(crate) mod topology_spread;

use super::cycle::Cycle;
use super::model::NodeInfo;
use super::ScoringStrategy;

/// How a plugin's raw scores become 0–100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Normalize {
    /// Already 0–100.
    Already,
    /// The highest raw score becomes 100 (0 stays 0).
    MaxIs100,
    /// The highest raw score becomes 0, zero becomes 100 (fewer is better).
    Reverse,
    /// The lowest raw score becomes 0, the highest 100 (raw may be negative).
    MinMax,
}

/// A score plugin.
pub(crate) struct Plugin {
    pub weight: i64,
    pub normalize: Normalize,
    pub raw: fn(&Cycle, &NodeInfo, ScoringStrategy) -> i64,
    /// Whether it can tell nodes apart for this pod at all.
    pub applies: fn(&Cycle) -> bool,
}

/// Every score plugin with its weight.
pub(crate) const PLUGINS: [Plugin; 6] = [
    Plugin {
        weight: 1,
        normalize: Normalize::Already,
        raw: resources_fit::raw,
        applies: |_| true,
    },
    Plugin {
        weight: 1,
        normalize: Normalize::Already,
        raw: balanced_allocation::raw,
        applies: |_| true,
    },
    Plugin {
        weight: 2,
        normalize: Normalize::MaxIs100,
        raw: node_affinity::raw,
        applies: |cx| !cx.pod.preferred_affinity.is_empty(),
    },
    Plugin {
        weight: 3,
        normalize: Normalize::Reverse,
        raw: taint_toleration::raw,
        applies: |_| true,
    },
    Plugin {
        weight: 2,
        normalize: Normalize::MinMax,
        raw: inter_pod_affinity::raw,
        applies: |cx| !cx.preferred.is_empty(),
    },
    Plugin {
        weight: 2,
        normalize: Normalize::Reverse,
        raw: topology_spread::raw,
        applies: |cx| {
            cx.spread
                .iter()
                .any(|s| s.when == super::model::WhenUnsatisfiable::ScheduleAnyway)
        },
    },
];

/// Normalises one plugin's raw scores in place.
pub(crate) fn normalize(kind: Normalize, scores: &mut [i64]) {
    let max = scores.iter().copied().max().unwrap_or(0);
    let min = scores.iter().copied().min().unwrap_or(0);
    for s in scores.iter_mut() {
        *s = match kind {
            Normalize::Already => (*s).clamp(0, 100),
            Normalize::MaxIs100 if max > 0 => *s * 100 / max,
            Normalize::MaxIs100 => 0,
            Normalize::Reverse if max > 0 => 100 - *s * 100 / max,
            Normalize::Reverse => 100,
            Normalize::MinMax if max > min => (*s - min) * 100 / (max - min),
            Normalize::MinMax => 0,
        };
    }
}

/// The weighted total of every applicable plugin for each node in `nodes` (feasible ones).
pub(crate) fn total(cx: &Cycle, nodes: &[&NodeInfo], strategy: ScoringStrategy) -> Vec<i64> {
    let mut totals = vec![0i64; nodes.len()];
    let mut scratch = vec![0i64; nodes.len()];
    for p in &PLUGINS {
        if !(p.applies)(cx) {
            continue;
        }
        for (s, n) in scratch.iter_mut().zip(nodes) {
            *s = (p.raw)(cx, n, strategy);
        }
        normalize(p.normalize, &mut scratch);
        for (t, s) in totals.iter_mut().zip(&scratch) {
            *t += p.weight * s;
        }
    }
    totals
}
