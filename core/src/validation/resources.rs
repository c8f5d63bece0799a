//! Validation of resource lists and requirements (`resources.limits`, `resources.requests`,
//! `overhead`), including the quantity syntax and `requests <= limits`.

use super::{child, is_qualified_name, key, quote, FieldError, NEGATIVE_ERROR};
use crate::api::ResourceRequirements;
use crate::quantity::{ParsedQuantity, Quantity};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A parsed quantity's value in units of 10^-9, rounded up and saturating at the bounds of
/// `i128`: exact enough to compare requests with limits of any realistic size.
fn nanos(p: &ParsedQuantity) -> i128 {
    let m = p.mantissa();
    if m == 0 {
        return 0;
    }
    let saturated = if m < 0 { i128::MIN } else { i128::MAX };
    let Some(v) = 2i128.checked_pow(p.exp2()).and_then(|f| m.checked_mul(f)) else {
        return saturated;
    };
    let e = p.exp10() + 9;
    if e >= 0 {
        u32::try_from(e)
            .ok()
            .and_then(|e| 10i128.checked_pow(e))
            .and_then(|f| v.checked_mul(f))
            .unwrap_or(saturated)
    } else {
        match u32::try_from(-e).ok().and_then(|e| 10i128.checked_pow(e)) {
            Some(d) => v.div_euclid(d) + i128::from(v.rem_euclid(d) != 0),
            None => i128::from(v > 0),
        }
    }
}

/// Compares two quantities by value; `None` when either does not parse.
fn quantity_cmp(a: &Quantity, b: &Quantity) -> Option<Ordering> {
    Some(nanos(&a.parse().ok()?).cmp(&nanos(&b.parse().ok()?)))
}

/// Native resources have no domain or a `kubernetes.io` one.
fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// Extended resources (`example.com/gpu`): not native and not quota-style `requests.*`.
fn is_extended(name: &str) -> bool {
    !is_native(name) && !name.starts_with("requests.")
}

/// Resources whose request may be below their limit.
fn is_overcommit_allowed(name: &str) -> bool {
    is_native(name) && !name.starts_with("hugepages-")
}

fn is_standard_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-")
}

fn validate_container_resource_name(name: &str, path: &str) -> Vec<FieldError> {
    let mut errs: Vec<FieldError> = is_qualified_name(name)
        .into_iter()
        .map(|m| FieldError::invalid(path, quote(name), m))
        .collect();
    if !name.contains('/') {
        if !is_standard_container_resource(name) {
            errs.push(FieldError::invalid(
                path,
                quote(name),
                "must be a standard resource for containers",
            ));
        }
    } else if !is_native(name) && !is_extended(name) {
        errs.push(FieldError::invalid(
            path,
            quote(name),
            "doesn't follow extended resource name standard",
        ));
    }
    errs
}

fn validate_quantity_value(name: &str, q: &Quantity, path: &str) -> Vec<FieldError> {
    let parsed = match q.parse() {
        Ok(p) => p,
        Err(e) => return vec![FieldError::invalid(path, quote(&q.0), e.to_string())],
    };
    let nanos = nanos(&parsed);
    if nanos < 0 {
        return vec![FieldError::invalid(path, quote(&q.0), NEGATIVE_ERROR)];
    }
    if is_extended(name) && nanos % 1_000_000_000 != 0 {
        return vec![FieldError::invalid(path, quote(&q.0), "must be an integer")];
    }
    Vec::new()
}

/// Kubernetes `ValidateResourceRequirements` for a container: names, quantities, and
/// `requests <= limits` (`==` for resources that cannot be overcommitted).
pub(crate) fn validate_resource_requirements(
    res: &ResourceRequirements,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let lim_path = child(path, "limits");
    let req_path = child(path, "requests");
    for (name, q) in &res.limits {
        let p = key(&lim_path, name);
        errs.extend(validate_container_resource_name(name, &p));
        errs.extend(validate_quantity_value(name, q, &p));
    }
    for (name, q) in &res.requests {
        let p = key(&req_path, name);
        errs.extend(validate_container_resource_name(name, &p));
        errs.extend(validate_quantity_value(name, q, &p));
        let Some(limit) = res.limits.get(name) else {
            continue;
        };
        match quantity_cmp(q, limit) {
            Some(Ordering::Equal) | None => {}
            Some(_) if !is_overcommit_allowed(name) => errs.push(FieldError::invalid(
                &req_path,
                quote(&q.0),
                format!("must be equal to {name} limit of {}", limit.0),
            )),
            Some(Ordering::Greater) => errs.push(FieldError::invalid(
                &req_path,
                quote(&q.0),
                format!("must be less than or equal to {name} limit of {}", limit.0),
            )),
            Some(Ordering::Less) => {}
        }
    }
    errs
}

/// Quantities of a plain resource list (`overhead`, node capacity): syntax and sign.
pub(crate) fn validate_resource_list(
    list: &BTreeMap<String, Quantity>,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (name, q) in list {
        let p = key(path, name);
        errs.extend(
            is_qualified_name(name)
                .into_iter()
                .map(|m| FieldError::invalid(&p, quote(name), m)),
        );
        errs.extend(validate_quantity_value(name, q, &p));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::{nanos, quantity_cmp};
    use crate::quantity::Quantity;
    use std::cmp::Ordering;

    #[test]
    fn quantity_nanos_and_order() {
        let cases: &[(&str, i128)] = &[
            ("1", 1_000_000_000),
            ("250m", 250_000_000),
            ("0.5", 500_000_000),
            ("1Ki", 1024 * 1_000_000_000),
            ("1.5Gi", 1_610_612_736 * 1_000_000_000),
            ("1e3", 1000 * 1_000_000_000),
            ("1E-3", 1_000_000),
            ("1n", 1),
            ("-1", -1_000_000_000),
            ("1E40", i128::MAX),
        ];
        for (s, want) in cases {
            let parsed = Quantity::from(*s).parse().expect(s);
            assert_eq!(nanos(&parsed), *want, "quantity {s:?}");
        }
        let cmp = |a: &str, b: &str| quantity_cmp(&Quantity::from(a), &Quantity::from(b));
        assert_eq!(cmp("2", "1"), Some(Ordering::Greater));
        assert_eq!(cmp("1000m", "1"), Some(Ordering::Equal));
        assert_eq!(cmp("1Gi", "1G"), Some(Ordering::Greater));
        assert_eq!(cmp("abc", "1"), None);
    }
}
