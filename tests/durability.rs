//! Nothing acknowledged is lost: writes acknowledged by the master survive `kill -9`.

use crate::support::{tempdir, Master};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempdir();
    let mut m = Master::start(dir.path());
    let ca_before = std::fs::read(dir.path().join("pki/ca.crt")).expect("CA written");
    let acked: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let c = m.client.clone();
        let acked = acked.clone();
        let stop = stop.clone();
        writers.push(std::thread::spawn(move || {
            for i in 0.. {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let name = format!("cm-{w}-{i}");
                let body = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
                match c.send_json(
                    "POST",
                    "/api/v1/namespaces/default/pods",
                    "application/json",
                    &body,
                ) {
                    Ok(r) if r.status == 201 => acked.lock().expect("lock").push(name),
                    // The master died mid-request: this write was never acknowledged.
                    _ => break,
                }
            }
        }));
    }
    // Let writes flow, then kill the master while they are in flight.
    while acked.lock().expect("lock").len() < 150 {
        std::thread::sleep(Duration::from_millis(20));
    }
    m.kill9();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in writers {
        w.join().expect("writer thread");
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= 150);

    let m2 = Master::start(dir.path());
    let list = m2
        .client
        .get("/api/v1/namespaces/default/pods")
        .expect("list")
        .json()
        .expect("json");
    let stored: std::collections::HashSet<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|n| !stored.contains(*n)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes lost after kill -9: {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(10)]
    );
    let ca_after = std::fs::read(dir.path().join("pki/ca.crt")).expect("CA kept");
    assert_eq!(ca_before, ca_after, "the cluster CA is reused on restart");
    // Revisions keep growing after a restart.
    let r = m2
        .client
        .send_json("POST", "/api/v1/namespaces/default/pods", "application/json",
            &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "after"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}))
        .expect("post");
    assert_eq!(r.status, 201);
    let new_rv: u64 = r.json().expect("json")["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("rv");
    let list_rv: u64 = list["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("rv");
    assert!(
        new_rv > list_rv,
        "revision {new_rv} continues after {list_rv}"
    );
}
