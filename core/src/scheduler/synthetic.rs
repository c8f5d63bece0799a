//! Synthetic clusters for benchmarks and simulations, seeded and reproducible: nodes of varied
//! capacity (4–64 cores, 4 GiB per core), ten zones, a third with `disk=ssd`, one in fifty
//! tainted `dedicated=gpu:NoSchedule`; pods of varied requests, one in ten with a nodeSelector,
//! one in twenty tolerating the gpu taint, one in twenty with hostname anti-affinity within
//! groups of 20, one in twenty spread over zones (maxSkew 1) within groups of 50.

use super::model::WhenUnsatisfiable;
use super::model::{AffinityTerm, NodeInfo, PodInfo, Resources, SpreadConstraint};
use super::rng::SplitMix64;
use crate::api::node::Taint;
use crate::api::pod::Toleration;
use crate::selector::LabelSelector;
use std::collections::BTreeMap;

/// Node `i` of a synthetic cluster.
pub fn node(i: usize, rng_seed: u64) -> NodeInfo {
    let mut rng = SplitMix64::new(rng_seed ^ (i as u64).wrapping_mul(0x9E37_79B9));
    let cores = [4i64, 8, 16, 32, 64][rng.below(5) as usize];
    let name = format!("node-{i:05}");
    let mut labels = BTreeMap::new();
    labels.insert("kubernetes.io/hostname".to_string(), name.clone());
    labels.insert(
        "topology.kubernetes.io/zone".to_string(),
        format!("zone-{}", i % 10),
    );
    labels.insert(
        "node.kubernetes.io/instance-type".to_string(),
        format!("c{cores}"),
    );
    if i.is_multiple_of(3) {
        labels.insert("disk".to_string(), "ssd".to_string());
    }
    let taints = if i % 50 == 7 {
        vec![Taint {
            key: "dedicated".into(),
            value: Some("gpu".into()),
            effect: "NoSchedule".into(),
            time_added: None,
        }]
    } else {
        Vec::new()
    };
    NodeInfo {
        name,
        labels,
        taints,
        unschedulable: false,
        ready: true,
        allocatable: Resources {
            milli_cpu: cores * 1000,
            memory: cores * 4 * 1024 * 1024 * 1024,
            pods: 110,
        },
        ..NodeInfo::default()
    }
}

/// Pod `j` of a synthetic workload.
pub fn pod(j: usize, rng_seed: u64) -> PodInfo {
    let mut rng = SplitMix64::new(rng_seed ^ 0xA5A5_5A5A ^ (j as u64).wrapping_mul(0x2545_F491));
    let cpu = [100i64, 250, 500, 1000, 2000][rng.below(5) as usize];
    let mem_mi = [128i64, 256, 512, 1024, 2048][rng.below(5) as usize];
    let mut p = PodInfo {
        uid: format!("uid-{j:07}"),
        namespace: "default".into(),
        name: format!("pod-{j:07}"),
        requests: Resources {
            milli_cpu: cpu,
            memory: mem_mi * 1024 * 1024,
            pods: 1,
        },
        ..PodInfo::default()
    };
    let selector = |app: &str| LabelSelector {
        match_labels: [("app".to_string(), app.to_string())].into(),
        ..LabelSelector::default()
    };
    match j % 100 {
        0..=9 => {
            p.node_selector.insert("disk".into(), "ssd".into());
            p.labels.insert("app".into(), format!("ssd-{}", j % 37));
        }
        10..=14 => {
            p.tolerations.push(Toleration {
                key: Some("dedicated".into()),
                operator: Some("Equal".into()),
                value: Some("gpu".into()),
                effect: Some("NoSchedule".into()),
                toleration_seconds: None,
            });
            p.labels.insert("app".into(), "gpu-jobs".into());
        }
        15..=19 => {
            let app = format!("anti-{}", j / 2000);
            p.labels.insert("app".into(), app.clone());
            p.anti_affinity.push(AffinityTerm {
                selector: selector(&app),
                namespaces: Some(vec!["default".into()]),
                topology_key: "kubernetes.io/hostname".into(),
                weight: 0,
            });
        }
        20..=24 => {
            let app = format!("spread-{}", j / 1000);
            p.labels.insert("app".into(), app.clone());
            p.spread.push(SpreadConstraint {
                max_skew: 1,
                topology_key: "topology.kubernetes.io/zone".into(),
                when: WhenUnsatisfiable::DoNotSchedule,
                selector: selector(&app),
            });
        }
        _ => {
            p.labels.insert("app".into(), format!("web-{}", j % 50));
        }
    }
    p
}

/// `n` synthetic nodes.
pub fn nodes(n: usize, seed: u64) -> Vec<NodeInfo> {
    (0..n).map(|i| node(i, seed)).collect()
}

/// `n` synthetic pods.
pub fn pods(n: usize, seed: u64) -> Vec<PodInfo> {
    (0..n).map(|j| pod(j, seed)).collect()
}
