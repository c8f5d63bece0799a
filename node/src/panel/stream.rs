//! `GET /ui/api/stream`: the panel's live feed, as Server-Sent Events. Each connection starts
//! with a `snapshot` (nodes, pods, deployments, replica sets, the latest events, the chart
//! history and the latest usage), then sends a `change` for every store change of those kinds
//! and a `sample` every few seconds. A browser's `EventSource` reconnects by itself, and gets a
//! fresh snapshot — which is how an open page recovers after the master restarts. A stream that
//! falls too far behind the store is ended (the browser reconnects).

use super::history::{usage_json, History};
use crate::api::errors::ApiError;
use crate::api::ApiState;
use actix_web::HttpResponse;
use bytes::Bytes;
use capstan_actors::nodes::metrics::MetricsRegistry;
use capstan_actors::store::{WatchEvent, WatchStream};
use capstan_core::kinds::{self, ResourceKind};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// The kinds the panel shows, by (group, kind), with their snapshot field.
const KINDS: [(&str, &str, &str); 5] = [
    ("", "Node", "nodes"),
    ("", "Pod", "pods"),
    ("apps", "Deployment", "deployments"),
    ("apps", "ReplicaSet", "replicasets"),
    ("", "Event", "events"),
];
/// Most events in a snapshot (the newest).
const SNAPSHOT_EVENTS: usize = 500;
/// A comment line this often keeps proxies and the browser from timing out an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(15);

fn resource(group: &str, kind: &str) -> Option<&'static ResourceKind> {
    let api_version = if group.is_empty() {
        "v1".to_string()
    } else {
        format!("{group}/v1")
    };
    kinds::by_kind(&api_version, kind)
}

fn frame(event: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

fn newest_events(mut events: Vec<Value>) -> Vec<Value> {
    let when = |e: &Value| {
        ["lastTimestamp", "eventTime", "firstTimestamp"]
            .iter()
            .find_map(|k| e.get(*k).and_then(Value::as_str))
            .unwrap_or_default()
            .to_string()
    };
    events.sort_by_key(|e| std::cmp::Reverse(when(e)));
    events.truncate(SNAPSHOT_EVENTS);
    events
}

struct Feed {
    pending: VecDeque<Bytes>,
    watch: WatchStream,
    samples: broadcast::Receiver<Arc<super::history::Sample>>,
    metrics: MetricsRegistry,
    history: History,
}

/// Serves one stream.
pub async fn serve(state: &ApiState) -> Result<HttpResponse, ApiError> {
    let history = state.panel.history.clone();
    history.viewed();
    let revision = state.store.db.revision()?;
    let mut snapshot = json!({
        "revision": revision,
        "history": history.samples(),
        "usage": usage_json(&state.metrics),
    });
    for (group, kind, field) in KINDS {
        let Some(r) = resource(group, kind) else {
            continue;
        };
        let (items, _) = state.store.db.list(r, None)?;
        snapshot[field] = Value::Array(if kind == "Event" {
            newest_events(items)
        } else {
            items
        });
    }
    // Changes after the revision read first: the lists may already hold some of them, which
    // the page applies again harmlessly (it keeps the newest resourceVersion).
    let watch = state.store.watch(revision)?;
    let mut pending = VecDeque::new();
    pending.push_back(Bytes::from_static(b"retry: 1000\n\n"));
    pending.push_back(frame("snapshot", &snapshot));
    let feed = Feed {
        pending,
        watch,
        samples: history.subscribe(),
        metrics: state.metrics.clone(),
        history,
    };
    let body = futures_util::stream::unfold(feed, next);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache, no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

fn shown(ev: &WatchEvent) -> bool {
    KINDS
        .iter()
        .any(|(g, k, _)| ev.resource.kind == *k && ev.resource.group == *g)
}

async fn next(mut f: Feed) -> Option<(Result<Bytes, actix_web::Error>, Feed)> {
    if let Some(b) = f.pending.pop_front() {
        return Some((Ok(b), f));
    }
    loop {
        tokio::select! {
            ev = f.watch.next() => match ev {
                Ok(ev) if shown(&ev) => {
                    let data = json!({"type": ev.event_type.as_str(), "kind": ev.resource.kind,
                                      "object": &*ev.object});
                    return Some((Ok(frame("change", &data)), f));
                }
                Ok(_) => {}
                // Too far behind, or the store is closing: end; the browser reconnects.
                Err(_) => return None,
            },
            s = f.samples.recv() => match s {
                Ok(s) => {
                    f.history.viewed();
                    let mut data = serde_json::to_value(&*s).unwrap_or(Value::Null);
                    data["usage"] = usage_json(&f.metrics);
                    return Some((Ok(frame("sample", &data)), f));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            },
            _ = tokio::time::sleep(KEEPALIVE) => {
                f.history.viewed();
                return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), f));
            }
        }
    }
}
