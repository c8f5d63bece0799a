//! An independent model of the cluster and of the hard constraints, written from the
//! Kubernetes rules rather than from the plugins, for the property test and the simulation to
//! check every decision against. It keeps its own pods per node, and its own running sum of
//! what they request, which `assert_consistent` checks against a sum from scratch; it never
//! reads `NodeInfo::requested`.
//!
//! A node gives the reasons of the first rule it breaks, in kube-scheduler's filter order:
//! readiness, cordon, nodeName, taints, node affinity, ports, resources, topology spread,
//! inter-pod affinity (the pod's affinity, its anti-affinity, existing pods' anti-affinity).

use super::*;
use crate::api::pod::{NodeSelectorRequirement, NodeSelectorTerm};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The cluster: node facts (labels, taints, readiness, cordon, allocatable) and pods by node.
#[derive(Default)]
pub(super) struct Model {
    pub nodes: BTreeMap<String, NodeInfo>,
    pub pods: HashMap<String, (String, PodInfo)>,
    pub on_node: HashMap<String, BTreeSet<String>>,
    /// (namespace, label key, value) → uids: finds pods by label in big clusters.
    by_label: HashMap<(String, String, String), BTreeSet<String>>,
    by_namespace: HashMap<String, BTreeSet<String>>,
    /// Pods with required anti-affinity terms, by the first matchLabels pair of each term
    /// (`None` for terms without matchLabels): only those can match a pod with that label.
    anti_pods: HashMap<Option<(String, String)>, BTreeSet<String>>,
    /// What each node's pods request, kept as they come and go (checked against a sum from
    /// scratch in `assert_consistent`).
    usage: HashMap<String, Resources>,
}

/// What the hard inter-pod and spread constraints of one pod need to know of the other pods.
pub(super) struct Context {
    /// Per anti-affinity term: its key and the domains holding a matching pod.
    anti: Vec<(String, BTreeSet<String>)>,
    /// (key, domain) pairs where an existing pod's anti-affinity forbids the pod.
    existing_anti: BTreeSet<(String, String)>,
    /// Per affinity term: its key and the domains holding a matching pod.
    affinity: Vec<(String, BTreeSet<String>)>,
    /// No pod matches any affinity term and the pod matches all of them (Kubernetes lets
    /// such a first pod go to any node carrying the keys).
    affinity_first: bool,
    /// Per DoNotSchedule constraint: key, maxSkew, matching pods per eligible domain, whether
    /// the pod counts itself.
    spread: Vec<(String, i64, BTreeMap<String, i64>, i64)>,
}

fn tolerated(pod: &PodInfo, key: &str, value: &str, effect: &str) -> bool {
    pod.tolerations.iter().any(|t| {
        let t_effect = t.effect.as_deref().unwrap_or("");
        let t_key = t.key.as_deref().unwrap_or("");
        (t_effect.is_empty() || t_effect == effect)
            && (t_key.is_empty() || t_key == key)
            && match t.operator.as_deref().unwrap_or("Equal") {
                "Exists" => true,
                "Equal" | "" => t.value.as_deref().unwrap_or("") == value,
                _ => false,
            }
    })
}

fn requirement_ok(r: &NodeSelectorRequirement, value: Option<&String>) -> bool {
    let listed = |v: &String| r.values.contains(v);
    match r.operator.as_str() {
        "In" => value.is_some_and(listed),
        "NotIn" => !value.is_some_and(listed),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let number = value.and_then(|v| v.parse::<i64>().ok());
            let bound = r.values.first().and_then(|b| b.parse::<i64>().ok());
            match (number, bound) {
                (Some(n), Some(b)) if r.operator == "Gt" => n > b,
                (Some(n), Some(b)) => n < b,
                _ => false,
            }
        }
        _ => false,
    }
}

fn term_ok(t: &NodeSelectorTerm, node: &NodeInfo) -> bool {
    (!t.match_expressions.is_empty() || !t.match_fields.is_empty())
        && t.match_expressions
            .iter()
            .all(|r| requirement_ok(r, node.labels.get(&r.key)))
        && t.match_fields
            .iter()
            .all(|r| r.key == "metadata.name" && requirement_ok(r, Some(&node.name)))
}

/// nodeSelector and required node affinity.
pub(super) fn node_matches(pod: &PodInfo, node: &NodeInfo) -> bool {
    pod.node_selector
        .iter()
        .all(|(k, v)| node.labels.get(k) == Some(v))
        && pod
            .required_affinity
            .as_ref()
            .is_none_or(|s| s.node_selector_terms.iter().any(|t| term_ok(t, node)))
}

fn ports_clash(a: &HostPort, b: &HostPort) -> bool {
    let any = "0.0.0.0";
    a.protocol == b.protocol && a.port == b.port && (a.ip == b.ip || a.ip == any || b.ip == any)
}

fn first_label(t: &AffinityTerm) -> Option<(String, String)> {
    t.selector
        .match_labels
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
}

impl Model {
    pub fn set_node(&mut self, n: NodeInfo) {
        self.nodes.insert(n.name.clone(), n);
    }

    /// Forgets a node; returns the uids of the pods still bound to it.
    pub fn remove_node(&mut self, name: &str) -> Vec<String> {
        self.nodes.remove(name);
        self.on_node
            .get(name)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn place(&mut self, node: &str, p: &PodInfo) {
        assert!(!self.pods.contains_key(&p.uid), "{} placed twice", p.uid);
        for (k, v) in &p.labels {
            self.by_label
                .entry((p.namespace.clone(), k.clone(), v.clone()))
                .or_default()
                .insert(p.uid.clone());
        }
        self.by_namespace
            .entry(p.namespace.clone())
            .or_default()
            .insert(p.uid.clone());
        for t in &p.anti_affinity {
            self.anti_pods
                .entry(first_label(t))
                .or_default()
                .insert(p.uid.clone());
        }
        self.on_node
            .entry(node.to_string())
            .or_default()
            .insert(p.uid.clone());
        let u = self.usage.entry(node.to_string()).or_default();
        u.milli_cpu += p.requests.milli_cpu;
        u.memory += p.requests.memory;
        u.pods += 1;
        self.pods
            .insert(p.uid.clone(), (node.to_string(), p.clone()));
    }

    pub fn remove(&mut self, uid: &str) -> Option<(String, PodInfo)> {
        let (node, p) = self.pods.remove(uid)?;
        for (k, v) in &p.labels {
            if let Some(set) = self
                .by_label
                .get_mut(&(p.namespace.clone(), k.clone(), v.clone()))
            {
                set.remove(uid);
            }
        }
        if let Some(set) = self.by_namespace.get_mut(&p.namespace) {
            set.remove(uid);
        }
        for t in &p.anti_affinity {
            if let Some(set) = self.anti_pods.get_mut(&first_label(t)) {
                set.remove(uid);
            }
        }
        if let Some(set) = self.on_node.get_mut(&node) {
            set.remove(uid);
        }
        if let Some(u) = self.usage.get_mut(&node) {
            u.milli_cpu -= p.requests.milli_cpu;
            u.memory -= p.requests.memory;
            u.pods -= 1;
        }
        Some((node, p))
    }

    /// The pods on `node`.
    pub fn pods_on(&self, node: &str) -> impl Iterator<Item = &PodInfo> {
        self.on_node
            .get(node)
            .into_iter()
            .flatten()
            .filter_map(|uid| self.pods.get(uid).map(|(_, p)| p))
    }

    /// What the pods on `node` request, summed now; `pods` counts them.
    pub fn used(&self, node: &str) -> Resources {
        let mut r = Resources::default();
        for p in self.pods_on(node) {
            r.milli_cpu += p.requests.milli_cpu;
            r.memory += p.requests.memory;
            r.pods += 1;
        }
        r
    }

    /// The host ports in use on `node`.
    pub fn ports(&self, node: &str) -> Vec<HostPort> {
        self.pods_on(node)
            .flat_map(|p| p.host_ports.iter().cloned())
            .collect()
    }

    /// Pods in `namespaces` (all if `None`) whose labels match `selector`, each with its node.
    fn matching<'a>(
        &'a self,
        selector: &LabelSelector,
        namespaces: Option<&[String]>,
    ) -> Vec<(&'a String, &'a PodInfo)> {
        let namespaces: Vec<String> = match namespaces {
            Some(ns) => ns
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            None => self.by_namespace.keys().cloned().collect(),
        };
        let mut out = Vec::new();
        for ns in namespaces {
            let uids = match selector.match_labels.iter().next() {
                Some((k, v)) => self.by_label.get(&(ns.clone(), k.clone(), v.clone())),
                None => self.by_namespace.get(&ns),
            };
            for uid in uids.into_iter().flatten() {
                let (node, p) = &self.pods[uid];
                if p.namespace == ns && selector.matches(&p.labels) {
                    out.push((node, p));
                }
            }
        }
        out
    }

    /// The value of `key` on the (present) node `node`.
    fn domain(&self, node: &str, key: &str) -> Option<&String> {
        self.nodes.get(node)?.labels.get(key)
    }

    fn term_domains(&self, t: &AffinityTerm) -> BTreeSet<String> {
        self.matching(&t.selector, t.namespaces.as_deref())
            .into_iter()
            .filter_map(|(node, _)| self.domain(node, &t.topology_key).cloned())
            .collect()
    }

    pub fn context(&self, pod: &PodInfo) -> Context {
        let anti = pod
            .anti_affinity
            .iter()
            .map(|t| (t.topology_key.clone(), self.term_domains(t)))
            .collect();
        let affinity: Vec<(String, BTreeSet<String>)> = pod
            .affinity
            .iter()
            .map(|t| (t.topology_key.clone(), self.term_domains(t)))
            .collect();
        let affinity_first = affinity.iter().all(|(_, d)| d.is_empty())
            && pod
                .affinity
                .iter()
                .all(|t| t.matches(&pod.namespace, &pod.labels));
        let mut existing_anti = BTreeSet::new();
        let mut candidates: BTreeSet<&String> = BTreeSet::new();
        for key in pod
            .labels
            .iter()
            .map(|(k, v)| Some((k.clone(), v.clone())))
            .chain([None])
        {
            candidates.extend(self.anti_pods.get(&key).into_iter().flatten());
        }
        for uid in candidates {
            let (node, other) = &self.pods[uid];
            for t in &other.anti_affinity {
                if t.matches(&pod.namespace, &pod.labels) {
                    if let Some(d) = self.domain(node, &t.topology_key) {
                        existing_anti.insert((t.topology_key.clone(), d.clone()));
                    }
                }
            }
        }
        let constrained = !pod.node_selector.is_empty() || pod.required_affinity.is_some();
        let eligible = |n: &NodeInfo| !constrained || node_matches(pod, n);
        let mut spread = Vec::new();
        for c in &pod.spread {
            if c.when != model::WhenUnsatisfiable::DoNotSchedule {
                continue;
            }
            let mut counts: BTreeMap<String, i64> = self
                .nodes
                .values()
                .filter(|n| eligible(n))
                .filter_map(|n| n.labels.get(&c.topology_key))
                .map(|d| (d.clone(), 0))
                .collect();
            for (node, _) in self.matching(&c.selector, Some(std::slice::from_ref(&pod.namespace)))
            {
                let Some(n) = self.nodes.get(node) else {
                    continue;
                };
                if let (true, Some(d)) = (eligible(n), n.labels.get(&c.topology_key)) {
                    *counts.entry(d.clone()).or_default() += 1;
                }
            }
            let own = i64::from(c.selector.matches(&pod.labels));
            spread.push((c.topology_key.clone(), c.max_skew, counts, own));
        }
        Context {
            anti,
            existing_anti,
            affinity,
            affinity_first,
            spread,
        }
    }

    /// Whether `pod` may go to `node`, or the first failing rule's reasons.
    pub fn check(&self, cx: &Context, pod: &PodInfo, node: &NodeInfo) -> Result<(), Vec<Reason>> {
        if !node.ready {
            return Err(vec![Reason::NotReady]);
        }
        if node.unschedulable && !tolerated(pod, UNSCHEDULABLE_TAINT, "", "NoSchedule") {
            return Err(vec![Reason::Unschedulable]);
        }
        if pod.node_name.as_ref().is_some_and(|n| *n != node.name) {
            return Err(vec![Reason::NodeName]);
        }
        for t in &node.taints {
            let value = t.value.as_deref().unwrap_or("");
            if (t.effect == "NoSchedule" || t.effect == "NoExecute")
                && !tolerated(pod, &t.key, value, &t.effect)
            {
                return Err(vec![Reason::UntoleratedTaint {
                    key: t.key.clone(),
                    value: value.into(),
                }]);
            }
        }
        if !node_matches(pod, node) {
            return Err(vec![Reason::NodeAffinity]);
        }
        if !pod.host_ports.is_empty() {
            let used_ports = self.ports(&node.name);
            if pod
                .host_ports
                .iter()
                .any(|p| used_ports.iter().any(|u| ports_clash(p, u)))
            {
                return Err(vec![Reason::HostPorts]);
            }
        }
        let used = self.usage.get(&node.name).copied().unwrap_or_default();
        let (want, alloc) = (&pod.requests, &node.allocatable);
        let mut short = Vec::new();
        if used.pods + 1 > alloc.pods {
            short.push(Reason::TooManyPods);
        }
        if want.milli_cpu > 0 && used.milli_cpu + want.milli_cpu > alloc.milli_cpu {
            short.push(Reason::Insufficient("cpu"));
        }
        if want.memory > 0 && used.memory + want.memory > alloc.memory {
            short.push(Reason::Insufficient("memory"));
        }
        if !short.is_empty() {
            return Err(short);
        }
        for (key, max_skew, counts, own) in &cx.spread {
            let Some(d) = node.labels.get(key) else {
                return Err(vec![Reason::TopologySpreadMissingLabel]);
            };
            let min = counts.values().copied().min().unwrap_or(0);
            if counts.get(d).copied().unwrap_or(0) + own - min > *max_skew {
                return Err(vec![Reason::TopologySpread]);
            }
        }
        let here = |key: &String| node.labels.get(key);
        let affinity_ok = if cx.affinity_first {
            cx.affinity.iter().all(|(k, _)| here(k).is_some())
        } else {
            cx.affinity
                .iter()
                .all(|(k, ds)| here(k).is_some_and(|d| ds.contains(d)))
        };
        if !affinity_ok {
            return Err(vec![Reason::PodAffinity]);
        }
        if cx
            .anti
            .iter()
            .any(|(k, ds)| here(k).is_some_and(|d| ds.contains(d)))
        {
            return Err(vec![Reason::PodAntiAffinity]);
        }
        if cx.existing_anti.iter().any(|(k, d)| here(k) == Some(d)) {
            return Err(vec![Reason::ExistingAntiAffinity]);
        }
        Ok(())
    }

    /// Every node's verdict for `pod`.
    pub fn verdicts(&self, pod: &PodInfo) -> Vec<(&String, Result<(), Vec<Reason>>)> {
        let cx = self.context(pod);
        self.nodes
            .iter()
            .map(|(name, n)| (name, self.check(&cx, pod, n)))
            .collect()
    }

    /// The nodes `pod` may go to, and how many nodes gave each reason against it.
    pub fn judge(&self, pod: &PodInfo) -> (Vec<String>, BTreeMap<Reason, usize>) {
        let mut feasible = Vec::new();
        let mut reasons = BTreeMap::new();
        for (name, verdict) in self.verdicts(pod) {
            match verdict {
                Ok(()) => feasible.push(name.clone()),
                Err(rs) => {
                    for r in rs {
                        *reasons.entry(r).or_default() += 1;
                    }
                }
            }
        }
        (feasible, reasons)
    }

    /// Checks that no node is overcommitted (recomputed from the model's own pods) and that the
    /// engine's snapshot agrees with the model on nodes, pods, requests and ports.
    pub fn assert_consistent(&self, s: &Scheduler, label: &str) {
        let snapshot = s.snapshot();
        assert_eq!(snapshot.node_count(), self.nodes.len(), "{label}: nodes");
        assert_eq!(snapshot.pod_count(), self.pods.len(), "{label}: pods");
        for (name, n) in &self.nodes {
            let used = self.used(name);
            let alloc = &n.allocatable;
            assert!(
                used.milli_cpu <= alloc.milli_cpu
                    && used.memory <= alloc.memory
                    && used.pods <= alloc.pods,
                "{label}: {name} overcommitted: {used:?} > {alloc:?}"
            );
            assert_eq!(
                self.usage.get(name).copied().unwrap_or_default(),
                used,
                "{label}: {name}'s running sum"
            );
            let seen = snapshot.node(name).expect("node in the snapshot");
            assert_eq!(seen.requested, used, "{label}: {name}'s requests");
            let mut ports = self.ports(name);
            let mut seen_ports = seen.used_ports.clone();
            let key = |p: &HostPort| (p.protocol.clone(), p.ip.clone(), p.port);
            ports.sort_by_key(key);
            seen_ports.sort_by_key(key);
            assert_eq!(seen_ports, ports, "{label}: {name}'s ports");
        }
        for (uid, (node, _)) in &self.pods {
            assert_eq!(
                snapshot.pod(uid).map(|p| p.node.as_str()),
                Some(node.as_str()),
                "{label}: {uid}"
            );
            assert!(
                self.nodes.contains_key(node),
                "{label}: {uid} on a gone node"
            );
        }
    }
}
