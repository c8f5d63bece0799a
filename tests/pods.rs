//! Pods running for real on a worker: processes, status as Kubernetes reports it, restart
//! policies with CrashLoopBackOff, deletion without leftovers.

use crate::support::{eventually, free_ports, tempdir, Master, Proc};
use capstan_node::client::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const PODS: &str = "/api/v1/namespaces/default/pods";

/// A master and one worker "w1" with fast CrashLoopBackOff timing.
fn cluster(dir: &Path) -> (Master, Proc) {
    let (api, quic) = free_ports();
    let text = format!(
        "[master]\ndata_dir = {:?}\napi_listen = \"127.0.0.1:{api}\"\nnode_listen = \"127.0.0.1:{quic}\"\n\n\
         [[worker]]\nname = \"w1\"\nmaster = \"127.0.0.1:{quic}\"\ntoken_file = {:?}\ndata_dir = {:?}\n\
         crash_backoff_initial_ms = 200\ncrash_backoff_max_ms = 1600\ncrash_backoff_reset_ms = 60000\n",
        dir.join("master"),
        dir.join("master/node-token"),
        dir.join("w1")
    );
    let config = dir.join("cluster.toml");
    std::fs::write(&config, text).expect("config");
    let master = Master::start_with_config(&dir.join("master"), &config);
    let worker = Proc::spawn(
        &[
            "worker",
            "--config",
            config.to_str().expect("utf8"),
            "--name",
            "w1",
        ],
        "info",
        dir,
    );
    let c = master.client.clone();
    eventually(Duration::from_secs(60), "w1 Ready", || {
        let n = c.get("/api/v1/nodes/w1").ok()?.json().ok()?;
        (capstan_core::node_status::ready_status(&n) == Some("True")).then_some(())
    });
    (master, worker)
}

fn create(c: &Client, name: &str, command: &[&str], restart: &str) -> Value {
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                     "spec": {"nodeName": "w1", "restartPolicy": restart, "terminationGracePeriodSeconds": 2,
                              "containers": [{"name": "main", "image": "busybox", "command": command,
                                              "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}]}});
    let r = c
        .send_json("POST", PODS, "application/json", &pod)
        .expect("post");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json().expect("json")
}

fn get(c: &Client, name: &str) -> Value {
    c.get(&format!("{PODS}/{name}"))
        .expect("get")
        .json()
        .expect("json")
}

/// The events about pod `name`, as `kubectl describe pod` finds them.
fn events_of(c: &Client, name: &str) -> Vec<Value> {
    let list: Value = c
        .get(&format!(
            "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D{name}"
        ))
        .expect("list events")
        .json()
        .expect("json");
    list["items"].as_array().cloned().unwrap_or_default()
}

/// The event about `pod` with this reason, once its count reaches `count`.
fn wait_event(c: &Client, pod: &str, reason: &str, count: i64) -> Value {
    eventually(
        Duration::from_secs(60),
        &format!("{reason} event x{count} for {pod}"),
        || {
            events_of(c, pod)
                .into_iter()
                .find(|e| e["reason"] == reason && e["count"].as_i64() >= Some(count))
        },
    )
}

fn phase(p: &Value) -> &str {
    p["status"]["phase"].as_str().unwrap_or_default()
}

fn pid_of(p: &Value) -> Option<u32> {
    // containerID is capstan://<uid>-<container>-<pid>
    p["status"]["containerStatuses"][0]["containerID"]
        .as_str()?
        .rsplit('-')
        .next()?
        .parse()
        .ok()
}

#[test]
fn a_pod_runs_and_reports_like_kubernetes() {
    let dir = tempdir();
    let (m, mut w) = cluster(dir.path());
    let c = &m.client;
    create(
        c,
        "hello",
        &["sh", "-c", "echo hello from $POD_NAME; sleep 3600"],
        "Always",
    );
    let p = eventually(Duration::from_secs(60), "hello Running and Ready", || {
        let p = get(c, "hello");
        (phase(&p) == "Running" && p["status"]["containerStatuses"][0]["ready"] == true)
            .then_some(p)
    });
    let s = &p["status"];
    assert_eq!(s["podIP"], s["hostIP"], "pods share the host network");
    assert!(s["podIP"].as_str().is_some_and(|ip| !ip.is_empty()));
    assert!(s["startTime"].is_string());
    assert!(s["containerStatuses"][0]["state"]["running"]["startedAt"].is_string());
    assert_eq!(s["containerStatuses"][0]["restartCount"], 0);
    let ready = s["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .find(|c| c["type"] == "Ready")
        .cloned()
        .expect("Ready condition");
    assert_eq!(ready["status"], "True");
    // The process writes to its log under the worker's data_dir.
    let log = eventually(Duration::from_secs(30), "log line", || {
        let dir = std::fs::read_dir(dir.path().join("w1/pods"))
            .ok()?
            .flatten()
            .find(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("default_hello_")
            })?;
        let text = std::fs::read_to_string(dir.path().join("main.log")).ok()?;
        text.contains("hello from hello").then_some(text)
    });
    assert!(
        log.contains(" stdout F hello from hello"),
        "CRI log format: {log}"
    );

    // The same log through the API (the master asks the worker), `capstan logs` and kubectl.
    let r = c
        .request(
            "GET",
            &format!("{PODS}/hello/log?tailLines=5"),
            None,
            "text/plain",
        )
        .expect("log");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(String::from_utf8_lossy(&r.body), "hello from hello\n");
    let r = c
        .request(
            "GET",
            &format!("{PODS}/hello/log?container=nope"),
            None,
            "text/plain",
        )
        .expect("log");
    assert_eq!(r.status, 400);
    let out = std::process::Command::new(crate::support::capstan_bin())
        .args([
            "--kubeconfig",
            m.kubeconfig.to_str().expect("utf8"),
            "logs",
            "hello",
            "--timestamps",
        ])
        .output()
        .expect("capstan logs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && text.trim_end().ends_with("hello from hello")
            && text.starts_with("20"),
        "capstan logs: {text}"
    );
    if Path::new("/usr/bin/kubectl").exists() {
        let home = tempdir();
        let out = std::process::Command::new("/usr/bin/kubectl")
            .args(["logs", "hello"])
            .env("KUBECONFIG", &m.kubeconfig)
            .env("HOME", home.path())
            .output()
            .expect("kubectl logs");
        assert!(
            out.status.success(),
            "kubectl logs: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from hello\n");
    }

    // Deleting the pod stops its process group: nothing is left behind.
    let pid = pid_of(&p).expect("pid in containerID");
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    let r = c
        .send_json(
            "DELETE",
            &format!("{PODS}/hello"),
            "application/json",
            &json!({}),
        )
        .expect("delete");
    assert_eq!(r.status, 200);
    // Graceful deletion: the pod is Terminating (deletionTimestamp) until its worker has stopped
    // it and confirmed; then the object is gone.
    let terminating = r.json().expect("json");
    assert!(
        terminating["metadata"]["deletionTimestamp"].is_string(),
        "{terminating}"
    );
    assert_eq!(terminating["metadata"]["deletionGracePeriodSeconds"], 2);
    eventually(Duration::from_secs(30), "process gone", || {
        (!Path::new(&format!("/proc/{pid}")).exists()).then_some(())
    });
    eventually(
        Duration::from_secs(30),
        "pod object removed after the worker confirmed",
        || (c.get(&format!("{PODS}/hello")).ok()?.status == 404).then_some(()),
    );

    // A worker stopped with SIGTERM stops its pods first: no process is left without a supervisor.
    create(c, "stays", &["sleep", "3600"], "Always");
    let p = eventually(Duration::from_secs(60), "stays Running", || {
        let p = get(c, "stays");
        (phase(&p) == "Running").then(|| pid_of(&p)).flatten()
    });
    assert!(Path::new(&format!("/proc/{p}")).exists());
    w.terminate();
    let status = w
        .wait_exit(Duration::from_secs(60))
        .expect("worker exits on SIGTERM");
    assert!(status.success(), "worker exit status {status:?}");
    assert!(
        !Path::new(&format!("/proc/{p}")).exists(),
        "the pod's process {p} was stopped with the worker"
    );
}

#[test]
fn crashing_containers_back_off_longer_each_time() {
    let dir = tempdir();
    let (m, _w) = cluster(dir.path());
    let c = &m.client;
    create(c, "crasher", &["sh", "-c", "exit 3"], "Always");
    let mut seen_backoff = false;
    let mut restarts_at: Vec<(i64, std::time::Instant)> = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while restarts_at.last().map_or(0, |r| r.0) < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "restartCount stayed below 4: {:?}",
            get(c, "crasher")["status"]
        );
        let p = get(c, "crasher");
        let cs = &p["status"]["containerStatuses"][0];
        if cs["state"]["waiting"]["reason"] == "CrashLoopBackOff" {
            seen_backoff = true;
            assert_eq!(cs["lastState"]["terminated"]["exitCode"], 3);
        }
        let n = cs["restartCount"].as_i64().unwrap_or(0);
        if restarts_at.last().map_or(0, |r| r.0) < n {
            restarts_at.push((n, std::time::Instant::now()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(seen_backoff, "CrashLoopBackOff was reported");
    assert_eq!(
        phase(&get(c, "crasher")),
        "Running",
        "restartPolicy Always keeps the pod Running"
    );
    // Delays double (200, 400, 800 ms…): the gaps between restarts grow.
    let gaps: Vec<u128> = restarts_at
        .windows(2)
        .map(|w| (w[1].1 - w[0].1).as_millis())
        .collect();
    assert!(
        gaps.len() >= 2 && gaps[gaps.len() - 1] > gaps[0],
        "gaps between restarts grow: {gaps:?}"
    );
    // The kubelet's events, one per kind of happening, counted as it repeats.
    let backoff = wait_event(c, "crasher", "BackOff", 2);
    assert_eq!(backoff["type"], "Warning");
    let uid = get(c, "crasher")["metadata"]["uid"].clone();
    assert_eq!(
        backoff["message"],
        format!(
            "Back-off restarting failed container main in pod crasher_default({})",
            uid.as_str().unwrap_or_default()
        )
    );
    assert_eq!(
        backoff["source"],
        json!({"component": "kubelet", "host": "w1"})
    );
    assert_eq!(backoff["involvedObject"]["uid"], uid);
    let started = wait_event(c, "crasher", "Started", 3);
    assert_eq!(started["message"], "Started container main");
    assert_eq!(
        wait_event(c, "crasher", "Created", 3)["message"],
        "Created container main"
    );
    assert_eq!(
        wait_event(c, "crasher", "Pulled", 1)["message"],
        "Container image \"busybox\" already present on machine"
    );
}

#[test]
fn restart_policies_end_in_succeeded_or_failed() {
    let dir = tempdir();
    let (m, _w) = cluster(dir.path());
    let c = &m.client;
    create(c, "done", &["sh", "-c", "exit 0"], "OnFailure");
    create(c, "broken", &["sh", "-c", "exit 1"], "Never");
    let mut nocmd = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nocmd"},
                           "spec": {"nodeName": "w1", "containers": [{"name": "main", "image": "nginx"}]}});
    nocmd["spec"]["restartPolicy"] = json!("Always");
    assert_eq!(
        c.send_json("POST", PODS, "application/json", &nocmd)
            .expect("post")
            .status,
        201
    );
    eventually(Duration::from_secs(60), "done Succeeded", || {
        (phase(&get(c, "done")) == "Succeeded").then_some(())
    });
    let broken = eventually(Duration::from_secs(60), "broken Failed", || {
        let p = get(c, "broken");
        (phase(&p) == "Failed").then_some(p)
    });
    let t = &broken["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(
        (t["exitCode"].as_i64(), t["reason"].as_str()),
        (Some(1), Some("Error"))
    );
    let done = get(c, "done");
    assert_eq!(
        done["status"]["containerStatuses"][0]["state"]["terminated"]["reason"],
        "Completed"
    );
    assert_eq!(done["status"]["containerStatuses"][0]["restartCount"], 0);
    let p = eventually(Duration::from_secs(60), "nocmd config error", || {
        let p = get(c, "nocmd");
        (p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
            == "CreateContainerConfigError")
            .then_some(p)
    });
    let msg = p["status"]["containerStatuses"][0]["state"]["waiting"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        msg.contains("command"),
        "the message says the process runtime needs a command: {msg}"
    );
    assert_eq!(phase(&p), "Pending");
}

fn container_ready(p: &Value) -> bool {
    p["status"]["containerStatuses"][0]["ready"] == true
}

fn pod_ready_condition(p: &Value) -> Option<String> {
    p["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
        .and_then(|c| c["status"].as_str().map(str::to_string))
}

#[test]
fn probes_drive_readiness_and_restart_unhealthy_containers() {
    let dir = tempdir();
    let (m, _w) = cluster(dir.path());
    let c = &m.client;
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).expect("www");
    std::fs::write(www.join("ready"), "ok").expect("ready file");
    std::fs::write(www.join("alive"), "ok").expect("alive file");
    let (port, _) = free_ports();
    let probe = |path: &str, threshold: i64| {
        json!({"httpGet": {"path": path, "port": port, "host": "127.0.0.1"},
               "periodSeconds": 1, "timeoutSeconds": 1, "failureThreshold": threshold})
    };
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
        "spec": {"nodeName": "w1", "terminationGracePeriodSeconds": 1, "containers": [{
            "name": "web", "image": "python:3.11",
            "command": ["python3", "-m", "http.server", port.to_string(), "--bind", "127.0.0.1"],
            "workingDir": www.to_str().expect("utf8"),
            "readinessProbe": probe("/ready", 1),
            "livenessProbe": probe("/alive", 2)}]}});
    let r = c
        .send_json("POST", PODS, "application/json", &pod)
        .expect("post");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    eventually(Duration::from_secs(60), "web ready", || {
        let p = get(c, "web");
        (container_ready(&p) && pod_ready_condition(&p).as_deref() == Some("True")).then_some(())
    });
    // Readiness toggles both ways.
    std::fs::remove_file(www.join("ready")).expect("rm ready");
    eventually(Duration::from_secs(30), "web not ready", || {
        let p = get(c, "web");
        (!container_ready(&p) && pod_ready_condition(&p).as_deref() == Some("False")).then_some(())
    });
    assert_eq!(
        phase(&get(c, "web")),
        "Running",
        "an unready container keeps running"
    );
    std::fs::write(www.join("ready"), "ok").expect("ready file");
    eventually(Duration::from_secs(30), "web ready again", || {
        container_ready(&get(c, "web")).then_some(())
    });
    // A failing liveness probe restarts the container.
    std::fs::remove_file(www.join("alive")).expect("rm alive");
    let p = eventually(
        Duration::from_secs(60),
        "web restarted by its liveness probe",
        || {
            let p = get(c, "web");
            (p["status"]["containerStatuses"][0]["restartCount"].as_i64()? >= 1).then_some(p)
        },
    );
    assert!(
        p["status"]["containerStatuses"][0]["lastState"]["terminated"].is_object(),
        "{}",
        p["status"]
    );
    // Every failed check is an Unhealthy event; the liveness failure that restarts is Killing.
    let unhealthy: Vec<String> = events_of(c, "web")
        .iter()
        .filter(|e| e["reason"] == "Unhealthy" && e["type"] == "Warning")
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect();
    assert!(
        unhealthy
            .iter()
            .any(|m| m.starts_with("Readiness probe failed: ")),
        "{unhealthy:?}"
    );
    assert!(
        unhealthy
            .iter()
            .any(|m| m.starts_with("Liveness probe failed: ")),
        "{unhealthy:?}"
    );
    assert_eq!(
        wait_event(c, "web", "Killing", 1)["message"],
        "Container web failed liveness probe, will be restarted"
    );
    // Deleting the pod stops its running container: Killing, recorded before the pod goes.
    let r = c
        .request("DELETE", &format!("{PODS}/web"), None, "application/json")
        .expect("delete");
    assert!(r.ok(), "{}", r.error_text());
    eventually(
        Duration::from_secs(60),
        "Killing: Stopping container web",
        || {
            events_of(c, "web")
                .iter()
                .any(|e| e["reason"] == "Killing" && e["message"] == "Stopping container web")
                .then_some(())
        },
    );
}
