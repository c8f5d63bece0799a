//! Validation of `metadata`, labels, annotations, finalizers and label selectors.

use super::{
    child, go_string_map, go_string_slice, invalid_each, is_qualified_name, is_valid_label_value,
    quote, validate_nonnegative, FieldError, NameRule, IMMUTABLE_ERROR,
};
use crate::api::ObjectMeta;
use crate::selector::LabelSelector;
use std::collections::BTreeMap;

/// Maximum total size of all annotation keys and values of an object (256 KiB).
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// Finalizer names that need no domain prefix.
const STANDARD_FINALIZERS: &[&str] = &["kubernetes", "orphan", "foregroundDeletion"];

/// Kubernetes `ValidateObjectMeta`. `name` may be empty when `generateName` is set (the API
/// server fills it). `namespace` is not required here (the API server fills it from the URL) but
/// must be a DNS label when set, and must be empty for cluster-scoped kinds.
pub fn validate_object_meta(
    meta: &ObjectMeta,
    namespaced: bool,
    name_rule: NameRule,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !meta.generate_name.is_empty() {
        errs.extend(invalid_each(
            &child(path, "generateName"),
            &meta.generate_name,
            name_rule(&meta.generate_name, true),
        ));
    }
    if meta.name.is_empty() {
        if meta.generate_name.is_empty() {
            errs.push(FieldError::required(
                child(path, "name"),
                "name or generateName is required",
            ));
        }
    } else {
        errs.extend(invalid_each(
            &child(path, "name"),
            &meta.name,
            name_rule(&meta.name, false),
        ));
    }
    if namespaced {
        if !meta.namespace.is_empty() {
            errs.extend(invalid_each(
                &child(path, "namespace"),
                &meta.namespace,
                super::name_is_dns_label(&meta.namespace, false),
            ));
        }
    } else if !meta.namespace.is_empty() {
        errs.push(FieldError::forbidden(
            child(path, "namespace"),
            "not allowed on this type",
        ));
    }
    if let Some(g) = meta.generation {
        errs.extend(validate_nonnegative(g, &child(path, "generation")));
    }
    errs.extend(validate_labels(&meta.labels, &child(path, "labels")));
    errs.extend(validate_annotations(
        &meta.annotations,
        &child(path, "annotations"),
    ));
    errs.extend(validate_owner_references(
        meta,
        &child(path, "ownerReferences"),
    ));
    let fin_path = child(path, "finalizers");
    for f in &meta.finalizers {
        errs.extend(validate_finalizer_name(f, &fin_path));
    }
    errs
}

/// Kubernetes `ValidateObjectMetaUpdate`: name, namespace, uid and creationTimestamp may not
/// change. An empty uid or absent creationTimestamp in the new object is not a change (the API
/// server copies them from the stored object).
pub fn validate_object_meta_update(
    new: &ObjectMeta,
    old: &ObjectMeta,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if new.name != old.name {
        errs.push(FieldError::invalid(
            child(path, "name"),
            quote(&new.name),
            IMMUTABLE_ERROR,
        ));
    }
    if new.namespace != old.namespace {
        errs.push(FieldError::invalid(
            child(path, "namespace"),
            quote(&new.namespace),
            IMMUTABLE_ERROR,
        ));
    }
    if !new.uid.is_empty() && new.uid != old.uid {
        errs.push(FieldError::invalid(
            child(path, "uid"),
            quote(&new.uid),
            IMMUTABLE_ERROR,
        ));
    }
    if let Some(ts) = &new.creation_timestamp {
        if old
            .creation_timestamp
            .as_ref()
            .is_some_and(|old_ts| old_ts != ts)
        {
            errs.push(FieldError::invalid(
                child(path, "creationTimestamp"),
                quote(ts),
                IMMUTABLE_ERROR,
            ));
        }
    }
    errs
}

/// Kubernetes `ValidateLabels`: keys are qualified names, values valid label values; errors
/// are reported on the map's path.
pub fn validate_labels(labels: &BTreeMap<String, String>, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, v) in labels {
        errs.extend(invalid_each(path, k, is_qualified_name(k)));
        errs.extend(invalid_each(path, v, is_valid_label_value(v)));
    }
    errs
}

/// Kubernetes `ValidateAnnotations`: keys are qualified names (case-insensitive) and the total
/// size of keys and values is at most [`TOTAL_ANNOTATION_SIZE_LIMIT`].
pub fn validate_annotations(annotations: &BTreeMap<String, String>, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut total = 0usize;
    for (k, v) in annotations {
        errs.extend(invalid_each(path, k, is_qualified_name(&k.to_lowercase())));
        total += k.len() + v.len();
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
    errs
}

/// Kubernetes `ValidateFinalizerName`: a qualified name, and either a standard finalizer
/// (`kubernetes`, `orphan`, `foregroundDeletion`) or one with a domain prefix.
pub fn validate_finalizer_name(name: &str, path: &str) -> Vec<FieldError> {
    let errs = invalid_each(path, name, is_qualified_name(name));
    if !errs.is_empty() {
        return errs;
    }
    if !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
        return vec![FieldError::invalid(
            path,
            quote(name),
            "name is neither a standard finalizer name nor is it fully qualified",
        )];
    }
    Vec::new()
}

fn validate_owner_references(meta: &ObjectMeta, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut first_controller: Option<String> = None;
    for r in &meta.owner_references {
        let version = r.api_version.rsplit('/').next().unwrap_or("");
        if version.is_empty() {
            errs.push(FieldError::invalid(
                child(path, "apiVersion"),
                quote(&r.api_version),
                "version must not be empty",
            ));
        }
        for (field, value) in [("kind", &r.kind), ("name", &r.name), ("uid", &r.uid)] {
            if value.is_empty() {
                errs.push(FieldError::invalid(
                    child(path, field),
                    quote(value),
                    "must not be empty",
                ));
            }
        }
        if r.controller == Some(true) {
            let current = format!("{}/{}", r.kind, r.name);
            match &first_controller {
                Some(first) => errs.push(FieldError::invalid(
                    path,
                    go_owner_references(meta),
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"
                    ),
                )),
                None => first_controller = Some(current),
            }
        }
    }
    errs
}

fn go_owner_references(meta: &ObjectMeta) -> String {
    let items: Vec<String> = meta
        .owner_references
        .iter()
        .map(|r| {
            format!(
                "v1.OwnerReference{{APIVersion:{}, Kind:{}, Name:{}, UID:{}, Controller:{}, BlockOwnerDeletion:{}}}",
                quote(&r.api_version),
                quote(&r.kind),
                quote(&r.name),
                quote(&r.uid),
                go_bool_ptr(r.controller),
                go_bool_ptr(r.block_owner_deletion),
            )
        })
        .collect();
    format!("[]v1.OwnerReference{{{}}}", items.join(", "))
}

fn go_bool_ptr(v: Option<bool>) -> String {
    match v {
        None => "(*bool)(nil)".to_string(),
        Some(b) => format!("&{b}"),
    }
}

/// Kubernetes `ValidateLabelSelector`: valid operators and values, qualified keys, valid
/// `matchLabels`.
pub fn validate_label_selector(sel: &LabelSelector, path: &str) -> Vec<FieldError> {
    let mut errs = validate_labels(&sel.match_labels, &child(path, "matchLabels"));
    let exprs_path = child(path, "matchExpressions");
    for (i, req) in sel.match_expressions.iter().enumerate() {
        let p = super::index(&exprs_path, i);
        match req.operator.as_str() {
            "In" | "NotIn" => {
                if req.values.is_empty() {
                    errs.push(FieldError::required(
                        child(&p, "values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !req.values.is_empty() {
                    errs.push(FieldError::forbidden(
                        child(&p, "values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            other => errs.push(FieldError::invalid(
                child(&p, "operator"),
                quote(other),
                "not a valid selector operator",
            )),
        }
        errs.extend(invalid_each(
            &child(&p, "key"),
            &req.key,
            is_qualified_name(&req.key),
        ));
        for (vi, v) in req.values.iter().enumerate() {
            errs.extend(invalid_each(
                &super::index(&child(&p, "values"), vi),
                v,
                is_valid_label_value(v),
            ));
        }
    }
    errs
}

/// Whether `metav1.LabelSelectorAsSelector` would reject the selector.
pub(crate) fn selector_is_invalid(sel: &LabelSelector) -> bool {
    !validate_label_selector(sel, "").is_empty()
}

/// A label selector rendered as Go's `%#v` of a `metav1.LabelSelector`.
pub(crate) fn go_label_selector(sel: &LabelSelector) -> String {
    let exprs = if sel.match_expressions.is_empty() {
        "[]v1.LabelSelectorRequirement(nil)".to_string()
    } else {
        let items: Vec<String> = sel
            .match_expressions
            .iter()
            .map(|r| {
                format!(
                    "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                    quote(&r.key),
                    quote(&r.operator),
                    go_string_slice(&r.values)
                )
            })
            .collect();
        format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        go_string_map(&sel.match_labels),
        exprs
    )
}
