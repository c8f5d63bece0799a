//! Kubernetes defaulting: fills the fields a client may leave out, the way the Kubernetes API
//! server does before validation (`SetDefaults_*` in `pkg/apis/*/v1/defaults.go`).
//!
//! Every function is idempotent and only fills what is unset; `metadata.namespace` is never
//! defaulted here (the API server takes it from the URL). [`crate::api::Object::apply_defaults`]
//! calls the `default_<kind>` function of each kind.

use crate::api::{
    Container, Deployment, DeploymentSpec, DeploymentStrategy, Endpoints, Event, IntOrString,
    Namespace, NamespaceSpec, NamespaceStatus, Node, NodeSpec, Object, Pod, PodSpec,
    PodTemplateSpec, Probe, ReplicaSet, ReplicaSetSpec, ResourceRequirements,
    RollingUpdateDeployment, Service, ServiceSpec, Volume,
};
use serde_json::Value;

/// The default `spec.terminationGracePeriodSeconds` of a pod.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;
/// The default `spec.schedulerName` of a pod.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// The default `terminationMessagePath` of a container.
pub const DEFAULT_TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";
/// The label every namespace carries with its own name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// The finalizer of the namespace controller.
pub const NAMESPACE_FINALIZER: &str = "kubernetes";
/// `defaultMode` of ConfigMap, Secret, projected and downward API volumes (0644).
const DEFAULT_VOLUME_MODE: i64 = 420;

fn set_type_meta<T: Object>(api_version: &mut String, kind: &mut String) {
    if api_version != T::API_VERSION {
        *api_version = T::API_VERSION.to_string();
    }
    if kind != T::KIND {
        *kind = T::KIND.to_string();
    }
}

fn or_default<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

fn or_str(slot: &mut Option<String>, value: &str) {
    if slot.as_deref().unwrap_or("").is_empty() {
        *slot = Some(value.to_string());
    }
}

/// `Always` for an image whose tag is `latest` or that has neither tag nor digest, else
/// `IfNotPresent` (Kubernetes `SetDefaults_Container`).
pub fn default_image_pull_policy(image: &str) -> &'static str {
    if image.is_empty() {
        return "IfNotPresent";
    }
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    let tag = last.split_once(':').map(|(_, tag)| tag);
    let tag = match (tag, digest) {
        (Some(tag), _) => tag,
        (None, Some(_)) => "",
        (None, None) => "latest",
    };
    if tag == "latest" {
        "Always"
    } else {
        "IfNotPresent"
    }
}

/// Defaults of a whole Pod: the pod spec defaults plus the pod-only ones (requests default to
/// limits, `enableServiceLinks`, host ports under `hostNetwork`).
pub fn default_pod(pod: &mut Pod) {
    set_type_meta::<Pod>(&mut pod.api_version, &mut pod.kind);
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    default_pod_spec(spec);
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut())
    {
        if let Some(res) = c.resources.as_mut() {
            default_requests_from_limits(res);
        }
    }
    or_default(&mut spec.enable_service_links, true);
    if spec.host_network == Some(true) {
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut())
        {
            for p in &mut c.ports {
                if p.host_port.unwrap_or(0) == 0 {
                    p.host_port = Some(p.container_port);
                }
            }
        }
    }
}

/// A resource with a limit but no request gets a request equal to the limit.
pub fn default_requests_from_limits(res: &mut ResourceRequirements) {
    for (name, limit) in &res.limits {
        if !res.requests.contains_key(name) {
            res.requests.insert(name.clone(), limit.clone());
        }
    }
}

/// Defaults of a pod spec, shared by pods and pod templates (`SetDefaults_PodSpec` and the
/// defaults of everything inside it).
pub fn default_pod_spec(spec: &mut PodSpec) {
    or_str(&mut spec.dns_policy, "ClusterFirst");
    or_str(&mut spec.restart_policy, "Always");
    or_default(
        &mut spec.security_context,
        Value::Object(Default::default()),
    );
    or_default(
        &mut spec.termination_grace_period_seconds,
        DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
    );
    or_str(&mut spec.scheduler_name, DEFAULT_SCHEDULER_NAME);
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut())
    {
        default_container(c);
    }
    for v in &mut spec.volumes {
        default_volume(v);
    }
    for t in &mut spec.tolerations {
        or_str(&mut t.operator, "Equal");
    }
}

/// Defaults of one container: pull policy, termination message, resources, port protocols,
/// probes and `fieldRef` API versions.
pub fn default_container(c: &mut Container) {
    if c.image_pull_policy.as_deref().unwrap_or("").is_empty() {
        let policy = default_image_pull_policy(c.image.as_deref().unwrap_or(""));
        c.image_pull_policy = Some(policy.to_string());
    }
    or_str(
        &mut c.termination_message_path,
        DEFAULT_TERMINATION_MESSAGE_PATH,
    );
    or_str(&mut c.termination_message_policy, "File");
    or_default(&mut c.resources, ResourceRequirements::default());
    for p in &mut c.ports {
        or_str(&mut p.protocol, "TCP");
    }
    for probe in [
        &mut c.liveness_probe,
        &mut c.readiness_probe,
        &mut c.startup_probe,
    ]
    .into_iter()
    .flatten()
    {
        default_probe(probe);
    }
    for e in &mut c.env {
        if let Some(field_ref) = e.value_from.as_mut().and_then(|f| f.field_ref.as_mut()) {
            or_str(&mut field_ref.api_version, "v1");
        }
    }
}

/// Probe defaults: timeout 1 s, period 10 s, success 1, failure 3; HTTP GET scheme `HTTP` and
/// path `/`. As in Kubernetes, an explicit 0 counts as unset.
pub fn default_probe(p: &mut Probe) {
    for (slot, value) in [
        (&mut p.timeout_seconds, 1),
        (&mut p.period_seconds, 10),
        (&mut p.success_threshold, 1),
        (&mut p.failure_threshold, 3),
    ] {
        if slot.unwrap_or(0) == 0 {
            *slot = Some(value);
        }
    }
    if let Some(h) = p.http_get.as_mut() {
        or_str(&mut h.path, "/");
        or_str(&mut h.scheme, "HTTP");
    }
}

/// Volume defaults: a volume without a source is an `emptyDir`; file-projecting sources get
/// `defaultMode: 420`; `hostPath.type` defaults to `""`.
pub fn default_volume(v: &mut Volume) {
    let has_source = [
        &v.empty_dir,
        &v.host_path,
        &v.config_map,
        &v.secret,
        &v.persistent_volume_claim,
        &v.projected,
        &v.downward_api,
        &v.nfs,
        &v.csi,
        &v.ephemeral,
        &v.image,
    ]
    .iter()
    .any(|s| s.is_some());
    if !has_source {
        v.empty_dir = Some(Value::Object(Default::default()));
    }
    for source in [
        &mut v.config_map,
        &mut v.secret,
        &mut v.projected,
        &mut v.downward_api,
    ]
    .into_iter()
    .flatten()
    {
        if let Value::Object(map) = source {
            map.entry("defaultMode")
                .or_insert(Value::from(DEFAULT_VOLUME_MODE));
        }
    }
    if let Some(Value::Object(map)) = v.host_path.as_mut() {
        map.entry("type").or_insert(Value::from(""));
    }
}

/// Defaults of a pod template: those of its pod spec (not the pod-only ones: a template's
/// requests are not defaulted from its limits, the pods created from it are).
pub fn default_pod_template(t: &mut PodTemplateSpec) {
    if let Some(spec) = t.spec.as_mut() {
        default_pod_spec(spec);
    }
}

/// ReplicaSet defaults: `replicas: 1` and the template's pod spec defaults.
pub fn default_replica_set(rs: &mut ReplicaSet) {
    set_type_meta::<ReplicaSet>(&mut rs.api_version, &mut rs.kind);
    let spec = rs.spec.get_or_insert_with(ReplicaSetSpec::default);
    or_default(&mut spec.replicas, 1);
    if let Some(t) = spec.template.as_mut() {
        default_pod_template(t);
    }
}

/// Deployment defaults: `replicas: 1`, strategy `RollingUpdate` with 25% / 25%,
/// `revisionHistoryLimit: 10`, `progressDeadlineSeconds: 600`, the template's pod spec defaults.
/// The selector is never defaulted (apps/v1 requires it).
pub fn default_deployment(d: &mut Deployment) {
    set_type_meta::<Deployment>(&mut d.api_version, &mut d.kind);
    let spec = d.spec.get_or_insert_with(DeploymentSpec::default);
    or_default(&mut spec.replicas, 1);
    let strategy = spec
        .strategy
        .get_or_insert_with(DeploymentStrategy::default);
    or_str(&mut strategy.type_, "RollingUpdate");
    if strategy.type_.as_deref() == Some("RollingUpdate") {
        let ru = strategy
            .rolling_update
            .get_or_insert_with(RollingUpdateDeployment::default);
        or_default(
            &mut ru.max_unavailable,
            IntOrString::String("25%".to_string()),
        );
        or_default(&mut ru.max_surge, IntOrString::String("25%".to_string()));
    }
    or_default(&mut spec.revision_history_limit, 10);
    or_default(&mut spec.progress_deadline_seconds, 600);
    if let Some(t) = spec.template.as_mut() {
        default_pod_template(t);
    }
}

/// Service defaults: type `ClusterIP`, sessionAffinity `None` (ClientIP gets a 10800 s timeout),
/// port protocol `TCP`, targetPort = port, traffic policies `Cluster`, ipFamilyPolicy, and
/// `clusterIPs` from `clusterIP`.
pub fn default_service(s: &mut Service) {
    set_type_meta::<Service>(&mut s.api_version, &mut s.kind);
    let spec = s.spec.get_or_insert_with(ServiceSpec::default);
    or_str(&mut spec.session_affinity, "None");
    match spec.session_affinity.as_deref() {
        Some("None") => spec.session_affinity_config = None,
        Some("ClientIP") => {
            let has_timeout = spec
                .session_affinity_config
                .as_ref()
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"))
                .is_some_and(|t| !t.is_null());
            if !has_timeout {
                spec.session_affinity_config =
                    Some(serde_json::json!({"clientIP": {"timeoutSeconds": 10800}}));
            }
        }
        _ => {}
    }
    or_str(&mut spec.type_, "ClusterIP");
    let ty = spec.type_.clone().unwrap_or_default();
    for p in &mut spec.ports {
        or_str(&mut p.protocol, "TCP");
        let unset = match &p.target_port {
            None => true,
            Some(IntOrString::Int(0)) => true,
            Some(IntOrString::String(s)) => s.is_empty(),
            Some(IntOrString::Int(_)) => false,
        };
        if unset {
            p.target_port = Some(IntOrString::Int(p.port));
        }
    }
    let node_ports = ty == "NodePort" || ty == "LoadBalancer";
    if node_ports {
        or_str(&mut spec.external_traffic_policy, "Cluster");
    }
    if node_ports || ty == "ClusterIP" {
        or_str(&mut spec.internal_traffic_policy, "Cluster");
    }
    if ty == "LoadBalancer" {
        or_default(&mut spec.allocate_load_balancer_node_ports, true);
    }
    if spec.cluster_ips.is_empty() {
        if let Some(ip) = spec.cluster_ip.as_ref().filter(|ip| !ip.is_empty()) {
            spec.cluster_ips = vec![ip.clone()];
        }
    }
    if ty != "ExternalName" {
        let headless = spec.cluster_ip.as_deref() == Some("None");
        let policy = if headless && spec.selector.is_empty() {
            "RequireDualStack"
        } else {
            "SingleStack"
        };
        or_str(&mut spec.ip_family_policy, policy);
    }
}

/// Endpoints defaults: port protocol `TCP`.
pub fn default_endpoints(e: &mut Endpoints) {
    set_type_meta::<Endpoints>(&mut e.api_version, &mut e.kind);
    for subset in &mut e.subsets {
        for p in &mut subset.ports {
            or_str(&mut p.protocol, "TCP");
        }
    }
}

/// Node defaults: an empty spec, and `allocatable` copied from `capacity` when absent.
pub fn default_node(n: &mut Node) {
    set_type_meta::<Node>(&mut n.api_version, &mut n.kind);
    n.spec.get_or_insert_with(NodeSpec::default);
    if let Some(status) = n.status.as_mut() {
        if status.allocatable.is_empty() && !status.capacity.is_empty() {
            status.allocatable = status.capacity.clone();
        }
    }
}

/// Event defaults: type `Normal`, count 1.
pub fn default_event(e: &mut Event) {
    set_type_meta::<Event>(&mut e.api_version, &mut e.kind);
    or_str(&mut e.type_, "Normal");
    if e.count.unwrap_or(0) == 0 {
        e.count = Some(1);
    }
}

/// Namespace defaults: the `kubernetes.io/metadata.name` label, `spec.finalizers: [kubernetes]`
/// (unless the namespace is already terminating: the finalizer may be removed over its life)
/// and `status.phase: Active`.
pub fn default_namespace(ns: &mut Namespace) {
    set_type_meta::<Namespace>(&mut ns.api_version, &mut ns.kind);
    if !ns.metadata.name.is_empty() {
        ns.metadata
            .labels
            .insert(NAMESPACE_NAME_LABEL.to_string(), ns.metadata.name.clone());
    }
    let status = ns.status.get_or_insert_with(NamespaceStatus::default);
    or_str(&mut status.phase, "Active");
    let terminating = status.phase.as_deref() == Some("Terminating");
    let spec = ns.spec.get_or_insert_with(NamespaceSpec::default);
    if spec.finalizers.is_empty() && !terminating {
        spec.finalizers = vec![NAMESPACE_FINALIZER.to_string()];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Case {
        name: &'static str,
        kind: &'static str,
        input: Value,
        want: Value,
    }

    fn run<T: Object>(input: &Value) -> (Value, Value) {
        let mut obj: T = serde_json::from_value(input.clone()).expect("input deserializes");
        obj.apply_defaults();
        let once = serde_json::to_value(&obj).unwrap();
        obj.apply_defaults();
        let twice = serde_json::to_value(&obj).unwrap();
        (once, twice)
    }

    fn check(c: &Case) {
        let (got, again) = match c.kind {
            "Pod" => run::<Pod>(&c.input),
            "ReplicaSet" => run::<ReplicaSet>(&c.input),
            "Deployment" => run::<Deployment>(&c.input),
            "Service" => run::<Service>(&c.input),
            "Endpoints" => run::<Endpoints>(&c.input),
            "Node" => run::<Node>(&c.input),
            "Event" => run::<Event>(&c.input),
            "Namespace" => run::<Namespace>(&c.input),
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(got, c.want, "{}: defaulted object differs", c.name);
        assert_eq!(again, got, "{}: defaulting is not idempotent", c.name);
    }

    /// The fields every defaulted pod spec gains.
    fn spec_defaults(containers: Value) -> Value {
        json!({
            "containers": containers,
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "securityContext": {},
            "schedulerName": "default-scheduler",
        })
    }

    fn container(name: &str, image: &str, pull: &str) -> Value {
        json!({
            "name": name,
            "image": image,
            "imagePullPolicy": pull,
            "resources": {},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        })
    }

    fn merge(mut base: Value, extra: Value) -> Value {
        if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
            for (k, v) in e {
                b.insert(k, v);
            }
        }
        base
    }

    #[test]
    fn defaulting_cases() {
        let mut pod_spec = spec_defaults(json!([container("web", "nginx:1.27", "IfNotPresent")]));
        pod_spec["enableServiceLinks"] = json!(true);
        let cases = [
            Case {
                name: "minimal pod",
                kind: "Pod",
                input: json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}),
                want: json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": pod_spec}),
            },
            Case {
                name: "pull policy from tag",
                kind: "Pod",
                input: json!({"spec": {"containers": [
                    {"name": "a", "image": "nginx"},
                    {"name": "b", "image": "nginx:latest"},
                    {"name": "c", "image": "registry:5000/app"},
                    {"name": "d", "image": "app@sha256:abcd"},
                    {"name": "e", "image": "app:1@sha256:abcd"},
                    {"name": "f", "image": "nginx", "imagePullPolicy": "Never"},
                ]}}),
                want: json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": merge(spec_defaults(json!([
                    container("a", "nginx", "Always"),
                    container("b", "nginx:latest", "Always"),
                    container("c", "registry:5000/app", "Always"),
                    container("d", "app@sha256:abcd", "IfNotPresent"),
                    container("e", "app:1@sha256:abcd", "IfNotPresent"),
                    container("f", "nginx", "Never"),
                ])), json!({"enableServiceLinks": true}))}),
            },
            Case {
                name: "pod requests default to limits, ports, probes, tolerations, env, volumes",
                kind: "Pod",
                input: json!({"spec": {
                    "hostNetwork": true,
                    "containers": [{
                        "name": "c", "image": "app:1",
                        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}},
                        "ports": [{"containerPort": 80}],
                        "livenessProbe": {"httpGet": {"port": 80}},
                        "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 5, "failureThreshold": 0},
                        "env": [{"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
                    }],
                    "tolerations": [{"key": "k", "value": "v"}, {"operator": "Exists"}],
                    "volumes": [{"name": "scratch"}, {"name": "cfg", "configMap": {"name": "c"}}, {"name": "h", "hostPath": {"path": "/x"}}],
                }}),
                want: json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": merge(spec_defaults(json!([merge(
                    container("c", "app:1", "IfNotPresent"),
                    json!({
                        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}},
                        "ports": [{"containerPort": 80, "hostPort": 80, "protocol": "TCP"}],
                        "livenessProbe": {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
                        "readinessProbe": {"exec": {"command": ["true"]}, "timeoutSeconds": 1, "periodSeconds": 5, "successThreshold": 1, "failureThreshold": 3},
                        "env": [{"name": "NS", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}}],
                    }),
                )])), json!({
                    "hostNetwork": true,
                    "enableServiceLinks": true,
                    "tolerations": [{"key": "k", "operator": "Equal", "value": "v"}, {"operator": "Exists"}],
                    "volumes": [
                        {"name": "scratch", "emptyDir": {}},
                        {"name": "cfg", "configMap": {"name": "c", "defaultMode": 420}},
                        {"name": "h", "hostPath": {"path": "/x", "type": ""}},
                    ],
                }))}),
            },
            Case {
                name: "pod keeps explicit values",
                kind: "Pod",
                input: json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "spec": {
                    "restartPolicy": "Never", "terminationGracePeriodSeconds": 0, "dnsPolicy": "Default",
                    "schedulerName": "mine", "enableServiceLinks": false, "securityContext": {"runAsUser": 1},
                    "containers": [{"name": "c", "image": "x:1", "imagePullPolicy": "Always", "terminationMessagePath": "/t",
                        "terminationMessagePolicy": "FallbackToLogsOnError", "resources": {"requests": {"cpu": "1"}}}],
                }}),
                want: json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "spec": {
                    "restartPolicy": "Never", "terminationGracePeriodSeconds": 0, "dnsPolicy": "Default",
                    "schedulerName": "mine", "enableServiceLinks": false, "securityContext": {"runAsUser": 1},
                    "containers": [{"name": "c", "image": "x:1", "imagePullPolicy": "Always", "terminationMessagePath": "/t",
                        "terminationMessagePolicy": "FallbackToLogsOnError", "resources": {"requests": {"cpu": "1"}}}],
                }}),
            },
            Case {
                name: "empty pod gets a spec",
                kind: "Pod",
                input: json!({}),
                want: json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {
                    "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                    "securityContext": {}, "schedulerName": "default-scheduler", "enableServiceLinks": true,
                }}),
            },
            Case {
                name: "deployment",
                kind: "Deployment",
                input: json!({"metadata": {"name": "d"}, "spec": {
                    "selector": {"matchLabels": {"app": "x"}},
                    "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                        "resources": {"limits": {"cpu": "1"}}}]}},
                }}),
                want: json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": "x"}},
                    "template": {"metadata": {"labels": {"app": "x"}}, "spec": spec_defaults(json!([merge(
                        container("web", "nginx:1.27", "IfNotPresent"),
                        json!({"resources": {"limits": {"cpu": "1"}}}),
                    )]))},
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                    "revisionHistoryLimit": 10,
                    "progressDeadlineSeconds": 600,
                }}),
            },
            Case {
                name: "deployment recreate and no selector",
                kind: "Deployment",
                input: json!({"spec": {"replicas": 0, "strategy": {"type": "Recreate"}, "revisionHistoryLimit": 0}}),
                want: json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}, "spec": {
                    "replicas": 0, "strategy": {"type": "Recreate"}, "revisionHistoryLimit": 0, "progressDeadlineSeconds": 600,
                }}),
            },
            Case {
                name: "deployment partial rolling update",
                kind: "Deployment",
                input: json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 0}}}}),
                want: json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}, "spec": {
                    "replicas": 1, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 0}},
                    "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                }}),
            },
            Case {
                name: "replicaset",
                kind: "ReplicaSet",
                input: json!({"spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}}),
                want: json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {}, "spec": {
                    "replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                    "template": {"metadata": {}, "spec": spec_defaults(json!([container("c", "i:1", "IfNotPresent")]))},
                }}),
            },
            Case {
                name: "service",
                kind: "Service",
                input: json!({"metadata": {"name": "s"}, "spec": {"selector": {"app": "x"}, "ports": [{"port": 80}, {"port": 443, "targetPort": "https", "protocol": "UDP"}]}}),
                want: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {
                    "type": "ClusterIP", "selector": {"app": "x"}, "sessionAffinity": "None",
                    "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}, {"port": 443, "targetPort": "https", "protocol": "UDP"}],
                    "internalTrafficPolicy": "Cluster", "ipFamilyPolicy": "SingleStack",
                }}),
            },
            Case {
                name: "nodeport service with client ip affinity and cluster ip",
                kind: "Service",
                input: json!({"spec": {"type": "NodePort", "clusterIP": "10.0.0.1", "sessionAffinity": "ClientIP", "ports": [{"port": 80, "targetPort": 0}]}}),
                want: json!({"apiVersion": "v1", "kind": "Service", "metadata": {}, "spec": {
                    "type": "NodePort", "clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"], "sessionAffinity": "ClientIP",
                    "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
                    "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                    "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster", "ipFamilyPolicy": "SingleStack",
                }}),
            },
            Case {
                name: "external name service",
                kind: "Service",
                input: json!({"spec": {"type": "ExternalName", "externalName": "example.com"}}),
                want: json!({"apiVersion": "v1", "kind": "Service", "metadata": {}, "spec": {
                    "type": "ExternalName", "externalName": "example.com", "sessionAffinity": "None",
                }}),
            },
            Case {
                name: "headless selectorless service",
                kind: "Service",
                input: json!({"spec": {"clusterIP": "None"}}),
                want: json!({"apiVersion": "v1", "kind": "Service", "metadata": {}, "spec": {
                    "type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"], "sessionAffinity": "None",
                    "internalTrafficPolicy": "Cluster", "ipFamilyPolicy": "RequireDualStack",
                }}),
            },
            Case {
                name: "endpoints",
                kind: "Endpoints",
                input: json!({"subsets": [{"addresses": [{"ip": "10.1.0.1"}], "ports": [{"port": 80}]}]}),
                want: json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {},
                    "subsets": [{"addresses": [{"ip": "10.1.0.1"}], "ports": [{"port": 80, "protocol": "TCP"}]}]}),
            },
            Case {
                name: "node allocatable from capacity",
                kind: "Node",
                input: json!({"metadata": {"name": "n1"}, "status": {"capacity": {"cpu": 4, "pods": "110"}}}),
                want: json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "spec": {},
                    "status": {"capacity": {"cpu": "4", "pods": "110"}, "allocatable": {"cpu": "4", "pods": "110"}}}),
            },
            Case {
                name: "event",
                kind: "Event",
                input: json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "Scheduled"}),
                want: json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
                    "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "Scheduled", "type": "Normal", "count": 1}),
            },
            Case {
                name: "warning event keeps count",
                kind: "Event",
                input: json!({"involvedObject": {"kind": "Pod"}, "type": "Warning", "count": 7}),
                want: json!({"apiVersion": "v1", "kind": "Event", "metadata": {},
                    "involvedObject": {"kind": "Pod"}, "type": "Warning", "count": 7}),
            },
            Case {
                name: "namespace",
                kind: "Namespace",
                input: json!({"metadata": {"name": "team-a"}}),
                want: json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
                    "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
            },
            Case {
                name: "terminating namespace keeps its emptied finalizers",
                kind: "Namespace",
                input: json!({"metadata": {"name": "old"}, "spec": {}, "status": {"phase": "Terminating"}}),
                want: json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": "old", "labels": {"kubernetes.io/metadata.name": "old"}},
                    "spec": {}, "status": {"phase": "Terminating"}}),
            },
        ];
        for c in &cases {
            check(c);
        }
    }

    #[test]
    fn image_pull_policy_table() {
        for (image, want) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.27", "IfNotPresent"),
            ("localhost:5000/nginx", "Always"),
            ("localhost:5000/nginx:v2", "IfNotPresent"),
            ("nginx@sha256:0123", "IfNotPresent"),
            ("nginx:latest@sha256:0123", "Always"),
            ("", "IfNotPresent"),
        ] {
            assert_eq!(default_image_pull_policy(image), want, "image {image:?}");
        }
    }
}
