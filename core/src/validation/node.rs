//! Validation of Nodes (`ValidateNode`, `ValidateNodeUpdate`).

use super::meta::validate_object_meta;
use super::{
    child, dedup, index, invalid_each, is_qualified_name, is_valid_label_value,
    name_is_dns_subdomain, quote, validate_object_meta_update, FieldError, TAINT_EFFECTS,
};
use crate::api::{Node, NodeSpec};
use std::collections::BTreeSet;

/// Kubernetes `ValidateNode`: the name (DNS subdomain) and the taints.
pub fn validate_node(node: &Node) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&node.metadata, false, name_is_dns_subdomain, "metadata");
    if let Some(spec) = &node.spec {
        let mut seen = BTreeSet::new();
        for (i, taint) in spec.taints.iter().enumerate() {
            let p = index("spec.taints", i);
            errs.extend(invalid_each(
                &child(&p, "key"),
                &taint.key,
                is_qualified_name(&taint.key),
            ));
            if let Some(v) = &taint.value {
                errs.extend(invalid_each(
                    &child(&p, "value"),
                    v,
                    is_valid_label_value(v),
                ));
            }
            if taint.effect.is_empty() {
                errs.push(FieldError::required(child(&p, "effect"), ""));
            } else if !TAINT_EFFECTS.contains(&taint.effect.as_str()) {
                errs.push(FieldError::not_supported(
                    child(&p, "effect"),
                    quote(&taint.effect),
                    TAINT_EFFECTS,
                ));
            }
            if !seen.insert((taint.key.as_str(), taint.effect.as_str())) {
                let mut dup = FieldError::duplicate(
                    &p,
                    format!("{}:{}", quote(&taint.key), quote(&taint.effect)),
                );
                dup.detail = "taints must be unique by key and effect pair".to_string();
                errs.push(dup);
            }
        }
    }
    errs
}

/// Kubernetes `ValidateNodeUpdate`: metadata immutability, the create rules, and `podCIDR`s
/// and `providerID` that may only go from unset to set.
pub fn validate_node_update(new: &Node, old: &Node) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
    errs.extend(validate_node(new));
    let default_spec = NodeSpec::default();
    let new_spec = new.spec.as_ref().unwrap_or(&default_spec);
    let old_spec = old.spec.as_ref().unwrap_or(&default_spec);
    let cidrs = |s: &NodeSpec| {
        if s.pod_cidrs.is_empty() {
            s.pod_cidr
                .iter()
                .filter(|c| !c.is_empty())
                .cloned()
                .collect()
        } else {
            s.pod_cidrs.clone()
        }
    };
    let old_cidrs: Vec<String> = cidrs(old_spec);
    if !old_cidrs.is_empty() && cidrs(new_spec) != old_cidrs {
        errs.push(FieldError::forbidden(
            "spec.podCIDRs",
            "node updates may not change podCIDR except from \"\" to valid",
        ));
    }
    let old_provider = old_spec.provider_id.as_deref().unwrap_or("");
    if !old_provider.is_empty() && new_spec.provider_id.as_deref().unwrap_or("") != old_provider {
        errs.push(FieldError::forbidden(
            "spec.providerID",
            "node updates may not change providerID except from \"\" to valid",
        ));
    }
    dedup(errs)
}
