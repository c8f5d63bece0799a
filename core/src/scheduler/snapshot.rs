//! The scheduler's view of the cluster: every node with what its pods request, every pod bound
//! or assumed, and the indexes that keep affinity and spread checks proportional to the pods
//! they concern rather than to the cluster. Updated incrementally: a node joins, changes or
//! goes; a pod is assumed, bound, or deleted.

use super::model::{AffinityTerm, HostPort, NodeInfo, PodInfo, Resources};
use crate::selector::LabelSelector;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A pod the snapshot counts on a node (bound, or assumed by the scheduler).
#[derive(Debug, Clone, PartialEq)]
pub struct AssignedPod {
    /// The node it is on.
    pub node: String,
    /// Namespace.
    pub namespace: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// What it requests.
    pub requests: Resources,
    /// Its host ports.
    pub host_ports: Vec<HostPort>,
    /// Its required anti-affinity terms (existing pods' anti-affinity binds new pods too).
    pub anti_affinity: Vec<AffinityTerm>,
}

/// Nodes by slot, pods by uid, and indexes. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    slots: Vec<Option<NodeInfo>>,
    free: Vec<usize>,
    by_name: HashMap<String, usize>,
    pods: HashMap<String, AssignedPod>,
    pods_by_node: HashMap<String, HashSet<String>>,
    /// (namespace, label key, label value) → pod uids.
    by_label: HashMap<(String, String, String), HashSet<String>>,
    by_namespace: HashMap<String, HashSet<String>>,
    /// Pods with required anti-affinity terms, by the first `matchLabels` pair of each term
    /// (only pods carrying that label can match the term), or under `None` for terms without
    /// `matchLabels`.
    anti_index: HashMap<Option<(String, String)>, HashSet<String>>,
    /// Label key → value → number of nodes carrying it (the topology domains).
    domains: HashMap<String, HashMap<String, usize>>,
    /// (label key, value) → the slots of the nodes carrying it.
    nodes_by_label: HashMap<(String, String), BTreeSet<usize>>,
}

impl Snapshot {
    /// An empty cluster.
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// Number of slots (some may be empty); node indexes are below this.
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.by_name.len()
    }

    /// The node in slot `i`, if any.
    pub fn node_at(&self, i: usize) -> Option<&NodeInfo> {
        self.slots.get(i)?.as_ref()
    }

    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.node_at(*self.by_name.get(name)?)
    }

    /// Every node.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeInfo> {
        self.slots.iter().flatten()
    }

    /// The pod with this uid, if bound or assumed.
    pub fn pod(&self, uid: &str) -> Option<&AssignedPod> {
        self.pods.get(uid)
    }

    /// Number of pods counted.
    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    /// All nodes carrying label `key`, by value, with how many nodes have each value.
    pub fn domains(&self, key: &str) -> Option<&HashMap<String, usize>> {
        self.domains.get(key)
    }

    /// Pods with required anti-affinity.
    pub fn anti_affinity_pods(&self) -> impl Iterator<Item = &AssignedPod> {
        let uids: HashSet<&String> = self.anti_index.values().flatten().collect();
        uids.into_iter().filter_map(|uid| self.pods.get(uid))
    }

    /// Pods with a required anti-affinity term that a pod with `labels` may match: those whose
    /// term's first `matchLabels` pair is among `labels`, and those whose term has none. (A
    /// pod may come more than once.)
    pub fn anti_affinity_candidates<'a>(
        &'a self,
        labels: &'a BTreeMap<String, String>,
    ) -> impl Iterator<Item = &'a AssignedPod> + 'a {
        labels
            .iter()
            .filter_map(|(k, v)| self.anti_index.get(&Some((k.clone(), v.clone()))))
            .chain(self.anti_index.get(&None))
            .flatten()
            .filter_map(|uid| self.pods.get(uid))
    }

    fn anti_keys(terms: &[AffinityTerm]) -> Vec<Option<(String, String)>> {
        let mut keys: Vec<Option<(String, String)>> = terms
            .iter()
            .map(|t| {
                t.selector
                    .match_labels
                    .iter()
                    .next()
                    .map(|(k, v)| (k.clone(), v.clone()))
            })
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The slots of the nodes labelled `key=value`, in slot order.
    pub fn nodes_labelled(&self, key: &str, value: &str) -> Option<&BTreeSet<usize>> {
        self.nodes_by_label
            .get(&(key.to_string(), value.to_string()))
    }

    /// The slot of the node named `name`.
    pub fn slot_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    fn index_labels(&mut self, slot: usize, labels: &BTreeMap<String, String>, add: bool) {
        for (k, v) in labels {
            let key = (k.clone(), v.clone());
            if add {
                self.nodes_by_label.entry(key).or_default().insert(slot);
            } else if let Some(set) = self.nodes_by_label.get_mut(&key) {
                set.remove(&slot);
                if set.is_empty() {
                    self.nodes_by_label.remove(&key);
                }
            }
        }
    }

    fn count_domains(&mut self, labels: &BTreeMap<String, String>, add: bool) {
        for (k, v) in labels {
            let values = self.domains.entry(k.clone()).or_default();
            if add {
                *values.entry(v.clone()).or_default() += 1;
            } else if let Some(n) = values.get_mut(v) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    values.remove(v);
                }
            }
            if values.is_empty() {
                self.domains.remove(k);
            }
        }
    }

    /// Adds a node or replaces the one with its name. What its pods request and the ports they
    /// use are kept from the snapshot's pods, not taken from `node`.
    pub fn upsert_node(&mut self, mut node: NodeInfo) {
        let (requested, ports) = self.usage_of(&node.name);
        node.requested = requested;
        node.used_ports = ports;
        if let Some(&i) = self.by_name.get(&node.name) {
            let old_labels = self.slots[i].as_ref().map(|n| n.labels.clone());
            if let Some(old) = old_labels {
                self.count_domains(&old, false);
                self.index_labels(i, &old, false);
            }
            self.count_domains(&node.labels, true);
            self.index_labels(i, &node.labels, true);
            self.slots[i] = Some(node);
            return;
        }
        self.count_domains(&node.labels, true);
        let name = node.name.clone();
        let labels = node.labels.clone();
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(node);
                i
            }
            None => {
                self.slots.push(Some(node));
                self.slots.len() - 1
            }
        };
        self.index_labels(i, &labels, true);
        self.by_name.insert(name, i);
    }

    /// Removes a node. Its pods stay counted against its name (they are still bound to it) and
    /// are found again if a node of that name comes back.
    pub fn remove_node(&mut self, name: &str) -> Option<NodeInfo> {
        let i = self.by_name.remove(name)?;
        let node = self.slots[i].take()?;
        self.count_domains(&node.labels, false);
        self.index_labels(i, &node.labels, false);
        self.free.push(i);
        Some(node)
    }

    fn usage_of(&self, node: &str) -> (Resources, Vec<HostPort>) {
        let mut r = Resources::default();
        let mut ports = Vec::new();
        for uid in self.pods_by_node.get(node).into_iter().flatten() {
            if let Some(p) = self.pods.get(uid) {
                r.add(&p.requests);
                ports.extend(p.host_ports.iter().cloned());
            }
        }
        (r, ports)
    }

    /// Counts `pod` on node `node` (bound or assumed). A pod already counted elsewhere is moved.
    pub fn add_pod(&mut self, node: &str, pod: &PodInfo) {
        self.remove_pod(&pod.uid);
        let assigned = AssignedPod {
            node: node.to_string(),
            namespace: pod.namespace.clone(),
            labels: pod.labels.clone(),
            requests: pod.requests,
            host_ports: pod.host_ports.clone(),
            anti_affinity: pod.anti_affinity.clone(),
        };
        if let Some(&i) = self.by_name.get(node) {
            if let Some(n) = self.slots[i].as_mut() {
                n.requested.add(&assigned.requests);
                n.used_ports.extend(assigned.host_ports.iter().cloned());
            }
        }
        for (k, v) in &assigned.labels {
            self.by_label
                .entry((assigned.namespace.clone(), k.clone(), v.clone()))
                .or_default()
                .insert(pod.uid.clone());
        }
        self.by_namespace
            .entry(assigned.namespace.clone())
            .or_default()
            .insert(pod.uid.clone());
        for key in Self::anti_keys(&assigned.anti_affinity) {
            self.anti_index
                .entry(key)
                .or_default()
                .insert(pod.uid.clone());
        }
        self.pods_by_node
            .entry(node.to_string())
            .or_default()
            .insert(pod.uid.clone());
        self.pods.insert(pod.uid.clone(), assigned);
    }

    /// Stops counting a pod (deleted, or an assumption undone). Returns where it was.
    pub fn remove_pod(&mut self, uid: &str) -> Option<AssignedPod> {
        let p = self.pods.remove(uid)?;
        if let Some(&i) = self.by_name.get(&p.node) {
            if let Some(n) = self.slots[i].as_mut() {
                n.requested.sub(&p.requests);
                for hp in &p.host_ports {
                    if let Some(pos) = n.used_ports.iter().position(|u| u == hp) {
                        n.used_ports.swap_remove(pos);
                    }
                }
            }
        }
        for (k, v) in &p.labels {
            let key = (p.namespace.clone(), k.clone(), v.clone());
            if let Some(set) = self.by_label.get_mut(&key) {
                set.remove(uid);
                if set.is_empty() {
                    self.by_label.remove(&key);
                }
            }
        }
        if let Some(set) = self.by_namespace.get_mut(&p.namespace) {
            set.remove(uid);
            if set.is_empty() {
                self.by_namespace.remove(&p.namespace);
            }
        }
        for key in Self::anti_keys(&p.anti_affinity) {
            if let Some(set) = self.anti_index.get_mut(&key) {
                set.remove(uid);
                if set.is_empty() {
                    self.anti_index.remove(&key);
                }
            }
        }
        if let Some(set) = self.pods_by_node.get_mut(&p.node) {
            set.remove(uid);
            if set.is_empty() {
                self.pods_by_node.remove(&p.node);
            }
        }
        Some(p)
    }

    /// Every counted pod in `namespaces` (all when `None`) whose labels match `selector`,
    /// found through the label index when the selector has an exact match to start from.
    pub fn pods_matching<'a>(
        &'a self,
        selector: &'a LabelSelector,
        namespaces: Option<&'a [String]>,
    ) -> Vec<&'a AssignedPod> {
        let mut out = Vec::new();
        let namespaces: Vec<&str> = match namespaces {
            Some(ns) => ns.iter().map(String::as_str).collect(),
            None => self.by_namespace.keys().map(String::as_str).collect(),
        };
        let probe = selector.match_labels.iter().next();
        for ns in namespaces {
            let candidates = match probe {
                Some((k, v)) => self.by_label.get(&(ns.to_string(), k.clone(), v.clone())),
                None => self.by_namespace.get(ns),
            };
            for uid in candidates.into_iter().flatten() {
                if let Some(p) = self.pods.get(uid) {
                    if selector.matches(&p.labels) {
                        out.push(p);
                    }
                }
            }
        }
        out
    }
}
