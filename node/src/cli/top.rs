//! `capstan top nodes` and `capstan top pods [-n NS | -A]`: CPU and memory in use (from the
//! metrics API, `metrics.k8s.io`) next to what the pods request and what the nodes can
//! allocate, in kubectl's units (CPU in millicores, memory in MiB).

use super::output::no_resources;
use super::tabwriter::Columns;
use super::util::{connect, out, parse_namespace, with_query, VerbResult};
use crate::client::Client;
use capstan_core::quantity::Quantity;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// `capstan top` flags.
#[derive(Debug, clap::Args)]
pub struct TopArgs {
    /// What to show.
    #[command(subcommand)]
    pub what: TopWhat,
}

/// `capstan top nodes|pods`.
#[derive(Debug, clap::Subcommand)]
pub enum TopWhat {
    /// Per node: CPU and memory used, requested by its pods, and allocatable.
    #[command(visible_aliases = ["node", "no"])]
    Nodes {
        /// Label selector on the Nodes (`role=worker`).
        #[arg(short = 'l', long)]
        selector: Option<String>,
    },
    /// Per pod: CPU and memory used, and requested (the sum of its containers' requests).
    #[command(visible_aliases = ["pod", "po"])]
    Pods {
        /// Namespace (default: the kubeconfig context's).
        #[arg(short = 'n', long, value_parser = parse_namespace, conflicts_with = "all_namespaces")]
        namespace: Option<String>,
        /// Pods of every namespace.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        /// Label selector on the Pods (`app=web`).
        #[arg(short = 'l', long)]
        selector: Option<String>,
    },
}

const METRICS: &str = "/apis/metrics.k8s.io/v1beta1";
const UNKNOWN: &str = "<unknown>";
const MI: i64 = 1024 * 1024;

/// CPU (millicores) and memory (bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Amount {
    cpu: i64,
    memory: i64,
}

impl Amount {
    fn add(&mut self, o: Amount) {
        self.cpu = self.cpu.saturating_add(o.cpu);
        self.memory = self.memory.saturating_add(o.memory);
    }
}

/// Runs `capstan top`.
pub fn run(args: TopArgs, kubeconfig: Option<&Path>) -> VerbResult {
    match args.what {
        TopWhat::Nodes { selector } => {
            check_selector(selector.as_deref())?;
            let client = connect(kubeconfig)?;
            let sel = selector.as_deref().unwrap_or_default();
            let nodes = items(
                &client,
                &with_query("/api/v1/nodes", &[("labelSelector", sel)]),
            )?;
            let pods = items(&client, "/api/v1/pods")?;
            let metrics = items(
                &client,
                &with_query(&format!("{METRICS}/nodes"), &[("labelSelector", sel)]),
            )?;
            if nodes.is_empty() {
                eprintln!("{}", no_resources(None));
                return Ok(());
            }
            print(&node_rows(&nodes, &pods, &metrics));
            Ok(())
        }
        TopWhat::Pods {
            namespace,
            all_namespaces,
            selector,
        } => {
            check_selector(selector.as_deref())?;
            let client = connect(kubeconfig)?;
            let ns =
                (!all_namespaces).then(|| namespace.unwrap_or_else(|| client.namespace.clone()));
            let sel = selector.as_deref().unwrap_or_default();
            let (pods_path, metrics_path) = match &ns {
                Some(ns) => (
                    format!("/api/v1/namespaces/{ns}/pods"),
                    format!("{METRICS}/namespaces/{ns}/pods"),
                ),
                None => ("/api/v1/pods".to_string(), format!("{METRICS}/pods")),
            };
            let q = [("labelSelector", sel)];
            let pods = items(&client, &with_query(&pods_path, &q))?;
            let metrics = items(&client, &with_query(&metrics_path, &q))?;
            let rows = pod_rows(&pods, &metrics, ns.is_none());
            if rows.len() <= 1 {
                eprintln!("{}", no_resources(ns.as_deref()));
                return Ok(());
            }
            print(&rows);
            Ok(())
        }
    }
}

fn check_selector(sel: Option<&str>) -> anyhow::Result<()> {
    if let Some(sel) = sel {
        capstan_core::selector::parse_label_selector(sel)
            .map_err(|e| anyhow::anyhow!("invalid -l/--selector {sel:?}: {e}"))?;
    }
    Ok(())
}

/// The items of the list at `path`.
fn items(client: &Client, path: &str) -> anyhow::Result<Vec<Value>> {
    let resp = client.get(path)?;
    if !resp.ok() {
        anyhow::bail!(resp.error_text());
    }
    Ok(match resp.json()?.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    })
}

fn print(rows: &[Vec<String>]) {
    let mut cols = Columns::default();
    cols.fit(rows);
    let mut text = String::new();
    for r in rows {
        text.push_str(&cols.line(r));
        text.push('\n');
    }
    out(&text);
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// CPU and memory of a `{"cpu": ..., "memory": ...}` resource list; missing or malformed
/// entries count as 0.
fn amount(list: Option<&Value>) -> Amount {
    let q = |k: &str| list.and_then(|l| l.get(k)).and_then(Value::as_str);
    Amount {
        cpu: q("cpu")
            .and_then(|s| Quantity::from(s).to_milli().ok())
            .unwrap_or(0),
        memory: q("memory")
            .and_then(|s| Quantity::from(s).to_units().ok())
            .unwrap_or(0),
    }
}

/// The sum of the requests of a pod's containers.
fn pod_requests(pod: &Value) -> Amount {
    let mut total = Amount::default();
    for c in pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        total.add(amount(c.pointer("/resources/requests")));
    }
    total
}

fn terminated(pod: &Value) -> bool {
    matches!(str_at(pod, "/status/phase"), "Succeeded" | "Failed")
}

/// A PodMetrics' usage: the sum of its containers'.
fn pod_usage(m: &Value) -> Amount {
    let mut total = Amount::default();
    for c in m
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        total.add(amount(c.get("usage")));
    }
    total
}

fn cpu(m: i64) -> String {
    format!("{m}m")
}

fn mem(b: i64) -> String {
    format!("{}Mi", b / MI)
}

/// `used` as a whole percentage of `of` (truncated, like kubectl), or `none` when `of` is 0.
fn percent(used: i64, of: i64, none: &str) -> String {
    if of <= 0 {
        return none.to_string();
    }
    format!("{}%", i128::from(used) * 100 / i128::from(of))
}

fn cells(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The `top nodes` table (header first): every Node, its usage if it has metrics, the requests
/// of its pods that have not ended, and its allocatable.
fn node_rows(nodes: &[Value], pods: &[Value], metrics: &[Value]) -> Vec<Vec<String>> {
    let usage: HashMap<&str, Amount> = metrics
        .iter()
        .map(|m| (str_at(m, "/metadata/name"), amount(m.get("usage"))))
        .collect();
    let mut requested: HashMap<&str, Amount> = HashMap::new();
    for p in pods.iter().filter(|p| !terminated(p)) {
        let node = str_at(p, "/spec/nodeName");
        if !node.is_empty() {
            requested.entry(node).or_default().add(pod_requests(p));
        }
    }
    let mut nodes: Vec<&Value> = nodes.iter().collect();
    nodes.sort_by_key(|n| str_at(n, "/metadata/name"));
    let mut rows = vec![cells(&[
        "NAME",
        "CPU(cores)",
        "CPU%",
        "CPU-REQ",
        "CPU-REQ%",
        "CPU-ALLOC",
        "MEMORY(bytes)",
        "MEMORY%",
        "MEM-REQ",
        "MEM-REQ%",
        "MEM-ALLOC",
    ])];
    for n in nodes {
        let name = str_at(n, "/metadata/name");
        let alloc = amount(n.pointer("/status/allocatable"));
        let req = requested.get(name).copied().unwrap_or_default();
        let used = usage.get(name);
        let (cpu_used, cpu_pct, mem_used, mem_pct) = match used {
            Some(u) => (
                cpu(u.cpu),
                percent(u.cpu, alloc.cpu, UNKNOWN),
                mem(u.memory),
                percent(u.memory, alloc.memory, UNKNOWN),
            ),
            None => (
                UNKNOWN.into(),
                UNKNOWN.into(),
                UNKNOWN.into(),
                UNKNOWN.into(),
            ),
        };
        rows.push(vec![
            name.to_string(),
            cpu_used,
            cpu_pct,
            cpu(req.cpu),
            percent(req.cpu, alloc.cpu, UNKNOWN),
            cpu(alloc.cpu),
            mem_used,
            mem_pct,
            mem(req.memory),
            percent(req.memory, alloc.memory, UNKNOWN),
            mem(alloc.memory),
        ]);
    }
    rows
}

/// The `top pods` table (header first): every Pod that has not ended, its usage if it has
/// metrics, and its requests (with usage as a percentage of them).
fn pod_rows(pods: &[Value], metrics: &[Value], namespace_column: bool) -> Vec<Vec<String>> {
    let usage: HashMap<(&str, &str), Amount> = metrics
        .iter()
        .map(|m| {
            (
                (
                    str_at(m, "/metadata/namespace"),
                    str_at(m, "/metadata/name"),
                ),
                pod_usage(m),
            )
        })
        .collect();
    let mut pods: Vec<&Value> = pods.iter().filter(|p| !terminated(p)).collect();
    pods.sort_by_key(|p| {
        (
            str_at(p, "/metadata/namespace"),
            str_at(p, "/metadata/name"),
        )
    });
    let mut header = cells(&[
        "NAME",
        "CPU(cores)",
        "CPU-REQ",
        "CPU/REQ",
        "MEMORY(bytes)",
        "MEM-REQ",
        "MEM/REQ",
    ]);
    if namespace_column {
        header.insert(0, "NAMESPACE".into());
    }
    let mut rows = vec![header];
    for p in pods {
        let (ns, name) = (
            str_at(p, "/metadata/namespace"),
            str_at(p, "/metadata/name"),
        );
        let req = pod_requests(p);
        let mut row = match usage.get(&(ns, name)) {
            Some(u) => vec![
                name.to_string(),
                cpu(u.cpu),
                cpu(req.cpu),
                percent(u.cpu, req.cpu, "-"),
                mem(u.memory),
                mem(req.memory),
                percent(u.memory, req.memory, "-"),
            ],
            None => vec![
                name.to_string(),
                UNKNOWN.into(),
                cpu(req.cpu),
                UNKNOWN.into(),
                UNKNOWN.into(),
                mem(req.memory),
                UNKNOWN.into(),
            ],
        };
        if namespace_column {
            row.insert(0, ns.to_string());
        }
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, cpu: &str, memory: &str) -> Value {
        json!({"metadata": {"name": name}, "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"}}})
    }

    fn pod(ns: &str, name: &str, node: &str, phase: &str, requests: &[(&str, &str)]) -> Value {
        let containers: Vec<Value> = requests
            .iter()
            .enumerate()
            .map(|(i, (c, m))| {
                let mut r = serde_json::Map::new();
                if !c.is_empty() {
                    r.insert("cpu".into(), json!(c));
                }
                if !m.is_empty() {
                    r.insert("memory".into(), json!(m));
                }
                json!({"name": format!("c{i}"), "resources": {"requests": r}})
            })
            .collect();
        json!({"metadata": {"name": name, "namespace": ns},
               "spec": {"nodeName": node, "containers": containers},
               "status": {"phase": phase}})
    }

    fn text(rows: &[Vec<String>]) -> Vec<String> {
        let mut c = Columns::default();
        c.fit(rows);
        rows.iter().map(|r| c.line(r)).collect()
    }

    #[test]
    fn nodes_show_used_requested_and_allocatable() {
        let nodes = vec![node("w2", "2", "4Gi"), node("w1", "4", "8Gi")];
        let pods = vec![
            pod(
                "default",
                "a",
                "w1",
                "Running",
                &[("100m", "16Mi"), ("250m", "")],
            ),
            pod("kube-system", "b", "w1", "Pending", &[("", "64Mi")]),
            // Ended pods and unscheduled pods request nothing of a node.
            pod("default", "done", "w1", "Succeeded", &[("1", "1Gi")]),
            pod("default", "failed", "w1", "Failed", &[("1", "1Gi")]),
            pod("default", "waiting", "", "Pending", &[("1", "1Gi")]),
            pod("default", "c", "w2", "Running", &[("1", "512Mi")]),
        ];
        let metrics =
            vec![json!({"metadata": {"name": "w1"}, "usage": {"cpu": "1", "memory": "1572864Ki"}})];
        let rows = node_rows(&nodes, &pods, &metrics);
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            cells(&[
                "w1", "1000m", "25%", "350m", "8%", "4000m", "1536Mi", "18%", "80Mi", "0%",
                "8192Mi"
            ])
        );
        // w2 reported nothing (yet, or any more): usage unknown, the rest known.
        assert_eq!(
            rows[2],
            cells(&[
                "w2", UNKNOWN, UNKNOWN, "1000m", "50%", "2000m", UNKNOWN, UNKNOWN, "512Mi", "12%",
                "4096Mi"
            ])
        );
        let t = text(&rows);
        assert!(t[0].starts_with("NAME   CPU(cores)   CPU%"), "{}", t[0]);
        assert!(t[1].starts_with("w1     1000m        25%"), "{}", t[1]);
    }

    #[test]
    fn nodes_without_allocatable_have_no_percentages() {
        let nodes = vec![json!({"metadata": {"name": "w1"}})];
        let metrics =
            vec![json!({"metadata": {"name": "w1"}, "usage": {"cpu": "5m", "memory": "bogus"}})];
        let rows = node_rows(&nodes, &[], &metrics);
        assert_eq!(
            rows[1],
            cells(&[
                "w1", "5m", UNKNOWN, "0m", UNKNOWN, "0m", "0Mi", UNKNOWN, "0Mi", UNKNOWN, "0Mi"
            ])
        );
    }

    #[test]
    fn pods_show_used_versus_requested() {
        let pods = vec![
            pod("default", "burn", "w1", "Running", &[("100m", "16Mi")]),
            pod("default", "free", "w1", "Running", &[("", "")]),
            pod("default", "new", "", "Pending", &[("50m", "")]),
            pod("default", "gone", "w1", "Succeeded", &[("50m", "")]),
            pod(
                "dev",
                "two",
                "w1",
                "Running",
                &[("100m", "32Mi"), ("100m", "32Mi")],
            ),
        ];
        let metrics = vec![
            json!({"metadata": {"name": "burn", "namespace": "default"},
                   "containers": [{"name": "c0", "usage": {"cpu": "987m", "memory": "4Mi"}}]}),
            json!({"metadata": {"name": "free", "namespace": "default"},
                   "containers": [{"name": "c0", "usage": {"cpu": "0", "memory": "1Mi"}}]}),
            json!({"metadata": {"name": "two", "namespace": "dev"},
                   "containers": [{"name": "c0", "usage": {"cpu": "10m", "memory": "8Mi"}},
                                  {"name": "c1", "usage": {"cpu": "30m", "memory": "8Mi"}}]}),
        ];
        let rows = pod_rows(&pods, &metrics, true);
        assert_eq!(
            rows,
            vec![
                cells(&[
                    "NAMESPACE",
                    "NAME",
                    "CPU(cores)",
                    "CPU-REQ",
                    "CPU/REQ",
                    "MEMORY(bytes)",
                    "MEM-REQ",
                    "MEM/REQ"
                ]),
                cells(&["default", "burn", "987m", "100m", "987%", "4Mi", "16Mi", "25%"]),
                cells(&["default", "free", "0m", "0m", "-", "1Mi", "0Mi", "-"]),
                cells(&["default", "new", UNKNOWN, "50m", UNKNOWN, UNKNOWN, "0Mi", UNKNOWN]),
                cells(&["dev", "two", "40m", "200m", "20%", "16Mi", "64Mi", "25%"]),
            ]
        );
        let one_ns = pod_rows(&pods[..1], &metrics, false);
        assert_eq!(one_ns[0][0], "NAME");
        assert_eq!(one_ns[1][0], "burn");
    }

    #[test]
    fn kubectl_units() {
        assert_eq!(cpu(0), "0m");
        assert_eq!(cpu(1500), "1500m");
        assert_eq!(mem(16 * MI), "16Mi");
        assert_eq!(mem(MI - 1), "0Mi");
        assert_eq!(percent(1, 3, "-"), "33%");
        assert_eq!(percent(5, 0, "-"), "-");
        assert_eq!(
            percent(i64::MAX, 1, "-"),
            format!("{}%", i128::from(i64::MAX) * 100)
        );
        assert_eq!(
            amount(Some(&json!({"cpu": "1.5", "memory": "1G"}))),
            Amount {
                cpu: 1500,
                memory: 1_000_000_000
            }
        );
        assert_eq!(amount(None), Amount::default());
    }
}
