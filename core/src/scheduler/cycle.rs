//! One scheduling decision's precomputed state (kube-scheduler's PreFilter/PreScore): what
//! inter-pod affinity and topology spread need to know about the rest of the cluster, computed
//! once per pod from the snapshot's indexes, so that each node's check is a few lookups.

use super::filters::node_affinity;
use super::model::{AffinityTerm, NodeInfo, PodInfo, WhenUnsatisfiable};
use super::snapshot::Snapshot;
use std::collections::{HashMap, HashSet};

/// Per topology spread constraint: matching pods per domain and the least loaded domain.
#[derive(Debug, Clone)]
pub(crate) struct SpreadState {
    pub key: String,
    pub max_skew: i64,
    pub when: WhenUnsatisfiable,
    pub counts: HashMap<String, i64>,
    pub min: i64,
    /// 1 if the pod itself matches the constraint's selector (it will count once placed).
    pub self_match: i64,
}

/// The decision's state. See the module docs.
pub(crate) struct Cycle<'a> {
    pub pod: &'a PodInfo,
    /// Required anti-affinity: per term, the topology key and the domains holding a match.
    pub anti: Vec<(&'a str, HashSet<String>)>,
    /// Existing pods' anti-affinity against this pod: (key, forbidden domains).
    pub existing_anti: Vec<(String, HashSet<String>)>,
    /// Required affinity: per term, the key and the domains holding a match (`None`: no pod
    /// matches anywhere but the pod matches its own term, so any node with the key will do).
    pub affinity: Vec<(&'a str, Option<HashSet<String>>)>,
    /// Topology spread, both kinds.
    pub spread: Vec<SpreadState>,
    /// Preferred inter-pod (anti-)affinity: per term, the key and weight per domain.
    pub preferred: Vec<(&'a str, HashMap<String, i64>)>,
}

fn domain<'s>(snapshot: &'s Snapshot, node: &str, key: &str) -> Option<&'s String> {
    snapshot.node(node)?.labels.get(key)
}

fn term_domains(snapshot: &Snapshot, term: &AffinityTerm) -> HashMap<String, i64> {
    let mut out: HashMap<String, i64> = HashMap::new();
    for p in snapshot.pods_matching(&term.selector, term.namespaces.as_deref()) {
        if let Some(d) = domain(snapshot, &p.node, &term.topology_key) {
            *out.entry(d.clone()).or_default() += 1;
        }
    }
    out
}

impl<'a> Cycle<'a> {
    /// Computes the state for scheduling `pod` on `snapshot`.
    pub fn new(pod: &'a PodInfo, snapshot: &'a Snapshot) -> Cycle<'a> {
        let mut cx = Cycle {
            pod,
            anti: Vec::new(),
            existing_anti: Vec::new(),
            affinity: Vec::new(),
            spread: Vec::new(),
            preferred: Vec::new(),
        };
        for t in &pod.anti_affinity {
            let d = term_domains(snapshot, t).into_keys().collect();
            cx.anti.push((&t.topology_key, d));
        }
        for t in &pod.affinity {
            let d: HashSet<String> = term_domains(snapshot, t).into_keys().collect();
            let allowed = if d.is_empty() && t.matches(&pod.namespace, &pod.labels) {
                None
            } else {
                Some(d)
            };
            cx.affinity.push((&t.topology_key, allowed));
        }
        for t in &pod.preferred_pod_affinity {
            let weighted = term_domains(snapshot, t)
                .into_iter()
                .map(|(d, n)| (d, n * i64::from(t.weight)))
                .collect();
            cx.preferred.push((&t.topology_key, weighted));
        }
        let mut forbidden: HashMap<String, HashSet<String>> = HashMap::new();
        for existing in snapshot.anti_affinity_candidates(&pod.labels) {
            for t in &existing.anti_affinity {
                if t.matches(&pod.namespace, &pod.labels) {
                    if let Some(d) = domain(snapshot, &existing.node, &t.topology_key) {
                        forbidden
                            .entry(t.topology_key.clone())
                            .or_default()
                            .insert(d.clone());
                    }
                }
            }
        }
        cx.existing_anti = forbidden.into_iter().collect();
        for c in &pod.spread {
            cx.spread.push(spread_state(snapshot, pod, c));
        }
        cx
    }
}

fn spread_state(
    snapshot: &Snapshot,
    pod: &PodInfo,
    c: &super::model::SpreadConstraint,
) -> SpreadState {
    let constrained = !pod.node_selector.is_empty() || pod.required_affinity.is_some();
    let eligible = |n: &NodeInfo| !constrained || node_affinity::passes(pod, n);
    // Domains: values of the key on the nodes the pod may go to.
    let universe: HashSet<String> = if constrained {
        snapshot
            .nodes()
            .filter(|n| eligible(n))
            .filter_map(|n| n.labels.get(&c.topology_key).cloned())
            .collect()
    } else {
        snapshot
            .domains(&c.topology_key)
            .map(|d| d.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut counts: HashMap<String, i64> = universe.iter().map(|d| (d.clone(), 0)).collect();
    let ns = [pod.namespace.clone()];
    for p in snapshot.pods_matching(&c.selector, Some(&ns)) {
        let Some(node) = snapshot.node(&p.node) else {
            continue;
        };
        if !eligible(node) {
            continue;
        }
        if let Some(d) = node.labels.get(&c.topology_key) {
            if let Some(n) = counts.get_mut(d) {
                *n += 1;
            }
        }
    }
    let min = counts.values().copied().min().unwrap_or(0);
    SpreadState {
        key: c.topology_key.clone(),
        max_skew: c.max_skew,
        when: c.when,
        counts,
        min,
        self_match: i64::from(c.selector.matches(&pod.labels)),
    }
}
