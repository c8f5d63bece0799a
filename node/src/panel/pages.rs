//! The panel's HTTP handlers: login and logout, the shell page, static files, and the panel
//! endpoints (`/ui/api/…`). Pages answer a request without a session with a redirect to the
//! login page, endpoints with 401; state-changing requests need the session's CSRF token.

use super::session::{self, clear_cookie, set_cookie, unix_now, Session, CSRF_REFUSED};
use super::{apply, assets, stream};
use crate::api::errors::ApiError;
use crate::api::ApiState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};
use capstan_core::time::Timestamp;
use std::time::Duration;

/// The panel's Content-Security-Policy: everything from this origin, nothing inline.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/// The longest login form accepted.
const MAX_LOGIN: usize = 4096;
/// A failed login waits this long (slows guessing down).
const LOGIN_FAILURE_DELAY: Duration = Duration::from_millis(500);

fn secured(mut b: HttpResponseBuilder) -> HttpResponseBuilder {
    b.insert_header(("Content-Security-Policy", CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Frame-Options", "DENY"));
    b
}

fn html(mut b: HttpResponseBuilder, body: String) -> HttpResponse {
    secured(std::mem::replace(&mut b, HttpResponse::Ok()))
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

fn redirect(to: &str) -> HttpResponse {
    secured(HttpResponse::SeeOther())
        .insert_header((header::LOCATION, to))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The request's session, if it has a valid one.
pub fn session_of(req: &HttpRequest, state: &ApiState) -> Option<Session> {
    state.panel.sessions.from_headers(req.headers())
}

fn csrf_ok(req: &HttpRequest, state: &ApiState, s: &Session) -> bool {
    state.panel.sessions.csrf_header_matches(s, req.headers())
}

/// 401 for panel endpoints without a session.
fn unauthorized() -> HttpResponse {
    ApiError::unauthorized().error_response()
}

fn forbidden_csrf() -> HttpResponse {
    ApiError::forbidden(CSRF_REFUSED).error_response()
}

/// `GET /ui` → `/ui/`.
pub async fn root() -> HttpResponse {
    redirect("/ui/")
}

/// `GET /ui/`: the panel (its shell; the script draws the pages).
pub async fn index(req: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let Some(s) = session_of(&req, &state) else {
        return redirect("/ui/login");
    };
    let expires = Timestamp(i64::try_from(s.expires).unwrap_or(i64::MAX)).to_rfc3339();
    let body = assets::INDEX
        .replace("{{CSRF}}", &escape(&state.panel.sessions.csrf(&s)))
        .replace("{{EXPIRES}}", &escape(&expires));
    html(HttpResponse::Ok(), body)
}

/// `GET /ui/login`.
pub async fn login_page(req: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if session_of(&req, &state).is_some() {
        return redirect("/ui/");
    }
    html(HttpResponse::Ok(), assets::LOGIN.replace("{{ERROR}}", ""))
}

/// The login form.
#[derive(serde::Deserialize)]
pub struct LoginForm {
    token: String,
}

/// `POST /ui/login`: the admin token in, a session cookie out.
pub async fn login(state: web::Data<ApiState>, body: web::Bytes) -> HttpResponse {
    let token = if body.len() > MAX_LOGIN {
        None
    } else {
        serde_urlencoded::from_bytes::<LoginForm>(&body)
            .ok()
            .map(|f| f.token)
    };
    let ok = token
        .as_deref()
        .is_some_and(|t| session::same(t.trim().as_bytes(), state.token.as_bytes()));
    if !ok {
        tokio::time::sleep(LOGIN_FAILURE_DELAY).await;
        tracing::warn!("panel: failed login");
        let page = assets::LOGIN.replace(
            "{{ERROR}}",
            "That token is not valid. Use the admin token from the kubeconfig.",
        );
        return html(HttpResponse::Unauthorized(), page);
    }
    let (_, cookie) = state.panel.sessions.issue(unix_now());
    tracing::info!("panel: login");
    let mut r = redirect("/ui/");
    if let Ok(v) = header::HeaderValue::from_str(&set_cookie(&cookie)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `POST /ui/logout` (with the CSRF token): ends the session.
pub async fn logout(req: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let Some(s) = session_of(&req, &state) else {
        return unauthorized();
    };
    if !csrf_ok(&req, &state, &s) {
        return forbidden_csrf();
    }
    state.panel.sessions.revoke(&s, unix_now());
    secured(HttpResponse::NoContent())
        .insert_header((header::SET_COOKIE, clear_cookie()))
        .finish()
}

/// `GET /ui/assets/{path}`.
pub async fn asset(path: web::Path<String>) -> HttpResponse {
    match assets::find(&path) {
        Some(a) => secured(HttpResponse::Ok())
            .content_type(a.content_type)
            .insert_header(("Cache-Control", "no-cache"))
            .body(a.body),
        None => secured(HttpResponse::NotFound())
            .content_type("text/plain")
            .body("not found"),
    }
}

/// `GET /ui/api/stream`.
pub async fn events(req: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if session_of(&req, &state).is_none() {
        return unauthorized();
    }
    match stream::serve(&state).await {
        Ok(r) => r,
        Err(e) => e.error_response(),
    }
}

/// `POST /ui/api/apply`.
pub async fn apply(req: HttpRequest, state: web::Data<ApiState>, body: web::Bytes) -> HttpResponse {
    let Some(s) = session_of(&req, &state) else {
        return unauthorized();
    };
    if !csrf_ok(&req, &state, &s) {
        return forbidden_csrf();
    }
    apply::serve(&state, &body).await
}

/// Any other `/ui/…` path: the login page without a session; not found with one.
pub async fn other(req: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let api = req.path().starts_with("/ui/api/");
    match (session_of(&req, &state), api) {
        (None, true) => unauthorized(),
        (None, false) => redirect("/ui/login"),
        (Some(_), true) => ApiError::no_route().error_response(),
        (Some(_), false) => redirect("/ui/"),
    }
}
