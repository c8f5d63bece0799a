//! Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/apps/v1`, `/version`) and the
//! OpenAPI v3 documents kubectl reads to learn that the server validates fields itself
//! (`fieldValidation`), generated from the resource registry.

use super::metrics::{GROUP as METRICS_GROUP, VERSION as METRICS_VERSION};
use capstan_core::kinds::{ResourceKind, RESOURCES};
use serde_json::{json, Value};

/// The Kubernetes version Capstan reports. kubectl's dispatcher picks its client by `minor`.
pub const KUBE_MINOR: &str = "32";

/// `/version`
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": KUBE_MINOR,
        "gitVersion": format!("v1.{KUBE_MINOR}.0-capstan.{}", env!("CARGO_PKG_VERSION")),
        "gitCommit": "capstan",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "rust",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "amd64" } else { std::env::consts::ARCH }),
    })
}

/// `/api`
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_entry(group: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/v1"), "version": "v1"});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

fn groups() -> Vec<&'static str> {
    let mut g: Vec<&str> = RESOURCES
        .iter()
        .map(|r| r.group)
        .filter(|g| !g.is_empty())
        .collect();
    g.dedup();
    g
}

/// The metrics API group (`metrics.k8s.io/v1beta1`, served by `api/metrics.rs` from the usage
/// nodes report, not from the store). kubectl top checks that `/apis` lists it.
fn metrics_group_entry() -> Value {
    let gv = json!({"groupVersion": format!("{METRICS_GROUP}/{METRICS_VERSION}"), "version": METRICS_VERSION});
    json!({"name": METRICS_GROUP, "versions": [gv.clone()], "preferredVersion": gv})
}

/// `/apis`
pub fn group_list() -> Value {
    let mut list: Vec<Value> = groups().into_iter().map(group_entry).collect();
    list.push(metrics_group_entry());
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": list})
}

/// `/apis/{group}`, if served.
pub fn group(group: &str) -> Option<Value> {
    let mut g = if group == METRICS_GROUP {
        metrics_group_entry()
    } else if groups().contains(&group) {
        group_entry(group)
    } else {
        return None;
    };
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    Some(g)
}

/// `/apis/metrics.k8s.io/v1beta1`, as metrics-server publishes it.
fn metrics_resource_list() -> Value {
    let verbs = ["get", "list"];
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": format!("{METRICS_GROUP}/{METRICS_VERSION}"),
        "resources": [
            {"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": verbs},
            {"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": verbs},
        ],
    })
}

const VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// `/api/v1` (group `""`), `/apis/{group}/v1` or `/apis/metrics.k8s.io/v1beta1`, if served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    if group == METRICS_GROUP {
        return (version == METRICS_VERSION).then(metrics_resource_list);
    }
    let served: Vec<&ResourceKind> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if served.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for r in served {
        resources.push(json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": VERBS,
            "shortNames": r.short_names,
            "categories": r.categories,
        }));
        if r.kind == "Pod" {
            resources.push(json!({
                "name": "pods/log",
                "singularName": "",
                "namespaced": true,
                "kind": "Pod",
                "verbs": ["get"],
            }));
            resources.push(json!({
                "name": "pods/binding",
                "singularName": "",
                "namespaced": true,
                "kind": "Binding",
                "verbs": ["create"],
            }));
        }
        if matches!(r.kind, "Deployment" | "ReplicaSet") {
            resources.push(json!({
                "name": format!("{}/scale", r.plural),
                "singularName": "",
                "namespaced": true,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            }));
        }
        if r.has_status {
            resources.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

/// The key of a group version in the OpenAPI v3 root: `api/v1`, `apis/apps/v1`.
fn openapi_key(group: &str) -> String {
    if group.is_empty() {
        "api/v1".to_string()
    } else {
        format!("apis/{group}/v1")
    }
}

/// A content hash for cache-busting the per-group-version documents.
fn doc_hash(group: &str) -> String {
    let text = openapi_group(group)
        .map(|v| v.to_string())
        .unwrap_or_default();
    use sha2::Digest;
    let d = sha2::Sha256::digest(text.as_bytes());
    d.iter().take(16).map(|b| format!("{b:02X}")).collect()
}

/// `/openapi/v3`: where each group version's document lives.
pub fn openapi_root() -> Value {
    let mut paths = serde_json::Map::new();
    let mut gs = vec![""];
    gs.extend(groups());
    for g in gs {
        let key = openapi_key(g);
        paths.insert(
            key.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={}", doc_hash(g))}),
        );
    }
    json!({"paths": paths})
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/{group}/v1`: one path item per resource, whose
/// PATCH operation carries the kind and the `fieldValidation` parameter. No schemas are
/// published, so kubectl computes strategic merge patches from its built-in types.
pub fn openapi_group(group: &str) -> Option<Value> {
    let served: Vec<&ResourceKind> = RESOURCES.iter().filter(|r| r.group == group).collect();
    if served.is_empty() {
        return None;
    }
    let params = json!([
        {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true},
         "description": "Strict, Warn or Ignore: how unknown or duplicate fields are handled."},
        {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
        {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}}
    ]);
    let mut paths = serde_json::Map::new();
    for r in served {
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        let path = if r.namespaced {
            format!("{}/{{name}}", r.collection_path(Some("{namespace}")))
        } else {
            format!("{}/{{name}}", r.collection_path(None))
        };
        let op = |action: &str, id: &str| {
            json!({
                "operationId": format!("{id}{}", r.kind),
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
                "parameters": params,
                "responses": {"200": {"description": "OK"}},
            })
        };
        paths.insert(
            path,
            json!({"get": op("get", "read"), "put": op("put", "replace"), "patch": op("patch", "patch"),
                   "delete": op("delete", "delete")}),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Capstan", "version": format!("v1.{KUBE_MINOR}.0")},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_kind_has_a_patch_with_field_validation() {
        for r in RESOURCES {
            let doc = openapi_group(r.group).expect("group document");
            let found = doc["paths"]
                .as_object()
                .expect("paths")
                .values()
                .any(|item| {
                    let p = &item["patch"];
                    p["x-kubernetes-group-version-kind"]["kind"] == r.kind
                        && p["parameters"]
                            .as_array()
                            .is_some_and(|ps| ps.iter().any(|x| x["name"] == "fieldValidation"))
                });
            assert!(found, "{} has a PATCH with fieldValidation", r.kind);
        }
        let root = openapi_root();
        assert!(root["paths"]["api/v1"]["serverRelativeURL"]
            .as_str()
            .is_some_and(|u| u.starts_with("/openapi/v3/api/v1?hash=")));
        assert!(root["paths"]["apis/apps/v1"].is_object());
    }

    #[test]
    fn discovery_lists_status_subresources() {
        let core = resource_list("", "v1").expect("core");
        let names: Vec<&str> = core["resources"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert!(
            names.contains(&"pods") && names.contains(&"pods/status") && names.contains(&"events")
        );
        assert!(resource_list("apps", "v1").is_some());
        assert!(resource_list("batch", "v1").is_none());
        assert_eq!(group_list()["groups"][0]["name"], "apps");
    }

    #[test]
    fn discovery_lists_the_metrics_api() {
        // kubectl top looks for a group named metrics.k8s.io with version v1beta1 in /apis.
        let groups = group_list();
        let metrics = groups["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .find(|g| g["name"] == "metrics.k8s.io")
            .cloned()
            .expect("metrics group");
        assert_eq!(metrics["versions"][0]["version"], "v1beta1");
        assert_eq!(
            metrics["preferredVersion"]["groupVersion"],
            "metrics.k8s.io/v1beta1"
        );
        let g = group("metrics.k8s.io").expect("group document");
        assert_eq!(g["kind"], "APIGroup");
        assert_eq!(g["versions"], metrics["versions"]);
        assert!(group("nope.k8s.io").is_none());
        let list = resource_list("metrics.k8s.io", "v1beta1").expect("resources");
        assert_eq!(list["groupVersion"], "metrics.k8s.io/v1beta1");
        let res = list["resources"].as_array().expect("resources");
        let find = |n: &str| res.iter().find(|r| r["name"] == n).cloned().expect(n);
        assert_eq!(find("nodes")["kind"], "NodeMetrics");
        assert_eq!(find("nodes")["namespaced"], false);
        assert_eq!(find("pods")["kind"], "PodMetrics");
        assert_eq!(find("pods")["namespaced"], true);
        assert_eq!(find("pods")["verbs"], json!(["get", "list"]));
        assert!(resource_list("metrics.k8s.io", "v1").is_none());
        // The OpenAPI documents stay those of the stored kinds.
        assert!(openapi_group("metrics.k8s.io").is_none());
    }
}
