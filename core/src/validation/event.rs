//! Validation of core/v1 Events (`legacyValidateEvent`).

use super::meta::validate_object_meta;
use super::{dedup, name_is_dns_subdomain, quote, validate_object_meta_update, FieldError};
use crate::api::Event;

/// Kubernetes' core/v1 event rules: a name, an `involvedObject`, and an involved namespace that
/// matches the event's (when both are known).
pub fn validate_event(event: &Event) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&event.metadata, true, name_is_dns_subdomain, "metadata");
    let involved = &event.involved_object;
    if involved.kind.is_empty() && involved.name.is_empty() && involved.uid.is_empty() {
        errs.push(FieldError::required("involvedObject", ""));
    }
    let ns = &event.metadata.namespace;
    if !involved.namespace.is_empty() && !ns.is_empty() && involved.namespace != *ns {
        errs.push(FieldError::invalid(
            "involvedObject.namespace",
            quote(&involved.namespace),
            "does not match event.namespace",
        ));
    }
    errs
}

/// Event update: metadata immutability and the create rules (core/v1 events may change freely,
/// `count` and `lastTimestamp` above all).
pub fn validate_event_update(new: &Event, old: &Event) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
    errs.extend(validate_event(new));
    dedup(errs)
}
