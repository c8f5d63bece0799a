//! Node loss on a simulated cluster with a virtual clock, through the real decisions: the
//! node liveness (`node_status::NodeLiveness`), the unreachable taint, taint eviction, the
//! ReplicaSet controller with expectations, and the scheduler. 200 nodes, 10 ReplicaSets of 60
//! pods (one of them tolerating the unreachable taint for 30 s); at 10 s ten nodes stop
//! heartbeating.
//!
//! The controllers read an informer cache that lags two ticks behind the store, as a real
//! watch does. Checked: with expectations no ReplicaSet ever has more pods than it wants (without
//! them the lag makes it create twice — the control run shows it); every pod of a lost node is
//! evicted `grace + pod_eviction_seconds` after its node went silent (30 s after the taint for
//! the tolerating ones); replacements land on live nodes only; in the end every ReplicaSet
//! has all its pods Running, none on a lost node.

use super::expectations::Expectations;
use super::{replicaset, taint_eviction, Action};
use crate::api::apps::ReplicaSet;
use crate::api::node::Node;
use crate::api::pod::Pod;
use crate::node_status::{mark_healthy, mark_unknown, set_unreachable_taint, NodeLiveness};
use crate::scheduler::{Config, NodeInfo, PodInfo, Scheduler};
use crate::time::Timestamp;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

const NODES: usize = 200;
const SETS: usize = 10;
const REPLICAS: usize = 60;
const TICK_MS: u64 = 250;
const HEARTBEAT_MS: u64 = 1_000;
const GRACE_MS: u64 = 4_000;
const EVICTION_S: i64 = 2;
const TOLERATING_S: i64 = 30;
const FAIL_AT_MS: u64 = 10_000;
const FAILED: usize = 10;
const END_MS: u64 = 50_000;
/// How many ticks the informer cache lags behind the store.
const LAG_TICKS: usize = 2;
const EPOCH_S: i64 = 1_800_000_000;

type Pods = BTreeMap<String, Arc<Value>>;

struct Sim {
    now_ms: u64,
    expectations: Option<Expectations>,
    nodes: BTreeMap<String, Value>,
    /// The store's pods by name, and the cache the controllers read (LAG_TICKS behind).
    store: Pods,
    cache: Pods,
    /// The store's states not yet delivered to the cache.
    history: VecDeque<Pods>,
    /// The cache's pods by namespace (rebuilt when a delivery changes something).
    by_namespace: BTreeMap<String, Vec<Value>>,
    sets: Vec<ReplicaSet>,
    scheduler: Scheduler,
    liveness: NodeLiveness,
    alive: BTreeSet<String>,
    next: usize,
    /// Most active pods any ReplicaSet had at once.
    most_active: usize,
    /// Pod name → (its node, when it was evicted).
    evicted: BTreeMap<String, (String, u64)>,
    /// When each node went Ready=Unknown.
    unknown_at: BTreeMap<String, u64>,
}

fn ts(ms: u64) -> Timestamp {
    Timestamp(EPOCH_S + (ms / 1000) as i64)
}

fn owner_key(pod: &Value) -> Option<String> {
    let owner = pod.pointer("/metadata/ownerReferences/0/name")?.as_str()?;
    let ns = pod.pointer("/metadata/namespace")?.as_str()?;
    Some(format!("{ns}/{owner}"))
}

fn active(pod: &Value) -> bool {
    pod.pointer("/metadata/deletionTimestamp").is_none()
        && !matches!(
            pod.pointer("/status/phase").and_then(Value::as_str),
            Some("Succeeded" | "Failed")
        )
}

impl Sim {
    fn new(with_expectations: bool) -> Sim {
        let mut sim = Sim {
            now_ms: 0,
            expectations: with_expectations.then(|| Expectations::new(15_000)),
            nodes: BTreeMap::new(),
            store: BTreeMap::new(),
            cache: BTreeMap::new(),
            history: VecDeque::new(),
            by_namespace: BTreeMap::new(),
            sets: Vec::new(),
            scheduler: Scheduler::new(Config {
                seed: 7,
                ..Config::default()
            }),
            liveness: NodeLiveness::new(GRACE_MS),
            alive: BTreeSet::new(),
            next: 0,
            most_active: 0,
            evicted: BTreeMap::new(),
            unknown_at: BTreeMap::new(),
        };
        for i in 0..NODES {
            let name = format!("node-{i:03}");
            let mut node = json!({"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                "spec": {},
                "status": {"capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                           "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"}}});
            mark_healthy(&mut node, ts(0));
            sim.liveness.heard(&name, 0);
            sim.alive.insert(name.clone());
            sim.nodes.insert(name.clone(), node);
            sim.sync_node(&name);
        }
        for s in 0..SETS {
            let tolerations = if s == 0 {
                json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                        "effect": "NoExecute", "tolerationSeconds": TOLERATING_S}])
            } else {
                json!([])
            };
            let rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": format!("set-{s}"), "namespace": format!("ns-{s}"),
                             "uid": format!("rs-uid-{s}"), "generation": 1},
                "spec": {"replicas": REPLICAS, "selector": {"matchLabels": {"app": format!("set-{s}")}},
                         "template": {"metadata": {"labels": {"app": format!("set-{s}")}},
                                      "spec": {"tolerations": tolerations, "containers": [{"name": "c", "image": "x",
                                               "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}}}});
            sim.sets
                .push(serde_json::from_value(rs).expect("a ReplicaSet"));
        }
        sim
    }

    fn sync_node(&mut self, name: &str) {
        let node: Node = serde_json::from_value(self.nodes[name].clone()).expect("a Node");
        self.scheduler
            .snapshot_mut()
            .upsert_node(NodeInfo::from_node(&node));
    }

    fn delete(&mut self, name: &str, uid: &str) -> bool {
        let matches = self
            .store
            .get(name)
            .is_some_and(|p| p["metadata"]["uid"] == uid);
        if matches {
            self.store.remove(name);
            let _ = self.scheduler.snapshot_mut().remove_pod(uid);
        }
        matches
    }

    fn tick(&mut self) {
        self.now_ms += TICK_MS;
        let (now_ms, now) = (self.now_ms, ts(self.now_ms));

        // The watch delivers the store's state of LAG_TICKS ago to the informer cache; each
        // pod that appeared or went in the delivery is an observed write of its ReplicaSet.
        self.history.push_back(self.store.clone());
        if self.history.len() > LAG_TICKS {
            let delivered = self.history.pop_front().unwrap_or_default();
            if let Some(exp) = self.expectations.as_mut() {
                let changed = delivered
                    .keys()
                    .filter(|k| !self.cache.contains_key(*k))
                    .chain(self.cache.keys().filter(|k| !delivered.contains_key(*k)));
                for name in changed {
                    let pod = delivered.get(name).or_else(|| self.cache.get(name));
                    if let Some(key) = pod.and_then(|p| owner_key(p)) {
                        exp.observed(&key);
                    }
                }
            }
            let changed = delivered.len() != self.cache.len()
                || delivered
                    .iter()
                    .zip(&self.cache)
                    .any(|((k1, v1), (k2, v2))| k1 != k2 || !Arc::ptr_eq(v1, v2));
            if changed {
                self.by_namespace.clear();
                for p in delivered.values() {
                    let ns = p["metadata"]["namespace"].as_str().unwrap_or_default();
                    self.by_namespace
                        .entry(ns.to_string())
                        .or_default()
                        .push((**p).clone());
                }
            }
            self.cache = delivered;
        }

        // Heartbeats; silent nodes turn Unknown and get the unreachable taint.
        if now_ms.is_multiple_of(HEARTBEAT_MS) {
            for n in &self.alive {
                self.liveness.heard(n, now_ms);
            }
        }
        for n in self.liveness.newly_silent(now_ms) {
            let node = self.nodes.get_mut(&n).expect("node");
            mark_unknown(node, now);
            assert!(set_unreachable_taint(node, true, now));
            self.unknown_at.insert(n.clone(), now_ms);
            self.sync_node(&n);
        }

        // Taint eviction, from the lagging cache.
        let cache = self.cache.clone();
        let concerned: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, n)| taint_eviction::concerned(n))
            .map(|(k, _)| k.clone())
            .collect();
        for n in concerned {
            for a in taint_eviction::reconcile(
                &self.nodes[&n],
                cache.values().map(|p| &**p),
                EVICTION_S,
                now,
            ) {
                if let Action::Delete { name, uid, .. } = a {
                    if self.delete(&name, &uid) {
                        self.evicted.insert(name, (n.clone(), now_ms));
                    }
                }
            }
        }

        // The ReplicaSet controller (each set has a namespace of its own), from the lagging
        // cache, waiting on its expectations.
        for rs in self.sets.clone() {
            let key = format!("{}/{}", rs.metadata.namespace, rs.metadata.name);
            if self.expectations.as_ref().is_some_and(|e| e.waiting(&key)) {
                continue;
            }
            let mut writes = 0;
            let mine: Vec<&Value> = self
                .by_namespace
                .get(rs.metadata.namespace.as_str())
                .into_iter()
                .flatten()
                .collect();
            for a in replicaset::reconcile(&rs, &mine, now) {
                match a {
                    Action::Create { mut object } => {
                        self.next += 1;
                        let name = format!("{}-{:05}", rs.metadata.name, self.next);
                        object["metadata"]["name"] = json!(name);
                        object["metadata"]["uid"] = json!(format!("uid-{}", self.next));
                        object["metadata"]["creationTimestamp"] = json!(now.to_rfc3339());
                        object["status"] = json!({"phase": "Pending"});
                        self.store.insert(name, Arc::new(object));
                        writes += 1;
                    }
                    Action::Delete { name, uid, .. } => {
                        self.delete(&name, &uid);
                        writes += 1;
                    }
                    _ => {}
                }
            }
            if let Some(e) = self.expectations.as_mut() {
                e.expect(&key, writes, now_ms);
            }
        }

        // The scheduler binds what is pending; the pod runs at once (a hollow node).
        let pending: Vec<String> = self
            .store
            .iter()
            .filter(|(_, p)| p.pointer("/spec/nodeName").is_none())
            .map(|(k, _)| k.clone())
            .collect();
        for name in pending {
            let typed: Pod = serde_json::from_value((*self.store[&name]).clone()).expect("a Pod");
            let info = PodInfo::from_pod(&typed);
            if let Ok(placed) = self.scheduler.schedule_and_assume(&info) {
                assert!(
                    self.alive.contains(&placed.node),
                    "{name} placed on lost node {}",
                    placed.node
                );
                let pod = Arc::make_mut(self.store.get_mut(&name).expect("pod"));
                pod["spec"]["nodeName"] = json!(placed.node);
                pod["status"] = json!({"phase": "Running", "conditions": [
                    {"type": "Ready", "status": "True", "lastTransitionTime": now.to_rfc3339()}]});
            }
        }

        let mut per_set: BTreeMap<String, usize> = BTreeMap::new();
        for p in self.store.values().filter(|p| active(p)) {
            *per_set.entry(owner_key(p).unwrap_or_default()).or_default() += 1;
        }
        self.most_active = self
            .most_active
            .max(per_set.values().copied().max().unwrap_or(0));
    }

    /// Nodes holding the most pods of set-0, so tolerating pods are among the lost.
    fn fail(&mut self) -> Vec<String> {
        let mut by_node: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for p in self.store.values() {
            let node = p["spec"]["nodeName"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let e = by_node.entry(node).or_default();
            e.1 += 1;
            if p["metadata"]["labels"]["app"] == "set-0" {
                e.0 += 1;
            }
        }
        let mut nodes: Vec<(String, (usize, usize))> = by_node.into_iter().collect();
        nodes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let lost: Vec<String> = nodes.into_iter().take(FAILED).map(|n| n.0).collect();
        for n in &lost {
            self.alive.remove(n);
        }
        lost
    }
}

fn run(with_expectations: bool) -> (Sim, Vec<String>, BTreeSet<String>) {
    let mut sim = Sim::new(with_expectations);
    while sim.now_ms < FAIL_AT_MS {
        sim.tick();
    }
    let on_lost = |sim: &Sim, lost: &[String]| -> BTreeSet<String> {
        sim.store
            .iter()
            .filter(|(_, p)| {
                p["spec"]["nodeName"]
                    .as_str()
                    .is_some_and(|n| lost.iter().any(|l| l == n))
            })
            .map(|(k, _)| k.clone())
            .collect()
    };
    let lost = sim.fail();
    let stranded = on_lost(&sim, &lost);
    while sim.now_ms < END_MS {
        sim.tick();
    }
    (sim, lost, stranded)
}

#[test]
fn lost_nodes_pods_are_evicted_on_time_and_replaced_once() {
    let (sim, lost, stranded) = run(true);
    assert_eq!(
        sim.most_active, REPLICAS,
        "with expectations no ReplicaSet ever has more pods than it wants"
    );
    assert!(!stranded.is_empty());
    let tolerating = stranded.iter().filter(|n| n.starts_with("set-0-")).count();
    assert!(
        tolerating > 0,
        "some tolerating pods were on the lost nodes"
    );

    // Each lost node: Unknown `grace` after its last heartbeat; its pods evicted
    // pod_eviction_seconds later (whole-second timestamps: within one second), the tolerating
    // ones TOLERATING_S later.
    let last_heartbeat = FAIL_AT_MS - FAIL_AT_MS % HEARTBEAT_MS;
    let mut slowest_ms = 0;
    for name in &stranded {
        let (node, at) = sim
            .evicted
            .get(name)
            .unwrap_or_else(|| panic!("{name} never evicted"));
        let unknown = sim.unknown_at[node];
        assert!(
            (last_heartbeat + GRACE_MS..=last_heartbeat + GRACE_MS + TICK_MS).contains(&unknown),
            "{node} Unknown at {unknown} ms"
        );
        let wait = if name.starts_with("set-0-") {
            TOLERATING_S
        } else {
            EVICTION_S
        } as u64
            * 1000;
        assert!(
            (unknown + wait - 1000..=unknown + wait + 1000).contains(at),
            "{name} on {node}: Unknown at {unknown} ms, evicted at {at} ms"
        );
        if !name.starts_with("set-0-") {
            slowest_ms = slowest_ms.max(at - FAIL_AT_MS);
        }
    }
    // Recovery (silence → replacements Running, without tolerations) on the virtual clock.
    assert!(
        slowest_ms <= GRACE_MS + EVICTION_S as u64 * 1000 + 2 * HEARTBEAT_MS,
        "recovery took {slowest_ms} ms"
    );

    // The end: every set has its pods, all Running on live nodes; the lost nodes run nothing.
    for rs in &sim.sets {
        let pods: Vec<&Value> = sim
            .store
            .values()
            .map(|p| &**p)
            .filter(|p| p["metadata"]["labels"]["app"] == rs.metadata.name.as_str())
            .collect();
        assert_eq!(pods.len(), REPLICAS, "{}", rs.metadata.name);
        for p in pods {
            assert_eq!(p["status"]["phase"], "Running");
            let node = p["spec"]["nodeName"].as_str().expect("bound");
            assert!(
                !lost.iter().any(|l| l == node),
                "{} on lost {node}",
                p["metadata"]["name"]
            );
        }
    }
}

#[test]
fn without_expectations_a_lagging_cache_creates_twice() {
    // The control: the same cluster without expectations over-creates, so the test above
    // would catch their loss.
    let (sim, _, _) = run(false);
    assert!(
        sim.most_active > REPLICAS,
        "most active pods of a set: {}",
        sim.most_active
    );
}
