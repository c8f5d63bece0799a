//! One table per score plugin: the plugin's normalised scores on every node (worked out by
//! hand in the comments), and which node the engine chooses with every plugin weighted in.

use super::super::cycle::Cycle;
use super::super::scores::{self, PLUGINS};
use super::*;
use crate::api::pod::{NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm};

/// Indexes into `PLUGINS`.
const FIT: usize = 0;
const BALANCE: usize = 1;
const NODE_AFFINITY: usize = 2;
const TAINTS: usize = 3;
const POD_AFFINITY: usize = 4;
const SPREAD: usize = 5;

struct Case {
    name: &'static str,
    nodes: Vec<NodeInfo>,
    /// Pods already counted: (node, pod).
    existing: Vec<(&'static str, PodInfo)>,
    pod: PodInfo,
    strategy: ScoringStrategy,
    /// The plugin's normalised scores, in the order of `nodes` (0 for every node when the
    /// plugin does not apply to the pod).
    want: Vec<i64>,
    /// The nodes the engine may choose (several on a tie).
    winners: &'static [&'static str],
}

impl Default for Case {
    fn default() -> Case {
        Case {
            name: "",
            nodes: Vec::new(),
            existing: Vec::new(),
            pod: pod("p", 100, 100),
            strategy: ScoringStrategy::LeastAllocated,
            want: Vec::new(),
            winners: &[],
        }
    }
}

fn run_cases(plugin: usize, plugin_name: &str, cases: Vec<Case>) {
    assert!(!cases.is_empty());
    for c in cases {
        let label = format!("{plugin_name} / {}", c.name);
        let config = Config {
            strategy: c.strategy,
            ..Config::default()
        };
        let s = engine_with(config, &c.nodes, &c.existing);
        let snapshot = s.snapshot();
        let nodes: Vec<&NodeInfo> = c
            .nodes
            .iter()
            .map(|n| snapshot.node(&n.name).expect("node"))
            .collect();
        let cx = Cycle::new(&c.pod, snapshot);
        let p = &PLUGINS[plugin];
        let mut got: Vec<i64> = nodes.iter().map(|n| (p.raw)(&cx, n, c.strategy)).collect();
        if (p.applies)(&cx) {
            scores::normalize(p.normalize, &mut got);
        } else {
            got.iter_mut().for_each(|s| *s = 0);
        }
        assert_eq!(got, c.want, "{label}: normalised scores");
        // The engine, over several seeds (ties may go either way, never elsewhere).
        for seed in 0..8 {
            let mut s = engine_with(Config { seed, ..config }, &c.nodes, &c.existing);
            let placed = s.schedule(&c.pod).expect(&label);
            assert!(
                c.winners.contains(&placed.node.as_str()),
                "{label}: seed {seed} chose {}",
                placed.node
            );
            assert_eq!(
                placed.feasible,
                c.nodes.len(),
                "{label}: all nodes feasible"
            );
        }
    }
}

#[test]
fn score_node_resources_fit() {
    // n1 4 CPUs / 4 GiB empty; n2 the same, half used; n3 2 CPUs / 2 GiB empty.
    let nodes = || {
        vec![
            node("n1", 4000, 4096),
            node("n2", 4000, 4096),
            node("n3", 2000, 2048),
        ]
    };
    let half_used = || vec![("n2", pod("old", 2000, 2048))];
    run_cases(
        FIT,
        "NodeResourcesFit",
        vec![
            Case {
                // Free after the pod: n1 3/4, n2 1/4, n3 1/2 (CPU and memory alike).
                name: "LeastAllocated prefers the emptiest",
                nodes: nodes(),
                existing: half_used(),
                pod: pod("p", 1000, 1024),
                want: vec![75, 25, 50],
                winners: &["n1"],
                ..Case::default()
            },
            Case {
                name: "MostAllocated prefers the fullest that fits",
                nodes: nodes(),
                existing: half_used(),
                pod: pod("p", 1000, 1024),
                strategy: ScoringStrategy::MostAllocated,
                want: vec![25, 75, 50],
                winners: &["n2"],
            },
            Case {
                // CPU (4000-1000)/4000 = 75, memory (8192-1024)/8192 = 87.5 → 87: (75+87)/2.
                name: "the average of cpu and memory, rounded down",
                nodes: vec![node("n1", 4000, 8192)],
                pod: pod("p", 1000, 1024),
                want: vec![81],
                winners: &["n1"],
                ..Case::default()
            },
            Case {
                // Scored as 100m / 200 MiB: n1 (90+80)/2 = 85, n2 (95+90)/2 = 92.
                name: "zero requests count as the non-zero defaults",
                nodes: vec![node("n1", 1000, 1000), node("n2", 2000, 2000)],
                pod: pod("p", 0, 0),
                want: vec![85, 92],
                winners: &["n2"],
                ..Case::default()
            },
            Case {
                // n1 is full: the defaults push it past allocatable, clamped to 0.
                // n2: CPU 90, memory (1024-200)/1024 = 80.4 → 80: 85.
                name: "a node past its allocatable scores 0",
                nodes: vec![node("n1", 1000, 1024), node("n2", 1000, 1024)],
                existing: vec![("n1", pod("old", 1000, 1024))],
                pod: pod("p", 0, 0),
                want: vec![0, 85],
                winners: &["n2"],
                ..Case::default()
            },
            Case {
                name: "MostAllocated on a node past its allocatable scores 100",
                nodes: vec![node("n1", 1000, 1024), node("n2", 1000, 1024)],
                existing: vec![("n1", pod("old", 1000, 1024))],
                pod: pod("p", 0, 0),
                strategy: ScoringStrategy::MostAllocated,
                // n2: CPU 10, memory 200/1024 = 19.5 → 19: (10+19)/2 = 14.
                want: vec![100, 14],
                winners: &["n1"],
            },
        ],
    );
}

#[test]
fn score_balanced_allocation() {
    run_cases(
        BALANCE,
        "NodeResourcesBalancedAllocation",
        vec![
            Case {
                // Fractions after the pod: n1 .5/.5 → 100; n2 .5/.125 → 100(1-.1875) = 81;
                // n3 .75/.5 → 87. Fit: n1 50, n2 (50+87)/2 = 68, n3 (25+50)/2 = 37; so the
                // totals are 150, 149, 124.
                name: "equal proportions win",
                nodes: vec![
                    node("n1", 1000, 1024),
                    node("n2", 1000, 4096),
                    node("n3", 2000, 1024),
                ],
                existing: vec![("n3", pod("old", 1000, 0))],
                pod: pod("p", 500, 512),
                want: vec![100, 81, 87],
                winners: &["n1"],
                ..Case::default()
            },
            Case {
                // Scored as 100m / 200 MiB. n1: CPU 1100/1000 capped at 1, memory .25 →
                // 100(1-.375) = 62; n2: .1/.25 → 92. (Fit: n1 (0+75)/2, n2 (90+75)/2.)
                name: "fractions are capped at 1",
                nodes: vec![node("n1", 1000, 800), node("n2", 1000, 800)],
                existing: vec![("n1", pod("old", 1000, 0))],
                pod: pod("p", 0, 0),
                want: vec![62, 92],
                winners: &["n2"],
                ..Case::default()
            },
            Case {
                name: "identical nodes tie",
                nodes: vec![node("n1", 1000, 1000), node("n2", 1000, 1000)],
                pod: pod("p", 500, 100),
                // .5 and .1: 100(1-.2) = 80.
                want: vec![80, 80],
                winners: &["n1", "n2"],
                ..Case::default()
            },
        ],
    );
}

fn prefer(weight: i32, expressions: Vec<NodeSelectorRequirement>) -> PreferredSchedulingTerm {
    PreferredSchedulingTerm {
        weight,
        preference: NodeSelectorTerm {
            match_expressions: expressions,
            match_fields: Vec::new(),
        },
    }
}

fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: key.into(),
        operator: op.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

#[test]
fn score_node_affinity() {
    let nodes = || {
        vec![
            with_labels(node("n1", 4000, 8192), &[(ZONE, "a")]),
            with_labels(node("n2", 4000, 8192), &[("disk", "ssd")]),
            with_labels(node("n3", 4000, 8192), &[(ZONE, "a"), ("disk", "ssd")]),
            node("n4", 4000, 8192),
        ]
    };
    let preferring = |terms: Vec<PreferredSchedulingTerm>| PodInfo {
        preferred_affinity: terms,
        ..pod("p", 100, 100)
    };
    run_cases(
        NODE_AFFINITY,
        "NodeAffinity",
        vec![
            Case {
                // Raw 10, 30, 40, 0; the highest becomes 100.
                name: "weights add up over matching terms",
                nodes: nodes(),
                pod: preferring(vec![
                    prefer(10, vec![req(ZONE, "In", &["a"])]),
                    prefer(30, vec![req("disk", "In", &["ssd"])]),
                ]),
                want: vec![25, 75, 100, 0],
                winners: &["n3"],
                ..Case::default()
            },
            Case {
                name: "no preference: the plugin does not apply",
                nodes: nodes(),
                want: vec![0, 0, 0, 0],
                winners: &["n1", "n2", "n3", "n4"],
                ..Case::default()
            },
            Case {
                name: "no node matches: all 0",
                nodes: nodes(),
                pod: preferring(vec![prefer(50, vec![req("gpu", "Exists", &[])])]),
                want: vec![0, 0, 0, 0],
                winners: &["n1", "n2", "n3", "n4"],
                ..Case::default()
            },
            Case {
                name: "matchFields on metadata.name",
                nodes: nodes(),
                pod: preferring(vec![PreferredSchedulingTerm {
                    weight: 5,
                    preference: NodeSelectorTerm {
                        match_expressions: Vec::new(),
                        match_fields: vec![req("metadata.name", "In", &["n4"])],
                    },
                }]),
                want: vec![0, 0, 0, 100],
                winners: &["n4"],
                ..Case::default()
            },
            Case {
                name: "Gt skips a non-numeric label",
                nodes: vec![
                    with_labels(node("n1", 4000, 8192), &[("cores", "many")]),
                    with_labels(node("n2", 4000, 8192), &[("cores", "16")]),
                ],
                pod: preferring(vec![prefer(50, vec![req("cores", "Gt", &["8"])])]),
                want: vec![0, 100],
                winners: &["n2"],
                ..Case::default()
            },
            Case {
                name: "an empty preference matches nothing",
                nodes: nodes(),
                pod: preferring(vec![prefer(50, vec![])]),
                want: vec![0, 0, 0, 0],
                winners: &["n1", "n2", "n3", "n4"],
                ..Case::default()
            },
        ],
    );
}

#[test]
fn score_taint_toleration() {
    let soft = |k: &str| taint(k, "x", "PreferNoSchedule");
    let nodes = || {
        let mut n2 = node("n2", 4000, 8192);
        n2.taints = vec![soft("a")];
        let mut n3 = node("n3", 4000, 8192);
        n3.taints = vec![soft("a"), soft("b")];
        let mut n4 = node("n4", 4000, 8192);
        n4.taints = vec![soft("c"), taint("d", "y", "NoSchedule")];
        vec![node("n1", 4000, 8192), n2, n3, n4]
    };
    let tolerant = PodInfo {
        tolerations: vec![
            toleration("c", "Exists", "", ""),
            toleration("d", "Exists", "", "NoSchedule"),
        ],
        ..pod("p", 100, 100)
    };
    run_cases(
        TAINTS,
        "TaintToleration",
        vec![
            Case {
                // Untolerated PreferNoSchedule taints: 0, 1, 2, 0 (c is tolerated, d is
                // NoSchedule); fewer is better, the most becomes 0.
                name: "fewer untolerated PreferNoSchedule taints win",
                nodes: nodes(),
                pod: tolerant.clone(),
                want: vec![100, 50, 0, 100],
                winners: &["n1", "n4"],
                ..Case::default()
            },
            Case {
                name: "no taints anywhere: all 100",
                nodes: vec![node("n1", 4000, 8192), node("n2", 4000, 8192)],
                want: vec![100, 100],
                winners: &["n1", "n2"],
                ..Case::default()
            },
            Case {
                name: "a NoSchedule toleration does not tolerate PreferNoSchedule",
                nodes: vec![
                    NodeInfo {
                        taints: vec![soft("a")],
                        ..node("n1", 4000, 8192)
                    },
                    node("n2", 4000, 8192),
                ],
                pod: PodInfo {
                    tolerations: vec![toleration("a", "Exists", "", "NoSchedule")],
                    ..pod("p", 100, 100)
                },
                want: vec![0, 100],
                winners: &["n2"],
                ..Case::default()
            },
            Case {
                name: "a toleration without an effect tolerates PreferNoSchedule",
                nodes: vec![
                    NodeInfo {
                        taints: vec![soft("a")],
                        ..node("n1", 4000, 8192)
                    },
                    node("n2", 4000, 8192),
                ],
                pod: PodInfo {
                    tolerations: vec![toleration("a", "Equal", "x", "")],
                    ..pod("p", 100, 100)
                },
                want: vec![100, 100],
                winners: &["n1", "n2"],
                ..Case::default()
            },
        ],
    );
}

#[test]
fn score_inter_pod_affinity() {
    // Existing pods request nothing so that the resource scores tie.
    let app = |uid: &str, a: &str| labelled(pod(uid, 0, 0), &[("app", a)]);
    let preferring = |terms: Vec<AffinityTerm>| PodInfo {
        preferred_pod_affinity: terms,
        ..labelled(pod("p", 100, 100), &[("app", "web")])
    };
    let hosts = || std_nodes3();
    run_cases(
        POD_AFFINITY,
        "InterPodAffinity",
        vec![
            Case {
                // Raw: 2×50, 1×50, 0.
                name: "preferred affinity: more matching pods, higher score",
                nodes: hosts(),
                existing: vec![
                    ("n1", app("c1", "cache")),
                    ("n1", app("c2", "cache")),
                    ("n2", app("c3", "cache")),
                ],
                pod: preferring(vec![term(&[("app", "cache")], HOSTNAME, 50)]),
                want: vec![100, 50, 0],
                winners: &["n1"],
                ..Case::default()
            },
            Case {
                // Raw: -50, -100, 0; min-max.
                name: "preferred anti-affinity: fewer matching pods, higher score",
                nodes: hosts(),
                existing: vec![
                    ("n1", app("w1", "web")),
                    ("n2", app("w2", "web")),
                    ("n2", app("w3", "web")),
                ],
                pod: preferring(vec![term(&[("app", "web")], HOSTNAME, -50)]),
                want: vec![50, 0, 100],
                winners: &["n3"],
                ..Case::default()
            },
            Case {
                // n1, n2 in zone a (one cache), n3 in zone b; a web pod on n2.
                // Raw: n1 20, n2 20 - 10, n3 0.
                name: "zone affinity and host anti-affinity together",
                nodes: vec![zoned("n1", "a"), zoned("n2", "a"), zoned("n3", "b")],
                existing: vec![("n1", app("c1", "cache")), ("n2", app("w1", "web"))],
                pod: preferring(vec![
                    term(&[("app", "cache")], ZONE, 20),
                    term(&[("app", "web")], HOSTNAME, -10),
                ]),
                want: vec![100, 50, 0],
                winners: &["n1"],
                ..Case::default()
            },
            Case {
                name: "nothing matches: all 0",
                nodes: hosts(),
                existing: vec![("n1", app("d1", "db"))],
                pod: preferring(vec![term(&[("app", "cache")], HOSTNAME, 50)]),
                want: vec![0, 0, 0],
                winners: &["n1", "n2", "n3"],
                ..Case::default()
            },
            Case {
                name: "no preferred terms: the plugin does not apply",
                nodes: hosts(),
                existing: vec![("n1", app("c1", "cache"))],
                want: vec![0, 0, 0],
                winners: &["n1", "n2", "n3"],
                ..Case::default()
            },
        ],
    );
}

fn std_nodes3() -> Vec<NodeInfo> {
    vec![
        node("n1", 4000, 8192),
        node("n2", 4000, 8192),
        node("n3", 4000, 8192),
    ]
}

#[test]
fn score_pod_topology_spread() {
    let web = |uid: &str| labelled(pod(uid, 0, 0), &[("app", "web")]);
    let spreading = |key: &str, hard: bool| PodInfo {
        spread: vec![spread(&[("app", "web")], key, 1, hard)],
        ..labelled(pod("p", 100, 100), &[("app", "web")])
    };
    run_cases(
        SPREAD,
        "PodTopologySpread",
        vec![
            Case {
                // Matching pods per zone: a 1, b 2, c 0; the bare node counts as the most
                // loaded plus one (3). Reversed over the highest: 100 - 100·raw/3.
                name: "ScheduleAnyway over zones",
                nodes: vec![
                    zoned("a1", "a"),
                    zoned("b1", "b"),
                    zoned("c1", "c"),
                    node("bare", 4000, 8192),
                ],
                existing: vec![("a1", web("w1")), ("b1", web("w2")), ("b1", web("w3"))],
                pod: spreading(ZONE, false),
                want: vec![67, 34, 100, 0],
                winners: &["c1"],
                ..Case::default()
            },
            Case {
                name: "ScheduleAnyway over hosts",
                nodes: std_nodes3(),
                existing: vec![("n1", web("w1")), ("n1", web("w2")), ("n2", web("w3"))],
                pod: spreading(HOSTNAME, false),
                want: vec![0, 50, 100],
                winners: &["n3"],
                ..Case::default()
            },
            Case {
                name: "no matching pods yet: all 100",
                nodes: std_nodes3(),
                pod: spreading(HOSTNAME, false),
                want: vec![100, 100, 100],
                winners: &["n1", "n2", "n3"],
                ..Case::default()
            },
            Case {
                name: "DoNotSchedule only: the plugin does not apply",
                nodes: std_nodes3(),
                existing: vec![("n1", web("w1"))],
                pod: PodInfo {
                    spread: vec![spread(&[("app", "web")], HOSTNAME, 5, true)],
                    ..labelled(pod("p", 100, 100), &[("app", "web")])
                },
                want: vec![0, 0, 0],
                winners: &["n1", "n2", "n3"],
                ..Case::default()
            },
        ],
    );
}

#[test]
fn score_weights_follow_kube_scheduler() {
    let weights: Vec<i64> = PLUGINS.iter().map(|p| p.weight).collect();
    assert_eq!(weights, [1, 1, 2, 3, 2, 2]);
    // n1 matches a preferred term (node affinity 100 × 2) but has a PreferNoSchedule taint
    // (taint score 0 instead of 100, × 3): n2 wins by 100.
    let n1 = NodeInfo {
        taints: vec![taint("a", "x", "PreferNoSchedule")],
        ..with_labels(node("n1", 4000, 8192), &[("disk", "ssd")])
    };
    let p = PodInfo {
        preferred_affinity: vec![prefer(100, vec![req("disk", "In", &["ssd"])])],
        ..pod("p", 100, 100)
    };
    let mut s = engine_with(Config::default(), &[n1, node("n2", 4000, 8192)], &[]);
    assert_eq!(s.schedule(&p).expect("placed").node, "n2");
    let snapshot = s.snapshot();
    let cx = Cycle::new(&p, snapshot);
    let nodes: Vec<&NodeInfo> = ["n1", "n2"]
        .iter()
        .map(|n| snapshot.node(n).expect("node"))
        .collect();
    let totals = scores::total(&cx, &nodes, ScoringStrategy::LeastAllocated);
    assert_eq!(totals[1] - totals[0], 100, "{totals:?}");
}

#[test]
fn normalisations() {
    let cases: [(scores::Normalize, Vec<i64>, Vec<i64>); 8] = [
        (
            scores::Normalize::Already,
            vec![-5, 50, 150],
            vec![0, 50, 100],
        ),
        (
            scores::Normalize::MaxIs100,
            vec![0, 10, 40],
            vec![0, 25, 100],
        ),
        (scores::Normalize::MaxIs100, vec![0, 0], vec![0, 0]),
        (scores::Normalize::Reverse, vec![0, 1, 3], vec![100, 67, 0]),
        (scores::Normalize::Reverse, vec![0, 0], vec![100, 100]),
        (
            scores::Normalize::MinMax,
            vec![-100, -50, 0],
            vec![0, 50, 100],
        ),
        (scores::Normalize::MinMax, vec![7, 7], vec![0, 0]),
        (scores::Normalize::MinMax, vec![], vec![]),
    ];
    for (kind, mut raw, want) in cases {
        let before = raw.clone();
        scores::normalize(kind, &mut raw);
        assert_eq!(raw, want, "{kind:?} of {before:?}");
    }
}
