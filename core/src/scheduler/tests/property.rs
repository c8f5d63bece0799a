//! Property test: random clusters (capacity, labels, taints, cordons, not-ready nodes) and
//! random pod streams (requests, selectors, node affinity, tolerations, nodeName,
//! anti-affinity, affinity, spread, host ports), scheduled with `schedule_and_assume`, with
//! random deletions, node changes, removals and joins in between. After every step: no node's
//! pods (as this test placed them) request more than it has, the snapshot agrees with the
//! test's own bookkeeping, and the decision agrees with the oracle: the chosen node passes
//! every hard constraint, the feasible count is the oracle's, and when nothing fits the
//! reasons are the oracle's, node for node.

use super::oracle::Model;
use super::*;
use crate::api::pod::{NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};
use std::collections::BTreeSet;

const SEEDS: [u64; 5] = [1, 7, 42, 1234, 0xdead_beef];
const ITERATIONS: usize = 100;

#[derive(Debug, Default)]
struct Stats {
    placed: usize,
    unschedulable: usize,
    deleted: usize,
    node_changes: usize,
    /// Every kind of reason some node gave (see `kind`).
    reasons: BTreeSet<String>,
}

/// New facts for `n` (labels, taints, cordon, readiness); its name and capacity stay.
fn randomize_facts(g: &mut Gen, n: &mut NodeInfo) {
    n.labels = labels(&[(HOSTNAME, &n.name)]);
    if !g.chance(10) {
        n.labels
            .insert(ZONE.into(), g.pick(&["a", "b", "c"]).into());
    }
    if g.chance(50) {
        n.labels
            .insert("disk".into(), g.pick(&["ssd", "hdd"]).into());
    }
    if g.chance(70) {
        n.labels
            .insert("cores".into(), g.pick(&["2", "4", "8", "many"]).into());
    }
    n.taints.clear();
    if g.chance(15) {
        n.taints.push(taint("dedicated", "gpu", "NoSchedule"));
    }
    if g.chance(10) {
        n.taints.push(Taint {
            value: None,
            ..taint("spot", "", "NoExecute")
        });
    }
    if g.chance(10) {
        n.taints.push(taint("soft", "x", "PreferNoSchedule"));
    }
    n.unschedulable = g.chance(10);
    n.ready = !g.chance(10);
}

fn random_node(g: &mut Gen, name: &str) -> NodeInfo {
    let mut n = node(
        name,
        g.pick(&[500, 1000, 2000, 4000]),
        g.pick(&[512, 1024, 2048, 4096]),
    );
    n.allocatable.pods = g.pick(&[2, 4, 110]);
    randomize_facts(g, &mut n);
    n
}

fn requirement(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: key.into(),
        operator: op.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn random_pod(g: &mut Gen, uid: &str, node_names: &[String]) -> PodInfo {
    let app = g.pick(&["web", "db", "cache"]);
    let mut p = labelled(pod(uid, 0, 0), &[("app", app)]);
    if g.chance(10) {
        p.namespace = "other".into();
    }
    let own_ns = Some(vec![p.namespace.clone()]);
    p.requests.milli_cpu = g.pick(&[0, 100, 250, 500, 1000, 1500]);
    p.requests.memory = g.pick(&[0, 64, 256, 1024]) << 20;
    if g.chance(25) {
        let (k, v) = g.pick(&[("disk", "ssd"), (ZONE, "a"), (ZONE, "b")]);
        p.node_selector = labels(&[(k, v)]);
    }
    if g.chance(12) {
        let mut expressions = vec![g.pick(&[
            requirement("cores", "Gt", &["3"]),
            requirement("cores", "Lt", &["5"]),
            requirement(ZONE, "NotIn", &["c"]),
            requirement("disk", "DoesNotExist", &[]),
        ])];
        let mut fields = Vec::new();
        if g.chance(30) && !node_names.is_empty() {
            let a = g.pick(node_names);
            let b = g.pick(node_names);
            fields.push(requirement("metadata.name", "In", &[&a, &b]));
            if g.chance(50) {
                expressions.clear();
            }
        }
        let mut terms = vec![NodeSelectorTerm {
            match_expressions: expressions,
            match_fields: fields,
        }];
        if g.chance(30) {
            terms.push(NodeSelectorTerm {
                match_expressions: vec![requirement("disk", "In", &["ssd"])],
                match_fields: Vec::new(),
            });
        }
        p.required_affinity = Some(NodeSelector {
            node_selector_terms: terms,
        });
    }
    if g.chance(30) {
        p.tolerations = g.pick(&[
            vec![toleration("dedicated", "Equal", "gpu", "NoSchedule")],
            vec![toleration("", "Exists", "", "")],
            vec![toleration("spot", "Exists", "", "")],
            vec![toleration(UNSCHEDULABLE_TAINT, "Exists", "", "NoSchedule")],
            vec![
                toleration("dedicated", "Exists", "", ""),
                toleration("spot", "", "", "NoExecute"),
            ],
        ]);
    }
    if g.chance(4) && !node_names.is_empty() {
        p.node_name = Some(g.pick(node_names));
    }
    if g.chance(25) {
        // Replicas keeping apart: anti-affinity to their own app, per host.
        p.anti_affinity.push(AffinityTerm {
            namespaces: own_ns.clone(),
            ..term(&[("app", app)], HOSTNAME, 0)
        });
    }
    if g.chance(8) {
        let other = g.pick(&["web", "db", "cache"]);
        p.anti_affinity.push(AffinityTerm {
            namespaces: None,
            ..term(&[("app", other)], ZONE, 0)
        });
    }
    if g.chance(6) {
        // One term only: there Capstan's first-pod rule and Kubernetes' coincide.
        p.affinity.push(AffinityTerm {
            namespaces: own_ns.clone(),
            ..term(&[("app", g.pick(&["cache", app]))], ZONE, 0)
        });
    }
    if g.chance(20) {
        let key = g.pick(&[ZONE, HOSTNAME]);
        let skew = g.pick(&[1, 2]);
        p.spread.push(spread(&[("app", app)], key, skew, true));
    }
    if g.chance(10) {
        p.spread.push(spread(&[("app", app)], ZONE, 1, false));
    }
    if g.chance(15) {
        for _ in 0..1 + g.below(2) {
            p.host_ports.push(HostPort {
                protocol: g.pick(&["TCP", "UDP"]).into(),
                ip: g.pick(&["0.0.0.0", "10.0.0.1", "10.0.0.2"]).into(),
                port: g.pick(&[80, 443]),
            });
        }
    }
    if g.chance(10) {
        let weight = g.pick(&[-50, 30]);
        p.preferred_pod_affinity
            .push(term(&[("app", g.pick(&["web", "db"]))], HOSTNAME, weight));
    }
    if g.chance(10) {
        p.preferred_affinity
            .push(crate::api::pod::PreferredSchedulingTerm {
                weight: 20,
                preference: NodeSelectorTerm {
                    match_expressions: vec![requirement("disk", "In", &["ssd"])],
                    match_fields: Vec::new(),
                },
            });
    }
    p
}

/// A reason without its taint.
fn kind(r: &Reason) -> String {
    match r {
        Reason::UntoleratedTaint { .. } => "untolerated taint".into(),
        other => other.to_string(),
    }
}

fn run_one(g: &mut Gen, label: &str, stats: &mut Stats) {
    let config = Config {
        strategy: if g.chance(50) {
            ScoringStrategy::LeastAllocated
        } else {
            ScoringStrategy::MostAllocated
        },
        percentage_of_nodes_to_score: None,
        seed: g.below(1 << 20) as u64,
    };
    let mut s = Scheduler::new(config);
    let mut model = Model::default();
    let mut next_node = 0;
    let mut add_node = |g: &mut Gen, s: &mut Scheduler, model: &mut Model| {
        let n = random_node(g, &format!("n{next_node}"));
        next_node += 1;
        s.snapshot_mut().upsert_node(n.clone());
        model.set_node(n);
    };
    for _ in 0..1 + g.below(12) {
        add_node(g, &mut s, &mut model);
    }
    let steps = 1 + g.below(40);
    for step in 0..steps {
        let label = format!("{label}, step {step}");
        // Churn between decisions.
        if g.chance(25) && !model.pods.is_empty() {
            let mut uids: Vec<&String> = model.pods.keys().collect();
            uids.sort();
            let uid = g.pick(&uids).clone();
            let gone = s.snapshot_mut().remove_pod(&uid).expect("counted");
            let (node, _) = model.remove(&uid).expect("placed");
            assert_eq!(gone.node, node, "{label}");
            stats.deleted += 1;
        }
        if g.chance(6) && !model.nodes.is_empty() {
            // The node's labels, taints, cordon or readiness change; its pods stay.
            let name = g.pick(&model.nodes.keys().cloned().collect::<Vec<_>>());
            let mut n = model.nodes[&name].clone();
            randomize_facts(g, &mut n);
            s.snapshot_mut().upsert_node(n.clone());
            model.set_node(n);
            stats.node_changes += 1;
        }
        if g.chance(3) && model.nodes.len() > 1 {
            // A node goes, and its pods are deleted with it.
            let name = g.pick(&model.nodes.keys().cloned().collect::<Vec<_>>());
            s.snapshot_mut().remove_node(&name).expect("present");
            for uid in model.remove_node(&name) {
                s.snapshot_mut().remove_pod(&uid).expect("counted");
                model.remove(&uid);
            }
            stats.node_changes += 1;
        }
        if g.chance(3) {
            add_node(g, &mut s, &mut model);
        }
        // A decision.
        let names: Vec<String> = model.nodes.keys().cloned().collect();
        let p = random_pod(g, &format!("p{step}"), &names);
        let (feasible, reasons) = model.judge(&p);
        stats.reasons.extend(reasons.keys().map(kind));
        match s.schedule_and_assume(&p) {
            Ok(placed) => {
                assert!(
                    feasible.contains(&placed.node),
                    "{label}: {} placed on {}, which breaks a hard constraint ({:?}); pod {p:?}",
                    p.uid,
                    placed.node,
                    model
                        .verdicts(&p)
                        .into_iter()
                        .find(|(n, _)| **n == placed.node),
                );
                assert_eq!(placed.feasible, feasible.len(), "{label}: feasible count");
                // Indexes may spare nodes that cannot pass; never fewer than the feasible.
                assert!(
                    (placed.feasible..=model.nodes.len()).contains(&placed.evaluated),
                    "{label}: evaluated {placed:?}"
                );
                model.place(&placed.node, &p);
                stats.placed += 1;
            }
            Err(u) => {
                assert!(
                    feasible.is_empty(),
                    "{label}: {} unschedulable ({u}) but {feasible:?} fit; pod {p:?}",
                    p.uid
                );
                assert_eq!(u.nodes, model.nodes.len(), "{label}");
                assert_eq!(u.reasons, reasons, "{label}: {u}");
                stats.unschedulable += 1;
            }
        }
        model.assert_consistent(&s, &label);
    }
}

#[test]
fn random_streams_never_overcommit_and_respect_hard_constraints() {
    let mut stats = Stats::default();
    for seed in SEEDS {
        let mut g = Gen::new(seed);
        for iteration in 0..ITERATIONS {
            run_one(
                &mut g,
                &format!("seed {seed}, iteration {iteration}"),
                &mut stats,
            );
        }
    }
    // The generator must reach both outcomes, churn, and every reason a filter can give.
    assert!(stats.placed > 2000, "{stats:?}");
    assert!(stats.unschedulable > 500, "{stats:?}");
    assert!(stats.deleted > 500, "{stats:?}");
    assert!(stats.node_changes > 100, "{stats:?}");
    let every_reason = [
        Reason::NotReady,
        Reason::NodeName,
        Reason::Unschedulable,
        Reason::NodeAffinity,
        Reason::UntoleratedTaint {
            key: String::new(),
            value: String::new(),
        },
        Reason::HostPorts,
        Reason::Insufficient("cpu"),
        Reason::Insufficient("memory"),
        Reason::TooManyPods,
        Reason::PodAffinity,
        Reason::PodAntiAffinity,
        Reason::ExistingAntiAffinity,
        Reason::TopologySpread,
        Reason::TopologySpreadMissingLabel,
    ];
    for r in every_reason {
        let kind = kind(&r);
        assert!(
            stats.reasons.contains(&kind),
            "never saw {kind:?}: {stats:?}"
        );
    }
}
