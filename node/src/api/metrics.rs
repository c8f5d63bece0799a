//! The resource metrics API as metrics-server serves it (`metrics.k8s.io/v1beta1`), so that
//! `kubectl top node` and `kubectl top pod` work: `nodes` (NodeMetrics, cluster-scoped) and
//! `pods` (PodMetrics, namespaced), get and list. The usage comes from the workers' heartbeats
//! ([`MetricsRegistry`], in memory); the objects it describes come from the store, so a list's
//! label and field selectors filter by the Node's or Pod's own labels and fields, and only
//! existing Nodes and Pods have metrics. A Pod's usage counts only when its node reported it
//! for that incarnation (same uid): a worker cannot report usage for another node's pods.
//! A sample older than a minute is not served.

use super::errors::ApiError;
use super::filter::ObjectFilter;
use super::request::Query;
use super::target::Target;
use super::ApiState;
use actix_web::{HttpRequest, HttpResponse};
use capstan_actors::nodes::metrics::{MetricsRegistry, UsageSample};
use capstan_actors::protocol::PodUsage;
use capstan_actors::store::now;
use capstan_core::kinds::{ResourceKind, NODES, PODS};
use capstan_core::quantity::{format_bytes, format_milli_cpu};
use capstan_core::time::Timestamp;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The API group.
pub const GROUP: &str = "metrics.k8s.io";
/// The one version served.
pub const VERSION: &str = "v1beta1";
const API_VERSION: &str = "metrics.k8s.io/v1beta1";

/// What a metrics path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    /// `nodes` or `nodes/NAME`.
    Nodes(Option<String>),
    /// `pods`, `namespaces/NS/pods` or `namespaces/NS/pods/NAME`.
    Pods {
        namespace: Option<String>,
        name: Option<String>,
    },
}

fn route(segs: &[&str]) -> Option<Route> {
    let s = |x: &&str| Some(x.to_string());
    Some(match segs {
        ["nodes"] => Route::Nodes(None),
        ["nodes", name] => Route::Nodes(s(name)),
        ["pods"] => Route::Pods {
            namespace: None,
            name: None,
        },
        ["namespaces", ns, "pods"] => Route::Pods {
            namespace: s(ns),
            name: None,
        },
        ["namespaces", ns, "pods", name] => Route::Pods {
            namespace: s(ns),
            name: s(name),
        },
        _ => return None,
    })
}

/// Serves `/apis/metrics.k8s.io/{version}/{rest...}`.
pub async fn serve(
    req: &HttpRequest,
    state: &ApiState,
    version: &str,
    rest: &[&str],
) -> Result<HttpResponse, ApiError> {
    let route = (version == VERSION)
        .then(|| route(rest))
        .flatten()
        .ok_or_else(ApiError::no_route)?;
    if req.method() != actix_web::http::Method::GET {
        return Err(ApiError::method_not_allowed(req.method().as_str()));
    }
    let q = Query::from_request(req)?;
    if q.flag("watch") {
        return Err(ApiError::method_not_allowed("watch"));
    }
    let body = match route {
        Route::Nodes(Some(name)) => get_node(state, &name)?,
        Route::Nodes(None) => list_nodes(state, &q).await?,
        Route::Pods {
            namespace: Some(ns),
            name: Some(name),
        } => get_pod(state, &ns, &name)?,
        Route::Pods { namespace, name: _ } => list_pods(state, &q, namespace).await?,
    };
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body.to_string()))
}

fn not_found(resource: &str, name: &str) -> ApiError {
    ApiError::not_found(&format!("{resource}.{GROUP}"), name)
}

fn target(resource: &'static ResourceKind, namespace: Option<String>) -> Target {
    Target {
        resource,
        namespace,
        name: None,
        subresource: None,
    }
}

fn get_node(state: &ApiState, name: &str) -> Result<Value, ApiError> {
    let node = state
        .store
        .db
        .get(NODES, "", name)?
        .ok_or_else(|| not_found("nodes", name))?;
    let sample = state
        .metrics
        .latest(name)
        .ok_or_else(|| not_found("nodes", name))?;
    Ok(node_metrics(&node, &sample, now()))
}

async fn list_nodes(state: &ApiState, q: &Query) -> Result<Value, ApiError> {
    let t = target(NODES, None);
    let (nodes, _) = ObjectFilter::for_request(&t, q)?.list(state, &t).await?;
    let samples = state.metrics.fresh();
    let at = now();
    let items: Vec<Value> = nodes
        .iter()
        .filter_map(|n| {
            let sample = samples.get(str_at(n, "/metadata/name"))?;
            Some(node_metrics(n, sample, at))
        })
        .collect();
    Ok(list("NodeMetricsList", items))
}

fn get_pod(state: &ApiState, ns: &str, name: &str) -> Result<Value, ApiError> {
    let pod = state
        .store
        .db
        .get(PODS, ns, name)?
        .ok_or_else(|| not_found("pods", name))?;
    let node = str_at(&pod, "/spec/nodeName");
    let sample = match node {
        "" => None,
        n => state.metrics.latest(n),
    };
    let (sample, usage) = sample
        .as_deref()
        .and_then(|s| Some((s, usage_of(&pod, s)?)))
        .ok_or_else(|| not_found("pods", name))?;
    Ok(pod_metrics(&pod, usage, sample, now()))
}

async fn list_pods(state: &ApiState, q: &Query, ns: Option<String>) -> Result<Value, ApiError> {
    let t = target(PODS, ns);
    let (pods, _) = ObjectFilter::for_request(&t, q)?.list(state, &t).await?;
    let items = pods_with_usage(&pods, &state.metrics, now());
    Ok(list("PodMetricsList", items))
}

/// The PodMetrics of those of `pods` whose node reported their usage recently.
fn pods_with_usage(pods: &[Value], metrics: &MetricsRegistry, at: Timestamp) -> Vec<Value> {
    let samples: HashMap<String, Arc<UsageSample>> = metrics.fresh();
    pods.iter()
        .filter_map(|p| {
            let sample = samples.get(str_at(p, "/spec/nodeName"))?;
            let usage = usage_of(p, sample)?;
            Some(pod_metrics(p, usage, sample, at))
        })
        .collect()
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The usage `sample` reports for `pod` (same namespace, name and uid; a report without a uid
/// matches any incarnation).
fn usage_of<'a>(pod: &Value, sample: &'a UsageSample) -> Option<&'a PodUsage> {
    let (ns, name, uid) = (
        str_at(pod, "/metadata/namespace"),
        str_at(pod, "/metadata/name"),
        str_at(pod, "/metadata/uid"),
    );
    sample
        .usage
        .pods
        .iter()
        .find(|p| p.namespace == ns && p.name == name && (p.uid.is_empty() || p.uid == uid))
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({"kind": kind, "apiVersion": API_VERSION, "metadata": {}, "items": items})
}

fn saturating(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// `{"cpu": "250m", "memory": "1024Ki"}`: CPU in millicores (whole cores without a suffix),
/// memory in bytes with the largest binary suffix that divides it.
fn usage_json(cpu_millis: u64, memory_bytes: u64) -> Value {
    json!({
        "cpu": format_milli_cpu(saturating(cpu_millis)),
        "memory": format_bytes(saturating(memory_bytes)),
    })
}

/// A duration in milliseconds as Go's `time.Duration` prints it (`500ms`, `1s`, `1.5s`,
/// `1m0s`, `1h2m3s`), which is how `metav1.Duration` travels.
fn go_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m, s, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    let mut secs = s.to_string();
    if frac > 0 {
        let f = format!("{frac:03}");
        secs.push('.');
        secs.push_str(f.trim_end_matches('0'));
    }
    if h > 0 {
        format!("{h}h{m}m{secs}s")
    } else if m > 0 {
        format!("{m}m{secs}s")
    } else {
        format!("{secs}s")
    }
}

/// The metadata of a metrics object for `obj`: its name (and namespace), its labels, and the
/// time of the request as creationTimestamp (metrics objects are made on the fly).
fn metadata(obj: &Value, at: Timestamp) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(str_at(obj, "/metadata/name")));
    let ns = str_at(obj, "/metadata/namespace");
    if !ns.is_empty() {
        m.insert("namespace".into(), json!(ns));
    }
    m.insert("creationTimestamp".into(), json!(at.to_rfc3339()));
    if let Some(labels) = obj
        .pointer("/metadata/labels")
        .filter(|l| l.as_object().is_some_and(|o| !o.is_empty()))
    {
        m.insert("labels".into(), labels.clone());
    }
    Value::Object(m)
}

/// A NodeMetrics for `node` from its latest sample.
fn node_metrics(node: &Value, sample: &UsageSample, at: Timestamp) -> Value {
    let u = &sample.usage;
    json!({
        "kind": "NodeMetrics",
        "apiVersion": API_VERSION,
        "metadata": metadata(node, at),
        "timestamp": sample.timestamp.to_rfc3339(),
        "window": go_duration(u.window_ms),
        "usage": usage_json(u.cpu_millis, u.memory_bytes),
    })
}

/// A PodMetrics for `pod` from its node's latest sample.
fn pod_metrics(pod: &Value, usage: &PodUsage, sample: &UsageSample, at: Timestamp) -> Value {
    let containers: Vec<Value> = usage
        .containers
        .iter()
        .map(|c| json!({"name": c.name, "usage": usage_json(c.cpu_millis, c.memory_bytes)}))
        .collect();
    json!({
        "kind": "PodMetrics",
        "apiVersion": API_VERSION,
        "metadata": metadata(pod, at),
        "timestamp": sample.timestamp.to_rfc3339(),
        "window": go_duration(sample.usage.window_ms),
        "containers": containers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use capstan_actors::protocol::{ContainerUsage, NodeUsage};
    use std::time::{Duration, Instant};

    fn sample() -> UsageSample {
        UsageSample {
            usage: NodeUsage {
                window_ms: 1000,
                cpu_millis: 250,
                memory_bytes: 1 << 20,
                pods: vec![
                    PodUsage {
                        namespace: "default".into(),
                        name: "burn".into(),
                        uid: "u1".into(),
                        containers: vec![
                            ContainerUsage {
                                name: "main".into(),
                                cpu_millis: 1000,
                                memory_bytes: 12_345,
                            },
                            ContainerUsage {
                                name: "side".into(),
                                cpu_millis: 0,
                                memory_bytes: 4096,
                            },
                        ],
                    },
                    PodUsage {
                        namespace: "other".into(),
                        name: "burn".into(),
                        uid: "".into(),
                        containers: vec![],
                    },
                ],
            },
            received: Instant::now(),
            timestamp: Timestamp(1_767_225_600), // 2026-01-01T00:00:00Z
        }
    }

    fn pod(ns: &str, name: &str, uid: &str, node: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": ns, "uid": uid, "labels": {"app": "x"}},
               "spec": {"nodeName": node}})
    }

    #[test]
    fn node_metrics_look_like_metrics_server() {
        let node = json!({"metadata": {"name": "w1", "labels": {"role": "worker"}, "uid": "n"}});
        let got = node_metrics(&node, &sample(), Timestamp(1_767_225_660));
        assert_eq!(
            got,
            json!({
                "kind": "NodeMetrics",
                "apiVersion": "metrics.k8s.io/v1beta1",
                "metadata": {"name": "w1", "creationTimestamp": "2026-01-01T00:01:00Z",
                             "labels": {"role": "worker"}},
                "timestamp": "2026-01-01T00:00:00Z",
                "window": "1s",
                "usage": {"cpu": "250m", "memory": "1Mi"},
            })
        );
        // No labels: no labels field.
        let bare = node_metrics(
            &json!({"metadata": {"name": "w2"}}),
            &sample(),
            Timestamp(0),
        );
        assert!(bare["metadata"].get("labels").is_none());
    }

    #[test]
    fn pod_metrics_list_each_container() {
        let s = sample();
        let p = pod("default", "burn", "u1", "w1");
        let u = usage_of(&p, &s).expect("reported");
        let got = pod_metrics(&p, u, &s, Timestamp(1_767_225_600));
        assert_eq!(
            got,
            json!({
                "kind": "PodMetrics",
                "apiVersion": "metrics.k8s.io/v1beta1",
                "metadata": {"name": "burn", "namespace": "default",
                             "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"app": "x"}},
                "timestamp": "2026-01-01T00:00:00Z",
                "window": "1s",
                "containers": [
                    {"name": "main", "usage": {"cpu": "1", "memory": "12345"}},
                    {"name": "side", "usage": {"cpu": "0", "memory": "4Ki"}},
                ],
            })
        );
    }

    #[test]
    fn pods_match_by_namespace_name_and_uid() {
        let s = sample();
        assert!(usage_of(&pod("default", "burn", "u1", "w1"), &s).is_some());
        // Another incarnation of the same name.
        assert!(usage_of(&pod("default", "burn", "u2", "w1"), &s).is_none());
        // Same name elsewhere.
        assert!(usage_of(&pod("kube-system", "burn", "u1", "w1"), &s).is_none());
        // A report without a uid matches whatever incarnation.
        assert!(usage_of(&pod("other", "burn", "zz", "w1"), &s).is_some());
    }

    #[test]
    fn pod_lists_use_the_pods_own_node() {
        let reg = MetricsRegistry::new();
        let s = sample();
        reg.record_at("w1", s.usage.clone(), Instant::now(), s.timestamp);
        let pods = vec![
            pod("default", "burn", "u1", "w1"),
            // Claimed by w1's report, but bound to w2: w1 cannot speak for it.
            pod("other", "burn", "x", "w2"),
            // Unscheduled.
            pod("default", "idle", "u3", ""),
        ];
        let got = pods_with_usage(&pods, &reg, Timestamp(0));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["metadata"]["name"], "burn");
        assert_eq!(got[0]["metadata"]["namespace"], "default");
        // A stale report is not served.
        let reg = MetricsRegistry::new();
        let old = Instant::now()
            .checked_sub(Duration::from_secs(120))
            .unwrap_or_else(Instant::now);
        reg.record_at("w1", s.usage.clone(), old, s.timestamp);
        if old + Duration::from_secs(61) < Instant::now() {
            assert!(pods_with_usage(&pods, &reg, Timestamp(0)).is_empty());
        }
    }

    #[test]
    fn durations_print_like_go() {
        for (ms, want) in [
            (0, "0s"),
            (1, "1ms"),
            (500, "500ms"),
            (1000, "1s"),
            (1500, "1.5s"),
            (1250, "1.25s"),
            (15_000, "15s"),
            (60_000, "1m0s"),
            (61_001, "1m1.001s"),
            (3_600_000, "1h0m0s"),
            (3_723_000, "1h2m3s"),
        ] {
            assert_eq!(go_duration(ms), want, "{ms} ms");
        }
    }

    #[test]
    fn routes() {
        let r = |p: &str| route(&p.split('/').filter(|s| !s.is_empty()).collect::<Vec<_>>());
        assert_eq!(r("nodes"), Some(Route::Nodes(None)));
        assert_eq!(r("nodes/w1"), Some(Route::Nodes(Some("w1".into()))));
        assert_eq!(
            r("pods"),
            Some(Route::Pods {
                namespace: None,
                name: None
            })
        );
        assert_eq!(
            r("namespaces/d/pods"),
            Some(Route::Pods {
                namespace: Some("d".into()),
                name: None
            })
        );
        assert_eq!(
            r("namespaces/d/pods/p"),
            Some(Route::Pods {
                namespace: Some("d".into()),
                name: Some("p".into())
            })
        );
        for bad in [
            "",
            "pods/p",
            "nodes/w1/status",
            "namespaces/d",
            "namespaces/d/nodes",
            "namespaces/d/pods/p/x",
            "deployments",
        ] {
            assert_eq!(r(bad), None, "{bad}");
        }
        assert_eq!(
            usage_json(u64::MAX, u64::MAX)["cpu"],
            format_milli_cpu(i64::MAX)
        );
    }
}
