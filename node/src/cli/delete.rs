//! `capstan delete KIND NAME...` and `capstan delete -f FILE|DIR|-`.

use super::manifests::{read_sources, resolve};
use super::util::{
    connect, error_line, finish, outln, parse_file_arg, parse_namespace, parse_targets,
    print_warnings, server_error, VerbResult,
};
use crate::client::Client;
use capstan_core::kinds::ResourceKind;
use serde_json::json;
use std::path::Path;

/// `capstan delete` flags.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// The kind then one or more names, or `KIND/NAME`...
    #[arg(
        value_name = "KIND [NAME]",
        required_unless_present = "filenames",
        conflicts_with = "filenames"
    )]
    pub args: Vec<String>,
    /// Delete what these manifests name: file, directory or `-` for stdin; repeatable.
    #[arg(short = 'f', long = "filename", value_parser = parse_file_arg)]
    pub filenames: Vec<String>,
    /// Namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long, value_parser = parse_namespace)]
    pub namespace: Option<String>,
}

/// `pod "web" deleted`, `deployment.apps "web" deleted`.
pub fn deleted_line(r: &ResourceKind, name: &str) -> String {
    format!("{} {name:?} deleted", r.qualified_singular())
}

/// Runs `capstan delete`.
pub fn run(args: DeleteArgs, kubeconfig: Option<&Path>) -> VerbResult {
    let mut items: Vec<(&'static ResourceKind, String, String, Option<String>)> = Vec::new();
    let mut failed = false;
    let targets = if args.filenames.is_empty() {
        parse_targets(&args.args)?
    } else {
        Vec::new()
    };
    if targets.iter().any(|(_, names)| names.is_empty()) {
        anyhow::bail!("resource(s) were provided, but no name was specified");
    }
    let client = connect(kubeconfig)?;
    let ns = args
        .namespace
        .clone()
        .unwrap_or_else(|| client.namespace.clone());
    for (r, names) in targets {
        for n in names {
            items.push((r, ns.clone(), n, None));
        }
    }
    for src in read_sources(&args.filenames) {
        match src.docs {
            Ok(docs) => {
                for doc in docs {
                    match resolve(doc, &src.name, args.namespace.as_deref(), &client.namespace) {
                        Ok(m) => {
                            items.push((m.resource, m.namespace, m.name, Some(src.name.clone())))
                        }
                        Err(e) => {
                            eprintln!("{e}");
                            failed = true;
                        }
                    }
                }
            }
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    for (r, ns, name, file) in items {
        if let Err(e) = delete_one(&client, r, &ns, &name, file.as_deref()) {
            eprintln!("{e}");
            failed = true;
        }
    }
    finish(failed)
}

fn delete_one(
    client: &Client,
    r: &ResourceKind,
    ns: &str,
    name: &str,
    file: Option<&str>,
) -> Result<(), String> {
    let body = json!({"propagationPolicy": "Background"});
    let resp = client
        .send_json(
            "DELETE",
            &r.object_path(ns, name),
            "application/json",
            &body,
        )
        .map_err(|e| error_line(&format!("{e:#}")))?;
    print_warnings(&resp);
    if !resp.ok() {
        let ctx = file.map(|f| format!("error when deleting {f:?}"));
        return Err(server_error(&resp, ctx.as_deref()));
    }
    outln(&deleted_line(r, name));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use capstan_core::kinds;

    #[test]
    fn deletions_print_like_kubectl() {
        let cases = [
            ("v1", "Pod", "pod \"web\" deleted"),
            ("apps/v1", "Deployment", "deployment.apps \"web\" deleted"),
        ];
        for (av, kind, want) in cases {
            let r = kinds::by_kind(av, kind).expect("served");
            assert_eq!(deleted_line(r, "web"), want);
        }
    }
}
