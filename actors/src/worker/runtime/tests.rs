//! Runtime tests. The `process` ones run real processes (`sh`, `sleep`, `true`) on this host;
//! the rest cover the pure parts (line splitting, log parsing, /proc parsing).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::cri_log::{rotated_path, LineSplitter, MAX_LINE};
use super::proc_stats::parse_stat;
use super::*;

/// Upper bound for anything that should happen "soon"; generous for loaded CI machines.
const SOON: Duration = Duration::from_secs(20);

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
        Ok(line) => parse_stat(&line).is_none_or(|s| matches!(s.state, b'Z' | b'X')),
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
    let rt = ProcessRuntime::new();
    let spec = spec(
        dir.path(),
        "c",
        &["sh", "-c", "echo hello; echo oops >&2; exit 3"],
    );
    let mut launched = rt.launch(&spec).expect("launch");
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
    let rt = ProcessRuntime::new();
    let mut launched = rt
        .launch(&spec(dir.path(), "s", &["sleep", "30"]))
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
    let rt = ProcessRuntime::new();
    // The ignored TERM is inherited by the background sleep: the whole group ignores it.
    let spec = spec(
        dir.path(),
        "t",
        &["sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait"],
    );
    let mut launched = rt.launch(&spec).expect("launch");
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
    let rt = ProcessRuntime::new();
    let spec = spec(dir.path(), "l", &["sh", "-c", "sleep 30 & echo $!"]);
    let mut launched = rt.launch(&spec).expect("launch");
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
    let rt = ProcessRuntime::new();
    let err = rt
        .launch(&spec(dir.path(), "m", &["/no/such/binary-capstan"]))
        .expect_err("launching a missing binary fails");
    assert!(matches!(err, RuntimeError::Spawn { .. }), "{err:?}");
    assert!(
        err.to_string().contains("/no/such/binary-capstan"),
        "names the command: {err}"
    );
    assert!(!err.is_retryable());

    let err = rt
        .launch(&spec(dir.path(), "e", &[]))
        .expect_err("no command");
    assert!(matches!(err, RuntimeError::NoCommand { .. }), "{err:?}");

    let mut bad_env = spec(dir.path(), "b", &["true"]);
    bad_env.env.push(("A=B".into(), "x".into()));
    let err = rt.launch(&bad_env).expect_err("bad env name");
    assert!(matches!(err, RuntimeError::InvalidSpec { .. }), "{err:?}");

    let mut bad_dir = spec(dir.path(), "d", &["true"]);
    bad_dir.working_dir = Some(dir.path().join("missing"));
    let err = rt.launch(&bad_dir).expect_err("missing working dir");
    assert!(matches!(err, RuntimeError::WorkingDir { .. }), "{err:?}");
}

#[tokio::test]
async fn env_and_working_dir_reach_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let rt = ProcessRuntime::new();
    let mut spec = spec(dir.path(), "env", &["sh", "-c"]);
    spec.args = vec!["echo $FOO; pwd; echo $PATH; echo $HOME; echo ${OUTER-unset}".into()];
    spec.env = vec![
        ("FOO".into(), "first".into()),
        ("FOO".into(), "bar baz".into()),
    ];
    spec.working_dir = Some(work.clone());
    // Nothing of the worker's own environment leaks in.
    assert!(std::env::var_os("PATH").is_some());
    let mut launched = rt.launch(&spec).expect("launch");
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
            process::DEFAULT_PATH,
            "/root",
            "unset"
        ],
        "log {log:?}"
    );
}

#[tokio::test]
async fn log_rotates_into_one_previous_file() {
    let dir = tempfile::tempdir().unwrap();
    let rt = ProcessRuntime::new();
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
    let mut launched = rt.launch(&spec).expect("launch");
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
    let rt = ProcessRuntime::new();
    let first = spec(dir.path(), "p", &["sh", "-c", "echo first"]);
    let mut launched = rt.launch(&first).expect("launch");
    wait_exit(&mut launched.exit).await;
    let second = spec(dir.path(), "p", &["sh", "-c", "echo second"]);
    let mut launched = rt.launch(&second).expect("relaunch");
    wait_exit(&mut launched.exit).await;
    assert_eq!(read_all(&second.log_path), "second\n");
    let previous = read_log(&second.log_path, None, true, false, usize::MAX).unwrap();
    assert_eq!(previous, b"first\n");
}

#[tokio::test]
async fn tail_lines_and_max_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let rt = ProcessRuntime::new();
    let spec = spec(
        dir.path(),
        "tail",
        &["sh", "-c", "for i in 1 2 3 4 5; do echo n$i; done"],
    );
    let mut launched = rt.launch(&spec).expect("launch");
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
    let rt = ProcessRuntime::new();
    let spec = spec(
        dir.path(),
        "long",
        &[
            "sh",
            "-c",
            "head -c 40000 /dev/zero | tr '\\0' a; echo; echo short",
        ],
    );
    let mut launched = rt.launch(&spec).expect("launch");
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
    let rt = ProcessRuntime::new();
    assert_eq!(rt.name(), "process");
    let mut launched = rt
        .launch(&spec(dir.path(), "st", &["sleep", "30"]))
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
    let rt = ProcessRuntime::new();
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

#[test]
fn splitter_cuts_long_lines_into_pieces() {
    let mut s = LineSplitter::default();
    assert_eq!(s.push(b"ab"), []);
    assert_eq!(
        s.push(b"c\nd\n\ne"),
        [
            (false, b"abc".to_vec()),
            (false, b"d".to_vec()),
            (false, Vec::new())
        ]
    );
    assert_eq!(s.finish(), Some((false, b"e".to_vec())));
    assert_eq!(s.finish(), None);

    let mut exact = vec![b'x'; MAX_LINE];
    exact.push(b'\n');
    assert_eq!(
        s.push(&exact),
        [(false, vec![b'x'; MAX_LINE])],
        "exactly 16 KiB is one line"
    );

    let long = vec![b'y'; MAX_LINE * 2 + 5];
    let pieces = s.push(&long);
    assert_eq!(
        pieces,
        [(true, vec![b'y'; MAX_LINE]), (true, vec![b'y'; MAX_LINE])]
    );
    assert_eq!(s.push(b"\n"), [(false, vec![b'y'; 5])]);
}

#[test]
fn read_log_joins_partials_per_stream_and_passes_junk_through() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.log");
    let raw = "2026-01-01T00:00:00.000000001Z stdout P hel\n\
               2026-01-01T00:00:00.000000002Z stderr F err\n\
               2026-01-01T00:00:00.000000003Z stdout F lo world\n\
               not a cri line\n\
               2026-01-01T00:00:00.000000004Z stdout F \n\
               2026-01-01T00:00:00.000000005Z stderr P cut";
    std::fs::write(&path, raw).unwrap();
    let plain = read_log(&path, None, false, false, usize::MAX).unwrap();
    assert_eq!(
        String::from_utf8(plain).unwrap(),
        "err\nhello world\nnot a cri line\n\ncut\n"
    );
    let stamped = read_log(&path, Some(2), false, true, usize::MAX).unwrap();
    assert_eq!(
        String::from_utf8(stamped).unwrap(),
        "2026-01-01T00:00:00.000000004Z \n2026-01-01T00:00:00.000000005Z cut\n"
    );
    std::fs::write(&path, b"\xff\xfe binary\n").unwrap();
    assert_eq!(
        read_log(&path, None, false, false, 100).unwrap(),
        b"\xff\xfe binary\n"
    );
}

#[test]
fn proc_stat_parsing_survives_odd_names() {
    let line = "4242 (we ird) name)) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 \
                5000 1000000 250 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
    let stat = parse_stat(line).expect("parses");
    assert_eq!(stat.state, b'S');
    assert_eq!(stat.pgrp, 4242);
    assert_eq!(stat.cpu_ticks, 7 + 3 + 2 + 1);
    assert_eq!(stat.rss_pages, 250);
    assert_eq!(parse_stat("garbage"), None);
    assert_eq!(parse_stat("1 (x) S 1"), None);
    assert_eq!(parse_stat(""), None);
}

#[test]
fn exit_statuses_decode_like_kubelet() {
    use std::os::unix::process::ExitStatusExt;
    let at = capstan_core::time::Timestamp(5);
    let code = process::exit_from_status(std::process::ExitStatus::from_raw(3 << 8), at);
    assert_eq!((code.exit_code, code.signal), (3, None));
    let killed = process::exit_from_status(std::process::ExitStatus::from_raw(9), at);
    assert_eq!((killed.exit_code, killed.signal), (137, Some(9)));
    assert!(!killed.oom_killed);
}
