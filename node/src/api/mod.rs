//! The Kubernetes REST API over HTTPS: authentication, discovery, OpenAPI, health, the
//! resource verbs and the metrics API (`metrics.k8s.io`, from the usage nodes report).
//! Handlers never panic: every failure is an [`errors::ApiError`] rendered as a Kubernetes
//! `Status`.

mod binding;
pub mod discovery;
pub mod errors;
mod filter;
pub(crate) mod handlers;
mod logs;
mod metrics;
mod request;
mod scale;
pub(crate) mod target;
mod watch;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use capstan_actors::store::StoreHandle;
use errors::ApiError;

/// Shared state of the API server.
pub struct ApiState {
    /// The store.
    pub store: StoreHandle,
    /// The admin bearer token.
    pub token: String,
    /// `host:port` clients reach us at (for `/api`'s serverAddressByClientCIDRs).
    pub server_address: String,
    /// The node gateway (to reach a node's worker, e.g. for logs).
    pub gateway: actix::Addr<capstan_actors::nodes::gateway::NodeGateway>,
    /// The latest usage each node reported (for the `metrics.k8s.io` API).
    pub metrics: capstan_actors::nodes::metrics::MetricsRegistry,
    /// The scheduler, unless the master runs without one (kept alive with the API).
    pub scheduler: Option<actix::Addr<capstan_actors::scheduler::SchedulerActor>>,
    /// The admin panel's sessions and chart history.
    pub panel: crate::panel::Panel,
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health))
        .route("/livez", web::get().to(health))
        .route("/readyz", web::get().to(ready))
        .route("/version", web::get().to(version))
        .route("/metrics", web::get().to(metrics_text))
        .route("/api", web::get().to(api_versions))
        .route("/apis", web::get().to(api_groups))
        .route("/apis/{group}", web::get().to(api_group))
        .route("/api/v1", web::get().to(core_resources))
        .route("/apis/{group}/{version}", web::get().to(group_resources))
        .route("/openapi/v3", web::get().to(openapi_root))
        .route("/openapi/v3/api/v1", web::get().to(openapi_core))
        .route(
            "/openapi/v3/apis/{group}/{version}",
            web::get().to(openapi_group),
        )
        .route("/api/{tail:.*}", web::route().to(handlers::dispatch))
        .route("/apis/{tail:.*}", web::route().to(handlers::dispatch))
        .configure(crate::panel::routes)
        .default_service(web::to(not_found));
}

fn is_public(path: &str) -> bool {
    matches!(path, "/healthz" | "/livez" | "/readyz" | "/version")
}

fn token_matches(given: &[u8], want: &[u8]) -> bool {
    // Constant time in the token's length.
    given.len() == want.len()
        && given
            .iter()
            .zip(want)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Authentication for everything but health, version and the panel (which checks its own
/// sessions): the admin bearer token, or the panel's session cookie — and then, for anything
/// but a read, the session's CSRF token in `X-CSRF-Token` (403 without it).
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !is_public(req.path()) && !crate::panel::owns(req.path()) {
        let Some(state) = req.app_data::<web::Data<ApiState>>() else {
            let resp = ApiError::unauthorized().error_response();
            return Ok(req.into_response(resp).map_into_right_body());
        };
        let bearer = req
            .headers()
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| token_matches(t.trim().as_bytes(), state.token.as_bytes()));
        let refusal = if bearer {
            None
        } else {
            let sessions = &state.panel.sessions;
            match sessions.from_headers(req.headers()) {
                None => Some(ApiError::unauthorized()),
                Some(_) if req.method().is_safe() => None,
                Some(s) => (!sessions.csrf_header_matches(&s, req.headers()))
                    .then(|| ApiError::forbidden(crate::panel::session::CSRF_REFUSED)),
            }
        };
        if let Some(e) = refusal {
            let resp = e.error_response();
            return Ok(req.into_response(resp).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn json(v: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(v.to_string())
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// `/metrics`, in Prometheus' text format as kube-apiserver serves it (behind authentication):
/// the node transport's frame counters, the store's commits and revision, the watchers.
async fn metrics_text(state: web::Data<ApiState>) -> HttpResponse {
    let frames = capstan_transport::frame_counts();
    let stats = state
        .store
        .writer
        .send(capstan_actors::store::GetStats)
        .await
        .unwrap_or_default();
    let revision = state.store.db.revision().unwrap_or(0);
    let mut out = String::new();
    let mut counter = |name: &str, kind: &str, help: &str, value: u64| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    };
    counter(
        "capstan_transport_frames_received_total",
        "counter",
        "Frames received from workers over QUIC.",
        frames.received,
    );
    counter(
        "capstan_transport_frames_sent_total",
        "counter",
        "Frames sent to workers over QUIC.",
        frames.sent,
    );
    counter(
        "capstan_store_commits_total",
        "counter",
        "Transactions the store committed.",
        stats.batches,
    );
    counter(
        "capstan_store_writes_total",
        "counter",
        "Writes the store answered.",
        stats.writes,
    );
    counter(
        "capstan_store_revision",
        "gauge",
        "The store's latest revision.",
        revision,
    );
    counter(
        "capstan_store_watchers",
        "gauge",
        "Live watchers of the store.",
        state.store.hub.watchers() as u64,
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}

async fn ready(state: web::Data<ApiState>) -> HttpResponse {
    match state.store.db.revision() {
        Ok(_) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(e) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("store: {e}")),
    }
}

async fn version() -> HttpResponse {
    json(discovery::version())
}

async fn api_versions(state: web::Data<ApiState>) -> HttpResponse {
    json(discovery::core_versions(&state.server_address))
}

async fn api_groups() -> HttpResponse {
    json(discovery::group_list())
}

async fn api_group(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    discovery::group(&path)
        .map(json)
        .ok_or_else(ApiError::no_route)
}

async fn core_resources() -> Result<HttpResponse, ApiError> {
    discovery::resource_list("", "v1")
        .map(json)
        .ok_or_else(ApiError::no_route)
}

async fn group_resources(path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (g, v) = path.into_inner();
    discovery::resource_list(&g, &v)
        .map(json)
        .ok_or_else(ApiError::no_route)
}

async fn openapi_root() -> HttpResponse {
    json(discovery::openapi_root())
}

async fn openapi_core() -> Result<HttpResponse, ApiError> {
    discovery::openapi_group("")
        .map(json)
        .ok_or_else(ApiError::no_route)
}

async fn openapi_group(path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (g, v) = path.into_inner();
    if v != "v1" {
        return Err(ApiError::no_route());
    }
    discovery::openapi_group(&g)
        .map(json)
        .ok_or_else(ApiError::no_route)
}

async fn not_found(_req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::no_route())
}
