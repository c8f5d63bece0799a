//! `GET /api/v1/namespaces/NS/pods/NAME/log`: the master asks the pod's worker for the
//! container's log over a QUIC request stream and returns it as text.

use super::errors::ApiError;
use super::handlers::load;
use super::request::Query;
use super::target::Target;
use super::ApiState;
use actix_web::HttpResponse;
use capstan_actors::nodes::gateway::NodeConnection;
use capstan_actors::protocol::{channel, LogRequest, LogResponse};
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

/// Serves a pod's log. `follow` returns what is there now (streaming comes later).
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
    let limit = match count(q, "limitBytes")? {
        0 => MAX_LOG_BYTES,
        n => n.min(MAX_LOG_BYTES),
    };
    let req = LogRequest {
        namespace: t.namespace.clone().unwrap_or_default(),
        name: name.clone(),
        container,
        tail_lines: count(q, "tailLines")?,
        previous: q.flag("previous"),
        timestamps: q.flag("timestamps"),
        limit_bytes: limit,
        follow: false,
    };
    let resp: LogResponse = conn
        .request(channel::LOGS, &req)
        .await
        .map_err(|e| ApiError::internal(format!("asking node {node} for the log: {e}")))?;
    match resp {
        LogResponse::Data(bytes) => Ok(HttpResponse::Ok().content_type("text/plain").body(bytes)),
        LogResponse::NotFound(message) => Err(ApiError::bad_request(message)),
    }
}
