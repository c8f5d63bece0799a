//! Table-driven validation tests: every case is defaulted first (as the API server does), then
//! validated; the expected errors are the exact `FieldError` Display strings Kubernetes prints.
//! At the end, direct tests of the label selector, qualified name and label value rules.

use super::{is_qualified_name, is_valid_label_value, validate_label_selector};
use crate::api::{Deployment, Endpoints, Event, Namespace, Node, Object, Pod, ReplicaSet, Service};
use crate::selector::{LabelSelector, LabelSelectorRequirement};
use serde_json::{json, Value};

struct Case {
    name: &'static str,
    /// `Pod`, `Deployment`, ... (the object's `kind`).
    kind: &'static str,
    input: Value,
    /// The stored object for an update; `None` validates a create.
    old: Option<Value>,
    want: Vec<String>,
}

fn run<T: Object>(input: &Value, old: Option<&Value>) -> Vec<String> {
    let parse = |v: &Value| {
        let mut obj: T = serde_json::from_value(v.clone()).expect("case input deserializes");
        obj.apply_defaults();
        obj
    };
    let obj = parse(input);
    let errs = match old {
        None => obj.validate(),
        Some(old) => obj.validate_update(&parse(old)),
    };
    errs.iter().map(|e| e.to_string()).collect()
}

fn check(c: &Case) {
    let old = c.old.as_ref();
    let got = match c.kind {
        "Pod" => run::<Pod>(&c.input, old),
        "Deployment" => run::<Deployment>(&c.input, old),
        "ReplicaSet" => run::<ReplicaSet>(&c.input, old),
        "Service" => run::<Service>(&c.input, old),
        "Endpoints" => run::<Endpoints>(&c.input, old),
        "Node" => run::<Node>(&c.input, old),
        "Event" => run::<Event>(&c.input, old),
        "Namespace" => run::<Namespace>(&c.input, old),
        other => panic!("{}: unknown kind {other}", c.name),
    };
    assert_eq!(got, c.want, "case {:?}", c.name);
}

/// `base` with the value at the JSON pointer `path` replaced (objects are created on the way).
fn with(base: &Value, path: &str, value: Value) -> Value {
    let mut out = base.clone();
    let mut cur = &mut out;
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        cur = match cur {
            Value::Array(items) => {
                let idx: usize = part.parse().expect("array index");
                if last {
                    if idx == items.len() {
                        items.push(value);
                    } else {
                        items[idx] = value;
                    }
                    return out;
                }
                &mut items[idx]
            }
            Value::Object(map) => {
                if last {
                    map.insert(part.to_string(), value);
                    return out;
                }
                map.entry(part.to_string()).or_insert_with(|| json!({}))
            }
            _ => panic!("cannot descend into {part} of {path}"),
        };
    }
    out
}

fn pod() -> Value {
    json!({
        "metadata": {"name": "web-0", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]},
    })
}

fn deployment() -> Value {
    json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
        },
    })
}

fn service() -> Value {
    json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    })
}

const DNS_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const POD_UPDATE_MSG: &str = "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

fn s(items: &[&str]) -> Vec<String> {
    items.iter().map(|i| i.to_string()).collect()
}

fn create(name: &'static str, kind: &'static str, input: Value, want: Vec<String>) -> Case {
    Case {
        name,
        kind,
        input,
        old: None,
        want,
    }
}

fn update(
    name: &'static str,
    kind: &'static str,
    old: Value,
    input: Value,
    want: Vec<String>,
) -> Case {
    Case {
        name,
        kind,
        input,
        old: Some(old),
        want,
    }
}

fn pod_cases() -> Vec<Case> {
    let p = pod();
    let long_name = "a".repeat(254);
    vec![
        create("valid pod", "Pod", p.clone(), vec![]),
        create("generateName stands in for name", "Pod", with(&p, "/metadata", json!({"generateName": "web-"})), vec![]),
        create(
            "name or generateName required",
            "Pod",
            with(&p, "/metadata", json!({})),
            s(&["metadata.name: Required value: name or generateName is required"]),
        ),
        create(
            "name must be a DNS subdomain",
            "Pod",
            with(&p, "/metadata/name", json!("Web_0")),
            vec![format!("metadata.name: Invalid value: \"Web_0\": {DNS_SUBDOMAIN_MSG}")],
        ),
        create(
            "name at most 253 characters",
            "Pod",
            with(&p, "/metadata/name", json!(long_name)),
            vec![format!("metadata.name: Invalid value: \"{long_name}\": must be no more than 253 characters")],
        ),
        create(
            "namespace must be a DNS label",
            "Pod",
            with(&p, "/metadata/namespace", json!("my.ns")),
            vec![format!("metadata.namespace: Invalid value: \"my.ns\": {DNS_LABEL_MSG}")],
        ),
        create("at least one container", "Pod", with(&p, "/spec/containers", json!([])), s(&["spec.containers: Required value"])),
        create(
            "image required",
            "Pod",
            with(&p, "/spec/containers/0/image", Value::Null),
            s(&["spec.containers[0].image: Required value"]),
        ),
        create(
            "image without surrounding spaces",
            "Pod",
            with(&p, "/spec/containers/0/image", json!(" nginx")),
            s(&["spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace"]),
        ),
        create(
            "container name required",
            "Pod",
            with(&p, "/spec/containers/0/name", json!("")),
            s(&["spec.containers[0].name: Required value"]),
        ),
        create(
            "container name is a DNS label",
            "Pod",
            with(&p, "/spec/containers/0/name", json!("Web")),
            vec![format!("spec.containers[0].name: Invalid value: \"Web\": {DNS_LABEL_MSG}")],
        ),
        create(
            "container names unique across containers and init containers",
            "Pod",
            with(
                &with(&p, "/spec/containers/1", json!({"name": "web", "image": "x:1"})),
                "/spec/initContainers",
                json!([{"name": "web", "image": "x:1"}]),
            ),
            s(&[
                "spec.containers[1].name: Duplicate value: \"web\"",
                "spec.initContainers[0].name: Duplicate value: \"web\"",
            ]),
        ),
        create(
            "container port in range",
            "Pod",
            with(&p, "/spec/containers/0/ports/0/containerPort", json!(70000)),
            s(&["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"]),
        ),
        create(
            "port protocol supported",
            "Pod",
            with(&p, "/spec/containers/0/ports/0/protocol", json!("HTTP")),
            s(&["spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\""]),
        ),
        create(
            "restart policy supported",
            "Pod",
            with(&p, "/spec/restartPolicy", json!("Sometimes")),
            s(&["spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""]),
        ),
        create(
            "requests may not exceed limits",
            "Pod",
            with(&p, "/spec/containers/0/resources", json!({"limits": {"cpu": "1"}, "requests": {"cpu": "2"}})),
            s(&["spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1"]),
        ),
        create(
            "requests equal to limits in other units are fine",
            "Pod",
            with(&p, "/spec/containers/0/resources", json!({"limits": {"cpu": 1, "memory": "1Gi"}, "requests": {"cpu": "1000m", "memory": "512Mi"}})),
            vec![],
        ),
        create(
            "quantities must parse",
            "Pod",
            with(&p, "/spec/containers/0/resources", json!({"limits": {"memory": "lots"}})),
            s(&[
                "spec.containers[0].resources.limits[memory]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                "spec.containers[0].resources.requests[memory]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            ]),
        ),
        create(
            "quantities may not be negative",
            "Pod",
            with(&p, "/spec/containers/0/resources", json!({"requests": {"cpu": "-1"}})),
            s(&["spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"]),
        ),
        create(
            "probe timings",
            "Pod",
            with(
                &p,
                "/spec/containers/0/livenessProbe",
                json!({"httpGet": {"port": 80}, "initialDelaySeconds": -1, "failureThreshold": -2, "successThreshold": 2}),
            ),
            s(&[
                "spec.containers[0].livenessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0",
                "spec.containers[0].livenessProbe.failureThreshold: Invalid value: -2: must be greater than or equal to 0",
                "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
            ]),
        ),
        create(
            "probe needs a handler",
            "Pod",
            with(&p, "/spec/containers/0/readinessProbe", json!({"periodSeconds": 5})),
            s(&["spec.containers[0].readinessProbe: Required value: must specify a handler type"]),
        ),
        create(
            "probe takes one handler and a valid port",
            "Pod",
            with(
                &p,
                "/spec/containers/0/startupProbe",
                json!({"httpGet": {"port": 0}, "tcpSocket": {"port": "http"}}),
            ),
            s(&[
                "spec.containers[0].startupProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.containers[0].startupProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
            ]),
        ),
        create(
            "env var name required",
            "Pod",
            with(&p, "/spec/containers/0/env", json!([{"value": "x"}, {"name": "A=B"}])),
            s(&[
                "spec.containers[0].env[0].name: Required value",
                "spec.containers[0].env[1].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
            ]),
        ),
        create(
            "volume mounts name a volume",
            "Pod",
            with(&p, "/spec/containers/0/volumeMounts", json!([{"name": "data", "mountPath": "/data"}])),
            s(&["spec.containers[0].volumeMounts[0].name: Invalid value: \"data\": not found: no volume of the pod has this name"]),
        ),
        create(
            "tolerations operator and effect",
            "Pod",
            with(&p, "/spec/tolerations", json!([{"key": "k", "operator": "Maybe", "effect": "Sometimes"}, {"operator": "Exists"}])),
            s(&[
                "spec.tolerations[0].operator: Unsupported value: \"Maybe\": supported values: \"Equal\", \"Exists\"",
                "spec.tolerations[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            ]),
        ),
        create(
            "termination grace period not negative",
            "Pod",
            with(&p, "/spec/terminationGracePeriodSeconds", json!(-1)),
            s(&["spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0"]),
        ),
        create(
            "label values",
            "Pod",
            with(&p, "/metadata/labels/app", json!("-web")),
            s(&["metadata.labels: Invalid value: \"-web\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]),
        ),
        create(
            "label keys",
            "Pod",
            with(&p, "/metadata/labels", json!({"example.com/": "x"})),
            s(&[
                "metadata.labels: Invalid value: \"example.com/\": name part must be non-empty",
                "metadata.labels: Invalid value: \"example.com/\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            ]),
        ),
        create(
            "annotations at most 256 KiB",
            "Pod",
            with(&p, "/metadata/annotations", json!({"big": "x".repeat(256 * 1024)})),
            s(&["metadata.annotations: Too long: may not be more than 262144 bytes"]),
        ),
        create(
            "node affinity operators",
            "Pod",
            with(
                &p,
                "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms",
                json!([{"matchExpressions": [{"key": "zone", "operator": "Near"}, {"key": "gpu", "operator": "In"}]}]),
            ),
            s(&[
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: Invalid value: \"Near\": not a valid selector operator",
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
            ]),
        ),
        create(
            "init containers only restart Always",
            "Pod",
            with(&p, "/spec/initContainers", json!([{"name": "init", "image": "x:1", "restartPolicy": "Never", "livenessProbe": {"exec": {"command": ["true"]}}}])),
            s(&[
                "spec.initContainers[0].restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
                "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
            ]),
        ),
        update("image may change", "Pod", p.clone(), with(&p, "/spec/containers/0/image", json!("nginx:1.28")), vec![]),
        update(
            "tolerations may be added and deadline set",
            "Pod",
            p.clone(),
            with(
                &with(&p, "/spec/tolerations", json!([{"key": "k", "operator": "Exists"}])),
                "/spec/activeDeadlineSeconds",
                json!(60),
            ),
            vec![],
        ),
        update(
            "other spec fields are immutable",
            "Pod",
            p.clone(),
            with(&p, "/spec/containers/0/command", json!(["sh"])),
            s(&[POD_UPDATE_MSG]),
        ),
        update(
            "binding through an update is forbidden",
            "Pod",
            p.clone(),
            with(&p, "/spec/nodeName", json!("node-1")),
            s(&[POD_UPDATE_MSG]),
        ),
        update(
            "tolerations may not be removed",
            "Pod",
            with(&p, "/spec/tolerations", json!([{"key": "k", "operator": "Exists"}])),
            p.clone(),
            s(&["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"]),
        ),
        update(
            "active deadline only decreases",
            "Pod",
            with(&p, "/spec/activeDeadlineSeconds", json!(60)),
            with(&p, "/spec/activeDeadlineSeconds", json!(120)),
            s(&["spec.activeDeadlineSeconds: Invalid value: 120: must be less than or equal to previous value"]),
        ),
        update(
            "name is immutable",
            "Pod",
            p.clone(),
            with(&p, "/metadata/name", json!("web-1")),
            s(&["metadata.name: Invalid value: \"web-1\": field is immutable"]),
        ),
    ]
}

fn apps_cases() -> Vec<Case> {
    let d = deployment();
    let mut rs = deployment();
    rs["metadata"]["name"] = json!("web-abc");
    vec![
        create("valid deployment", "Deployment", d.clone(), vec![]),
        create(
            "selector required",
            "Deployment",
            with(&d, "/spec/selector", Value::Null),
            s(&[
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
            ]),
        ),
        create(
            "selector must match template labels",
            "Deployment",
            with(&d, "/spec/template/metadata/labels", json!({"app": "api", "tier": "back"})),
            s(&["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"api\", \"tier\":\"back\"}: `selector` does not match template `labels`"]),
        ),
        create(
            "selector may not be empty",
            "Deployment",
            with(&d, "/spec/selector", json!({})),
            s(&["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"]),
        ),
        create(
            "replicas not negative",
            "Deployment",
            with(&d, "/spec/replicas", json!(-1)),
            s(&["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]),
        ),
        create(
            "template restart policy Always",
            "Deployment",
            with(&d, "/spec/template/spec/restartPolicy", json!("Never")),
            s(&["spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""]),
        ),
        create(
            "template pod spec validated",
            "Deployment",
            with(&d, "/spec/template/spec/containers/0/image", json!("")),
            s(&["spec.template.spec.containers[0].image: Required value"]),
        ),
        create(
            "strategy type supported",
            "Deployment",
            with(&d, "/spec/strategy", json!({"type": "Canary"})),
            s(&["spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:\"Canary\", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: \"Recreate\", \"RollingUpdate\""]),
        ),
        create(
            "maxSurge and maxUnavailable not both 0",
            "Deployment",
            with(&d, "/spec/strategy/rollingUpdate", json!({"maxSurge": 0, "maxUnavailable": "0%"})),
            s(&["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"0%\"}: may not be 0 when `maxSurge` is 0"]),
        ),
        create(
            "percentages valid",
            "Deployment",
            with(&d, "/spec/strategy/rollingUpdate", json!({"maxSurge": "lots", "maxUnavailable": "150%"})),
            s(&[
                "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"lots\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%",
            ]),
        ),
        create(
            "recreate takes no rolling update",
            "Deployment",
            with(&d, "/spec/strategy", json!({"type": "Recreate", "rollingUpdate": {"maxSurge": 1}})),
            s(&["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]),
        ),
        create(
            "history limit and progress deadline",
            "Deployment",
            with(
                &with(&with(&d, "/spec/revisionHistoryLimit", json!(-1)), "/spec/minReadySeconds", json!(10)),
                "/spec/progressDeadlineSeconds",
                json!(5),
            ),
            s(&[
                "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
                "spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds",
            ]),
        ),
        update(
            "deployment selector immutable",
            "Deployment",
            d.clone(),
            with(&with(&d, "/spec/selector/matchLabels/app", json!("api")), "/spec/template/metadata/labels/app", json!("api")),
            s(&["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"api\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]),
        ),
        update("deployment scale", "Deployment", d.clone(), with(&d, "/spec/replicas", json!(5)), vec![]),
        create(
            "replicaset with set-based selector",
            "ReplicaSet",
            with(&rs, "/spec/selector", json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]})),
            vec![],
        ),
        create(
            "replicaset selector operator",
            "ReplicaSet",
            with(&rs, "/spec/selector", json!({"matchExpressions": [{"key": "app", "operator": "Near", "values": ["web"]}]})),
            s(&[
                "spec.selector.matchExpressions[0].operator: Invalid value: \"Near\": not a valid selector operator",
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"app\", Operator:\"Near\", Values:[]string{\"web\"}}}}: invalid label selector",
            ]),
        ),
        update(
            "replicaset selector immutable",
            "ReplicaSet",
            rs.clone(),
            with(&rs, "/spec/selector/matchLabels/tier", json!("x")),
            s(&[
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"tier\":\"x\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
            ]),
        ),
    ]
}

fn service_cases() -> Vec<Case> {
    let svc = service();
    let dns1035 = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    vec![
        create("valid service", "Service", svc.clone(), vec![]),
        create("ports required", "Service", with(&svc, "/spec/ports", json!([])), s(&["spec.ports: Required value"])),
        create(
            "headless service needs no ports",
            "Service",
            with(&with(&svc, "/spec/ports", json!([])), "/spec/clusterIP", json!("None")),
            vec![],
        ),
        create(
            "external name service needs no ports",
            "Service",
            json!({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "db.example.com."}}),
            vec![],
        ),
        create(
            "port numbers in range",
            "Service",
            with(&svc, "/spec/ports/0/port", json!(0)),
            s(&["spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"]),
        ),
        create(
            "several ports need names",
            "Service",
            with(&svc, "/spec/ports", json!([{"port": 80}, {"port": 443}])),
            s(&["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"]),
        ),
        create(
            "port names unique",
            "Service",
            with(&svc, "/spec/ports", json!([{"name": "http", "port": 80}, {"name": "http", "port": 8080}])),
            s(&["spec.ports[1].name: Duplicate value: \"http\""]),
        ),
        create(
            "type supported",
            "Service",
            with(&svc, "/spec/type", json!("Magic")),
            s(&["spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""]),
        ),
        create(
            "service names are DNS-1035 labels",
            "Service",
            with(&svc, "/metadata/name", json!("1web")),
            vec![format!("metadata.name: Invalid value: \"1web\": {dns1035}")],
        ),
        create(
            "cluster IP is an IP",
            "Service",
            with(&svc, "/spec/clusterIP", json!("10.0.0.300")),
            s(&["spec.clusterIPs[0]: Invalid value: \"10.0.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]),
        ),
        update(
            "cluster IP immutable",
            "Service",
            with(&svc, "/spec/clusterIP", json!("10.96.0.10")),
            with(&svc, "/spec/clusterIP", json!("10.96.0.11")),
            s(&["spec.clusterIPs[0]: Invalid value: \"10.96.0.11\": may not change once set"]),
        ),
        create(
            "endpoint addresses are IPs",
            "Endpoints",
            json!({"metadata": {"name": "web"}, "subsets": [{"addresses": [{"ip": "pod-a"}], "ports": [{"port": 80}]}]}),
            s(&["subsets[0].addresses[0].ip: Invalid value: \"pod-a\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]),
        ),
    ]
}

fn cluster_cases() -> Vec<Case> {
    vec![
        create("valid node", "Node", json!({"metadata": {"name": "node-1.example.com"}}), vec![]),
        create(
            "node is cluster-scoped",
            "Node",
            json!({"metadata": {"name": "node-1", "namespace": "default"}}),
            s(&["metadata.namespace: Forbidden: not allowed on this type"]),
        ),
        create(
            "node name",
            "Node",
            json!({"metadata": {"name": "Node_1"}}),
            vec![format!("metadata.name: Invalid value: \"Node_1\": {DNS_SUBDOMAIN_MSG}")],
        ),
        create(
            "node taint effect",
            "Node",
            json!({"metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}}),
            s(&["spec.taints[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""]),
        ),
        update(
            "node pod CIDR set once",
            "Node",
            json!({"metadata": {"name": "n"}, "spec": {"podCIDR": "10.244.0.0/24"}}),
            json!({"metadata": {"name": "n"}, "spec": {"podCIDR": "10.244.1.0/24"}}),
            s(&["spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid"]),
        ),
        create(
            "event involved object required",
            "Event",
            json!({"metadata": {"name": "e1", "namespace": "default"}, "reason": "Started"}),
            s(&["involvedObject: Required value"]),
        ),
        create(
            "event namespace matches the involved object's",
            "Event",
            json!({"metadata": {"name": "e1", "namespace": "default"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "other"}}),
            s(&["involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"]),
        ),
        create(
            "valid event",
            "Event",
            json!({"metadata": {"name": "p.17a", "namespace": "default"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}}),
            vec![],
        ),
        create("valid namespace", "Namespace", json!({"metadata": {"name": "team-a"}}), vec![]),
        create(
            "namespace name is a DNS label",
            "Namespace",
            json!({"metadata": {"name": "team.a"}}),
            vec![format!("metadata.name: Invalid value: \"team.a\": {DNS_LABEL_MSG}")],
        ),
        create(
            "namespace finalizers qualified",
            "Namespace",
            json!({"metadata": {"name": "team-a"}, "spec": {"finalizers": ["cleanup"]}}),
            s(&["spec.finalizers: Invalid value: \"cleanup\": name is neither a standard finalizer name nor is it fully qualified"]),
        ),
    ]
}

#[test]
fn pod_validation() {
    for c in &pod_cases() {
        check(c);
    }
}

#[test]
fn apps_validation() {
    for c in &apps_cases() {
        check(c);
    }
}

#[test]
fn service_validation() {
    for c in &service_cases() {
        check(c);
    }
}

#[test]
fn node_event_namespace_validation() {
    for c in &cluster_cases() {
        check(c);
    }
}

#[test]
fn there_are_enough_cases() {
    let n = pod_cases().len() + apps_cases().len() + service_cases().len() + cluster_cases().len();
    assert!(n >= 25, "only {n} validation cases");
}

fn label_selector(
    match_labels: &[(&str, &str)],
    match_expressions: Vec<LabelSelectorRequirement>,
) -> LabelSelector {
    LabelSelector {
        match_labels: match_labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        match_expressions,
    }
}

fn expr(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key: key.to_string(),
        operator: operator.to_string(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

#[test]
fn label_selector_table() {
    /// Expected `(path, reason)` pairs, in order.
    type Want = Vec<(&'static str, &'static str)>;
    let sel = label_selector;
    let cases: Vec<(&str, LabelSelector, Want)> = vec![
        ("empty", LabelSelector::default(), vec![]),
        (
            "valid",
            sel(
                &[("app.kubernetes.io/name", "web")],
                vec![expr("tier", "In", &["a"]), expr("gpu", "Exists", &[])],
            ),
            vec![],
        ),
        (
            "in without values",
            sel(&[], vec![expr("tier", "In", &[])]),
            vec![(
                "spec.selector.matchExpressions[0].values",
                "FieldValueRequired",
            )],
        ),
        (
            "notin without values",
            sel(
                &[],
                vec![expr("a", "Exists", &[]), expr("tier", "NotIn", &[])],
            ),
            vec![(
                "spec.selector.matchExpressions[1].values",
                "FieldValueRequired",
            )],
        ),
        (
            "exists with values",
            sel(&[], vec![expr("tier", "DoesNotExist", &["x"])]),
            vec![(
                "spec.selector.matchExpressions[0].values",
                "FieldValueForbidden",
            )],
        ),
        (
            "unknown operator",
            sel(&[], vec![expr("tier", "Equals", &["x"])]),
            vec![(
                "spec.selector.matchExpressions[0].operator",
                "FieldValueInvalid",
            )],
        ),
        (
            "bad key",
            sel(&[], vec![expr("-tier", "Exists", &[])]),
            vec![("spec.selector.matchExpressions[0].key", "FieldValueInvalid")],
        ),
        (
            "bad expression value",
            sel(&[], vec![expr("tier", "In", &["ok", "not ok"])]),
            vec![(
                "spec.selector.matchExpressions[0].values[1]",
                "FieldValueInvalid",
            )],
        ),
        (
            "bad match label key and value",
            sel(&[("a/b/c", "-x")], vec![]),
            vec![
                ("spec.selector.matchLabels", "FieldValueInvalid"),
                ("spec.selector.matchLabels", "FieldValueInvalid"),
            ],
        ),
        (
            "labels before expressions",
            sel(&[("_k", "v")], vec![expr("", "Nope", &[])]),
            vec![
                ("spec.selector.matchLabels", "FieldValueInvalid"),
                (
                    "spec.selector.matchExpressions[0].operator",
                    "FieldValueInvalid",
                ),
                ("spec.selector.matchExpressions[0].key", "FieldValueInvalid"),
                ("spec.selector.matchExpressions[0].key", "FieldValueInvalid"),
            ],
        ),
    ];
    for (name, sel, want) in cases {
        let got: Vec<(String, &str)> = validate_label_selector(&sel, "spec.selector")
            .iter()
            .map(|e| (e.path.clone(), e.reason()))
            .collect();
        let want: Vec<(String, &str)> = want.into_iter().map(|(p, r)| (p.to_string(), r)).collect();
        assert_eq!(got, want, "case {name}");
    }
}

#[test]
fn label_selector_messages() {
    let msg = |sel: LabelSelector| validate_label_selector(&sel, "spec.selector")[0].to_string();
    assert_eq!(
        msg(label_selector(&[], vec![expr("tier", "In", &[])])),
        "spec.selector.matchExpressions[0].values: Required value: must be specified when \
         `operator` is 'In' or 'NotIn'"
    );
    assert_eq!(
        msg(label_selector(&[], vec![expr("tier", "Is", &[])])),
        "spec.selector.matchExpressions[0].operator: Invalid value: \"Is\": not a valid selector \
         operator"
    );
    assert_eq!(
        msg(label_selector(&[("k", "-x")], vec![])),
        "spec.selector.matchLabels: Invalid value: \"-x\": a valid label must be an empty string \
         or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an \
         alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for \
         validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    );
}

#[test]
fn qualified_name_and_label_value_limits() {
    assert!(is_qualified_name(&"a".repeat(63)).is_empty());
    assert_eq!(
        is_qualified_name(&"a".repeat(64)),
        s(&["name part must be no more than 63 characters"])
    );
    assert_eq!(
        is_qualified_name(&format!("{}/a", "a".repeat(254)))[0],
        "prefix part must be no more than 253 characters"
    );
    assert_eq!(
        is_valid_label_value(&"v".repeat(64)),
        s(&["must be no more than 63 characters"])
    );
    // The same rules, worded in bytes for string-form label selectors.
    assert_eq!(
        crate::selector::validate_label_value(&"v".repeat(64)),
        s(&["must be no more than 63 bytes"])
    );
    assert_eq!(
        crate::selector::validate_qualified_name(&format!("{}/a", "a".repeat(254)))[0],
        "prefix part must be no more than 253 bytes"
    );
}
