//! Validation of pods, pod specs and pod templates (`ValidatePodCreate`, `ValidatePodSpec`,
//! `ValidatePodUpdate` in Kubernetes' `pkg/apis/core/validation`).

use super::meta::{validate_annotations, validate_labels, validate_object_meta};
use super::resources::{validate_resource_list, validate_resource_requirements};
use super::scheduling::{validate_affinity, validate_topology_spread_constraints};
use super::{
    check_enum, child, dedup, inclusive_range_error, index, invalid_each, is_dns1123_label,
    is_qualified_name, is_valid_port_name, name_is_dns_label, name_is_dns_subdomain, quote,
    validate_nonnegative, validate_object_meta_update, validate_port_num, validate_tolerations,
    FieldError, NEGATIVE_ERROR,
};
use crate::api::{
    Container, ContainerPort, EnvVar, IntOrString, Pod, PodSpec, PodTemplateSpec, Probe,
    Toleration, Volume, VolumeMount,
};
use std::collections::BTreeSet;

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const TERMINATION_MESSAGE_POLICIES: &[&str] = &["File", "FallbackToLogsOnError"];
/// Supported port protocols, sorted as Kubernetes lists them.
pub(crate) const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];
const ENV_RESOURCES: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];
/// The fields a pod update may change, as Kubernetes words them.
const UPDATABLE_POD_FIELDS: &[&str] = &[
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
];

/// Kubernetes `ValidatePodCreate` (metadata and spec).
pub fn validate_pod(pod: &Pod) -> Vec<FieldError> {
    let default_spec = PodSpec::default();
    let spec = pod.spec.as_ref().unwrap_or(&default_spec);
    let mut errs = validate_object_meta(&pod.metadata, true, name_is_dns_subdomain, "metadata");
    errs.extend(validate_pod_spec(spec, "spec"));
    errs.extend(validate_containers_only_for_pod(
        &spec.containers,
        "spec.containers",
    ));
    errs.extend(validate_containers_only_for_pod(
        &spec.init_containers,
        "spec.initContainers",
    ));
    errs
}

fn validate_containers_only_for_pod(containers: &[Container], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, c) in containers.iter().enumerate() {
        let image = c.image.as_deref().unwrap_or("");
        if image.len() != image.trim().len() {
            errs.push(FieldError::invalid(
                child(&index(path, i), "image"),
                quote(image),
                "must not have leading or trailing whitespace",
            ));
        }
    }
    errs
}

/// Kubernetes `ValidatePodTemplateSpec`: labels (at `<path>.labels`), annotations and the pod
/// spec (at `<path>.spec`).
pub fn validate_pod_template_spec(t: &PodTemplateSpec, path: &str) -> Vec<FieldError> {
    let default_spec = PodSpec::default();
    let spec = t.spec.as_ref().unwrap_or(&default_spec);
    let mut errs = validate_labels(&t.metadata.labels, &child(path, "labels"));
    errs.extend(validate_annotations(
        &t.metadata.annotations,
        &child(path, "annotations"),
    ));
    errs.extend(validate_pod_spec(spec, &child(path, "spec")));
    errs
}

/// Kubernetes `ValidatePodSpec`, with every path under `path` (`spec`,
/// `spec.template.spec`).
pub fn validate_pod_spec(spec: &PodSpec, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let volumes = validate_volumes(&spec.volumes, &child(path, "volumes"), &mut errs);
    errs.extend(validate_containers(
        &spec.containers,
        &volumes,
        &child(path, "containers"),
    ));
    errs.extend(validate_init_containers(
        &spec.init_containers,
        &spec.containers,
        &volumes,
        &child(path, "initContainers"),
    ));
    errs.extend(check_enum(
        spec.restart_policy.as_deref(),
        RESTART_POLICIES,
        &child(path, "restartPolicy"),
    ));
    errs.extend(check_enum(
        spec.dns_policy.as_deref(),
        DNS_POLICIES,
        &child(path, "dnsPolicy"),
    ));
    errs.extend(validate_labels(
        &spec.node_selector,
        &child(path, "nodeSelector"),
    ));
    if let Some(affinity) = &spec.affinity {
        errs.extend(validate_affinity(affinity, &child(path, "affinity")));
    }
    errs.extend(validate_topology_spread_constraints(
        &spec.topology_spread_constraints,
        &child(path, "topologySpreadConstraints"),
    ));
    for (field, value, rule) in [
        (
            "serviceAccountName",
            &spec.service_account_name,
            name_is_dns_subdomain as super::NameRule,
        ),
        ("nodeName", &spec.node_name, name_is_dns_subdomain),
        ("hostname", &spec.hostname, name_is_dns_label),
        ("subdomain", &spec.subdomain, name_is_dns_label),
        (
            "priorityClassName",
            &spec.priority_class_name,
            name_is_dns_subdomain,
        ),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            errs.extend(invalid_each(&child(path, field), v, rule(v, false)));
        }
    }
    if let Some(ads) = spec.active_deadline_seconds {
        if ads < 1 || ads > i64::from(i32::MAX) {
            errs.push(FieldError::invalid(
                child(path, "activeDeadlineSeconds"),
                ads.to_string(),
                inclusive_range_error(1, i64::from(i32::MAX)),
            ));
        }
    }
    if let Some(grace) = spec.termination_grace_period_seconds {
        errs.extend(validate_nonnegative(
            grace,
            &child(path, "terminationGracePeriodSeconds"),
        ));
    }
    errs.extend(validate_tolerations(
        &spec.tolerations,
        &child(path, "tolerations"),
    ));
    errs.extend(check_enum(
        spec.preemption_policy.as_deref(),
        &["PreemptLowerPriority", "Never"],
        &child(path, "preemptionPolicy"),
    ));
    errs.extend(validate_resource_list(
        &spec.overhead,
        &child(path, "overhead"),
    ));
    errs
}

/// Volumes: exactly one source, DNS-label names, unique. Returns the volume names.
fn validate_volumes<'a>(
    volumes: &'a [Volume],
    path: &str,
    errs: &mut Vec<FieldError>,
) -> BTreeSet<&'a str> {
    let mut names = BTreeSet::new();
    for (i, v) in volumes.iter().enumerate() {
        let p = index(path, i);
        let sources = [
            ("emptyDir", v.empty_dir.is_some()),
            ("hostPath", v.host_path.is_some()),
            ("configMap", v.config_map.is_some()),
            ("secret", v.secret.is_some()),
            ("persistentVolumeClaim", v.persistent_volume_claim.is_some()),
            ("projected", v.projected.is_some()),
            ("downwardAPI", v.downward_api.is_some()),
            ("nfs", v.nfs.is_some()),
            ("csi", v.csi.is_some()),
            ("ephemeral", v.ephemeral.is_some()),
            ("image", v.image.is_some()),
        ];
        let mut count = 0;
        for (source, set) in sources {
            if !set {
                continue;
            }
            if count > 0 {
                errs.push(FieldError::forbidden(
                    child(&p, source),
                    "may not specify more than 1 volume type",
                ));
            } else {
                count += 1;
            }
        }
        if count == 0 {
            errs.push(FieldError::required(&p, "must specify a volume type"));
        }
        let name_path = child(&p, "name");
        if v.name.is_empty() {
            errs.push(FieldError::required(&name_path, ""));
        } else {
            errs.extend(invalid_each(&name_path, &v.name, is_dns1123_label(&v.name)));
        }
        if !names.insert(v.name.as_str()) {
            errs.push(FieldError::duplicate(&name_path, quote(&v.name)));
        }
    }
    names
}

/// Regular containers: at least one, unique names, probes, no `restartPolicy`.
fn validate_containers(
    containers: &[Container],
    volumes: &BTreeSet<&str>,
    path: &str,
) -> Vec<FieldError> {
    if containers.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let mut errs = Vec::new();
    let mut names = BTreeSet::new();
    for (i, c) in containers.iter().enumerate() {
        let p = index(path, i);
        errs.extend(validate_container_common(c, volumes, &p));
        if !names.insert(c.name.as_str()) {
            errs.push(FieldError::duplicate(child(&p, "name"), quote(&c.name)));
        }
        errs.extend(validate_container_probes(c, &p));
        if c.restart_policy.is_some() {
            errs.push(FieldError::forbidden(
                child(&p, "restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    errs.extend(check_host_port_conflicts(containers, path, 0));
    errs
}

/// Init containers: names unique across init and regular containers, `restartPolicy` only
/// `Always` (sidecars), probes and lifecycle only on sidecars.
fn validate_init_containers(
    containers: &[Container],
    regular: &[Container],
    volumes: &BTreeSet<&str>,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names: BTreeSet<&str> = regular.iter().map(|c| c.name.as_str()).collect();
    for (i, c) in containers.iter().enumerate() {
        let p = index(path, i);
        errs.extend(validate_container_common(c, volumes, &p));
        let mut sidecar = false;
        if let Some(rp) = c.restart_policy.as_deref() {
            if rp == "Always" {
                sidecar = true;
            } else {
                errs.push(FieldError::not_supported(
                    child(&p, "restartPolicy"),
                    quote(rp),
                    &["Always"],
                ));
            }
        }
        if names.contains(c.name.as_str()) {
            errs.push(FieldError::duplicate(child(&p, "name"), quote(&c.name)));
        } else if !c.name.is_empty() {
            names.insert(c.name.as_str());
        }
        errs.extend(check_host_port_conflicts(std::slice::from_ref(c), path, i));
        if sidecar {
            errs.extend(validate_container_probes(c, &p));
        } else {
            for (field, set) in [
                ("lifecycle", c.lifecycle.is_some()),
                ("livenessProbe", c.liveness_probe.is_some()),
                ("readinessProbe", c.readiness_probe.is_some()),
                ("startupProbe", c.startup_probe.is_some()),
            ] {
                if set {
                    errs.push(FieldError::forbidden(
                        child(&p, field),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
    }
    errs
}

/// Kubernetes `validateContainerCommon`.
fn validate_container_common(
    c: &Container,
    volumes: &BTreeSet<&str>,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name_path = child(path, "name");
    if c.name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else {
        errs.extend(invalid_each(&name_path, &c.name, is_dns1123_label(&c.name)));
    }
    if c.image.as_deref().unwrap_or("").is_empty() {
        errs.push(FieldError::required(child(path, "image"), ""));
    }
    errs.extend(check_enum(
        c.termination_message_policy.as_deref(),
        TERMINATION_MESSAGE_POLICIES,
        &child(path, "terminationMessagePolicy"),
    ));
    errs.extend(validate_container_ports(&c.ports, &child(path, "ports")));
    errs.extend(validate_env(&c.env, &child(path, "env")));
    errs.extend(validate_volume_mounts(
        &c.volume_mounts,
        volumes,
        &child(path, "volumeMounts"),
    ));
    errs.extend(check_enum(
        c.image_pull_policy.as_deref(),
        PULL_POLICIES,
        &child(path, "imagePullPolicy"),
    ));
    if let Some(res) = &c.resources {
        errs.extend(validate_resource_requirements(
            res,
            &child(path, "resources"),
        ));
    }
    errs
}

fn validate_container_probes(c: &Container, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (field, probe) in [
        ("livenessProbe", &c.liveness_probe),
        ("startupProbe", &c.startup_probe),
    ] {
        if let Some(probe) = probe {
            let p = child(path, field);
            errs.extend(validate_probe(probe, &p));
            if let Some(s) = probe.success_threshold.filter(|&s| s != 1) {
                errs.push(FieldError::invalid(
                    child(&p, "successThreshold"),
                    s.to_string(),
                    "must be 1",
                ));
            }
        }
    }
    if let Some(probe) = &c.readiness_probe {
        let p = child(path, "readinessProbe");
        errs.extend(validate_probe(probe, &p));
        if let Some(g) = probe.termination_grace_period_seconds {
            errs.push(FieldError::invalid(
                child(&p, "terminationGracePeriodSeconds"),
                g.to_string(),
                "must not be set for readinessProbes",
            ));
        }
    }
    errs
}

/// Kubernetes `validateProbe`: exactly one handler, non-negative timings, thresholds >= 1.
fn validate_probe(probe: &Probe, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut handlers = 0;
    let mut handler = |name: &str, set: bool, errs: &mut Vec<FieldError>| -> bool {
        if !set {
            return false;
        }
        if handlers > 0 {
            errs.push(FieldError::forbidden(
                child(path, name),
                "may not specify more than 1 handler type",
            ));
            return false;
        }
        handlers += 1;
        true
    };
    if handler("exec", probe.exec.is_some(), &mut errs) {
        if let Some(exec) = &probe.exec {
            if exec.command.is_empty() {
                errs.push(FieldError::required(child(path, "exec.command"), ""));
            }
        }
    }
    if handler("httpGet", probe.http_get.is_some(), &mut errs) {
        if let Some(h) = &probe.http_get {
            let p = child(path, "httpGet");
            if h.path.as_deref() == Some("") {
                errs.push(FieldError::required(child(&p, "path"), ""));
            }
            errs.extend(validate_port_num_or_name(&h.port, &child(&p, "port")));
            if let Some(scheme) = h.scheme.as_deref() {
                if scheme != "HTTP" && scheme != "HTTPS" {
                    errs.push(FieldError::not_supported(
                        child(&p, "scheme"),
                        quote(scheme),
                        &["HTTP", "HTTPS"],
                    ));
                }
            }
            for header in &h.http_headers {
                let ok = !header.name.is_empty()
                    && header
                        .name
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'-');
                if !ok {
                    errs.push(FieldError::invalid(
                        child(&p, "httpHeaders"),
                        quote(&header.name),
                        "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')",
                    ));
                }
            }
        }
    }
    if handler("tcpSocket", probe.tcp_socket.is_some(), &mut errs) {
        if let Some(t) = &probe.tcp_socket {
            errs.extend(validate_port_num_or_name(
                &t.port,
                &child(path, "tcpSocket.port"),
            ));
        }
    }
    if handler("grpc", probe.grpc.is_some(), &mut errs) {
        if let Some(g) = &probe.grpc {
            errs.extend(validate_port_num(
                i64::from(g.port),
                &child(path, "grpc.port"),
            ));
        }
    }
    if handlers == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
    if let Some(d) = probe.initial_delay_seconds {
        errs.extend(validate_nonnegative(
            i64::from(d),
            &child(path, "initialDelaySeconds"),
        ));
    }
    for (field, value) in [
        ("timeoutSeconds", probe.timeout_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ] {
        match value {
            Some(v) if v < 0 => errs.push(FieldError::invalid(
                child(path, field),
                v.to_string(),
                NEGATIVE_ERROR,
            )),
            Some(0) => errs.push(FieldError::invalid(
                child(path, field),
                "0",
                "must be greater than or equal to 1",
            )),
            _ => {}
        }
    }
    if let Some(g) = probe.termination_grace_period_seconds.filter(|&g| g <= 0) {
        errs.push(FieldError::invalid(
            child(path, "terminationGracePeriodSeconds"),
            g.to_string(),
            "must be greater than 0",
        ));
    }
    errs
}

/// Kubernetes `ValidatePortNumOrName`.
pub(crate) fn validate_port_num_or_name(port: &IntOrString, path: &str) -> Vec<FieldError> {
    match port {
        IntOrString::Int(n) => validate_port_num(i64::from(*n), path),
        IntOrString::String(s) => invalid_each(path, s, is_valid_port_name(s)),
    }
}

/// Kubernetes `validateContainerPorts`.
fn validate_container_ports(ports: &[ContainerPort], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = index(path, i);
        if let Some(name) = port.name.as_deref().filter(|n| !n.is_empty()) {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                errs.extend(invalid_each(&child(&p, "name"), name, msgs));
            } else if !names.insert(name) {
                errs.push(FieldError::duplicate(child(&p, "name"), quote(name)));
            }
        }
        if port.container_port == 0 {
            errs.push(FieldError::required(child(&p, "containerPort"), ""));
        } else {
            errs.extend(validate_port_num(
                i64::from(port.container_port),
                &child(&p, "containerPort"),
            ));
        }
        if let Some(hp) = port.host_port.filter(|&hp| hp != 0) {
            errs.extend(validate_port_num(i64::from(hp), &child(&p, "hostPort")));
        }
        errs.extend(check_enum(
            port.protocol.as_deref(),
            PROTOCOLS,
            &child(&p, "protocol"),
        ));
    }
    errs
}

/// Kubernetes `AccumulateUniqueHostPorts`: a protocol/hostIP/hostPort is used once.
/// `first_index` is the index of `containers[0]` in its list.
fn check_host_port_conflicts(
    containers: &[Container],
    path: &str,
    first_index: usize,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut seen = BTreeSet::new();
    for (ci, c) in containers.iter().enumerate() {
        for (pi, port) in c.ports.iter().enumerate() {
            let Some(hp) = port.host_port.filter(|&hp| hp != 0) else {
                continue;
            };
            let key = format!(
                "{}/{}/{}",
                port.protocol.as_deref().unwrap_or(""),
                port.host_ip.as_deref().unwrap_or(""),
                hp
            );
            if !seen.insert(key.clone()) {
                let p = index(&child(&index(path, first_index + ci), "ports"), pi);
                errs.push(FieldError::duplicate(child(&p, "hostPort"), quote(&key)));
            }
        }
    }
    errs
}

/// Kubernetes `ValidateEnv` (with relaxed environment variable names).
fn validate_env(env: &[EnvVar], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, e) in env.iter().enumerate() {
        let p = index(path, i);
        if e.name.is_empty() {
            errs.push(FieldError::required(child(&p, "name"), ""));
        } else if e
            .name
            .chars()
            .any(|c| !(' '..='~').contains(&c) || c == '=')
        {
            errs.push(FieldError::invalid(
                child(&p, "name"),
                quote(&e.name),
                "a valid environment variable name must consist only of printable ASCII characters other than '='",
            ));
        }
        let Some(from) = &e.value_from else { continue };
        let from_path = child(&p, "valueFrom");
        let mut sources = 0;
        if let Some(f) = &from.field_ref {
            sources += 1;
            let fp = child(&from_path, "fieldRef");
            if f.api_version.as_deref() == Some("") {
                errs.push(FieldError::required(child(&fp, "apiVersion"), ""));
            } else if f.field_path.is_empty() {
                errs.push(FieldError::required(child(&fp, "fieldPath"), ""));
            } else if !valid_env_field_path(&f.field_path) {
                errs.push(FieldError::not_supported(
                    child(&fp, "fieldPath"),
                    quote(&f.field_path),
                    ENV_FIELD_PATHS,
                ));
            }
        }
        if let Some(r) = &from.resource_field_ref {
            sources += 1;
            let rp = child(&from_path, "resourceFieldRef");
            if r.resource.is_empty() {
                errs.push(FieldError::required(child(&rp, "resource"), ""));
            } else if !ENV_RESOURCES.contains(&r.resource.as_str())
                && !r.resource.starts_with("limits.hugepages-")
                && !r.resource.starts_with("requests.hugepages-")
            {
                errs.push(FieldError::not_supported(
                    child(&rp, "resource"),
                    quote(&r.resource),
                    ENV_RESOURCES,
                ));
            }
        }
        sources += usize::from(from.config_map_key_ref.is_some())
            + usize::from(from.secret_key_ref.is_some());
        if sources == 0 {
            errs.push(FieldError::invalid(
                &from_path,
                "\"\"",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ));
        } else if !e.value.as_deref().unwrap_or("").is_empty() {
            errs.push(FieldError::invalid(
                &from_path,
                "\"\"",
                "may not be specified when `value` is not empty",
            ));
        } else if sources > 1 {
            errs.push(FieldError::invalid(
                &from_path,
                "\"\"",
                "may not have more than one field specified at a time",
            ));
        }
    }
    errs
}

fn valid_env_field_path(path: &str) -> bool {
    if ENV_FIELD_PATHS.contains(&path) {
        return true;
    }
    ["metadata.labels['", "metadata.annotations['"]
        .iter()
        .any(|prefix| {
            path.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix("']"))
                .is_some_and(|k| is_qualified_name(k).is_empty())
        })
}

/// Kubernetes `ValidateVolumeMounts`: a known volume, a unique mount path.
fn validate_volume_mounts(
    mounts: &[VolumeMount],
    volumes: &BTreeSet<&str>,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut mount_points = BTreeSet::new();
    for (i, m) in mounts.iter().enumerate() {
        let p = index(path, i);
        if m.name.is_empty() {
            errs.push(FieldError::required(child(&p, "name"), ""));
        } else if !volumes.contains(m.name.as_str()) {
            // Kubernetes reports `Not found: "<name>"`, a kind FieldErrorKind lacks.
            errs.push(FieldError::invalid(
                child(&p, "name"),
                quote(&m.name),
                "not found: no volume of the pod has this name",
            ));
        }
        if m.mount_path.is_empty() {
            errs.push(FieldError::required(child(&p, "mountPath"), ""));
        }
        if !mount_points.insert(m.mount_path.as_str()) {
            errs.push(FieldError::invalid(
                child(&p, "mountPath"),
                quote(&m.mount_path),
                "must be unique",
            ));
        }
        errs.extend(check_enum(
            m.mount_propagation.as_deref(),
            &["Bidirectional", "HostToContainer", "None"],
            &child(&p, "mountPropagation"),
        ));
    }
    errs
}

/// Kubernetes `ValidatePodUpdate`: metadata immutability, the create rules, and a spec that
/// only changes in container images, `activeDeadlineSeconds` (set or lowered), tolerations
/// (additions) and a negative `terminationGracePeriodSeconds` raised to 1. Binding a pod
/// (`spec.nodeName`) is not an update: it goes through the binding subresource.
pub fn validate_pod_update(new: &Pod, old: &Pod) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
    errs.extend(validate_pod(new));
    let default_spec = PodSpec::default();
    let new_spec = new.spec.as_ref().unwrap_or(&default_spec);
    let old_spec = old.spec.as_ref().unwrap_or(&default_spec);

    let ads_path = "spec.activeDeadlineSeconds";
    match (
        new_spec.active_deadline_seconds,
        old_spec.active_deadline_seconds,
    ) {
        (Some(n), _) if n < 0 || n > i64::from(i32::MAX) => errs.push(FieldError::invalid(
            ads_path,
            n.to_string(),
            inclusive_range_error(0, i64::from(i32::MAX)),
        )),
        (Some(n), Some(o)) if o < n => errs.push(FieldError::invalid(
            ads_path,
            n.to_string(),
            "must be less than or equal to previous value",
        )),
        (None, Some(_)) => errs.push(FieldError::invalid(
            ads_path,
            "null",
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }
    errs.extend(validate_only_added_tolerations(
        &new_spec.tolerations,
        &old_spec.tolerations,
        "spec.tolerations",
    ));

    if new_spec != old_spec {
        let mut munged = new_spec.clone();
        for (c, old_c) in munged.containers.iter_mut().zip(&old_spec.containers) {
            c.image.clone_from(&old_c.image);
        }
        for (c, old_c) in munged
            .init_containers
            .iter_mut()
            .zip(&old_spec.init_containers)
        {
            c.image.clone_from(&old_c.image);
        }
        munged.active_deadline_seconds = old_spec.active_deadline_seconds;
        munged.tolerations.clone_from(&old_spec.tolerations);
        if old_spec
            .termination_grace_period_seconds
            .is_some_and(|g| g < 0)
            && new_spec.termination_grace_period_seconds == Some(1)
        {
            munged.termination_grace_period_seconds = old_spec.termination_grace_period_seconds;
        }
        if munged != *old_spec {
            errs.push(FieldError::forbidden(
                "spec",
                format!(
                    "pod updates may not change fields other than {}",
                    UPDATABLE_POD_FIELDS.join(",")
                ),
            ));
        }
    }
    dedup(errs)
}

/// Kubernetes `validateOnlyAddedTolerations`: every old toleration is still there (its
/// `tolerationSeconds` may change).
fn validate_only_added_tolerations(
    new: &[Toleration],
    old: &[Toleration],
    path: &str,
) -> Vec<FieldError> {
    for o in old {
        let found = new.iter().any(|n| {
            let mut o = o.clone();
            o.toleration_seconds = n.toleration_seconds;
            o == *n
        });
        if !found {
            return vec![FieldError::forbidden(
                path,
                "existing toleration can not be modified except its tolerationSeconds",
            )];
        }
    }
    Vec::new()
}
