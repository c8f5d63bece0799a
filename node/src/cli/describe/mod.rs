//! `capstan describe KIND NAME...`: a readable, kubectl-like view of objects and their events.
//! Each kind's renderer is a pure function of the object, related objects and `now`.

mod containers;
mod deployment;
mod events;
mod generic;
mod node;
mod pod;
mod service;
mod text;

pub use deployment::{render_deployment, render_replicaset};
pub use generic::render_generic;
pub use node::render_node;
pub use pod::render_pod;
pub use service::render_service;

use super::output;
use super::util::{
    connect, error_line, finish, now, out, parse_namespace, parse_targets, str_at, with_query,
    VerbResult,
};
use crate::client::Client;
use capstan_core::kinds::{self, ResourceKind};
use capstan_core::time::Timestamp;
use serde_json::Value;
use std::path::Path;

/// `capstan describe` flags.
#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// The kind then names (every object of the kind when no name is given), or `KIND/NAME`...
    #[arg(required = true, value_name = "KIND [NAME]")]
    pub args: Vec<String>,
    /// Namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long, value_parser = parse_namespace)]
    pub namespace: Option<String>,
}

/// Runs `capstan describe`.
pub fn run(args: DescribeArgs, kubeconfig: Option<&Path>) -> VerbResult {
    let targets = parse_targets(&args.args)?;
    let client = connect(kubeconfig)?;
    let ns = args
        .namespace
        .clone()
        .unwrap_or_else(|| client.namespace.clone());
    let mut failed = false;
    let mut printed = 0usize;
    for (resource, names) in targets {
        let objects: Vec<Result<Value, String>> = if names.is_empty() {
            match list_all(&client, resource, &ns) {
                Ok(items) if items.is_empty() => {
                    eprintln!(
                        "{}",
                        output::no_resources(Some(ns.as_str()).filter(|_| resource.namespaced))
                    );
                    vec![]
                }
                Ok(items) => items.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            }
        } else {
            names
                .iter()
                .map(|n| get_one(&client, &resource.object_path(&ns, n)))
                .collect()
        };
        for obj in objects {
            match obj {
                Ok(obj) => {
                    let text = describe(&client, resource, &obj, now());
                    out(&if printed > 0 {
                        format!("\n\n{text}")
                    } else {
                        text
                    });
                    printed += 1;
                }
                Err(e) => {
                    eprintln!("{e}");
                    failed = true;
                }
            }
        }
    }
    finish(failed)
}

fn get_one(client: &Client, path: &str) -> Result<Value, String> {
    let resp = client
        .get(path)
        .map_err(|e| error_line(&format!("{e:#}")))?;
    if !resp.ok() {
        return Err(resp.error_text());
    }
    resp.json().map_err(|e| error_line(&format!("{e:#}")))
}

fn list_all(client: &Client, r: &ResourceKind, ns: &str) -> Result<Vec<Value>, String> {
    let body = get_one(client, &r.collection_path(Some(ns)))?;
    Ok(body
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// The events about `obj` (empty when they cannot be listed).
fn events_for(client: &Client, resource: &ResourceKind, obj: &Value) -> Vec<Value> {
    let Some(events) = kinds::by_kind("v1", "Event") else {
        return vec![];
    };
    let name = str_at(obj, "/metadata/name");
    let ns = str_at(obj, "/metadata/namespace");
    let uid = str_at(obj, "/metadata/uid");
    let mut fields = vec![format!("involvedObject.name={name}")];
    let path = if resource.namespaced {
        fields.push(format!("involvedObject.namespace={ns}"));
        events.collection_path(Some(ns))
    } else {
        events.collection_path(None)
    };
    if !uid.is_empty() {
        fields.push(format!("involvedObject.uid={uid}"));
    }
    let selector = fields.join(",");
    get_one(client, &with_query(&path, &[("fieldSelector", &selector)]))
        .ok()
        .and_then(|b| b.get("items").and_then(Value::as_array).cloned())
        .unwrap_or_default()
}

/// Fetches what the kind's renderer needs besides the object, then renders it.
fn describe(client: &Client, resource: &ResourceKind, obj: &Value, now: Timestamp) -> String {
    let events = events_for(client, resource, obj);
    let ns = str_at(obj, "/metadata/namespace");
    match resource.kind {
        "Pod" => render_pod(obj, &events, now),
        "Node" => render_node(obj, &events, now),
        "Deployment" => render_deployment(obj, &events, now),
        "ReplicaSet" => {
            let pods = owned_pods(client, obj, ns);
            render_replicaset(obj, pods.as_deref(), &events, now)
        }
        "Service" => {
            let ep = kinds::by_kind("v1", "Endpoints").and_then(|r| {
                get_one(client, &r.object_path(ns, str_at(obj, "/metadata/name"))).ok()
            });
            render_service(obj, ep.as_ref(), &events, now)
        }
        _ => render_generic(obj, &events, now),
    }
}

/// The pods a replica set controls (matching its `matchLabels` and owned by its uid).
fn owned_pods(client: &Client, rs: &Value, ns: &str) -> Option<Vec<Value>> {
    let pods = kinds::by_kind("v1", "Pod")?;
    let mut labels: Vec<String> = rs
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    labels.sort();
    let selector = labels.join(",");
    let uid = str_at(rs, "/metadata/uid");
    let body = get_one(
        client,
        &with_query(
            &pods.collection_path(Some(ns)),
            &[("labelSelector", &selector)],
        ),
    )
    .ok()?;
    let items = body.get("items").and_then(Value::as_array)?;
    Some(
        items
            .iter()
            .filter(|p| {
                p.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| refs.iter().any(|r| str_at(r, "/uid") == uid))
            })
            .cloned()
            .collect(),
    )
}
