//! What the scheduler knows of nodes and pods: compact, typed, extracted once from the API
//! objects ([`NodeInfo::from_node`], [`PodInfo::from_pod`]) so that a decision never parses
//! JSON or quantities.

use crate::api::node::{Node, Taint};
use crate::api::pod::{
    NodeSelector, NodeSelectorTerm, Pod, PodAffinityTerm, PreferredSchedulingTerm, Toleration,
};
use crate::selector::LabelSelector;
use std::collections::BTreeMap;

/// CPU in millicores, memory in bytes, and a pod count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Resources {
    /// CPU, millicores.
    pub milli_cpu: i64,
    /// Memory, bytes.
    pub memory: i64,
    /// Pods.
    pub pods: i64,
}

impl Resources {
    /// Component-wise sum.
    pub fn add(&mut self, r: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_add(r.milli_cpu);
        self.memory = self.memory.saturating_add(r.memory);
        self.pods = self.pods.saturating_add(r.pods);
    }

    /// Component-wise difference.
    pub fn sub(&mut self, r: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_sub(r.milli_cpu);
        self.memory = self.memory.saturating_sub(r.memory);
        self.pods = self.pods.saturating_sub(r.pods);
    }

    /// Whether every component fits within `limit`.
    pub fn fits_in(&self, limit: &Resources) -> bool {
        self.milli_cpu <= limit.milli_cpu && self.memory <= limit.memory && self.pods <= limit.pods
    }
}

/// The requests the scheduler assumes for scoring a pod that requests nothing (as
/// kube-scheduler's `nonzero` defaults: 100m CPU, 200 MiB), so empty pods still spread.
pub const DEFAULT_SCORING_CPU: i64 = 100;
/// See [`DEFAULT_SCORING_CPU`].
pub const DEFAULT_SCORING_MEMORY: i64 = 200 * 1024 * 1024;

/// A host port a pod asks for: protocol, host IP (`0.0.0.0` for all) and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// TCP, UDP or SCTP.
    pub protocol: String,
    /// The host IP; `0.0.0.0` means every address.
    pub ip: String,
    /// The port.
    pub port: i32,
}

impl HostPort {
    /// Whether two host ports clash: same protocol and port, and the same IP or either on all.
    pub fn conflicts(&self, other: &HostPort) -> bool {
        self.port == other.port
            && self.protocol == other.protocol
            && (self.ip == other.ip || self.ip == "0.0.0.0" || other.ip == "0.0.0.0")
    }
}

/// An inter-pod (anti-)affinity term: pods matching `selector` in `namespaces`, counted per
/// topology domain (the value of `topology_key` on their node).
#[derive(Debug, Clone, PartialEq)]
pub struct AffinityTerm {
    /// Which pods.
    pub selector: LabelSelector,
    /// In which namespaces; `None` means all (an empty namespaceSelector).
    pub namespaces: Option<Vec<String>>,
    /// The node label that names a domain.
    pub topology_key: String,
    /// For preferred terms, the weight (1–100); required terms have 0.
    pub weight: i32,
}

/// A selector no pod matches: what Kubernetes makes of a nil `labelSelector`
/// (`LabelSelectorAsSelector(nil)` is `labels.Nothing()`), unlike an empty one, which matches
/// every pod.
fn match_nothing() -> LabelSelector {
    LabelSelector {
        match_expressions: vec![crate::selector::LabelSelectorRequirement {
            key: "capstan.io/never".into(),
            operator: "Exists".into(),
            values: Vec::new(),
        }],
        ..LabelSelector::default()
    }
}

impl AffinityTerm {
    fn from_term(t: &PodAffinityTerm, own_namespace: &str, weight: i32) -> AffinityTerm {
        let namespaces = if !t.namespaces.is_empty() {
            Some(t.namespaces.clone())
        } else if t
            .namespace_selector
            .as_ref()
            .is_some_and(LabelSelector::is_empty)
        {
            None
        } else {
            // No namespaces and no (or a non-empty, unsupported) namespaceSelector: the pod's
            // own namespace, as Kubernetes does without a selector.
            Some(vec![own_namespace.to_string()])
        };
        AffinityTerm {
            // A term without a selector matches no pod (Kubernetes: nil selector).
            selector: t.label_selector.clone().unwrap_or_else(match_nothing),
            namespaces,
            topology_key: t.topology_key.clone(),
            weight,
        }
    }

    /// Whether a pod in `namespace` with `labels` is one this term counts.
    pub fn matches(&self, namespace: &str, labels: &BTreeMap<String, String>) -> bool {
        self.namespaces
            .as_ref()
            .is_none_or(|ns| ns.iter().any(|n| n == namespace))
            && self.selector.matches(labels)
    }
}

/// `DoNotSchedule` (a filter) or `ScheduleAnyway` (a score).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenUnsatisfiable {
    /// The constraint filters nodes.
    DoNotSchedule,
    /// The constraint only scores nodes.
    ScheduleAnyway,
}

/// A topology spread constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct SpreadConstraint {
    /// The largest allowed difference between the most and least loaded domain.
    pub max_skew: i64,
    /// The node label that names a domain.
    pub topology_key: String,
    /// Filter or score.
    pub when: WhenUnsatisfiable,
    /// Which pods count (in the pod's namespace).
    pub selector: LabelSelector,
}

/// A pod as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodInfo {
    /// Its uid (the key of assumed pods).
    pub uid: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// What it requests: the larger of the sum of its containers' requests and its largest init
    /// container's, plus overhead; `pods` is 1.
    pub requests: Resources,
    /// `spec.nodeName` if set (the NodeName filter).
    pub node_name: Option<String>,
    /// `spec.nodeSelector`.
    pub node_selector: BTreeMap<String, String>,
    /// Required node affinity.
    pub required_affinity: Option<NodeSelector>,
    /// Preferred node affinity.
    pub preferred_affinity: Vec<PreferredSchedulingTerm>,
    /// Tolerations.
    pub tolerations: Vec<Toleration>,
    /// Host ports asked for.
    pub host_ports: Vec<HostPort>,
    /// Required pod affinity terms.
    pub affinity: Vec<AffinityTerm>,
    /// Required pod anti-affinity terms.
    pub anti_affinity: Vec<AffinityTerm>,
    /// Preferred pod affinity (positive weight) and anti-affinity (negative weight) terms.
    pub preferred_pod_affinity: Vec<AffinityTerm>,
    /// Topology spread constraints.
    pub spread: Vec<SpreadConstraint>,
}

fn quantity_milli(q: Option<&crate::quantity::Quantity>) -> i64 {
    q.and_then(|q| q.to_milli().ok()).unwrap_or(0).max(0)
}

fn quantity_units(q: Option<&crate::quantity::Quantity>) -> i64 {
    q.and_then(|q| q.to_units().ok()).unwrap_or(0).max(0)
}

fn container_requests(c: &crate::api::pod::Container) -> Resources {
    let Some(r) = &c.resources else {
        return Resources::default();
    };
    // A limit without a request defaults the request (Kubernetes defaulting does the same).
    let cpu = r.requests.get("cpu").or_else(|| r.limits.get("cpu"));
    let mem = r.requests.get("memory").or_else(|| r.limits.get("memory"));
    Resources {
        milli_cpu: quantity_milli(cpu),
        memory: quantity_units(mem),
        pods: 0,
    }
}

impl PodInfo {
    /// Extracts what scheduling needs from a pod.
    pub fn from_pod(pod: &Pod) -> PodInfo {
        let meta = &pod.metadata;
        let namespace = if meta.namespace.is_empty() {
            "default".to_string()
        } else {
            meta.namespace.clone()
        };
        let mut info = PodInfo {
            uid: meta.uid.clone(),
            name: meta.name.clone(),
            labels: meta.labels.clone(),
            namespace: namespace.clone(),
            requests: Resources {
                pods: 1,
                ..Resources::default()
            },
            ..PodInfo::default()
        };
        let Some(spec) = &pod.spec else {
            return info;
        };
        let mut sum = Resources::default();
        for c in &spec.containers {
            sum.add(&container_requests(c));
        }
        for c in &spec.init_containers {
            let r = container_requests(c);
            sum.milli_cpu = sum.milli_cpu.max(r.milli_cpu);
            sum.memory = sum.memory.max(r.memory);
        }
        sum.milli_cpu = sum
            .milli_cpu
            .saturating_add(quantity_milli(spec.overhead.get("cpu")));
        sum.memory = sum
            .memory
            .saturating_add(quantity_units(spec.overhead.get("memory")));
        sum.pods = 1;
        info.requests = sum;
        info.node_name = spec.node_name.clone().filter(|n| !n.is_empty());
        info.node_selector = spec.node_selector.clone();
        info.tolerations = spec.tolerations.clone();
        for c in spec.containers.iter().chain(&spec.init_containers) {
            for p in &c.ports {
                if let Some(port) = p.host_port.filter(|&p| p > 0) {
                    info.host_ports.push(HostPort {
                        protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                        ip: p
                            .host_ip
                            .clone()
                            .filter(|ip| !ip.is_empty())
                            .unwrap_or_else(|| "0.0.0.0".into()),
                        port,
                    });
                }
            }
        }
        if let Some(aff) = &spec.affinity {
            if let Some(na) = &aff.node_affinity {
                info.required_affinity = na
                    .required_during_scheduling_ignored_during_execution
                    .clone();
                info.preferred_affinity = na
                    .preferred_during_scheduling_ignored_during_execution
                    .clone();
            }
            if let Some(pa) = &aff.pod_affinity {
                for t in &pa.required_during_scheduling_ignored_during_execution {
                    info.affinity
                        .push(AffinityTerm::from_term(t, &namespace, 0));
                }
                for w in &pa.preferred_during_scheduling_ignored_during_execution {
                    info.preferred_pod_affinity.push(AffinityTerm::from_term(
                        &w.pod_affinity_term,
                        &namespace,
                        w.weight,
                    ));
                }
            }
            if let Some(pa) = &aff.pod_anti_affinity {
                for t in &pa.required_during_scheduling_ignored_during_execution {
                    info.anti_affinity
                        .push(AffinityTerm::from_term(t, &namespace, 0));
                }
                for w in &pa.preferred_during_scheduling_ignored_during_execution {
                    info.preferred_pod_affinity.push(AffinityTerm::from_term(
                        &w.pod_affinity_term,
                        &namespace,
                        -w.weight,
                    ));
                }
            }
        }
        for c in &spec.topology_spread_constraints {
            info.spread.push(SpreadConstraint {
                max_skew: i64::from(c.max_skew.max(1)),
                topology_key: c.topology_key.clone(),
                when: if c.when_unsatisfiable == "ScheduleAnyway" {
                    WhenUnsatisfiable::ScheduleAnyway
                } else {
                    WhenUnsatisfiable::DoNotSchedule
                },
                // No labelSelector: no pod counts, not even this one (Kubernetes' nil
                // selector), rather than every pod of the namespace.
                selector: c.label_selector.clone().unwrap_or_else(match_nothing),
            });
        }
        info
    }

    /// The requests used for scoring: zero CPU or memory count as the defaults.
    pub fn scoring_requests(&self) -> (i64, i64) {
        let cpu = if self.requests.milli_cpu == 0 {
            DEFAULT_SCORING_CPU
        } else {
            self.requests.milli_cpu
        };
        let mem = if self.requests.memory == 0 {
            DEFAULT_SCORING_MEMORY
        } else {
            self.requests.memory
        };
        (cpu, mem)
    }

    /// Whether any plugin needs the pods of other nodes for this pod (affinity, spread, or
    /// existing pods' anti-affinity, which the snapshot tracks separately).
    pub fn needs_pod_topology(&self) -> bool {
        !self.affinity.is_empty()
            || !self.anti_affinity.is_empty()
            || !self.preferred_pod_affinity.is_empty()
            || !self.spread.is_empty()
    }
}

/// A node as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeInfo {
    /// Name.
    pub name: String,
    /// Labels (with `kubernetes.io/hostname` = name added if missing).
    pub labels: BTreeMap<String, String>,
    /// Taints.
    pub taints: Vec<Taint>,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    /// Ready=True.
    pub ready: bool,
    /// What it offers pods.
    pub allocatable: Resources,
    /// What the pods bound or assumed to it request (maintained by the snapshot).
    pub requested: Resources,
    /// Host ports in use (maintained by the snapshot).
    pub used_ports: Vec<HostPort>,
}

impl NodeInfo {
    /// Extracts what scheduling needs from a node; `requested` and `used_ports` start empty.
    pub fn from_node(node: &Node) -> NodeInfo {
        let name = node.metadata.name.clone();
        let mut labels = node.metadata.labels.clone();
        labels
            .entry("kubernetes.io/hostname".into())
            .or_insert_with(|| name.clone());
        let spec = node.spec.as_ref();
        let empty = BTreeMap::new();
        let (allocatable, capacity) = node
            .status
            .as_ref()
            .map_or((&empty, &empty), |s| (&s.allocatable, &s.capacity));
        let alloc = if allocatable.is_empty() {
            capacity
        } else {
            allocatable
        };
        let ready = node.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        });
        NodeInfo {
            name,
            labels,
            taints: spec.map(|s| s.taints.clone()).unwrap_or_default(),
            unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
            ready,
            allocatable: Resources {
                milli_cpu: quantity_milli(alloc.get("cpu")),
                memory: quantity_units(alloc.get("memory")),
                pods: quantity_units(alloc.get("pods")),
            },
            requested: Resources::default(),
            used_ports: Vec::new(),
        }
    }
}

/// Whether `labels` (and the node's name, for matchFields) satisfy one node selector term:
/// every expression holds. An empty term matches nothing (as in Kubernetes).
pub fn term_matches(
    term: &NodeSelectorTerm,
    node_name: &str,
    labels: &BTreeMap<String, String>,
) -> bool {
    if term.match_expressions.is_empty() && term.match_fields.is_empty() {
        return false;
    }
    term.match_expressions.iter().all(|r| {
        requirement_matches(
            &r.operator,
            labels.get(&r.key).map(String::as_str),
            &r.values,
        )
    }) && term.match_fields.iter().all(|r| {
        let value = (r.key == "metadata.name").then_some(node_name);
        requirement_matches(&r.operator, value, &r.values)
    })
}

/// One node selector requirement: In, NotIn, Exists, DoesNotExist, Gt, Lt.
pub fn requirement_matches(op: &str, value: Option<&str>, values: &[String]) -> bool {
    match op {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|b| b.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if op == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}
