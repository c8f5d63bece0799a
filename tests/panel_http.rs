//! The admin panel over plain HTTPS: without a session every panel page redirects to the login
//! page and every panel endpoint answers 401; login sets a hardened session cookie; the cookie
//! reads the Kubernetes API, but nothing changes without the session's CSRF token (403, and the
//! store is untouched); Apply validates like the API; the live stream starts with a snapshot;
//! logout ends the session.

use crate::support::{tempdir, Master};
use serde_json::{json, Value};
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

/// A browser-like HTTPS client: trusts the cluster CA, sends no bearer token, follows no
/// redirects.
struct Web {
    agent: ureq::Agent,
    base: String,
    cookie: Option<String>,
    csrf: Option<String>,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

impl Web {
    fn new(m: &Master) -> Web {
        let r = capstan_node::kubeconfig::load(&m.kubeconfig).expect("kubeconfig");
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut certs = Vec::new();
        use rustls_pki_types::pem::PemObject;
        for c in rustls_pki_types::CertificateDer::pem_slice_iter(r.ca_pem.as_deref().expect("ca"))
        {
            certs.push(ureq::tls::Certificate::from_der(&c.expect("pem")).to_owned());
        }
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Web {
            agent,
            base: r.server,
            cookie: None,
            csrf: None,
        }
    }

    fn send(&self, method: &str, path: &str, ct: &str, body: &str, csrf: bool) -> Reply {
        let mut b = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            b = b.header("Cookie", format!("capstan_session={c}"));
        }
        if let (true, Some(t)) = (csrf, &self.csrf) {
            b = b.header("X-CSRF-Token", t);
        }
        if !ct.is_empty() {
            b = b.header("Content-Type", ct);
        }
        let req = b.body(body.to_string()).expect("request");
        let mut resp = self.agent.run(req).expect("response");
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let status = resp.status().as_u16();
        let body = if path == "/ui/api/stream" && status == 200 {
            // A stream: read its start only.
            let mut buf = vec![0u8; 4096];
            let n = resp
                .body_mut()
                .as_reader()
                .read(&mut buf)
                .expect("read stream");
            String::from_utf8_lossy(&buf[..n]).into_owned()
        } else {
            resp.body_mut().read_to_string().unwrap_or_default()
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    fn get(&self, path: &str) -> Reply {
        self.send("GET", path, "", "", false)
    }
}

fn pod(name: &str) -> String {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    .to_string()
}

#[test]
fn the_panel_needs_a_session_and_changes_need_its_csrf_token() {
    let dir = tempdir();
    let m = Master::start(dir.path());
    let mut web = Web::new(&m);
    let admin_token = std::fs::read_to_string(m.data_dir.join("admin-token"))
        .expect("admin token")
        .trim()
        .to_string();

    // No session: pages go to the login page, endpoints are 401, the API too.
    for page in ["/ui/", "/ui/nodes", "/ui/pods/default/web"] {
        let r = web.get(page);
        assert_eq!(r.status, 303, "{page}");
        assert_eq!(r.header("location"), Some("/ui/login"), "{page}");
    }
    assert_eq!(web.get("/ui").header("location"), Some("/ui/"));
    for (method, path) in [
        ("GET", "/ui/api/stream"),
        ("POST", "/ui/api/apply"),
        ("POST", "/ui/logout"),
        ("GET", "/ui/api/anything"),
        ("GET", "/api/v1/nodes"),
    ] {
        let r = web.send(method, path, "application/json", "{}", false);
        assert_eq!(r.status, 401, "{method} {path}: {}", r.body);
    }
    let login = web.get("/ui/login");
    assert_eq!(login.status, 200);
    assert!(login.body.contains("id=\"token\""), "{}", login.body);
    assert!(login
        .header("content-security-policy")
        .is_some_and(|c| c.contains("script-src 'self'")));
    // Static files carry no data and need no session.
    let js = web.get("/ui/assets/js/app.js");
    assert_eq!(js.status, 200);
    assert!(js
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/javascript")));

    // A wrong token: 401, no cookie. The right one: a hardened session cookie.
    let bad = web.send(
        "POST",
        "/ui/login",
        "application/x-www-form-urlencoded",
        "token=wrong",
        false,
    );
    assert_eq!(bad.status, 401);
    assert!(bad.header("set-cookie").is_none());
    assert!(bad.body.contains("not valid"), "{}", bad.body);
    let ok = web.send(
        "POST",
        "/ui/login",
        "application/x-www-form-urlencoded",
        &format!("token={admin_token}"),
        false,
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.header("location"), Some("/ui/"));
    let set = ok
        .header("set-cookie")
        .expect("a session cookie")
        .to_string();
    for attr in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Max-Age=",
        "Path=/",
    ] {
        assert!(set.contains(attr), "{attr} missing: {set}");
    }
    web.cookie = Some(
        set.split(';')
            .next()
            .and_then(|c| c.strip_prefix("capstan_session="))
            .expect("cookie value")
            .to_string(),
    );

    // The shell carries the CSRF token.
    let shell = web.get("/ui/");
    assert_eq!(shell.status, 200);
    let csrf = shell
        .body
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf meta")
        .to_string();
    assert!(csrf.len() >= 32, "{csrf}");
    web.csrf = Some(csrf);

    // The cookie reads the API...
    assert_eq!(web.get("/api/v1/namespaces/default/pods").status, 200);
    // ...but changes nothing without the CSRF token: 403 and no change.
    let pods = "/api/v1/namespaces/default/pods";
    let r = web.send("POST", pods, "application/json", &pod("sneaky"), false);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["reason"], "Forbidden");
    assert_eq!(
        m.client.get(&format!("{pods}/sneaky")).expect("get").status,
        404
    );
    let apply_body =
        json!({"yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: sneaky\n"}).to_string();
    let r = web.send(
        "POST",
        "/ui/api/apply",
        "application/json",
        &apply_body,
        false,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        m.client
            .get("/api/v1/namespaces/sneaky")
            .expect("get")
            .status,
        404,
        "apply without the token changed nothing"
    );
    let r = web.send("POST", "/ui/logout", "", "", false);
    assert_eq!(r.status, 403, "logout needs the token too");
    // With the token it works.
    let r = web.send("POST", pods, "application/json", &pod("welcome"), true);
    assert_eq!(r.status, 201, "{}", r.body);

    // Apply: created, then unchanged; an unknown field is refused naming its path.
    let r = web.send(
        "POST",
        "/ui/api/apply",
        "application/json",
        &apply_body,
        true,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["results"][0]["action"], "created");
    let r = web.send(
        "POST",
        "/ui/api/apply",
        "application/json",
        &apply_body,
        true,
    );
    assert_eq!(r.json()["results"][0]["action"], "unchanged", "{}", r.body);
    let invalid = json!({"yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: typo\nspec:\n  replicass: 2\n  selector:\n    matchLabels: {app: typo}\n  template:\n    metadata:\n      labels: {app: typo}\n    spec:\n      containers:\n      - name: c\n        image: busybox\n"}).to_string();
    let r = web.send("POST", "/ui/api/apply", "application/json", &invalid, true);
    assert!(r.status >= 400, "{}", r.body);
    let e = r.json();
    assert!(
        e["error"].as_str().is_some_and(|m| m.contains("replicass")),
        "{e}"
    );
    assert_eq!(e["document"], 0);
    assert_eq!(
        m.client
            .get("/apis/apps/v1/namespaces/default/deployments/typo")
            .expect("get")
            .status,
        404
    );

    // The live stream starts with a snapshot of the cluster.
    let s = web.get("/ui/api/stream");
    assert_eq!(s.status, 200);
    assert!(s
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/event-stream")));
    assert!(s.body.contains("event: snapshot"), "{}", s.body);

    // Logout ends the session: its cookie no longer works, even for reading.
    let r = web.send("POST", "/ui/logout", "", "", true);
    assert_eq!(r.status, 204);
    assert!(r
        .header("set-cookie")
        .is_some_and(|c| c.contains("Max-Age=0")));
    assert_eq!(web.get("/ui/api/stream").status, 401);
    assert_eq!(web.get("/api/v1/namespaces/default/pods").status, 401);
    assert_eq!(web.get("/ui/").status, 303);
}
