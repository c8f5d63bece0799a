//! The master ↔ worker protocol: the channels and the plain messages that travel on them as
//! bincode frames (capstan-transport). Wire structs are plain (no serde skip/flatten/untagged,
//! which bincode cannot carry); Kubernetes objects travel as JSON bytes.
//!
//! Streams, each opened with the transport's version header:
//! - `JOIN` (request, unauthenticated connection): [`JoinRequest`] → [`JoinResponse`].
//! - `HELLO` (request): [`Hello`] → [`HelloAck`]; the node name comes from the client
//!   certificate, never from the message.
//! - `HEARTBEAT` (push, worker → master): [`Heartbeat`] every `heartbeat_seconds`.
//! - `PODS` (push, master → worker): [`PodStreamMsg`] — a snapshot or a replay from the
//!   worker's last revision, then live changes of the pods bound to the node.
//! - `STATUS` (push, worker → master): [`StatusBatch`] — acknowledged pod revisions, pod
//!   status updates and pod events, batched.
//! - `LOGS` (request, master → worker): [`LogRequest`] → [`LogResponse`].

use serde::{Deserialize, Serialize};

/// Stream channels.
pub mod channel {
    /// Join: prove the token secret, get a client certificate.
    pub const JOIN: u16 = 1;
    /// Register the node.
    pub const HELLO: u16 = 2;
    /// Worker heartbeats.
    pub const HEARTBEAT: u16 = 3;
    /// Pods bound to the node, master → worker.
    pub const PODS: u16 = 4;
    /// Pod acks and statuses, worker → master.
    pub const STATUS: u16 = 5;
    /// A container's log, master → worker request.
    pub const LOGS: u16 = 6;
}

/// Ask for a client certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    /// The node name the certificate is for.
    pub node_name: String,
    /// The token's secret.
    pub secret: String,
    /// The worker's public key (SubjectPublicKeyInfo DER); its private key never leaves it.
    pub public_key_der: Vec<u8>,
}

/// The answer to a [`JoinRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoinResponse {
    /// Joined: the client certificate (PEM) for the node, and the CA (PEM).
    Accepted {
        /// Certificate for the node name, signed by the cluster CA.
        cert_pem: String,
        /// The cluster CA.
        ca_pem: String,
    },
    /// Refused, with the reason to show the operator.
    Refused {
        /// Why.
        reason: String,
    },
}

/// A taint as declared by the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireTaint {
    /// Key.
    pub key: String,
    /// Value (may be empty).
    pub value: String,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

/// What a worker says about its node when it (re)connects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// CPU capacity in millicores.
    pub cpu_millis: i64,
    /// Memory capacity in bytes.
    pub memory_bytes: i64,
    /// Most pods the node runs.
    pub max_pods: u32,
    /// Node labels (sorted by key).
    pub labels: Vec<(String, String)>,
    /// Node taints.
    pub taints: Vec<WireTaint>,
    /// The worker's host name.
    pub hostname: String,
    /// The address the worker wants to be reached at (empty: as seen by the master).
    pub internal_ip: String,
    /// `uname -r`.
    pub kernel_version: String,
    /// OS pretty name.
    pub os_image: String,
    /// `amd64`, `arm64`.
    pub architecture: String,
    /// Machine id.
    pub machine_id: String,
    /// Worker version.
    pub worker_version: String,
    /// Boot id of this worker process (new on each start).
    pub boot_id: String,
    /// The last pod-stream revision the worker has fully applied (0: none; send a snapshot).
    pub resume_from: u64,
}

/// The master's answer to [`Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HelloAck {
    /// Registered.
    Registered {
        /// The node name (from the client certificate).
        node_name: String,
        /// How often to send heartbeats.
        heartbeat_seconds: u64,
    },
    /// Refused (e.g. an unauthenticated connection).
    Refused {
        /// Why.
        reason: String,
    },
}

/// A heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Increments with each heartbeat of this connection.
    pub seq: u64,
    /// The node's latest resource usage sample, when one is due (every few heartbeats).
    pub usage: Option<NodeUsage>,
}

/// Resource usage measured on a worker (from cgroups, or /proc without them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeUsage {
    /// The sampling window in milliseconds (CPU is averaged over it).
    pub window_ms: u64,
    /// CPU used by all pods, in millicores, averaged over the window.
    pub cpu_millis: u64,
    /// Memory used by all pods, in bytes (working set).
    pub memory_bytes: u64,
    /// Per pod.
    pub pods: Vec<PodUsage>,
}

/// One pod's usage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodUsage {
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// Pod uid.
    pub uid: String,
    /// Per running container.
    pub containers: Vec<ContainerUsage>,
}

/// One container's usage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerUsage {
    /// Container name.
    pub name: String,
    /// CPU in millicores, averaged over the window.
    pub cpu_millis: u64,
    /// Memory in bytes.
    pub memory_bytes: u64,
}

/// One message on the pod stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PodStreamMsg {
    /// Every pod bound to the node at `revision` (the worker replaces its desired set).
    Snapshot {
        /// The revision the snapshot is consistent at.
        revision: u64,
        /// Pods as JSON.
        pods: Vec<Vec<u8>>,
    },
    /// One change after the snapshot or the worker's resume point.
    Change {
        /// The revision of the change.
        revision: u64,
        /// `true` when the pod is gone from the node (deleted or unbound).
        deleted: bool,
        /// The pod as JSON.
        pod: Vec<u8>,
    },
    /// Nothing changed up to `revision` (lets the worker advance its resume point).
    Bookmark {
        /// The revision.
        revision: u64,
    },
}

/// A pod status reported by the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodStatusUpdate {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The pod's uid (a status for an old incarnation is dropped).
    pub uid: String,
    /// The pod's `status` as JSON.
    pub status: Vec<u8>,
}

/// A pod, by identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodRef {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Uid.
    pub uid: String,
}

/// Batched reports from the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusBatch {
    /// The worker has applied every pod change up to this revision.
    pub acked_revision: u64,
    /// Status updates.
    pub updates: Vec<PodStatusUpdate>,
    /// Pods being deleted whose containers have all stopped: the master may remove them.
    pub stopped: Vec<PodRef>,
    /// What happened to the pods' containers (Created, Started, Killing, BackOff, Unhealthy…),
    /// for the master to record as Events.
    pub events: Vec<PodEvent>,
}

/// Something that happened to a pod on the worker, recorded by the master as an Event with
/// source `kubelet` on this node. Identical events of one flush are sent once with a count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodEvent {
    /// The pod.
    pub pod: PodRef,
    /// `Normal` or `Warning`.
    pub type_: String,
    /// CamelCase reason, e.g. `Started`.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// How many times it happened since the last report (at least 1).
    pub count: u32,
}

/// Read a container's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRequest {
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// Container name.
    pub container: String,
    /// Only the last N lines (0: all).
    pub tail_lines: u64,
    /// The previous run's log.
    pub previous: bool,
    /// Keep the timestamp of each line.
    pub timestamps: bool,
    /// At most this many bytes.
    pub limit_bytes: u64,
    /// Keep the stream open and send new lines as the container writes them, until it stops
    /// running (the answer is then a series of [`LogChunk`]s instead of one [`LogResponse`]).
    pub follow: bool,
}

/// One frame of a followed log (`follow: true`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogChunk {
    /// More log text.
    Data(Vec<u8>),
    /// No such pod or container on this node, or no log (yet); the stream ends.
    NotFound(String),
    /// The container stopped running; the stream ends.
    End,
}

/// The answer to a [`LogRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogResponse {
    /// The log text.
    Data(Vec<u8>),
    /// No such pod or container on this node, or no log (yet).
    NotFound(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use capstan_transport::{decode_body, encode_frame, DEFAULT_MAX_FRAME};
    use serde::de::DeserializeOwned;
    use std::fmt::Debug;

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(msg: T) {
        let frame = encode_frame(&msg, DEFAULT_MAX_FRAME).expect("encodes");
        let back: T = decode_body(&frame[4..], DEFAULT_MAX_FRAME).expect("decodes");
        assert_eq!(back, msg);
    }

    #[test]
    fn every_message_variant_round_trips_through_bincode() {
        round_trip(JoinRequest {
            node_name: "w1".into(),
            secret: "s3cret".into(),
            public_key_der: vec![1, 2, 3],
        });
        round_trip(JoinResponse::Accepted {
            cert_pem: "CERT".into(),
            ca_pem: "CA".into(),
        });
        round_trip(JoinResponse::Refused {
            reason: "wrong secret".into(),
        });
        round_trip(Hello {
            cpu_millis: 2000,
            memory_bytes: 1 << 30,
            max_pods: 110,
            labels: vec![
                ("kubernetes.io/hostname".into(), "w1".into()),
                ("zone".into(), String::new()),
            ],
            taints: vec![WireTaint {
                key: "dedicated".into(),
                value: String::new(),
                effect: "NoSchedule".into(),
            }],
            hostname: "host".into(),
            internal_ip: String::new(),
            kernel_version: "6.1".into(),
            os_image: "Debian".into(),
            architecture: "amd64".into(),
            machine_id: "m".into(),
            worker_version: "0.1.0".into(),
            boot_id: "b".into(),
            resume_from: 42,
        });
        round_trip(HelloAck::Registered {
            node_name: "w1".into(),
            heartbeat_seconds: 1,
        });
        round_trip(HelloAck::Refused {
            reason: "no certificate".into(),
        });
        round_trip(Heartbeat {
            seq: u64::MAX,
            usage: None,
        });
        round_trip(Heartbeat {
            seq: 1,
            usage: Some(NodeUsage {
                window_ms: 5000,
                cpu_millis: 250,
                memory_bytes: 1 << 20,
                pods: vec![PodUsage {
                    namespace: "default".into(),
                    name: "p".into(),
                    uid: "u".into(),
                    containers: vec![ContainerUsage {
                        name: "c".into(),
                        cpu_millis: 250,
                        memory_bytes: 1 << 20,
                    }],
                }],
            }),
        });
        round_trip(PodStreamMsg::Snapshot {
            revision: 7,
            pods: vec![b"{}".to_vec(), Vec::new()],
        });
        round_trip(PodStreamMsg::Change {
            revision: 8,
            deleted: true,
            pod: b"{\"a\":1}".to_vec(),
        });
        round_trip(PodStreamMsg::Bookmark { revision: 9 });
        round_trip(StatusBatch {
            acked_revision: 9,
            updates: vec![PodStatusUpdate {
                namespace: "default".into(),
                name: "p".into(),
                uid: "u".into(),
                status: b"{}".to_vec(),
            }],
            stopped: vec![PodRef {
                namespace: "default".into(),
                name: "q".into(),
                uid: "v".into(),
            }],
            events: vec![PodEvent {
                pod: PodRef {
                    namespace: "default".into(),
                    name: "p".into(),
                    uid: "u".into(),
                },
                type_: "Warning".into(),
                reason: "BackOff".into(),
                message: "Back-off restarting failed container c".into(),
                count: 2,
            }],
        });
        round_trip(StatusBatch {
            acked_revision: 0,
            updates: Vec::new(),
            stopped: Vec::new(),
            events: Vec::new(),
        });
    }
}
