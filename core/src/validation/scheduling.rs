//! Validation of the scheduling parts of a pod spec: tolerations, node and pod (anti-)affinity,
//! topology spread constraints.

use super::meta::validate_label_selector;
use super::{
    check_enum, child, index, invalid_each, is_qualified_name, is_valid_label_value,
    name_is_dns_label, name_is_dns_subdomain, quote, FieldError, TAINT_EFFECTS,
};
use crate::api::{
    Affinity, NodeSelectorRequirement, NodeSelectorTerm, PodAffinityTerm, Toleration,
    TopologySpreadConstraint, WeightedPodAffinityTerm,
};

/// Kubernetes `ValidateTolerations`.
pub fn validate_tolerations(tolerations: &[Toleration], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, t) in tolerations.iter().enumerate() {
        let p = index(path, i);
        let key = t.key.as_deref().unwrap_or("");
        let operator = t.operator.as_deref().unwrap_or("");
        let value = t.value.as_deref().unwrap_or("");
        let effect = t.effect.as_deref().unwrap_or("");
        if !key.is_empty() {
            errs.extend(invalid_each(&child(&p, "key"), key, is_qualified_name(key)));
        }
        if key.is_empty() && operator != "Exists" {
            errs.push(FieldError::invalid(
                child(&p, "operator"),
                quote(operator),
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if t.toleration_seconds.is_some() && effect != "NoExecute" {
            errs.push(FieldError::invalid(
                child(&p, "effect"),
                quote(effect),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match operator {
            "Equal" | "" => {
                let msgs = is_valid_label_value(value);
                if !msgs.is_empty() {
                    errs.push(FieldError::invalid(
                        child(&p, "operator"),
                        quote(value),
                        msgs.join(";"),
                    ));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.push(FieldError::invalid(
                        child(&p, "operator"),
                        quote(value),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                child(&p, "operator"),
                quote(other),
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() && !TAINT_EFFECTS.contains(&effect) {
            errs.push(FieldError::not_supported(
                child(&p, "effect"),
                quote(effect),
                TAINT_EFFECTS,
            ));
        }
    }
    errs
}

/// Kubernetes `validateAffinity`.
pub(crate) fn validate_affinity(a: &Affinity, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(na) = &a.node_affinity {
        let p = child(path, "nodeAffinity");
        if let Some(req) = &na.required_during_scheduling_ignored_during_execution {
            let rp = child(&p, "requiredDuringSchedulingIgnoredDuringExecution");
            let terms_path = child(&rp, "nodeSelectorTerms");
            if req.node_selector_terms.is_empty() {
                errs.push(FieldError::required(
                    &terms_path,
                    "must have at least one node selector term",
                ));
            }
            for (i, term) in req.node_selector_terms.iter().enumerate() {
                errs.extend(validate_node_selector_term(term, &index(&terms_path, i)));
            }
        }
        let pp = child(&p, "preferredDuringSchedulingIgnoredDuringExecution");
        for (i, pref) in na
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .enumerate()
        {
            let ip = index(&pp, i);
            errs.extend(validate_weight(pref.weight, &child(&ip, "weight")));
            errs.extend(validate_node_selector_term(
                &pref.preference,
                &child(&ip, "preference"),
            ));
        }
    }
    let pod_rules = [
        (
            "podAffinity",
            a.pod_affinity.as_ref().map(|x| {
                (
                    &x.required_during_scheduling_ignored_during_execution,
                    &x.preferred_during_scheduling_ignored_during_execution,
                )
            }),
        ),
        (
            "podAntiAffinity",
            a.pod_anti_affinity.as_ref().map(|x| {
                (
                    &x.required_during_scheduling_ignored_during_execution,
                    &x.preferred_during_scheduling_ignored_during_execution,
                )
            }),
        ),
    ];
    for (field, rules) in pod_rules {
        let Some((required, preferred)) = rules else {
            continue;
        };
        let p = child(path, field);
        let rp = child(&p, "requiredDuringSchedulingIgnoredDuringExecution");
        for (i, term) in required.iter().enumerate() {
            errs.extend(validate_pod_affinity_term(term, &index(&rp, i)));
        }
        let pp = child(&p, "preferredDuringSchedulingIgnoredDuringExecution");
        for (
            i,
            WeightedPodAffinityTerm {
                weight,
                pod_affinity_term,
            },
        ) in preferred.iter().enumerate()
        {
            let ip = index(&pp, i);
            errs.extend(validate_weight(*weight, &child(&ip, "weight")));
            errs.extend(validate_pod_affinity_term(
                pod_affinity_term,
                &child(&ip, "podAffinityTerm"),
            ));
        }
    }
    errs
}

fn validate_weight(weight: i32, path: &str) -> Vec<FieldError> {
    if (1..=100).contains(&weight) {
        Vec::new()
    } else {
        vec![FieldError::invalid(
            path,
            weight.to_string(),
            "must be in the range 1-100",
        )]
    }
}

fn validate_node_selector_term(term: &NodeSelectorTerm, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let ep = child(path, "matchExpressions");
    for (i, req) in term.match_expressions.iter().enumerate() {
        errs.extend(validate_node_selector_requirement(req, &index(&ep, i)));
    }
    let fp = child(path, "matchFields");
    for (i, req) in term.match_fields.iter().enumerate() {
        let p = index(&fp, i);
        match req.operator.as_str() {
            "In" | "NotIn" => {
                if req.values.len() != 1 {
                    errs.push(FieldError::required(
                        child(&p, "values"),
                        "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
                    ));
                }
            }
            other => errs.push(FieldError::invalid(
                child(&p, "operator"),
                quote(other),
                "not a valid selector operator",
            )),
        }
        if req.key != "metadata.name" {
            errs.push(FieldError::invalid(
                child(&p, "key"),
                quote(&req.key),
                "not a valid field selector key",
            ));
        } else {
            for (vi, v) in req.values.iter().enumerate() {
                errs.extend(invalid_each(
                    &index(&child(&p, "values"), vi),
                    v,
                    name_is_dns_subdomain(v, false),
                ));
            }
        }
    }
    errs
}

fn validate_node_selector_requirement(
    req: &NodeSelectorRequirement,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let values = child(path, "values");
    match req.operator.as_str() {
        "In" | "NotIn" if req.values.is_empty() => errs.push(FieldError::required(
            values,
            "must be specified when `operator` is 'In' or 'NotIn'",
        )),
        "Exists" | "DoesNotExist" if !req.values.is_empty() => errs.push(FieldError::forbidden(
            values,
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        )),
        "Gt" | "Lt" if req.values.len() != 1 => errs.push(FieldError::required(
            values,
            "must be specified single value when `operator` is 'Lt' or 'Gt'",
        )),
        "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" => {}
        other => errs.push(FieldError::invalid(
            child(path, "operator"),
            quote(other),
            "not a valid selector operator",
        )),
    }
    errs.extend(invalid_each(
        &child(path, "key"),
        &req.key,
        is_qualified_name(&req.key),
    ));
    errs
}

fn validate_pod_affinity_term(term: &PodAffinityTerm, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(sel) = &term.label_selector {
        errs.extend(validate_label_selector(sel, &child(path, "labelSelector")));
    }
    if let Some(sel) = &term.namespace_selector {
        errs.extend(validate_label_selector(
            sel,
            &child(path, "namespaceSelector"),
        ));
    }
    for ns in &term.namespaces {
        // Kubernetes reports these on `namespace`, singular.
        errs.extend(invalid_each(
            &child(path, "namespace"),
            ns,
            name_is_dns_label(ns, false),
        ));
    }
    let tk = child(path, "topologyKey");
    if term.topology_key.is_empty() {
        errs.push(FieldError::required(&tk, "can not be empty"));
    } else {
        errs.extend(invalid_each(
            &tk,
            &term.topology_key,
            is_qualified_name(&term.topology_key),
        ));
    }
    errs
}

/// Kubernetes `validateTopologySpreadConstraints`.
pub(crate) fn validate_topology_spread_constraints(
    constraints: &[TopologySpreadConstraint],
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, c) in constraints.iter().enumerate() {
        let p = index(path, i);
        if c.max_skew <= 0 {
            errs.push(FieldError::invalid(
                child(&p, "maxSkew"),
                c.max_skew.to_string(),
                "must be greater than zero",
            ));
        }
        if c.topology_key.is_empty() {
            errs.push(FieldError::required(
                child(&p, "topologyKey"),
                "can not be empty",
            ));
        }
        let actions = ["DoNotSchedule", "ScheduleAnyway"];
        if !actions.contains(&c.when_unsatisfiable.as_str()) {
            errs.push(FieldError::not_supported(
                child(&p, "whenUnsatisfiable"),
                quote(&c.when_unsatisfiable),
                &actions,
            ));
        }
        let repeated = constraints[i + 1..].iter().any(|o| {
            o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable
        });
        if repeated {
            errs.push(FieldError::duplicate(
                child(&p, "{topologyKey, whenUnsatisfiable}"),
                quote(&format!("{{{}, {}}}", c.topology_key, c.when_unsatisfiable)),
            ));
        }
        if let Some(min) = c.min_domains {
            let mp = child(&p, "minDomains");
            if min <= 0 {
                errs.push(FieldError::invalid(
                    &mp,
                    min.to_string(),
                    "must be greater than 0",
                ));
            }
            if c.when_unsatisfiable != "DoNotSchedule" {
                errs.push(FieldError::invalid(
                    &mp,
                    min.to_string(),
                    format!(
                        "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {}",
                        c.when_unsatisfiable
                    ),
                ));
            }
        }
        for (field, value) in [
            ("nodeAffinityPolicy", &c.node_affinity_policy),
            ("nodeTaintsPolicy", &c.node_taints_policy),
        ] {
            errs.extend(check_enum(
                value.as_deref(),
                &["Honor", "Ignore"],
                &child(&p, field),
            ));
        }
        if let Some(sel) = &c.label_selector {
            errs.extend(validate_label_selector(sel, &child(&p, "labelSelector")));
        }
    }
    errs
}
