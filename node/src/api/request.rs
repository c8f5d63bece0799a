//! Reading requests: size-limited bodies, query parameters, selectors and content negotiation.

use super::errors::ApiError;
use actix_web::{web, HttpRequest};
use bytes::{Bytes, BytesMut};
use capstan_core::fields::{parse_field_selector, FieldSelector};
use capstan_core::kinds::ResourceKind;
use capstan_core::selector::{parse_label_selector, Selector};
use futures_util::StreamExt;
use std::collections::HashMap;

/// Largest request body accepted (as in Kubernetes: 3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Reads the whole body, refusing more than [`MAX_BODY`] bytes with 413.
pub async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> Result<Bytes, ApiError> {
    if let Some(len) = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > MAX_BODY {
            return Err(ApiError::too_large(MAX_BODY));
        }
    }
    let mut buf = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
        if buf.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::too_large(MAX_BODY));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The query parameters (last value wins).
pub struct Query(HashMap<String, String>);

impl Query {
    /// Parses the request's query string; malformed strings are a 400.
    pub fn from_request(req: &HttpRequest) -> Result<Query, ApiError> {
        if req.query_string().len() > 16 * 1024 {
            return Err(ApiError::bad_request(
                "the query string is longer than 16 KiB",
            ));
        }
        let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
        Ok(Query(pairs.into_inner().into_iter().collect()))
    }

    /// One parameter.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    /// A boolean parameter (`true`/`1`).
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1"))
    }

    /// `dryRun=All`.
    pub fn dry_run(&self) -> Result<bool, ApiError> {
        match self.get("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(v) => Err(ApiError::bad_request(format!(
                "dryRun: unsupported value {v:?}: supported values: \"All\""
            ))),
        }
    }

    /// The label and field selectors, checked against what `resource` supports.
    pub fn selectors(
        &self,
        resource: &ResourceKind,
    ) -> Result<(Selector, FieldSelector), ApiError> {
        let labels = parse_label_selector(self.get("labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("labelSelector: {e}")))?;
        let fields = parse_field_selector(self.get("fieldSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("fieldSelector: {e}")))?;
        for f in fields.fields() {
            if !resource.supports_field(f) {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {f} (for {})",
                    resource.qualified_plural()
                )));
            }
        }
        Ok((labels, fields))
    }

    /// A resourceVersion parameter as a revision; empty and `0` mean "any" (`None`).
    pub fn revision(&self, k: &str) -> Result<Option<u64>, ApiError> {
        match self.get(k) {
            None | Some("") | Some("0") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::bad_request(format!(
                    "{k}: invalid value {v:?}: must be a resource version"
                ))
            }),
        }
    }
}

/// Whether the client asked for a server-side Table.
pub fn wants_table(req: &HttpRequest) -> bool {
    req.headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.split(',')
                .next()
                .is_some_and(|first| first.contains("as=Table"))
        })
}

/// The request's content type (without parameters), lower-cased.
pub fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}
