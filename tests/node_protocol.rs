//! The master's side of the node protocol in one process, driven by a hand-made worker
//! connection: registration, status batches written to `pods/status`, and the rule that a
//! worker writes only its own pods.

use actix::Actor;
use capstan_actors::nodes::gateway::{JoinAuthority, NodeGateway};
use capstan_actors::nodes::lifecycle::{LifecycleConfig, Liveness};
use capstan_actors::protocol::{
    channel, Hello, HelloAck, PodEvent, PodRef, PodStatusUpdate, PodStreamMsg, StatusBatch,
};
use capstan_actors::store::{Store, WriteOp};
use capstan_core::kinds::{self, NODES, PODS};
use capstan_core::write_rules::Subresource;
use capstan_node::pki::ClusterCa;
use capstan_transport::{Client, Identity, Server, TransportConfig};
use rcgen::{KeyPair, PublicKeyData};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

struct NoJoins;
impl JoinAuthority for NoJoins {
    fn secret_matches(&self, _: &str) -> bool {
        false
    }
    fn issue(&self, _: &str, _: &[u8]) -> Result<(String, String), String> {
        Err("no joins in this test".into())
    }
}

fn hello() -> Hello {
    Hello {
        cpu_millis: 2000,
        memory_bytes: 2 << 30,
        max_pods: 10,
        labels: vec![],
        taints: vec![],
        hostname: "h".into(),
        internal_ip: "10.1.2.3".into(),
        kernel_version: "k".into(),
        os_image: "os".into(),
        architecture: "amd64".into(),
        machine_id: "m".into(),
        worker_version: "t".into(),
        boot_id: "b".into(),
        resume_from: 0,
    }
}

fn pod(name: &str, node: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
           "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x"}]}, "status": {"phase": "Pending"}})
}

#[actix::test]
async fn a_worker_registers_and_reports_statuses_for_its_own_pods_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::start(&dir.path().join("state.redb"), 1000, 1024).expect("store");
    let ca = ClusterCa::load_or_create(&dir.path().join("pki")).expect("ca");
    let ca_der = CertificateDer::from(ca.cert_der.clone());
    let serving = ca
        .issue_server(&["127.0.0.1".into()])
        .expect("serving cert");
    let identity = Identity {
        cert_chain: vec![serving.cert_der.clone(), ca_der.clone()],
        key: serving.key,
    };
    let server = Server::bind(
        "127.0.0.1:0".parse().expect("addr"),
        capstan_transport::server_crypto(identity, &ca_der).expect("server tls"),
        TransportConfig::default(),
    )
    .expect("bind");
    let addr = server.local_addr();
    let liveness = Liveness::start(
        store.clone(),
        LifecycleConfig {
            grace: Duration::from_secs(30),
            ..LifecycleConfig::default()
        },
    );
    NodeGateway::new(server, store.clone(), liveness, Arc::new(NoJoins)).start();

    let mine = store
        .write(WriteOp::Create {
            resource: PODS,
            object: pod("mine", "n1"),
        })
        .await
        .expect("pod");
    let theirs = store
        .write(WriteOp::Create {
            resource: PODS,
            object: pod("theirs", "n2"),
        })
        .await
        .expect("pod");

    // Without a client certificate a connection may only join: registering is refused.
    let anonymous = Client::new(
        capstan_transport::client_crypto(&ca_der, None).expect("client tls"),
        TransportConfig::default(),
    )
    .expect("client");
    let anon = anonymous.connect(addr, "127.0.0.1").await.expect("connect");
    let refused: HelloAck = anon
        .request(channel::HELLO, &hello())
        .await
        .expect("answer");
    assert!(matches!(refused, HelloAck::Refused { .. }), "{refused:?}");
    assert!(
        store.db.list(NODES, None).expect("list").0.is_empty(),
        "nothing registered"
    );

    // The worker "n1": its certificate names it.
    let key = KeyPair::generate().expect("key");
    let cert_pem = ca
        .issue_node_client("n1", &key.subject_public_key_info())
        .expect("client cert");
    let id = Identity {
        cert_chain: vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("pem")],
        key: PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).expect("key pem"),
    };
    let client = Client::new(
        capstan_transport::client_crypto(&ca_der, Some(id)).expect("client tls"),
        TransportConfig::default(),
    )
    .expect("client");
    let conn = client.connect(addr, "127.0.0.1").await.expect("connect");
    let ack: HelloAck = conn.request(channel::HELLO, &hello()).await.expect("hello");
    assert_eq!(
        ack,
        HelloAck::Registered {
            node_name: "n1".into(),
            heartbeat_seconds: 1
        }
    );
    let node = store
        .db
        .get(NODES, "", "n1")
        .expect("read")
        .expect("node registered");
    assert_eq!(node["status"]["addresses"][0]["address"], "10.1.2.3");

    // The pod stream starts with a snapshot holding only n1's pod.
    let mut pods = conn.accept_stream().await.expect("pod stream");
    assert_eq!(pods.channel, channel::PODS);
    match pods
        .recv::<PodStreamMsg>()
        .await
        .expect("frame")
        .expect("message")
    {
        PodStreamMsg::Snapshot { pods, .. } => {
            let names: Vec<String> = pods
                .iter()
                .filter_map(|p| serde_json::from_slice::<serde_json::Value>(p).ok())
                .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
                .collect();
            assert_eq!(names, ["mine"]);
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }

    // Statuses: one for its own pod, one for another node's pod, one for a stale uid.
    let mut status = conn
        .open_push(channel::STATUS)
        .await
        .expect("status stream");
    let update = |name: &str, uid: &str, phase: &str| PodStatusUpdate {
        namespace: "default".into(),
        name: name.into(),
        uid: uid.into(),
        status: json!({"phase": phase, "podIP": "10.1.2.4"})
            .to_string()
            .into_bytes(),
    };
    let uid = |o: &serde_json::Value| o["metadata"]["uid"].as_str().expect("uid").to_string();
    let event = |name: &str, uid: &str, type_: &str, reason: &str, count: u32| PodEvent {
        pod: PodRef {
            namespace: "default".into(),
            name: name.into(),
            uid: uid.into(),
        },
        type_: type_.into(),
        reason: reason.into(),
        message: format!("{reason} happened"),
        count,
    };
    status
        .send(&StatusBatch {
            acked_revision: 0,
            updates: vec![
                update("theirs", &uid(&theirs.object), "Running"),
                update("mine", "stale-uid", "Failed"),
                update("mine", &uid(&mine.object), "Running"),
            ],
            stopped: Vec::new(),
            events: vec![
                event("theirs", &uid(&theirs.object), "Normal", "Started", 1),
                event("mine", "stale-uid", "Normal", "Started", 1),
                event("mine", &uid(&mine.object), "Bogus", "Started", 1),
                event("mine", &uid(&mine.object), "Normal", "Not a reason", 1),
                event("mine", &uid(&mine.object), "Warning", "BackOff", 3),
            ],
        })
        .await
        .expect("send");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let p = store
            .db
            .get(PODS, "default", "mine")
            .expect("read")
            .expect("pod");
        if p["status"]["phase"] == "Running" {
            assert_eq!(p["status"]["podIP"], "10.1.2.4");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "status was not written: {p}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let other = store
        .db
        .get(PODS, "default", "theirs")
        .expect("read")
        .expect("pod");
    assert_eq!(
        other["status"]["phase"], "Pending",
        "a worker cannot write another node's pod"
    );

    // Events: only the well-formed one about its own pod's current incarnation is recorded,
    // from the kubelet of n1, with the count the worker sent.
    let events_kind = kinds::by_path("", "v1", "events").expect("events");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let events = loop {
        let (events, _) = store
            .db
            .list(events_kind, Some("default"))
            .expect("list events");
        if !events.is_empty() {
            break events;
        }
        assert!(std::time::Instant::now() < deadline, "no event recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e["involvedObject"]["name"], "mine");
    assert_eq!(e["reason"], "BackOff");
    assert_eq!(e["type"], "Warning");
    assert_eq!(e["count"], 3);
    assert_eq!(e["source"], json!({"component": "kubelet", "host": "n1"}));

    // The status the worker wrote does not come back to it on the pod stream; a change beyond
    // status does.
    store
        .modify(PODS, "default", "mine", Subresource::Main, |p| {
            p["metadata"]["labels"] = json!({"changed": "yes"});
            true
        })
        .await
        .expect("label the pod");
    match tokio::time::timeout(Duration::from_secs(30), pods.recv::<PodStreamMsg>())
        .await
        .expect("a change within 30 s")
        .expect("frame")
        .expect("message")
    {
        PodStreamMsg::Change { pod, deleted, .. } => {
            let pod: serde_json::Value = serde_json::from_slice(&pod).expect("pod JSON");
            assert!(!deleted);
            assert_eq!(
                pod["metadata"]["labels"]["changed"], "yes",
                "the first change sent is the label, not the status echo: {pod}"
            );
            assert_eq!(pod["status"]["phase"], "Running");
        }
        other => panic!("expected a change, got {other:?}"),
    }
}
