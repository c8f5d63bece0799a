//! ProbeActor: the Kubernetes liveness, readiness or startup probe of one container run.
//!
//! It waits `initialDelaySeconds`, then checks every `periodSeconds` (exec, httpGet or
//! tcpSocket), each check bounded by `timeoutSeconds`, counts consecutive successes and
//! failures, and sends a concluded [`ProbeResult`] to its recipient (the pod actor) only when the
//! concluded result changes:
//!
//! - the first report comes after `successThreshold` consecutive successes (`success: true`)
//!   or `failureThreshold` consecutive failures (`success: false`), whichever comes first;
//! - after that, a report comes each time the other threshold is reached;
//! - besides, every failed check that concludes nothing is sent with `concluded: false`: the
//!   pod records it as an `Unhealthy` event and changes nothing else.
//!
//! What the first report means depends on the kind, given what the pod actor assumes before it:
//!
//! - [`ProbeKind::Readiness`]: the container is assumed *not ready* until the first report;
//!   `true` makes it ready, `false` confirms it is not ready. Later reports toggle readiness.
//! - [`ProbeKind::Liveness`]: the container is assumed *healthy*; a first `true` confirms it,
//!   `false` means it is to be killed and restarted (per restartPolicy).
//! - [`ProbeKind::Startup`]: the container is assumed *not started* (liveness and readiness
//!   probes wait); `true` means it started (the actor then stops probing and stops itself),
//!   `false` means startup failed and it is to be killed and restarted.
//!
//! The actor stops when its recipient is gone, or when sent [`StopProbe`] (or when the pod actor
//! otherwise stops it). A check in flight is dropped with it: an exec probe's process group is
//! killed (SIGKILL), a connection is closed.
//!
//! Supported handlers: `exec` (`command[0]` run directly with its args, no shell, with the
//! container's env, in its own process group; success = exit status 0), `httpGet` (plain HTTP
//! only; success = status 200..400; no redirects followed) and `tcpSocket` (success = the
//! connection opens). `grpc` and HTTPS probes always fail with a message saying so.

use super::runtime::{DEFAULT_HOME, DEFAULT_PATH};
use actix::prelude::*;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use std::cell::Cell;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// The most of an HTTP response read (only its status line is used).
const HTTP_READ_LIMIT: usize = 64 * 1024;
/// The most of an exec probe's stdout and of its stderr kept for the message (as Kubernetes).
const EXEC_OUTPUT_LIMIT: usize = 10 * 1024;

/// Which probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    /// `livenessProbe`: failure means the container gets restarted.
    Liveness,
    /// `readinessProbe`: whether the container is ready (serves traffic).
    Readiness,
    /// `startupProbe`: other probes wait until it succeeds once.
    Startup,
}

/// What a probe concluded, sent to the pod actor (only when it changes; see the module docs).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct ProbeResult {
    /// The container's name.
    pub container: String,
    /// The container run probed (the pod ignores reports of older runs).
    pub run: u64,
    /// Which probe.
    pub kind: ProbeKind,
    /// The check's result (the concluded result when `concluded`).
    pub success: bool,
    /// A threshold was reached and the result flipped. Failed checks that conclude nothing
    /// are sent too (`concluded: false`), for the pod's `Unhealthy` events.
    pub concluded: bool,
    /// The last check's message (command output, HTTP status, error…), possibly empty.
    pub message: String,
}

/// Stop probing now (the actor stops; a check in flight is abandoned and its process killed).
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct StopProbe;

/// What one check does.
#[derive(Debug, Clone)]
enum Check {
    Exec {
        command: Vec<String>,
        env: Vec<(String, String)>,
        working_dir: Option<String>,
    },
    Http {
        host: String,
        port: u16,
        path: String,
        headers: Vec<(String, String)>,
    },
    Tcp {
        host: String,
        port: u16,
    },
    /// Every check fails with this message (bad or unsupported probe).
    Fail(String),
}

/// Timing and thresholds, in the probe's units (seconds unless scaled).
#[derive(Debug, Clone, Copy)]
struct Timing {
    initial_delay: u32,
    period: u32,
    timeout: u32,
    success_threshold: u32,
    failure_threshold: u32,
}

/// The probe of one container run.
pub struct ProbeActor {
    kind: ProbeKind,
    container: String,
    run: u64,
    check: Arc<Check>,
    timing: Timing,
    unit: Duration,
    to: Recipient<ProbeResult>,
    /// The last check's result and how many checks in a row had it.
    last: Option<bool>,
    streak: u32,
    /// The last result reported.
    reported: Option<bool>,
}

fn field_u32(probe: &Value, name: &str, default: u32, min: u32) -> u32 {
    probe
        .get(name)
        .and_then(Value::as_i64)
        .map_or(default, |v| u32::try_from(v.max(0)).unwrap_or(u32::MAX))
        .max(min)
}

/// The port of an httpGet/tcpSocket handler: a number, or a named port of the container (or,
/// as Kubernetes does last, a number written as a string).
fn resolve_port(port: Option<&Value>, container: &Value) -> Result<u16, String> {
    let valid = |n: i64| {
        u16::try_from(n)
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("invalid port number: {n}"))
    };
    match port {
        Some(Value::Number(n)) => valid(n.as_i64().unwrap_or(-1)),
        Some(Value::String(name)) => {
            let named = container
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|p| p.get("name").and_then(Value::as_str) == Some(name.as_str()))
                .and_then(|p| p.get("containerPort").and_then(Value::as_i64));
            match named {
                Some(n) => valid(n),
                None => match name.parse::<i64>() {
                    Ok(n) => valid(n),
                    Err(_) => Err(format!("couldn't find port: {name}")),
                },
            }
        }
        _ => Err("probe has no port".to_string()),
    }
}

fn host_of(handler: &Value, pod_ip: &str) -> String {
    match handler.get("host").and_then(Value::as_str) {
        Some(h) if !h.is_empty() => h.to_string(),
        _ if pod_ip.is_empty() => "127.0.0.1".to_string(),
        _ => pod_ip.to_string(),
    }
}

fn parse_check(
    probe: &Value,
    container: &Value,
    pod_ip: &str,
    env: Vec<(String, String)>,
) -> Check {
    if let Some(exec) = probe.get("exec") {
        let command: Vec<String> = exec
            .get("command")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        if command.is_empty() {
            return Check::Fail("exec probe has no command".to_string());
        }
        let working_dir = container
            .get("workingDir")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .map(str::to_string);
        Check::Exec {
            command,
            env,
            working_dir,
        }
    } else if let Some(http) = probe.get("httpGet") {
        let scheme = http.get("scheme").and_then(Value::as_str).unwrap_or("HTTP");
        if scheme.eq_ignore_ascii_case("HTTPS") {
            return Check::Fail("https probes are not supported yet".to_string());
        }
        if !scheme.eq_ignore_ascii_case("HTTP") {
            return Check::Fail(format!("unsupported scheme: {scheme}"));
        }
        let port = match resolve_port(http.get("port"), container) {
            Ok(p) => p,
            Err(e) => return Check::Fail(e),
        };
        let mut path = http
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        let headers: Vec<(String, String)> = http
            .get("httpHeaders")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|h| {
                let name = h.get("name").and_then(Value::as_str)?;
                let value = h.get("value").and_then(Value::as_str).unwrap_or("");
                Some((name.to_string(), value.to_string()))
            })
            .collect();
        let bad = |s: &str| s.bytes().any(|b| b == b'\r' || b == b'\n');
        if bad(&path) || path.contains(' ') {
            return Check::Fail(format!("invalid probe path: {path:?}"));
        }
        if let Some((n, _)) = headers
            .iter()
            .find(|(n, v)| n.is_empty() || bad(n) || n.contains(':') || bad(v))
        {
            return Check::Fail(format!("invalid probe header: {n:?}"));
        }
        Check::Http {
            host: host_of(http, pod_ip),
            port,
            path,
            headers,
        }
    } else if let Some(tcp) = probe.get("tcpSocket") {
        match resolve_port(tcp.get("port"), container) {
            Ok(port) => Check::Tcp {
                host: host_of(tcp, pod_ip),
                port,
            },
            Err(e) => Check::Fail(e),
        }
    } else if probe.get("grpc").is_some() {
        Check::Fail("grpc probes are not supported yet".to_string())
    } else {
        Check::Fail("probe has no handler (exec, httpGet or tcpSocket)".to_string())
    }
}

impl ProbeActor {
    /// Probes `probe` (the container's probe JSON as in the pod spec) for `container` (its spec
    /// JSON, for named ports and `workingDir`) of run `run`, reporting to `to`. httpGet and
    /// tcpSocket probes go to `pod_ip` unless they name a host; exec probes run with `env`.
    pub fn new(
        kind: ProbeKind,
        probe: Value,
        container: Value,
        run: u64,
        pod_ip: String,
        env: Vec<(String, String)>,
        to: Recipient<ProbeResult>,
    ) -> ProbeActor {
        let timing = Timing {
            initial_delay: field_u32(&probe, "initialDelaySeconds", 0, 0),
            period: field_u32(&probe, "periodSeconds", 10, 1),
            timeout: field_u32(&probe, "timeoutSeconds", 1, 1),
            success_threshold: field_u32(&probe, "successThreshold", 1, 1),
            failure_threshold: field_u32(&probe, "failureThreshold", 3, 1),
        };
        let check = parse_check(&probe, &container, &pod_ip, env);
        ProbeActor {
            kind,
            container: container
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            run,
            check: Arc::new(check),
            timing,
            unit: Duration::from_secs(1),
            to,
            last: None,
            streak: 0,
            reported: None,
        }
    }

    /// What one "second" of the probe's timing lasts: every `initialDelaySeconds`,
    /// `periodSeconds` and `timeoutSeconds` is multiplied by it. Defaults to 1 s; tests use a
    /// few milliseconds.
    pub fn with_time_unit(mut self, unit: Duration) -> ProbeActor {
        self.unit = unit;
        self
    }

    fn scaled(&self, n: u32) -> Duration {
        self.unit.saturating_mul(n)
    }

    /// Runs one check, then schedules the next one a period after this one started.
    fn probe(&mut self, ctx: &mut Context<Self>) {
        if !self.to.connected() {
            ctx.stop();
            return;
        }
        let started = Instant::now();
        let check = Arc::clone(&self.check);
        let timeout = self.scaled(self.timing.timeout);
        ctx.spawn(
            async move { run_check(&check, timeout).await }
                .into_actor(self)
                .map(move |(ok, message), act, ctx| {
                    act.record(ok, message, ctx);
                    if ctx.state().alive() {
                        let next = act
                            .scaled(act.timing.period)
                            .saturating_sub(started.elapsed());
                        ctx.run_later(next, |act, ctx| act.probe(ctx));
                    }
                }),
        );
    }

    /// Counts a check's result; reports when a threshold flips the concluded result.
    fn record(&mut self, ok: bool, message: String, ctx: &mut Context<Self>) {
        if self.last == Some(ok) {
            self.streak = self.streak.saturating_add(1);
        } else {
            self.last = Some(ok);
            self.streak = 1;
        }
        let threshold = if ok {
            self.timing.success_threshold
        } else {
            self.timing.failure_threshold
        };
        let concluded = self.streak >= threshold && self.reported != Some(ok);
        if !concluded && ok {
            return;
        }
        if concluded {
            self.reported = Some(ok);
            tracing::debug!(container = %self.container, run = self.run, kind = ?self.kind, success = ok, %message, "probe result changed");
        }
        let result = ProbeResult {
            container: self.container.clone(),
            run: self.run,
            kind: self.kind,
            success: ok,
            concluded,
            message,
        };
        match self.to.try_send(result) {
            Ok(()) => {}
            Err(SendError::Full(result)) => self.to.do_send(result),
            Err(SendError::Closed(_)) => {
                ctx.stop();
                return;
            }
        }
        if concluded && ok && self.kind == ProbeKind::Startup {
            ctx.stop();
        }
    }
}

impl Actor for ProbeActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let delay = self.scaled(self.timing.initial_delay);
        ctx.run_later(delay, |act, ctx| act.probe(ctx));
    }
}

impl Handler<StopProbe> for ProbeActor {
    type Result = ();

    fn handle(&mut self, _: StopProbe, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

/// One check: (success, message).
async fn run_check(check: &Check, timeout: Duration) -> (bool, String) {
    match check {
        Check::Fail(message) => (false, message.clone()),
        Check::Exec {
            command,
            env,
            working_dir,
        } => exec_check(command, env, working_dir.as_deref(), timeout).await,
        Check::Http {
            host,
            port,
            path,
            headers,
        } => match tokio::time::timeout(timeout, http_get(host, *port, path, headers)).await {
            Ok(Ok(status)) if (200..400).contains(&status) => (
                true,
                format!("HTTP probe succeeded with statuscode: {status}"),
            ),
            Ok(Ok(status)) => (
                false,
                format!("HTTP probe failed with statuscode: {status}"),
            ),
            Ok(Err(e)) => (false, format!("Get \"http://{host}:{port}{path}\": {e}")),
            Err(_) => (
                false,
                format!("Get \"http://{host}:{port}{path}\": timeout after {timeout:?}"),
            ),
        },
        Check::Tcp { host, port } => {
            match tokio::time::timeout(
                timeout,
                tokio::net::TcpStream::connect((host.as_str(), *port)),
            )
            .await
            {
                Ok(Ok(_stream)) => (true, String::new()),
                Ok(Err(e)) => (false, format!("dial tcp {host}:{port}: {e}")),
                Err(_) => (false, format!("dial tcp {host}:{port}: i/o timeout")),
            }
        }
    }
}

/// SIGKILLs a process group when dropped (or when fired), once.
struct GroupKill {
    pgid: Option<i32>,
    fired: Cell<bool>,
}

impl GroupKill {
    fn fire(&self) {
        if let Some(pgid) = self.pgid {
            if !self.fired.replace(true) {
                let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
            }
        }
    }
}

impl Drop for GroupKill {
    fn drop(&mut self) {
        self.fire();
    }
}

/// Reads `r` to its end, keeping the first `limit` bytes.
async fn read_bounded<R: AsyncRead + Unpin>(r: Option<R>, limit: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let Some(mut r) = r else { return kept };
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

async fn exec_check(
    command: &[String],
    env: &[(String, String)],
    working_dir: Option<&str>,
    timeout: Duration,
) -> (bool, String) {
    let Some((program, args)) = command.split_first() else {
        return (false, "exec probe has no command".to_string());
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if !env.iter().any(|(k, _)| k == "PATH") {
        cmd.env("PATH", DEFAULT_PATH);
    }
    if !env.iter().any(|(k, _)| k == "HOME") {
        cmd.env("HOME", DEFAULT_HOME);
    }
    if let Some(dir) = working_dir {
        cmd.current_dir(dir);
    }
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            return (
                false,
                format!("exec probe {program:?} could not start: {e}"),
            )
        }
    };
    // Declared after `child`, so dropped before it: the whole group dies on every way out
    // (timeout, the actor stopping), not just the leader `kill_on_drop` kills.
    let group = GroupKill {
        pgid: child.id().and_then(|id| i32::try_from(id).ok()),
        fired: Cell::new(false),
    };
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let work = async {
        let (out, err, status) = tokio::join!(
            read_bounded(stdout, EXEC_OUTPUT_LIMIT),
            read_bounded(stderr, EXEC_OUTPUT_LIMIT),
            async {
                let status = child.wait().await;
                // Leftover children of the probe would hold its pipes open: kill them.
                group.fire();
                status
            }
        );
        let mut output = String::from_utf8_lossy(&out).into_owned();
        output.push_str(&String::from_utf8_lossy(&err));
        (output.trim().to_string(), status)
    };
    match tokio::time::timeout(timeout, work).await {
        Ok((output, Ok(status))) if status.success() => (true, output),
        Ok((output, Ok(status))) if output.is_empty() => {
            (false, format!("command {program:?} failed: {status}"))
        }
        Ok((output, Ok(_))) => (false, output),
        Ok((_, Err(e))) => (false, format!("exec probe {program:?}: {e}")),
        Err(_) => (false, format!("command timed out after {timeout:?}")),
    }
}

/// `GET path` on `host:port` over HTTP/1.1; the response's status code.
async fn http_get(
    host: &str,
    port: u16,
    path: &str,
    headers: &[(String, String)],
) -> std::io::Result<u16> {
    let mut stream = tokio::net::TcpStream::connect((host, port)).await?;
    let host_header = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut request = format!("GET {path} HTTP/1.1\r\n");
    if !has("Host") {
        request.push_str(&format!("Host: {host_header}\r\n"));
    }
    if !has("User-Agent") {
        request.push_str("User-Agent: capstan-probe/1.0\r\n");
    }
    if !has("Accept") {
        request.push_str("Accept: */*\r\n");
    }
    for (name, value) in headers {
        if !name.eq_ignore_ascii_case("Connection") {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    request.push_str("Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;

    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut response = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    let line_end = loop {
        if let Some(i) = response.windows(2).position(|w| w == b"\r\n") {
            break i;
        }
        if response.len() >= HTTP_READ_LIMIT {
            return Err(invalid("malformed HTTP response: status line too long"));
        }
        let room = (HTTP_READ_LIMIT - response.len()).min(buf.len());
        let n = stream.read(&mut buf[..room]).await?;
        if n == 0 {
            return Err(invalid(
                "malformed HTTP response: connection closed before a status line",
            ));
        }
        response.extend_from_slice(&buf[..n]);
    };
    let line = String::from_utf8_lossy(&response[..line_end]);
    let mut parts = line.split(' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(invalid("malformed HTTP status line"));
    };
    if !version.starts_with("HTTP/") || code.len() != 3 {
        return Err(invalid("malformed HTTP status line"));
    }
    code.parse::<u16>()
        .map_err(|_| invalid("malformed HTTP status code"))
}

#[cfg(test)]
mod tests;
