//! The Deployment controller's arithmetic and bookkeeping, as Kubernetes'
//! `pkg/controller/deployment/util/deployment_util.go` has it: rollout fenceposts (maxSurge,
//! maxUnavailable), the pod-template hash, revision and replica annotations, replica counts over
//! ReplicaSets and the orders ReplicaSets are scaled in.

use crate::api::apps::{Deployment, ReplicaSet};
use crate::api::intstr::IntOrString;
use crate::api::pod::PodTemplateSpec;
use crate::time::Timestamp;
use std::cmp::Ordering;

/// Label (and selector key) that tells the ReplicaSets of one Deployment apart.
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// Annotation holding a ReplicaSet's (and its Deployment's) revision number.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// Annotation listing the revisions a ReplicaSet had before a rollback brought it back.
pub const REVISION_HISTORY_ANNOTATION: &str = "deployment.kubernetes.io/revision-history";
/// Annotation holding the Deployment's `replicas` when the ReplicaSet was last scaled.
pub const DESIRED_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/desired-replicas";
/// Annotation holding `replicas + maxSurge` when the ReplicaSet was last scaled.
pub const MAX_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/max-replicas";
/// kubectl's last-applied configuration, never copied to ReplicaSets.
const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The deprecated rollback request annotation, never copied to ReplicaSets.
const ROLLBACK_TO_ANNOTATION: &str = "deprecated.deployment.rollback.to";
/// Longest `revision-history` annotation kept (kube-controller-manager's default).
pub const MAX_REV_HISTORY_LENGTH_IN_CHARS: usize = 2000;

/// Whether the Deployment uses the `Recreate` strategy (anything else is a rolling update).
pub fn is_recreate(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        == Some("Recreate")
}

/// `spec.replicas` of the Deployment (1 when unset, as defaulting does).
pub fn desired(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `spec.replicas` of a ReplicaSet (1 when unset, as defaulting does).
pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `status.replicas` of a ReplicaSet (0 when unreported).
pub fn rs_actual(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

/// `status.readyReplicas` of a ReplicaSet.
pub fn rs_ready(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

/// `status.availableReplicas` of a ReplicaSet.
pub fn rs_available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

/// Sets `spec.replicas` of a ReplicaSet.
pub(crate) fn set_rs_replicas(rs: &mut ReplicaSet, n: i32) {
    rs.spec.get_or_insert_with(Default::default).replicas = Some(n);
}

/// Kubernetes' `ResolveFenceposts`: maxSurge (percentages rounded up) and maxUnavailable
/// (rounded down) of `desired` pods; when both come out 0, maxUnavailable is 1 so that a
/// rollout can progress.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> Result<(i32, i32), String> {
    let zero = IntOrString::Int(0);
    let surge = max_surge.unwrap_or(&zero).scaled_value(desired, true)?;
    let mut unavailable = max_unavailable
        .unwrap_or(&zero)
        .scaled_value(desired, false)?;
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable))
}

/// The Deployment's rolling-update parameters with Kubernetes' defaults (`25%` each).
fn rolling_params(d: &Deployment) -> (IntOrString, IntOrString) {
    let ru = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    let surge = ru
        .and_then(|r| r.max_surge.clone())
        .unwrap_or_else(|| "25%".into());
    let unavailable = ru
        .and_then(|r| r.max_unavailable.clone())
        .unwrap_or_else(|| "25%".into());
    (surge, unavailable)
}

/// Kubernetes' `MaxSurge`: 0 for Recreate; an invalid value counts as 0.
pub fn max_surge(d: &Deployment) -> i32 {
    if is_recreate(d) {
        return 0;
    }
    let (s, u) = rolling_params(d);
    resolve_fenceposts(Some(&s), Some(&u), desired(d))
        .map(|(s, _)| s)
        .unwrap_or(0)
}

/// Kubernetes' `MaxUnavailable`: 0 for Recreate or 0 replicas, never more than `replicas`.
pub fn max_unavailable(d: &Deployment) -> i32 {
    let replicas = desired(d);
    if is_recreate(d) || replicas == 0 {
        return 0;
    }
    let (s, u) = rolling_params(d);
    let unavailable = resolve_fenceposts(Some(&s), Some(&u), replicas)
        .map(|(_, u)| u)
        .unwrap_or(0);
    unavailable.min(replicas)
}

const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Kubernetes' `rand.SafeEncodeString`: maps each character onto consonants and digits that
/// cannot spell words.
pub fn safe_encode(s: &str) -> String {
    s.chars()
        .map(|c| ALPHANUMS[(c as usize) % ALPHANUMS.len()] as char)
        .collect()
}

fn fnv1a32(bytes: &[u8], mut h: u32) -> u32 {
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The template without its `pod-template-hash` label.
fn without_hash(t: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = t.clone();
    t.metadata.labels.remove(POD_TEMPLATE_HASH_LABEL);
    t
}

/// The pod-template hash (Kubernetes' `ComputeHash`): FNV-1a 32 of the template's canonical
/// JSON (its `pod-template-hash` label left out) and of the collision count, its decimal value
/// safe-encoded (up to 10 characters). Stable across runs: serde renders structs in field order
/// and maps sorted.
pub fn template_hash(t: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let json = serde_json::to_vec(&without_hash(t)).unwrap_or_default();
    let mut h = fnv1a32(&json, 0x811c_9dc5);
    if let Some(c) = collision_count {
        h = fnv1a32(c.to_string().as_bytes(), h);
    }
    safe_encode(&h.to_string())
}

/// Kubernetes' `EqualIgnoreHash`: the templates are equal but for `pod-template-hash`.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    without_hash(a) == without_hash(b)
}

/// The revision annotation of an object's annotations, 0 when absent or unparsable.
pub fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .get(REVISION_ANNOTATION)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// An integer annotation of a ReplicaSet.
pub fn int_annotation(rs: &ReplicaSet, key: &str) -> Option<i32> {
    rs.metadata.annotations.get(key)?.parse().ok()
}

fn skip_copy(key: &str) -> bool {
    matches!(
        key,
        LAST_APPLIED_ANNOTATION
            | REVISION_ANNOTATION
            | REVISION_HISTORY_ANNOTATION
            | DESIRED_REPLICAS_ANNOTATION
            | MAX_REPLICAS_ANNOTATION
            | ROLLBACK_TO_ANNOTATION
    )
}

/// Copies the Deployment's own annotations onto the ReplicaSet (not the controller's ones);
/// true if anything changed.
fn copy_annotations(d: &Deployment, rs: &mut ReplicaSet) -> bool {
    let mut changed = false;
    for (k, v) in &d.metadata.annotations {
        if skip_copy(k) || rs.metadata.annotations.get(k) == Some(v) {
            continue;
        }
        rs.metadata.annotations.insert(k.clone(), v.clone());
        changed = true;
    }
    changed
}

/// Kubernetes' `SetReplicasAnnotations`; true if anything changed.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let mut changed = false;
    for (k, v) in [
        (DESIRED_REPLICAS_ANNOTATION, desired),
        (MAX_REPLICAS_ANNOTATION, max),
    ] {
        let v = v.to_string();
        if rs.metadata.annotations.get(k) != Some(&v) {
            rs.metadata.annotations.insert(k.to_string(), v);
            changed = true;
        }
    }
    changed
}

/// Kubernetes' `ReplicasAnnotationsNeedUpdate`.
pub fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32, max: i32) -> bool {
    rs.metadata.annotations.get(DESIRED_REPLICAS_ANNOTATION) != Some(&desired.to_string())
        || rs.metadata.annotations.get(MAX_REPLICAS_ANNOTATION) != Some(&max.to_string())
}

/// Kubernetes' `SetNewReplicaSetAnnotations`: copies the Deployment's annotations, raises the
/// revision to `new_revision` (recording the previous one in `revision-history` when a rollback
/// brings an old ReplicaSet back) and, for a ReplicaSet about to be created, sets the replica
/// annotations. True if anything changed.
pub fn set_new_rs_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = copy_annotations(d, rs);
    let old = rs.metadata.annotations.get(REVISION_ANNOTATION).cloned();
    let old_int = match old.as_deref() {
        None | Some("") => 0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) => n,
            Err(_) => return false,
        },
    };
    if old_int < new_revision {
        rs.metadata
            .annotations
            .insert(REVISION_ANNOTATION.to_string(), new_revision.to_string());
        changed = true;
        if let Some(old) = old.filter(|o| !o.is_empty()) {
            let history = rs
                .metadata
                .annotations
                .get(REVISION_HISTORY_ANNOTATION)
                .cloned()
                .unwrap_or_default();
            let value = if history.is_empty() {
                Some(old)
            } else {
                let mut parts: Vec<&str> = history.split(',').collect();
                let mut total = history.len() + old.len() + 1;
                let mut start = 0;
                while total > MAX_REV_HISTORY_LENGTH_IN_CHARS && start < parts.len() {
                    total -= parts[start].len() + 1;
                    start += 1;
                }
                (total <= MAX_REV_HISTORY_LENGTH_IN_CHARS).then(|| {
                    parts = parts.split_off(start);
                    parts.push(&old);
                    parts.join(",")
                })
            };
            if let Some(v) = value {
                rs.metadata
                    .annotations
                    .insert(REVISION_HISTORY_ANNOTATION.to_string(), v);
            }
        }
    }
    if !exists && set_replicas_annotations(rs, desired(d), desired(d) + max_surge(d)) {
        changed = true;
    }
    changed
}

/// Creation time of a ReplicaSet; one not created yet counts as the newest.
fn created(rs: &ReplicaSet) -> Timestamp {
    rs.metadata
        .creation_timestamp
        .as_deref()
        .and_then(Timestamp::parse_rfc3339)
        .unwrap_or(Timestamp(i64::MAX))
}

/// Kubernetes' `ReplicaSetsByCreationTimestamp`: oldest first, then by name.
pub fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    created(a)
        .cmp(&created(b))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

/// Kubernetes' `ReplicaSetsByRevision`: lowest revision first, then oldest.
pub fn by_revision(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    revision(a)
        .cmp(&revision(b))
        .then_with(|| by_creation(a, b))
}

/// Kubernetes' `ReplicaSetsBySizeOlder`: largest first, then oldest (scaling down).
pub fn by_size_older(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    rs_replicas(b)
        .cmp(&rs_replicas(a))
        .then_with(|| by_creation(a, b))
}

/// Kubernetes' `ReplicaSetsBySizeNewer`: largest first, then newest (scaling up).
pub fn by_size_newer(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    rs_replicas(b)
        .cmp(&rs_replicas(a))
        .then_with(|| by_creation(b, a))
}

/// Kubernetes' `NewRSNewReplicas`: how far the new ReplicaSet may be scaled up now. For a
/// rolling update, up to `replicas + maxSurge` pods in all (`all_replicas` is the sum of
/// every ReplicaSet's `spec.replicas`, the new one's included); for Recreate, `replicas`.
pub fn new_rs_new_replicas(d: &Deployment, all_replicas: i32, new_replicas: i32) -> i32 {
    let replicas = desired(d);
    if is_recreate(d) {
        return replicas;
    }
    let max_total = replicas + max_surge(d);
    if all_replicas >= max_total {
        return new_replicas;
    }
    let up = (max_total - all_replicas).min(replicas - new_replicas);
    new_replicas + up
}

/// Kubernetes' `getReplicaSetFraction` and `GetProportion`: this ReplicaSet's share of
/// `to_add` replicas being added (or removed) proportionally, bounded by what is still allowed.
pub fn proportion(
    rs: &ReplicaSet,
    d: &Deployment,
    status_replicas: i32,
    to_add: i32,
    added: i32,
) -> i32 {
    let size = rs_replicas(rs);
    if size == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = if desired(d) == 0 {
        -size
    } else {
        let max_now = desired(d) + max_surge(d);
        let before = match int_annotation(rs, MAX_REPLICAS_ANNOTATION) {
            Some(n) if n != 0 => n,
            _ => status_replicas,
        };
        if before == 0 {
            0
        } else {
            let scaled = f64::from(size) * f64::from(max_now) / f64::from(before);
            scaled.round() as i32 - size
        }
    };
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}
