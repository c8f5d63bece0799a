//! `GET /api/v1/namespaces/NS/pods/NAME/log`: the master asks the pod's worker for the
//! container's log over a QUIC request stream and returns it as text. With `follow=true` the
//! worker answers with a stream of chunks (the current content, then each new line until the
//! container stops) and the HTTP answer is a chunked body that carries them as they come.

use super::errors::ApiError;
use super::handlers::load;
use super::request::Query;
use super::target::Target;
use super::ApiState;
use actix_web::HttpResponse;
use bytes::Bytes;
use capstan_actors::nodes::gateway::NodeConnection;
use capstan_actors::protocol::{channel, LogChunk, LogRequest, LogResponse};
use capstan_transport::ResponseStream;
use serde_json::Value;

/// Most bytes of log returned in one answer.
const MAX_LOG_BYTES: u64 = 8 * 1024 * 1024;

fn count(q: &Query, key: &str) -> Result<u64, ApiError> {
    match q.get(key) {
        None | Some("") => Ok(0),
        Some(v) => v.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!(
                "{key}: invalid value {v:?}: must be a non-negative integer"
            ))
        }),
    }
}

/// The names of the containers listed at `pointer` (`/spec/containers`, `/spec/initContainers`).
fn container_names(pod: &Value, pointer: &str) -> Vec<String> {
    pod.pointer(pointer)
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Serves a pod's log; `follow` streams it (`previous` wins over `follow`: a terminated run's
/// log does not grow).
pub async fn pod_log(state: &ApiState, t: &Target, q: &Query) -> Result<HttpResponse, ApiError> {
    let pod = load(state, t)?;
    let name = t.name.clone().unwrap_or_default();
    let app = container_names(&pod, "/spec/containers");
    let mut names = app.clone();
    names.extend(container_names(&pod, "/spec/initContainers"));
    let container = match q.get("container").filter(|c| !c.is_empty()) {
        Some(c) if names.iter().any(|n| n == c) => c.to_string(),
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )))
        }
        None if app.len() == 1 => app[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                app.join(" ")
            )));
        }
    };
    let node = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if node.is_empty() {
        return Err(ApiError::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    let conn = state
        .gateway
        .send(NodeConnection(node.clone()))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| {
            ApiError::internal(format!(
                "node {node} is not connected: its worker cannot be reached for logs"
            ))
        })?;
    let previous = q.flag("previous");
    let follow = q.flag("follow") && !previous;
    let limit = match count(q, "limitBytes")? {
        // A followed log has no size: the limit, if any, is the client's.
        n if follow => n,
        0 => MAX_LOG_BYTES,
        n => n.min(MAX_LOG_BYTES),
    };
    let req = LogRequest {
        namespace: t.namespace.clone().unwrap_or_default(),
        name: name.clone(),
        container,
        tail_lines: count(q, "tailLines")?,
        previous,
        timestamps: q.flag("timestamps"),
        limit_bytes: limit,
        follow,
    };
    if follow {
        return follow_log(&conn, &node, &req).await;
    }
    let resp: LogResponse = conn
        .request(channel::LOGS, &req)
        .await
        .map_err(|e| ApiError::internal(format!("asking node {node} for the log: {e}")))?;
    match resp {
        LogResponse::Data(bytes) => Ok(HttpResponse::Ok().content_type("text/plain").body(bytes)),
        LogResponse::NotFound(message) => Err(ApiError::bad_request(message)),
    }
}

/// Streams a followed log: the worker's chunks as they come, until it says the container
/// stopped. A `NotFound` before any text is the same error as without `follow`.
async fn follow_log(
    conn: &capstan_transport::Connection,
    node: &str,
    req: &LogRequest,
) -> Result<HttpResponse, ApiError> {
    let asking = |e: capstan_transport::TransportError| {
        ApiError::internal(format!("asking node {node} for the log: {e}"))
    };
    let mut chunks = conn
        .request_stream(channel::LOGS, req)
        .await
        .map_err(asking)?;
    let (first, chunks) = match chunks.recv::<LogChunk>().await.map_err(asking)? {
        Some(LogChunk::Data(bytes)) => (bytes, Some(chunks)),
        Some(LogChunk::NotFound(message)) => return Err(ApiError::bad_request(message)),
        Some(LogChunk::End) | None => (Vec::new(), None),
    };
    let st = Follow {
        first: Some(Bytes::from(first)).filter(|b| !b.is_empty()),
        chunks,
        node: node.to_string(),
    };
    let body = futures_util::stream::unfold(st, next_log_chunk);
    Ok(HttpResponse::Ok()
        .content_type("text/plain")
        .insert_header(("Cache-Control", "no-cache, private"))
        .streaming(body))
}

/// A followed log being streamed. Dropped with the HTTP answer (the client went away), it
/// drops the worker's stream, which stops the worker's follower.
struct Follow {
    first: Option<Bytes>,
    chunks: Option<ResponseStream>,
    node: String,
}

async fn next_log_chunk(mut st: Follow) -> Option<(Result<Bytes, actix_web::Error>, Follow)> {
    if let Some(b) = st.first.take() {
        return Some((Ok(b), st));
    }
    loop {
        let chunks = st.chunks.as_mut()?;
        match chunks.recv::<LogChunk>().await {
            Ok(Some(LogChunk::Data(bytes))) if bytes.is_empty() => {}
            Ok(Some(LogChunk::Data(bytes))) => return Some((Ok(Bytes::from(bytes)), st)),
            Ok(Some(LogChunk::End)) | Ok(None) => return None,
            Ok(Some(LogChunk::NotFound(message))) => {
                tracing::warn!(node = %st.node, %message, "followed log ended by its worker");
                return None;
            }
            Err(e) => {
                // Cut the answer short rather than end it cleanly: the log did not end, the
                // node was lost. The client sees an incomplete body.
                tracing::warn!(node = %st.node, error = %e, "followed log lost");
                st.chunks = None;
                let err = actix_web::error::ErrorBadGateway(format!(
                    "following the log on node {}: {e}",
                    st.node
                ));
                return Some((Err(err), st));
            }
        }
    }
}
