//! Table-driven tests: back-off, restart policy, container transitions and JSON, pod phase and
//! conditions.

use super::*;
use crate::time::Timestamp;
use serde_json::{json, Value};

/// 2026-01-01T00:00:00Z plus `secs`.
fn t(secs: i64) -> Timestamp {
    Timestamp(1_767_225_600 + secs)
}

// ---------------------------------------------------------------------------------------------
// Back-off

#[test]
fn crash_loop_delays() {
    struct Case {
        name: &'static str,
        policy: BackoffPolicy,
        /// How long the container ran before each crash.
        ran_for_ms: &'static [u64],
        want_ms: &'static [u64],
    }
    let k8s = BackoffPolicy::default();
    let cases = [
        Case {
            name: "doubles from 10s and caps at 300s",
            policy: k8s,
            ran_for_ms: &[0, 0, 0, 0, 0, 0, 0, 0],
            want_ms: &[
                10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000,
            ],
        },
        Case {
            name: "a run of 10 minutes resets to 10s",
            policy: k8s,
            ran_for_ms: &[1_000, 1_000, 1_000, 600_000, 1_000],
            want_ms: &[10_000, 20_000, 40_000, 10_000, 20_000],
        },
        Case {
            name: "a run just short of 10 minutes does not reset",
            policy: k8s,
            ran_for_ms: &[0, 599_999],
            want_ms: &[10_000, 20_000],
        },
        Case {
            name: "a long first run still waits the initial delay",
            policy: k8s,
            ran_for_ms: &[3_600_000],
            want_ms: &[10_000],
        },
        Case {
            name: "custom policy, cap not a power of two",
            policy: BackoffPolicy {
                initial_ms: 1_000,
                cap_ms: 5_000,
                reset_after_ms: 60_000,
            },
            ran_for_ms: &[0, 0, 0, 0, 0],
            want_ms: &[1_000, 2_000, 4_000, 5_000, 5_000],
        },
        Case {
            name: "cap below initial caps the first delay",
            policy: BackoffPolicy {
                initial_ms: 10_000,
                cap_ms: 3_000,
                reset_after_ms: 60_000,
            },
            ran_for_ms: &[0, 0],
            want_ms: &[3_000, 3_000],
        },
    ];
    let check = |c: &Case| {
        let mut lp = CrashLoop::default();
        let got: Vec<u64> = c
            .ran_for_ms
            .iter()
            .map(|&ran| lp.next_delay(ran, &c.policy))
            .collect();
        assert_eq!(got, c.want_ms, "case {:?}", c.name);
        assert_eq!(
            lp.current_ms(),
            *c.want_ms.last().unwrap(),
            "case {:?}",
            c.name
        );
    };
    for c in &cases {
        check(c);
    }
}

#[test]
fn crash_loop_reset_starts_over() {
    let policy = BackoffPolicy::default();
    let mut lp = CrashLoop::default();
    lp.next_delay(0, &policy);
    lp.next_delay(0, &policy);
    lp.reset();
    assert_eq!(lp.current_ms(), 0, "reset forgets the delay");
    assert_eq!(lp.next_delay(0, &policy), 10_000, "first delay after reset");
}

#[test]
fn default_policy_is_kubelets() {
    let p = BackoffPolicy::default();
    assert_eq!(
        (p.initial_ms, p.cap_ms, p.reset_after_ms),
        (10_000, 300_000, 600_000),
        "10 s doubling to 300 s, reset after 10 min"
    );
}

#[test]
fn go_durations() {
    struct Case {
        ms: u64,
        want: &'static str,
    }
    let cases = [
        Case { ms: 0, want: "0s" },
        Case {
            ms: 500,
            want: "500ms",
        },
        Case {
            ms: 1_500,
            want: "1.5s",
        },
        Case {
            ms: 1_250,
            want: "1.25s",
        },
        Case {
            ms: 10_000,
            want: "10s",
        },
        Case {
            ms: 80_000,
            want: "1m20s",
        },
        Case {
            ms: 160_000,
            want: "2m40s",
        },
        Case {
            ms: 300_000,
            want: "5m0s",
        },
        Case {
            ms: 3_600_000,
            want: "1h0m0s",
        },
        Case {
            ms: 3_723_000,
            want: "1h2m3s",
        },
    ];
    let check = |c: &Case| assert_eq!(go_duration(c.ms), c.want, "{} ms", c.ms);
    for c in &cases {
        check(c);
    }
}

#[test]
fn restart_policies() {
    struct Case {
        input: &'static str,
        want: RestartPolicy,
        /// `restarts_after` for exit codes 0, 1 and 137.
        restarts: [bool; 3],
    }
    let cases = [
        Case {
            input: "Always",
            want: RestartPolicy::Always,
            restarts: [true, true, true],
        },
        Case {
            input: "OnFailure",
            want: RestartPolicy::OnFailure,
            restarts: [false, true, true],
        },
        Case {
            input: "Never",
            want: RestartPolicy::Never,
            restarts: [false, false, false],
        },
        Case {
            input: "",
            want: RestartPolicy::Always,
            restarts: [true, true, true],
        },
        Case {
            input: "never",
            want: RestartPolicy::Always,
            restarts: [true, true, true],
        },
        Case {
            input: "Sometimes",
            want: RestartPolicy::Always,
            restarts: [true, true, true],
        },
    ];
    let check = |c: &Case| {
        let p = RestartPolicy::parse(c.input);
        assert_eq!(p, c.want, "parse {:?}", c.input);
        let got = [0, 1, 137].map(|code| p.restarts_after(code));
        assert_eq!(got, c.restarts, "restarts_after for {:?}", c.input);
        assert_eq!(RestartPolicy::parse(p.as_str()), p, "as_str round-trips");
    };
    for c in &cases {
        check(c);
    }
}

// ---------------------------------------------------------------------------------------------
// Containers

fn started(at: i64, id: &str) -> ContainerEvent {
    ContainerEvent::Started {
        at: t(at),
        container_id: id.to_string(),
    }
}

fn exited(at: i64, exit_code: i32) -> ContainerEvent {
    ContainerEvent::Exited {
        at: t(at),
        exit_code,
        signal: None,
        oom_killed: false,
        message: None,
    }
}

fn backing_off(delay_ms: u64) -> ContainerEvent {
    ContainerEvent::BackingOff {
        delay_ms,
        pod: "web_default(uid-1)".to_string(),
    }
}

fn container(name: &str, events: Vec<ContainerEvent>) -> ContainerStatus {
    let mut c = ContainerStatus::new(name, "nginx:1.27");
    for ev in events {
        c.handle(ev);
    }
    c
}

#[test]
fn container_transitions() {
    struct Case {
        name: &'static str,
        events: Vec<ContainerEvent>,
        /// JSON pointers into `to_json()` and the value each must have ("" = the whole document).
        want: Vec<(&'static str, Value)>,
    }
    let cases = [
        Case {
            name: "new container waits ContainerCreating",
            events: vec![],
            want: vec![(
                "",
                json!({
                    "name": "app", "image": "nginx:1.27", "imageID": "",
                    "ready": false, "restartCount": 0, "started": false,
                    "state": {"waiting": {"reason": "ContainerCreating"}},
                    "lastState": {}
                }),
            )],
        },
        Case {
            name: "started: running, not yet started or ready",
            events: vec![ContainerEvent::Creating, started(5, "c1")],
            want: vec![(
                "",
                json!({
                    "name": "app", "image": "nginx:1.27", "imageID": "",
                    "containerID": "capstan://c1",
                    "ready": false, "restartCount": 0, "started": false,
                    "state": {"running": {"startedAt": "2026-01-01T00:00:05Z"}},
                    "lastState": {}
                }),
            )],
        },
        Case {
            name: "startup and readiness pass",
            events: vec![
                started(5, "c1"),
                ContainerEvent::StartupDone,
                ContainerEvent::Ready(true),
            ],
            want: vec![("/started", json!(true)), ("/ready", json!(true))],
        },
        Case {
            name: "readiness probe fails again",
            events: vec![
                started(5, "c1"),
                ContainerEvent::StartupDone,
                ContainerEvent::Ready(true),
                ContainerEvent::Ready(false),
            ],
            want: vec![("/started", json!(true)), ("/ready", json!(false))],
        },
        Case {
            name: "ready and started are ignored unless running",
            events: vec![ContainerEvent::Ready(true), ContainerEvent::StartupDone],
            want: vec![("/started", json!(false)), ("/ready", json!(false))],
        },
        Case {
            name: "exit 0 is Completed",
            events: vec![started(5, "c1"), exited(65, 0)],
            want: vec![(
                "",
                json!({
                    "name": "app", "image": "nginx:1.27", "imageID": "",
                    "containerID": "capstan://c1",
                    "ready": false, "restartCount": 0, "started": false,
                    "state": {"terminated": {
                        "exitCode": 0, "reason": "Completed",
                        "startedAt": "2026-01-01T00:00:05Z",
                        "finishedAt": "2026-01-01T00:01:05Z",
                        "containerID": "capstan://c1"
                    }},
                    "lastState": {}
                }),
            )],
        },
        Case {
            name: "exit clears ready and started",
            events: vec![
                started(5, "c1"),
                ContainerEvent::StartupDone,
                ContainerEvent::Ready(true),
                exited(6, 2),
            ],
            want: vec![
                ("/ready", json!(false)),
                ("/started", json!(false)),
                ("/state/terminated/reason", json!("Error")),
            ],
        },
        Case {
            name: "crash then back-off keeps the run in lastState, restartCount 0",
            events: vec![started(5, "c1"), exited(6, 3), backing_off(10_000)],
            want: vec![(
                "",
                json!({
                    "name": "app", "image": "nginx:1.27", "imageID": "",
                    "containerID": "capstan://c1",
                    "ready": false, "restartCount": 0, "started": false,
                    "state": {"waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": "back-off 10s restarting failed container=app pod=web_default(uid-1)"
                    }},
                    "lastState": {"terminated": {
                        "exitCode": 3, "reason": "Error",
                        "startedAt": "2026-01-01T00:00:05Z",
                        "finishedAt": "2026-01-01T00:00:06Z",
                        "containerID": "capstan://c1"
                    }}
                }),
            )],
        },
        Case {
            name: "Creating, Started, Exited(3), BackingOff, Started: restartCount 1",
            events: vec![
                ContainerEvent::Creating,
                started(5, "c1"),
                exited(6, 3),
                backing_off(10_000),
                started(16, "c2"),
            ],
            want: vec![
                ("/restartCount", json!(1)),
                ("/lastState/terminated/exitCode", json!(3)),
                ("/lastState/terminated/containerID", json!("capstan://c1")),
                (
                    "/state",
                    json!({"running": {"startedAt": "2026-01-01T00:00:16Z"}}),
                ),
                ("/containerID", json!("capstan://c2")),
            ],
        },
        Case {
            name: "restart straight from terminated moves it to lastState",
            events: vec![started(5, "c1"), exited(6, 0), started(7, "c2")],
            want: vec![
                ("/restartCount", json!(1)),
                ("/lastState/terminated/reason", json!("Completed")),
                ("/state/running/startedAt", json!("2026-01-01T00:00:07Z")),
            ],
        },
        Case {
            name: "second restart: restartCount 2, lastState is the latest run",
            events: vec![
                started(5, "c1"),
                exited(6, 3),
                backing_off(10_000),
                started(16, "c2"),
                exited(17, 4),
                backing_off(20_000),
                started(37, "c3"),
            ],
            want: vec![
                ("/restartCount", json!(2)),
                ("/lastState/terminated/exitCode", json!(4)),
                ("/lastState/terminated/containerID", json!("capstan://c2")),
            ],
        },
        Case {
            name: "back-off message formats minutes as Go does",
            events: vec![started(5, "c1"), exited(6, 1), backing_off(80_000)],
            want: vec![(
                "/state/waiting/message",
                json!("back-off 1m20s restarting failed container=app pod=web_default(uid-1)"),
            )],
        },
        Case {
            name: "OOM kill is OOMKilled",
            events: vec![
                started(5, "c1"),
                ContainerEvent::Exited {
                    at: t(9),
                    exit_code: 137,
                    signal: None,
                    oom_killed: true,
                    message: None,
                },
            ],
            want: vec![
                ("/state/terminated/reason", json!("OOMKilled")),
                ("/state/terminated/exitCode", json!(137)),
            ],
        },
        Case {
            name: "signal 9 is exitCode 137, reason Error",
            events: vec![
                started(5, "c1"),
                ContainerEvent::Exited {
                    at: t(9),
                    exit_code: -1,
                    signal: Some(9),
                    oom_killed: false,
                    message: Some("killed".to_string()),
                },
            ],
            want: vec![(
                "/state/terminated",
                json!({
                    "exitCode": 137, "signal": 9, "reason": "Error", "message": "killed",
                    "startedAt": "2026-01-01T00:00:05Z",
                    "finishedAt": "2026-01-01T00:00:09Z",
                    "containerID": "capstan://c1"
                }),
            )],
        },
        Case {
            name: "config error waits with its message",
            events: vec![
                ContainerEvent::Creating,
                ContainerEvent::ConfigError {
                    message: "no command specified".to_string(),
                },
            ],
            want: vec![(
                "/state",
                json!({"waiting": {
                    "reason": "CreateContainerConfigError",
                    "message": "no command specified"
                }}),
            )],
        },
        Case {
            name: "exit without a start has a null startedAt",
            events: vec![exited(6, 1)],
            want: vec![(
                "/state/terminated",
                json!({
                    "exitCode": 1, "reason": "Error",
                    "startedAt": null, "finishedAt": "2026-01-01T00:00:06Z"
                }),
            )],
        },
    ];
    let check = |c: &Case| {
        let got = container("app", c.events.clone()).to_json();
        for (pointer, want) in &c.want {
            assert_eq!(
                got.pointer(pointer),
                Some(want),
                "case {:?}, {pointer:?} in {got:#}",
                c.name
            );
        }
    };
    for c in &cases {
        check(c);
    }
}

#[test]
fn container_accessors() {
    let c = container("app", vec![started(5, "c1")]);
    assert!(c.is_running(), "running after Started");
    assert_eq!(c.is_terminated(), None, "not terminated while running");
    assert_eq!(c.name(), "app");
    assert_eq!(c.image(), "nginx:1.27");
    assert_eq!(c.container_id(), "c1");
    assert!(c.has_started(), "a running container has started");

    let c = container("app", vec![started(5, "c1"), exited(6, 3)]);
    assert!(!c.is_running(), "not running after Exited");
    assert_eq!(
        c.is_terminated(),
        Some(3),
        "exit code of the terminated state"
    );

    let c = container(
        "app",
        vec![started(5, "c1"), exited(6, 3), backing_off(10_000)],
    );
    assert_eq!(c.is_terminated(), None, "backing off is waiting");
    assert_eq!(c.last_state().map(|l| l.exit_code), Some(3));
    assert!(c.has_started(), "waiting with a previous run has started");
    assert_eq!(c.restart_count(), 0, "not restarted until it starts again");

    assert!(
        !ContainerStatus::new("app", "x").has_started(),
        "fresh container"
    );
}

// ---------------------------------------------------------------------------------------------
// Pods

fn creating(name: &str) -> ContainerStatus {
    container(name, vec![ContainerEvent::Creating])
}

fn running(name: &str, ready: bool) -> ContainerStatus {
    container(
        name,
        vec![
            started(5, name),
            ContainerEvent::StartupDone,
            ContainerEvent::Ready(ready),
        ],
    )
}

fn done(name: &str, exit_code: i32) -> ContainerStatus {
    container(name, vec![started(5, name), exited(6, exit_code)])
}

fn crash_looping(name: &str, exit_code: i32) -> ContainerStatus {
    container(
        name,
        vec![started(5, name), exited(6, exit_code), backing_off(10_000)],
    )
}

fn input<'a>(
    policy: RestartPolicy,
    init: &'a [ContainerStatus],
    containers: &'a [ContainerStatus],
) -> PodStatusInput<'a> {
    PodStatusInput {
        restart_policy: policy,
        init,
        init_total: init.len(),
        containers,
        host_ip: "10.0.0.5",
        pod_ip: "10.244.1.7",
        start_time: Some(t(1)),
        now: t(100),
        previous_conditions: None,
        deleting: false,
    }
}

/// `Type=Status` or `Type=Status(Reason)` per condition, space-separated.
fn conditions_summary(status: &Value) -> String {
    let conditions = status["conditions"].as_array().expect("conditions array");
    let parts: Vec<String> = conditions
        .iter()
        .map(|c| {
            let (kind, st) = (c["type"].as_str().unwrap(), c["status"].as_str().unwrap());
            match c.get("reason").and_then(Value::as_str) {
                Some(reason) => format!("{kind}={st}({reason})"),
                None => format!("{kind}={st}"),
            }
        })
        .collect();
    parts.join(" ")
}

#[test]
fn pod_phases_and_conditions() {
    use RestartPolicy::{Always, Never, OnFailure};
    struct Case {
        name: &'static str,
        policy: RestartPolicy,
        init: Vec<ContainerStatus>,
        /// Init containers in the spec; `None` means `init.len()`.
        init_total: Option<usize>,
        containers: Vec<ContainerStatus>,
        deleting: bool,
        want_phase: &'static str,
        want_conditions: &'static str,
    }
    fn case(name: &'static str, policy: RestartPolicy, containers: Vec<ContainerStatus>) -> Case {
        Case {
            name,
            policy,
            init: vec![],
            init_total: None,
            containers,
            deleting: false,
            want_phase: "",
            want_conditions: "",
        }
    }
    const ALL_READY: &str = "Initialized=True Ready=True ContainersReady=True PodScheduled=True";
    const NOT_READY: &str = "Initialized=True Ready=False(ContainersNotReady) \
                             ContainersReady=False(ContainersNotReady) PodScheduled=True";
    const NOT_INIT: &str = "Initialized=False(ContainersNotInitialized) \
                            Ready=False(ContainersNotReady) \
                            ContainersReady=False(ContainersNotReady) PodScheduled=True";
    const COMPLETED: &str = "Initialized=True(PodCompleted) Ready=False(PodCompleted) \
                             ContainersReady=False(PodCompleted) PodScheduled=True";
    const FAILED: &str = "Initialized=True Ready=False(PodFailed) \
                          ContainersReady=False(PodFailed) PodScheduled=True";
    let cases = [
        Case {
            want_phase: "Pending",
            want_conditions: NOT_READY,
            ..case("container being created", Always, vec![creating("a")])
        },
        Case {
            want_phase: "Pending",
            want_conditions: NOT_READY,
            ..case(
                "one running, one never started",
                Always,
                vec![running("a", true), creating("b")],
            )
        },
        Case {
            want_phase: "Pending",
            want_conditions: NOT_READY,
            ..case(
                "config error before the first start",
                Always,
                vec![container(
                    "a",
                    vec![ContainerEvent::ConfigError {
                        message: "no command".into(),
                    }],
                )],
            )
        },
        Case {
            want_phase: "Running",
            want_conditions: ALL_READY,
            ..case(
                "all running and ready",
                Always,
                vec![running("a", true), running("b", true)],
            )
        },
        Case {
            want_phase: "Running",
            want_conditions: NOT_READY,
            ..case(
                "running, readiness failing",
                Always,
                vec![running("a", false)],
            )
        },
        Case {
            want_phase: "Running",
            want_conditions: NOT_READY,
            ..case("Always, exit 0: restarting", Always, vec![done("a", 0)])
        },
        Case {
            want_phase: "Running",
            want_conditions: NOT_READY,
            ..case(
                "Always, CrashLoopBackOff",
                Always,
                vec![crash_looping("a", 1)],
            )
        },
        Case {
            want_phase: "Running",
            want_conditions: NOT_READY,
            ..case(
                "Always, one running one crash-looping",
                Always,
                vec![running("a", true), crash_looping("b", 2)],
            )
        },
        Case {
            want_phase: "Succeeded",
            want_conditions: COMPLETED,
            ..case("OnFailure, exit 0", OnFailure, vec![done("a", 0)])
        },
        Case {
            want_phase: "Running",
            want_conditions: NOT_READY,
            ..case("OnFailure, exit 1 restarts", OnFailure, vec![done("a", 1)])
        },
        Case {
            want_phase: "Running",
            want_conditions: NOT_READY,
            ..case(
                "OnFailure, one exit 0 one backing off",
                OnFailure,
                vec![done("a", 0), crash_looping("b", 1)],
            )
        },
        Case {
            want_phase: "Succeeded",
            want_conditions: COMPLETED,
            ..case("Never, exit 0", Never, vec![done("a", 0)])
        },
        Case {
            want_phase: "Failed",
            want_conditions: FAILED,
            ..case("Never, exit 1", Never, vec![done("a", 1)])
        },
        Case {
            want_phase: "Failed",
            want_conditions: FAILED,
            ..case(
                "Never, one exit 0 one exit 1",
                Never,
                vec![done("a", 0), done("b", 1)],
            )
        },
        Case {
            want_phase: "Running",
            want_conditions: NOT_READY,
            ..case(
                "Never, one still running one failed",
                Never,
                vec![running("a", true), done("b", 1)],
            )
        },
        Case {
            want_phase: "Pending",
            want_conditions: NOT_INIT,
            init: vec![running("init-db", false)],
            ..case("init container running", Always, vec![creating("a")])
        },
        Case {
            want_phase: "Pending",
            want_conditions: NOT_INIT,
            init: vec![done("init-a", 0), creating("init-b")],
            ..case("second init container pending", Always, vec![creating("a")])
        },
        Case {
            want_phase: "Pending",
            want_conditions: "Initialized=False(UnknownContainerStatuses) \
                              Ready=False(ContainersNotReady) \
                              ContainersReady=False(ContainersNotReady) PodScheduled=True",
            init_total: Some(1),
            ..case(
                "init statuses not reported yet",
                Always,
                vec![creating("a")],
            )
        },
        Case {
            want_phase: "Failed",
            want_conditions: "Initialized=False(ContainersNotInitialized) \
                              Ready=False(PodFailed) ContainersReady=False(PodFailed) \
                              PodScheduled=True",
            init: vec![done("init-db", 1)],
            ..case("Never, init container failed", Never, vec![creating("a")])
        },
        Case {
            want_phase: "Pending",
            want_conditions: NOT_INIT,
            init: vec![crash_looping("init-db", 1)],
            ..case(
                "OnFailure, init container backing off",
                OnFailure,
                vec![creating("a")],
            )
        },
        Case {
            want_phase: "Running",
            want_conditions: ALL_READY,
            init: vec![done("init-a", 0), done("init-b", 0)],
            ..case(
                "init done, container running",
                Always,
                vec![running("a", true)],
            )
        },
        Case {
            want_phase: "Pending",
            want_conditions: "Initialized=True Ready=False(UnknownContainerStatuses) \
                              ContainersReady=False(UnknownContainerStatuses) PodScheduled=True",
            ..case("no container statuses", Always, vec![])
        },
        Case {
            want_phase: "Running",
            want_conditions: ALL_READY,
            deleting: true,
            ..case("deleting, still running", Always, vec![running("a", true)])
        },
        Case {
            want_phase: "Succeeded",
            want_conditions: COMPLETED,
            deleting: true,
            ..case("deleting, Always, all exited 0", Always, vec![done("a", 0)])
        },
        Case {
            want_phase: "Failed",
            want_conditions: FAILED,
            deleting: true,
            ..case(
                "deleting, killed by SIGTERM (143)",
                Always,
                vec![done("a", 143)],
            )
        },
        Case {
            want_phase: "Failed",
            want_conditions: FAILED,
            deleting: true,
            ..case(
                "deleting, crash-looping container",
                Always,
                vec![crash_looping("a", 0)],
            )
        },
        Case {
            want_phase: "Failed",
            want_conditions: FAILED,
            deleting: true,
            ..case("deleting, never started", Always, vec![creating("a")])
        },
    ];
    let check = |c: &Case| {
        let mut i = input(c.policy, &c.init, &c.containers);
        i.init_total = c.init_total.unwrap_or(c.init.len());
        i.deleting = c.deleting;
        assert_eq!(pod_phase(&i), c.want_phase, "phase, case {:?}", c.name);
        let status = pod_status_json(&i);
        assert_eq!(
            status["phase"], c.want_phase,
            "JSON phase, case {:?}",
            c.name
        );
        assert_eq!(
            conditions_summary(&status),
            c.want_conditions,
            "conditions, case {:?}",
            c.name
        );
    };
    for c in &cases {
        check(c);
    }
}

#[test]
fn condition_messages() {
    struct Case {
        name: &'static str,
        init: Vec<ContainerStatus>,
        containers: Vec<ContainerStatus>,
        /// (condition type, message or null).
        want: Vec<(&'static str, Value)>,
    }
    let cases = [
        Case {
            name: "unready containers listed Go-style",
            init: vec![],
            containers: vec![creating("a"), running("b", true), running("c", false)],
            want: vec![
                (
                    "ContainersReady",
                    json!("containers with unready status: [a c]"),
                ),
                ("Ready", json!("containers with unready status: [a c]")),
                ("Initialized", Value::Null),
            ],
        },
        Case {
            name: "incomplete init containers listed",
            init: vec![
                done("init-a", 0),
                running("init-b", false),
                creating("init-c"),
            ],
            containers: vec![creating("a")],
            want: vec![(
                "Initialized",
                json!("containers with incomplete status: [init-b init-c]"),
            )],
        },
        Case {
            name: "all ready: no messages",
            init: vec![],
            containers: vec![running("a", true)],
            want: vec![("Ready", Value::Null), ("ContainersReady", Value::Null)],
        },
    ];
    let check = |c: &Case| {
        let status = pod_status_json(&input(RestartPolicy::Always, &c.init, &c.containers));
        for (kind, want) in &c.want {
            let cond = status["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["type"] == *kind)
                .unwrap_or_else(|| panic!("no {kind} condition, case {:?}", c.name));
            assert_eq!(
                cond.get("message").unwrap_or(&Value::Null),
                want,
                "{kind} message, case {:?}",
                c.name
            );
        }
    };
    for c in &cases {
        check(c);
    }
}

#[test]
fn conditions_keep_last_transition_time_when_unchanged() {
    let containers = [running("a", false)];
    let mut i = input(RestartPolicy::Always, &[], &containers);
    i.now = t(10);
    let first = pod_status_json(&i);
    let ltt = |s: &Value, kind: &str| {
        s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == kind)
            .map(|c| c["lastTransitionTime"].clone())
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    assert_eq!(
        ltt(&first, "Ready"),
        json!("2026-01-01T00:00:10Z"),
        "no previous: now"
    );

    // Nothing changed: every lastTransitionTime is kept.
    let prev = first["conditions"].clone();
    i.previous_conditions = Some(&prev);
    i.now = t(20);
    let second = pod_status_json(&i);
    assert_eq!(
        second["conditions"], first["conditions"],
        "unchanged conditions are identical"
    );

    // The container becomes ready: Ready and ContainersReady move, the others stay.
    let ready = [running("a", true)];
    let mut i = input(RestartPolicy::Always, &[], &ready);
    let prev = second["conditions"].clone();
    i.previous_conditions = Some(&prev);
    i.now = t(30);
    let third = pod_status_json(&i);
    assert_eq!(
        ltt(&third, "Ready"),
        json!("2026-01-01T00:00:30Z"),
        "Ready flipped"
    );
    assert_eq!(
        ltt(&third, "ContainersReady"),
        json!("2026-01-01T00:00:30Z"),
        "flipped"
    );
    assert_eq!(
        ltt(&third, "Initialized"),
        json!("2026-01-01T00:00:10Z"),
        "kept"
    );
    assert_eq!(
        ltt(&third, "PodScheduled"),
        json!("2026-01-01T00:00:10Z"),
        "kept"
    );
}

#[test]
fn foreign_conditions_are_carried_over_first() {
    let containers = [running("a", true)];
    let prev = json!([
        {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI",
         "lastProbeTime": null, "lastTransitionTime": "2025-12-31T23:00:00Z"},
        {"type": "PodScheduled", "status": "True", "lastProbeTime": null,
         "lastTransitionTime": "2025-12-31T22:00:00Z"},
        {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null,
         "lastTransitionTime": "2025-12-31T22:00:00Z"}
    ]);
    let mut i = input(RestartPolicy::Always, &[], &containers);
    i.previous_conditions = Some(&prev);
    let status = pod_status_json(&i);
    assert_eq!(
        conditions_summary(&status),
        "DisruptionTarget=True(EvictionByEvictionAPI) Initialized=True Ready=True \
         ContainersReady=True PodScheduled=True",
        "foreign conditions first, kubelet-owned ones regenerated"
    );
    assert_eq!(status["conditions"][0], prev[0], "carried over verbatim");
    assert_eq!(
        status["conditions"][4]["lastTransitionTime"], "2025-12-31T22:00:00Z",
        "PodScheduled keeps the scheduler's transition time"
    );
}

#[test]
fn running_pod_status_json_shape() {
    let containers = [running("web", true)];
    let status = pod_status_json(&input(RestartPolicy::Always, &[], &containers));
    let cond = |kind: &str| {
        json!({"type": kind, "status": "True", "lastProbeTime": null,
               "lastTransitionTime": "2026-01-01T00:01:40Z"})
    };
    assert_eq!(
        status,
        json!({
            "phase": "Running",
            "conditions": [
                cond("Initialized"), cond("Ready"), cond("ContainersReady"), cond("PodScheduled")
            ],
            "hostIP": "10.0.0.5",
            "hostIPs": [{"ip": "10.0.0.5"}],
            "podIP": "10.244.1.7",
            "podIPs": [{"ip": "10.244.1.7"}],
            "startTime": "2026-01-01T00:00:01Z",
            "containerStatuses": [{
                "name": "web", "image": "nginx:1.27", "imageID": "",
                "containerID": "capstan://web",
                "ready": true, "restartCount": 0, "started": true,
                "state": {"running": {"startedAt": "2026-01-01T00:00:05Z"}},
                "lastState": {}
            }]
        }),
        "full status of a running pod"
    );
    assert!(
        status.get("qosClass").is_none(),
        "qosClass is the API server's"
    );
}

#[test]
fn pending_pod_status_json_shape() {
    let init = [done("init-db", 0), creating("init-cache")];
    let containers = [creating("web")];
    let mut i = input(RestartPolicy::Always, &init, &containers);
    i.pod_ip = "";
    i.start_time = None;
    let status = pod_status_json(&i);
    assert!(
        status.get("podIP").is_none(),
        "no podIP before one is assigned"
    );
    assert!(
        status.get("podIPs").is_none(),
        "no podIPs before one is assigned"
    );
    assert!(
        status.get("startTime").is_none(),
        "no startTime before the worker accepts"
    );
    assert_eq!(status["hostIPs"], json!([{"ip": "10.0.0.5"}]));
    assert_eq!(
        status["initContainerStatuses"][0]["ready"],
        json!(true),
        "an init container that exited 0 is ready"
    );
    assert_eq!(
        status["initContainerStatuses"][1]["state"],
        json!({"waiting": {"reason": "PodInitializing"}}),
        "uncreated containers of a pod with init containers wait PodInitializing"
    );
    assert_eq!(
        status["containerStatuses"][0]["state"],
        json!({"waiting": {"reason": "PodInitializing"}}),
        "regular containers wait PodInitializing while init runs"
    );
}

#[test]
fn carried_over_restarts_continue_the_count() {
    let mut c = ContainerStatus::new("app", "img");
    c.carry_over_restarts(4);
    c.handle(ContainerEvent::Started {
        at: t(1),
        container_id: "x".into(),
    });
    assert_eq!(c.restart_count(), 4, "the adopted run is the same run");
    c.handle(ContainerEvent::Exited {
        at: t(2),
        exit_code: 1,
        signal: None,
        oom_killed: false,
        message: None,
    });
    c.handle(ContainerEvent::Started {
        at: t(3),
        container_id: "y".into(),
    });
    assert_eq!(c.restart_count(), 5);
    assert_eq!(c.last_state().map(|t| t.exit_code), Some(1));
}
