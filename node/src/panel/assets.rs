//! The panel's files, compiled into the binary (no build step, nothing fetched at run time).
//! Static files carry no cluster data and are served without a session; the two pages are
//! templates filled by `pages.rs`.

/// The shell of the panel (`{{CSRF}}`, `{{EXPIRES}}`).
pub const INDEX: &str = include_str!("assets/index.html");
/// The login page (`{{ERROR}}`).
pub const LOGIN: &str = include_str!("assets/login.html");

/// One static file.
pub struct Asset {
    /// Its path under `/ui/assets/`.
    pub path: &'static str,
    /// Its media type.
    pub content_type: &'static str,
    /// Its text.
    pub body: &'static str,
}

macro_rules! js {
    ($path:literal) => {
        Asset {
            path: $path,
            content_type: "text/javascript; charset=utf-8",
            body: include_str!(concat!("assets/", $path)),
        }
    };
}

/// Every static file.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "panel.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/panel.css"),
    },
    js!("js/api.js"),
    js!("js/state.js"),
    js!("js/ui.js"),
    js!("js/charts.js"),
    js!("js/views/overview.js"),
    js!("js/views/nodes.js"),
    js!("js/views/workloads.js"),
    js!("js/views/pods.js"),
    js!("js/views/pod.js"),
    js!("js/views/events.js"),
    js!("js/views/apply.js"),
    js!("js/app.js"),
];

/// The static file at `path`, if there is one.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}
