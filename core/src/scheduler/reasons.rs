//! Why a node cannot take a pod, and the message Kubernetes shows when no node can:
//! `0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint {dedicated: gpu}.`

use std::collections::BTreeMap;
use std::fmt;

/// One reason a filter rejects a node, worded as kube-scheduler words it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The node is not Ready.
    NotReady,
    /// `spec.nodeName` names another node.
    NodeName,
    /// The node is cordoned.
    Unschedulable,
    /// nodeSelector or required node affinity does not match.
    NodeAffinity,
    /// A NoSchedule/NoExecute taint the pod does not tolerate.
    UntoleratedTaint {
        /// Taint key.
        key: String,
        /// Taint value (may be empty).
        value: String,
    },
    /// A host port is already taken.
    HostPorts,
    /// Not enough of a resource (`cpu`, `memory`).
    Insufficient(&'static str),
    /// The node has its maximum number of pods.
    TooManyPods,
    /// Required pod affinity not satisfied.
    PodAffinity,
    /// Required pod anti-affinity not satisfied.
    PodAntiAffinity,
    /// An existing pod's anti-affinity forbids this pod here.
    ExistingAntiAffinity,
    /// A DoNotSchedule topology spread constraint would be violated.
    TopologySpread,
    /// The node lacks a topology spread constraint's key.
    TopologySpreadMissingLabel,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotReady => f.write_str("node(s) were not ready"),
            Reason::NodeName => f.write_str("node(s) didn't match the requested node name"),
            Reason::Unschedulable => f.write_str("node(s) were unschedulable"),
            Reason::NodeAffinity => {
                f.write_str("node(s) didn't match Pod's node affinity/selector")
            }
            Reason::UntoleratedTaint { key, value } => {
                write!(f, "node(s) had untolerated taint {{{key}: {value}}}")
            }
            Reason::HostPorts => {
                f.write_str("node(s) didn't have free ports for the requested pod ports")
            }
            Reason::Insufficient(r) => write!(f, "Insufficient {r}"),
            Reason::TooManyPods => f.write_str("Too many pods"),
            Reason::PodAffinity => f.write_str("node(s) didn't match pod affinity rules"),
            Reason::PodAntiAffinity => f.write_str("node(s) didn't match pod anti-affinity rules"),
            Reason::ExistingAntiAffinity => {
                f.write_str("node(s) didn't satisfy existing pods anti-affinity rules")
            }
            Reason::TopologySpread => {
                f.write_str("node(s) didn't match pod topology spread constraints")
            }
            Reason::TopologySpreadMissingLabel => f.write_str(
                "node(s) didn't match pod topology spread constraints (missing required label)",
            ),
        }
    }
}

/// No node can take the pod: how many nodes there were and how many gave each reason (a node
/// may give several, e.g. both Insufficient cpu and Insufficient memory).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unschedulable {
    /// Nodes considered.
    pub nodes: usize,
    /// Reason → number of nodes that gave it.
    pub reasons: BTreeMap<Reason, usize>,
}

impl Unschedulable {
    /// Counts one node's reasons.
    pub fn record(&mut self, reasons: &[Reason]) {
        for r in reasons {
            *self.reasons.entry(r.clone()).or_default() += 1;
        }
    }
}

impl fmt::Display for Unschedulable {
    /// As kube-scheduler's FitError: `0/N nodes are available: ` then `count reason` entries
    /// sorted as strings and joined by `, `, then a full stop.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nodes == 0 {
            // kube-scheduler's ErrNoNodesAvailable.
            return f.write_str("no nodes available to schedule pods");
        }
        write!(f, "0/{} nodes are available", self.nodes)?;
        let mut parts: Vec<String> = self
            .reasons
            .iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect();
        parts.sort();
        if parts.is_empty() {
            f.write_str(".")
        } else {
            write!(f, ": {}.", parts.join(", "))
        }
    }
}

impl std::error::Error for Unschedulable {}
