//! Tests of the Deployment controller: rollout arithmetic, and whole rollouts on a virtual
//! cluster where the test plays the API server and the ReplicaSet controller.

use super::reconcile;
use super::status::{AVAILABLE, PROGRESSING};
use super::util::{
    max_surge, max_unavailable, resolve_fenceposts, template_hash, POD_TEMPLATE_HASH_LABEL,
    REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION,
};
use crate::api::apps::{Deployment, DeploymentCondition, ReplicaSet, ReplicaSetStatus};
use crate::api::intstr::IntOrString;
use crate::api::pod::Pod;
use crate::controllers::Action;
use crate::time::Timestamp;
use serde_json::{json, Value};

const T0: i64 = 1_700_000_000;

fn deployment(replicas: i32, image: &str, strategy: Value) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "uid": "d-uid",
                     "resourceVersion": "1", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "c", "image": image}]}},
            "strategy": strategy,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600
        }
    }))
    .unwrap()
}

fn rolling(surge: Value, unavailable: Value) -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}})
}

/// A virtual cluster: the API server (applies actions, stamps uids and times) and, when
/// `ready` is on, a ReplicaSet controller whose pods are ready at once.
struct Cluster {
    d: Deployment,
    rss: Vec<ReplicaSet>,
    pods: Vec<Pod>,
    now: Timestamp,
    uids: u32,
    rv: u64,
    ready: bool,
}

impl Cluster {
    fn new(d: Deployment) -> Cluster {
        Cluster {
            d,
            rss: Vec::new(),
            pods: Vec::new(),
            now: Timestamp(T0),
            uids: 0,
            rv: 10,
            ready: true,
        }
    }

    fn bump(&mut self) -> String {
        self.rv += 1;
        self.rv.to_string()
    }

    fn apply(&mut self, actions: &[Action]) {
        for a in actions {
            match a {
                Action::Create { object } => {
                    assert_eq!(object["kind"], "ReplicaSet");
                    assert_eq!(object["apiVersion"], "apps/v1");
                    let mut rs: ReplicaSet = serde_json::from_value(object.clone()).unwrap();
                    assert!(
                        self.rss.iter().all(|r| r.metadata.name != rs.metadata.name),
                        "created twice"
                    );
                    self.uids += 1;
                    rs.metadata.uid = format!("rs-uid-{}", self.uids);
                    rs.metadata.creation_timestamp = Some(self.now.to_rfc3339());
                    rs.metadata.resource_version = self.bump();
                    self.rss.push(rs);
                }
                Action::Update { object } if object["kind"] == "ReplicaSet" => {
                    let rs: ReplicaSet = serde_json::from_value(object.clone()).unwrap();
                    let rv = self.bump();
                    let cur = self
                        .rss
                        .iter_mut()
                        .find(|r| r.metadata.uid == rs.metadata.uid)
                        .expect("update of an unknown ReplicaSet");
                    assert_eq!(cur.metadata.resource_version, rs.metadata.resource_version);
                    cur.metadata = rs.metadata;
                    cur.metadata.resource_version = rv;
                    cur.spec = rs.spec;
                }
                Action::Update { object } => {
                    assert_eq!(object["kind"], "Deployment");
                    let d: Deployment = serde_json::from_value(object.clone()).unwrap();
                    assert_eq!(
                        d.metadata.resource_version,
                        self.d.metadata.resource_version
                    );
                    self.d.metadata = d.metadata;
                    self.d.metadata.resource_version = self.bump();
                }
                Action::UpdateStatus { object } => {
                    let d: Deployment = serde_json::from_value(object.clone()).unwrap();
                    assert_eq!(
                        d.metadata.resource_version,
                        self.d.metadata.resource_version
                    );
                    self.d.status = d.status;
                    self.d.metadata.resource_version = self.bump();
                }
                Action::Delete { kind, uid, .. } => {
                    assert_eq!(*kind, "ReplicaSet");
                    self.rss.retain(|r| &r.metadata.uid != uid);
                }
                Action::RequeueAfter { .. } => {}
            }
        }
    }

    /// The ReplicaSet controller: `spec.replicas` pods, all ready when `ready`.
    fn rs_controller(&mut self) {
        for rs in &mut self.rss {
            let n = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            let old_ready = rs
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0);
            let ready = if self.ready { n } else { old_ready.min(n) };
            rs.status = Some(ReplicaSetStatus {
                replicas: Some(n),
                ready_replicas: Some(ready),
                available_replicas: Some(ready),
                observed_generation: rs.metadata.generation,
                ..Default::default()
            });
        }
    }

    fn step(&mut self) -> Vec<Action> {
        let actions = reconcile(&self.d, &self.rss, &self.pods, self.now);
        self.apply(&actions);
        self.rs_controller();
        self.now = Timestamp(self.now.0 + 1);
        actions
    }

    /// Steps until the controller has nothing left to do; calls `check` after each step.
    fn settle(&mut self, mut check: impl FnMut(&Cluster)) -> usize {
        for n in 0..200 {
            let before = self.rss.clone();
            let actions = self.step();
            check(self);
            if self.rss == before
                && actions
                    .iter()
                    .all(|a| matches!(a, Action::RequeueAfter { .. }))
            {
                return n;
            }
        }
        panic!("did not settle: {:#?}", self.rss);
    }

    fn set_image(&mut self, image: &str) {
        let spec = self.d.spec.as_mut().unwrap();
        spec.template
            .as_mut()
            .unwrap()
            .spec
            .as_mut()
            .unwrap()
            .containers[0]
            .image = Some(image.into());
        self.d.metadata.generation = Some(self.d.metadata.generation.unwrap_or(0) + 1);
    }

    fn rs_for(&self, image: &str) -> &ReplicaSet {
        self.rss
            .iter()
            .find(|r| {
                r.spec
                    .as_ref()
                    .unwrap()
                    .template
                    .as_ref()
                    .unwrap()
                    .spec
                    .as_ref()
                    .unwrap()
                    .containers[0]
                    .image
                    .as_deref()
                    == Some(image)
            })
            .unwrap_or_else(|| panic!("no ReplicaSet for {image}"))
    }

    fn sizes(&self) -> Vec<i32> {
        self.rss
            .iter()
            .map(|r| r.spec.as_ref().unwrap().replicas.unwrap())
            .collect()
    }

    fn condition(&self, type_: &str) -> DeploymentCondition {
        self.d
            .status
            .as_ref()
            .unwrap()
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
            .cloned()
            .unwrap_or_else(|| panic!("no {type_} condition"))
    }
}

fn available(c: &Cluster) -> i32 {
    c.rss
        .iter()
        .map(|r| {
            r.status
                .as_ref()
                .and_then(|s| s.available_replicas)
                .unwrap_or(0)
        })
        .sum()
}

fn existing(c: &Cluster) -> i32 {
    c.rss
        .iter()
        .map(|r| r.status.as_ref().and_then(|s| s.replicas).unwrap_or(0))
        .sum()
}

#[test]
fn fenceposts() {
    let cases: [(i32, IntOrString, IntOrString, (i32, i32)); 7] = [
        (10, "25%".into(), "25%".into(), (3, 2)),
        (3, 0.into(), 1.into(), (0, 1)),
        (1, "0%".into(), "0%".into(), (0, 1)),
        (4, "50%".into(), "50%".into(), (2, 2)),
        (1, "25%".into(), "25%".into(), (1, 0)),
        (5, 2.into(), "10%".into(), (2, 0)),
        (0, "25%".into(), "25%".into(), (0, 1)),
    ];
    for (replicas, surge, unavailable, want) in cases {
        let got = resolve_fenceposts(Some(&surge), Some(&unavailable), replicas).unwrap();
        assert_eq!(got, want, "{replicas} replicas, {surge}/{unavailable}");
    }
    assert!(resolve_fenceposts(Some(&"x".into()), None, 3).is_err());
    // Through the Deployment: maxUnavailable is capped at replicas and 0 for 0 replicas.
    let d = deployment(10, "a", json!({}));
    assert_eq!(
        (max_surge(&d), max_unavailable(&d)),
        (3, 2),
        "defaults 25%/25%"
    );
    let d = deployment(2, "a", rolling(json!(0), json!(5)));
    assert_eq!(max_unavailable(&d), 2);
    let d = deployment(0, "a", rolling(json!(0), json!(5)));
    assert_eq!(max_unavailable(&d), 0);
    let d = deployment(3, "a", json!({"type": "Recreate"}));
    assert_eq!((max_surge(&d), max_unavailable(&d)), (0, 0));
}

#[test]
fn hash_is_stable_and_follows_the_template() {
    let d = deployment(1, "a", json!({}));
    let t = d.spec.as_ref().unwrap().template.clone().unwrap();
    let h = template_hash(&t, None);
    assert_eq!(h, template_hash(&t, None));
    assert!(!h.is_empty() && h.len() <= 10, "{h}");
    assert!(
        h.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)),
        "{h}"
    );
    let mut labelled = t.clone();
    labelled
        .metadata
        .labels
        .insert(POD_TEMPLATE_HASH_LABEL.into(), "zzz".into());
    assert_eq!(
        template_hash(&labelled, None),
        h,
        "the hash label is ignored"
    );
    let other = deployment(1, "b", json!({}));
    let t2 = other.spec.unwrap().template.unwrap();
    assert_ne!(template_hash(&t2, None), h);
    assert_ne!(
        template_hash(&t, Some(1)),
        h,
        "the collision count changes it"
    );
}

#[test]
fn first_sync_creates_the_replicaset() {
    let d = deployment(4, "a", json!({}));
    let actions = reconcile(&d, &[], &[], Timestamp(T0));
    let Action::Create { object } = &actions[0] else {
        panic!("{actions:?}");
    };
    let hash = template_hash(d.spec.as_ref().unwrap().template.as_ref().unwrap(), None);
    assert_eq!(object["metadata"]["name"], format!("web-{hash}"));
    assert_eq!(object["metadata"]["namespace"], "default");
    assert_eq!(object["metadata"]["labels"]["pod-template-hash"], hash);
    assert_eq!(
        object["spec"]["selector"]["matchLabels"]["pod-template-hash"],
        hash
    );
    assert_eq!(object["spec"]["selector"]["matchLabels"]["app"], "web");
    assert_eq!(
        object["spec"]["template"]["metadata"]["labels"]["pod-template-hash"],
        hash
    );
    assert_eq!(object["spec"]["replicas"], 4);
    let ann = &object["metadata"]["annotations"];
    assert_eq!(ann["deployment.kubernetes.io/revision"], "1");
    assert_eq!(ann["deployment.kubernetes.io/desired-replicas"], "4");
    assert_eq!(ann["deployment.kubernetes.io/max-replicas"], "5");
    assert_eq!(
        object["metadata"]["ownerReferences"],
        json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-uid",
                "controller": true, "blockOwnerDeletion": true}])
    );
    let Action::UpdateStatus { object } = &actions[1] else {
        panic!("{actions:?}");
    };
    let progressing = &object["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap();
    assert_eq!(progressing["reason"], "NewReplicaSetCreated");
    assert_eq!(
        progressing["message"],
        format!("Created new replica set \"web-{hash}\"")
    );
    assert_eq!(actions.len(), 2, "{actions:?}");
}

#[test]
fn rolling_update_keeps_within_bounds() {
    let cases = [
        (10, json!("25%"), json!("25%")),
        (3, json!(0), json!(1)),
        (1, json!("0%"), json!("0%")),
        (5, json!(1), json!(0)),
        (4, json!("50%"), json!("50%")),
        (7, json!(3), json!(2)),
    ];
    for (replicas, surge, unavailable) in cases {
        let name = format!("{replicas} {surge}/{unavailable}");
        let mut c = Cluster::new(deployment(replicas, "v1", rolling(surge, unavailable)));
        c.settle(|_| {});
        assert_eq!(c.sizes(), vec![replicas], "{name}");
        let d = c.d.clone();
        let (min, max) = (replicas - max_unavailable(&d), replicas + max_surge(&d));
        c.set_image("v2");
        let mut steps = 0;
        c.settle(|c| {
            steps += 1;
            assert!(
                available(c) >= min,
                "{name}: {} available < {min}",
                available(c)
            );
            assert!(existing(c) <= max, "{name}: {} pods > {max}", existing(c));
        });
        assert!(steps > 1, "{name}");
        let old = c.rs_for("v1");
        let new = c.rs_for("v2");
        assert_eq!(old.spec.as_ref().unwrap().replicas, Some(0), "{name}");
        assert_eq!(
            new.spec.as_ref().unwrap().replicas,
            Some(replicas),
            "{name}"
        );
        assert_eq!(new.metadata.annotations[REVISION_ANNOTATION], "2");
        assert_eq!(c.d.metadata.annotations[REVISION_ANNOTATION], "2", "{name}");
        let st = c.d.status.clone().unwrap();
        assert_eq!(
            (
                st.replicas,
                st.updated_replicas,
                st.available_replicas,
                st.unavailable_replicas
            ),
            (Some(replicas), Some(replicas), Some(replicas), Some(0)),
            "{name}"
        );
    }
}

#[test]
fn status_and_conditions_after_a_rollout() {
    let mut c = Cluster::new(deployment(3, "v1", json!({})));
    c.settle(|_| {});
    let name = c.rss[0].metadata.name.clone();
    let st = c.d.status.clone().unwrap();
    assert_eq!(st.observed_generation, Some(1));
    assert_eq!(st.ready_replicas, Some(3));
    assert_eq!(st.collision_count, None);
    let a = c.condition(AVAILABLE);
    assert_eq!(
        (a.status.as_str(), a.reason.as_deref(), a.message.as_deref()),
        (
            "True",
            Some("MinimumReplicasAvailable"),
            Some("Deployment has minimum availability.")
        )
    );
    let p = c.condition(PROGRESSING);
    let msg = format!("ReplicaSet {name:?} has successfully progressed.");
    assert_eq!(
        (p.status.as_str(), p.reason.as_deref(), p.message.as_deref()),
        ("True", Some("NewReplicaSetAvailable"), Some(msg.as_str()))
    );
    // Pods lost: Available goes False.
    c.ready = false;
    for rs in &mut c.rss {
        rs.status.as_mut().unwrap().available_replicas = Some(1);
    }
    c.step();
    let a = c.condition(AVAILABLE);
    assert_eq!(
        (a.status.as_str(), a.reason.as_deref(), a.message.as_deref()),
        (
            "False",
            Some("MinimumReplicasUnavailable"),
            Some("Deployment does not have minimum availability.")
        )
    );
    assert_eq!(c.d.status.as_ref().unwrap().unavailable_replicas, Some(2));
}

#[test]
fn rollout_progressing_message() {
    let mut c = Cluster::new(deployment(4, "v1", json!({})));
    c.settle(|_| {});
    c.set_image("v2");
    c.step(); // creates the new ReplicaSet
    c.step(); // its pods are ready: progress
    let new = c.rs_for("v2").metadata.name.clone();
    let p = c.condition(PROGRESSING);
    assert_eq!(p.reason.as_deref(), Some("ReplicaSetUpdated"));
    assert_eq!(
        p.message,
        Some(format!("ReplicaSet {new:?} is progressing."))
    );
}

#[test]
fn recreate_scales_down_waits_for_pods_then_scales_up() {
    let mut c = Cluster::new(deployment(3, "v1", json!({"type": "Recreate"})));
    c.settle(|_| {});
    let old_uid = c.rss[0].metadata.uid.clone();
    // Three running pods of the old ReplicaSet.
    c.pods = (0..3)
        .map(|i| {
            serde_json::from_value(json!({
                "metadata": {"name": format!("p{i}"), "namespace": "default",
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "name": "x", "uid": old_uid, "controller": true}]},
                "status": {"phase": "Running"}
            }))
            .unwrap()
        })
        .collect();
    c.set_image("v2");
    let a = c.step();
    assert!(
        !a.iter().any(|a| matches!(a, Action::Create { .. })),
        "no new ReplicaSet before the old one is down: {a:?}"
    );
    assert_eq!(c.sizes(), vec![0]);
    // The ReplicaSet reports 0 but the pods still run: wait.
    let a = c.step();
    assert!(
        !a.iter().any(|a| matches!(a, Action::Create { .. })),
        "{a:?}"
    );
    // Terminal pods do not count.
    for p in &mut c.pods {
        p.status.as_mut().unwrap().phase = Some("Succeeded".into());
    }
    let a = c.step();
    let Some(Action::Create { object }) = a.first() else {
        panic!("{a:?}");
    };
    assert_eq!(
        object["spec"]["replicas"], 3,
        "Recreate creates at full size"
    );
    c.settle(|_| {});
    assert_eq!(c.sizes(), vec![0, 3]);
}

#[test]
fn rollback_reuses_the_old_replicaset() {
    let mut c = Cluster::new(deployment(2, "v1", json!({})));
    c.settle(|_| {});
    c.set_image("v2");
    c.settle(|_| {});
    assert_eq!(c.rss.len(), 2);
    c.set_image("v1");
    let a = c.step();
    assert!(
        !a.iter().any(|a| matches!(a, Action::Create { .. })),
        "{a:?}"
    );
    let v1 = c.rs_for("v1");
    assert_eq!(v1.metadata.annotations[REVISION_ANNOTATION], "3");
    assert_eq!(v1.metadata.annotations[REVISION_HISTORY_ANNOTATION], "1");
    c.settle(|_| {});
    assert_eq!(c.rss.len(), 2);
    assert_eq!(c.rs_for("v1").spec.as_ref().unwrap().replicas, Some(2));
    assert_eq!(c.rs_for("v2").spec.as_ref().unwrap().replicas, Some(0));
    assert_eq!(c.d.metadata.annotations[REVISION_ANNOTATION], "3");
}

#[test]
fn revision_history_limit_deletes_the_oldest() {
    let mut d = deployment(2, "v1", json!({}));
    d.spec.as_mut().unwrap().revision_history_limit = Some(1);
    let mut c = Cluster::new(d);
    c.settle(|_| {});
    for v in ["v2", "v3", "v4"] {
        c.set_image(v);
        c.settle(|_| {});
    }
    let mut revs: Vec<&str> = c
        .rss
        .iter()
        .map(|r| r.metadata.annotations[REVISION_ANNOTATION].as_str())
        .collect();
    revs.sort();
    assert_eq!(revs, ["3", "4"], "one old ReplicaSet kept");
    assert_eq!(c.sizes().iter().sum::<i32>(), 2);
}

#[test]
fn scaling_without_rollout_follows_the_active_replicaset() {
    let mut c = Cluster::new(deployment(3, "v1", json!({})));
    c.settle(|_| {});
    c.d.spec.as_mut().unwrap().replicas = Some(7);
    c.settle(|_| {});
    assert_eq!(c.sizes(), vec![7]);
    assert_eq!(
        c.rss[0].metadata.annotations["deployment.kubernetes.io/desired-replicas"],
        "7"
    );
    assert_eq!(
        c.rss[0].metadata.annotations["deployment.kubernetes.io/max-replicas"],
        "9"
    );
}

#[test]
fn paused_scales_proportionally_without_rollout() {
    let mut c = Cluster::new(deployment(10, "v1", rolling(json!(3), json!(2))));
    c.settle(|_| {});
    c.set_image("v2");
    c.step();
    c.step();
    c.d.spec.as_mut().unwrap().paused = Some(true);
    c.step();
    let before = c.sizes();
    assert_eq!(before.iter().sum::<i32>(), 13, "{before:?}");
    assert_eq!(
        c.condition(PROGRESSING).reason.as_deref(),
        Some("DeploymentPaused")
    );
    // Paused: nothing moves.
    c.settle(|_| {});
    assert_eq!(c.sizes(), before);
    // Scaled to 20 while paused: max 23 pods split by the old proportions.
    c.d.spec.as_mut().unwrap().replicas = Some(20);
    c.settle(|_| {});
    let after = c.sizes();
    assert_eq!(after.iter().sum::<i32>(), 23, "{before:?} -> {after:?}");
    assert!(
        after[0] > before[0] && after[1] > before[1],
        "{before:?} -> {after:?}"
    );
    // Resumed: the rollout finishes.
    c.d.spec.as_mut().unwrap().paused = Some(false);
    c.settle(|_| {});
    assert_eq!(c.sizes(), vec![0, 20]);
}

#[test]
fn progress_deadline_exceeded() {
    let mut d = deployment(2, "v1", json!({}));
    d.spec.as_mut().unwrap().progress_deadline_seconds = Some(60);
    let mut c = Cluster::new(d);
    c.settle(|_| {});
    c.set_image("v2");
    c.ready = false; // the new pods never become ready
    c.step();
    c.step();
    let new = c.rs_for("v2").metadata.name.clone();
    let started = c.now;
    // No progress: the controller asks to come back when the deadline will have passed.
    let a = reconcile(&c.d, &c.rss, &c.pods, c.now);
    let last = Timestamp::parse_rfc3339(
        c.condition(PROGRESSING)
            .last_update_time
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    let want = u64::try_from(last.0 + 60 - started.0).unwrap() * 1000;
    assert_eq!(
        a.last(),
        Some(&Action::RequeueAfter { millis: want }),
        "{a:?}"
    );
    assert!(
        a.iter().all(|a| match a {
            Action::Update { object } => object["kind"] == "Deployment",
            Action::RequeueAfter { .. } => true,
            _ => false,
        }),
        "nothing but the revision annotation and the requeue: {a:?}"
    );
    // At the deadline: not yet.
    c.now = Timestamp(last.0 + 60);
    c.step();
    assert_eq!(c.condition(PROGRESSING).status, "True");
    c.now = Timestamp(last.0 + 61);
    c.step();
    let p = c.condition(PROGRESSING);
    assert_eq!(
        (p.status.as_str(), p.reason.as_deref(), p.message),
        (
            "False",
            Some("ProgressDeadlineExceeded"),
            Some(format!("ReplicaSet {new:?} has timed out progressing."))
        )
    );
    // Stays timed out, without requeues, until progress is made.
    let a = reconcile(&c.d, &c.rss, &c.pods, Timestamp(c.now.0 + 100));
    assert!(a.is_empty(), "{a:?}");
    c.ready = true;
    c.settle(|_| {});
    let p = c.condition(PROGRESSING);
    assert_eq!(p.reason.as_deref(), Some("NewReplicaSetAvailable"));
}

#[test]
fn adopts_orphans_and_ignores_others() {
    let d = deployment(2, "v1", json!({}));
    let template = d.spec.as_ref().unwrap().template.clone().unwrap();
    let orphan: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "web-old", "namespace": "default", "uid": "o1",
                     "resourceVersion": "5", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": template}
    }))
    .unwrap();
    let foreign: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "other", "namespace": "default", "uid": "o2",
                     "labels": {"app": "web"},
                     "ownerReferences": [{"kind": "Deployment", "name": "x", "uid": "x",
                                          "controller": true}]},
        "spec": {"replicas": 1}
    }))
    .unwrap();
    let a = reconcile(&d, &[orphan, foreign], &[], Timestamp(T0));
    assert!(
        !a.iter().any(|a| matches!(a, Action::Create { .. })),
        "{a:?}"
    );
    let updates: Vec<&Value> = a
        .iter()
        .filter_map(|a| match a {
            Action::Update { object } => Some(object),
            _ => None,
        })
        .collect();
    assert_eq!(updates.len(), 1, "{a:?}");
    assert_eq!(updates[0]["metadata"]["name"], "web-old");
    assert_eq!(updates[0]["metadata"]["resourceVersion"], "5");
    assert_eq!(updates[0]["metadata"]["ownerReferences"][0]["uid"], "d-uid");
    assert_eq!(
        updates[0]["metadata"]["annotations"][REVISION_ANNOTATION],
        "1"
    );
}

#[test]
fn hash_collision_bumps_collision_count() {
    let mut d = deployment(1, "v1", json!({}));
    let hash = template_hash(d.spec.as_ref().unwrap().template.as_ref().unwrap(), None);
    let squatter: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": format!("web-{hash}"), "namespace": "default", "uid": "s1",
                     "labels": {"app": "other"}},
        "spec": {"replicas": 1}
    }))
    .unwrap();
    let a = reconcile(&d, std::slice::from_ref(&squatter), &[], Timestamp(T0));
    let Some(Action::UpdateStatus { object }) = a.first() else {
        panic!("{a:?}");
    };
    assert_eq!(object["status"]["collisionCount"], 1);
    d.status = serde_json::from_value(object["status"].clone()).unwrap();
    let a = reconcile(&d, &[squatter], &[], Timestamp(T0));
    let Some(Action::Create { object }) = a.first() else {
        panic!("{a:?}");
    };
    let t = d.spec.as_ref().unwrap().template.as_ref().unwrap();
    assert_eq!(
        object["metadata"]["name"],
        format!("web-{}", template_hash(t, Some(1)))
    );
}
