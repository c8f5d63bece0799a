//! The REST verbs on resources: list, get, create, replace, patch, delete (watch is in
//! `watch.rs`). Each request is authenticated by middleware before it gets here; every body
//! is size-limited, decoded, admitted (defaulting + validation) and only then written.

use super::errors::ApiError;
use super::filter::ObjectFilter;
use super::request::{content_type, read_body, wants_table, Query};
use super::target::{self, Target};
use super::{watch, ApiState};
use actix_web::{web, HttpRequest, HttpResponse};
use capstan_actors::store::{now, Outcome, WriteOp};
use capstan_core::admission::{admit, AdmitError, Admitted, FieldValidation};
use capstan_core::decode::parse_body;
use capstan_core::kinds::ResourceKind;
use capstan_core::patch::{apply_patch, PatchType};
use capstan_core::table::{self, IncludeObject};
use capstan_core::write_rules::{self, Subresource};
use serde_json::{json, Value};

const TABLE_CT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// Every `/api/...` and `/apis/...` request for a resource lands here.
pub async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let path = req.path().to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let ["apis", super::metrics::GROUP, version, rest @ ..] = segs.as_slice() {
        return super::metrics::serve(&req, &state, version, rest).await;
    }
    let t = match segs.as_slice() {
        ["api", "v1", rest @ ..] if !rest.is_empty() => target::parse("", "v1", rest),
        ["apis", group, version, rest @ ..] if !rest.is_empty() => {
            target::parse(group, version, rest)
        }
        _ => None,
    }
    .ok_or_else(ApiError::no_route)?;
    let q = Query::from_request(&req)?;
    if let Some(sub) = &t.subresource {
        if sub == "log" && t.resource.kind == "Pod" {
            return match req.method().as_str() {
                "GET" => super::logs::pod_log(&state, &t, &q).await,
                m => Err(ApiError::method_not_allowed(m)),
            };
        }
        if sub == "scale" && matches!(t.resource.kind, "Deployment" | "ReplicaSet") {
            return super::scale::serve(&req, payload, &state, &t).await;
        }
        if sub == "binding" && t.resource.kind == "Pod" {
            return match req.method().as_str() {
                "POST" => super::binding::create(&req, payload, &state, &t).await,
                m => Err(ApiError::method_not_allowed(m)),
            };
        }
        if sub != "status" || !t.resource.has_status {
            return Err(ApiError::no_route());
        }
    }
    let method = req.method().as_str().to_string();
    match (method.as_str(), t.name.is_some()) {
        ("GET", false) if q.flag("watch") => watch::serve(&req, &state, &t, &q).await,
        ("GET", false) => list(&req, &state, &t, &q).await,
        ("GET", true) => get(&req, &state, &t).await,
        ("POST", false) => create(&req, payload, &state, &t, &q).await,
        ("PUT", true) => replace(&req, payload, &state, &t, &q).await,
        ("PATCH", true) => patch(&req, payload, &state, &t, &q).await,
        ("DELETE", true) => delete(&req, payload, &state, &t, &q).await,
        (m, _) => Err(ApiError::method_not_allowed(m)),
    }
}

fn json_response(status: u16, body: &Value, warnings: &[String]) -> HttpResponse {
    let mut r = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK),
    );
    r.content_type("application/json");
    for w in warnings {
        let escaped = w.replace('\\', "\\\\").replace('"', "\\\"");
        r.append_header(("Warning", format!("299 - \"{escaped}\"")));
    }
    r.body(body.to_string())
}

fn namespace_of(t: &Target) -> &str {
    t.namespace.as_deref().unwrap_or("")
}

async fn list(
    req: &HttpRequest,
    state: &ApiState,
    t: &Target,
    q: &Query,
) -> Result<HttpResponse, ApiError> {
    let (items, rev) = ObjectFilter::for_request(t, q)?.list(state, t).await?;
    if wants_table(req) {
        let include = IncludeObject::from_param(q.get("includeObject"));
        let t = table::build_table(t.resource.kind, &items, now(), include, &rev.to_string());
        return Ok(HttpResponse::Ok()
            .content_type(TABLE_CT)
            .body(t.to_string()));
    }
    let body = json!({
        "kind": format!("{}List", t.resource.kind),
        "apiVersion": t.resource.api_version(),
        "metadata": {"resourceVersion": rev.to_string()},
        "items": items,
    });
    Ok(json_response(200, &body, &[]))
}

pub(super) fn load(state: &ApiState, t: &Target) -> Result<Value, ApiError> {
    let name = t.name.as_deref().unwrap_or_default();
    state
        .store
        .db
        .get(t.resource, namespace_of(t), name)?
        .ok_or_else(|| ApiError::not_found(&t.resource.qualified_plural(), name))
}

async fn get(req: &HttpRequest, state: &ApiState, t: &Target) -> Result<HttpResponse, ApiError> {
    let obj = load(state, t)?;
    if wants_table(req) {
        let rv = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("0")
            .to_string();
        let tb = table::build_table(
            t.resource.kind,
            std::slice::from_ref(&obj),
            now(),
            IncludeObject::Metadata,
            &rv,
        );
        return Ok(HttpResponse::Ok()
            .content_type(TABLE_CT)
            .body(tb.to_string()));
    }
    Ok(json_response(200, &obj, &[]))
}

/// Decodes a body as an object of the target's kind, fixing apiVersion/kind/namespace.
fn decode_object(req: &HttpRequest, body: &[u8], t: &Target) -> Result<Value, ApiError> {
    let ct = content_type(req);
    if !(ct.contains("json") || ct.contains("yaml")) {
        return Err(ApiError::unsupported_media(&ct));
    }
    let mut v = parse_body(body, &ct).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let r = t.resource;
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = v
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if (!kind.is_empty() && kind != r.kind)
        || (!api_version.is_empty() && api_version != r.api_version())
    {
        return Err(ApiError::bad_request(format!(
            "the body is a {api_version}/{kind}, but the request is for {} ({})",
            r.qualified_plural(),
            r.api_version()
        )));
    }
    v["kind"] = json!(r.kind);
    v["apiVersion"] = json!(r.api_version());
    if !v.get("metadata").is_some_and(Value::is_object) {
        v["metadata"] = json!({});
    }
    if r.namespaced {
        let url_ns = namespace_of(t);
        let body_ns = v
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !body_ns.is_empty() && body_ns != url_ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        v["metadata"]["namespace"] = json!(url_ns);
    } else if let Some(m) = v["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    Ok(v)
}

fn admit_err(e: AdmitError) -> ApiError {
    match e {
        AdmitError::Invalid { kind, name, errors } => ApiError::invalid(&kind, &name, &errors),
        other => ApiError::bad_request(other.to_string()),
    }
}

fn field_validation(q: &Query) -> Result<FieldValidation, ApiError> {
    FieldValidation::from_param(q.get("fieldValidation")).map_err(ApiError::bad_request)
}

async fn create(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    t: &Target,
    q: &Query,
) -> Result<HttpResponse, ApiError> {
    if t.resource.namespaced && t.namespace.is_none() {
        return Err(ApiError::method_not_allowed(
            "POST to a cluster-wide list of a namespaced resource",
        ));
    }
    if t.subresource.is_some() {
        return Err(ApiError::method_not_allowed("POST to a subresource"));
    }
    let body = read_body(req, payload).await?;
    let v = decode_object(req, &body, t)?;
    let (object, warnings) =
        create_object(state, t.resource, v, field_validation(q)?, q.dry_run()?).await?;
    Ok(json_response(201, &object, &warnings))
}

/// What POST does with a decoded object: admit it (defaulting and validation) and create it.
/// Returns the stored object and the warnings. Also used by the panel's Apply.
pub(crate) async fn create_object(
    state: &ApiState,
    resource: &'static ResourceKind,
    v: Value,
    fv: FieldValidation,
    dry_run: bool,
) -> Result<(Value, Vec<String>), ApiError> {
    let Admitted {
        mut object,
        warnings,
    } = admit(resource.kind, &v, None, fv).map_err(admit_err)?;
    write_rules::prepare_for_create(resource.kind, &mut object);
    if dry_run {
        return Ok((object, warnings));
    }
    let r = state
        .store
        .write(WriteOp::Create { resource, object })
        .await?;
    Ok((r.object, warnings))
}

fn subresource(t: &Target) -> Subresource {
    if t.subresource.as_deref() == Some("status") {
        Subresource::Status
    } else {
        Subresource::Main
    }
}

fn revision_of(v: &Value) -> Result<Option<u64>, ApiError> {
    match v
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!("metadata.resourceVersion: invalid value {s:?}"))
        }),
    }
}

/// Admits `new` as an update of `old` and writes it, conditional on `expected`.
async fn admit_and_update(
    state: &ApiState,
    t: &Target,
    old: &Value,
    new: Value,
    expected: Option<u64>,
    fv: FieldValidation,
    dry_run: bool,
) -> Result<(Value, Vec<String>, Outcome), ApiError> {
    let sub = subresource(t);
    // A status write changes only status: validate the object as it will be stored.
    let candidate = match sub {
        Subresource::Status => write_rules::on_update(old, &new, sub, true),
        Subresource::Main | Subresource::Binding => new,
    };
    let Admitted { object, warnings } =
        admit(t.resource.kind, &candidate, Some(old), fv).map_err(admit_err)?;
    if dry_run {
        let merged = write_rules::on_update(old, &object, sub, t.resource.has_status);
        return Ok((merged, warnings, Outcome::Updated));
    }
    let r = state
        .store
        .write(WriteOp::Update {
            resource: t.resource,
            object,
            subresource: sub,
            expected_revision: expected,
        })
        .await?;
    Ok((r.object, warnings, r.outcome))
}

async fn replace(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    t: &Target,
    q: &Query,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(req, payload).await?;
    let v = decode_object(req, &body, t)?;
    let url_name = t.name.as_deref().unwrap_or_default();
    let body_name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if body_name != url_name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({url_name})"
        )));
    }
    let requested = revision_of(&v)?;
    update_retrying(state, t, q, |_| Ok((v.clone(), requested))).await
}

/// Reads the current object, builds the new one from it with `make` (which also returns the
/// client's resourceVersion precondition, if any), admits and writes it. Without a client
/// precondition a lost race is retried against the newer version, up to five times.
async fn update_retrying(
    state: &ApiState,
    t: &Target,
    q: &Query,
    make: impl Fn(&Value) -> Result<(Value, Option<u64>), ApiError>,
) -> Result<HttpResponse, ApiError> {
    let (fv, dry_run) = (field_validation(q)?, q.dry_run()?);
    let (obj, w) = update_retrying_object(state, t, fv, dry_run, make).await?;
    Ok(json_response(200, &obj, &w))
}

async fn update_retrying_object(
    state: &ApiState,
    t: &Target,
    fv: FieldValidation,
    dry_run: bool,
    make: impl Fn(&Value) -> Result<(Value, Option<u64>), ApiError>,
) -> Result<(Value, Vec<String>), ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let old = load(state, t)?;
        let (new, requested) = make(&old)?;
        let expected = match requested {
            Some(r) => Some(r),
            None => revision_of(&old)?,
        };
        match admit_and_update(state, t, &old, new, expected, fv, dry_run).await {
            Err(e) if e.reason == "Conflict" && requested.is_none() && attempt < 10 => continue,
            Err(e) => return Err(e),
            Ok((obj, w, _)) => return Ok((obj, w)),
        }
    }
}

async fn patch(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    t: &Target,
    q: &Query,
) -> Result<HttpResponse, ApiError> {
    let ct = content_type(req);
    let patch_type =
        PatchType::from_content_type(&ct).ok_or_else(|| ApiError::unsupported_media(&ct))?;
    let body = read_body(req, payload).await?;
    let patch: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid patch: {e}")))?;
    let (fv, dry_run) = (field_validation(q)?, q.dry_run()?);
    let (obj, w) = patch_object(state, t, patch_type, &patch, fv, dry_run).await?;
    Ok(json_response(200, &obj, &w))
}

/// What PATCH does with a decoded patch: apply it to the stored object, admit and write the
/// result, retrying when another write got in between (unless the patch sets a
/// resourceVersion). Also used by the panel's Apply.
pub(crate) async fn patch_object(
    state: &ApiState,
    t: &Target,
    patch_type: PatchType,
    patch: &Value,
    fv: FieldValidation,
    dry_run: bool,
) -> Result<(Value, Vec<String>), ApiError> {
    update_retrying_object(state, t, fv, dry_run, |old| {
        let mut patched =
            apply_patch(old, patch_type, patch, t.resource.kind).map_err(|e| {
                match e.http_status() {
                    422 => ApiError::invalid(
                        t.resource.kind,
                        t.name.as_deref().unwrap_or_default(),
                        &[patch_error(e.to_string())],
                    ),
                    _ => ApiError::bad_request(e.to_string()),
                }
            })?;
        // A resourceVersion the patch sets is a precondition; one merely kept from the stored
        // object is not (the write is then retried on a conflict, as the API server does).
        let sets_version = match patch_type {
            PatchType::Json => patch.as_array().is_some_and(|ops| {
                ops.iter().any(|op| {
                    op["path"] == "/metadata/resourceVersion"
                        && matches!(op["op"].as_str(), Some("add" | "replace"))
                })
            }),
            _ => patch.pointer("/metadata/resourceVersion").is_some(),
        };
        let requested = if sets_version {
            revision_of(&patched)?
        } else {
            None
        };
        if let Some(m) = patched.get_mut("metadata").and_then(Value::as_object_mut) {
            // Identity cannot be patched.
            m.insert("name".into(), json!(t.name.clone().unwrap_or_default()));
            if t.resource.namespaced {
                m.insert("namespace".into(), json!(namespace_of(t)));
            }
        }
        Ok((patched, requested))
    })
    .await
}

/// The grace period of a deletion: a pod bound to a live node is deleted gracefully (its worker
/// stops it, then confirms and the object goes), with the DeleteOptions' gracePeriodSeconds or
/// the pod's terminationGracePeriodSeconds. Everything else — other kinds, unscheduled pods, pods
/// on a node that is gone or Unknown, grace 0 — is deleted at once.
fn deletion_grace(state: &ApiState, t: &Target, opts: &Value) -> Result<Option<i64>, ApiError> {
    let given = match opts.get("gracePeriodSeconds") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().filter(|g| *g >= 0).ok_or_else(|| {
            ApiError::bad_request("gracePeriodSeconds: must be a non-negative integer")
        })?),
    };
    if t.resource.kind != "Pod" {
        return Ok(None);
    }
    let pod = load(state, t)?;
    let node = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if node.is_empty() {
        return Ok(None);
    }
    let node_live = state
        .store
        .db
        .get(capstan_core::kinds::NODES, "", node)?
        .is_some_and(|n| capstan_core::node_status::ready_status(&n) != Some("Unknown"));
    if !node_live {
        return Ok(None);
    }
    let grace = given.unwrap_or_else(|| {
        pod.pointer("/spec/terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(30)
    });
    Ok((grace > 0).then_some(grace))
}

fn patch_error(message: String) -> capstan_core::validation::FieldError {
    capstan_core::validation::FieldError {
        path: "patch".into(),
        kind: capstan_core::validation::FieldErrorKind::Invalid("<patch>".into()),
        detail: message,
    }
}

/// `propagationPolicy: Orphan`: the owner's dependents (pods and ReplicaSets of its namespace)
/// lose their ownerReference to it before it goes, so the garbage collector keeps them.
async fn orphan_dependents(state: &ApiState, t: &Target) -> Result<(), ApiError> {
    let owner = load(state, t)?;
    let Some(uid) = owner.pointer("/metadata/uid").and_then(Value::as_str) else {
        return Ok(());
    };
    let ns = namespace_of(t).to_string();
    let kinds = [
        capstan_core::kinds::PODS,
        capstan_core::kinds::by_kind("apps/v1", "ReplicaSet").unwrap_or(capstan_core::kinds::PODS),
    ];
    for resource in kinds {
        let (objects, _) = state.store.db.list(resource, Some(&ns))?;
        for o in objects {
            let owned = o
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid));
            if !owned {
                continue;
            }
            let name = o
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            state
                .store
                .modify(resource, &ns, name, Subresource::Main, |obj| {
                    match obj
                        .pointer_mut("/metadata/ownerReferences")
                        .and_then(Value::as_array_mut)
                    {
                        Some(refs) => {
                            refs.retain(|r| r["uid"] != uid);
                            true
                        }
                        None => false,
                    }
                })
                .await?;
        }
    }
    Ok(())
}

async fn delete(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    t: &Target,
    q: &Query,
) -> Result<HttpResponse, ApiError> {
    if t.subresource.is_some() {
        return Err(ApiError::method_not_allowed("DELETE on a subresource"));
    }
    let body = read_body(req, payload).await?;
    let opts: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    if let Some(p) = opts.get("propagationPolicy").and_then(Value::as_str) {
        if !matches!(p, "Orphan" | "Background" | "Foreground") {
            return Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: {p:?}: supported values: \"Orphan\", \"Background\", \"Foreground\""
            )));
        }
    }
    let expected_uid = opts
        .pointer("/preconditions/uid")
        .and_then(Value::as_str)
        .map(str::to_string);
    let expected_revision =
        match opts
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
        {
            Some(s) => Some(s.parse().map_err(|_| {
                ApiError::bad_request("preconditions.resourceVersion: invalid value")
            })?),
            None => None,
        };
    let dry = q.dry_run()?
        || opts
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x == "All"));
    if dry {
        return Ok(json_response(200, &load(state, t)?, &[]));
    }
    let policy = opts
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .or_else(|| q.get("propagationPolicy"))
        .unwrap_or("Background");
    let owner_kind = matches!(t.resource.kind, "Deployment" | "ReplicaSet");
    let finalizer = match policy {
        "Orphan" if owner_kind => Some("orphan"),
        "Foreground" if owner_kind => Some("foregroundDeletion"),
        _ => None,
    };
    if let Some(finalizer) = finalizer {
        // The owner stays (deletionTimestamp + finalizer) while its dependents are dealt with:
        // orphaned here and now, or deleted by the garbage collector (which then lifts the
        // foregroundDeletion finalizer). Its controller does not adopt while it is deleting.
        state
            .store
            .modify(
                t.resource,
                namespace_of(t),
                t.name.as_deref().unwrap_or_default(),
                Subresource::Main,
                |obj| write_rules::add_finalizer(obj, finalizer),
            )
            .await?;
    }
    let r = state
        .store
        .write(WriteOp::Delete {
            resource: t.resource,
            namespace: namespace_of(t).to_string(),
            name: t.name.clone().unwrap_or_default(),
            expected_uid,
            expected_revision,
            grace_seconds: deletion_grace(state, t, &opts)?,
        })
        .await?;
    if finalizer == Some("orphan") {
        orphan_dependents(state, t).await?;
        let lifted = state
            .store
            .modify(
                t.resource,
                namespace_of(t),
                t.name.as_deref().unwrap_or_default(),
                Subresource::Main,
                |obj| match obj
                    .pointer_mut("/metadata/finalizers")
                    .and_then(Value::as_array_mut)
                {
                    Some(f) => {
                        f.retain(|x| x != "orphan");
                        true
                    }
                    None => false,
                },
            )
            .await?;
        return Ok(json_response(200, &lifted.unwrap_or(r.object), &[]));
    }
    Ok(json_response(200, &r.object, &[]))
}
