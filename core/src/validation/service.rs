//! Validation of Services and Endpoints (`ValidateService`, `ValidateEndpoints`).

use super::meta::validate_object_meta;
use super::pod::{validate_port_num_or_name, PROTOCOLS};
use super::{
    check_enum, child, dedup, index, invalid_each, is_dns1123_label, is_dns1123_subdomain,
    name_is_dns1035_label, name_is_dns_subdomain, quote, validate_labels,
    validate_object_meta_update, validate_port_num, FieldError,
};
use crate::api::{Endpoints, IntOrString, Service, ServicePort, ServiceSpec};
use std::collections::BTreeSet;
use std::net::IpAddr;

const SERVICE_TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const IP_ERROR: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

fn is_headless(spec: &ServiceSpec) -> bool {
    spec.cluster_ip.as_deref() == Some("None")
}

/// Go's `%#v` of the `{protocol, port}` key Kubernetes uses for duplicate service ports.
fn go_service_port_key(p: &ServicePort) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
        quote(p.protocol.as_deref().unwrap_or("")),
        p.port
    )
}

/// Kubernetes `ValidateService`. Service names are DNS-1035 labels, as in Kubernetes.
pub fn validate_service(svc: &Service) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&svc.metadata, true, name_is_dns1035_label, "metadata");
    let default_spec = ServiceSpec::default();
    let spec = svc.spec.as_ref().unwrap_or(&default_spec);
    let ty = spec.type_.as_deref().unwrap_or("ClusterIP");

    if spec.ports.is_empty() && !is_headless(spec) && ty != "ExternalName" {
        errs.push(FieldError::required("spec.ports", ""));
    }
    if ty == "ExternalName" {
        if !spec.cluster_ips.is_empty() {
            errs.push(FieldError::forbidden(
                "spec.clusterIPs",
                "may not be set for ExternalName services",
            ));
        }
        let raw = spec.external_name.as_deref().unwrap_or("");
        let cname = raw.strip_suffix('.').unwrap_or(raw);
        if cname.is_empty() {
            errs.push(FieldError::required("spec.externalName", ""));
        } else {
            errs.extend(invalid_each(
                "spec.externalName",
                cname,
                is_dns1123_subdomain(cname),
            ));
        }
    }
    let many = spec.ports.len() > 1;
    let mut names = BTreeSet::new();
    for (i, port) in spec.ports.iter().enumerate() {
        errs.extend(validate_service_port(
            port,
            many,
            &mut names,
            &index("spec.ports", i),
        ));
    }
    errs.extend(validate_labels(&spec.selector, "spec.selector"));
    errs.extend(check_enum(
        spec.session_affinity.as_deref(),
        &["ClientIP", "None"],
        "spec.sessionAffinity",
    ));
    let cluster_ips: Vec<&str> = if spec.cluster_ips.is_empty() {
        spec.cluster_ip
            .as_deref()
            .filter(|ip| !ip.is_empty())
            .into_iter()
            .collect()
    } else {
        spec.cluster_ips.iter().map(String::as_str).collect()
    };
    for (i, ip) in cluster_ips.iter().enumerate() {
        if (i > 0 || *ip != "None") && ip.parse::<IpAddr>().is_err() {
            errs.push(FieldError::invalid(
                index("spec.clusterIPs", i),
                quote(ip),
                IP_ERROR,
            ));
        }
    }
    for (i, ip) in spec.external_ips.iter().enumerate() {
        if ip.parse::<IpAddr>().is_err() {
            errs.push(FieldError::invalid(
                index("spec.externalIPs", i),
                quote(ip),
                IP_ERROR,
            ));
        }
    }
    errs.extend(check_enum(
        spec.type_.as_deref(),
        SERVICE_TYPES,
        "spec.type",
    ));
    if ty == "ClusterIP" {
        for (i, port) in spec.ports.iter().enumerate() {
            if port.node_port.unwrap_or(0) != 0 {
                errs.push(FieldError::forbidden(
                    child(&index("spec.ports", i), "nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut seen = BTreeSet::new();
    for (i, port) in spec.ports.iter().enumerate() {
        if !seen.insert((port.protocol.clone(), port.port)) {
            errs.push(FieldError::duplicate(
                index("spec.ports", i),
                go_service_port_key(port),
            ));
        }
    }
    if let Some(policy) = spec.external_traffic_policy.as_deref() {
        if ty != "NodePort" && ty != "LoadBalancer" {
            errs.push(FieldError::invalid(
                "spec.externalTrafficPolicy",
                quote(policy),
                "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
            ));
        } else {
            errs.extend(check_enum(
                Some(policy),
                &["Cluster", "Local"],
                "spec.externalTrafficPolicy",
            ));
        }
    }
    errs.extend(check_enum(
        spec.internal_traffic_policy.as_deref(),
        &["Cluster", "Local"],
        "spec.internalTrafficPolicy",
    ));
    errs.extend(check_enum(
        spec.ip_family_policy.as_deref(),
        &["PreferDualStack", "RequireDualStack", "SingleStack"],
        "spec.ipFamilyPolicy",
    ));
    for (i, family) in spec.ip_families.iter().enumerate() {
        errs.extend(check_enum(
            Some(family),
            &["IPv4", "IPv6"],
            &index("spec.ipFamilies", i),
        ));
    }
    errs
}

fn validate_service_port(
    port: &ServicePort,
    require_name: bool,
    names: &mut BTreeSet<String>,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = port.name.as_deref().unwrap_or("");
    let name_path = child(path, "name");
    if require_name && name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else if !name.is_empty() {
        errs.extend(invalid_each(&name_path, name, is_dns1123_label(name)));
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(&name_path, quote(name)));
        }
    }
    errs.extend(validate_port_num(
        i64::from(port.port),
        &child(path, "port"),
    ));
    errs.extend(check_enum(
        port.protocol.as_deref(),
        PROTOCOLS,
        &child(path, "protocol"),
    ));
    if let Some(tp) = &port.target_port {
        // An unset target port (0 or "") is defaulted to `port`; only a set one is checked.
        let unset = matches!(tp, IntOrString::Int(0))
            || matches!(tp, IntOrString::String(s) if s.is_empty());
        if !unset {
            errs.extend(validate_port_num_or_name(tp, &child(path, "targetPort")));
        }
    }
    if let Some(np) = port.node_port.filter(|&np| np != 0) {
        errs.extend(validate_port_num(i64::from(np), &child(path, "nodePort")));
    }
    errs
}

/// Kubernetes `ValidateServiceUpdate`: metadata immutability, the create rules, and a
/// primary cluster IP that does not change once set (unless the type moves to or from
/// `ExternalName`). An update that leaves the cluster IP out keeps the stored one.
pub fn validate_service_update(new: &Service, old: &Service) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
    let default_spec = ServiceSpec::default();
    let new_spec = new.spec.as_ref().unwrap_or(&default_spec);
    let old_spec = old.spec.as_ref().unwrap_or(&default_spec);
    let external = |s: &ServiceSpec| s.type_.as_deref() == Some("ExternalName");
    let primary = |s: &ServiceSpec| {
        s.cluster_ips
            .first()
            .cloned()
            .or_else(|| s.cluster_ip.clone())
            .filter(|ip| !ip.is_empty())
    };
    if !external(new_spec) && !external(old_spec) {
        if let (Some(new_ip), Some(old_ip)) = (primary(new_spec), primary(old_spec)) {
            if new_ip != old_ip {
                errs.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    quote(&new_ip),
                    "may not change once set",
                ));
            }
        }
    }
    errs.extend(validate_service(new));
    dedup(errs)
}

/// Kubernetes `ValidateEndpoints`: addresses have an IP, ports are valid and named when
/// there are several.
pub fn validate_endpoints(ep: &Endpoints) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&ep.metadata, true, name_is_dns_subdomain, "metadata");
    for (i, subset) in ep.subsets.iter().enumerate() {
        let sp = index("subsets", i);
        if subset.addresses.is_empty() && subset.not_ready_addresses.is_empty() {
            errs.push(FieldError::required(
                &sp,
                "must specify `addresses` or `notReadyAddresses`",
            ));
        }
        for (field, addresses) in [
            ("addresses", &subset.addresses),
            ("notReadyAddresses", &subset.not_ready_addresses),
        ] {
            for (ai, a) in addresses.iter().enumerate() {
                let ap = index(&child(&sp, field), ai);
                if a.ip.parse::<IpAddr>().is_err() {
                    errs.push(FieldError::invalid(
                        child(&ap, "ip"),
                        quote(&a.ip),
                        IP_ERROR,
                    ));
                }
                if let Some(h) = a.hostname.as_deref().filter(|h| !h.is_empty()) {
                    errs.extend(invalid_each(
                        &child(&ap, "hostname"),
                        h,
                        is_dns1123_label(h),
                    ));
                }
                if let Some(n) = a.node_name.as_deref().filter(|n| !n.is_empty()) {
                    errs.extend(invalid_each(
                        &child(&ap, "nodeName"),
                        n,
                        name_is_dns_subdomain(n, false),
                    ));
                }
            }
        }
        let many = subset.ports.len() > 1;
        for (pi, port) in subset.ports.iter().enumerate() {
            let pp = index(&child(&sp, "ports"), pi);
            let name = port.name.as_deref().unwrap_or("");
            if many && name.is_empty() {
                errs.push(FieldError::required(child(&pp, "name"), ""));
            } else if !name.is_empty() {
                errs.extend(invalid_each(
                    &child(&pp, "name"),
                    name,
                    is_dns1123_label(name),
                ));
            }
            errs.extend(validate_port_num(i64::from(port.port), &child(&pp, "port")));
            errs.extend(check_enum(
                port.protocol.as_deref(),
                PROTOCOLS,
                &child(&pp, "protocol"),
            ));
        }
    }
    errs
}

/// Endpoints update: metadata immutability and the create rules.
pub fn validate_endpoints_update(new: &Endpoints, old: &Endpoints) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
    errs.extend(validate_endpoints(new));
    dedup(errs)
}
