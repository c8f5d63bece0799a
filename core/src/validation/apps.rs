//! Validation of ReplicaSets and Deployments (`pkg/apis/apps/validation`).

use super::meta::{
    go_label_selector, selector_is_invalid, validate_label_selector, validate_object_meta,
};
use super::pod::validate_pod_template_spec;
use super::{
    child, dedup, go_string_map, is_valid_percent, name_is_dns_subdomain, quote,
    validate_nonnegative, validate_object_meta_update, FieldError, IMMUTABLE_ERROR,
};
use crate::api::{
    Deployment, DeploymentSpec, DeploymentStrategy, IntOrString, PodTemplateSpec, ReplicaSet,
    ReplicaSetSpec, RollingUpdateDeployment,
};
use crate::selector::LabelSelector;

/// Kubernetes `ValidateReplicaSet`.
pub fn validate_replica_set(rs: &ReplicaSet) -> Vec<FieldError> {
    let default_spec = ReplicaSetSpec::default();
    let spec = rs.spec.as_ref().unwrap_or(&default_spec);
    let mut errs = validate_object_meta(&rs.metadata, true, name_is_dns_subdomain, "metadata");
    if let Some(r) = spec.replicas {
        errs.extend(validate_nonnegative(i64::from(r), "spec.replicas"));
    }
    if let Some(m) = spec.min_ready_seconds {
        errs.extend(validate_nonnegative(i64::from(m), "spec.minReadySeconds"));
    }
    errs.extend(validate_selector_and_template(
        spec.selector.as_ref(),
        spec.template.as_ref(),
        "spec",
    ));
    errs
}

/// Kubernetes `ValidateReplicaSetUpdate` plus the apps/v1 rule that the selector is immutable.
pub fn validate_replica_set_update(new: &ReplicaSet, old: &ReplicaSet) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
    errs.extend(validate_replica_set(new));
    let selector = |rs: &ReplicaSet| rs.spec.as_ref().and_then(|s| s.selector.clone());
    errs.extend(validate_selector_immutable(
        selector(new).as_ref(),
        selector(old).as_ref(),
    ));
    dedup(errs)
}

/// Kubernetes `ValidateDeployment`.
pub fn validate_deployment(d: &Deployment) -> Vec<FieldError> {
    let default_spec = DeploymentSpec::default();
    let spec = d.spec.as_ref().unwrap_or(&default_spec);
    let mut errs = validate_object_meta(&d.metadata, true, name_is_dns_subdomain, "metadata");
    if let Some(r) = spec.replicas {
        errs.extend(validate_nonnegative(i64::from(r), "spec.replicas"));
    }
    errs.extend(validate_selector_and_template(
        spec.selector.as_ref(),
        spec.template.as_ref(),
        "spec",
    ));
    if let Some(strategy) = &spec.strategy {
        errs.extend(validate_strategy(strategy, "spec.strategy"));
    }
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    errs.extend(validate_nonnegative(
        i64::from(min_ready),
        "spec.minReadySeconds",
    ));
    if let Some(limit) = spec.revision_history_limit {
        errs.extend(validate_nonnegative(
            i64::from(limit),
            "spec.revisionHistoryLimit",
        ));
    }
    if let Some(deadline) = spec.progress_deadline_seconds {
        errs.extend(validate_nonnegative(
            i64::from(deadline),
            "spec.progressDeadlineSeconds",
        ));
        if deadline <= min_ready {
            errs.push(FieldError::invalid(
                "spec.progressDeadlineSeconds",
                deadline.to_string(),
                "must be greater than minReadySeconds",
            ));
        }
    }
    errs
}

/// Kubernetes `ValidateDeploymentUpdate` plus the apps/v1 rule that the selector is immutable.
pub fn validate_deployment_update(new: &Deployment, old: &Deployment) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
    errs.extend(validate_deployment(new));
    let selector = |d: &Deployment| d.spec.as_ref().and_then(|s| s.selector.clone());
    errs.extend(validate_selector_immutable(
        selector(new).as_ref(),
        selector(old).as_ref(),
    ));
    dedup(errs)
}

fn validate_selector_immutable(
    new: Option<&LabelSelector>,
    old: Option<&LabelSelector>,
) -> Vec<FieldError> {
    if new == old {
        return Vec::new();
    }
    let rendered = new.map_or_else(|| "null".to_string(), go_label_selector);
    vec![FieldError::invalid(
        "spec.selector",
        rendered,
        IMMUTABLE_ERROR,
    )]
}

/// The selector rules of `ValidateReplicaSetSpec` / `ValidateDeploymentSpec` and
/// `ValidatePodTemplateSpecForReplicaSet`.
fn validate_selector_and_template(
    selector: Option<&LabelSelector>,
    template: Option<&PodTemplateSpec>,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let sel_path = child(path, "selector");
    match selector {
        None => errs.push(FieldError::required(&sel_path, "")),
        Some(sel) => {
            errs.extend(validate_label_selector(sel, &sel_path));
            if sel.is_empty() {
                errs.push(FieldError::invalid(
                    &sel_path,
                    go_label_selector(sel),
                    "empty selector is invalid for deployment",
                ));
            }
            if selector_is_invalid(sel) {
                errs.push(FieldError::invalid(
                    &sel_path,
                    go_label_selector(sel),
                    "invalid label selector",
                ));
                return errs;
            }
        }
    }
    let default_template = PodTemplateSpec::default();
    let template = template.unwrap_or(&default_template);
    let tpl_path = child(path, "template");
    // A missing selector selects nothing, so it never matches (as in Kubernetes); an empty one
    // selects everything and is not checked.
    let matches = match selector {
        None => false,
        Some(sel) if sel.is_empty() => true,
        Some(sel) => sel.matches(&template.metadata.labels),
    };
    if !matches {
        errs.push(FieldError::invalid(
            child(&tpl_path, "metadata.labels"),
            go_string_map(&template.metadata.labels),
            "`selector` does not match template `labels`",
        ));
    }
    errs.extend(validate_pod_template_spec(template, &tpl_path));
    if let Some(spec) = &template.spec {
        if let Some(rp) = spec.restart_policy.as_deref().filter(|rp| *rp != "Always") {
            errs.push(FieldError::not_supported(
                child(&tpl_path, "spec.restartPolicy"),
                quote(rp),
                &["Always"],
            ));
        }
        if let Some(ads) = spec.active_deadline_seconds {
            errs.push(FieldError::invalid(
                child(&tpl_path, "spec.activeDeadlineSeconds"),
                ads.to_string(),
                "activeDeadlineSeconds in ReplicaSet is not Supported",
            ));
        }
    }
    errs
}

/// Go's `%#v` of an `intstr.IntOrString`, as Kubernetes prints it in these errors.
fn go_int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => format!("intstr.IntOrString{{Type:0, IntVal:{i}, StrVal:\"\"}}"),
        IntOrString::String(s) => format!(
            "intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}",
            quote(s)
        ),
    }
}

fn go_strategy(s: &DeploymentStrategy) -> String {
    let ru = match &s.rolling_update {
        None => "(*apps.RollingUpdateDeployment)(nil)".to_string(),
        Some(ru) => {
            let f = |v: &Option<IntOrString>| {
                v.as_ref().map_or_else(
                    || "intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}".to_string(),
                    go_int_or_string,
                )
            };
            format!(
                "&apps.RollingUpdateDeployment{{MaxUnavailable:{}, MaxSurge:{}}}",
                f(&ru.max_unavailable),
                f(&ru.max_surge)
            )
        }
    };
    format!(
        "apps.DeploymentStrategy{{Type:{}, RollingUpdate:{}}}",
        quote(s.type_.as_deref().unwrap_or("")),
        ru
    )
}

/// Kubernetes `ValidateDeploymentStrategy`. An unset type is accepted (defaulting sets it).
fn validate_strategy(s: &DeploymentStrategy, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match s.type_.as_deref() {
        Some("Recreate") => {
            if s.rolling_update.is_some() {
                errs.push(FieldError::forbidden(
                    child(path, "rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        Some("RollingUpdate") | None => match &s.rolling_update {
            Some(ru) => errs.extend(validate_rolling_update(ru, &child(path, "rollingUpdate"))),
            None if s.type_.is_some() => errs.push(FieldError::required(
                child(path, "rollingUpdate"),
                "this should be defaulted and never be nil",
            )),
            None => {}
        },
        Some(_) => errs.push(FieldError::not_supported(
            path,
            go_strategy(s),
            &["Recreate", "RollingUpdate"],
        )),
    }
    errs
}

/// Kubernetes `ValidatePositiveIntOrPercent`.
fn validate_positive_int_or_percent(v: &IntOrString, path: &str) -> Vec<FieldError> {
    match v {
        IntOrString::String(s) => is_valid_percent(s)
            .into_iter()
            .map(|m| FieldError::invalid(path, go_int_or_string(v), m))
            .collect(),
        IntOrString::Int(i) => validate_nonnegative(i64::from(*i), path),
    }
}

/// The number in an int or a well-formed percentage (`getIntOrPercentValue`).
fn int_or_percent_value(v: &IntOrString) -> i32 {
    v.int_or_percent().map(|(n, _)| n).unwrap_or(0)
}

/// Kubernetes `ValidateRollingUpdateDeployment`.
fn validate_rolling_update(ru: &RollingUpdateDeployment, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let zero = IntOrString::Int(0);
    let max_unavailable = ru.max_unavailable.as_ref().unwrap_or(&zero);
    let max_surge = ru.max_surge.as_ref().unwrap_or(&zero);
    let mu_path = child(path, "maxUnavailable");
    errs.extend(validate_positive_int_or_percent(max_unavailable, &mu_path));
    errs.extend(validate_positive_int_or_percent(
        max_surge,
        &child(path, "maxSurge"),
    ));
    if int_or_percent_value(max_unavailable) == 0 && int_or_percent_value(max_surge) == 0 {
        errs.push(FieldError::invalid(
            &mu_path,
            go_int_or_string(max_unavailable),
            "may not be 0 when `maxSurge` is 0",
        ));
    }
    if let Ok((n, true)) = max_unavailable.int_or_percent() {
        if n > 100 {
            errs.push(FieldError::invalid(
                &mu_path,
                go_int_or_string(max_unavailable),
                "must not be greater than 100%",
            ));
        }
    }
    errs
}
