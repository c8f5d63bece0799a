use super::*;
use capstan_core::kinds::{by_kind, ResourceKind};
use capstan_core::write_rules::Subresource;
use serde_json::{json, Value};

fn pods() -> &'static ResourceKind {
    by_kind("v1", "Pod").expect("pods are served")
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
}

fn rv(o: &Value) -> u64 {
    o["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("resourceVersion set")
}

fn open(history: u64) -> (tempfile::TempDir, StoreHandle) {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Store::start(&dir.path().join("state.redb"), history, 1024).expect("store opens");
    (dir, h)
}

async fn create(h: &StoreHandle, name: &str) -> Value {
    h.write(WriteOp::Create {
        resource: pods(),
        object: pod(name),
    })
    .await
    .expect("create")
    .object
}

#[actix::test]
async fn stale_resource_version_conflicts() {
    let (_d, h) = open(1000);
    let a = create(&h, "a").await;
    let mut newer = a.clone();
    newer["metadata"]["labels"] = json!({"x": "1"});
    let r = h
        .write(WriteOp::Update {
            resource: pods(),
            object: newer,
            subresource: Subresource::Main,
            expected_revision: Some(rv(&a)),
        })
        .await
        .expect("update at the current version");
    assert_eq!(r.outcome, Outcome::Updated);
    assert!(rv(&r.object) > rv(&a));
    let mut stale = a.clone();
    stale["metadata"]["labels"] = json!({"x": "2"});
    let err = h
        .write(WriteOp::Update {
            resource: pods(),
            object: stale,
            subresource: Subresource::Main,
            expected_revision: Some(rv(&a)),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let stored =
        h.db.get(pods(), "default", "a")
            .expect("read")
            .expect("exists");
    assert_eq!(
        stored["metadata"]["labels"]["x"], "1",
        "the rejected write changed nothing"
    );
    let dup = h
        .write(WriteOp::Create {
            resource: pods(),
            object: pod("a"),
        })
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::AlreadyExists { .. }), "{dup}");
}

#[actix::test]
async fn noop_update_keeps_resource_version() {
    let (_d, h) = open(1000);
    let a = create(&h, "a").await;
    let r = h
        .write(WriteOp::Update {
            resource: pods(),
            object: a.clone(),
            subresource: Subresource::Main,
            expected_revision: None,
        })
        .await
        .expect("update");
    assert_eq!(r.outcome, Outcome::Unchanged);
    assert_eq!(rv(&r.object), rv(&a));
}

#[actix::test]
async fn watch_replays_history_then_goes_live() {
    let (_d, h) = open(1000);
    let a = create(&h, "a").await;
    let start = rv(&a);
    create(&h, "b").await;
    h.write(WriteOp::Delete {
        resource: pods(),
        namespace: "default".into(),
        name: "a".into(),
        expected_uid: None,
        expected_revision: None,
        grace_seconds: None,
    })
    .await
    .expect("delete");
    let mut w = h.watch(start).expect("watch from an old revision");
    let e1 = w.next().await.expect("replayed create");
    assert_eq!(
        (e1.event_type, e1.object["metadata"]["name"].as_str()),
        (EventType::Added, Some("b"))
    );
    let e2 = w.next().await.expect("replayed delete");
    assert_eq!(
        (e2.event_type, e2.object["metadata"]["name"].as_str()),
        (EventType::Deleted, Some("a"))
    );
    create(&h, "c").await;
    let e3 = w.next().await.expect("live create");
    assert_eq!(
        (e3.event_type, e3.object["metadata"]["name"].as_str()),
        (EventType::Added, Some("c"))
    );
    assert!(
        e1.revision < e2.revision && e2.revision < e3.revision,
        "revision order"
    );
}

#[actix::test]
async fn compacted_history_is_gone() {
    let (_d, h) = open(10);
    let first = create(&h, "p0").await;
    for i in 1..40 {
        create(&h, &format!("p{i}")).await;
    }
    let oldest = h.db.compacted_revision().expect("meta");
    assert!(
        oldest > rv(&first),
        "history was compacted (oldest {oldest})"
    );
    match h.watch(rv(&first)) {
        Err(StoreError::Gone { .. }) => {}
        other => panic!("expected Gone, got {:?}", other.err()),
    }
    assert!(
        h.watch(h.db.revision().expect("rev") - 5).is_ok(),
        "recent history is kept"
    );
}

#[actix::test]
async fn concurrent_writes_share_commits() {
    let (_d, h) = open(10_000);
    let writes: Vec<_> = (0..300)
        .map(|i| {
            h.write(WriteOp::Create {
                resource: pods(),
                object: pod(&format!("w{i}")),
            })
        })
        .collect();
    let results = futures_util::future::join_all(writes).await;
    assert!(results.iter().all(Result::is_ok));
    let stats = h.writer.send(GetStats).await.expect("stats");
    assert_eq!(stats.writes, 300);
    assert!(
        stats.batches < 300 / 4,
        "300 concurrent writes took {} commits: they should share them",
        stats.batches
    );
    let (list, rev) = h.db.list(pods(), Some("default")).expect("list");
    assert_eq!(list.len(), 300);
    let mut revs: Vec<u64> = list.iter().map(rv).collect();
    revs.sort_unstable();
    revs.dedup();
    assert_eq!(revs.len(), 300, "every write got its own revision");
    assert_eq!(
        *revs.last().expect("non-empty"),
        rev,
        "list is consistent at the last revision"
    );
}

#[actix::test]
async fn finalizers_delay_deletion() {
    let (_d, h) = open(1000);
    let mut p = pod("f");
    p["metadata"]["finalizers"] = json!(["example.com/hold"]);
    h.write(WriteOp::Create {
        resource: pods(),
        object: p,
    })
    .await
    .expect("create");
    let r = h
        .write(WriteOp::Delete {
            resource: pods(),
            namespace: "default".into(),
            name: "f".into(),
            expected_uid: None,
            expected_revision: None,
            grace_seconds: None,
        })
        .await
        .expect("delete");
    assert_eq!(r.outcome, Outcome::MarkedForDeletion);
    assert!(r.object["metadata"]["deletionTimestamp"].is_string());
    let mut released = r.object.clone();
    released["metadata"]["finalizers"] = json!([]);
    let r = h
        .write(WriteOp::Update {
            resource: pods(),
            object: released,
            subresource: Subresource::Main,
            expected_revision: None,
        })
        .await
        .expect("remove finalizer");
    assert_eq!(r.outcome, Outcome::Deleted);
    assert!(h.db.get(pods(), "default", "f").expect("read").is_none());
}

#[actix::test]
async fn namespaces_must_exist_and_generate_names() {
    let (_d, h) = open(1000);
    let mut p = pod("x");
    p["metadata"]["namespace"] = json!("nowhere");
    let err = h
        .write(WriteOp::Create {
            resource: pods(),
            object: p,
        })
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::NamespaceNotFound("nowhere".into()));
    let mut g = pod("");
    g["metadata"]["generateName"] = json!("web-");
    let r = h
        .write(WriteOp::Create {
            resource: pods(),
            object: g,
        })
        .await
        .expect("generated");
    let name = r.object["metadata"]["name"]
        .as_str()
        .expect("name")
        .to_string();
    assert!(name.starts_with("web-") && name.len() == 9, "{name}");
}

#[test]
fn reopened_database_keeps_objects_and_revision() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.redb");
    let rev = {
        let db = Db::open(&path, 100).expect("open");
        let (res, _) = db
            .apply_batch(
                vec![WriteOp::Create {
                    resource: pods(),
                    object: pod("keep"),
                }],
                now(),
            )
            .expect("commit");
        assert!(res[0].is_ok());
        db.revision().expect("rev")
    };
    let db = Db::open(&path, 100).expect("reopen");
    assert_eq!(db.revision().expect("rev"), rev);
    assert!(db.get(pods(), "default", "keep").expect("read").is_some());
}

#[actix::test]
async fn slow_watchers_are_cut_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Store::start(&dir.path().join("state.redb"), 1000, 16).expect("store opens");
    let first = create(&h, "start").await;
    let mut slow = h.watch(rv(&first)).expect("watch");
    for i in 0..64 {
        create(&h, &format!("flood-{i}")).await;
    }
    // The watcher never read while 64 events went by a 16-event buffer: it is cut off rather
    // than buffered without bound.
    assert_eq!(
        slow.next().await.map(|e| e.revision).unwrap_err(),
        WatchEnd::TooSlow
    );
    // A fresh watcher from the same revision is served from the change log.
    let mut fresh = h.watch(rv(&first)).expect("watch");
    let e = fresh.next().await.expect("replayed");
    assert_eq!(e.object["metadata"]["name"], "flood-0");
}
