//! Validation of Namespaces (`ValidateNamespace`, `ValidateNamespaceUpdate`).

use super::meta::{validate_finalizer_name, validate_object_meta};
use super::{dedup, name_is_dns_label, validate_object_meta_update, FieldError};
use crate::api::Namespace;

/// Kubernetes `ValidateNamespace`: a DNS-label name and valid finalizer names.
pub fn validate_namespace(ns: &Namespace) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&ns.metadata, false, name_is_dns_label, "metadata");
    if let Some(spec) = &ns.spec {
        for f in &spec.finalizers {
            errs.extend(validate_finalizer_name(f, "spec.finalizers"));
        }
    }
    errs
}

/// Namespace update: metadata immutability and the create rules.
pub fn validate_namespace_update(new: &Namespace, old: &Namespace) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
    errs.extend(validate_namespace(new));
    dedup(errs)
}
