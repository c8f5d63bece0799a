//! `POST /api/v1/namespaces/NS/pods/NAME/binding`: binds a pod to a node, as kube-scheduler
//! does through the API (and as Capstan's own scheduler does through the store). The pod gets
//! `spec.nodeName` and PodScheduled=True once; a pod that already has a node is a 409 Conflict.

use super::errors::ApiError;
use super::request::{content_type, read_body};
use super::target::Target;
use super::ApiState;
use actix_web::{web, HttpRequest, HttpResponse};
use capstan_core::binding::{bind, binding_target, BindError};
use capstan_core::kinds::PODS;
use capstan_core::write_rules::Subresource;
use serde_json::{json, Value};

/// Serves a binding request.
pub async fn create(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    t: &Target,
) -> Result<HttpResponse, ApiError> {
    let name = t.name.clone().unwrap_or_default();
    let namespace = t.namespace.clone().unwrap_or_default();
    let body = read_body(req, payload).await?;
    let ct = content_type(req);
    if !ct.contains("json") && !ct.is_empty() {
        return Err(ApiError::unsupported_media(&ct));
    }
    let binding: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("decoding the Binding: {e}")))?;
    if let Some(n) = binding
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty() && *n != name)
    {
        return Err(ApiError::bad_request(format!(
            "metadata.name: Invalid value: {n:?}: must match the pod's name {name:?}"
        )));
    }
    let node = binding_target(&binding).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let now = capstan_actors::store::now();
    let mut refused: Option<BindError> = None;
    let stored = state
        .store
        .modify(
            PODS,
            &namespace,
            &name,
            Subresource::Binding,
            |pod| match bind(pod, &node, now) {
                Ok(bound) => {
                    *pod = bound;
                    true
                }
                Err(e) => {
                    refused = Some(e);
                    false
                }
            },
        )
        .await?;
    if let Some(e) = refused {
        return Err(match e {
            BindError::NoTarget => ApiError::bad_request(e.to_string()),
            other => ApiError::conflict(
                "pods/binding",
                &name,
                &format!("Operation cannot be fulfilled on pods/binding \"{name}\": {other}"),
            ),
        });
    }
    if stored.is_none() {
        return Err(ApiError::not_found("pods", &name));
    }
    Ok(HttpResponse::Created().content_type("application/json").body(
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
            .to_string(),
    ))
}
