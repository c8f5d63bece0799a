//! `capstan get KIND [NAME...]`: server-side Tables printed like kubectl, or the objects as
//! YAML/JSON/names, optionally followed by a watch.

use super::output::{self, Format, TableOpts, TablePrinter};
use super::util::{
    connect, error_line, finish, out, outln, parse_namespace, parse_targets, report, with_query,
    Reported, VerbResult,
};
use super::watch;
use crate::client::Client;
use capstan_core::kinds::ResourceKind;
use serde_json::Value;
use std::path::Path;

/// What kubectl asks for to get a Table.
pub const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

/// `capstan get` flags.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The kind (`pods`, `po`, `deploy`, `deployments.apps`, ...) then names, or `KIND/NAME`...
    #[arg(required = true, value_name = "KIND [NAME]")]
    pub args: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long, value_parser = ["wide", "yaml", "json", "name"])]
    pub output: Option<String>,
    /// Label selector (`app=web,tier!=db`, `env in (a,b)`).
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Field selector (`status.phase=Running,spec.nodeName=n1`).
    #[arg(long = "field-selector")]
    pub field_selector: Option<String>,
    /// Namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long, value_parser = parse_namespace)]
    pub namespace: Option<String>,
    /// List across all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// After listing, watch for changes.
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Show the labels as the last column.
    #[arg(long)]
    pub show_labels: bool,
}

/// One kind to print, with the settings every request for it shares.
pub(super) struct Job<'a> {
    pub(super) client: &'a Client,
    pub(super) resource: &'static ResourceKind,
    pub(super) names: Vec<String>,
    /// `None` = all namespaces.
    pub(super) namespace: Option<String>,
    pub(super) format: Format,
    pub(super) opts: TableOpts,
    selector: &'a str,
    field_selector: &'a str,
}

impl Job<'_> {
    pub(super) fn accept(&self) -> &'static str {
        if self.format.is_table() {
            TABLE_ACCEPT
        } else {
            "application/json"
        }
    }

    pub(super) fn list_path(&self, extra: &[(&str, &str)]) -> String {
        let mut q = vec![
            ("labelSelector", self.selector),
            ("fieldSelector", self.field_selector),
        ];
        q.extend_from_slice(extra);
        with_query(
            &self.resource.collection_path(self.namespace.as_deref()),
            &q,
        )
    }
}

/// Runs `capstan get`.
pub fn run(args: GetArgs, kubeconfig: Option<&Path>) -> VerbResult {
    let targets = parse_targets(&args.args)?;
    if let Some(sel) = args.selector.as_deref() {
        capstan_core::selector::parse_label_selector(sel)
            .map_err(|e| anyhow::anyhow!("invalid -l/--selector {sel:?}: {e}"))?;
    }
    let named = targets.iter().any(|(_, n)| !n.is_empty());
    if named && (args.selector.is_some() || args.field_selector.is_some()) {
        anyhow::bail!("name cannot be provided when a selector is specified");
    }
    if named && args.all_namespaces {
        anyhow::bail!("a resource cannot be retrieved by name across all namespaces");
    }
    let count: usize = targets.iter().map(|(_, n)| n.len().max(1)).sum();
    if args.watch && count > 1 {
        anyhow::bail!(
            "watch is only supported on individual resources and resource collections, but {count} resources were found"
        );
    }
    let client = connect(kubeconfig)?;
    let format = Format::from_flag(args.output.as_deref());
    let ns = args
        .namespace
        .clone()
        .unwrap_or_else(|| client.namespace.clone());
    let several_kinds = targets.len() > 1;
    let single_named = targets.len() == 1 && targets[0].1.len() == 1;
    let jobs: Vec<Job> = targets
        .into_iter()
        .map(|(resource, names)| Job {
            client: &client,
            resource,
            names,
            namespace: (!args.all_namespaces).then(|| ns.clone()),
            format,
            opts: TableOpts {
                wide: format == Format::Wide,
                namespace_column: args.all_namespaces && resource.namespaced,
                show_labels: args.show_labels,
                name_prefix: several_kinds.then(|| resource.qualified_singular()),
            },
            selector: args.selector.as_deref().unwrap_or_default(),
            field_selector: args.field_selector.as_deref().unwrap_or_default(),
        })
        .collect();
    if args.watch {
        let Some(job) = jobs.first() else {
            return Ok(());
        };
        let result = if job.names.is_empty() {
            watch::watch_list(job)
        } else {
            watch::watch_named(job)
        };
        return result.map_err(|e| {
            if !e.is::<Reported>() {
                report(&e);
            }
            Reported.into()
        });
    }
    let mut failed = false;
    let mut printed = false;
    let mut listed_ok = false;
    let mut items: Vec<Value> = Vec::new();
    for job in &jobs {
        let fetched = if job.names.is_empty() {
            match fetch_list(job) {
                Ok(body) => {
                    listed_ok = true;
                    Fetched {
                        found: vec![body],
                        errors: vec![],
                    }
                }
                Err(e) => Fetched {
                    found: vec![],
                    errors: vec![error_line(&format!("{e:#}"))],
                },
            }
        } else {
            fetch_named(job)
        };
        let found = if job.names.is_empty() {
            fetched
                .found
                .into_iter()
                .flat_map(list_items)
                .collect::<Vec<_>>()
        } else {
            fetched.found
        };
        match format {
            Format::Table | Format::Wide => {
                let text = TablePrinter::new(job.opts.clone()).print(&merge_tables(&found));
                if !text.is_empty() {
                    if printed {
                        out("\n");
                    }
                    out(&text);
                    printed = true;
                }
            }
            Format::Name => {
                for o in &found {
                    outln(&output::name_line(job.resource, o));
                    printed = true;
                }
            }
            Format::Yaml | Format::Json => items.extend(
                found
                    .into_iter()
                    .map(|o| output::with_type(job.resource, o)),
            ),
        }
        for e in fetched.errors {
            eprintln!("{e}");
            failed = true;
        }
    }
    match format {
        Format::Yaml | Format::Json if single_named && items.len() == 1 => {
            out(&output::render_object(&items[0], format)?);
        }
        Format::Yaml | Format::Json if listed_ok || !items.is_empty() => {
            let list = serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}});
            out(&output::render_object(&list, format)?);
        }
        Format::Table | Format::Wide | Format::Name if listed_ok && !printed => {
            let namespaced = jobs.iter().any(|j| j.resource.namespaced);
            let ns = if namespaced {
                jobs.first().and_then(|j| j.namespace.as_deref())
            } else {
                None
            };
            eprintln!("{}", output::no_resources(ns));
        }
        _ => {}
    }
    finish(failed)
}

/// What a job fetched: Tables (table formats) or objects, and the errors to report.
pub(super) struct Fetched {
    pub(super) found: Vec<Value>,
    pub(super) errors: Vec<String>,
}

/// A list body → its items (objects) or, for a Table, the Table itself.
pub(super) fn list_items(body: Value) -> Vec<Value> {
    if body.get("kind").and_then(Value::as_str) == Some("Table") {
        return vec![body];
    }
    match body {
        Value::Object(mut m) => match m.remove("items") {
            Some(Value::Array(items)) => items,
            _ => vec![],
        },
        _ => vec![],
    }
}

/// Several Tables of one kind as one (the first one's columns, every row).
fn merge_tables(tables: &[Value]) -> Value {
    let Some(first) = tables.first() else {
        return Value::Null;
    };
    let mut merged = first.clone();
    let rows: Vec<Value> = tables
        .iter()
        .flat_map(|t| {
            t.get("rows")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    if let Some(m) = merged.as_object_mut() {
        m.insert("rows".into(), Value::Array(rows));
    }
    merged
}

/// The collection (a Table for table formats).
pub(super) fn fetch_list(job: &Job) -> anyhow::Result<Value> {
    let resp = job
        .client
        .request("GET", &job.list_path(&[]), None, job.accept())?;
    if !resp.ok() {
        anyhow::bail!(resp.error_text());
    }
    let body = resp.json()?;
    if job.format.is_table() {
        check_table(&body)?;
    }
    Ok(body)
}

/// Each named object (a one-row Table for table formats); failures become error lines.
pub(super) fn fetch_named(job: &Job) -> Fetched {
    let ns = job.namespace.as_deref().unwrap_or_default();
    let mut f = Fetched {
        found: vec![],
        errors: vec![],
    };
    for name in &job.names {
        let got = job
            .client
            .request(
                "GET",
                &job.resource.object_path(ns, name),
                None,
                job.accept(),
            )
            .map_err(|e| error_line(&format!("{e:#}")))
            .and_then(|resp| {
                if resp.ok() {
                    Ok(resp)
                } else {
                    Err(resp.error_text())
                }
            })
            .and_then(|resp| resp.json().map_err(|e| error_line(&format!("{e:#}"))))
            .and_then(|v| {
                if job.format.is_table() {
                    check_table(&v).map_err(|e| error_line(&e.to_string()))?;
                }
                Ok(v)
            });
        match got {
            Ok(v) => f.found.push(v),
            Err(e) => f.errors.push(e),
        }
    }
    f
}

fn check_table(v: &Value) -> anyhow::Result<()> {
    if v.get("kind").and_then(Value::as_str) == Some("Table") {
        Ok(())
    } else {
        anyhow::bail!("the server did not answer with a Table")
    }
}
