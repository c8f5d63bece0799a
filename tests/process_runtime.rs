//! The `process` container runtime on real processes (`sh`, `sleep`, `true`) of this host,
//! each under a real shim (this package's `capstan shim`), with cgroups when the test runs as
//! root on a machine that has them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use capstan_actors::worker::runtime::*;

/// Upper bound for anything that should happen "soon"; generous for loaded CI machines.
const SOON: Duration = Duration::from_secs(20);

fn runtime(dir: &Path) -> ProcessRuntime {
    ProcessRuntime::new(ProcessRuntimeConfig {
        state_dir: dir.join("containers"),
        shim: vec![env!("CARGO_BIN_EXE_capstan").into(), "shim".into()],
        cgroups: true,
        pids_limit: 1024,
        // One subtree per runtime: tests run in parallel, and a recovering runtime sweeps its
        // own subtree.
        cgroup_name: format!(
            "test-{}-{}",
            std::process::id(),
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
    })
}

/// The rotated log of `path`.
fn rotated_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".1");
    PathBuf::from(p)
}

fn spec(dir: &Path, name: &str, command: &[&str]) -> ContainerSpec {
    ContainerSpec {
        pod_key: "default/test".into(),
        pod_uid: "uid-1".into(),
        name: name.into(),
        command: command.iter().map(|s| s.to_string()).collect(),
        args: Vec::new(),
        env: Vec::new(),
        working_dir: None,
        log_path: dir.join("pods").join("uid-1").join(format!("{name}.log")),
        log_max_bytes: 10 * 1024 * 1024,
        limits: Limits::default(),
    }
}

async fn wait_exit(exit: &mut oneshot::Receiver<Exit>) -> Exit {
    tokio::time::timeout(SOON, exit)
        .await
        .expect("container did not exit in time")
        .expect("exit sender dropped without an Exit")
}

fn read_all(path: &Path) -> String {
    String::from_utf8(read_log(path, None, false, false, usize::MAX).expect("read_log"))
        .expect("utf-8 log")
}

/// Whether `pid` no longer runs: gone from /proc, or a zombie waiting for init (this sandbox's
/// init does not reap orphans; a dead process is still dead).
fn process_is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(line) => line
            .rfind(')')
            .and_then(|i| line.as_bytes().get(i + 2))
            .is_none_or(|s| matches!(s, b'Z' | b'X')),
    }
}

/// Polls the current log until it has at least `n` lines.
async fn wait_for_lines(path: &Path, n: usize) -> String {
    let deadline = Instant::now() + SOON;
    loop {
        if let Ok(bytes) = read_log(path, None, false, false, usize::MAX) {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if text.lines().count() >= n {
                return text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "log {} never got {n} lines",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn exit_code_and_both_streams_are_logged() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    let spec = spec(
        dir.path(),
        "c",
        &["sh", "-c", "echo hello; echo oops >&2; exit 3"],
    );
    let mut launched = rt.launch(&spec).await.expect("launch");
    assert!(launched.pid > 1, "pid {}", launched.pid);
    let exit = wait_exit(&mut launched.exit).await;
    assert_eq!(exit.exit_code, 3, "exit: {exit:?}");
    assert_eq!(exit.signal, None);
    assert!(!exit.oom_killed);
    assert!(exit.finished_at >= launched.started_at);

    let raw = std::fs::read_to_string(&spec.log_path).expect("log file");
    let lines: Vec<&str> = raw.lines().collect();
    assert_eq!(lines.len(), 2, "raw log: {raw:?}");
    for (stream, content) in [("stdout", "hello"), ("stderr", "oops")] {
        let line = lines
            .iter()
            .find(|l| l.ends_with(&format!(" {stream} F {content}")))
            .unwrap_or_else(|| panic!("no {stream} line in {raw:?}"));
        let ts = line.split(' ').next().unwrap();
        assert_eq!(ts.len(), 30, "RFC3339Nano timestamp {ts:?}");
        assert!(
            ts.ends_with('Z') && ts.as_bytes()[19] == b'.',
            "timestamp {ts:?}"
        );
    }
    let plain = read_all(&spec.log_path);
    let mut got: Vec<&str> = plain.lines().collect();
    got.sort_unstable();
    assert_eq!(got, ["hello", "oops"], "stripped log {plain:?}");

    let stamped = read_log(&spec.log_path, None, false, true, usize::MAX).unwrap();
    let stamped = String::from_utf8(stamped).unwrap();
    assert!(
        stamped
            .lines()
            .all(|l| l.len() > 31 && l.as_bytes()[30] == b' '),
        "{stamped:?}"
    );
    assert!(
        rt.signal(launched.pid, StopSignal::Kill).is_err(),
        "exited pid is not signalled"
    );
    assert_eq!(rt.stats(launched.pid), None, "no stats after exit");
}

#[tokio::test]
async fn sleep_stopped_gracefully_dies_of_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    let mut launched = rt
        .launch(&spec(dir.path(), "s", &["sleep", "30"]))
        .await
        .expect("launch");
    let started = Instant::now();
    let exit = stop_gracefully(
        &rt,
        launched.pid,
        &mut launched.exit,
        Duration::from_secs(15),
    )
    .await
    .expect("an Exit");
    assert_eq!(exit.exit_code, 143, "exit: {exit:?}");
    assert_eq!(exit.signal, Some(15));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(
        rt.signal(launched.pid, StopSignal::Term),
        Err(RuntimeError::NotRunning { .. })
    ));
}

#[tokio::test]
async fn term_ignoring_group_is_killed_after_grace_with_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    // The ignored TERM is inherited by the background sleep: the whole group ignores it.
    let spec = spec(
        dir.path(),
        "t",
        &["sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait"],
    );
    let mut launched = rt.launch(&spec).await.expect("launch");
    let log = wait_for_lines(&spec.log_path, 1).await;
    let child: u32 = log
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("child pid in {log:?}"));
    assert!(
        !process_is_dead(child),
        "child sleep {child} runs before the stop"
    );
    let stats = rt.stats(launched.pid).expect("stats while running");
    assert!(stats.pids >= 2, "sh and sleep in the group: {stats:?}");

    let grace = Duration::from_millis(1500);
    let started = Instant::now();
    let exit = stop_gracefully(&rt, launched.pid, &mut launched.exit, grace)
        .await
        .expect("an Exit");
    let took = started.elapsed();
    assert_eq!(exit.exit_code, 137, "exit: {exit:?}");
    assert_eq!(exit.signal, Some(9));
    assert!(
        took >= grace,
        "SIGKILL came before the grace period ended: {took:?}"
    );
    assert!(took < grace + Duration::from_secs(10), "took {took:?}");
    let deadline = Instant::now() + SOON;
    while !process_is_dead(child) {
        assert!(
            Instant::now() < deadline,
            "child sleep {child} survived the group kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn leftover_group_members_are_killed_when_the_main_process_exits() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    let spec = spec(dir.path(), "l", &["sh", "-c", "sleep 30 & echo $!"]);
    let mut launched = rt.launch(&spec).await.expect("launch");
    let exit = wait_exit(&mut launched.exit).await;
    assert_eq!(exit.exit_code, 0, "exit: {exit:?}");
    let log = read_all(&spec.log_path);
    let child: u32 = log
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("child pid in {log:?}"));
    let deadline = Instant::now() + SOON;
    while !process_is_dead(child) {
        assert!(
            Instant::now() < deadline,
            "background sleep {child} outlived its container"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn missing_or_empty_command_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    let err = rt
        .launch(&spec(dir.path(), "m", &["/no/such/binary-capstan"]))
        .await
        .expect_err("launching a missing binary fails");
    assert!(matches!(err, RuntimeError::Spawn { .. }), "{err:?}");
    assert!(
        err.to_string().contains("/no/such/binary-capstan"),
        "names the command: {err}"
    );
    assert!(!err.is_retryable());

    let err = rt
        .launch(&spec(dir.path(), "e", &[]))
        .await
        .expect_err("no command");
    assert!(matches!(err, RuntimeError::NoCommand { .. }), "{err:?}");

    let mut bad_env = spec(dir.path(), "b", &["true"]);
    bad_env.env.push(("A=B".into(), "x".into()));
    let err = rt.launch(&bad_env).await.expect_err("bad env name");
    assert!(matches!(err, RuntimeError::InvalidSpec { .. }), "{err:?}");

    let mut bad_dir = spec(dir.path(), "d", &["true"]);
    bad_dir.working_dir = Some(dir.path().join("missing"));
    let err = rt.launch(&bad_dir).await.expect_err("missing working dir");
    assert!(matches!(err, RuntimeError::WorkingDir { .. }), "{err:?}");
}

#[tokio::test]
async fn env_and_working_dir_reach_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let rt = runtime(dir.path());
    let mut spec = spec(dir.path(), "env", &["sh", "-c"]);
    spec.args = vec!["echo $FOO; pwd; echo $PATH; echo $HOME; echo ${OUTER-unset}".into()];
    spec.env = vec![
        ("FOO".into(), "first".into()),
        ("FOO".into(), "bar baz".into()),
    ];
    spec.working_dir = Some(work.clone());
    // Nothing of the worker's own environment leaks in.
    assert!(std::env::var_os("PATH").is_some());
    let mut launched = rt.launch(&spec).await.expect("launch");
    let exit = wait_exit(&mut launched.exit).await;
    assert_eq!(exit.exit_code, 0, "exit: {exit:?}");
    let log = read_all(&spec.log_path);
    let lines: Vec<&str> = log.lines().collect();
    let pwd = work.canonicalize().unwrap();
    assert_eq!(
        lines,
        [
            "bar baz",
            pwd.to_str().unwrap(),
            DEFAULT_PATH,
            "/root",
            "unset"
        ],
        "log {log:?}"
    );
}

#[tokio::test]
async fn log_rotates_into_one_previous_file() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    let mut spec = spec(
        dir.path(),
        "r",
        &[
            "sh",
            "-c",
            "i=1; while [ $i -le 200 ]; do echo line$i; i=$((i+1)); done",
        ],
    );
    spec.log_max_bytes = 2000;
    let mut launched = rt.launch(&spec).await.expect("launch");
    assert_eq!(wait_exit(&mut launched.exit).await.exit_code, 0);

    let log_dir = spec.log_path.parent().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(log_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [spec.log_path.clone(), rotated_path(&spec.log_path)],
        "log files"
    );
    for f in &files {
        let len = std::fs::metadata(f).unwrap().len();
        assert!(len <= 2000, "{} is {len} bytes", f.display());
    }
    let current = read_all(&spec.log_path);
    assert!(
        current.ends_with("line200\n"),
        "current log ends with the last line: {current:?}"
    );
    let previous = read_log(&spec.log_path, None, true, false, usize::MAX).unwrap();
    let previous = String::from_utf8(previous).unwrap();
    let last_prev: u32 = previous.lines().last().unwrap()[4..].parse().unwrap();
    let first_cur: u32 = current.lines().next().unwrap()[4..].parse().unwrap();
    assert_eq!(
        last_prev + 1,
        first_cur,
        "rotation loses no line between the files"
    );
}

#[tokio::test]
async fn relaunch_keeps_the_previous_instance_log() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    let first = spec(dir.path(), "p", &["sh", "-c", "echo first"]);
    let mut launched = rt.launch(&first).await.expect("launch");
    wait_exit(&mut launched.exit).await;
    let second = spec(dir.path(), "p", &["sh", "-c", "echo second"]);
    let mut launched = rt.launch(&second).await.expect("relaunch");
    wait_exit(&mut launched.exit).await;
    assert_eq!(read_all(&second.log_path), "second\n");
    let previous = read_log(&second.log_path, None, true, false, usize::MAX).unwrap();
    assert_eq!(previous, b"first\n");
}

#[tokio::test]
async fn tail_lines_and_max_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    let spec = spec(
        dir.path(),
        "tail",
        &["sh", "-c", "for i in 1 2 3 4 5; do echo n$i; done"],
    );
    let mut launched = rt.launch(&spec).await.expect("launch");
    wait_exit(&mut launched.exit).await;
    let tail = |n, max| read_log(&spec.log_path, n, false, false, max).unwrap();
    assert_eq!(tail(Some(2), usize::MAX), b"n4\nn5\n");
    assert_eq!(tail(Some(0), usize::MAX), b"");
    assert_eq!(tail(Some(99), usize::MAX), b"n1\nn2\nn3\nn4\nn5\n");
    assert_eq!(tail(None, 4), b"n1\nn");
    assert_eq!(tail(Some(2), 3), b"n4\n");
    let err = read_log(&spec.log_path, None, true, false, usize::MAX).unwrap_err();
    assert_eq!(
        err.kind(),
        std::io::ErrorKind::NotFound,
        "no previous log yet"
    );
}

#[tokio::test]
async fn long_lines_are_split_and_joined_back() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    let spec = spec(
        dir.path(),
        "long",
        &[
            "sh",
            "-c",
            "head -c 40000 /dev/zero | tr '\\0' a; echo; echo short",
        ],
    );
    let mut launched = rt.launch(&spec).await.expect("launch");
    assert_eq!(wait_exit(&mut launched.exit).await.exit_code, 0);
    let raw = std::fs::read_to_string(&spec.log_path).unwrap();
    let tags: Vec<&str> = raw.lines().map(|l| l.split(' ').nth(2).unwrap()).collect();
    assert_eq!(
        tags,
        ["P", "P", "F", "F"],
        "40000 bytes = 16 KiB + 16 KiB + rest"
    );
    let plain = read_all(&spec.log_path);
    assert_eq!(plain, format!("{}\nshort\n", "a".repeat(40000)));
}

#[tokio::test]
async fn stats_of_a_running_sleep() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    assert_eq!(rt.name(), "process");
    let mut launched = rt
        .launch(&spec(dir.path(), "st", &["sleep", "30"]))
        .await
        .expect("launch");
    let stats = rt
        .stats(launched.pid)
        .expect("stats of a running container");
    assert!(stats.pids >= 1, "{stats:?}");
    // Right after execve the new image may not have faulted in a page yet: poll for RSS.
    let deadline = Instant::now() + SOON;
    loop {
        let stats = rt.stats(launched.pid).expect("still running");
        if stats.memory_bytes > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a live process has resident pages: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let exit = stop_gracefully(&rt, launched.pid, &mut launched.exit, Duration::ZERO)
        .await
        .expect("an Exit");
    assert_eq!(
        exit.exit_code, 137,
        "zero grace goes straight to SIGKILL: {exit:?}"
    );
    assert_eq!(rt.stats(launched.pid), None);
}

#[tokio::test]
async fn unknown_pids_are_never_signalled() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    for pid in [0, 1, std::process::id(), u32::MAX] {
        let err = rt.signal(pid, StopSignal::Kill).expect_err("not ours");
        assert!(
            matches!(err, RuntimeError::NotRunning { .. }),
            "pid {pid}: {err:?}"
        );
        assert_eq!(rt.stats(pid), None, "pid {pid}");
    }
    // A container whose Exit was already taken (sender gone): stop_gracefully gives up at once.
    let (tx, mut rx) = oneshot::channel::<Exit>();
    drop(tx);
    let got = tokio::time::timeout(
        SOON,
        stop_gracefully(&rt, 4_000_000, &mut rx, Duration::from_millis(10)),
    )
    .await;
    assert_eq!(got, Ok(None), "stop_gracefully of an unknown pid");
}

fn cgroups_available(rt: &ProcessRuntime) -> bool {
    match rt.cgroups().off_reason() {
        Some(reason) => {
            eprintln!("skipping the cgroup part: cgroups unavailable here: {reason}");
            false
        }
        None => true,
    }
}

#[tokio::test]
async fn memory_limit_exceeded_is_reported_as_oom_killed() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    if !cgroups_available(&rt) {
        return;
    }
    // `tail` buffers a "line" that never ends: it grows until the limit stops it.
    let mut s = spec(dir.path(), "hog", &["tail", "/dev/zero"]);
    s.limits = Limits {
        memory_bytes: Some(32 << 20),
        cpu_millis: Some(500),
    };
    let mut launched = rt.launch(&s).await.expect("launch");
    let exit = wait_exit(&mut launched.exit).await;
    assert!(exit.oom_killed, "exit {exit:?}");
    assert_eq!((exit.exit_code, exit.signal), (137, Some(9)), "{exit:?}");

    // Without a limit the same kind of container is not an OOM kill.
    let s = spec(dir.path(), "fine", &["sh", "-c", "exit 0"]);
    let mut launched = rt.launch(&s).await.expect("launch");
    let exit = wait_exit(&mut launched.exit).await;
    assert!(!exit.oom_killed, "{exit:?}");
}

#[tokio::test]
async fn cgroup_usage_is_reported_per_container() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    let s = spec(dir.path(), "busy", &["sh", "-c", "while :; do :; done"]);
    let mut launched = rt.launch(&s).await.expect("launch");
    let deadline = Instant::now() + SOON;
    let sample = loop {
        let usage = rt.usage();
        if let Some(u) = usage
            .iter()
            .find(|u| u.container == "busy" && u.stats.cpu_usage_nanos > 50_000_000)
        {
            break u.clone();
        }
        assert!(Instant::now() < deadline, "no CPU usage seen: {usage:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(sample.pod_uid, "uid-1");
    assert!(sample.stats.memory_bytes > 0, "{sample:?}");
    assert!(sample.stats.pids >= 1, "{sample:?}");
    stop_gracefully(
        &rt,
        launched.pid,
        &mut launched.exit,
        Duration::from_secs(5),
    )
    .await
    .expect("stopped");
    assert!(rt.usage().is_empty(), "nothing runs any more");
}

/// A worker that dies leaves its containers running under their shims; the next runtime on
/// the same state directory adopts them: it can stop them and gets their exit.
#[tokio::test]
async fn a_new_runtime_adopts_running_containers_and_reports_ended_ones() {
    let dir = tempfile::tempdir().unwrap();
    let first = runtime(dir.path());
    let mut running = spec(dir.path(), "keep", &["sleep", "300"]);
    running.pod_uid = "uid-a".into();
    let keep = first.launch(&running).await.expect("launch");
    let mut quick = spec(dir.path(), "quick", &["sh", "-c", "exit 4"]);
    quick.pod_uid = "uid-b".into();
    let q = first.launch(&quick).await.expect("launch");
    // The "worker" goes away without stopping anything.
    drop(first);
    drop(keep.exit);
    drop(q.exit);
    // The quick one ends while nobody watches.
    let deadline = Instant::now() + SOON;
    while !dir.path().join("containers/uid-b/quick/exit.json").exists() {
        assert!(
            Instant::now() < deadline,
            "the shim never recorded the exit"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !process_is_dead(keep.pid),
        "the container outlived its worker"
    );

    let second = runtime(dir.path());
    let mut found = second.recover();
    found.sort_by(|a, b| a.container.cmp(&b.container));
    assert_eq!(found.len(), 2, "{found:?}");
    let quick_found = found.pop().expect("quick");
    assert_eq!(quick_found.container, "quick");
    match quick_found.state {
        RecoveredState::Exited(e) => assert_eq!(e.exit_code, 4),
        other => panic!("quick should have ended: {other:?}"),
    }
    let keep_found = found.pop().expect("keep");
    assert_eq!(
        (keep_found.pod_uid.as_str(), keep_found.pid),
        ("uid-a", keep.pid)
    );
    let RecoveredState::Running(mut exit) = keep_found.state else {
        panic!("keep should still run");
    };
    assert!(
        second.stats(keep.pid).is_some(),
        "an adopted container is measured"
    );
    let e = stop_gracefully(&second, keep.pid, &mut exit, Duration::from_secs(5))
        .await
        .expect("the adopted container's exit arrives");
    assert_eq!(e.signal, Some(15), "{e:?}");
    assert!(process_is_dead(keep.pid));
    second.forget_pod("uid-a");
    second.forget_pod("uid-b");
    assert!(!dir.path().join("containers/uid-a").exists());
    assert!(second.recover().is_empty(), "nothing left to recover");
}

/// A container whose shim died (nothing would reap it or record its exit) is killed on
/// recovery, never left running unsupervised.
#[tokio::test]
async fn a_container_without_its_shim_is_killed_on_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let first = runtime(dir.path());
    let s = spec(dir.path(), "orphan", &["sleep", "300"]);
    let launched = first.launch(&s).await.expect("launch");
    drop(first);
    let started: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("containers/uid-1/orphan/started.json")).unwrap(),
    )
    .unwrap();
    let shim_pid = started["shim_pid"].as_i64().expect("shim pid") as i32;
    // SIGKILL the shim (kill(1) keeps this test free of unsafe code).
    let status = std::process::Command::new("kill")
        .args(["-9", &shim_pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + SOON;
    while !process_is_dead(shim_pid as u32) {
        assert!(Instant::now() < deadline, "shim did not die");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = runtime(dir.path());
    let found = second.recover();
    assert_eq!(found.len(), 1);
    assert!(
        matches!(&found[0].state, RecoveredState::Exited(e) if e.signal == Some(9)),
        "{:?}",
        found[0]
    );
    let deadline = Instant::now() + SOON;
    while !process_is_dead(launched.pid) {
        assert!(
            Instant::now() < deadline,
            "the unsupervised container still runs"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
