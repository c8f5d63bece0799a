//! API errors as Kubernetes `Status` objects with the right code and reason.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use capstan_actors::store::StoreError;
use capstan_core::validation::FieldError;
use serde_json::{json, Value};
use std::fmt;

/// An API failure; rendered as a `Status` body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `BadRequest`, ...
    pub reason: &'static str,
    /// Human-readable message (what kubectl prints).
    pub message: String,
    /// `details` (name, kind, causes), if any.
    pub details: Option<Value>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized() -> ApiError {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(403, "Forbidden", message)
    }

    /// 404 NotFound for a path or resource the server does not serve.
    pub fn no_route() -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    /// 404 NotFound for an object.
    pub fn not_found(resource: &str, name: &str) -> ApiError {
        let mut e = ApiError::new(404, "NotFound", format!("{resource} \"{name}\" not found"));
        e.details = Some(json!({"name": name, "kind": resource}));
        e
    }

    /// 409 Conflict with a message of its own.
    pub fn conflict(kind: &str, name: &str, message: &str) -> ApiError {
        let mut e = ApiError::new(409, "Conflict", message);
        e.details = Some(json!({"name": name, "kind": kind}));
        e
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed(what: &str) -> ApiError {
        ApiError::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource: {what}"),
        )
    }

    /// 413 RequestEntityTooLarge.
    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            413,
            "RequestEntityTooLarge",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }

    /// 415 UnsupportedMediaType.
    pub fn unsupported_media(ct: &str) -> ApiError {
        ApiError::new(415, "UnsupportedMediaType", format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {ct:?})"))
    }

    /// 422 Invalid with every failing field.
    pub fn invalid(kind: &str, name: &str, errors: &[FieldError]) -> ApiError {
        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let message = if list.len() == 1 {
            format!("{kind} \"{name}\" is invalid: {}", list[0])
        } else {
            format!("{kind} \"{name}\" is invalid: [{}]", list.join(", "))
        };
        let causes: Vec<Value> = errors
            .iter()
            .map(|e| json!({"reason": e.reason(), "message": e.message(), "field": e.path}))
            .collect();
        let mut e = ApiError::new(422, "Invalid", message);
        e.details = Some(json!({"name": name, "kind": kind, "causes": causes}));
        e
    }

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalError", message)
    }

    /// The `Status` body.
    pub fn status_body(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            v["details"] = d.clone();
        }
        v
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type("application/json")
            .body(self.status_body().to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match &e {
            StoreError::NotFound { resource, name } => ApiError::not_found(resource, name),
            StoreError::AlreadyExists { resource, name } => {
                let mut a = ApiError::new(409, "AlreadyExists", e.to_string());
                a.details = Some(json!({"name": name, "kind": resource}));
                a
            }
            StoreError::Conflict { resource, name, .. } => {
                let mut a = ApiError::new(409, "Conflict", e.to_string());
                a.details = Some(json!({"name": name, "kind": resource}));
                a
            }
            StoreError::Gone { .. } => ApiError::new(410, "Expired", e.to_string()),
            StoreError::NamespaceNotFound(ns) => ApiError::not_found("namespaces", ns),
            StoreError::BadRequest(m) => ApiError::bad_request(m.clone()),
            StoreError::Storage(_) | StoreError::Unavailable => {
                let mut a = ApiError::new(503, "ServiceUnavailable", e.to_string());
                a.details = Some(json!({"retryAfterSeconds": 1}));
                a
            }
        }
    }
}
