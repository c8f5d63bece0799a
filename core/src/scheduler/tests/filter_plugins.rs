//! One table per filter plugin. Each case is checked three ways: the plugin function alone
//! (passes every wanted node, and gives `why` on the others), the whole filter chain (exactly
//! the wanted nodes pass), and the engine (`Scheduler::schedule` picks a wanted node having
//! found all of them feasible, or says why none is, counting `why` once per node).

use super::super::cycle::Cycle;
use super::super::filters::{self, FilterFn};
use super::*;
use crate::api::pod::{NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};
use std::collections::BTreeMap;

struct Case {
    name: &'static str,
    nodes: Vec<NodeInfo>,
    /// Pods already counted: (node, pod).
    existing: Vec<(&'static str, PodInfo)>,
    pod: PodInfo,
    /// The feasible nodes.
    want: &'static [&'static str],
    /// What the plugin (and the chain) says of every other node; empty: not checked.
    why: Vec<Reason>,
}

impl Default for Case {
    fn default() -> Case {
        Case {
            name: "",
            nodes: Vec::new(),
            existing: Vec::new(),
            pod: pod("p", 100, 100),
            want: &[],
            why: Vec::new(),
        }
    }
}

fn run_cases(plugin_name: &str, plugin: FilterFn, cases: Vec<Case>) {
    assert!(!cases.is_empty());
    for c in cases {
        let label = format!("{plugin_name} / {}", c.name);
        let mut s = engine_with(Config::default(), &c.nodes, &c.existing);
        let mut want: Vec<&str> = c.want.to_vec();
        want.sort_unstable();
        {
            let snapshot = s.snapshot();
            let cx = Cycle::new(&c.pod, snapshot);
            let mut passed = Vec::new();
            for n in snapshot.nodes() {
                let wanted = want.contains(&n.name.as_str());
                let alone = plugin(&cx, n);
                let chain = filters::run(&cx, n);
                if wanted {
                    assert_eq!(alone, Ok(()), "{label}: plugin on {}", n.name);
                } else if !c.why.is_empty() {
                    assert_eq!(alone, Err(c.why.clone()), "{label}: plugin on {}", n.name);
                    assert_eq!(chain, Err(c.why.clone()), "{label}: chain on {}", n.name);
                }
                if chain.is_ok() {
                    passed.push(n.name.as_str());
                }
            }
            passed.sort_unstable();
            assert_eq!(passed, want, "{label}: feasible nodes");
        }
        match s.schedule(&c.pod) {
            Ok(p) => {
                assert!(want.contains(&p.node.as_str()), "{label}: chose {}", p.node);
                assert_eq!(p.feasible, want.len(), "{label}: feasible count");
                assert!(
                    (p.feasible..=c.nodes.len()).contains(&p.evaluated),
                    "{label}: evaluated {p:?}"
                );
            }
            Err(u) => {
                assert!(want.is_empty(), "{label}: unschedulable: {u}");
                assert_eq!(u.nodes, c.nodes.len(), "{label}");
                if !c.why.is_empty() {
                    let expected: BTreeMap<Reason, usize> =
                        c.why.iter().map(|r| (r.clone(), c.nodes.len())).collect();
                    assert_eq!(u.reasons, expected, "{label}: {u}");
                }
            }
        }
    }
}

fn not_ready(mut n: NodeInfo) -> NodeInfo {
    n.ready = false;
    n
}

fn cordoned(mut n: NodeInfo) -> NodeInfo {
    n.unschedulable = true;
    n
}

fn tainted(mut n: NodeInfo, taints: Vec<Taint>) -> NodeInfo {
    n.taints.extend(taints);
    n
}

fn tolerating(mut p: PodInfo, tolerations: Vec<Toleration>) -> PodInfo {
    p.tolerations.extend(tolerations);
    p
}

fn std_nodes(names: &[&str]) -> Vec<NodeInfo> {
    names.iter().map(|n| node(n, 4000, 8192)).collect()
}

#[test]
fn filter_node_ready() {
    run_cases(
        "NodeReady",
        filters::node_ready::filter,
        vec![
            Case {
                name: "ready node passes",
                nodes: std_nodes(&["n1"]),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name: "not ready node is rejected",
                nodes: vec![not_ready(node("n1", 4000, 8192))],
                why: vec![Reason::NotReady],
                ..Case::default()
            },
            Case {
                name: "only the ready one of three",
                nodes: vec![
                    not_ready(node("n1", 4000, 8192)),
                    node("n2", 4000, 8192),
                    not_ready(node("n3", 4000, 8192)),
                ],
                want: &["n2"],
                why: vec![Reason::NotReady],
                ..Case::default()
            },
            Case {
                name: "tolerating everything does not make a not-ready node ready",
                nodes: vec![not_ready(node("n1", 4000, 8192)), node("n2", 4000, 8192)],
                pod: tolerating(pod("p", 100, 100), vec![toleration("", "Exists", "", "")]),
                want: &["n2"],
                why: vec![Reason::NotReady],
                ..Case::default()
            },
        ],
    );
}

#[test]
fn filter_node_unschedulable() {
    let cordon_toleration = toleration(UNSCHEDULABLE_TAINT, "Exists", "", "NoSchedule");
    run_cases(
        "NodeUnschedulable",
        filters::node_unschedulable::filter,
        vec![
            Case {
                name: "schedulable node passes",
                nodes: std_nodes(&["n1", "n2"]),
                want: &["n1", "n2"],
                ..Case::default()
            },
            Case {
                name: "cordoned node is rejected",
                nodes: vec![cordoned(node("n1", 4000, 8192)), node("n2", 4000, 8192)],
                want: &["n2"],
                why: vec![Reason::Unschedulable],
                ..Case::default()
            },
            Case {
                name: "a pod tolerating the unschedulable taint may go to a cordoned node",
                nodes: vec![cordoned(node("n1", 4000, 8192))],
                pod: tolerating(pod("p", 100, 100), vec![cordon_toleration.clone()]),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name: "Exists with an empty key tolerates the cordon",
                nodes: vec![cordoned(node("n1", 4000, 8192))],
                pod: tolerating(pod("p", 100, 100), vec![toleration("", "Exists", "", "")]),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name: "a NoExecute toleration of the key does not tolerate the NoSchedule cordon",
                nodes: vec![cordoned(node("n1", 4000, 8192))],
                pod: tolerating(
                    pod("p", 100, 100),
                    vec![toleration(UNSCHEDULABLE_TAINT, "Exists", "", "NoExecute")],
                ),
                why: vec![Reason::Unschedulable],
                ..Case::default()
            },
            Case {
                name: "tolerating another taint does not help",
                nodes: vec![cordoned(node("n1", 4000, 8192))],
                pod: tolerating(
                    pod("p", 100, 100),
                    vec![toleration("dedicated", "Exists", "", "")],
                ),
                why: vec![Reason::Unschedulable],
                ..Case::default()
            },
        ],
    );
}

#[test]
fn filter_node_name() {
    let named = |n: &str| PodInfo {
        node_name: Some(n.into()),
        ..pod("p", 100, 100)
    };
    run_cases(
        "NodeName",
        filters::node_name::filter,
        vec![
            Case {
                name: "no nodeName: every node",
                nodes: std_nodes(&["n1", "n2", "n3"]),
                want: &["n1", "n2", "n3"],
                ..Case::default()
            },
            Case {
                name: "nodeName picks that node only",
                nodes: std_nodes(&["n1", "n2", "n3"]),
                pod: named("n2"),
                want: &["n2"],
                why: vec![Reason::NodeName],
                ..Case::default()
            },
            Case {
                name: "nodeName of a node that does not exist",
                nodes: std_nodes(&["n1", "n2"]),
                pod: named("n9"),
                why: vec![Reason::NodeName],
                ..Case::default()
            },
            Case {
                name: "nodeName is exact (no prefix match)",
                nodes: std_nodes(&["n1", "n10"]),
                pod: named("n1"),
                want: &["n1"],
                why: vec![Reason::NodeName],
                ..Case::default()
            },
        ],
    );
}

#[test]
fn filter_taint_toleration() {
    let gpu = taint("dedicated", "gpu", "NoSchedule");
    let gpu_exec = taint("dedicated", "gpu", "NoExecute");
    let empty_value = Taint {
        value: None,
        ..taint("spot", "", "NoSchedule")
    };
    let gpu_reason = Reason::UntoleratedTaint {
        key: "dedicated".into(),
        value: "gpu".into(),
    };
    run_cases(
        "TaintToleration",
        filters::taint_toleration::filter,
        vec![
            Case {
                name: "untolerated NoSchedule taint",
                nodes: vec![
                    tainted(node("n1", 4000, 8192), vec![gpu.clone()]),
                    node("n2", 4000, 8192),
                ],
                want: &["n2"],
                why: vec![gpu_reason.clone()],
                ..Case::default()
            },
            Case {
                name: "untolerated NoExecute taint",
                nodes: vec![tainted(node("n1", 4000, 8192), vec![gpu_exec.clone()])],
                why: vec![gpu_reason.clone()],
                ..Case::default()
            },
            Case {
                name: "PreferNoSchedule does not filter",
                nodes: vec![tainted(
                    node("n1", 4000, 8192),
                    vec![taint("dedicated", "gpu", "PreferNoSchedule")],
                )],
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name: "Equal toleration with the same value",
                nodes: vec![tainted(node("n1", 4000, 8192), vec![gpu.clone()])],
                pod: tolerating(
                    pod("p", 100, 100),
                    vec![toleration("dedicated", "Equal", "gpu", "NoSchedule")],
                ),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name: "Equal toleration with another value",
                nodes: vec![tainted(node("n1", 4000, 8192), vec![gpu.clone()])],
                pod: tolerating(
                    pod("p", 100, 100),
                    vec![toleration("dedicated", "Equal", "tpu", "")],
                ),
                why: vec![gpu_reason.clone()],
                ..Case::default()
            },
            Case {
                name: "taint with an empty value: the reason shows it empty",
                nodes: vec![tainted(node("n1", 4000, 8192), vec![empty_value.clone()])],
                why: vec![Reason::UntoleratedTaint {
                    key: "spot".into(),
                    value: String::new(),
                }],
                ..Case::default()
            },
            Case {
                name: "taint with an empty value, tolerated by Equal without a value",
                nodes: vec![tainted(node("n1", 4000, 8192), vec![empty_value.clone()])],
                pod: tolerating(pod("p", 100, 100), vec![toleration("spot", "", "", "")]),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name: "taint with an empty value, Equal toleration with a value does not match",
                nodes: vec![tainted(node("n1", 4000, 8192), vec![empty_value.clone()])],
                pod: tolerating(
                    pod("p", 100, 100),
                    vec![toleration("spot", "Equal", "x", "")],
                ),
                why: vec![Reason::UntoleratedTaint {
                    key: "spot".into(),
                    value: String::new(),
                }],
                ..Case::default()
            },
            Case {
                name: "Exists with an empty key tolerates every taint",
                nodes: vec![tainted(
                    node("n1", 4000, 8192),
                    vec![gpu.clone(), gpu_exec.clone(), empty_value.clone()],
                )],
                pod: tolerating(pod("p", 100, 100), vec![toleration("", "Exists", "", "")]),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name:
                    "Exists with a key and an effect set to the empty string tolerates everything",
                nodes: vec![tainted(
                    node("n1", 4000, 8192),
                    vec![gpu.clone(), gpu_exec.clone(), empty_value.clone()],
                )],
                pod: tolerating(
                    pod("p", 100, 100),
                    vec![Toleration {
                        key: Some(String::new()),
                        operator: Some("Exists".into()),
                        value: None,
                        effect: Some(String::new()),
                        toleration_seconds: None,
                    }],
                ),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name: "Exists with an empty key and an effect tolerates only that effect",
                nodes: vec![
                    tainted(node("n1", 4000, 8192), vec![gpu.clone()]),
                    tainted(node("n2", 4000, 8192), vec![gpu_exec.clone()]),
                ],
                pod: tolerating(
                    pod("p", 100, 100),
                    vec![toleration("", "Exists", "", "NoSchedule")],
                ),
                want: &["n1"],
                why: vec![gpu_reason.clone()],
                ..Case::default()
            },
            Case {
                name: "two taints, one tolerated: the other is the reason",
                nodes: vec![tainted(
                    node("n1", 4000, 8192),
                    vec![empty_value.clone(), gpu.clone()],
                )],
                pod: tolerating(
                    pod("p", 100, 100),
                    vec![toleration("spot", "Exists", "", "")],
                ),
                why: vec![gpu_reason.clone()],
                ..Case::default()
            },
            Case {
                name: "two taints, both tolerated by two tolerations",
                nodes: vec![tainted(
                    node("n1", 4000, 8192),
                    vec![empty_value.clone(), gpu.clone()],
                )],
                pod: tolerating(
                    pod("p", 100, 100),
                    vec![
                        toleration("spot", "Exists", "", ""),
                        toleration("dedicated", "", "gpu", ""),
                    ],
                ),
                want: &["n1"],
                ..Case::default()
            },
        ],
    );
}

fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: key.into(),
        operator: op.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

/// A pod with required node affinity: the terms are ORed, each term's requirements ANDed;
/// `fields` go to matchFields of the first term.
fn affine(
    terms: Vec<Vec<NodeSelectorRequirement>>,
    fields: Vec<NodeSelectorRequirement>,
) -> PodInfo {
    let mut terms: Vec<NodeSelectorTerm> = terms
        .into_iter()
        .map(|e| NodeSelectorTerm {
            match_expressions: e,
            match_fields: Vec::new(),
        })
        .collect();
    if !fields.is_empty() {
        if terms.is_empty() {
            terms.push(NodeSelectorTerm::default());
        }
        terms[0].match_fields = fields;
    }
    PodInfo {
        required_affinity: Some(NodeSelector {
            node_selector_terms: terms,
        }),
        ..pod("p", 100, 100)
    }
}

#[test]
fn filter_node_affinity() {
    // cores: a number on n8 and n4, not a number on nx, absent on n0.
    let nodes = || {
        vec![
            with_labels(
                node("n8", 4000, 8192),
                &[("cores", "8"), ("disk", "ssd"), (ZONE, "a")],
            ),
            with_labels(
                node("n4", 4000, 8192),
                &[("cores", "4"), ("disk", "hdd"), (ZONE, "b")],
            ),
            with_labels(node("nx", 4000, 8192), &[("cores", "many"), (ZONE, "c")]),
            node("n0", 4000, 8192),
        ]
    };
    let selecting = |pairs: &[(&str, &str)]| PodInfo {
        node_selector: labels(pairs),
        ..pod("p", 100, 100)
    };
    let why = vec![Reason::NodeAffinity];
    let case = |name, pod, want| Case {
        name,
        nodes: nodes(),
        pod,
        want,
        why: why.clone(),
        ..Case::default()
    };
    run_cases(
        "NodeAffinity",
        filters::node_affinity::filter,
        vec![
            case(
                "no constraint",
                pod("p", 100, 100),
                &["n8", "n4", "nx", "n0"],
            ),
            case(
                "nodeSelector matches",
                selecting(&[("disk", "ssd")]),
                &["n8"],
            ),
            case(
                "nodeSelector: all pairs must match",
                selecting(&[("disk", "ssd"), (ZONE, "b")]),
                &[],
            ),
            case(
                "nodeSelector on a missing label",
                selecting(&[("gpu", "yes")]),
                &[],
            ),
            case(
                "In",
                affine(vec![vec![req(ZONE, "In", &["a", "c"])]], vec![]),
                &["n8", "nx"],
            ),
            case(
                "NotIn matches nodes without the label",
                affine(vec![vec![req("disk", "NotIn", &["ssd"])]], vec![]),
                &["n4", "nx", "n0"],
            ),
            case(
                "Exists",
                affine(vec![vec![req("disk", "Exists", &[])]], vec![]),
                &["n8", "n4"],
            ),
            case(
                "DoesNotExist",
                affine(vec![vec![req("disk", "DoesNotExist", &[])]], vec![]),
                &["nx", "n0"],
            ),
            case(
                "Gt skips non-numeric and missing labels",
                affine(vec![vec![req("cores", "Gt", &["4"])]], vec![]),
                &["n8"],
            ),
            case(
                "Lt skips non-numeric and missing labels",
                affine(vec![vec![req("cores", "Lt", &["8"])]], vec![]),
                &["n4"],
            ),
            case(
                "Gt with a non-numeric bound matches nothing",
                affine(vec![vec![req("cores", "Gt", &["four"])]], vec![]),
                &[],
            ),
            case(
                "Lt with a negative bound",
                affine(vec![vec![req("cores", "Lt", &["-1"])]], vec![]),
                &[],
            ),
            case(
                "expressions in a term are ANDed",
                affine(
                    vec![vec![
                        req("cores", "Gt", &["2"]),
                        req("disk", "In", &["hdd"]),
                    ]],
                    vec![],
                ),
                &["n4"],
            ),
            case(
                "terms are ORed",
                affine(
                    vec![
                        vec![req("disk", "In", &["ssd"])],
                        vec![req(ZONE, "In", &["c"])],
                    ],
                    vec![],
                ),
                &["n8", "nx"],
            ),
            case(
                "matchFields metadata.name In",
                affine(vec![], vec![req("metadata.name", "In", &["n4", "n0"])]),
                &["n4", "n0"],
            ),
            case(
                "matchFields metadata.name NotIn",
                affine(vec![], vec![req("metadata.name", "NotIn", &["n4"])]),
                &["n8", "nx", "n0"],
            ),
            case(
                "matchFields is ANDed with the term's expressions",
                affine(
                    vec![vec![req("disk", "Exists", &[])]],
                    vec![req("metadata.name", "In", &["n4", "n0"])],
                ),
                &["n4"],
            ),
            case(
                "matchFields does not read labels",
                affine(vec![], vec![req("kubernetes.io/hostname", "In", &["n4"])]),
                &[],
            ),
            case(
                "an empty term matches nothing",
                affine(vec![vec![]], vec![]),
                &[],
            ),
            case("no terms match nothing", affine(vec![], vec![]), &[]),
            case(
                "nodeSelector and affinity must both hold",
                PodInfo {
                    node_selector: labels(&[(ZONE, "a")]),
                    ..affine(vec![vec![req("cores", "Lt", &["8"])]], vec![])
                },
                &[],
            ),
        ],
    );
}

/// A pod asking for host ports: (protocol, ip, port).
fn with_ports(uid: &str, ports: &[(&str, &str, i32)]) -> PodInfo {
    PodInfo {
        host_ports: ports
            .iter()
            .map(|&(protocol, ip, port)| HostPort {
                protocol: protocol.into(),
                ip: ip.into(),
                port,
            })
            .collect(),
        ..pod(uid, 100, 100)
    }
}

#[test]
fn filter_node_ports() {
    let why = vec![Reason::HostPorts];
    let case = |name,
                used: &[(&'static str, &'static str, i32)],
                wants: &[(&'static str, &'static str, i32)],
                want| Case {
        name,
        nodes: std_nodes(&["n1", "n2"]),
        existing: vec![("n1", with_ports("old", used))],
        pod: with_ports("p", wants),
        want,
        why: why.clone(),
    };
    run_cases(
        "NodePorts",
        filters::host_ports::filter,
        vec![
            case(
                "same port on all addresses",
                &[("TCP", "0.0.0.0", 80)],
                &[("TCP", "0.0.0.0", 80)],
                &["n2"],
            ),
            case(
                "a specific IP against all addresses",
                &[("TCP", "0.0.0.0", 80)],
                &[("TCP", "10.0.0.1", 80)],
                &["n2"],
            ),
            case(
                "all addresses against a specific IP",
                &[("TCP", "10.0.0.1", 80)],
                &[("TCP", "0.0.0.0", 80)],
                &["n2"],
            ),
            case(
                "the same specific IP",
                &[("TCP", "10.0.0.1", 80)],
                &[("TCP", "10.0.0.1", 80)],
                &["n2"],
            ),
            case(
                "two different specific IPs share a port",
                &[("TCP", "10.0.0.1", 80)],
                &[("TCP", "10.0.0.2", 80)],
                &["n1", "n2"],
            ),
            case(
                "another protocol on the same port",
                &[("TCP", "0.0.0.0", 53)],
                &[("UDP", "0.0.0.0", 53)],
                &["n1", "n2"],
            ),
            case(
                "another port",
                &[("TCP", "0.0.0.0", 80)],
                &[("TCP", "0.0.0.0", 8080)],
                &["n1", "n2"],
            ),
            case(
                "one clash among several ports is enough",
                &[("UDP", "0.0.0.0", 53), ("TCP", "0.0.0.0", 443)],
                &[("TCP", "0.0.0.0", 80), ("TCP", "0.0.0.0", 443)],
                &["n2"],
            ),
            case(
                "a pod without host ports",
                &[("TCP", "0.0.0.0", 80)],
                &[],
                &["n1", "n2"],
            ),
        ],
    );
}

#[test]
fn filter_node_resources_fit() {
    let cpu = Reason::Insufficient("cpu");
    let mem = Reason::Insufficient("memory");
    // n1: 1 CPU, 1 GiB, half taken by `old`.
    let half = || vec![node("n1", 1000, 1024)];
    let old = || vec![("n1", pod("old", 500, 512))];
    let few_pods = |max: i64| {
        let mut n = node("n1", 4000, 8192);
        n.allocatable.pods = max;
        vec![n]
    };
    let init_heavy = |uid: &str| {
        let json = serde_json::json!({
            "metadata": {"name": uid, "uid": uid},
            "spec": {
                "initContainers": [
                    {"name": "i", "resources": {"requests": {"cpu": "700m", "memory": "100Mi"}}}
                ],
                "containers": [
                    {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "300Mi"}}},
                    {"name": "b", "resources": {"requests": {"cpu": "100m", "memory": "300Mi"}}}
                ]
            }
        });
        let p: crate::api::pod::Pod = serde_json::from_value(json).expect("pod");
        PodInfo::from_pod(&p)
    };
    run_cases(
        "NodeResourcesFit",
        filters::resources_fit::filter,
        vec![
            Case {
                name: "exact fit",
                nodes: half(),
                existing: old(),
                pod: pod("p", 500, 512),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name: "one millicore over",
                nodes: half(),
                existing: old(),
                pod: pod("p", 501, 512),
                why: vec![cpu.clone()],
                ..Case::default()
            },
            Case {
                name: "one byte over",
                nodes: half(),
                existing: old(),
                pod: PodInfo {
                    requests: Resources {
                        milli_cpu: 1,
                        memory: (512 << 20) + 1,
                        pods: 1,
                    },
                    ..pod("p", 0, 0)
                },
                why: vec![mem.clone()],
                ..Case::default()
            },
            Case {
                name: "both short: two reasons",
                nodes: half(),
                existing: old(),
                pod: pod("p", 600, 600),
                why: vec![cpu.clone(), mem.clone()],
                ..Case::default()
            },
            Case {
                name: "bigger than the empty node",
                nodes: vec![node("n1", 1000, 1024), node("n2", 2000, 2048)],
                pod: pod("p", 1500, 100),
                want: &["n2"],
                why: vec![cpu.clone()],
                ..Case::default()
            },
            Case {
                name: "pod count limit reached",
                nodes: few_pods(2),
                existing: vec![("n1", pod("a", 0, 0)), ("n1", pod("b", 0, 0))],
                pod: pod("p", 0, 0),
                why: vec![Reason::TooManyPods],
                ..Case::default()
            },
            Case {
                name: "pod count limit: the last slot",
                nodes: few_pods(3),
                existing: vec![("n1", pod("a", 0, 0)), ("n1", pod("b", 0, 0))],
                pod: pod("p", 0, 0),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name: "pod count and cpu both short",
                nodes: vec![{
                    let mut n = node("n1", 1000, 8192);
                    n.allocatable.pods = 1;
                    n
                }],
                existing: vec![("n1", pod("a", 800, 0))],
                pod: pod("p", 300, 0),
                why: vec![Reason::TooManyPods, cpu.clone()],
                ..Case::default()
            },
            Case {
                name: "zero requests fit a full node",
                nodes: half(),
                existing: vec![("n1", pod("a", 1000, 1024))],
                pod: pod("p", 0, 0),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                // The node now offers less than its pods request (its allocatable shrank):
                // a pod requesting nothing still fits, one asking for memory does not.
                name: "zero requests fit an overcommitted node",
                nodes: half(),
                existing: vec![("n1", pod("a", 2000, 2048))],
                pod: pod("p", 0, 0),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name: "only the resources the pod asks for are checked",
                nodes: half(),
                existing: vec![("n1", pod("a", 2000, 2048))],
                pod: pod("p", 0, 1),
                why: vec![mem.clone()],
                ..Case::default()
            },
            Case {
                name: "zero cpu request on a node with no cpu left, memory fits",
                nodes: half(),
                existing: vec![("n1", pod("a", 1000, 0))],
                pod: pod("p", 0, 1024),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name: "a node with nothing allocatable takes no pod",
                nodes: vec![NodeInfo {
                    allocatable: Resources::default(),
                    ..node("n1", 0, 0)
                }],
                pod: pod("p", 0, 0),
                why: vec![Reason::TooManyPods],
                ..Case::default()
            },
            Case {
                // Sum of the containers: 200m, 600 MiB; the init container: 700m, 100 MiB;
                // the pod needs 700m and 600 MiB.
                name: "init container larger than the sum: 650m free is not enough",
                nodes: vec![node("n1", 650, 4096)],
                pod: init_heavy("p"),
                why: vec![cpu.clone()],
                ..Case::default()
            },
            Case {
                name: "init container larger than the sum: 700m free is",
                nodes: vec![node("n1", 700, 600)],
                pod: init_heavy("p"),
                want: &["n1"],
                ..Case::default()
            },
            Case {
                name: "init container smaller than the sum in memory: 599 MiB is short",
                nodes: vec![node("n1", 4000, 599)],
                pod: init_heavy("p"),
                why: vec![mem.clone()],
                ..Case::default()
            },
            Case {
                name: "deleted pods free their requests",
                nodes: half(),
                existing: vec![("n1", pod("a", 500, 512)), ("n2", pod("gone", 500, 512))],
                pod: pod("p", 500, 512),
                want: &["n1"],
                ..Case::default()
            },
        ],
    );
}

#[test]
fn filter_pod_topology_spread() {
    let web = |uid: &str| labelled(pod(uid, 100, 100), &[("app", "web")]);
    let spreading = |skew: i64| PodInfo {
        spread: vec![spread(&[("app", "web")], ZONE, skew, true)],
        ..web("p")
    };
    // Zones a (two nodes), b, c; one web pod in a and one in b.
    let zones = || {
        vec![
            zoned("a1", "a"),
            zoned("a2", "a"),
            zoned("b1", "b"),
            zoned("c1", "c"),
        ]
    };
    let one_in_a_and_b = || vec![("a1", web("w1")), ("b1", web("w2"))];
    let why = vec![Reason::TopologySpread];
    run_cases(
        "PodTopologySpread",
        filters::topology_spread::filter,
        vec![
            Case {
                name: "maxSkew 1 over zones: only the empty zone",
                nodes: zones(),
                existing: one_in_a_and_b(),
                pod: spreading(1),
                want: &["c1"],
                why: why.clone(),
            },
            Case {
                name: "maxSkew 1, balanced zones: every zone",
                nodes: zones(),
                existing: vec![("a2", web("w1")), ("b1", web("w2")), ("c1", web("w3"))],
                pod: spreading(1),
                want: &["a1", "a2", "b1", "c1"],
                why: why.clone(),
            },
            Case {
                name: "maxSkew 2 allows one more where there is one",
                nodes: zones(),
                existing: vec![("a1", web("w1")), ("a2", web("w3")), ("b1", web("w2"))],
                pod: spreading(2),
                want: &["b1", "c1"],
                why: why.clone(),
            },
            Case {
                name: "no pods yet: every zone",
                nodes: zones(),
                pod: spreading(1),
                want: &["a1", "a2", "b1", "c1"],
                why: why.clone(),
                ..Case::default()
            },
            Case {
                name: "pods in another namespace are not counted",
                nodes: zones(),
                existing: vec![
                    (
                        "a1",
                        PodInfo {
                            namespace: "other".into(),
                            ..web("w1")
                        },
                    ),
                    (
                        "b1",
                        PodInfo {
                            namespace: "other".into(),
                            ..web("w2")
                        },
                    ),
                ],
                pod: spreading(1),
                want: &["a1", "a2", "b1", "c1"],
                why: why.clone(),
            },
            Case {
                name: "pods not matching the selector are not counted",
                nodes: zones(),
                existing: vec![
                    ("a1", labelled(pod("x1", 100, 100), &[("app", "db")])),
                    ("b1", labelled(pod("x2", 100, 100), &[("app", "db")])),
                ],
                pod: spreading(1),
                want: &["a1", "a2", "b1", "c1"],
                why: why.clone(),
            },
            Case {
                name: "a pod not matching its own selector does not count itself",
                nodes: zones(),
                existing: one_in_a_and_b(),
                pod: PodInfo {
                    labels: labels(&[("app", "other")]),
                    ..spreading(1)
                },
                want: &["a1", "a2", "b1", "c1"],
                why: why.clone(),
            },
            Case {
                name: "a node lacking the topology key",
                nodes: vec![zoned("a1", "a"), node("bare", 4000, 8192)],
                pod: spreading(1),
                want: &["a1"],
                why: vec![Reason::TopologySpreadMissingLabel],
                ..Case::default()
            },
            Case {
                name: "ScheduleAnyway does not filter",
                nodes: vec![zoned("a1", "a"), zoned("b1", "b"), node("bare", 4000, 8192)],
                existing: vec![("a1", web("w1")), ("a1", web("w2"))],
                pod: PodInfo {
                    spread: vec![spread(&[("app", "web")], ZONE, 1, false)],
                    ..web("p")
                },
                want: &["a1", "b1", "bare"],
                ..Case::default()
            },
            Case {
                name: "hostname spread, maxSkew 1",
                nodes: std_nodes(&["n1", "n2", "n3"]),
                existing: vec![("n1", web("w1")), ("n2", web("w2"))],
                pod: PodInfo {
                    spread: vec![spread(&[("app", "web")], HOSTNAME, 1, true)],
                    ..web("p")
                },
                want: &["n3"],
                why: why.clone(),
            },
            Case {
                // Zone c has no ssd node: the pod's nodeSelector leaves it out of the domains,
                // so the minimum is zone b's 1, not c's 0, and zone a (1 pod) is allowed too.
                name: "domains are those of the nodes the pod's nodeSelector allows",
                nodes: vec![
                    with_labels(zoned("a1", "a"), &[("disk", "ssd")]),
                    with_labels(zoned("b1", "b"), &[("disk", "ssd")]),
                    zoned("c1", "c"),
                ],
                existing: vec![("a1", web("w1")), ("b1", web("w2"))],
                pod: PodInfo {
                    node_selector: labels(&[("disk", "ssd")]),
                    ..spreading(1)
                },
                want: &["a1", "b1"],
                ..Case::default()
            },
        ],
    );
}

#[test]
fn filter_inter_pod_affinity() {
    let app = |uid: &str, a: &str| labelled(pod(uid, 100, 100), &[("app", a)]);
    let anti = |t: AffinityTerm| PodInfo {
        anti_affinity: vec![t],
        ..app("p", "web")
    };
    let affinity = |t: AffinityTerm| PodInfo {
        affinity: vec![t],
        ..app("p", "web")
    };
    // n1, n2 in zone a; n3 in zone b; n4 without a zone.
    let nodes = || {
        vec![
            zoned("n1", "a"),
            zoned("n2", "a"),
            zoned("n3", "b"),
            node("n4", 4000, 8192),
        ]
    };
    let db_on_n1 = || vec![("n1", app("db1", "db"))];
    let anti_why = vec![Reason::PodAntiAffinity];
    let aff_why = vec![Reason::PodAffinity];
    let existing_why = vec![Reason::ExistingAntiAffinity];
    run_cases(
        "InterPodAffinity",
        filters::inter_pod_affinity::filter,
        vec![
            Case {
                name: "anti-affinity on hostname",
                nodes: nodes(),
                existing: db_on_n1(),
                pod: anti(term(&[("app", "db")], HOSTNAME, 0)),
                want: &["n2", "n3", "n4"],
                why: anti_why.clone(),
            },
            Case {
                name: "anti-affinity on zone; a node without the zone label is fine",
                nodes: nodes(),
                existing: db_on_n1(),
                pod: anti(term(&[("app", "db")], ZONE, 0)),
                want: &["n3", "n4"],
                why: anti_why.clone(),
            },
            Case {
                name: "anti-affinity to itself spreads replicas over hosts",
                nodes: nodes(),
                existing: vec![("n1", app("w1", "web")), ("n3", app("w2", "web"))],
                pod: anti(term(&[("app", "web")], HOSTNAME, 0)),
                want: &["n2", "n4"],
                ..Case::default()
            },
            Case {
                name: "anti-affinity ignores pods of other namespaces",
                nodes: nodes(),
                existing: vec![(
                    "n1",
                    PodInfo {
                        namespace: "other".into(),
                        ..app("db1", "db")
                    },
                )],
                pod: anti(term(&[("app", "db")], HOSTNAME, 0)),
                want: &["n1", "n2", "n3", "n4"],
                ..Case::default()
            },
            Case {
                name: "anti-affinity over all namespaces",
                nodes: nodes(),
                existing: vec![(
                    "n3",
                    PodInfo {
                        namespace: "other".into(),
                        ..app("db1", "db")
                    },
                )],
                pod: anti(AffinityTerm {
                    namespaces: None,
                    ..term(&[("app", "db")], ZONE, 0)
                }),
                want: &["n1", "n2", "n4"],
                why: anti_why.clone(),
            },
            Case {
                name: "an existing pod's anti-affinity keeps the pod off its host",
                nodes: nodes(),
                existing: vec![(
                    "n2",
                    PodInfo {
                        anti_affinity: vec![term(&[("app", "web")], HOSTNAME, 0)],
                        ..app("db1", "db")
                    },
                )],
                pod: app("p", "web"),
                want: &["n1", "n3", "n4"],
                why: existing_why.clone(),
            },
            Case {
                name: "an existing pod's anti-affinity on zone",
                nodes: nodes(),
                existing: vec![(
                    "n3",
                    PodInfo {
                        anti_affinity: vec![term(&[("app", "web")], ZONE, 0)],
                        ..app("db1", "db")
                    },
                )],
                pod: app("p", "web"),
                want: &["n1", "n2", "n4"],
                why: existing_why.clone(),
            },
            Case {
                name: "an existing pod's anti-affinity not matching the pod",
                nodes: nodes(),
                existing: vec![(
                    "n2",
                    PodInfo {
                        anti_affinity: vec![term(&[("app", "cache")], HOSTNAME, 0)],
                        ..app("db1", "db")
                    },
                )],
                pod: app("p", "web"),
                want: &["n1", "n2", "n3", "n4"],
                ..Case::default()
            },
            Case {
                name: "affinity to a zone holding a match",
                nodes: nodes(),
                existing: vec![("n3", app("c1", "cache"))],
                pod: affinity(term(&[("app", "cache")], ZONE, 0)),
                want: &["n3"],
                why: aff_why.clone(),
            },
            Case {
                name: "affinity to a host holding a match",
                nodes: nodes(),
                existing: vec![("n2", app("c1", "cache"))],
                pod: affinity(term(&[("app", "cache")], HOSTNAME, 0)),
                want: &["n2"],
                why: aff_why.clone(),
            },
            Case {
                name: "affinity to pods that do not exist",
                nodes: nodes(),
                pod: affinity(term(&[("app", "cache")], ZONE, 0)),
                why: aff_why.clone(),
                ..Case::default()
            },
            Case {
                name: "affinity to a pod matching itself, none exists yet: nodes with the key",
                nodes: nodes(),
                pod: affinity(term(&[("app", "web")], ZONE, 0)),
                want: &["n1", "n2", "n3"],
                why: aff_why.clone(),
                ..Case::default()
            },
            Case {
                name: "affinity to itself once one exists: its zone only",
                nodes: nodes(),
                existing: vec![("n3", app("w1", "web"))],
                pod: affinity(term(&[("app", "web")], ZONE, 0)),
                want: &["n3"],
                why: aff_why.clone(),
            },
            Case {
                name: "affinity to itself matching only in another namespace does not count",
                nodes: nodes(),
                existing: vec![(
                    "n3",
                    PodInfo {
                        namespace: "other".into(),
                        ..app("w1", "web")
                    },
                )],
                pod: affinity(term(&[("app", "web")], ZONE, 0)),
                want: &["n1", "n2", "n3"],
                why: aff_why.clone(),
            },
            Case {
                name: "affinity and anti-affinity together",
                nodes: nodes(),
                existing: vec![("n1", app("c1", "cache")), ("n2", app("w1", "web"))],
                pod: PodInfo {
                    affinity: vec![term(&[("app", "cache")], ZONE, 0)],
                    anti_affinity: vec![term(&[("app", "web")], HOSTNAME, 0)],
                    ..app("p", "web")
                },
                want: &["n1"],
                ..Case::default()
            },
        ],
    );
}
