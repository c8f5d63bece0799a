//! `capstan cordon|uncordon NODE` and `capstan taint NODE key[=value]:Effect[-]...`: node
//! operations, done as kubectl does them (a PATCH of the Node), with kubectl's messages.

use super::util::{check_name, connect, outln, server_error, str_at, VerbResult};
use crate::client::Client;
use anyhow::{anyhow, bail};
use serde_json::{json, Value};
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// The node.
    #[arg(value_name = "NODE", value_parser = parse_node)]
    pub node: String,
}

#[derive(Debug, clap::Args)]
pub struct DrainArgs {
    /// The node.
    #[arg(value_name = "NODE", value_parser = parse_node)]
    pub node: String,
    /// Also delete pods no controller will recreate.
    #[arg(long)]
    pub force: bool,
    /// Give up after this many seconds of waiting for the pods to go (0: do not wait).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub timeout: u64,
}

/// `drain NODE`: cordon, then delete its pods gracefully (their controllers recreate them
/// elsewhere) and wait until they are gone. Pods without a controller are refused unless
/// `--force`, as kubectl drain does.
pub fn drain(args: DrainArgs, kubeconfig: Option<&Path>) -> VerbResult {
    cordon(
        NodeArgs {
            node: args.node.clone(),
        },
        kubeconfig,
        true,
    )?;
    let client = connect(kubeconfig)?;
    let list_pods = || -> anyhow::Result<Vec<Value>> {
        let r = client.get(&format!(
            "/api/v1/pods?fieldSelector=spec.nodeName%3D{}",
            args.node
        ))?;
        if !r.ok() {
            bail!(server_error(&r, None));
        }
        let v = r.json()?;
        Ok(v["items"].as_array().cloned().unwrap_or_default())
    };
    let pods = list_pods()?;
    let unmanaged: Vec<String> = pods
        .iter()
        .filter(|p| {
            p.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_none_or(|r| !r.iter().any(|o| o["controller"] == true))
        })
        .map(|p| {
            format!(
                "{}/{}",
                str_at(p, "/metadata/namespace"),
                str_at(p, "/metadata/name")
            )
        })
        .collect();
    if !unmanaged.is_empty() && !args.force {
        bail!(
            "cannot delete Pods that declare no controller (use --force to override): {}",
            unmanaged.join(", ")
        );
    }
    for p in &pods {
        let (ns, name) = (
            str_at(p, "/metadata/namespace"),
            str_at(p, "/metadata/name"),
        );
        let r = client.request(
            "DELETE",
            &format!("/api/v1/namespaces/{ns}/pods/{name}"),
            None,
            "application/json",
        )?;
        if r.ok() || r.status == 404 {
            outln(&format!("evicting pod {ns}/{name}"));
        } else {
            bail!(server_error(&r, None));
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(args.timeout);
    while args.timeout > 0 && !list_pods()?.is_empty() {
        if std::time::Instant::now() >= deadline {
            bail!(
                "drain did not complete within {}s: pods remain on node {}",
                args.timeout,
                args.node
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    outln(&format!("node/{} drained", args.node));
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct TaintArgs {
    /// The node.
    #[arg(value_name = "NODE", value_parser = parse_node)]
    pub node: String,
    /// Taints to add (`key=value:Effect`, `key:Effect`) or remove (`key:Effect-`, `key-`).
    #[arg(value_name = "TAINT", required = true, value_parser = parse_change)]
    pub taints: Vec<TaintChange>,
    /// Replace a taint with the same key and effect instead of refusing.
    #[arg(long)]
    pub overwrite: bool,
}

fn parse_node(s: &str) -> Result<String, String> {
    check_name(s)?;
    Ok(s.to_string())
}

/// One taint argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaintChange {
    /// Add (or, with --overwrite, replace) this taint.
    Add {
        /// Key.
        key: String,
        /// Value (may be empty).
        value: String,
        /// Effect.
        effect: String,
    },
    /// Remove the taints with this key (and this effect, if given).
    Remove {
        /// Key.
        key: String,
        /// Effect, or every effect.
        effect: Option<String>,
    },
}

fn parse_change(s: &str) -> Result<TaintChange, String> {
    if s.len() > 1024 {
        return Err("taint: longer than 1024 bytes".into());
    }
    if let Some(rest) = s.strip_suffix('-') {
        let (key, effect) = match rest.split_once(':') {
            Some((k, e)) => (k, Some(e.to_string())),
            None => (rest, None),
        };
        if let Some(e) = &effect {
            if !matches!(e.as_str(), "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
                return Err(format!(
                    "invalid taint effect: {e}, unsupported taint effect"
                ));
            }
        }
        if let Some(why) = capstan_core::validation::is_qualified_name(key).first() {
            return Err(format!("invalid taint key {key:?}: {why}"));
        }
        return Ok(TaintChange::Remove {
            key: key.to_string(),
            effect,
        });
    }
    let (key, value, effect) = crate::nodeinfo::parse_taint(s).map_err(|e| e.to_string())?;
    Ok(TaintChange::Add { key, value, effect })
}

fn patch_node(client: &Client, node: &str, patch: &Value) -> anyhow::Result<Value> {
    let r = client.request(
        "PATCH",
        &format!("/api/v1/nodes/{node}"),
        Some((
            "application/merge-patch+json",
            patch.to_string().into_bytes(),
        )),
        "application/json",
    )?;
    if !r.ok() {
        bail!(server_error(&r, None));
    }
    r.json()
}

fn get_node(client: &Client, node: &str) -> anyhow::Result<Value> {
    let r = client.get(&format!("/api/v1/nodes/{node}"))?;
    if !r.ok() {
        bail!(server_error(&r, None));
    }
    r.json()
}

/// `cordon` (unschedulable = true) or `uncordon`.
pub fn cordon(args: NodeArgs, kubeconfig: Option<&Path>, on: bool) -> VerbResult {
    let client = connect(kubeconfig)?;
    let node = get_node(&client, &args.node)?;
    let is = node
        .pointer("/spec/unschedulable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let verb = if on { "cordoned" } else { "uncordoned" };
    if is == on {
        outln(&format!("node/{} already {verb}", args.node));
        return Ok(());
    }
    let value = if on { json!(true) } else { Value::Null };
    patch_node(
        &client,
        &args.node,
        &json!({"spec": {"unschedulable": value}}),
    )?;
    outln(&format!("node/{} {verb}", args.node));
    Ok(())
}

/// The node's taints after `changes`; errors as kubectl words them.
pub fn apply_changes(
    node: &str,
    current: &[Value],
    changes: &[TaintChange],
    overwrite: bool,
) -> anyhow::Result<Vec<Value>> {
    let mut taints: Vec<Value> = current.to_vec();
    for c in changes {
        match c {
            TaintChange::Add { key, value, effect } => {
                let same = |t: &Value| str_at(t, "/key") == key && str_at(t, "/effect") == effect;
                if taints.iter().any(same) {
                    if !overwrite {
                        bail!("node {node} already has {key} taint(s) with same effect(s) and --overwrite is false");
                    }
                    taints.retain(|t| !same(t));
                }
                let mut t = json!({"key": key, "effect": effect});
                if !value.is_empty() {
                    t["value"] = json!(value);
                }
                taints.push(t);
            }
            TaintChange::Remove { key, effect } => {
                let before = taints.len();
                taints.retain(|t| {
                    !(str_at(t, "/key") == key
                        && effect.as_deref().is_none_or(|e| str_at(t, "/effect") == e))
                });
                if taints.len() == before {
                    let what = match effect {
                        Some(e) => format!("{key}:{e}"),
                        None => key.clone(),
                    };
                    return Err(anyhow!("taint {what:?} not found"));
                }
            }
        }
    }
    Ok(taints)
}

/// `taint NODE CHANGES...`. The taints are written with the node's resourceVersion as a
/// precondition (another writer's taints are never lost); heartbeats change the node every
/// second, so a conflict is retried from a fresh read.
pub fn taint(args: TaintArgs, kubeconfig: Option<&Path>) -> VerbResult {
    let client = connect(kubeconfig)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let node = get_node(&client, &args.node)?;
        let current = node
            .pointer("/spec/taints")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let taints = apply_changes(&args.node, &current, &args.taints, args.overwrite)?;
        let rv = str_at(&node, "/metadata/resourceVersion").to_string();
        let r = client.request(
            "PATCH",
            &format!("/api/v1/nodes/{}", args.node),
            Some((
                "application/merge-patch+json",
                json!({"metadata": {"resourceVersion": rv}, "spec": {"taints": taints}})
                    .to_string()
                    .into_bytes(),
            )),
            "application/json",
        )?;
        if r.status == 409 && attempt < 10 {
            continue;
        }
        if !r.ok() {
            bail!(server_error(&r, None));
        }
        break;
    }
    let removed_only = args
        .taints
        .iter()
        .all(|c| matches!(c, TaintChange::Remove { .. }));
    let verb = if removed_only { "untainted" } else { "tainted" };
    outln(&format!("node/{} {verb}", args.node));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taint_arguments_parse_like_kubectl() {
        assert_eq!(
            parse_change("dedicated=gpu:NoSchedule"),
            Ok(TaintChange::Add {
                key: "dedicated".into(),
                value: "gpu".into(),
                effect: "NoSchedule".into()
            })
        );
        assert_eq!(
            parse_change("dedicated:NoSchedule-"),
            Ok(TaintChange::Remove {
                key: "dedicated".into(),
                effect: Some("NoSchedule".into())
            })
        );
        assert_eq!(
            parse_change("dedicated-"),
            Ok(TaintChange::Remove {
                key: "dedicated".into(),
                effect: None
            })
        );
        assert!(parse_change("dedicated=gpu:Sometimes").is_err());
        assert!(parse_change("bad key=x:NoSchedule").is_err());
        assert!(parse_change("k:Never-").is_err());
    }

    #[test]
    fn changes_add_replace_and_remove() {
        let current = vec![json!({"key": "a", "value": "1", "effect": "NoSchedule"})];
        let add = TaintChange::Add {
            key: "a".into(),
            value: "2".into(),
            effect: "NoSchedule".into(),
        };
        let err = apply_changes("n", &current, std::slice::from_ref(&add), false).unwrap_err();
        assert!(err.to_string().contains("--overwrite is false"), "{err}");
        let replaced = apply_changes("n", &current, &[add], true).unwrap();
        assert_eq!(
            replaced,
            vec![json!({"key": "a", "value": "2", "effect": "NoSchedule"})]
        );
        let removed = apply_changes(
            "n",
            &current,
            &[TaintChange::Remove {
                key: "a".into(),
                effect: None,
            }],
            false,
        )
        .unwrap();
        assert!(removed.is_empty());
        assert!(apply_changes(
            "n",
            &current,
            &[TaintChange::Remove {
                key: "b".into(),
                effect: None
            }],
            false
        )
        .is_err());
    }
}
