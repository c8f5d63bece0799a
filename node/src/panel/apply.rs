//! `POST /ui/api/apply`: the panel's Apply page. One or more YAML (or JSON) documents are
//! applied as `capstan apply` applies them — created when missing, otherwise merge-patched with
//! the diff from their last-applied configuration — through the API's own create and patch
//! (the same admission, with strict field validation). The first failure stops the apply and
//! is answered with the API's message and the field paths at fault.

use crate::api::errors::ApiError;
use crate::api::handlers::{create_object, patch_object};
use crate::api::target::Target;
use crate::api::ApiState;
use crate::cli::apply::{apply_patch, creation_body};
use crate::cli::manifests::resolve;
use actix_web::HttpResponse;
use capstan_core::admission::FieldValidation;
use capstan_core::decode::parse_manifests;
use capstan_core::patch::PatchType;
use serde_json::{json, Value};

/// The largest request accepted.
pub const MAX_BODY: usize = 1 << 20;
/// Most documents in one apply.
const MAX_DOCUMENTS: usize = 100;

fn failure(
    code: u16,
    error: &str,
    document: Option<usize>,
    causes: Value,
    results: &[Value],
) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(code)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .content_type("application/json")
    .body(
        json!({"error": error, "document": document, "causes": causes, "results": results})
            .to_string(),
    )
}

/// Applies the manifest in `body` (`{"yaml": "…"}`).
pub async fn serve(state: &ApiState, body: &[u8]) -> HttpResponse {
    if body.len() > MAX_BODY {
        return failure(
            413,
            &format!("the manifest is larger than {MAX_BODY} bytes"),
            None,
            json!([]),
            &[],
        );
    }
    let yaml = match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v.get("yaml").and_then(Value::as_str) {
            Some(y) => y.to_string(),
            None => {
                return failure(
                    400,
                    "yaml: Required value: the manifest text",
                    None,
                    json!([]),
                    &[],
                )
            }
        },
        Err(e) => {
            return failure(
                400,
                &format!("the request is not JSON: {e}"),
                None,
                json!([]),
                &[],
            )
        }
    };
    let docs = match parse_manifests(&yaml) {
        Ok(d) => d,
        Err(e) => {
            return failure(
                400,
                &format!("the manifest cannot be parsed: {e}"),
                None,
                json!([]),
                &[],
            )
        }
    };
    if docs.is_empty() {
        return failure(400, "the manifest holds no object", None, json!([]), &[]);
    }
    if docs.len() > MAX_DOCUMENTS {
        return failure(
            400,
            &format!("at most {MAX_DOCUMENTS} documents at once"),
            None,
            json!([]),
            &[],
        );
    }
    let mut results = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        let m = match resolve(doc, "manifest", None, "default") {
            Ok(m) => m,
            Err(e) => {
                let msg = e.trim_start_matches("error: ");
                return failure(400, msg, Some(i), json!([]), &results);
            }
        };
        let outcome = apply_one(state, &m).await;
        match outcome {
            Ok(action) => results.push(json!({
                "kind": m.resource.qualified_singular(), "namespace": m.namespace,
                "name": m.name, "action": action,
            })),
            Err(e) => {
                let causes = e
                    .details
                    .as_ref()
                    .and_then(|d| d.get("causes"))
                    .cloned()
                    .unwrap_or_else(|| unknown_fields(&e.message));
                return failure(e.code, &e.message, Some(i), causes, &results);
            }
        }
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json!({"results": results}).to_string())
}

/// The causes of a strict-decoding error (`… unknown field "spec.x", unknown field "y"`): one
/// per field, so the page can point at each.
fn unknown_fields(message: &str) -> Value {
    let causes: Vec<Value> = message
        .split("unknown field \"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(field, _)| field))
        .map(|field| json!({"reason": "FieldValueInvalid", "field": field, "message": "unknown field"}))
        .collect();
    Value::Array(causes)
}

async fn apply_one(
    state: &ApiState,
    m: &crate::cli::manifests::Manifest,
) -> Result<&'static str, ApiError> {
    let live = state.store.db.get(m.resource, &m.namespace, &m.name)?;
    let Some(live) = live else {
        create_object(
            state,
            m.resource,
            creation_body(&m.object),
            FieldValidation::Strict,
            false,
        )
        .await?;
        return Ok("created");
    };
    let (patch, _) = apply_patch(&live, &m.object);
    let Some(patch) = patch else {
        return Ok("unchanged");
    };
    let t = Target {
        resource: m.resource,
        namespace: m.resource.namespaced.then(|| m.namespace.clone()),
        name: Some(m.name.clone()),
        subresource: None,
    };
    patch_object(
        state,
        &t,
        PatchType::Merge,
        &patch,
        FieldValidation::Strict,
        false,
    )
    .await?;
    Ok("configured")
}

#[cfg(test)]
mod tests {
    #[test]
    fn unknown_fields_become_causes() {
        let c = super::unknown_fields(
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replicass\", unknown field \"spec.x\"",
        );
        assert_eq!(c[0]["field"], "spec.replicass");
        assert_eq!(c[1]["field"], "spec.x");
        assert_eq!(
            super::unknown_fields("other").as_array().map(Vec::len),
            Some(0)
        );
    }
}
