//! A simulated cluster on a virtual clock: 1,000 nodes (a tenth of them a tainted gpu pool, in
//! five zones) and 20,000 pods from 200 deployments, in batches of 1,000, 30 virtual seconds
//! apart. Between batches nodes fail (they stop heartbeating: `NodeLiveness` reports them
//! silent, their Node object turns Ready=Unknown, and after the eviction timeout their pods
//! are deleted and recreated by their controller), some recover, some are deleted with their
//! pods, some are cordoned, and new ones join. The last batch asks for more than the cluster
//! has.
//!
//! Every decision is checked against the oracle (the chosen node passes every hard constraint;
//! a pod is unschedulable only if no node fits it, with the oracle's reasons node for node);
//! after every batch no node is overcommitted and the snapshot agrees with the test's own
//! bookkeeping; until capacity runs out every pod is placed, including the ones recreated after
//! their node failed.

use super::oracle::Model;
use super::*;
use crate::api::node::Node;
use crate::node_status::{mark_healthy, mark_unknown, NodeLiveness};
use crate::time::Timestamp;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const NODES: usize = 1000;
const ZONES: usize = 5;
const PODS: usize = 20_000;
const BATCH: usize = 1000;
const DEPLOYMENTS: usize = 200;
/// Nodes fail, recover and are deleted in batches `1..LAST_FAILURES` (their pods are evicted
/// before the overflow starts).
const LAST_FAILURES: usize = 14;
/// From this batch on the pods are big: the cluster runs out.
const OVERFLOW_FROM: usize = 19;
const TICK_MS: u64 = 30_000;
/// Silence after which a node is Ready=Unknown.
const GRACE_MS: u64 = 40_000;
/// Time a node stays Ready=Unknown before its pods are evicted.
const EVICT_AFTER_MS: u64 = 60_000;

#[derive(Debug, Default)]
struct Stats {
    placed: usize,
    unschedulable: usize,
    failed: usize,
    recovered: usize,
    evicted: usize,
    deleted_nodes: usize,
    deleted_with_node: usize,
    joined: usize,
    cordoned: usize,
}

struct Cluster {
    now_ms: u64,
    s: Scheduler,
    model: Model,
    /// The Node objects, as the API server would hold them.
    objects: BTreeMap<String, Value>,
    liveness: NodeLiveness,
    /// Nodes whose workers heartbeat.
    alive: BTreeSet<String>,
    /// Ready=Unknown nodes whose pods are not evicted yet, with when they went Unknown.
    unknown_since: BTreeMap<String, u64>,
    pending: Vec<PodInfo>,
    next_node: usize,
    next_uid: usize,
    g: Gen,
    stats: Stats,
}

fn node_info(object: &Value) -> NodeInfo {
    let n: Node = serde_json::from_value(object.clone()).expect("a Node");
    NodeInfo::from_node(&n)
}

/// The pod template of deployment `d`.
fn template(d: usize) -> PodInfo {
    let app = format!("app-{d:03}");
    let cpu = [100, 200, 250, 500][d % 4];
    let mem = [128, 256, 512, 1024][(d / 4) % 4];
    let mut p = labelled(pod(&app, cpu, mem), &[("app", &app)]);
    if d.is_multiple_of(20) {
        // The gpu pool: tolerate its taint and ask for it.
        p.tolerations = vec![toleration("dedicated", "Exists", "", "")];
        p.node_selector = labels(&[("pool", "gpu")]);
    }
    if d % 40 == 5 {
        let zone = format!("z{}", (d / 40) % ZONES);
        p.node_selector = labels(&[(ZONE, &zone)]);
    }
    if d % 100 == 7 {
        p.anti_affinity = vec![term(&[("app", &app)], HOSTNAME, 0)];
    }
    if d % 10 == 3 {
        p.spread = vec![spread(&[("app", &app)], ZONE, 1, false)];
    }
    if d % 40 == 17 {
        p.spread = vec![spread(&[("app", &app)], ZONE, 1, true)];
    }
    if d % 50 == 11 {
        p.host_ports = vec![HostPort {
            protocol: "TCP".into(),
            ip: "0.0.0.0".into(),
            port: 9000 + (d / 50) as i32,
        }];
    }
    p
}

impl Cluster {
    fn new() -> Cluster {
        Cluster {
            now_ms: 0,
            s: Scheduler::new(Config {
                seed: 2024,
                ..Config::default()
            }),
            model: Model::default(),
            objects: BTreeMap::new(),
            liveness: NodeLiveness::new(GRACE_MS),
            alive: BTreeSet::new(),
            unknown_since: BTreeMap::new(),
            pending: Vec::new(),
            next_node: 0,
            next_uid: 0,
            g: Gen::new(5),
            stats: Stats::default(),
        }
    }

    fn now(&self) -> Timestamp {
        Timestamp(1_700_000_000 + (self.now_ms / 1000) as i64)
    }

    /// Feeds the Node object's current state to the scheduler and the model.
    fn sync(&mut self, name: &str) {
        let info = node_info(&self.objects[name]);
        self.s.snapshot_mut().upsert_node(info.clone());
        self.model.set_node(info);
    }

    fn join(&mut self) {
        let i = self.next_node;
        self.next_node += 1;
        let name = format!("node-{i:04}");
        let gpu = i % 10 == 9;
        let mut object = json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {
                ZONE: format!("z{}", i % ZONES),
                "pool": if gpu { "gpu" } else { "general" },
            }},
            "spec": {},
            "status": {
                "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            }
        });
        if gpu {
            object["spec"]["taints"] =
                json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]);
        }
        mark_healthy(&mut object, self.now());
        self.objects.insert(name.clone(), object);
        self.liveness.heard(&name, self.now_ms);
        self.alive.insert(name.clone());
        self.sync(&name);
    }

    /// A controller recreates a deleted pod: same template, new uid.
    fn recreate(&mut self, p: PodInfo) {
        self.next_uid += 1;
        self.pending.push(PodInfo {
            uid: format!("{}-re{}", p.name, self.next_uid),
            ..p
        });
    }

    fn delete_pods_of(&mut self, node: &str) -> usize {
        let uids: Vec<String> = self
            .model
            .on_node
            .get(node)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        for uid in &uids {
            self.s.snapshot_mut().remove_pod(uid).expect("counted");
            let (_, p) = self.model.remove(uid).expect("placed");
            self.recreate(p);
        }
        uids.len()
    }

    /// The clock moves on: live nodes heartbeat, silent ones turn Unknown, and the pods of
    /// nodes Unknown for long enough are evicted.
    fn tick(&mut self) {
        self.now_ms += TICK_MS;
        let now = self.now_ms;
        for name in self.alive.clone() {
            self.liveness.heard(&name, now);
        }
        for name in self.liveness.newly_silent(now) {
            let ts = self.now();
            let object = self.objects.get_mut(&name).expect("object");
            mark_unknown(object, ts);
            self.sync(&name);
            assert!(!self.model.nodes[&name].ready, "{name} Unknown but ready");
            self.unknown_since.insert(name, now);
        }
        let due: Vec<String> = self
            .unknown_since
            .iter()
            .filter(|(_, &since)| now - since >= EVICT_AFTER_MS)
            .map(|(n, _)| n.clone())
            .collect();
        for name in due {
            self.unknown_since.remove(&name);
            self.stats.evicted += self.delete_pods_of(&name);
        }
    }

    fn random_node(&mut self, pick: impl Fn(&Cluster, &String) -> bool) -> Option<String> {
        let candidates: Vec<String> = self
            .objects
            .keys()
            .filter(|n| pick(self, n))
            .cloned()
            .collect();
        (!candidates.is_empty()).then(|| self.g.pick(&candidates))
    }

    fn churn(&mut self) {
        for _ in 0..6 {
            if let Some(n) = self.random_node(|c, n| c.alive.contains(n)) {
                self.alive.remove(&n);
                self.stats.failed += 1;
            }
        }
        for _ in 0..2 {
            if let Some(n) = self.random_node(|c, n| !c.alive.contains(n)) {
                // Its worker comes back before or after the eviction.
                self.alive.insert(n.clone());
                self.liveness.heard(&n, self.now_ms);
                let ts = self.now();
                mark_healthy(self.objects.get_mut(&n).expect("object"), ts);
                self.sync(&n);
                self.unknown_since.remove(&n);
                self.stats.recovered += 1;
            }
        }
        for _ in 0..2 {
            if let Some(n) = self.random_node(|_, _| true) {
                // Deleted: the node lifecycle deletes its pods with it.
                self.s.snapshot_mut().remove_node(&n).expect("present");
                self.objects.remove(&n);
                self.liveness.forget(&n);
                self.alive.remove(&n);
                self.unknown_since.remove(&n);
                self.model.remove_node(&n);
                self.stats.deleted_with_node += self.delete_pods_of(&n);
                self.stats.deleted_nodes += 1;
            }
        }
        for _ in 0..8 {
            self.join();
            self.stats.joined += 1;
        }
    }

    fn cordon_one(&mut self) {
        if let Some(n) = self.random_node(|c, n| c.alive.contains(n)) {
            self.objects.get_mut(&n).expect("object")["spec"]["unschedulable"] = json!(true);
            self.sync(&n);
            self.stats.cordoned += 1;
        }
    }

    /// Schedules every pending pod once, in order; the ones that do not fit stay pending.
    /// Returns the Unschedulable of the last that did not fit.
    fn schedule_pending(&mut self, label: &str) -> Option<Unschedulable> {
        let mut last = None;
        for p in std::mem::take(&mut self.pending) {
            match self.s.schedule_and_assume(&p) {
                Ok(placed) => {
                    let node = &self.model.nodes[&placed.node];
                    let cx = self.model.context(&p);
                    if let Err(why) = self.model.check(&cx, &p, node) {
                        panic!(
                            "{label}: {} placed on {} against {why:?}",
                            p.uid, placed.node
                        );
                    }
                    self.model.place(&placed.node, &p);
                    self.stats.placed += 1;
                }
                Err(u) => {
                    let (feasible, reasons) = self.model.judge(&p);
                    assert!(
                        feasible.is_empty(),
                        "{label}: {} unschedulable ({u}) but fits {:?}",
                        p.uid,
                        &feasible[..feasible.len().min(5)]
                    );
                    assert_eq!(u.nodes, self.model.nodes.len(), "{label}");
                    assert_eq!(u.reasons, reasons, "{label}: {} {u}", p.uid);
                    self.stats.unschedulable += 1;
                    self.pending.push(p);
                    last = Some(u);
                }
            }
        }
        last
    }
}

/// The message for `reasons` over `nodes` nodes, as Kubernetes words it (entries sorted as
/// strings).
fn message(nodes: usize, reasons: &BTreeMap<Reason, usize>) -> String {
    let mut parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    format!("0/{nodes} nodes are available: {}.", parts.join(", "))
}

#[test]
fn simulated_cluster_on_a_virtual_clock() {
    let mut c = Cluster::new();
    for _ in 0..NODES {
        c.join();
    }
    let mut created = 0;
    let mut last_unschedulable = None;
    for batch in 0..PODS / BATCH {
        let label = format!("batch {batch}");
        c.tick();
        if (1..LAST_FAILURES).contains(&batch) {
            c.churn();
        }
        if (1..OVERFLOW_FROM).contains(&batch) {
            c.cordon_one();
        }
        for i in 0..BATCH {
            let k = batch * BATCH + i;
            let uid = format!("pod-{k:05}");
            let p = if batch < OVERFLOW_FROM {
                PodInfo {
                    uid: uid.clone(),
                    name: uid,
                    ..template(k % DEPLOYMENTS)
                }
            } else {
                labelled(pod(&uid, 2000, 4096), &[("app", "big")])
            };
            c.pending.push(p);
            created += 1;
        }
        if let Some(u) = c.schedule_pending(&label) {
            last_unschedulable = Some(u);
        }
        c.model.assert_consistent(&c.s, &label);
        if batch < OVERFLOW_FROM {
            assert!(
                c.pending.is_empty(),
                "{label}: {} pods pending though they fit (the oracle agreed): {:?}",
                c.pending.len(),
                c.pending.first().map(|p| &p.uid)
            );
        }
        if batch == OVERFLOW_FROM - 1 {
            // Before the overflow: every failed node's pods were evicted and placed again, on
            // ready nodes.
            assert!(c.unknown_since.is_empty(), "{:?}", c.unknown_since);
            for (uid, (node, _)) in &c.model.pods {
                assert!(c.model.nodes[node].ready, "{uid} left on the failed {node}");
            }
            assert_eq!(
                c.model.pods.len(),
                created,
                "every pod created so far runs, recreated ones in place of the evicted"
            );
        }
    }
    let stats = &c.stats;
    assert!(stats.failed > 50 && stats.recovered > 10, "{stats:?}");
    assert!(stats.evicted > 500, "{stats:?}");
    assert!(stats.deleted_with_node > 100, "{stats:?}");
    assert!(stats.joined > 50 && stats.cordoned > 10, "{stats:?}");
    // The overflow: some big pods found room, the rest wait, for the right reasons.
    let big_placed = c
        .model
        .pods
        .values()
        .filter(|(_, p)| p.labels["app"] == "big")
        .count();
    assert!(big_placed > 100, "{big_placed} big pods placed");
    assert!(c.pending.len() > 20, "{} pending", c.pending.len());
    assert!(c.pending.iter().all(|p| p.labels["app"] == "big"));
    assert_eq!(
        c.model.pods.len() + c.pending.len(),
        created,
        "every pod is placed or pending"
    );
    let u = last_unschedulable.expect("the cluster ran out");
    let p = c.pending[0].clone();
    let now = c.s.schedule(&p).expect_err("still no room");
    let (_, reasons) = c.model.judge(&p);
    assert_eq!(now.to_string(), message(c.model.nodes.len(), &reasons));
    assert_eq!(now, u, "nothing changed since the last attempt");
    let text = now.to_string();
    for part in [
        "Insufficient cpu",
        "node(s) had untolerated taint {dedicated: gpu}",
        "node(s) were not ready",
        "node(s) were unschedulable",
    ] {
        assert!(text.contains(part), "{part:?} missing from {text}");
    }
    assert_eq!(now.nodes, c.model.nodes.len());
    assert!(now.reasons.values().sum::<usize>() >= now.nodes);
}
