//! `capstan apply -f FILE|DIR|-`: create what is missing, merge-patch what changed since the
//! last apply (recorded in the `last-applied-configuration` annotation, like kubectl).

use super::manifests::{read_sources, resolve, Manifest};
use super::util::{
    connect, finish, outln, parse_file_arg, parse_namespace, print_warnings, server_error, str_at,
    with_query, VerbResult,
};
use crate::client::Client;
use serde_json::{json, Map, Value};
use std::path::Path;

/// Where kubectl (and capstan) records the manifest last applied.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `capstan apply` flags.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// Manifest file, directory (its *.yaml, *.yml and *.json files) or `-` for stdin; repeatable.
    #[arg(short = 'f', long = "filename", required = true, value_parser = parse_file_arg)]
    pub filenames: Vec<String>,
    /// Namespace for documents that do not name one (default: the kubeconfig context's).
    #[arg(short = 'n', long, value_parser = parse_namespace)]
    pub namespace: Option<String>,
}

/// RFC 7386: the merge patch that turns `original` into `modified`, or `None` when they are
/// equal. Fields gone from `modified` become `null`; objects are diffed key by key; anything
/// else (lists included) is replaced whole.
pub fn merge_patch(original: &Value, modified: &Value) -> Option<Value> {
    match (original, modified) {
        (Value::Object(o), Value::Object(m)) => {
            let mut patch = Map::new();
            for k in o.keys() {
                if !m.contains_key(k) {
                    patch.insert(k.clone(), Value::Null);
                }
            }
            for (k, mv) in m {
                match o.get(k) {
                    Some(ov) if ov == mv => {}
                    Some(ov @ Value::Object(_)) if mv.is_object() => {
                        if let Some(sub) = merge_patch(ov, mv) {
                            patch.insert(k.clone(), sub);
                        }
                    }
                    _ => {
                        patch.insert(k.clone(), mv.clone());
                    }
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        _ if original == modified => None,
        _ => Some(modified.clone()),
    }
}

/// Puts `value` at `metadata.annotations[key]`, creating the maps as needed.
fn set_annotation(obj: &mut Value, key: &str, value: &str) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    let meta = root.entry("metadata").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    let ann = meta.entry("annotations").or_insert_with(|| json!({}));
    if !ann.is_object() {
        *ann = json!({});
    }
    if let Some(ann) = ann.as_object_mut() {
        ann.insert(key.to_string(), json!(value));
    }
}

/// The manifest as it is recorded in the annotation (without a copy of the annotation itself).
fn recorded(manifest: &Value) -> Value {
    let mut m = manifest.clone();
    if let Some(ann) = m
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        ann.remove(LAST_APPLIED);
    }
    m
}

/// The object to create: the manifest plus its last-applied annotation.
pub fn creation_body(manifest: &Value) -> Value {
    let rec = recorded(manifest);
    let text = rec.to_string();
    let mut body = rec;
    set_annotation(&mut body, LAST_APPLIED, &text);
    body
}

/// The merge patch `apply` sends for `manifest` against the `live` object: the diff from the
/// last-applied configuration (with its annotation) to the manifest (with the new annotation).
/// `None` means nothing changed. The flag says whether the live object lacked the annotation.
pub fn apply_patch(live: &Value, manifest: &Value) -> (Option<Value>, bool) {
    let live_text = live
        .pointer(&format!(
            "/metadata/annotations/{}",
            LAST_APPLIED.replace('/', "~1")
        ))
        .and_then(Value::as_str);
    let parsed = live_text
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .filter(Value::is_object);
    let missing = parsed.is_none();
    let mut original = parsed.unwrap_or_else(|| json!({}));
    if let Some(t) = live_text {
        set_annotation(&mut original, LAST_APPLIED, t);
    }
    (merge_patch(&original, &creation_body(manifest)), missing)
}

/// Runs `capstan apply`.
pub fn run(args: ApplyArgs, kubeconfig: Option<&Path>) -> VerbResult {
    let client = connect(kubeconfig)?;
    let mut failed = false;
    let mut any = false;
    for src in read_sources(&args.filenames) {
        let docs = match src.docs {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{e}");
                failed = true;
                continue;
            }
        };
        for doc in docs {
            any = true;
            match resolve(doc, &src.name, args.namespace.as_deref(), &client.namespace) {
                Ok(m) => {
                    if let Err(e) = apply_one(&client, &m, &src.name) {
                        eprintln!("{e}");
                        failed = true;
                    }
                }
                Err(e) => {
                    eprintln!("{e}");
                    failed = true;
                }
            }
        }
    }
    if !any && !failed {
        eprintln!("error: no objects passed to apply");
        failed = true;
    }
    finish(failed)
}

const WRITE_PARAMS: [(&str, &str); 2] =
    [("fieldManager", "capstan"), ("fieldValidation", "Strict")];

fn apply_one(client: &Client, m: &Manifest, file: &str) -> Result<(), String> {
    let err = |e: anyhow::Error| format!("error: {e:#}");
    let live = client.get(&m.path()).map_err(err)?;
    if live.status == 404 {
        let path = with_query(
            &m.resource.collection_path(Some(&m.namespace)),
            &WRITE_PARAMS,
        );
        let resp = client
            .send_json("POST", &path, "application/json", &creation_body(&m.object))
            .map_err(err)?;
        print_warnings(&resp);
        if !resp.ok() {
            return Err(server_error(
                &resp,
                Some(&format!("error when creating {file:?}")),
            ));
        }
        outln(&format!("{} created", m.display()));
        return Ok(());
    }
    if !live.ok() {
        return Err(server_error(
            &live,
            Some(&format!(
                "error when retrieving current configuration of {file:?}"
            )),
        ));
    }
    let live = live.json().map_err(err)?;
    let (patch, missing) = apply_patch(&live, &m.object);
    let Some(patch) = patch else {
        outln(&format!("{} unchanged", m.display()));
        return Ok(());
    };
    if missing {
        eprintln!(
            "Warning: resource {}/{} is missing the {LAST_APPLIED} annotation which is required by apply. The missing annotation will be patched automatically.",
            m.resource.qualified_plural(),
            m.name
        );
    }
    let path = with_query(&m.path(), &WRITE_PARAMS);
    let resp = client
        .send_json("PATCH", &path, "application/merge-patch+json", &patch)
        .map_err(err)?;
    print_warnings(&resp);
    if !resp.ok() {
        return Err(server_error(
            &resp,
            Some(&format!("error when patching {file:?}")),
        ));
    }
    let updated = resp.json().map_err(err)?;
    let before = str_at(&live, "/metadata/resourceVersion");
    let after = str_at(&updated, "/metadata/resourceVersion");
    outln(&format!(
        "{} {}",
        m.display(),
        if before == after {
            "unchanged"
        } else {
            "configured"
        }
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patches_follow_rfc7386() {
        let cases = [
            // unchanged
            (
                json!({"a": 1, "b": {"c": [1, 2]}}),
                json!({"a": 1, "b": {"c": [1, 2]}}),
                None,
            ),
            // added field
            (
                json!({"a": 1}),
                json!({"a": 1, "b": {"c": 2}}),
                Some(json!({"b": {"c": 2}})),
            ),
            // changed field, nested
            (
                json!({"s": {"replicas": 1, "x": "y"}}),
                json!({"s": {"replicas": 3, "x": "y"}}),
                Some(json!({"s": {"replicas": 3}})),
            ),
            // removed field → null
            (
                json!({"a": 1, "s": {"x": 1, "y": 2}}),
                json!({"s": {"x": 1}}),
                Some(json!({"a": null, "s": {"y": null}})),
            ),
            // lists are replaced whole
            (
                json!({"l": [1, 2]}),
                json!({"l": [1]}),
                Some(json!({"l": [1]})),
            ),
            // object replaced by a scalar and back
            (
                json!({"a": {"b": 1}}),
                json!({"a": 2}),
                Some(json!({"a": 2})),
            ),
            (
                json!({"a": 2}),
                json!({"a": {"b": 1}}),
                Some(json!({"a": {"b": 1}})),
            ),
        ];
        for (original, modified, want) in cases {
            assert_eq!(
                merge_patch(&original, &modified),
                want,
                "{original} -> {modified}"
            );
        }
    }

    fn live_for(manifest: &Value) -> Value {
        let mut live = creation_body(manifest);
        live["metadata"]["resourceVersion"] = json!("5");
        live["metadata"]["uid"] = json!("u1");
        live["status"] = json!({"phase": "Running"});
        live["spec"]["nodeName"] = json!("n1");
        live
    }

    #[test]
    fn apply_patches_diff_from_last_applied() {
        let v1 = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web", "old": "x"}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}});
        let live = live_for(&v1);
        // Unchanged manifest → no patch (server-set fields are not touched).
        assert_eq!(apply_patch(&live, &v1), (None, false));

        // Changed image, removed label, added annotation.
        let mut v2 = v1.clone();
        v2["spec"]["containers"][0]["image"] = json!("nginx:2");
        v2["metadata"]["labels"] = json!({"app": "web"});
        v2["metadata"]["annotations"] = json!({"team": "a"});
        let (patch, missing) = apply_patch(&live, &v2);
        assert!(!missing);
        let patch = patch.expect("a patch");
        assert_eq!(
            patch["spec"],
            json!({"containers": [{"name": "c", "image": "nginx:2"}]})
        );
        assert_eq!(patch["metadata"]["labels"], json!({"old": null}));
        assert_eq!(patch["metadata"]["annotations"]["team"], "a");
        let recorded: Value = serde_json::from_str(
            patch["metadata"]["annotations"][LAST_APPLIED]
                .as_str()
                .expect("annotation"),
        )
        .expect("annotation is JSON");
        assert_eq!(recorded, v2);
        assert!(patch.get("status").is_none());

        // Removing every annotation keeps the last-applied one.
        let mut v3 = v2.clone();
        v3["metadata"]
            .as_object_mut()
            .expect("metadata")
            .remove("annotations");
        let (patch, _) = apply_patch(&live_for(&v2), &v3);
        let patch = patch.expect("a patch");
        assert_eq!(patch["metadata"]["annotations"]["team"], Value::Null);
        assert!(patch["metadata"]["annotations"][LAST_APPLIED].is_string());
    }

    #[test]
    fn objects_without_annotation_get_the_whole_manifest() {
        let m = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {"a": 1}});
        let live = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "resourceVersion": "3"}, "spec": {"a": 1}});
        let (patch, missing) = apply_patch(&live, &m);
        assert!(missing);
        let patch = patch.expect("a patch");
        assert_eq!(patch["spec"], json!({"a": 1}));
        assert!(patch["metadata"]["annotations"][LAST_APPLIED].is_string());
    }

    #[test]
    fn creation_records_the_manifest() {
        let m = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "annotations": {LAST_APPLIED: "stale", "x": "y"}}});
        let body = creation_body(&m);
        let rec: Value = serde_json::from_str(
            body["metadata"]["annotations"][LAST_APPLIED]
                .as_str()
                .expect("set"),
        )
        .expect("json");
        assert_eq!(rec["metadata"]["annotations"], json!({"x": "y"}));
        assert_eq!(body["metadata"]["annotations"]["x"], "y");
    }
}
