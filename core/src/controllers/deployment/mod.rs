//! The Deployment controller's decision, pure: given a Deployment, the ReplicaSets of its
//! namespace and their pods, which ReplicaSets to create, scale, adopt and delete and the status
//! to write — as kube-controller-manager's deployment controller computes it
//! (`pkg/controller/deployment`: `sync.go`, `rolling.go`, `recreate.go`, `progress.go`).
//!
//! - The Deployment's ReplicaSets are those with a controller ownerReference to its uid;
//!   orphans whose labels match its selector are adopted.
//! - The *new* ReplicaSet is the oldest whose template equals the Deployment's (ignoring the
//!   `pod-template-hash` label); it gets revision `max(old revisions) + 1` — so re-applying an
//!   old template (a rollback) revives the old ReplicaSet under a new revision. When there is
//!   none, one is created: `<deployment>-<pod-template-hash>`.
//! - RollingUpdate scales the new ReplicaSet up to `replicas + maxSurge` pods in all and the
//!   old ones down (unhealthy pods first, then oldest ReplicaSets first) keeping at least
//!   `replicas - maxUnavailable` available. Recreate scales every old ReplicaSet to 0, waits for
//!   their pods to be gone, then scales the new one up.
//! - A paused Deployment, or one whose `replicas` changed, is only scaled: the one active
//!   ReplicaSet follows, several are scaled proportionally.
//! - Once a rollout is complete, old ReplicaSets at 0 beyond `revisionHistoryLimit` are deleted.
//! - Status: counters over the ReplicaSets, `Available` and `Progressing` conditions
//!   (`ProgressDeadlineExceeded` once the Progressing condition has not been updated for
//!   `progressDeadlineSeconds`; a `RequeueAfter` asks to look again when that will be).
//!
//! Writes to one object are coalesced into one action. When the status changes, the status is
//! written (one `UpdateStatus`); the Deployment's own `deployment.kubernetes.io/revision`
//! annotation is written (an `Update`) by a later reconcile whose status is unchanged, so that
//! the two writes never race on the same resourceVersion.

pub mod status;
pub mod util;

#[cfg(test)]
mod tests;

use super::Action;
use crate::api::apps::{Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use crate::api::meta::{ObjectMeta, OwnerReference};
use crate::api::pod::Pod;
use crate::time::Timestamp;
use serde_json::Value;
use status::{
    condition, get_condition, progress_deadline, set_condition, FOUND_NEW_RS, NEW_RS_CREATED,
    PAUSED, PROGRESSING, RESUMED, TIMED_OUT,
};
use util::{
    by_creation, by_revision, by_size_newer, by_size_older, desired, equal_ignore_hash,
    int_annotation, is_recreate, max_surge, max_unavailable, new_rs_new_replicas,
    replicas_annotations_need_update, revision, rs_actual, rs_available, rs_replicas,
    set_new_rs_annotations, set_replicas_annotations, set_rs_replicas, template_hash,
    DESIRED_REPLICAS_ANNOTATION, POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION,
};

/// What the Deployment controller wants done for `d`, given the ReplicaSets of its namespace
/// (`rss`, any owner) and the pods of its namespace (`pods`; only those controlled by its
/// ReplicaSets are looked at, by Recreate), at `now`.
pub fn reconcile(d: &Deployment, rss: &[ReplicaSet], pods: &[Pod], now: Timestamp) -> Vec<Action> {
    let Some(spec) = d.spec.as_ref() else {
        return Vec::new();
    };
    let mut s = Sync::new(d, rss, pods, now);
    if d.metadata.deletion_timestamp.is_some() {
        // syncStatusOnly
        s.find_new();
        s.plain_status();
        return s.finish();
    }
    if spec.selector.as_ref().is_none_or(|sel| sel.is_empty()) {
        // "This deployment will select all pods. A non-empty selector is required."
        let old = d.status.clone().unwrap_or_default();
        if old.observed_generation < d.metadata.generation {
            let mut st = old;
            st.observed_generation = d.metadata.generation;
            return vec![Action::UpdateStatus {
                object: s.deployment_json(st),
            }];
        }
        return Vec::new();
    }
    s.check_paused_conditions();
    let paused = spec.paused == Some(true);
    let result = if paused {
        s.sync(true)
    } else if s.is_scaling_event() {
        s.sync(false)
    } else if is_recreate(d) {
        s.rollout_recreate()
    } else {
        s.rollout_rolling()
    };
    if result.is_err() && s.final_status.is_none() {
        s.requeue = Some(1000);
    }
    s.finish()
}

/// The sync was cut short (a hash collision or an inconsistent ReplicaSet): write what is
/// known and try again.
struct Abort;

/// How the status is written at the end.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// `syncDeploymentStatus`: counters and Available only.
    Plain,
    /// `syncRolloutStatus`: with progress estimation and the stuck-rollout requeue.
    Rollout,
}

/// One reconcile's working state: copies of the objects, changed in place, and what changed.
struct Sync<'a> {
    orig: &'a Deployment,
    /// The Deployment, its status conditions changed as the sync goes (paused, found/created).
    d: Deployment,
    /// Every ReplicaSet of the namespace (collisions are checked against all of them).
    all_ns: &'a [ReplicaSet],
    pods: &'a [Pod],
    now: Timestamp,
    /// The Deployment's ReplicaSets (working copies), the created one last.
    rss: Vec<ReplicaSet>,
    dirty: Vec<bool>,
    created: Option<usize>,
    new: Option<usize>,
    deletes: Vec<Action>,
    /// The revision the Deployment's annotation should say.
    revision: Option<String>,
    final_status: Option<(DeploymentStatus, Mode)>,
    requeue: Option<u64>,
}

fn controller_uid(meta: &ObjectMeta) -> Option<&str> {
    meta.owner_references
        .iter()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.as_str())
}

fn owner_ref(d: &Deployment) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        name: d.metadata.name.clone(),
        uid: d.metadata.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

impl<'a> Sync<'a> {
    fn new(d: &'a Deployment, all_ns: &'a [ReplicaSet], pods: &'a [Pod], now: Timestamp) -> Self {
        let selector = d.spec.as_ref().and_then(|s| s.selector.clone());
        let mut rss = Vec::new();
        let mut dirty = Vec::new();
        for rs in all_ns {
            match controller_uid(&rs.metadata) {
                Some(uid) if uid == d.metadata.uid => {
                    rss.push(rs.clone());
                    dirty.push(false);
                }
                None if d.metadata.deletion_timestamp.is_none()
                    && rs.metadata.deletion_timestamp.is_none()
                    && selector
                        .as_ref()
                        .is_some_and(|s| !s.is_empty() && s.matches(&rs.metadata.labels)) =>
                {
                    let mut rs = rs.clone();
                    rs.metadata.owner_references.push(owner_ref(d));
                    rss.push(rs);
                    dirty.push(true);
                }
                _ => {}
            }
        }
        Sync {
            orig: d,
            d: d.clone(),
            all_ns,
            pods,
            now,
            rss,
            dirty,
            created: None,
            new: None,
            deletes: Vec::new(),
            revision: None,
            final_status: None,
            requeue: None,
        }
    }

    fn status(&self) -> DeploymentStatus {
        self.d.status.clone().unwrap_or_default()
    }

    fn set_status_condition(&mut self, c: crate::api::apps::DeploymentCondition) {
        let st = self.d.status.get_or_insert_with(Default::default);
        set_condition(st, c);
    }

    fn olds(&self) -> Vec<usize> {
        (0..self.rss.len())
            .filter(|i| Some(*i) != self.new)
            .collect()
    }

    fn all(&self) -> Vec<usize> {
        let mut v = self.olds();
        v.extend(self.new);
        v
    }

    fn sorted(
        &self,
        mut idx: Vec<usize>,
        cmp: fn(&ReplicaSet, &ReplicaSet) -> std::cmp::Ordering,
    ) -> Vec<usize> {
        idx.sort_by(|a, b| cmp(&self.rss[*a], &self.rss[*b]));
        idx
    }

    fn sum(&self, idx: &[usize], f: fn(&ReplicaSet) -> i32) -> i32 {
        idx.iter().map(|i| f(&self.rss[*i])).sum()
    }

    /// Kubernetes' `checkPausedConditions`.
    fn check_paused_conditions(&mut self) {
        if progress_deadline(&self.d).is_none() {
            return;
        }
        let st = self.status();
        let cond = get_condition(&st, PROGRESSING);
        if cond.is_some_and(|c| c.reason.as_deref() == Some(TIMED_OUT)) {
            return;
        }
        let paused_cond = cond.is_some_and(|c| c.reason.as_deref() == Some(PAUSED));
        let paused = self.d.spec.as_ref().and_then(|s| s.paused) == Some(true);
        if paused && !paused_cond {
            let c = condition(
                PROGRESSING,
                "Unknown",
                PAUSED,
                "Deployment is paused".into(),
                self.now,
            );
            self.set_status_condition(c);
        } else if !paused && paused_cond {
            let c = condition(
                PROGRESSING,
                "Unknown",
                RESUMED,
                "Deployment is resumed".into(),
                self.now,
            );
            self.set_status_condition(c);
        }
    }

    /// Kubernetes' `FindNewReplicaSet`: the oldest ReplicaSet with the Deployment's template.
    fn find_new(&mut self) {
        if self.new.is_some() {
            return;
        }
        let Some(template) = self.d.spec.as_ref().and_then(|s| s.template.as_ref()) else {
            return;
        };
        let idx = self.sorted((0..self.rss.len()).collect(), by_creation);
        self.new = idx.into_iter().find(|i| {
            self.rss[*i]
                .spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .is_some_and(|t| equal_ignore_hash(t, template))
        });
    }

    fn mark(&mut self, i: usize) {
        self.dirty[i] = true;
    }

    /// Kubernetes' `getAllReplicaSetsAndSyncRevision`: finds the new ReplicaSet, brings its
    /// revision up to date, creates it when `create` and it does not exist.
    fn sync_revision(&mut self, create: bool) -> Result<(), Abort> {
        self.find_new();
        let olds = self.olds();
        let max_old = olds
            .iter()
            .map(|i| revision(&self.rss[*i]))
            .max()
            .unwrap_or(0);
        let new_revision = max_old + 1;
        let deadline = progress_deadline(&self.d).is_some();
        if let Some(i) = self.new {
            let d = &self.d;
            let rs = &mut self.rss[i];
            let mut changed = set_new_rs_annotations(d, rs, new_revision, true);
            let want_mrs = d.spec.as_ref().and_then(|s| s.min_ready_seconds);
            let spec = rs.spec.get_or_insert_with(Default::default);
            if spec.min_ready_seconds.unwrap_or(0) != want_mrs.unwrap_or(0) {
                spec.min_ready_seconds = want_mrs;
                changed = true;
            }
            if changed {
                self.mark(i);
            }
            self.revision = self.rss[i]
                .metadata
                .annotations
                .get(REVISION_ANNOTATION)
                .cloned();
            if deadline && get_condition(&self.status(), PROGRESSING).is_none() {
                let msg = format!("Found new replica set {:?}", self.rss[i].metadata.name);
                let c = condition(PROGRESSING, "True", FOUND_NEW_RS, msg, self.now);
                self.set_status_condition(c);
            }
            return Ok(());
        }
        if !create {
            return Ok(());
        }
        let spec = self.d.spec.clone().unwrap_or_default();
        let template = spec.template.clone().unwrap_or_default();
        let collision_count = self.status().collision_count;
        let hash = template_hash(&template, collision_count);
        let name = format!("{}-{}", self.d.metadata.name, hash);
        if self.all_ns.iter().any(|r| r.metadata.name == name) {
            // Kubernetes' hash collision: another ReplicaSet has the name; a new hash next time.
            let st = self.d.status.get_or_insert_with(Default::default);
            st.collision_count = Some(collision_count.unwrap_or(0) + 1);
            let st = st.clone();
            self.final_status = Some((st, Mode::Plain));
            return Err(Abort);
        }
        let mut rs_template = template;
        rs_template
            .metadata
            .labels
            .insert(POD_TEMPLATE_HASH_LABEL.into(), hash.clone());
        let mut selector = spec.selector.clone().unwrap_or_default();
        selector
            .match_labels
            .insert(POD_TEMPLATE_HASH_LABEL.into(), hash);
        let all_replicas = self.sum(&olds, rs_replicas);
        let mut rs = ReplicaSet {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            metadata: ObjectMeta {
                name: name.clone(),
                namespace: self.d.metadata.namespace.clone(),
                labels: rs_template.metadata.labels.clone(),
                owner_references: vec![owner_ref(&self.d)],
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(new_rs_new_replicas(&self.d, all_replicas, 0)),
                min_ready_seconds: spec.min_ready_seconds,
                selector: Some(selector),
                template: Some(rs_template),
            }),
            status: None,
        };
        set_new_rs_annotations(&self.d, &mut rs, new_revision, false);
        self.rss.push(rs);
        self.dirty.push(false);
        let i = self.rss.len() - 1;
        self.created = Some(i);
        self.new = Some(i);
        self.revision = Some(new_revision.to_string());
        if deadline {
            let msg = format!("Created new replica set {name:?}");
            let c = condition(PROGRESSING, "True", NEW_RS_CREATED, msg, self.now);
            self.set_status_condition(c);
        }
        Ok(())
    }

    /// Kubernetes' `scaleReplicaSet`: sets the size and the replica annotations; true if the
    /// size changed.
    fn scale_rs(&mut self, i: usize, n: i32) -> bool {
        let replicas = desired(&self.d);
        let max = replicas + max_surge(&self.d);
        let size_changed = rs_replicas(&self.rss[i]) != n;
        if size_changed || replicas_annotations_need_update(&self.rss[i], replicas, max) {
            set_rs_replicas(&mut self.rss[i], n);
            set_replicas_annotations(&mut self.rss[i], replicas, max);
            self.mark(i);
        }
        size_changed
    }

    /// Kubernetes' `scaleReplicaSetAndRecordEvent`: nothing when the size is already `n`.
    fn scale_to(&mut self, i: usize, n: i32) -> bool {
        if rs_replicas(&self.rss[i]) == n {
            return false;
        }
        self.scale_rs(i, n)
    }

    /// Kubernetes' `isScalingEvent`: an active ReplicaSet was sized for another `replicas`.
    fn is_scaling_event(&mut self) -> bool {
        self.find_new();
        let replicas = desired(&self.d);
        self.all().into_iter().any(|i| {
            let rs = &self.rss[i];
            rs_replicas(rs) > 0
                && int_annotation(rs, DESIRED_REPLICAS_ANNOTATION).is_some_and(|n| n != replicas)
        })
    }

    /// Kubernetes' `sync`: scaling only (paused, or `replicas` changed).
    fn sync(&mut self, paused: bool) -> Result<(), Abort> {
        self.sync_revision(false)?;
        self.scale();
        if paused {
            self.cleanup();
        }
        self.plain_status();
        Ok(())
    }

    /// Kubernetes' `scale`.
    fn scale(&mut self) {
        let replicas = desired(&self.d);
        let olds = self.olds();
        if self.new.is_none() && olds.is_empty() {
            return;
        }
        let active: Vec<usize> = self
            .all()
            .into_iter()
            .filter(|i| rs_replicas(&self.rss[*i]) > 0)
            .collect();
        let target = match active.len() {
            0 => self
                .new
                .or_else(|| self.sorted(olds.clone(), by_creation).last().copied()),
            1 => Some(active[0]),
            _ => None,
        };
        if let Some(t) = target {
            self.scale_to(t, replicas);
            return;
        }
        // IsSaturated: the new ReplicaSet has everything; old ones go to 0.
        if let Some(n) = self.new {
            let rs = &self.rss[n];
            if rs_replicas(rs) == replicas
                && int_annotation(rs, DESIRED_REPLICAS_ANNOTATION) == Some(replicas)
                && rs_available(rs) == replicas
            {
                for i in olds {
                    if rs_replicas(&self.rss[i]) > 0 {
                        self.scale_to(i, 0);
                    }
                }
                return;
            }
        }
        if is_recreate(&self.d) {
            return;
        }
        // Proportional scaling of every active ReplicaSet.
        let total = self.sum(&active, rs_replicas);
        let allowed = if replicas > 0 {
            replicas + max_surge(&self.d)
        } else {
            0
        };
        let to_add = allowed - total;
        let order = match to_add.cmp(&0) {
            std::cmp::Ordering::Greater => self.sorted(active, by_size_newer),
            std::cmp::Ordering::Less => self.sorted(active, by_size_older),
            std::cmp::Ordering::Equal => active,
        };
        let status_replicas = self
            .orig
            .status
            .as_ref()
            .and_then(|s| s.replicas)
            .unwrap_or(0);
        let mut added = 0;
        let mut sizes = Vec::new();
        for i in &order {
            let rs = &self.rss[*i];
            let p = util::proportion(rs, &self.d, status_replicas, to_add, added);
            added += p;
            sizes.push(rs_replicas(rs) + p);
        }
        for (k, i) in order.into_iter().enumerate() {
            if k == 0 && to_add != 0 {
                sizes[0] = (sizes[0] + to_add - added).max(0);
            }
            self.scale_rs(i, sizes[k]);
        }
    }

    /// Kubernetes' `rolloutRolling`.
    fn rollout_rolling(&mut self) -> Result<(), Abort> {
        self.sync_revision(true)?;
        if !self.reconcile_new() && !self.reconcile_old()? {
            let st = self.status();
            if status::deployment_complete(&self.d, &st) {
                self.cleanup();
            }
        }
        self.rollout_status();
        Ok(())
    }

    /// Kubernetes' `reconcileNewReplicaSet`; true if scaled.
    fn reconcile_new(&mut self) -> bool {
        let Some(n) = self.new else {
            return false;
        };
        let replicas = desired(&self.d);
        let cur = rs_replicas(&self.rss[n]);
        if cur == replicas {
            return false;
        }
        if cur > replicas {
            return self.scale_to(n, replicas);
        }
        let all = self.sum(&self.all(), rs_replicas);
        let want = new_rs_new_replicas(&self.d, all, cur);
        self.scale_to(n, want)
    }

    /// Kubernetes' `reconcileOldReplicaSets`; true if anything was scaled down.
    fn reconcile_old(&mut self) -> Result<bool, Abort> {
        let olds = self.olds();
        if self.sum(&olds, rs_replicas) == 0 {
            return Ok(false);
        }
        let all_pods = self.sum(&self.all(), rs_replicas);
        let min_available = desired(&self.d) - max_unavailable(&self.d);
        let new_unavailable = self
            .new
            .map(|n| rs_replicas(&self.rss[n]) - rs_available(&self.rss[n]))
            .unwrap_or(0);
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return Ok(false);
        }
        let cleaned = self.cleanup_unhealthy(max_scaled_down)?;
        let scaled = self.scale_down_old_rolling();
        Ok(cleaned + scaled > 0)
    }

    /// Kubernetes' `cleanupUnhealthyReplicas`: old ReplicaSets lose their unavailable pods
    /// first, oldest ReplicaSet first, at most `max` in all.
    fn cleanup_unhealthy(&mut self, max: i32) -> Result<i32, Abort> {
        let mut total = 0;
        for i in self.sorted(self.olds(), by_creation) {
            if total >= max {
                break;
            }
            let (size, available) = (rs_replicas(&self.rss[i]), rs_available(&self.rss[i]));
            if size == 0 || size == available {
                continue;
            }
            let down = (max - total).min(size - available);
            if down < 0 {
                // More available than wanted: the ReplicaSet's status is behind its spec.
                return Err(Abort);
            }
            self.scale_to(i, size - down);
            total += down;
        }
        Ok(total)
    }

    /// Kubernetes' `scaleDownOldReplicaSetsForRollingUpdate`: oldest first, as long as more
    /// than `replicas - maxUnavailable` pods are available.
    fn scale_down_old_rolling(&mut self) -> i32 {
        let min_available = desired(&self.d) - max_unavailable(&self.d);
        let available = self.sum(&self.all(), rs_available);
        if available <= min_available {
            return 0;
        }
        let want = available - min_available;
        let mut total = 0;
        for i in self.sorted(self.olds(), by_creation) {
            if total >= want {
                break;
            }
            let size = rs_replicas(&self.rss[i]);
            if size == 0 {
                continue;
            }
            let down = size.min(want - total);
            self.scale_to(i, size - down);
            total += down;
        }
        total
    }

    /// Kubernetes' `rolloutRecreate`.
    fn rollout_recreate(&mut self) -> Result<(), Abort> {
        self.sync_revision(false)?;
        let mut scaled_down = false;
        for i in self.olds() {
            if rs_replicas(&self.rss[i]) > 0 {
                scaled_down |= self.scale_to(i, 0);
            }
        }
        if scaled_down || self.old_pods_running() {
            self.rollout_status();
            return Ok(());
        }
        if self.new.is_none() {
            self.sync_revision(true)?;
        }
        if let Some(n) = self.new {
            self.scale_to(n, desired(&self.d));
        }
        let st = self.status();
        if status::deployment_complete(&self.d, &st) {
            self.cleanup();
        }
        self.rollout_status();
        Ok(())
    }

    /// Kubernetes' `oldPodsRunning`: old ReplicaSets report pods, or a pod they control is
    /// not terminal yet.
    fn old_pods_running(&self) -> bool {
        let olds = self.olds();
        if self.sum(&olds, rs_actual) > 0 {
            return true;
        }
        let uids: Vec<&str> = olds
            .iter()
            .map(|i| self.rss[*i].metadata.uid.as_str())
            .filter(|u| !u.is_empty())
            .collect();
        self.pods.iter().any(|p| {
            controller_uid(&p.metadata).is_some_and(|u| uids.contains(&u))
                && !matches!(
                    p.status.as_ref().and_then(|s| s.phase.as_deref()),
                    Some("Succeeded" | "Failed")
                )
        })
    }

    /// Kubernetes' `cleanupDeployment`: deletes the oldest old ReplicaSets beyond
    /// `revisionHistoryLimit` that have scaled down to nothing.
    fn cleanup(&mut self) {
        let Some(limit) = self
            .d
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .filter(|l| *l != i32::MAX)
        else {
            return;
        };
        let cleanable: Vec<usize> = self
            .olds()
            .into_iter()
            .filter(|i| self.rss[*i].metadata.deletion_timestamp.is_none())
            .collect();
        let diff = i64::try_from(cleanable.len()).unwrap_or(i64::MAX) - i64::from(limit);
        if diff <= 0 {
            return;
        }
        for i in self
            .sorted(cleanable, by_revision)
            .into_iter()
            .take(usize::try_from(diff).unwrap_or(0))
        {
            let rs = &self.rss[i];
            let observed = rs.status.as_ref().and_then(|s| s.observed_generation);
            if rs_actual(rs) != 0
                || rs_replicas(rs) != 0
                || rs.metadata.generation.unwrap_or(0) > observed.unwrap_or(0)
            {
                continue;
            }
            self.deletes.push(Action::Delete {
                kind: "ReplicaSet",
                namespace: rs.metadata.namespace.clone(),
                name: rs.metadata.name.clone(),
                uid: rs.metadata.uid.clone(),
            });
        }
    }

    fn refs(&self) -> (Vec<&ReplicaSet>, Option<&ReplicaSet>) {
        let all = self.all().into_iter().map(|i| &self.rss[i]).collect();
        (all, self.new.map(|i| &self.rss[i]))
    }

    /// `syncDeploymentStatus`.
    fn plain_status(&mut self) {
        let (all, new) = self.refs();
        let st = status::calculate_status(&all, new, &self.d, self.now);
        self.final_status = Some((st, Mode::Plain));
    }

    /// `syncRolloutStatus`.
    fn rollout_status(&mut self) {
        let (all, new) = self.refs();
        let st = status::rollout_status(&all, new, &self.d, self.now);
        self.final_status = Some((st, Mode::Rollout));
    }

    fn deployment_json(&self, st: DeploymentStatus) -> Value {
        let mut d = self.orig.clone();
        d.api_version = "apps/v1".into();
        d.kind = "Deployment".into();
        if let Some(r) = &self.revision {
            d.metadata
                .annotations
                .insert(REVISION_ANNOTATION.into(), r.clone());
        }
        d.status = Some(st);
        serde_json::to_value(d).unwrap_or(Value::Null)
    }

    fn finish(mut self) -> Vec<Action> {
        let mut actions = Vec::new();
        let rs_json = |rs: &ReplicaSet| {
            let mut rs = rs.clone();
            rs.api_version = "apps/v1".into();
            rs.kind = "ReplicaSet".into();
            serde_json::to_value(rs).unwrap_or(Value::Null)
        };
        if let Some(i) = self.created {
            actions.push(Action::Create {
                object: rs_json(&self.rss[i]),
            });
        }
        for (i, rs) in self.rss.iter().enumerate() {
            if self.dirty[i] && Some(i) != self.created {
                actions.push(Action::Update {
                    object: rs_json(rs),
                });
            }
        }
        actions.append(&mut self.deletes);
        let orig_status = self.orig.status.clone().unwrap_or_default();
        if let Some((st, mode)) = self.final_status.take() {
            if st != orig_status {
                actions.push(Action::UpdateStatus {
                    object: self.deployment_json(st),
                });
            } else {
                if let Some(r) = &self.revision {
                    if self.orig.metadata.annotations.get(REVISION_ANNOTATION) != Some(r) {
                        let mut d = self.orig.clone();
                        d.api_version = "apps/v1".into();
                        d.kind = "Deployment".into();
                        d.metadata
                            .annotations
                            .insert(REVISION_ANNOTATION.into(), r.clone());
                        actions.push(Action::Update {
                            object: serde_json::to_value(d).unwrap_or(Value::Null),
                        });
                    }
                }
                if mode == Mode::Rollout {
                    if let Some(ms) = status::requeue_stuck(&self.d, &st, self.now) {
                        actions.push(Action::RequeueAfter { millis: ms });
                    }
                }
            }
        }
        if let Some(ms) = self.requeue {
            actions.push(Action::RequeueAfter { millis: ms });
        }
        actions
    }
}
