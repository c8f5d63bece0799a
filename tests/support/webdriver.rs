//! A small WebDriver client (the W3C protocol over HTTP, with ureq) driving Debian's headless
//! Chromium through chromedriver, for the panel's browser tests. Offline by construction: it
//! talks only to a chromedriver it starts on a free loopback port.

use base64::Engine;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// A running chromedriver.
pub struct Driver {
    child: Child,
    base: String,
    agent: ureq::Agent,
    profile: tempfile::TempDir,
}

/// Whether the browser tests can run here; in CI they must.
pub fn available() -> bool {
    let here = Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists();
    assert!(
        here || std::env::var_os("CI").is_none(),
        "CI must install chromium and chromium-driver (see .ci/run)"
    );
    here
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

impl Driver {
    /// Starts chromedriver on a free port.
    pub fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let d = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            agent: agent(),
            profile: tempfile::tempdir().expect("profile dir"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(v) = d.call("GET", "/status", None) {
                if v["ready"] == true {
                    return d;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let result = match body {
            Some(b) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(b.to_string()),
            None if method == "DELETE" => self.agent.delete(&url).call(),
            None => self.agent.get(&url).call(),
        };
        let mut resp = result.map_err(|e| format!("{method} {path}: {e}"))?;
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}: {text}"))?;
        match v["value"].get("error") {
            Some(err) => Err(format!(
                "{method} {path}: {err}: {}",
                v["value"]["message"].as_str().unwrap_or_default()
            )),
            None => Ok(v["value"].clone()),
        }
    }

    /// A new browser session (a fresh profile, 1280×800, headless).
    pub fn session(&self, name: &str) -> Browser<'_> {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=1280,800",
                         format!("--user-data-dir={}", self.profile.path().join(name).display())],
            },
        }}});
        let v = self
            .call("POST", "/session", Some(caps))
            .expect("new browser session");
        Browser {
            driver: self,
            id: v["sessionId"].as_str().expect("session id").to_string(),
            name: name.to_string(),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session.
pub struct Browser<'d> {
    driver: &'d Driver,
    id: String,
    name: String,
}

/// An element handle.
#[derive(Debug, Clone)]
pub struct Element(String);

/// The W3C web element identifier.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.driver
            .call(method, &format!("/session/{}{path}", self.id), body)
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})))
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Resizes the window (e.g. to a phone's width).
    pub fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .unwrap_or_else(|e| panic!("{}: resize: {e}", self.name));
    }

    /// The page's URL.
    pub fn url(&self) -> String {
        self.call("GET", "/url", None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The first element matching `css`, if any.
    pub fn find(&self, css: &str) -> Option<Element> {
        self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )
        .ok()
        .and_then(|v| v[ELEMENT_KEY].as_str().map(|s| Element(s.to_string())))
    }

    /// Every element matching `css`.
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e[ELEMENT_KEY].as_str().map(|s| Element(s.to_string())))
        .collect()
    }

    /// Waits (up to `timeout`) for `css` to match an element.
    pub fn wait(&self, css: &str, timeout: Duration) -> Element {
        self.wait_for(&format!("an element {css:?}"), timeout, || self.find(css))
    }

    /// Waits (up to `timeout`) for `f` to give something; on time out saves a screenshot and
    /// fails naming `what`.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut() -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = f() {
                return v;
            }
            if Instant::now() >= deadline {
                let shot = self.screenshot("timeout");
                panic!(
                    "{}: timed out after {timeout:?} waiting for {what} (screenshot {})\nconsole: {:?}",
                    self.name,
                    shot.display(),
                    self.console()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks `e`.
    pub fn click(&self, e: &Element) {
        self.call("POST", &format!("/element/{}/click", e.0), Some(json!({})))
            .unwrap_or_else(|err| panic!("{}: click: {err}", self.name));
    }

    /// Types `text` into `e`.
    pub fn type_into(&self, e: &Element, text: &str) {
        self.call(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(json!({"text": text})),
        )
        .unwrap_or_else(|err| panic!("{}: type: {err}", self.name));
    }

    /// Clears an input.
    pub fn clear(&self, e: &Element) {
        self.call("POST", &format!("/element/{}/clear", e.0), Some(json!({})))
            .unwrap_or_else(|err| panic!("{}: clear: {err}", self.name));
    }

    /// The element's rendered text.
    pub fn text(&self, e: &Element) -> String {
        self.call("GET", &format!("/element/{}/text", e.0), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The text of the first element matching `css` ("" when none).
    pub fn text_of(&self, css: &str) -> String {
        self.find(css).map(|e| self.text(&e)).unwrap_or_default()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .unwrap_or_else(|e| panic!("{}: script: {e}", self.name))
    }

    /// Saves a screenshot under `target/panel-screenshots/` and returns its path.
    pub fn screenshot(&self, label: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/panel-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{}-{label}.png", self.name));
        if let Ok(v) = self.call("GET", "/screenshot", None) {
            if let Some(png) = v
                .as_str()
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            {
                let _ = std::fs::write(&path, png);
            }
        }
        path
    }

    /// The browser console's entries since the last call (level, message).
    pub fn console(&self) -> Vec<(String, String)> {
        self.call("POST", "/se/log", Some(json!({"type": "browser"})))
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|e| {
                (
                    e["level"].as_str().unwrap_or_default().to_string(),
                    e["message"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Fails if the console holds an error (a JavaScript exception, a failed request…).
    pub fn assert_no_console_errors(&self) {
        let errors: Vec<(String, String)> = self
            .console()
            .into_iter()
            .filter(|(level, _)| level == "SEVERE")
            .collect();
        if !errors.is_empty() {
            let shot = self.screenshot("console-error");
            panic!(
                "{}: console errors (screenshot {}): {errors:#?}",
                self.name,
                shot.display()
            );
        }
    }
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let _ = self.screenshot("last");
        let _ = self.call("DELETE", "", None);
    }
}
