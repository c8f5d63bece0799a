//! Scheduler tests: table-driven per filter and per score plugin, the Unschedulable message,
//! and engine behaviour (sampling, ties, assumptions).

use super::*;
use crate::api::node::Taint;
use crate::api::pod::Toleration;
use std::collections::BTreeMap;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(crate) fn node(name: &str, cpu: i64, mem_mi: i64) -> NodeInfo {
    NodeInfo {
        name: name.into(),
        labels: labels(&[("kubernetes.io/hostname", name)]),
        ready: true,
        allocatable: Resources {
            milli_cpu: cpu,
            memory: mem_mi << 20,
            pods: 110,
        },
        ..NodeInfo::default()
    }
}

pub(crate) fn pod(uid: &str, cpu: i64, mem_mi: i64) -> PodInfo {
    PodInfo {
        uid: uid.into(),
        namespace: "default".into(),
        name: uid.into(),
        requests: Resources {
            milli_cpu: cpu,
            memory: mem_mi << 20,
            pods: 1,
        },
        ..PodInfo::default()
    }
}

fn taint(key: &str, value: &str, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        value: Some(value.into()),
        effect: effect.into(),
        time_added: None,
    }
}

#[test]
fn unschedulable_message_is_kubernetes_word_for_word() {
    let mut u = Unschedulable {
        nodes: 5,
        ..Unschedulable::default()
    };
    u.record(&[Reason::Insufficient("cpu")]);
    u.record(&[Reason::Insufficient("cpu"), Reason::Insufficient("memory")]);
    u.record(&[Reason::Insufficient("cpu")]);
    for _ in 0..2 {
        u.record(&[Reason::UntoleratedTaint {
            key: "dedicated".into(),
            value: "gpu".into(),
        }]);
    }
    assert_eq!(
        u.to_string(),
        "0/5 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu."
    );
    assert_eq!(
        Unschedulable::default().to_string(),
        "0/0 nodes are available."
    );
}

#[test]
fn tolerations_follow_kubernetes_rules() {
    let t = taint("dedicated", "gpu", "NoSchedule");
    let tol = |key: Option<&str>, op: Option<&str>, value: Option<&str>, effect: Option<&str>| {
        Toleration {
            key: key.map(Into::into),
            operator: op.map(Into::into),
            value: value.map(Into::into),
            effect: effect.map(Into::into),
            toleration_seconds: None,
        }
    };
    let cases = [
        (
            "equal match",
            tol(Some("dedicated"), None, Some("gpu"), None),
            true,
        ),
        (
            "equal other value",
            tol(Some("dedicated"), Some("Equal"), Some("cpu"), None),
            false,
        ),
        (
            "exists key",
            tol(Some("dedicated"), Some("Exists"), None, None),
            true,
        ),
        (
            "exists everything",
            tol(None, Some("Exists"), None, None),
            true,
        ),
        (
            "other effect",
            tol(Some("dedicated"), Some("Exists"), None, Some("NoExecute")),
            false,
        ),
        (
            "same effect",
            tol(Some("dedicated"), Some("Exists"), None, Some("NoSchedule")),
            true,
        ),
        (
            "other key",
            tol(Some("zone"), Some("Exists"), None, None),
            false,
        ),
    ];
    for (name, t2, want) in cases {
        assert_eq!(tolerates(&t2, &t), want, "{name}");
    }
}
