//! Real probes: `sh -c` exec probes, a tiny HTTP server, TCP listeners and closed ports.

use super::*;
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tokio::net::TcpListener;

/// Generous bound for anything to happen (tests assert correctness, not speed).
const PATIENCE: Duration = Duration::from_secs(20);

type Results = Arc<Mutex<Vec<ProbeResult>>>;

/// Keeps concluded results in `.0` and the failed checks that concluded nothing in `.1`.
struct Collector(Results, Results);

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<ProbeResult> for Collector {
    type Result = ();
    fn handle(&mut self, msg: ProbeResult, _: &mut Self::Context) {
        if msg.concluded {
            self.0.lock().unwrap().push(msg);
        } else {
            self.1.lock().unwrap().push(msg);
        }
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Halt;

impl Handler<Halt> for Collector {
    type Result = ();
    fn handle(&mut self, _: Halt, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

fn collector() -> (Results, Addr<Collector>) {
    let (results, _, addr) = collector_with_checks();
    (results, addr)
}

/// Also returns the failed checks that concluded nothing.
fn collector_with_checks() -> (Results, Results, Addr<Collector>) {
    let (results, checks) = (Results::default(), Results::default());
    let addr = Collector(results.clone(), checks.clone()).start();
    (results, checks, addr)
}

fn successes(results: &Results) -> Vec<bool> {
    results.lock().unwrap().iter().map(|r| r.success).collect()
}

/// Waits until `results` holds at least `n` reports; returns their `success` values.
async fn wait_reports(results: &Results, n: usize) -> Vec<bool> {
    let deadline = Instant::now() + PATIENCE;
    while results.lock().unwrap().len() < n {
        assert!(
            Instant::now() < deadline,
            "only {:?} after {PATIENCE:?}, wanted {n} reports",
            results.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    successes(results)
}

async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn container() -> Value {
    json!({"name": "app", "image": "x"})
}

fn start(
    kind: ProbeKind,
    probe: Value,
    container: Value,
    to: &Addr<Collector>,
    unit_ms: u64,
) -> Addr<ProbeActor> {
    start_env(kind, probe, container, vec![], to, unit_ms)
}

fn start_env(
    kind: ProbeKind,
    probe: Value,
    container: Value,
    env: Vec<(String, String)>,
    to: &Addr<Collector>,
    unit_ms: u64,
) -> Addr<ProbeActor> {
    ProbeActor::new(
        kind,
        probe,
        container,
        7,
        "127.0.0.1".to_string(),
        env,
        to.clone().recipient(),
    )
    .with_time_unit(Duration::from_millis(unit_ms))
    .start()
}

fn sh(script: &str) -> Value {
    json!({"exec": {"command": ["sh", "-c", script]}})
}

fn with(mut probe: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        probe[k] = v.clone();
    }
    probe
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |s| s.lines().count())
}

/// Whether `pid` is still a live (not zombie) process.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

async fn read_pid(path: &Path) -> i32 {
    let mut pid = None;
    eventually("the probe wrote its pid", || {
        pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok());
        pid.is_some()
    })
    .await;
    pid.unwrap()
}

#[actix::test]
async fn exec_success_after_success_threshold_with_env() {
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("count");
    let (results, to) = collector();
    let probe = with(
        sh("echo x >> \"$COUNT_FILE\""),
        json!({"periodSeconds": 1, "successThreshold": 3}),
    );
    let env = vec![("COUNT_FILE".to_string(), count.display().to_string())];
    start_env(ProbeKind::Readiness, probe, container(), env, &to, 20);
    assert_eq!(wait_reports(&results, 1).await, vec![true]);
    assert!(
        lines(&count) >= 3,
        "reported after {} checks",
        lines(&count)
    );
    let r = results.lock().unwrap()[0].clone();
    assert_eq!(
        (r.container.as_str(), r.run, r.kind),
        ("app", 7, ProbeKind::Readiness)
    );
    // Only changes are reported: more successes say nothing.
    let seen = lines(&count);
    eventually("more checks ran", || lines(&count) >= seen + 3).await;
    assert_eq!(successes(&results), vec![true]);
}

#[actix::test]
async fn exec_failure_after_failure_threshold_reports_once() {
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("count");
    let (results, checks, to) = collector_with_checks();
    let script = format!("echo x >> {}; echo broken >&2; exit 3", count.display());
    let probe = with(
        sh(&script),
        json!({"periodSeconds": 1, "failureThreshold": 4}),
    );
    start(ProbeKind::Liveness, probe, container(), &to, 20);
    assert_eq!(wait_reports(&results, 1).await, vec![false]);
    assert!(
        lines(&count) >= 4,
        "reported after {} checks",
        lines(&count)
    );
    assert_eq!(results.lock().unwrap()[0].message, "broken");
    let seen = lines(&count);
    eventually("more checks ran", || lines(&count) >= seen + 4).await;
    assert_eq!(successes(&results), vec![false]);
    // Every failed check that did not conclude was sent too (for Unhealthy events).
    let checks = checks.lock().unwrap();
    assert!(checks.len() >= 3, "{} unconcluded failures", checks.len());
    assert!(checks
        .iter()
        .all(|c| !c.success && !c.concluded && c.message == "broken" && c.run == 7));
}

#[actix::test]
async fn exec_missing_command_fails() {
    let (results, to) = collector();
    let probe = json!({"exec": {"command": ["/nonexistent/probe"]}, "periodSeconds": 1, "failureThreshold": 1});
    start(ProbeKind::Liveness, probe, container(), &to, 20);
    assert_eq!(wait_reports(&results, 1).await, vec![false]);
    assert!(results.lock().unwrap()[0]
        .message
        .contains("could not start"));
}

#[actix::test]
async fn exec_timeout_is_a_failure_and_kills_the_probe() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let (results, to) = collector();
    let script = format!("echo $$ > {}; exec sleep 10", pidfile.display());
    let probe = with(
        sh(&script),
        json!({"periodSeconds": 100, "timeoutSeconds": 1, "failureThreshold": 1}),
    );
    // Unit 50 ms: the check times out after 50 ms, long before `sleep 10` ends.
    start(ProbeKind::Liveness, probe, container(), &to, 50);
    assert_eq!(wait_reports(&results, 1).await, vec![false]);
    assert!(results.lock().unwrap()[0].message.contains("timed out"));
    let pid = read_pid(&pidfile).await;
    eventually("the timed-out probe process is gone", || !alive(pid)).await;
}

#[actix::test]
async fn exec_probe_children_are_killed() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let (results, to) = collector();
    // The probe backgrounds a child that holds its stdout open, then succeeds.
    let script = format!("sleep 30 & echo $! > {}; exit 0", pidfile.display());
    let probe = with(
        sh(&script),
        json!({"periodSeconds": 100, "timeoutSeconds": 100}),
    );
    start(ProbeKind::Readiness, probe, container(), &to, 50);
    assert_eq!(wait_reports(&results, 1).await, vec![true]);
    let pid = read_pid(&pidfile).await;
    eventually("the probe's leftover child is gone", || !alive(pid)).await;
}

#[actix::test]
async fn stopping_the_actor_kills_a_running_exec_probe() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let (results, to) = collector();
    let script = format!("echo $$ > {}; exec sleep 30", pidfile.display());
    let probe = with(sh(&script), json!({"timeoutSeconds": 100}));
    let probe = start(ProbeKind::Liveness, probe, container(), &to, 100);
    let pid = read_pid(&pidfile).await;
    assert!(alive(pid));
    probe.send(StopProbe).await.unwrap();
    eventually("the probe actor stopped", || !probe.connected()).await;
    eventually("the probe process is gone", || !alive(pid)).await;
    assert!(results.lock().unwrap().is_empty());
}

/// A tiny HTTP server answering 200 or 500 (per `healthy`); records the last request.
struct Server {
    port: u16,
    healthy: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn server() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let healthy = Arc::new(AtomicBool::new(true));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (h, r) = (healthy.clone(), requests.clone());
    actix::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let (h, r) = (h.clone(), r.clone());
            actix::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                r.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&req).into_owned());
                let response = if h.load(Ordering::SeqCst) {
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                } else {
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nsick"
                };
                let _ = conn.write_all(response.as_bytes()).await;
            });
        }
    });
    Server {
        port,
        healthy,
        requests,
    }
}

#[actix::test]
async fn http_readiness_toggles_both_ways() {
    let srv = server().await;
    let (results, to) = collector();
    let probe = json!({
        "httpGet": {"path": "healthz", "port": srv.port,
                    "httpHeaders": [{"name": "X-Probe", "value": "yes"}]},
        "periodSeconds": 1, "successThreshold": 2, "failureThreshold": 3,
    });
    start(ProbeKind::Readiness, probe, container(), &to, 20);
    assert_eq!(wait_reports(&results, 1).await, vec![true]);
    {
        let requests = srv.requests.lock().unwrap();
        assert!(requests.len() >= 2, "ready after {} checks", requests.len());
        let req = &requests[0];
        assert!(req.starts_with("GET /healthz HTTP/1.1\r\n"), "{req}");
        assert!(
            req.contains(&format!("Host: 127.0.0.1:{}\r\n", srv.port)),
            "{req}"
        );
        assert!(req.contains("X-Probe: yes\r\n"), "{req}");
    }
    srv.healthy.store(false, Ordering::SeqCst);
    assert_eq!(wait_reports(&results, 2).await, vec![true, false]);
    assert!(results.lock().unwrap()[1].message.contains("500"));
    srv.healthy.store(true, Ordering::SeqCst);
    assert_eq!(wait_reports(&results, 3).await, vec![true, false, true]);
}

#[actix::test]
async fn http_named_port_and_host_header_override() {
    let srv = server().await;
    let (results, to) = collector();
    let container = json!({"name": "web", "ports": [
        {"name": "metrics", "containerPort": 1},
        {"name": "http", "containerPort": srv.port},
    ]});
    let probe = json!({
        "httpGet": {"path": "/", "port": "http", "scheme": "HTTP",
                    "httpHeaders": [{"name": "Host", "value": "example.test"}]},
        "periodSeconds": 1,
    });
    start(ProbeKind::Liveness, probe, container, &to, 20);
    assert_eq!(wait_reports(&results, 1).await, vec![true]);
    assert_eq!(results.lock().unwrap()[0].container, "web");
    let req = srv.requests.lock().unwrap()[0].clone();
    assert!(req.contains("Host: example.test\r\n"), "{req}");
    assert_eq!(req.matches("Host:").count(), 1, "{req}");
}

#[actix::test]
async fn unknown_named_port_and_https_fail_with_a_message() {
    let (results, to) = collector();
    let probe = json!({"httpGet": {"port": "nope"}, "periodSeconds": 1, "failureThreshold": 1});
    start(ProbeKind::Readiness, probe, container(), &to, 20);
    let probe = json!({"httpGet": {"port": 80, "scheme": "HTTPS"}, "periodSeconds": 1, "failureThreshold": 1});
    start(ProbeKind::Liveness, probe, container(), &to, 20);
    assert_eq!(wait_reports(&results, 2).await, vec![false, false]);
    let mut messages: Vec<String> = results
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.message.clone())
        .collect();
    messages.sort();
    assert_eq!(
        messages,
        [
            "couldn't find port: nope",
            "https probes are not supported yet"
        ]
    );
}

#[actix::test]
async fn tcp_socket_open_and_closed() {
    let open = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open_port = open.local_addr().unwrap().port();
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let container = json!({"name": "db", "ports": [{"name": "pg", "containerPort": open_port}]});

    let (ok, to) = collector();
    start(
        ProbeKind::Readiness,
        json!({"tcpSocket": {"port": "pg"}, "periodSeconds": 1}),
        container.clone(),
        &to,
        20,
    );
    let (bad, to2) = collector();
    let probe = json!({"tcpSocket": {"port": closed_port, "host": "127.0.0.1"}, "periodSeconds": 1, "failureThreshold": 2});
    start(ProbeKind::Liveness, probe, container, &to2, 20);
    assert_eq!(wait_reports(&ok, 1).await, vec![true]);
    assert_eq!(wait_reports(&bad, 1).await, vec![false]);
    assert!(bad.lock().unwrap()[0]
        .message
        .contains(&closed_port.to_string()));
    drop(open);
}

#[actix::test]
async fn startup_probe_stops_after_its_first_success() {
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("count");
    let (results, to) = collector();
    // Fails twice (below the threshold of 3), then succeeds.
    let script = format!("echo x >> {0}; [ $(wc -l < {0}) -ge 3 ]", count.display());
    let probe = with(
        sh(&script),
        json!({"periodSeconds": 1, "failureThreshold": 3}),
    );
    let addr = start(ProbeKind::Startup, probe, container(), &to, 20);
    assert_eq!(wait_reports(&results, 1).await, vec![true]);
    eventually("the startup prober stopped", || !addr.connected()).await;
    let checks = lines(&count);
    assert_eq!(checks, 3);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        lines(&count),
        checks,
        "no checks after the startup probe succeeded"
    );
    assert_eq!(successes(&results), vec![true]);
}

#[actix::test]
async fn initial_delay_is_waited() {
    let (results, to) = collector();
    let probe = with(
        sh("exit 0"),
        json!({"initialDelaySeconds": 10, "periodSeconds": 1}),
    );
    let started = Instant::now();
    start(ProbeKind::Readiness, probe, container(), &to, 30);
    assert_eq!(wait_reports(&results, 1).await, vec![true]);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[actix::test]
async fn stops_when_its_recipient_is_gone() {
    let (_results, to) = collector();
    let probe = with(
        sh("exit 1"),
        json!({"periodSeconds": 1, "failureThreshold": 1000}),
    );
    let addr = start(ProbeKind::Liveness, probe, container(), &to, 20);
    to.send(Halt).await.unwrap();
    drop(to);
    eventually("the prober stopped with its recipient", || {
        !addr.connected()
    })
    .await;
}

#[test]
fn ports_resolve_like_kubernetes() {
    let c = json!({"ports": [{"name": "http", "containerPort": 8080}]});
    assert_eq!(resolve_port(Some(&json!(80)), &c), Ok(80));
    assert_eq!(resolve_port(Some(&json!("http")), &c), Ok(8080));
    assert_eq!(resolve_port(Some(&json!("9090")), &c), Ok(9090));
    assert!(resolve_port(Some(&json!(0)), &c).is_err());
    assert!(resolve_port(Some(&json!(70000)), &c).is_err());
    assert!(resolve_port(None, &c).is_err());
}
