//! The web admin panel at `/ui`, served by the master on the API's HTTPS listener: login with
//! the admin token (a signed session cookie), a single page drawn by plain JavaScript from files
//! compiled into the binary, a live feed of the cluster over Server-Sent Events, and Apply. The
//! page reads and changes the cluster through the Kubernetes API itself, authenticated by the
//! session cookie and, for every change, the session's CSRF token (see `api::authenticate`).

mod apply;
mod assets;
pub mod history;
mod pages;
pub mod session;
mod stream;

use actix_web::web;

pub use pages::CSP;

/// The panel's shared state (part of the API server's state).
pub struct Panel {
    /// Issues and checks sessions.
    pub sessions: session::Sessions,
    /// The charts' samples.
    pub history: history::History,
}

impl Panel {
    /// The panel of a master whose admin token is `admin_token`.
    pub fn new(admin_token: &str) -> Panel {
        Panel {
            sessions: session::Sessions::new(admin_token),
            history: history::History::new(),
        }
    }
}

/// Whether `path` is the panel's (it authenticates its own requests).
pub fn owns(path: &str) -> bool {
    path == "/ui" || path.starts_with("/ui/")
}

/// Registers the panel's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/ui", web::get().to(pages::root))
        .route("/ui/", web::get().to(pages::index))
        .service(
            web::resource("/ui/login")
                .app_data(web::PayloadConfig::new(8192))
                .route(web::get().to(pages::login_page))
                .route(web::post().to(pages::login)),
        )
        .route("/ui/logout", web::post().to(pages::logout))
        .route("/ui/assets/{path:.*}", web::get().to(pages::asset))
        .route("/ui/api/stream", web::get().to(pages::events))
        .service(
            web::resource("/ui/api/apply")
                .app_data(web::PayloadConfig::new(apply::MAX_BODY))
                .route(web::post().to(pages::apply)),
        )
        .route("/ui/{tail:.*}", web::route().to(pages::other));
}
