//! `?watch=true`: a chunked stream of newline-delimited `WatchEvent`s. Without a
//! resourceVersion (or with `0`) it starts with the current state as ADDED events; with one,
//! it replays every change after it (410 Expired as an ERROR event when that is compacted).
//! Slow watchers are cut off by the hub; `timeoutSeconds` ends the stream.

use super::errors::ApiError;
use super::filter::ObjectFilter;
use super::request::{wants_table, Query};
use super::target::Target;
use super::ApiState;
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use capstan_actors::store::{now, StoreError, WatchStream};
use capstan_core::kinds::ResourceKind;
use capstan_core::table::{self, IncludeObject};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// How long an idle watch waits before sending a bookmark (when asked for bookmarks).
const BOOKMARK_EVERY: Duration = Duration::from_secs(30);
/// The longest a watch runs.
const MAX_TIMEOUT: u64 = 3600;

struct Render {
    resource: &'static ResourceKind,
    table: Option<IncludeObject>,
}

impl Render {
    fn line(&self, event_type: &str, obj: &Value) -> Bytes {
        let object = match self.table {
            Some(include) => {
                let rv = obj
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("0")
                    .to_string();
                table::build_table(
                    self.resource.kind,
                    std::slice::from_ref(obj),
                    now(),
                    include,
                    &rv,
                )
            }
            None => obj.clone(),
        };
        let mut s = json!({"type": event_type, "object": object}).to_string();
        s.push('\n');
        Bytes::from(s)
    }

    fn bookmark(&self, rev: u64) -> Bytes {
        let mut s = json!({"type": "BOOKMARK", "object": {
            "kind": self.resource.kind, "apiVersion": self.resource.api_version(),
            "metadata": {"resourceVersion": rev.to_string()}}})
        .to_string();
        s.push('\n');
        Bytes::from(s)
    }
}

fn error_line(e: &ApiError) -> Bytes {
    let mut s = json!({"type": "ERROR", "object": e.status_body()}).to_string();
    s.push('\n');
    Bytes::from(s)
}

struct State {
    pending: VecDeque<Bytes>,
    stream: Option<WatchStream>,
    filter: ObjectFilter,
    render: Render,
    deadline: Instant,
    bookmarks: bool,
}

/// Serves one watch request.
pub async fn serve(
    req: &HttpRequest,
    state: &ApiState,
    t: &Target,
    q: &Query,
) -> Result<HttpResponse, ApiError> {
    let filter = ObjectFilter::for_request(t, q)?;
    let render = Render {
        resource: t.resource,
        table: wants_table(req).then(|| IncludeObject::from_param(q.get("includeObject"))),
    };
    let timeout = match q.get("timeoutSeconds") {
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request(format!("timeoutSeconds: invalid value {s:?}")))?
            .min(MAX_TIMEOUT),
        None => 1800,
    };
    let mut pending = VecDeque::new();
    let start_after = match q.revision("resourceVersion")? {
        Some(rv) => rv,
        None => {
            // Current state first, as ADDED events, then changes after it.
            let (items, rev) = filter.list(state, t).await?;
            for o in &items {
                pending.push_back(render.line("ADDED", o));
            }
            rev
        }
    };
    let stream = match state.store.watch(start_after) {
        Ok(s) => Some(s),
        Err(e @ StoreError::Gone { .. }) => {
            pending.push_back(error_line(&ApiError::from(e)));
            None
        }
        Err(e) => return Err(e.into()),
    };
    let st = State {
        pending,
        stream,
        filter,
        render,
        deadline: Instant::now() + Duration::from_secs(timeout),
        bookmarks: q.flag("allowWatchBookmarks"),
    };
    let body = futures_util::stream::unfold(st, next_chunk);
    let ct = if wants_table(req) {
        "application/json;as=Table;v=v1;g=meta.k8s.io"
    } else {
        "application/json"
    };
    Ok(HttpResponse::Ok()
        .content_type(ct)
        .insert_header(("Cache-Control", "no-cache, private"))
        .streaming(body))
}

async fn next_chunk(mut st: State) -> Option<(Result<Bytes, actix_web::Error>, State)> {
    if let Some(b) = st.pending.pop_front() {
        return Some((Ok(b), st));
    }
    loop {
        let stream = st.stream.as_mut()?;
        let wait_until = (Instant::now() + BOOKMARK_EVERY).min(st.deadline);
        match tokio::time::timeout_at(wait_until, stream.next()).await {
            Ok(Ok(ev)) => {
                let same_kind = ev.resource.kind == st.render.resource.kind
                    && ev.resource.group == st.render.resource.group;
                if same_kind && st.filter.matches(&ev.object) {
                    let line = st.render.line(ev.event_type.as_str(), &ev.object);
                    return Some((Ok(line), st));
                }
            }
            // Cut off (too slow) or the hub closed: end the stream; the client re-watches.
            Ok(Err(_)) => return None,
            Err(_) if Instant::now() >= st.deadline => return None,
            Err(_) => {
                if st.bookmarks {
                    if let Some(rev) = stream.bookmark_revision() {
                        let b = st.render.bookmark(rev);
                        return Some((Ok(b), st));
                    }
                }
            }
        }
    }
}
