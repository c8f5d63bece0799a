//! `PodInfo::from_pod` and `NodeInfo::from_node` from Kubernetes JSON, as the API server
//! stores the objects.

use super::*;
use crate::api::node::Node;
use crate::api::pod::Pod;
use serde_json::json;

fn pod_info(v: serde_json::Value) -> PodInfo {
    let p: Pod = serde_json::from_value(v).expect("a Pod");
    PodInfo::from_pod(&p)
}

fn node_info(v: serde_json::Value) -> NodeInfo {
    let n: Node = serde_json::from_value(v).expect("a Node");
    NodeInfo::from_node(&n)
}

const MI: i64 = 1 << 20;

#[test]
fn pod_requests_sum_containers_default_from_limits_and_add_overhead() {
    let info = pod_info(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "uid": "u1", "labels": {"app": "web"}},
        "spec": {
            "containers": [
                // 250m, 128 MiB.
                {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}}},
                // Limits only: the requests default to them (1 CPU, 256 MiB).
                {"name": "b", "resources": {"limits": {"cpu": "1", "memory": "256Mi"}}},
                // A memory request and a CPU limit: 100m, 32 MiB.
                {"name": "c", "resources": {
                    "requests": {"memory": "32Mi"},
                    "limits": {"cpu": "100m", "memory": "64Mi"}}},
                // Nothing.
                {"name": "d"}
            ],
            "overhead": {"cpu": "50m", "memory": "10Mi"}
        }
    }));
    assert_eq!(info.uid, "u1");
    assert_eq!(info.name, "web-1");
    assert_eq!(info.namespace, "default", "an empty namespace is default");
    assert_eq!(info.labels, labels(&[("app", "web")]));
    assert_eq!(
        info.requests,
        Resources {
            milli_cpu: 250 + 1000 + 100 + 50,
            memory: (128 + 256 + 32 + 10) * MI,
            pods: 1,
        }
    );
    assert_eq!(info.node_name, None);
    assert!(!info.needs_pod_topology());
}

#[test]
fn pod_requests_take_the_largest_init_container_per_resource() {
    let spec = |init: serde_json::Value| {
        pod_info(json!({
            "metadata": {"name": "p", "namespace": "team"},
            "spec": {
                "initContainers": init,
                "containers": [
                    {"name": "a", "resources": {"requests": {"cpu": "200m", "memory": "100Mi"}}},
                    {"name": "b", "resources": {"requests": {"cpu": "300m", "memory": "100Mi"}}}
                ]
            }
        }))
        .requests
    };
    let cases = [
        ("no init containers: the sum", json!([]), (500, 200 * MI)),
        (
            "init larger in CPU only",
            json!([{"name": "i", "resources": {"requests": {"cpu": "2", "memory": "50Mi"}}}]),
            (2000, 200 * MI),
        ),
        (
            "init larger in memory only (from its limit)",
            json!([{"name": "i", "resources": {"limits": {"memory": "1Gi"}}}]),
            (500, 1024 * MI),
        ),
        (
            "init containers run one at a time: the largest counts, not their sum",
            json!([
                {"name": "i1", "resources": {"requests": {"cpu": "400m"}}},
                {"name": "i2", "resources": {"requests": {"cpu": "450m"}}}
            ]),
            (500, 200 * MI),
        ),
        (
            "an init larger than the sum in both",
            json!([
                {"name": "i1", "resources": {"requests": {"cpu": "600m", "memory": "150Mi"}}},
                {"name": "i2", "resources": {"requests": {"cpu": "100m", "memory": "300Mi"}}}
            ]),
            (600, 300 * MI),
        ),
    ];
    for (name, init, (cpu, mem)) in cases {
        assert_eq!(
            spec(init),
            Resources {
                milli_cpu: cpu,
                memory: mem,
                pods: 1
            },
            "{name}"
        );
    }
}

#[test]
fn pod_without_spec_or_resources_requests_one_pod() {
    let bare = pod_info(json!({"metadata": {"name": "p", "namespace": "ns"}}));
    assert_eq!(bare.namespace, "ns");
    assert_eq!(
        bare.requests,
        Resources {
            milli_cpu: 0,
            memory: 0,
            pods: 1
        }
    );
    let empty = pod_info(json!({
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "a", "resources": {}}], "nodeName": ""}
    }));
    assert_eq!(empty.requests.pods, 1);
    assert_eq!(empty.requests.milli_cpu, 0);
    assert_eq!(empty.node_name, None, "an empty nodeName is no nodeName");
    let named = pod_info(json!({"metadata": {"name": "p"}, "spec": {"nodeName": "w1"}}));
    assert_eq!(named.node_name.as_deref(), Some("w1"));
}

#[test]
fn pod_host_ports_default_protocol_and_address() {
    let info = pod_info(json!({
        "metadata": {"name": "p"},
        "spec": {"containers": [
            {"name": "a", "ports": [
                {"containerPort": 80, "hostPort": 8080},
                {"containerPort": 53, "hostPort": 53, "protocol": "UDP", "hostIP": "10.0.0.1"},
                {"containerPort": 9090},
                {"containerPort": 9091, "hostPort": 0},
                {"containerPort": 443, "hostPort": 443, "hostIP": ""}
            ]},
            {"name": "b", "ports": [{"containerPort": 7000, "hostPort": 7000, "protocol": "SCTP"}]}
        ]}
    }));
    let hp = |protocol: &str, ip: &str, port: i32| HostPort {
        protocol: protocol.into(),
        ip: ip.into(),
        port,
    };
    assert_eq!(
        info.host_ports,
        vec![
            hp("TCP", "0.0.0.0", 8080),
            hp("UDP", "10.0.0.1", 53),
            hp("TCP", "0.0.0.0", 443),
            hp("SCTP", "0.0.0.0", 7000),
        ]
    );
}

#[test]
fn pod_scheduling_constraints() {
    let info = pod_info(json!({
        "metadata": {"name": "p", "namespace": "team", "labels": {"app": "web"}},
        "spec": {
            "containers": [{"name": "a"}],
            "nodeSelector": {"disk": "ssd"},
            "tolerations": [
                {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
                {"operator": "Exists"}
            ],
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
                    ]},
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 5, "preference": {"matchExpressions": [{"key": "fast", "operator": "Exists"}]}}
                    ]
                },
                "podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"app": "cache"}},
                         "topologyKey": "topology.kubernetes.io/zone"}
                    ],
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 20, "podAffinityTerm": {
                            "labelSelector": {"matchLabels": {"app": "db"}},
                            "namespaces": ["data"],
                            "topologyKey": "kubernetes.io/hostname"}}
                    ]
                },
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"app": "web"}},
                         "namespaceSelector": {},
                         "topologyKey": "kubernetes.io/hostname"}
                    ],
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 30, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}
                    ]
                }
            },
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                 "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}}},
                {"maxSkew": 3, "topologyKey": "kubernetes.io/hostname",
                 "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "web"}}},
                {"maxSkew": 2, "topologyKey": "topology.kubernetes.io/zone",
                 "whenUnsatisfiable": "DoNotSchedule"}
            ]
        }
    }));
    assert_eq!(info.node_selector, labels(&[("disk", "ssd")]));
    assert_eq!(info.tolerations.len(), 2);
    assert_eq!(info.tolerations[1].operator.as_deref(), Some("Exists"));
    let required = info
        .required_affinity
        .as_ref()
        .expect("required node affinity");
    assert_eq!(required.node_selector_terms.len(), 1);
    assert_eq!(info.preferred_affinity.len(), 1);
    assert_eq!(info.preferred_affinity[0].weight, 5);

    // Required pod affinity: the pod's own namespace when none is given.
    assert_eq!(
        info.affinity,
        vec![AffinityTerm {
            selector: selector(&[("app", "cache")]),
            namespaces: Some(vec!["team".into()]),
            topology_key: ZONE.into(),
            weight: 0,
        }]
    );
    // Required anti-affinity with an empty namespaceSelector: every namespace.
    assert_eq!(
        info.anti_affinity,
        vec![AffinityTerm {
            selector: selector(&[("app", "web")]),
            namespaces: None,
            topology_key: HOSTNAME.into(),
            weight: 0,
        }]
    );
    // Preferred: affinity keeps its weight, anti-affinity turns negative.
    assert_eq!(info.preferred_pod_affinity.len(), 2);
    assert_eq!(
        info.preferred_pod_affinity[0],
        AffinityTerm {
            selector: selector(&[("app", "db")]),
            namespaces: Some(vec!["data".into()]),
            topology_key: HOSTNAME.into(),
            weight: 20,
        }
    );
    let no_selector = &info.preferred_pod_affinity[1];
    assert_eq!(no_selector.weight, -30);
    assert_eq!(no_selector.namespaces, Some(vec!["team".into()]));
    // A term without a labelSelector matches no pod, not every pod.
    assert!(!no_selector.matches("team", &labels(&[("app", "web")])));
    assert!(!no_selector.matches("team", &BTreeMap::new()));

    assert_eq!(info.spread.len(), 3);
    assert_eq!(info.spread[0], spread(&[("app", "web")], ZONE, 1, true));
    assert_eq!(
        info.spread[1],
        spread(&[("app", "web")], HOSTNAME, 3, false)
    );
    // A constraint without a labelSelector counts no pod (Kubernetes' nil selector).
    assert_eq!(info.spread[2].max_skew, 2);
    assert!(!info.spread[2].selector.matches(&labels(&[("app", "web")])));
    assert!(!info.spread[2].selector.matches(&BTreeMap::new()));
    assert!(info.needs_pod_topology());
}

#[test]
fn spread_constraint_without_selector_does_not_count_pods() {
    // Zone a holds two pods of the namespace; a constraint without a labelSelector selects
    // none of them (nor the pod itself), so both zones stay open, as in Kubernetes.
    let p = pod_info(json!({
        "metadata": {"name": "p", "uid": "p", "labels": {"app": "web"}},
        "spec": {
            "containers": [{"name": "a"}],
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule"}
            ]
        }
    }));
    let existing = [
        ("a1", labelled(pod("w1", 100, 100), &[("app", "web")])),
        ("a1", labelled(pod("w2", 100, 100), &[("app", "web")])),
    ];
    let mut s = engine_with(
        Config::default(),
        &[zoned("a1", "a"), zoned("b1", "b")],
        &existing,
    );
    let placed = s.schedule(&p).expect("placed");
    assert_eq!(placed.feasible, 2, "both zones are feasible");
}

#[test]
fn node_facts_from_json() {
    let n = node_info(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "w1", "labels": {"topology.kubernetes.io/zone": "a"}},
        "spec": {
            "unschedulable": true,
            "taints": [
                {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
                {"key": "spot", "effect": "PreferNoSchedule"}
            ]
        },
        "status": {
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            "allocatable": {"cpu": "7500m", "memory": "31Gi", "pods": "100"},
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"}
            ]
        }
    }));
    assert_eq!(n.name, "w1");
    assert_eq!(
        n.labels,
        labels(&[(ZONE, "a"), (HOSTNAME, "w1")]),
        "hostname added"
    );
    assert!(n.unschedulable);
    assert!(n.ready);
    assert_eq!(n.taints.len(), 2);
    assert_eq!(n.taints[1].value, None);
    assert_eq!(
        n.allocatable,
        Resources {
            milli_cpu: 7500,
            memory: 31 << 30,
            pods: 100
        },
        "allocatable, not capacity"
    );
    assert_eq!(n.requested, Resources::default());
    assert!(n.used_ports.is_empty());
}

#[test]
fn node_readiness_hostname_and_capacity_fallback() {
    let with = |labels: serde_json::Value, status: serde_json::Value| {
        node_info(json!({"metadata": {"name": "w2", "labels": labels}, "status": status}))
    };
    // An explicit hostname label is kept.
    let n = with(json!({HOSTNAME: "custom"}), json!({}));
    assert_eq!(n.labels.get(HOSTNAME).map(String::as_str), Some("custom"));
    // No allocatable: capacity; decimal and fractional quantities.
    let n = with(
        json!({}),
        json!({"capacity": {"cpu": "0.5", "memory": "1G", "pods": "8"},
               "conditions": [{"type": "Ready", "status": "True"}]}),
    );
    assert_eq!(
        n.allocatable,
        Resources {
            milli_cpu: 500,
            memory: 1_000_000_000,
            pods: 8
        }
    );
    assert!(n.ready);
    assert!(!n.unschedulable);
    for (status, ready) in [("True", true), ("False", false), ("Unknown", false)] {
        let n = with(
            json!({}),
            json!({"conditions": [{"type": "Ready", "status": status}]}),
        );
        assert_eq!(n.ready, ready, "Ready={status}");
    }
    // No conditions at all: not ready; no status: nothing allocatable.
    let n = node_info(json!({"metadata": {"name": "w3"}}));
    assert!(!n.ready);
    assert_eq!(n.allocatable, Resources::default());
    assert_eq!(n.labels, labels(&[(HOSTNAME, "w3")]));
}

#[test]
fn objects_from_json_schedule_end_to_end() {
    // A cordoned gpu node, a not-ready node and a small node; the pod does not fit the small
    // node and goes to the gpu node once it tolerates its taint and the cordon.
    let mut s = Scheduler::new(Config::default());
    for n in [
        json!({"metadata": {"name": "gpu"},
               "spec": {"unschedulable": true,
                        "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]},
               "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "10"},
                          "conditions": [{"type": "Ready", "status": "True"}]}}),
        json!({"metadata": {"name": "down"},
               "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "10"},
                          "conditions": [{"type": "Ready", "status": "Unknown"}]}}),
        json!({"metadata": {"name": "small"},
               "status": {"allocatable": {"cpu": "1", "memory": "8Gi", "pods": "10"},
                          "conditions": [{"type": "Ready", "status": "True"}]}}),
    ] {
        s.snapshot_mut().upsert_node(node_info(n));
    }
    let mut p = json!({
        "metadata": {"name": "train", "uid": "t1"},
        "spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": "2", "memory": "1Gi"}}}]}
    });
    let err = s
        .schedule(&pod_info(p.clone()))
        .expect_err("nothing fits yet");
    assert_eq!(
        err.to_string(),
        "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) were not ready, 1 node(s) were unschedulable."
    );
    p["spec"]["tolerations"] = json!([
        {"key": UNSCHEDULABLE_TAINT, "operator": "Exists", "effect": "NoSchedule"}
    ]);
    let err = s
        .schedule(&pod_info(p.clone()))
        .expect_err("the taint is left");
    assert_eq!(
        err.to_string(),
        "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were not ready."
    );
    p["spec"]["tolerations"] = json!([
        {"key": "dedicated", "operator": "Exists"},
        {"key": UNSCHEDULABLE_TAINT, "operator": "Exists", "effect": "NoSchedule"}
    ]);
    let info = pod_info(p);
    let placed = s.schedule_and_assume(&info).expect("the gpu node");
    assert_eq!(placed.node, "gpu");
    assert_eq!(
        s.snapshot().node("gpu").map(|n| n.requested),
        Some(Resources {
            milli_cpu: 2000,
            memory: 1 << 30,
            pods: 1
        })
    );
}
