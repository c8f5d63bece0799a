//! Deployment status: the counters summed over its ReplicaSets, the `Available` and
//! `Progressing` conditions, and progress-deadline arithmetic (Kubernetes' `sync.go`
//! `calculateStatus`, `progress.go` and the condition helpers of `deployment_util.go`).

use super::util::{desired, max_unavailable, rs_actual, rs_available, rs_ready, rs_replicas};
use crate::api::apps::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use crate::time::Timestamp;

/// Condition type: the Deployment has its minimum availability.
pub const AVAILABLE: &str = "Available";
/// Condition type: the rollout is progressing, complete or stuck.
pub const PROGRESSING: &str = "Progressing";
/// Condition type: a ReplicaSet failed to create pods.
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// Reason: `Available=True`.
pub const MINIMUM_REPLICAS_AVAILABLE: &str = "MinimumReplicasAvailable";
/// Reason: `Available=False`.
pub const MINIMUM_REPLICAS_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
/// Reason: a new ReplicaSet was created for the template.
pub const NEW_RS_CREATED: &str = "NewReplicaSetCreated";
/// Reason: an existing ReplicaSet matches the template.
pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
/// Reason: the rollout made progress.
pub const RS_UPDATED: &str = "ReplicaSetUpdated";
/// Reason: the rollout is complete.
pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
/// Reason: no progress for `progressDeadlineSeconds`.
pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
/// Reason: the Deployment was paused.
pub const PAUSED: &str = "DeploymentPaused";
/// Reason: the Deployment was resumed.
pub const RESUMED: &str = "DeploymentResumed";
/// Reason: the ReplicaSet could not be created (hash collision).
pub const FAILED_RS_CREATE: &str = "ReplicaSetCreateError";

/// A condition stamped `now` (update and transition time).
pub fn condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: Timestamp,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        last_update_time: Some(now.to_rfc3339()),
        last_transition_time: Some(now.to_rfc3339()),
        reason: Some(reason.to_string()),
        message: Some(message),
    }
}

/// The condition of this type, if any.
pub fn get_condition<'a>(s: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    s.conditions.iter().find(|c| c.type_ == type_)
}

/// Kubernetes' `SetDeploymentCondition`: nothing changes when status and reason are the
/// same; the transition time is kept when only the reason changes; the condition goes last.
pub fn set_condition(s: &mut DeploymentStatus, mut c: DeploymentCondition) {
    if let Some(cur) = get_condition(s, &c.type_) {
        if cur.status == c.status && cur.reason == c.reason {
            return;
        }
        if cur.status == c.status {
            c.last_transition_time = cur.last_transition_time.clone();
        }
    }
    remove_condition(s, &c.type_);
    s.conditions.push(c);
}

/// Removes the condition of this type.
pub fn remove_condition(s: &mut DeploymentStatus, type_: &str) {
    s.conditions.retain(|c| c.type_ != type_);
}

fn n(v: Option<i32>) -> i32 {
    v.unwrap_or(0)
}

/// `spec.progressDeadlineSeconds`, when it is set (and not "infinite").
pub fn progress_deadline(d: &Deployment) -> Option<i32> {
    d.spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .filter(|s| *s != i32::MAX)
}

/// Kubernetes' `calculateStatus`: counters over all ReplicaSets (`replicas` etc. from their
/// status, `unavailableReplicas` from their spec), the conditions copied from `d` with
/// `Available` set; `collisionCount` untouched.
pub fn calculate_status(
    all: &[&ReplicaSet],
    new: Option<&ReplicaSet>,
    d: &Deployment,
    now: Timestamp,
) -> DeploymentStatus {
    let old = d.status.clone().unwrap_or_default();
    let available: i32 = all.iter().map(|r| rs_available(r)).sum();
    let total: i32 = all.iter().map(|r| rs_replicas(r)).sum();
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation.or(old.observed_generation),
        replicas: Some(all.iter().map(|r| rs_actual(r)).sum()),
        updated_replicas: Some(new.map(rs_actual).unwrap_or(0)),
        ready_replicas: Some(all.iter().map(|r| rs_ready(r)).sum()),
        available_replicas: Some(available),
        unavailable_replicas: Some((total - available).max(0)),
        terminating_replicas: old.terminating_replicas,
        conditions: old.conditions.clone(),
        collision_count: old.collision_count,
    };
    if available >= desired(d) - max_unavailable(d) {
        set_condition(
            &mut status,
            condition(
                AVAILABLE,
                "True",
                MINIMUM_REPLICAS_AVAILABLE,
                "Deployment has minimum availability.".into(),
                now,
            ),
        );
    } else {
        set_condition(
            &mut status,
            condition(
                AVAILABLE,
                "False",
                MINIMUM_REPLICAS_UNAVAILABLE,
                "Deployment does not have minimum availability.".into(),
                now,
            ),
        );
    }
    status
}

/// Kubernetes' `DeploymentComplete`: every replica updated and available, nothing old left,
/// the latest generation observed.
pub fn deployment_complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let r = desired(d);
    n(s.updated_replicas) == r
        && n(s.replicas) == r
        && n(s.available_replicas) == r
        && s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// Kubernetes' `DeploymentProgressing`: more updated, ready or available pods than in the
/// Deployment's current status, or fewer old ones.
pub fn deployment_progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let old_old = n(old.replicas) - n(old.updated_replicas);
    let new_old = n(new.replicas) - n(new.updated_replicas);
    n(new.updated_replicas) > n(old.updated_replicas)
        || new_old < old_old
        || n(new.ready_replicas) > n(old.ready_replicas)
        || n(new.available_replicas) > n(old.available_replicas)
}

/// Kubernetes' `DeploymentTimedOut`: the Progressing condition was last updated more than
/// `progressDeadlineSeconds` before `now` (or already says so).
pub fn deployment_timed_out(d: &Deployment, s: &DeploymentStatus, now: Timestamp) -> bool {
    let Some(deadline) = progress_deadline(d) else {
        return false;
    };
    let Some(c) = get_condition(s, PROGRESSING) else {
        return false;
    };
    match c.reason.as_deref() {
        Some(NEW_RS_AVAILABLE) => false,
        Some(TIMED_OUT) => true,
        _ => c
            .last_update_time
            .as_deref()
            .and_then(Timestamp::parse_rfc3339)
            .is_some_and(|from| from.0 + i64::from(deadline) < now.0),
    }
}

/// Kubernetes' `syncRolloutStatus` (without the write): the status with the Progressing
/// condition brought up to date — complete, progressing or timed out — and the ReplicaSets'
/// `ReplicaFailure` carried over.
pub fn rollout_status(
    all: &[&ReplicaSet],
    new: Option<&ReplicaSet>,
    d: &Deployment,
    now: Timestamp,
) -> DeploymentStatus {
    let mut s = calculate_status(all, new, d, now);
    let deadline = progress_deadline(d);
    if deadline.is_none() {
        remove_condition(&mut s, PROGRESSING);
    }
    let cur = d
        .status
        .as_ref()
        .and_then(|st| get_condition(st, PROGRESSING))
        .cloned();
    let complete_already = n(s.replicas) == n(s.updated_replicas)
        && cur
            .as_ref()
            .is_some_and(|c| c.reason.as_deref() == Some(NEW_RS_AVAILABLE));
    let subject = match new {
        Some(rs) => format!("ReplicaSet {:?}", rs.metadata.name),
        None => format!("Deployment {:?}", d.metadata.name),
    };
    if deadline.is_some() && !complete_already {
        if deployment_complete(d, &s) {
            let msg = format!("{subject} has successfully progressed.");
            set_condition(
                &mut s,
                condition(PROGRESSING, "True", NEW_RS_AVAILABLE, msg, now),
            );
        } else if deployment_progressing(d, &s) {
            let msg = format!("{subject} is progressing.");
            let mut c = condition(PROGRESSING, "True", RS_UPDATED, msg, now);
            if let Some(cur) = &cur {
                if cur.status == "True" {
                    c.last_transition_time = cur.last_transition_time.clone();
                }
                remove_condition(&mut s, PROGRESSING);
            }
            set_condition(&mut s, c);
        } else if deployment_timed_out(d, &s, now) {
            let msg = format!("{subject} has timed out progressing.");
            set_condition(&mut s, condition(PROGRESSING, "False", TIMED_OUT, msg, now));
        }
    }
    let failure = all.iter().find_map(|rs| {
        rs.status
            .as_ref()?
            .conditions
            .iter()
            .find(|c| c.type_ == "ReplicaFailure")
    });
    match failure {
        Some(f) => set_condition(
            &mut s,
            DeploymentCondition {
                type_: REPLICA_FAILURE.to_string(),
                status: f.status.clone(),
                last_update_time: f.last_transition_time.clone(),
                last_transition_time: f.last_transition_time.clone(),
                reason: f.reason.clone(),
                message: f.message.clone(),
            },
        ),
        None => remove_condition(&mut s, REPLICA_FAILURE),
    }
    s
}

/// Kubernetes' `requeueStuckDeployment`: when a rollout is under way without progress, when to
/// look again to notice the deadline passing (in milliseconds), `None` when there is no need.
pub fn requeue_stuck(d: &Deployment, new: &DeploymentStatus, now: Timestamp) -> Option<u64> {
    let deadline = progress_deadline(d)?;
    let cur = d
        .status
        .as_ref()
        .and_then(|s| get_condition(s, PROGRESSING))?;
    if deployment_complete(d, new) || cur.reason.as_deref() == Some(TIMED_OUT) {
        return None;
    }
    let from = cur
        .last_update_time
        .as_deref()
        .and_then(Timestamp::parse_rfc3339)?;
    let after = from.0 + i64::from(deadline) - now.0;
    // Under a second: look again shortly (Kubernetes re-queues rate-limited); a second is
    // enough to be strictly past the deadline at the clock's resolution.
    Some(u64::try_from(after.max(1)).unwrap_or(1) * 1000)
}
