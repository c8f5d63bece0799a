//! Table-driven tests of [`apply_patch`] with the bodies kubectl sends.

use serde_json::{json, Value};

use super::merge_keys::{list_strategy, ListStrategy};
use super::{apply_patch, PatchError, PatchType};

/// One patch application and its expected outcome.
struct Case {
    name: &'static str,
    kind: &'static str,
    original: Value,
    patch_type: PatchType,
    patch: Value,
    /// The patched object, or a substring of the expected error message.
    want: Result<Value, &'static str>,
}

/// Applies the case's patch; returns a description of the mismatch, if any.
fn check(case: &Case) -> Option<String> {
    let got = apply_patch(&case.original, case.patch_type, &case.patch, case.kind);
    match (&got, &case.want) {
        (Ok(got), Ok(want)) if got == want => None,
        (Err(err), Err(want)) if err.to_string().contains(want) => None,
        _ => Some(format!(
            "case {:?}:\n  got:  {}\n  want: {}",
            case.name,
            match &got {
                Ok(v) => serde_json::to_string(v).unwrap_or_default(),
                Err(e) => format!("error: {e}"),
            },
            match &case.want {
                Ok(v) => serde_json::to_string(v).unwrap_or_default(),
                Err(e) => format!("error containing {e:?}"),
            }
        )),
    }
}

/// A Deployment with two containers, a RollingUpdate strategy and a finalizer.
fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web", "tier": "frontend"},
            "finalizers": ["a.example.com/one", "b.example.com/two"]
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.24",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "env": [{"name": "MODE", "value": "prod"}]
                        },
                        {"name": "sidecar", "image": "busybox:1.36", "args": ["sleep", "3600"]}
                    ],
                    "tolerations": [
                        {"key": "a", "operator": "Exists", "effect": "NoSchedule"},
                        {"key": "b", "operator": "Exists", "effect": "NoExecute"}
                    ]
                }
            }
        }
    })
}

/// `deployment()` with `f` applied to it.
fn deployment_with(f: impl FnOnce(&mut Value)) -> Value {
    let mut d = deployment();
    f(&mut d);
    d
}

fn pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {
            "containers": [
                {"name": "a", "image": "a:1"},
                {"name": "b", "image": "b:1"},
                {"name": "c", "image": "c:1"}
            ]
        },
        "status": {
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}
            ],
            "containerStatuses": [
                {"name": "a", "ready": false},
                {"name": "b", "ready": false}
            ]
        }
    })
}

fn pod_with(f: impl FnOnce(&mut Value)) -> Value {
    let mut p = pod();
    f(&mut p);
    p
}

fn cases() -> Vec<Case> {
    vec![
        // ---------------------------------------------------------------- merge patch
        Case {
            name: "merge: kubectl label adds and removes labels",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Merge,
            patch: json!({"metadata": {"labels": {"env": "prod", "tier": null}}}),
            want: Ok(deployment_with(|d| {
                d["metadata"]["labels"] = json!({"app": "web", "env": "prod"});
            })),
        },
        Case {
            name: "merge: kubectl annotate on an object without annotations",
            kind: "Service",
            original: json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}),
            patch_type: PatchType::Merge,
            patch: json!({"metadata": {"annotations": {"note": "hi"}}}),
            want: Ok(json!({
                "metadata": {"name": "s", "annotations": {"note": "hi"}},
                "spec": {"ports": [{"port": 80}]}
            })),
        },
        Case {
            name: "merge: lists are replaced wholesale",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Merge,
            patch: json!({"spec": {"template": {"spec": {"containers": [
                {"name": "nginx", "image": "nginx:1.25"}
            ]}}}}),
            want: Ok(deployment_with(|d| {
                d["spec"]["template"]["spec"]["containers"] =
                    json!([{"name": "nginx", "image": "nginx:1.25"}]);
            })),
        },
        Case {
            name: "merge: a non-object patch is rejected",
            kind: "Pod",
            original: pod(),
            patch_type: PatchType::Merge,
            patch: json!(["not", "an", "object"]),
            want: Err("the patch must be a JSON object"),
        },
        Case {
            name: "merge: a null patch is rejected",
            kind: "Pod",
            original: pod(),
            patch_type: PatchType::Merge,
            patch: Value::Null,
            want: Err("the patch must be a JSON object"),
        },
        // ---------------------------------------------------------------- json patch
        Case {
            name: "json: add a label with an escaped key",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Json,
            patch: json!([
                {"op": "add", "path": "/metadata/labels/example.com~1team", "value": "infra"}
            ]),
            want: Ok(deployment_with(|d| {
                d["metadata"]["labels"]["example.com/team"] = json!("infra");
            })),
        },
        Case {
            name: "json: test then replace replicas, remove a finalizer",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Json,
            patch: json!([
                {"op": "test", "path": "/spec/replicas", "value": 3},
                {"op": "replace", "path": "/spec/replicas", "value": 5},
                {"op": "remove", "path": "/metadata/finalizers/0"}
            ]),
            want: Ok(deployment_with(|d| {
                d["spec"]["replicas"] = json!(5);
                d["metadata"]["finalizers"] = json!(["b.example.com/two"]);
            })),
        },
        Case {
            name: "json: a failing test aborts the whole patch",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Json,
            patch: json!([
                {"op": "replace", "path": "/spec/replicas", "value": 5},
                {"op": "test", "path": "/metadata/labels/app", "value": "api"}
            ]),
            want: Err("json patch operation 1 (test /metadata/labels/app): test failed"),
        },
        Case {
            name: "json: replace of a missing path",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Json,
            patch: json!([{"op": "replace", "path": "/spec/x", "value": 1}]),
            want: Err("json patch operation 0 (replace /spec/x): path not found"),
        },
        Case {
            name: "json: an unknown op is malformed",
            kind: "Pod",
            original: pod(),
            patch_type: PatchType::Json,
            patch: json!([{"op": "frobnicate", "path": "/spec"}]),
            want: Err("invalid json patch: operation 0"),
        },
        Case {
            name: "json: the patch must be an array",
            kind: "Pod",
            original: pod(),
            patch_type: PatchType::Json,
            patch: json!({"op": "add", "path": "/x", "value": 1}),
            want: Err("invalid json patch: the patch must be a JSON array of operations"),
        },
        // ---------------------------------------------------------------- strategic: kubectl bodies
        Case {
            name: "strategic: kubectl rollout restart",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"template": {"metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": "2025-01-02T03:04:05Z"
            }}}}}),
            want: Ok(deployment_with(|d| {
                d["spec"]["template"]["metadata"]["annotations"] =
                    json!({"kubectl.kubernetes.io/restartedAt": "2025-01-02T03:04:05Z"});
            })),
        },
        Case {
            name: "strategic: kubectl set image deployment/web nginx=nginx:1.25",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"template": {"spec": {"containers": [
                {"image": "nginx:1.25", "name": "nginx"}
            ]}}}}),
            want: Ok(deployment_with(|d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.25");
            })),
        },
        Case {
            name: "strategic: set image with $setElementOrder, second container",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
                "containers": [{"image": "busybox:1.37", "name": "sidecar"}]
            }}}}),
            want: Ok(deployment_with(|d| {
                d["spec"]["template"]["spec"]["containers"][1]["image"] = json!("busybox:1.37");
            })),
        },
        Case {
            name: "strategic: kubectl apply 3-way patch changing one image and a label",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({
                "metadata": {
                    "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"},
                    "labels": {"tier": null, "version": "v2"}
                },
                "spec": {"template": {"spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
                    "containers": [{
                        "$setElementOrder/env": [{"name": "MODE"}],
                        "env": [{"name": "MODE", "value": "canary"}],
                        "image": "nginx:1.25",
                        "name": "nginx"
                    }]
                }}}
            }),
            want: Ok(deployment_with(|d| {
                d["metadata"]["annotations"] = json!({
                    "kubectl.kubernetes.io/last-applied-configuration": "{}\n"
                });
                d["metadata"]["labels"] = json!({"app": "web", "version": "v2"});
                let c = &mut d["spec"]["template"]["spec"]["containers"][0];
                c["image"] = json!("nginx:1.25");
                c["env"] = json!([{"name": "MODE", "value": "canary"}]);
            })),
        },
        Case {
            name: "strategic: add an env var by name (kubectl set env, with $setElementOrder)",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
                "containers": [{
                    "$setElementOrder/env": [{"name": "MODE"}, {"name": "DEBUG"}],
                    "env": [{"name": "DEBUG", "value": "1"}],
                    "name": "nginx"
                }]
            }}}}),
            want: Ok(deployment_with(|d| {
                d["spec"]["template"]["spec"]["containers"][0]["env"] = json!([
                    {"name": "MODE", "value": "prod"},
                    {"name": "DEBUG", "value": "1"}
                ]);
            })),
        },
        Case {
            name: "strategic: new list items without $setElementOrder go first (apimachinery)",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"template": {"spec": {"containers": [{
                "name": "nginx",
                "env": [{"name": "DEBUG", "value": "1"}],
                "ports": [{"containerPort": 80.0, "name": "http"}]
            }]}}}}),
            want: Ok(deployment_with(|d| {
                let c = &mut d["spec"]["template"]["spec"]["containers"][0];
                c["env"] = json!([
                    {"name": "DEBUG", "value": "1"},
                    {"name": "MODE", "value": "prod"}
                ]);
                // Merge keys compare numerically (80 == 80.0); the patch's value wins.
                c["ports"] = json!([{"containerPort": 80.0, "protocol": "TCP", "name": "http"}]);
            })),
        },
        Case {
            name: "strategic: delete a container with $patch: delete",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "nginx"}],
                "containers": [{"$patch": "delete", "name": "sidecar"}]
            }}}}),
            want: Ok(deployment_with(|d| {
                let containers = &mut d["spec"]["template"]["spec"]["containers"];
                *containers = json!([containers[0].clone()]);
            })),
        },
        Case {
            name: "strategic: $setElementOrder reorders containers",
            kind: "Pod",
            original: pod(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {
                "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]
            }}),
            want: Ok(pod_with(|p| {
                p["spec"]["containers"] = json!([
                    {"name": "c", "image": "c:1"},
                    {"name": "a", "image": "a:1"},
                    {"name": "b", "image": "b:1"}
                ]);
            })),
        },
        Case {
            name: "strategic: $setElementOrder places a new container in the middle",
            kind: "Pod",
            original: pod(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {
                "$setElementOrder/containers": [
                    {"name": "a"}, {"name": "new"}, {"name": "b"}, {"name": "c"}
                ],
                "containers": [{"name": "new", "image": "new:1"}]
            }}),
            want: Ok(pod_with(|p| {
                p["spec"]["containers"] = json!([
                    {"name": "a", "image": "a:1"},
                    {"name": "new", "image": "new:1"},
                    {"name": "b", "image": "b:1"},
                    {"name": "c", "image": "c:1"}
                ]);
            })),
        },
        Case {
            name: "strategic: patch list order contradicting $setElementOrder",
            kind: "Pod",
            original: pod(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {
                "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                "containers": [{"name": "b", "image": "b:2"}, {"name": "a", "image": "a:2"}]
            }}),
            want: Err("the order of list spec.containers does not match"),
        },
        Case {
            name: "strategic: $retainKeys for RollingUpdate -> Recreate (kubectl apply body)",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"strategy": {
                "$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null
            }}}),
            want: Ok(deployment_with(|d| {
                d["spec"]["strategy"] = json!({"type": "Recreate"});
            })),
        },
        Case {
            name: "strategic: $retainKeys drops unlisted fields even without null",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
            want: Ok(deployment_with(|d| {
                d["spec"]["strategy"] = json!({"type": "Recreate"});
            })),
        },
        Case {
            name: "strategic: $retainKeys must list every field the patch sets",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"strategy": {
                "$retainKeys": ["type"], "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1}
            }}}),
            want: Err("field \"rollingUpdate\" at spec.strategy is not listed in $retainKeys"),
        },
        Case {
            name: "strategic: finalizers merge as a set, new ones first without order",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"metadata": {"finalizers": ["c.example.com/three", "a.example.com/one"]}}),
            want: Ok(deployment_with(|d| {
                d["metadata"]["finalizers"] = json!([
                    "c.example.com/three",
                    "a.example.com/one",
                    "b.example.com/two"
                ]);
            })),
        },
        Case {
            name: "strategic: finalizers appended with $setElementOrder (kubectl apply)",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"metadata": {
                "$setElementOrder/finalizers": [
                    "a.example.com/one", "b.example.com/two", "c.example.com/three"
                ],
                "finalizers": ["c.example.com/three"]
            }}),
            want: Ok(deployment_with(|d| {
                d["metadata"]["finalizers"] = json!([
                    "a.example.com/one",
                    "b.example.com/two",
                    "c.example.com/three"
                ]);
            })),
        },
        Case {
            name: "strategic: $deleteFromPrimitiveList/finalizers",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"metadata": {
                "$deleteFromPrimitiveList/finalizers": ["a.example.com/one"],
                "$setElementOrder/finalizers": ["b.example.com/two"]
            }}),
            want: Ok(deployment_with(|d| {
                d["metadata"]["finalizers"] = json!(["b.example.com/two"]);
            })),
        },
        Case {
            name: "strategic: tolerations are replaced atomically",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"template": {"spec": {"tolerations": [
                {"key": "c", "operator": "Exists"}
            ]}}}}),
            want: Ok(deployment_with(|d| {
                d["spec"]["template"]["spec"]["tolerations"] =
                    json!([{"key": "c", "operator": "Exists"}]);
            })),
        },
        Case {
            name: "strategic: $patch: replace in a list replaces it",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"template": {"spec": {"containers": [
                {"name": "only", "image": "only:1"},
                {"$patch": "replace"}
            ]}}}}),
            want: Ok(deployment_with(|d| {
                d["spec"]["template"]["spec"]["containers"] =
                    json!([{"name": "only", "image": "only:1"}]);
            })),
        },
        Case {
            name: "strategic: $patch: replace in a map replaces it",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"metadata": {"labels": {"$patch": "replace", "app": "api"}}}),
            want: Ok(deployment_with(|d| {
                d["metadata"]["labels"] = json!({"app": "api"});
            })),
        },
        Case {
            name: "strategic: $patch: delete in a map removes it",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"strategy": {"rollingUpdate": {"$patch": "delete"}}}}),
            want: Ok(deployment_with(|d| {
                d["spec"]["strategy"] = json!({"type": "RollingUpdate"});
            })),
        },
        Case {
            name: "strategic: null deletes map keys, directives in new subtrees are processed",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({
                "metadata": {"labels": {"tier": null, "missing": null}},
                "spec": {"template": {"spec": {"securityContext": {
                    "$patch": "merge", "runAsUser": 1000, "fsGroup": null
                }}}}
            }),
            want: Ok(deployment_with(|d| {
                d["metadata"]["labels"] = json!({"app": "web"});
                d["spec"]["template"]["spec"]["securityContext"] = json!({"runAsUser": 1000});
            })),
        },
        Case {
            name: "strategic: pod status conditions merge by type, containerStatuses replace",
            kind: "Pod",
            original: pod(),
            patch_type: PatchType::Strategic,
            patch: json!({"status": {
                "$setElementOrder/conditions": [{"type": "PodScheduled"}, {"type": "Ready"}],
                "conditions": [{"type": "Ready", "status": "True", "reason": null}],
                "containerStatuses": [{"name": "a", "ready": true}]
            }}),
            want: Ok(pod_with(|p| {
                p["status"]["conditions"] = json!([
                    {"type": "PodScheduled", "status": "True"},
                    {"type": "Ready", "status": "True"}
                ]);
                p["status"]["containerStatuses"] = json!([{"name": "a", "ready": true}]);
            })),
        },
        Case {
            name: "strategic: node addresses merge by type, taints replace",
            kind: "Node",
            original: json!({
                "metadata": {"name": "n1"},
                "spec": {"taints": [{"key": "x", "effect": "NoSchedule"}]},
                "status": {"addresses": [
                    {"type": "InternalIP", "address": "10.0.0.1"},
                    {"type": "Hostname", "address": "n1"}
                ]}
            }),
            patch_type: PatchType::Strategic,
            patch: json!({
                "spec": {"taints": [{"key": "y", "effect": "NoExecute"}]},
                "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.2"}]}
            }),
            want: Ok(json!({
                "metadata": {"name": "n1"},
                "spec": {"taints": [{"key": "y", "effect": "NoExecute"}]},
                "status": {"addresses": [
                    {"type": "InternalIP", "address": "10.0.0.2"},
                    {"type": "Hostname", "address": "n1"}
                ]}
            })),
        },
        Case {
            name: "strategic: service ports merge by port",
            kind: "Service",
            original: json!({"spec": {"ports": [
                {"name": "http", "port": 80, "targetPort": 8080},
                {"name": "https", "port": 443, "targetPort": 8443}
            ]}}),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"ports": [{"port": 443, "targetPort": 9443}]}}),
            want: Ok(json!({"spec": {"ports": [
                {"name": "http", "port": 80, "targetPort": 8080},
                {"name": "https", "port": 443, "targetPort": 9443}
            ]}})),
        },
        Case {
            name: "strategic: ReplicaSet ownerReferences merge by uid, template env by name",
            kind: "ReplicaSet",
            original: json!({
                "metadata": {"name": "rs", "ownerReferences": [
                    {"uid": "u1", "kind": "Deployment", "name": "web", "controller": true}
                ]},
                "spec": {"template": {"spec": {"containers": [
                    {"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
                ]}}}
            }),
            patch_type: PatchType::Strategic,
            patch: json!({
                "metadata": {"ownerReferences": [{"uid": "u1", "controller": null}]},
                "spec": {"template": {"spec": {"containers": [
                    {"name": "app", "env": [{"name": "B", "value": "3"}]}
                ]}}}
            }),
            want: Ok(json!({
                "metadata": {"name": "rs", "ownerReferences": [
                    {"uid": "u1", "kind": "Deployment", "name": "web"}
                ]},
                "spec": {"template": {"spec": {"containers": [
                    {"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]}
                ]}}}
            })),
        },
        Case {
            name: "json: move a label",
            kind: "Pod",
            original: json!({"metadata": {"labels": {"old": "x"}}}),
            patch_type: PatchType::Json,
            patch: json!([{"op": "move", "from": "/metadata/labels/old", "path": "/metadata/labels/new"}]),
            want: Ok(json!({"metadata": {"labels": {"new": "x"}}})),
        },
        Case {
            name: "strategic: a list element without its merge key",
            kind: "Pod",
            original: pod(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"containers": [{"image": "x:1"}]}}),
            want: Err("an element of list spec.containers has no merge key \"name\""),
        },
        Case {
            name: "strategic: unsupported $patch value",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"metadata": {"labels": {"$patch": "foo"}}}),
            want: Err("strategic merge patch: $patch directive \"foo\" is not supported"),
        },
        Case {
            name: "strategic: unknown directive",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!({"spec": {"$frobnicate": ["x"]}}),
            want: Err("strategic merge patch: unknown directive \"$frobnicate\" at spec"),
        },
        Case {
            name: "strategic: a non-object patch is rejected",
            kind: "Deployment",
            original: deployment(),
            patch_type: PatchType::Strategic,
            patch: json!("spec"),
            want: Err("the patch must be a JSON object"),
        },
    ]
}

#[test]
fn patch_cases() {
    let cases = cases();
    assert!(cases.len() >= 20);
    let failures: Vec<String> = cases.iter().filter_map(check).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn content_types() {
    let table = [
        ("application/json-patch+json", Some(PatchType::Json)),
        ("application/merge-patch+json", Some(PatchType::Merge)),
        (
            "application/strategic-merge-patch+json; charset=utf-8",
            Some(PatchType::Strategic),
        ),
        (
            " Application/Merge-Patch+JSON ;charset=UTF-8",
            Some(PatchType::Merge),
        ),
        ("application/apply-patch+yaml", None),
        ("application/json", None),
        ("", None),
    ];
    for (ct, want) in table {
        assert_eq!(PatchType::from_content_type(ct), want, "{ct:?}");
    }
    for t in [PatchType::Json, PatchType::Merge, PatchType::Strategic] {
        assert_eq!(PatchType::from_content_type(t.content_type()), Some(t));
    }
}

#[test]
fn list_strategies_follow_pod_templates() {
    let table: [(&str, &[&str], ListStrategy); 9] = [
        (
            "Pod",
            &["spec", "containers"],
            ListStrategy::MergeByKey("name"),
        ),
        (
            "Deployment",
            &["spec", "template", "spec", "containers", "env"],
            ListStrategy::MergeByKey("name"),
        ),
        (
            "ReplicaSet",
            &["spec", "template", "spec", "initContainers", "ports"],
            ListStrategy::MergeByKey("containerPort"),
        ),
        (
            "Deployment",
            &["spec", "template", "metadata", "finalizers"],
            ListStrategy::MergePrimitives,
        ),
        ("Deployment", &["spec", "containers"], ListStrategy::Replace),
        (
            "Service",
            &["spec", "ports"],
            ListStrategy::MergeByKey("port"),
        ),
        ("Pod", &["spec", "tolerations"], ListStrategy::Replace),
        (
            "Namespace",
            &["status", "conditions"],
            ListStrategy::MergeByKey("type"),
        ),
        ("Endpoints", &["subsets"], ListStrategy::Replace),
    ];
    for (kind, path, want) in table {
        assert_eq!(list_strategy(kind, path), want, "{kind} {path:?}");
    }
}

#[test]
fn error_statuses() {
    let failed = apply_patch(
        &json!({}),
        PatchType::Json,
        &json!([{"op": "remove", "path": "/a"}]),
        "Pod",
    )
    .unwrap_err();
    assert_eq!(failed.http_status(), 422);
    assert_eq!(
        failed.to_string(),
        "json patch operation 0 (remove /a): path not found"
    );
    assert_eq!(PatchError::NotAnObject.http_status(), 400);
}
