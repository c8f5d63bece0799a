//! The `scale` subresource of Deployments and ReplicaSets (`autoscaling/v1` Scale): GET reads
//! `spec.replicas` with the selector; PUT and PATCH (merge, strategic or JSON patch over the
//! Scale) set it — how `kubectl scale` works.

use super::errors::ApiError;
use super::request::{content_type, read_body};
use super::target::Target;
use super::ApiState;
use actix_web::{web, HttpRequest, HttpResponse};
use capstan_core::patch::{apply_patch, PatchType};
use capstan_core::selector::LabelSelector;
use capstan_core::write_rules::Subresource;
use serde_json::{json, Value};

/// The Scale view of a Deployment or ReplicaSet.
pub fn scale_of(obj: &Value) -> Value {
    let meta = &obj["metadata"];
    let selector = obj
        .pointer("/spec/selector")
        .and_then(|s| serde_json::from_value::<LabelSelector>(s.clone()).ok())
        .and_then(|s| s.to_selector().ok())
        .map(|s| s.to_string())
        .unwrap_or_default();
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
                     "resourceVersion": meta["resourceVersion"],
                     "creationTimestamp": meta["creationTimestamp"]},
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
                   "selector": selector},
    })
}

fn replicas_of(scale: &Value) -> Result<i64, ApiError> {
    match scale.pointer("/spec/replicas") {
        Some(v) => v
            .as_i64()
            .filter(|r| (0..=i64::from(i32::MAX)).contains(r))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "spec.replicas: Invalid value: {v}: must be a non-negative integer"
                ))
            }),
        None => Err(ApiError::bad_request("spec.replicas: Required value")),
    }
}

fn ok(obj: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(scale_of(obj).to_string())
}

/// Serves GET, PUT and PATCH of `…/NAME/scale`.
pub async fn serve(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    t: &Target,
) -> Result<HttpResponse, ApiError> {
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let load = || -> Result<Value, ApiError> {
        state
            .store
            .db
            .get(t.resource, &ns, &name)?
            .ok_or_else(|| ApiError::not_found(&t.resource.qualified_plural(), &name))
    };
    let method = req.method().as_str();
    if method == "GET" {
        return Ok(ok(&load()?));
    }
    if method != "PUT" && method != "PATCH" {
        return Err(ApiError::method_not_allowed(method));
    }
    let body = read_body(req, payload).await?;
    let given: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("decoding the Scale: {e}")))?;
    let current = load()?;
    let wanted = if method == "PUT" {
        given.clone()
    } else {
        let ct = content_type(req);
        let pt =
            PatchType::from_content_type(&ct).ok_or_else(|| ApiError::unsupported_media(&ct))?;
        apply_patch(&scale_of(&current), pt, &given, "Scale")
            .map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    let replicas = replicas_of(&wanted)?;
    // A resourceVersion in a PUT is a precondition.
    let expected: Option<String> = (method == "PUT")
        .then(|| {
            given
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
        .flatten();
    let mut stale = false;
    let stored = state
        .store
        .modify(t.resource, &ns, &name, Subresource::Main, |obj| {
            if let Some(rv) = &expected {
                if obj
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    != Some(rv)
                {
                    stale = true;
                    return false;
                }
            }
            obj["spec"]["replicas"] = json!(replicas);
            true
        })
        .await?;
    if stale {
        return Err(ApiError::conflict(
            &t.resource.qualified_plural(),
            &name,
            &format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                t.resource.qualified_plural()
            ),
        ));
    }
    match stored {
        Some(obj) => Ok(ok(&obj)),
        None => Ok(ok(&load()?)),
    }
}
