//! A worker killed with SIGKILL and started again on the same data_dir: its containers kept
//! running under their shims; the new worker adopts the ones still wanted (same process, no
//! second copy), stops the ones deleted meanwhile, and starts the ones bound while it was away.
//! Also: a container over its memory limit is reported as OOMKilled (with cgroups).

use crate::support::{eventually, free_ports, processes, tempdir, Master, Proc};
use capstan_node::client::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const PODS: &str = "/api/v1/namespaces/default/pods";

fn config(dir: &Path) -> std::path::PathBuf {
    let (api, quic) = free_ports();
    let text = format!(
        "[master]\ndata_dir = {:?}\napi_listen = \"127.0.0.1:{api}\"\nnode_listen = \"127.0.0.1:{quic}\"\n\n\
         [[worker]]\nname = \"w1\"\nmaster = \"127.0.0.1:{quic}\"\ntoken_file = {:?}\ndata_dir = {:?}\n\
         crash_backoff_initial_ms = 200\ncrash_backoff_max_ms = 1600\n",
        dir.join("master"),
        dir.join("master/node-token"),
        dir.join("w1")
    );
    let path = dir.join("cluster.toml");
    std::fs::write(&path, text).expect("config");
    path
}

fn worker(dir: &Path, config: &Path) -> Proc {
    Proc::spawn(
        &[
            "worker",
            "--config",
            config.to_str().expect("utf8"),
            "--name",
            "w1",
        ],
        "info",
        dir,
    )
}

fn wait_ready(c: &Client) {
    eventually(Duration::from_secs(60), "w1 Ready", || {
        let n = c.get("/api/v1/nodes/w1").ok()?.json().ok()?;
        (capstan_core::node_status::ready_status(&n) == Some("True")).then_some(())
    });
}

fn create(c: &Client, pod: Value) {
    let r = c
        .send_json("POST", PODS, "application/json", &pod)
        .expect("post");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}

fn sleeper(name: &str, seconds: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"nodeName": "w1", "terminationGracePeriodSeconds": 2,
                    "containers": [{"name": "main", "image": "busybox", "command": ["sleep", seconds]}]}})
}

fn delete(c: &Client, name: &str) -> capstan_node::client::Response {
    c.request(
        "DELETE",
        &format!("{PODS}/{name}"),
        None,
        "application/json",
    )
    .expect("delete")
}

fn get(c: &Client, name: &str) -> Option<Value> {
    let r = c.get(&format!("{PODS}/{name}")).ok()?;
    (r.status == 200).then(|| r.json().ok()).flatten()
}

/// The pid in a running container's containerID (`capstan://<uid>-<container>-<pid>`).
fn running_pid(p: &Value) -> Option<u32> {
    let s = &p["status"]["containerStatuses"][0];
    s["state"]["running"].as_object()?;
    s["containerID"].as_str()?.rsplit('-').next()?.parse().ok()
}

/// Kills leftovers by command line if the test fails half-way (after a SIGKILLed worker,
/// nothing else would).
struct KillOnDrop(Vec<Vec<&'static str>>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for argv in &self.0 {
            for pid in processes(argv) {
                let _ = std::process::Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status();
            }
        }
    }
}

#[test]
fn a_restarted_worker_adopts_wanted_containers_and_stops_the_rest() {
    let dir = tempdir();
    let config = config(dir.path());
    let master = Master::start_with_config(&dir.path().join("master"), &config);
    let c = &master.client;
    let _cleanup = KillOnDrop(vec![
        vec!["sleep", "3601"],
        vec!["sleep", "3602"],
        vec!["sleep", "3603"],
    ]);
    let mut w = worker(dir.path(), &config);
    wait_ready(c);
    create(c, sleeper("keep", "3601"));
    create(c, sleeper("gone", "3602"));
    let keep_pid = eventually(Duration::from_secs(60), "keep Running", || {
        running_pid(&get(c, "keep")?)
    });
    let gone_pid = eventually(Duration::from_secs(60), "gone Running", || {
        running_pid(&get(c, "gone")?)
    });
    assert_eq!(processes(&["sleep", "3601"]), [keep_pid]);

    w.kill9();
    // The containers outlive their worker (their shims hold them).
    assert_eq!(processes(&["sleep", "3601"]), [keep_pid]);
    assert_eq!(processes(&["sleep", "3602"]), [gone_pid]);
    // Meanwhile: one pod is deleted, one is bound to the node.
    let r = delete(c, "gone");
    assert!(r.status == 200 || r.status == 202, "delete: {}", r.status);
    create(c, sleeper("new", "3603"));

    let _w = worker(dir.path(), &config);
    wait_ready(c);
    let new_pid = eventually(Duration::from_secs(60), "new Running", || {
        running_pid(&get(c, "new")?)
    });
    eventually(
        Duration::from_secs(60),
        "gone deleted and its process stopped",
        || (get(c, "gone").is_none() && processes(&["sleep", "3602"]).is_empty()).then_some(()),
    );
    // keep: the very same process, adopted, reported Running with no restart.
    let keep = eventually(Duration::from_secs(30), "keep reported again", || {
        let p = get(c, "keep")?;
        (running_pid(&p) == Some(keep_pid)).then_some(p)
    });
    assert_eq!(keep["status"]["phase"], "Running");
    assert_eq!(keep["status"]["containerStatuses"][0]["restartCount"], 0);
    // Exactly one copy of each wanted container, none of the unwanted, and it stays so.
    for _ in 0..10 {
        assert_eq!(
            processes(&["sleep", "3601"]),
            [keep_pid],
            "one copy of keep"
        );
        assert_eq!(processes(&["sleep", "3603"]), [new_pid], "one copy of new");
        assert!(processes(&["sleep", "3602"]).is_empty(), "gone stays gone");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The adopted container is supervised again: deleting its pod stops it.
    let r = delete(c, "keep");
    assert!(r.status == 200 || r.status == 202);
    eventually(Duration::from_secs(60), "keep stopped", || {
        (get(c, "keep").is_none() && processes(&["sleep", "3601"]).is_empty()).then_some(())
    });
}

#[test]
fn a_container_over_its_memory_limit_is_oom_killed() {
    let cgroups = capstan_actors::worker::runtime::Cgroups::detect(true, "probe");
    cgroups.remove_if_empty();
    if let Some(reason) = cgroups.off_reason() {
        eprintln!("skipping: memory limits need cgroups, unavailable here: {reason}");
        return;
    }
    let dir = tempdir();
    let config = config(dir.path());
    let master = Master::start_with_config(&dir.path().join("master"), &config);
    let c = &master.client;
    let _w = worker(dir.path(), &config);
    wait_ready(c);
    // `tail` keeps a line that never ends in memory: it grows until the limit stops it.
    create(
        c,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hog"},
               "spec": {"nodeName": "w1", "restartPolicy": "Never",
                        "containers": [{"name": "main", "image": "busybox", "command": ["tail", "/dev/zero"],
                                        "resources": {"limits": {"memory": "32Mi", "cpu": "500m"}}}]}}),
    );
    let p = eventually(Duration::from_secs(60), "hog Failed", || {
        let p = get(c, "hog")?;
        (p["status"]["phase"] == "Failed").then_some(p)
    });
    let t = &p["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(t["reason"], "OOMKilled", "{p:#}");
    assert_eq!(t["exitCode"], 137, "{p:#}");
}
