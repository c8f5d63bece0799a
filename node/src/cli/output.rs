//! Printing what `get` receives: server-side Tables as kubectl columns, `-o name` lines, and
//! objects or lists as JSON/YAML. All pure, so they are tested without a server.

use super::tabwriter::Columns;
use capstan_core::kinds::ResourceKind;
use serde::Serialize;
use serde_json::{json, Value};

/// The `-o` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The server's Table, priority-0 columns.
    Table,
    /// The server's Table, every column.
    Wide,
    /// Objects as YAML.
    Yaml,
    /// Objects as JSON.
    Json,
    /// `kind.group/name` lines.
    Name,
}

impl Format {
    /// Parses `-o` (already validated by clap); no flag means the default table.
    pub fn from_flag(flag: Option<&str>) -> Format {
        match flag {
            Some("wide") => Format::Wide,
            Some("yaml") => Format::Yaml,
            Some("json") => Format::Json,
            Some("name") => Format::Name,
            _ => Format::Table,
        }
    }

    /// Whether the format prints the server's Table.
    pub fn is_table(self) -> bool {
        matches!(self, Format::Table | Format::Wide)
    }
}

/// How to lay out a Table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableOpts {
    /// `-o wide`: include priority-1 columns.
    pub wide: bool,
    /// `-A` on a namespaced kind: a NAMESPACE column first.
    pub namespace_column: bool,
    /// `--show-labels`: a LABELS column last.
    pub show_labels: bool,
    /// Several kinds at once: names print as `pod/web` (this is the `pod` part).
    pub name_prefix: Option<String>,
}

/// Header cells for the Table's column definitions.
pub fn headers(table: &Value, opts: &TableOpts) -> Vec<String> {
    let mut out = Vec::new();
    if opts.namespace_column {
        out.push("NAMESPACE".to_string());
    }
    for (_, def) in visible_columns(table, opts) {
        out.push(
            def.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_uppercase(),
        );
    }
    if opts.show_labels {
        out.push("LABELS".to_string());
    }
    out
}

fn visible_columns<'a>(table: &'a Value, opts: &TableOpts) -> Vec<(usize, &'a Value)> {
    table
        .get("columnDefinitions")
        .and_then(Value::as_array)
        .map(|defs| {
            defs.iter()
                .enumerate()
                .filter(|(_, d)| {
                    opts.wide || d.get("priority").and_then(Value::as_i64).unwrap_or(0) == 0
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The Table's rows as cells, in header order.
pub fn rows(table: &Value, opts: &TableOpts) -> Vec<Vec<String>> {
    let cols = visible_columns(table, opts);
    let rows = table
        .get("rows")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    rows.iter()
        .map(|row| {
            let cells = row
                .get("cells")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let meta = row.pointer("/object/metadata");
            let mut out = Vec::new();
            if opts.namespace_column {
                let ns = meta
                    .and_then(|m| m.get("namespace"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                out.push(ns.to_string());
            }
            for (i, def) in &cols {
                let text = cell_text(cells.get(*i));
                match &opts.name_prefix {
                    Some(p) if def.get("format").and_then(Value::as_str) == Some("name") => {
                        out.push(format!("{p}/{text}"))
                    }
                    _ => out.push(text),
                }
            }
            if opts.show_labels {
                out.push(labels_text(meta.and_then(|m| m.get("labels"))));
            }
            out
        })
        .collect()
}

fn cell_text(cell: Option<&Value>) -> String {
    let text = match cell {
        None | Some(Value::Null) => "<none>".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    text.replace(['\t', '\n', '\r'], " ")
}

/// `k=v,k2=v2` (sorted), or `<none>`.
pub fn labels_text(labels: Option<&Value>) -> String {
    let Some(map) = labels.and_then(Value::as_object).filter(|m| !m.is_empty()) else {
        return "<none>".to_string();
    };
    let mut pairs: Vec<String> = map
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            )
        })
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// Prints Tables one after another with remembered column widths (for `--watch`): the header
/// comes with the first rows.
#[derive(Debug, Clone, Default)]
pub struct TablePrinter {
    opts: TableOpts,
    cols: Columns,
    header_printed: bool,
}

impl TablePrinter {
    /// A printer for `opts`.
    pub fn new(opts: TableOpts) -> TablePrinter {
        TablePrinter {
            opts,
            ..Default::default()
        }
    }

    /// The lines for `table`'s rows (and the header the first time there are rows).
    pub fn print(&mut self, table: &Value) -> String {
        let body = rows(table, &self.opts);
        if body.is_empty() {
            return String::new();
        }
        let mut all = Vec::new();
        if !self.header_printed {
            all.push(headers(table, &self.opts));
            self.header_printed = true;
        }
        all.extend(body);
        self.cols.fit(&all);
        let mut out = String::new();
        for r in &all {
            out.push_str(&self.cols.line(r));
            out.push('\n');
        }
        out
    }
}

/// A whole Table as kubectl prints it (headers and rows), or `None` when it has no rows.
pub fn render_table(table: &Value, opts: TableOpts) -> Option<String> {
    let text = TablePrinter::new(opts).print(table);
    (!text.is_empty()).then_some(text)
}

/// `No resources found in default namespace.` or `No resources found` (cluster-scoped or `-A`).
pub fn no_resources(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("No resources found in {ns} namespace."),
        None => "No resources found".to_string(),
    }
}

/// `pod/web`, `deployment.apps/web`.
pub fn name_line(r: &ResourceKind, obj: &Value) -> String {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    format!("{}/{name}", r.qualified_singular())
}

/// The object with its `apiVersion` and `kind` filled in (list items may lack them).
pub fn with_type(r: &ResourceKind, mut obj: Value) -> Value {
    if let Some(m) = obj.as_object_mut() {
        m.entry("apiVersion")
            .or_insert_with(|| json!(r.api_version()));
        m.entry("kind").or_insert_with(|| json!(r.kind));
    }
    obj
}

/// kubectl's `kind: List` wrapper for `-o yaml|json`.
pub fn as_list(r: &ResourceKind, items: Vec<Value>) -> Value {
    let items: Vec<Value> = items.into_iter().map(|o| with_type(r, o)).collect();
    json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}})
}

/// JSON with kubectl's 4-space indentation, with a trailing newline.
pub fn to_json(v: &Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    if v.serialize(&mut ser).is_err() {
        return format!("{v}\n");
    }
    let mut s = String::from_utf8_lossy(&buf).into_owned();
    s.push('\n');
    s
}

/// YAML, with a trailing newline.
pub fn to_yaml(v: &Value) -> anyhow::Result<String> {
    let mut s = yaml_serde::to_string(v)?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

/// One object (or list) in `format` (`Yaml` or `Json`).
pub fn render_object(v: &Value, format: Format) -> anyhow::Result<String> {
    match format {
        Format::Json => Ok(to_json(v)),
        _ => to_yaml(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capstan_core::kinds;

    fn pod_table() -> Value {
        json!({
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": "7"},
            "columnDefinitions": [
                {"name": "Name", "type": "string", "format": "name", "priority": 0},
                {"name": "Ready", "type": "string", "priority": 0},
                {"name": "Status", "type": "string", "priority": 0},
                {"name": "Restarts", "type": "string", "priority": 0},
                {"name": "Age", "type": "string", "priority": 0},
                {"name": "IP", "type": "string", "priority": 1},
                {"name": "Nominated Node", "type": "string", "priority": 1},
            ],
            "rows": [
                {"cells": ["web", "1/1", "Running", 0, "5m", "10.0.0.5", "<none>"],
                 "object": {"metadata": {"name": "web", "namespace": "default", "labels": {"tier": "front", "app": "web"}}}},
                {"cells": ["database-0", "0/1", "Pending", 12, "3d", "<none>", "<none>"],
                 "object": {"metadata": {"name": "database-0", "namespace": "prod"}}},
            ],
        })
    }

    #[test]
    fn tables_print_like_kubectl() {
        let cases: Vec<(TableOpts, &str)> = vec![
            (
                TableOpts::default(),
                "NAME         READY   STATUS    RESTARTS   AGE\n\
                 web          1/1     Running   0          5m\n\
                 database-0   0/1     Pending   12         3d\n",
            ),
            (
                TableOpts {
                    wide: true,
                    ..Default::default()
                },
                "NAME         READY   STATUS    RESTARTS   AGE   IP         NOMINATED NODE\n\
                 web          1/1     Running   0          5m    10.0.0.5   <none>\n\
                 database-0   0/1     Pending   12         3d    <none>     <none>\n",
            ),
            (
                TableOpts {
                    namespace_column: true,
                    ..Default::default()
                },
                "NAMESPACE   NAME         READY   STATUS    RESTARTS   AGE\n\
                 default     web          1/1     Running   0          5m\n\
                 prod        database-0   0/1     Pending   12         3d\n",
            ),
            (
                TableOpts {
                    show_labels: true,
                    ..Default::default()
                },
                "NAME         READY   STATUS    RESTARTS   AGE   LABELS\n\
                 web          1/1     Running   0          5m    app=web,tier=front\n\
                 database-0   0/1     Pending   12         3d    <none>\n",
            ),
            (
                TableOpts {
                    name_prefix: Some("pod".into()),
                    ..Default::default()
                },
                "NAME             READY   STATUS    RESTARTS   AGE\n\
                 pod/web          1/1     Running   0          5m\n\
                 pod/database-0   0/1     Pending   12         3d\n",
            ),
        ];
        for (opts, want) in cases {
            assert_eq!(
                render_table(&pod_table(), opts.clone()).as_deref(),
                Some(want),
                "{opts:?}"
            );
        }
    }

    #[test]
    fn watch_rows_line_up_with_the_first_table() {
        let mut p = TablePrinter::new(TableOpts::default());
        let mut empty = pod_table();
        empty["rows"] = json!([]);
        assert_eq!(p.print(&empty), "");
        let mut one = pod_table();
        one["rows"] = json!([pod_table()["rows"][0].clone()]);
        assert_eq!(
            p.print(&one),
            "NAME   READY   STATUS    RESTARTS   AGE\nweb    1/1     Running   0          5m\n"
        );
        assert_eq!(p.print(&one), "web    1/1     Running   0          5m\n");
    }

    #[test]
    fn empty_tables_print_nothing() {
        let mut t = pod_table();
        t["rows"] = json!([]);
        assert_eq!(render_table(&t, TableOpts::default()), None);
        assert_eq!(
            no_resources(Some("default")),
            "No resources found in default namespace."
        );
        assert_eq!(no_resources(None), "No resources found");
    }

    #[test]
    fn short_columns_keep_kubectl_minimum_width() {
        let t = json!({
            "columnDefinitions": [{"name": "A", "priority": 0}, {"name": "B", "priority": 0}],
            "rows": [{"cells": ["x", "y"]}],
        });
        assert_eq!(
            render_table(&t, TableOpts::default()).as_deref(),
            Some("A     B\nx     y\n")
        );
    }

    #[test]
    fn names_are_qualified() {
        let obj = json!({"metadata": {"name": "web"}});
        let cases = [
            ("Pod", "v1", "pod/web"),
            ("Deployment", "apps/v1", "deployment.apps/web"),
            ("Node", "v1", "node/web"),
        ];
        for (kind, av, want) in cases {
            let r = kinds::by_kind(av, kind).expect("served kind");
            assert_eq!(name_line(r, &obj), want);
        }
    }

    #[test]
    fn lists_look_like_kubectl() {
        let r = kinds::by_kind("v1", "Pod").expect("pods");
        let list = as_list(r, vec![json!({"metadata": {"name": "a"}})]);
        assert_eq!(list["kind"], "List");
        assert_eq!(list["apiVersion"], "v1");
        assert_eq!(list["metadata"]["resourceVersion"], "");
        assert_eq!(list["items"][0]["kind"], "Pod");
        assert_eq!(list["items"][0]["apiVersion"], "v1");
        assert_eq!(to_json(&json!({"a": 1})), "{\n    \"a\": 1\n}\n");
        let y = to_yaml(&list).expect("yaml");
        assert!(y.starts_with("apiVersion: v1\nitems:\n"), "{y}");
        assert!(y.contains("kind: List"), "{y}");
    }
}
