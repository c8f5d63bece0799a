//! Wire-format tests of the object model: rich documents survive a round trip unchanged, `null`
//! reads as absent, numbers are accepted for quantities.

use super::*;
use crate::quantity::Quantity;
use serde_json::{json, Value};

fn rich_pod() -> Value {
    let probe = json!({
        "httpGet": {"path": "/healthz", "port": "http", "host": "127.0.0.1", "scheme": "HTTPS",
            "httpHeaders": [{"name": "X-Probe", "value": "1"}, {"name": "X-Empty", "value": ""}]},
        "initialDelaySeconds": 5, "timeoutSeconds": 2, "periodSeconds": 7,
        "successThreshold": 1, "failureThreshold": 4, "terminationGracePeriodSeconds": 15,
    });
    let container = json!({
        "name": "web",
        "image": "nginx:1.27",
        "command": ["nginx"],
        "args": ["-g", "daemon off;"],
        "workingDir": "/srv",
        "ports": [{"name": "http", "hostPort": 8080, "containerPort": 80, "protocol": "TCP", "hostIP": "0.0.0.0"}],
        "env": [
            {"name": "PLAIN", "value": "v"},
            {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"containerName": "web", "resource": "limits.cpu", "divisor": "1m"}}},
            {"name": "CM", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k", "optional": true}}},
            {"name": "SEC", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
        ],
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "250m", "memory": "512Mi"},
            "claims": [{"name": "gpu"}]},
        "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": true, "subPath": "sub",
            "subPathExpr": "$(POD)", "mountPropagation": "None", "recursiveReadOnly": "Disabled"}],
        "livenessProbe": probe,
        "readinessProbe": {"exec": {"command": ["cat", "/ready"]}, "periodSeconds": 3},
        "startupProbe": {"tcpSocket": {"port": 80, "host": "localhost"}, "failureThreshold": 30},
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}},
        "stdin": true,
        "stdinOnce": false,
        "tty": true,
    });
    let init = json!({"name": "sidecar", "image": "envoy:1", "restartPolicy": "Always",
        "startupProbe": {"grpc": {"port": 9901, "service": "health"}}});
    let state_running = json!({"running": {"startedAt": "2026-01-01T00:00:05Z"}});
    let state_terminated = json!({"terminated": {"exitCode": 137, "signal": 9, "reason": "OOMKilled",
        "message": "oom", "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:04Z",
        "containerID": "capstan://abc"}});
    let affinity = json!({
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{
                "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}],
                "matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["node-9"]}],
            }]},
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10,
                "preference": {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}}],
        },
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": {"matchLabels": {"app": "cache"}},
                "namespaces": ["default"],
                "topologyKey": "kubernetes.io/hostname",
                "namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "In", "values": ["a"]}]},
                "matchLabelKeys": ["pod-template-hash"],
                "mismatchLabelKeys": ["tenant"],
            }],
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 50,
                "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone"}}],
        },
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchLabels": {"app": "web"}},
                "topologyKey": "kubernetes.io/hostname"}],
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1,
                "podAffinityTerm": {"topologyKey": "zone"}}],
        },
    });
    let status = rich_pod_status(state_running, state_terminated);
    let mut spec = json!({
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
                {"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 420}},
                {"name": "sec", "secret": {"secretName": "s", "defaultMode": 256}},
                {"name": "proj", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
                {"name": "down", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
                {"name": "nfs", "nfs": {"server": "nfs.local", "path": "/export"}},
                {"name": "csi", "csi": {"driver": "example.com/csi"}},
                {"name": "eph", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
                {"name": "img", "image": {"reference": "data:1"}},
            ],
            "initContainers": [init],
            "containers": [container],
            "ephemeralContainers": [{"name": "debug", "image": "busybox"}],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "activeDeadlineSeconds": 3600,
            "dnsPolicy": "ClusterFirst",
            "nodeSelector": {"disk": "ssd"},
            "serviceAccountName": "web",
            "serviceAccount": "web",
            "automountServiceAccountToken": false,
            "nodeName": "node-1",
            "hostNetwork": false,
            "hostPID": false,
            "hostIPC": false,
            "shareProcessNamespace": true,
            "securityContext": {"fsGroup": 2000},
            "imagePullSecrets": [{"name": "regcred"}],
            "hostname": "web-0",
            "subdomain": "web",
    });
    let more = json!({
            "affinity": affinity,
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"},
            ],
            "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db"]}],
            "priorityClassName": "high",
            "priority": 1000,
            "preemptionPolicy": "PreemptLowerPriority",
            "dnsConfig": {"nameservers": ["1.1.1.1"], "options": [{"name": "ndots", "value": "2"}]},
            "readinessGates": [{"conditionType": "example.com/ready"}],
            "runtimeClassName": "runc",
            "enableServiceLinks": true,
            "topologySpreadConstraints": [{
                "maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "web"}}, "minDomains": 2,
                "nodeAffinityPolicy": "Honor", "nodeTaintsPolicy": "Ignore", "matchLabelKeys": ["pod-template-hash"],
            }],
            "overhead": {"cpu": "10m"},
            "os": {"name": "linux"},
            "hostUsers": true,
            "setHostnameAsFQDN": false,
            "schedulingGates": [{"name": "example.com/gate"}],
            "resourceClaims": [{"name": "gpu", "resourceClaimName": "gpu-claim"}],
            "resources": {"limits": {"cpu": "2"}},
    });
    spec.as_object_mut()
        .unwrap()
        .extend(more.as_object().unwrap().clone());
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": rich_meta("web-0"),
        "spec": spec,
        "status": status,
    })
}

fn rich_pod_status(state_running: Value, state_terminated: Value) -> Value {
    json!({
        "phase": "Running",
        "conditions": [
            {"type": "Ready", "status": "True", "lastProbeTime": "2026-01-01T00:00:06Z",
                "lastTransitionTime": "2026-01-01T00:00:06Z", "reason": "Ok", "message": "all good"},
            {"type": "PodScheduled", "status": "True"},
        ],
        "message": "running",
        "reason": "Started",
        "nominatedNodeName": "node-2",
        "hostIP": "192.168.1.10",
        "hostIPs": [{"ip": "192.168.1.10"}],
        "podIP": "10.244.0.5",
        "podIPs": [{"ip": "10.244.0.5"}, {"ip": "fd00::5"}],
        "startTime": "2026-01-01T00:00:00Z",
        "initContainerStatuses": [{"name": "sidecar", "state": state_running, "ready": true,
            "restartCount": 0, "image": "envoy:1", "imageID": "sha256:1", "started": true}],
        "containerStatuses": [{"name": "web", "state": state_running, "lastState": state_terminated,
            "ready": false, "restartCount": 3, "image": "nginx:1.27", "imageID": "sha256:2",
            "containerID": "capstan://def", "started": false}],
        "ephemeralContainerStatuses": [{"name": "debug",
            "state": {"waiting": {"reason": "ContainerCreating", "message": "pulling"}},
            "ready": false, "restartCount": 0}],
        "qosClass": "Burstable",
    })
}

fn rich_meta(name: &str) -> Value {
    json!({
        "name": name,
        "generateName": "web-",
        "namespace": "default",
        "selfLink": "/api/v1/namespaces/default/pods/web-0",
        "uid": "5f0c4d2e-0000-4000-8000-000000000001",
        "resourceVersion": "42",
        "generation": 3,
        "creationTimestamp": "2026-01-01T00:00:00Z",
        "deletionTimestamp": "2026-01-02T00:00:00Z",
        "deletionGracePeriodSeconds": 30,
        "labels": {"app": "web", "tier": "front"},
        "annotations": {"example.com/note": "hello"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc",
            "uid": "5f0c4d2e-0000-4000-8000-000000000002", "controller": true, "blockOwnerDeletion": true}],
        "finalizers": ["example.com/cleanup"],
        "managedFields": [{"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:spec": {}}}],
    })
}

fn rich_deployment() -> Value {
    let mut template_spec = rich_pod()["spec"].clone();
    template_spec["activeDeadlineSeconds"] = Value::Null;
    template_spec
        .as_object_mut()
        .unwrap()
        .remove("activeDeadlineSeconds");
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": rich_meta("web"),
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
            "template": {"metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}}, "spec": template_spec},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "50%"}},
            "minReadySeconds": 5,
            "revisionHistoryLimit": 4,
            "paused": false,
            "progressDeadlineSeconds": 120,
        },
        "status": {
            "observedGeneration": 3,
            "replicas": 3,
            "updatedReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "unavailableReplicas": 1,
            "terminatingReplicas": 0,
            "conditions": [{"type": "Progressing", "status": "True", "lastUpdateTime": "2026-01-01T00:00:00Z",
                "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "NewReplicaSetAvailable", "message": "done"}],
            "collisionCount": 1,
        },
    })
}

fn rich_replica_set() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": rich_meta("web-abc"),
        "spec": {
            "replicas": 2,
            "minReadySeconds": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}},
        },
        "status": {
            "replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 1, "availableReplicas": 1,
            "terminatingReplicas": 0, "observedGeneration": 1,
            "conditions": [{"type": "ReplicaFailure", "status": "False", "lastTransitionTime": "2026-01-01T00:00:00Z",
                "reason": "FailedCreate", "message": "quota"}],
        },
    })
}

fn rich_service() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": rich_meta("web"),
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app": "web"},
            "ports": [
                {"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http", "nodePort": 30080, "appProtocol": "http"},
                {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": 9090},
            ],
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10", "fd00::10"],
            "externalIPs": ["203.0.113.5"],
            "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
            "loadBalancerIP": "203.0.113.6",
            "loadBalancerSourceRanges": ["0.0.0.0/0"],
            "loadBalancerClass": "example.com/lb",
            "allocateLoadBalancerNodePorts": true,
            "externalName": "web.example.com",
            "externalTrafficPolicy": "Local",
            "internalTrafficPolicy": "Cluster",
            "healthCheckNodePort": 31000,
            "ipFamilies": ["IPv4", "IPv6"],
            "ipFamilyPolicy": "PreferDualStack",
            "publishNotReadyAddresses": true,
            "trafficDistribution": "PreferClose",
        },
        "status": {
            "loadBalancer": {"ingress": [{"ip": "203.0.113.6"}]},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    })
}

fn rich_others() -> Vec<(&'static str, Value)> {
    let target = json!({"kind": "Pod", "namespace": "default", "name": "web-0", "uid": "u1",
        "apiVersion": "v1", "resourceVersion": "42", "fieldPath": "spec.containers{web}"});
    vec![
        (
            "Node",
            json!({
                "apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
                "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"], "providerID": "capstan://node-1",
                    "unschedulable": true, "taints": [{"key": "k", "value": "v", "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:00Z"}]},
                "status": {
                    "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                    "allocatable": {"cpu": "3800m", "memory": "15Gi", "pods": "110"},
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                        "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "KubeletReady", "message": "ready"}],
                    "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}, {"type": "Hostname", "address": "node-1"}],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                    "nodeInfo": {"machineID": "m", "systemUUID": "s", "bootID": "b", "kernelVersion": "6.1",
                        "osImage": "Debian", "containerRuntimeVersion": "capstan://0.1.0", "kubeletVersion": "v1.32.0",
                        "kubeProxyVersion": "v1.32.0", "operatingSystem": "linux", "architecture": "amd64"},
                    "images": [{"names": ["nginx:1.27"], "sizeBytes": 1000}],
                    "volumesInUse": ["v1"],
                    "volumesAttached": [{"name": "v1", "devicePath": "/dev/x"}],
                },
            }),
        ),
        (
            "Endpoints",
            json!({
                "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
                "subsets": [{
                    "addresses": [{"ip": "10.244.0.5", "hostname": "web-0", "nodeName": "node-1", "targetRef": target}],
                    "notReadyAddresses": [{"ip": "10.244.0.6"}],
                    "ports": [{"name": "http", "port": 80, "protocol": "TCP", "appProtocol": "http"}],
                }],
            }),
        ),
        (
            "Event",
            json!({
                "apiVersion": "v1", "kind": "Event", "metadata": {"name": "web-0.1", "namespace": "default"},
                "involvedObject": target,
                "reason": "Started", "message": "Started container web",
                "source": {"component": "kubelet", "host": "node-1"},
                "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:01:00Z",
                "count": 2, "type": "Normal", "eventTime": "2026-01-01T00:00:00.000000Z",
                "series": {"count": 2, "lastObservedTime": "2026-01-01T00:01:00.000000Z"},
                "reportingComponent": "kubelet", "reportingInstance": "node-1", "action": "Start",
                "related": {"kind": "Node", "name": "node-1"},
            }),
        ),
        (
            "Namespace",
            json!({
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Terminating", "conditions": [{"type": "NamespaceContentRemaining", "status": "True",
                    "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "SomeResourcesRemain", "message": "pods remain"}]},
            }),
        ),
    ]
}

fn round_trip<T: Object + PartialEq>(doc: &Value) -> Value {
    let obj: T = serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{}: {e}", T::KIND));
    let back = serde_json::to_value(&obj).unwrap();
    // Through text as well, as the API server and the store do.
    let text = serde_json::to_string(&obj).unwrap();
    let again: T = serde_json::from_str(&text).unwrap();
    assert_eq!(
        again,
        obj,
        "{}: text round trip changed the object",
        T::KIND
    );
    back
}

struct Case {
    name: &'static str,
    input: Value,
    want: Value,
}

fn check(c: &Case) {
    let kind = c.input["kind"].as_str().unwrap_or("");
    let got = match kind {
        "Pod" => round_trip::<Pod>(&c.input),
        "Deployment" => round_trip::<Deployment>(&c.input),
        "ReplicaSet" => round_trip::<ReplicaSet>(&c.input),
        "Service" => round_trip::<Service>(&c.input),
        "Node" => round_trip::<Node>(&c.input),
        "Endpoints" => round_trip::<Endpoints>(&c.input),
        "Event" => round_trip::<Event>(&c.input),
        "Namespace" => round_trip::<Namespace>(&c.input),
        other => panic!("{}: unknown kind {other:?}", c.name),
    };
    if got != c.want {
        panic!(
            "{}: round trip changed the document\n got: {}\nwant: {}",
            c.name,
            serde_json::to_string_pretty(&got).unwrap(),
            serde_json::to_string_pretty(&c.want).unwrap()
        );
    }
}

#[test]
fn rich_documents_round_trip_unchanged() {
    let mut cases = vec![
        Case {
            name: "rich pod",
            input: rich_pod(),
            want: rich_pod(),
        },
        Case {
            name: "rich deployment",
            input: rich_deployment(),
            want: rich_deployment(),
        },
        Case {
            name: "rich replicaset",
            input: rich_replica_set(),
            want: rich_replica_set(),
        },
        Case {
            name: "rich service",
            input: rich_service(),
            want: rich_service(),
        },
    ];
    for (kind, doc) in rich_others() {
        cases.push(Case {
            name: kind,
            input: doc.clone(),
            want: doc,
        });
    }
    for c in &cases {
        check(c);
    }
}

#[test]
fn nulls_read_as_absent_and_numbers_as_quantities() {
    let cases = [
        Case {
            name: "nulls everywhere",
            input: json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "creationTimestamp": null, "labels": null, "generation": null,
                    "ownerReferences": null, "finalizers": null},
                "spec": {
                    "containers": [{"name": "c", "image": "i", "resources": {"limits": null, "requests": {"cpu": 1}},
                        "ports": null, "env": [{"name": "A", "value": null, "valueFrom": null}],
                        "livenessProbe": null, "securityContext": null}],
                    "initContainers": null, "nodeName": null, "affinity": null, "tolerations": null,
                    "nodeSelector": null, "terminationGracePeriodSeconds": null, "overhead": null,
                },
                "status": {"conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null}],
                    "podIP": null, "containerStatuses": null},
            }),
            want: json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "1"}},
                    "env": [{"name": "A"}]}]},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]},
            }),
        },
        Case {
            name: "numeric quantities",
            input: json!({
                "kind": "Node", "metadata": {"name": "n"},
                "status": {"capacity": {"cpu": 4, "memory": 17179869184u64, "fraction": 0.5, "neg": -1}},
            }),
            want: json!({
                "kind": "Node", "metadata": {"name": "n"},
                "status": {"capacity": {"cpu": "4", "memory": "17179869184", "fraction": "0.5", "neg": "-1"}},
            }),
        },
        Case {
            name: "null top-level parts",
            input: json!({"kind": "Deployment", "metadata": null, "spec": null, "status": null}),
            want: json!({"kind": "Deployment", "metadata": {}}),
        },
        Case {
            name: "event with null involved object",
            input: json!({"kind": "Event", "involvedObject": null, "count": null}),
            want: json!({"kind": "Event", "metadata": {}, "involvedObject": {}}),
        },
    ];
    for c in &cases {
        check(c);
    }
    let pod: Pod = serde_json::from_value(
        json!({"spec": {"containers": [{"resources": {"limits": {"memory": 1.5e9}}}]}}),
    )
    .unwrap();
    let spec = pod.spec.unwrap();
    let limits = &spec.containers[0].resources.as_ref().unwrap().limits;
    assert_eq!(limits["memory"], Quantity("1500000000".to_string()));
}

#[test]
fn int_or_string_fields_keep_their_form() {
    let svc: Service = serde_json::from_value(json!({"spec": {"ports": [
        {"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": "https"}]}}))
    .unwrap();
    let ports = &svc.spec.unwrap().ports;
    assert_eq!(ports[0].target_port, Some(IntOrString::Int(8080)));
    assert_eq!(
        ports[1].target_port,
        Some(IntOrString::String("https".into()))
    );
}

#[test]
fn object_trait_constants() {
    assert_eq!(
        (Pod::KIND, Pod::API_VERSION, Pod::NAMESPACED),
        ("Pod", "v1", true)
    );
    assert_eq!(
        (Deployment::KIND, Deployment::API_VERSION),
        ("Deployment", "apps/v1")
    );
    assert_eq!(
        (ReplicaSet::KIND, ReplicaSet::API_VERSION),
        ("ReplicaSet", "apps/v1")
    );
    assert_eq!((Node::KIND, Node::NAMESPACED), ("Node", false));
    assert_eq!(
        (Namespace::KIND, Namespace::NAMESPACED),
        ("Namespace", false)
    );
    assert_eq!(
        (Service::KIND, Endpoints::KIND, Event::KIND),
        ("Service", "Endpoints", "Event")
    );
    let mut pod = Pod::default();
    pod.metadata_mut().name = "x".into();
    assert_eq!(pod.metadata().name, "x");
}
