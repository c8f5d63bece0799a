//! The Kubernetes REST API over real HTTPS on 127.0.0.1, against a real master process.

use crate::support::{tempdir, Master};
use capstan_node::client::Client;
use serde_json::{json, Value};
use std::sync::mpsc;
use std::time::Duration;

const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "web"}},
           "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}})
}

fn create(c: &Client, name: &str) -> Value {
    let r = c
        .send_json("POST", PODS, "application/json", &pod(name))
        .expect("request");
    assert_eq!(
        r.status,
        201,
        "create {name}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json().expect("json")
}

fn rv(o: &Value) -> u64 {
    o["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("resourceVersion")
}

fn list_rv(c: &Client) -> u64 {
    let l = c.get(PODS).expect("list").json().expect("json");
    l["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("list resourceVersion")
}

#[test]
fn crud_round_trips_over_https() {
    let dir = tempdir();
    let m = Master::start(dir.path());
    let c = &m.client;

    let created = create(c, "web-1");
    assert_eq!(created["metadata"]["namespace"], "default");
    assert_eq!(created["spec"]["restartPolicy"], "Always", "defaulted");
    assert!(created["metadata"]["uid"]
        .as_str()
        .is_some_and(|u| u.len() == 36));
    assert!(created["metadata"]["creationTimestamp"].is_string());
    assert_eq!(created["metadata"]["generation"], 1);

    let got = c
        .get(&format!("{PODS}/web-1"))
        .expect("get")
        .json()
        .expect("json");
    assert_eq!(got, created, "GET returns what POST stored");

    create(c, "other");
    let mut o = pod("db");
    o["metadata"]["labels"] = json!({"app": "db"});
    assert_eq!(
        c.send_json("POST", PODS, "application/json", &o)
            .expect("post")
            .status,
        201
    );
    let by_label = c
        .get(&format!("{PODS}?labelSelector=app%3Ddb"))
        .expect("list")
        .json()
        .expect("json");
    assert_eq!(by_label["kind"], "PodList");
    assert_eq!(by_label["items"].as_array().map(Vec::len), Some(1));
    let by_name = c
        .get(&format!("{PODS}?fieldSelector=metadata.name%3Dweb-1"))
        .expect("list")
        .json()
        .expect("json");
    assert_eq!(by_name["items"][0]["metadata"]["name"], "web-1");
    let unscheduled = c
        .get("/api/v1/pods?fieldSelector=spec.nodeName%3D")
        .expect("list")
        .json()
        .expect("json");
    assert_eq!(
        unscheduled["items"].as_array().map(Vec::len),
        Some(3),
        "all pods are unscheduled"
    );
    let bad_field = c
        .get(&format!("{PODS}?fieldSelector=spec.colour%3Dred"))
        .expect("list");
    assert_eq!(bad_field.status, 400);

    // Merge patch of labels: no generation bump.
    let p = c
        .send_json(
            "PATCH",
            &format!("{PODS}/web-1"),
            "application/merge-patch+json",
            &json!({"metadata": {"labels": {"tier": "fe"}}}),
        )
        .expect("patch");
    assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
    let patched = p.json().expect("json");
    assert_eq!(
        patched["metadata"]["labels"],
        json!({"app": "web", "tier": "fe"})
    );
    assert_eq!(patched["metadata"]["generation"], 1);
    assert!(rv(&patched) > rv(&created));

    // Strategic merge patch of a container image by name: spec change bumps generation.
    let smp = json!({"spec": {"containers": [{"name": "c", "image": "busybox:1.37"}]}});
    let p = c
        .send_json(
            "PATCH",
            &format!("{PODS}/web-1"),
            "application/strategic-merge-patch+json",
            &smp,
        )
        .expect("patch");
    assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
    let patched2 = p.json().expect("json");
    assert_eq!(patched2["spec"]["containers"][0]["image"], "busybox:1.37");
    assert_eq!(
        patched2["spec"]["containers"][0]["command"],
        json!(["sleep", "3600"]),
        "merged by name, not replaced"
    );
    assert_eq!(patched2["metadata"]["generation"], 2);

    // A resourceVersion in a patch is a precondition.
    let stale_patch =
        json!({"metadata": {"resourceVersion": rv(&created).to_string(), "labels": {"x": "1"}}});
    let r = c
        .send_json(
            "PATCH",
            &format!("{PODS}/web-1"),
            "application/merge-patch+json",
            &stale_patch,
        )
        .expect("patch");
    assert_eq!(r.status, 409, "{}", String::from_utf8_lossy(&r.body));

    // JSON patch.
    let jp = json!([{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}]);
    let p = c
        .send_json(
            "PATCH",
            &format!("{PODS}/web-1"),
            "application/json-patch+json",
            &jp,
        )
        .expect("patch");
    assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));

    // PUT with a stale resourceVersion: 409, nothing written.
    let mut stale = created.clone();
    stale["metadata"]["labels"] = json!({"app": "stale"});
    let r = c
        .send_json("PUT", &format!("{PODS}/web-1"), "application/json", &stale)
        .expect("put");
    assert_eq!(r.status, 409);
    assert_eq!(r.json().expect("status")["reason"], "Conflict");

    // Status subresource: status changes, spec does not.
    let mut st = c
        .get(&format!("{PODS}/web-1"))
        .expect("get")
        .json()
        .expect("json");
    st["status"] = json!({"phase": "Running", "podIP": "10.0.0.7"});
    st["spec"]["containers"][0]["image"] = json!("ignored:1");
    let r = c
        .send_json(
            "PUT",
            &format!("{PODS}/web-1/status"),
            "application/json",
            &st,
        )
        .expect("put status");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let after = r.json().expect("json");
    assert_eq!(after["status"]["phase"], "Running");
    assert_eq!(
        after["spec"]["containers"][0]["image"], "busybox:1.37",
        "status writes keep the spec"
    );
    // And a main-resource write keeps the status.
    let mut main = after.clone();
    main["status"] = json!({"phase": "Failed"});
    main["metadata"]["labels"]["x"] = json!("y");
    let r = c
        .send_json("PUT", &format!("{PODS}/web-1"), "application/json", &main)
        .expect("put");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json().expect("json")["status"]["phase"], "Running");

    // Table output, as kubectl asks for it.
    let t = c
        .request(
            "GET",
            PODS,
            None,
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        )
        .expect("table")
        .json()
        .expect("json");
    assert_eq!(t["kind"], "Table");
    let headers: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .expect("cols")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        &headers[..5],
        ["Name", "Ready", "Status", "Restarts", "Age"]
    );
    assert_eq!(t["rows"].as_array().map(Vec::len), Some(3));

    // Delete.
    let r = c
        .send_json(
            "DELETE",
            &format!("{PODS}/web-1"),
            "application/json",
            &json!({"propagationPolicy": "Background"}),
        )
        .expect("delete");
    assert_eq!(r.status, 200);
    let r = c.get(&format!("{PODS}/web-1")).expect("get");
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json().expect("status")["message"],
        "pods \"web-1\" not found"
    );
}

#[test]
fn watch_replays_then_streams_live() {
    let dir = tempdir();
    let m = Master::start(dir.path());
    let c = m.client.clone();
    let a = create(&c, "a");
    create(&c, "b");
    let r = c
        .send_json(
            "DELETE",
            &format!("{PODS}/a"),
            "application/json",
            &json!({}),
        )
        .expect("delete");
    assert_eq!(r.status, 200);

    let (tx, rx) = mpsc::channel();
    let path = format!("{PODS}?watch=true&resourceVersion={}", rv(&a));
    let wc = c.clone();
    std::thread::spawn(move || {
        let _ = wc.watch(&path, "application/json", |ev| tx.send(ev).is_ok());
    });
    let next = || {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("watch event within 30s")
    };
    let e = next();
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("b"))
    );
    let e = next();
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("DELETED"), Some("a"))
    );
    create(&c, "c");
    let e = next();
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("c"))
    );
    let p = c
        .send_json(
            "PATCH",
            &format!("{PODS}/c"),
            "application/merge-patch+json",
            &json!({"metadata": {"labels": {"x": "1"}}}),
        )
        .expect("patch");
    assert_eq!(p.status, 200);
    let e = next();
    assert_eq!(
        (
            e["type"].as_str(),
            e["object"]["metadata"]["labels"]["x"].as_str()
        ),
        (Some("MODIFIED"), Some("1"))
    );

    // Without a resourceVersion, the current state comes first as ADDED events.
    let (tx2, rx2) = mpsc::channel();
    let wc = c.clone();
    std::thread::spawn(move || {
        let _ = wc.watch(
            &format!("{PODS}?watch=true&labelSelector=app%3Dweb"),
            "application/json",
            |ev| tx2.send(ev).is_ok(),
        );
    });
    let mut names = Vec::new();
    for _ in 0..2 {
        let e = rx2
            .recv_timeout(Duration::from_secs(30))
            .expect("initial event");
        assert_eq!(e["type"], "ADDED");
        names.push(
            e["object"]["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    names.sort();
    assert_eq!(names, ["b", "c"]);
}

#[test]
fn watch_from_compacted_revision_is_gone() {
    let dir = tempdir();
    let m = Master::start(dir.path());
    let c = &m.client;
    let first = create(c, "p-0");
    for i in 1..130 {
        create(c, &format!("p-{i}"));
    }
    let mut events = Vec::new();
    c.watch(
        &format!("{PODS}?watch=true&resourceVersion={}", rv(&first)),
        "application/json",
        |ev| {
            events.push(ev);
            false
        },
    )
    .expect("watch answers");
    assert_eq!(events[0]["type"], "ERROR");
    assert_eq!(events[0]["object"]["code"], 410);
    assert_eq!(events[0]["object"]["reason"], "Expired");
}

#[test]
fn no_token_or_wrong_token_is_401_and_changes_nothing() {
    let dir = tempdir();
    let m = Master::start(dir.path());
    let mut resolved = capstan_node::kubeconfig::load(&m.kubeconfig).expect("kubeconfig");
    resolved.token = None;
    let anon = Client::new(&resolved).expect("client");
    resolved.token = Some("0".repeat(64));
    let wrong = Client::new(&resolved).expect("client");
    let before = list_rv(&m.client);
    for c in [&anon, &wrong] {
        let r = c
            .send_json("POST", PODS, "application/json", &pod("sneaky"))
            .expect("request");
        assert_eq!(r.status, 401);
        assert_eq!(r.json().expect("status")["reason"], "Unauthorized");
        assert_eq!(c.get(PODS).expect("list").status, 401);
    }
    assert_eq!(
        anon.get("/healthz").expect("healthz").status,
        200,
        "health needs no token"
    );
    assert_eq!(
        anon.get("/version").expect("version").json().expect("json")["minor"],
        "32"
    );
    assert_eq!(list_rv(&m.client), before, "nothing was written");
    assert_eq!(
        m.client.get(&format!("{PODS}/sneaky")).expect("get").status,
        404
    );
}

#[test]
fn bad_input_gets_kubernetes_errors_and_writes_nothing() {
    let dir = tempdir();
    let m = Master::start(dir.path());
    let c = &m.client;
    create(c, "exists");
    let before = list_rv(c);

    let r = c
        .request(
            "POST",
            PODS,
            Some(("application/json", b"{\"metadata\": {\"name\": }".to_vec())),
            "application/json",
        )
        .expect("req");
    assert_eq!(r.status, 400);
    assert!(
        r.json().expect("status")["message"]
            .as_str()
            .is_some_and(|m| m.contains("line 1")),
        "names the line"
    );

    let r = c
        .request(
            "POST",
            PODS,
            Some(("application/yaml", b"metadata:\n  name: [x\n".to_vec())),
            "application/json",
        )
        .expect("req");
    assert_eq!(r.status, 400);

    let invalid = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Name"}, "spec": {"containers": [{"name": "c"}]}});
    let r = c
        .send_json("POST", PODS, "application/json", &invalid)
        .expect("req");
    assert_eq!(r.status, 422);
    let s = r.json().expect("status");
    assert_eq!(s["reason"], "Invalid");
    let fields: Vec<&str> = s["details"]["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"metadata.name") && fields.contains(&"spec.containers[0].image"),
        "{fields:?}"
    );

    let mut unknown = pod("strict");
    unknown["spec"]["colour"] = json!("red");
    let r = c
        .send_json(
            "POST",
            &format!("{PODS}?fieldValidation=Strict"),
            "application/json",
            &unknown,
        )
        .expect("req");
    assert_eq!(r.status, 400);
    assert!(r.json().expect("status")["message"]
        .as_str()
        .is_some_and(|m| m.contains("unknown field \"spec.colour\"")));
    assert_eq!(list_rv(c), before, "rejected requests wrote nothing");
    let r = c
        .send_json("POST", PODS, "application/json", &unknown)
        .expect("req");
    assert_eq!(r.status, 201, "without Strict unknown fields are dropped");
    assert!(
        r.warnings.iter().any(|w| w.contains("spec.colour")),
        "{:?}",
        r.warnings
    );
    assert!(r.json().expect("json")["spec"].get("colour").is_none());
    let before = list_rv(c);

    let big = vec![b' '; 3 * 1024 * 1024 + 10];
    let r = c
        .request(
            "POST",
            PODS,
            Some(("application/json", big)),
            "application/json",
        )
        .expect("req");
    assert_eq!(r.status, 413);

    let r = c.get("/api/v1/namespaces/default/widgets").expect("req");
    assert_eq!(r.status, 404);
    assert_eq!(r.json().expect("status")["kind"], "Status");
    assert_eq!(c.get("/no/such/path").expect("req").status, 404);

    let r = c
        .send_json("POST", PODS, "application/json", &pod("exists"))
        .expect("req");
    assert_eq!(r.status, 409);
    assert_eq!(r.json().expect("status")["reason"], "AlreadyExists");

    let r = c
        .send_json(
            "POST",
            "/api/v1/namespaces/nowhere/pods",
            "application/json",
            &pod("x"),
        )
        .expect("req");
    assert_eq!(r.status, 404);

    let mut wrong_kind = pod("x");
    wrong_kind["kind"] = json!("Service");
    assert_eq!(
        c.send_json("POST", PODS, "application/json", &wrong_kind)
            .expect("req")
            .status,
        400
    );

    let r = c
        .send_json(
            "PATCH",
            &format!("{PODS}/exists"),
            "application/json-patch+json",
            &json!([{"op": "test", "path": "/metadata/name", "value": "nope"}]),
        )
        .expect("req");
    assert_eq!(r.status, 422);
    assert_eq!(list_rv(c), before, "rejected requests wrote nothing");
}

#[test]
fn garbage_never_crashes_the_master() {
    use rand::{Rng, SeedableRng};
    let dir = tempdir();
    let m = Master::start(dir.path());
    let c = &m.client;
    create(c, "target");
    let valid = serde_json::to_vec(&pod("fuzz")).expect("json");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    for _ in 0..40 {
        let n = rng.random_range(0..2048);
        bodies.push((0..n).map(|_| rng.random()).collect());
    }
    for cut in (0..valid.len()).step_by(7) {
        bodies.push(valid[..cut].to_vec());
    }
    bodies.push(format!("{}{}", "[".repeat(50_000), "]".repeat(50_000)).into_bytes());
    bodies.push(format!("a: {}", "[".repeat(50_000)).into_bytes());
    bodies.push(b"a: &x [*x, *x]\nb: *x\n".to_vec());
    bodies.push("{\"a\":".repeat(10_000).into_bytes());
    for (i, b) in bodies.into_iter().enumerate() {
        let ct = if i % 2 == 0 {
            "application/json"
        } else {
            "application/yaml"
        };
        for (method, path, ctype) in [
            ("POST", PODS.to_string(), ct),
            ("PUT", format!("{PODS}/target"), ct),
            (
                "PATCH",
                format!("{PODS}/target"),
                "application/merge-patch+json",
            ),
            (
                "PATCH",
                format!("{PODS}/target"),
                "application/strategic-merge-patch+json",
            ),
            (
                "PATCH",
                format!("{PODS}/target"),
                "application/json-patch+json",
            ),
        ] {
            let r = c
                .request(method, &path, Some((ctype, b.clone())), "application/json")
                .expect("the master answers");
            assert!(
                r.status < 500,
                "{method} {path} answered {}: {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
        }
    }
    assert_eq!(c.get("/healthz").expect("healthz").status, 200);
    assert_eq!(c.get(&format!("{PODS}/target")).expect("get").status, 200);
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let dir = tempdir();
    let mut m = Master::start(dir.path());
    create(&m.client, "x");
    let status = m.terminate().expect("exited");
    assert!(status.success(), "exit status {status:?}");
}
