//! The worker's side: the [`agent::NodeAgent`], root of a worker's actor tree. It keeps the
//! QUIC session to the master (reconnecting with backoff and resuming its pod stream from the
//! last revision it applied), sends heartbeats, and holds the node's desired pods. Until pods
//! run (step 3) it acknowledges what it receives.

pub mod agent;
