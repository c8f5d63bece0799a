//! The worker's side: the [`agent::NodeAgent`], root of a worker's actor tree. It keeps the
//! QUIC session to the master (reconnecting with backoff and resuming its pod stream from the
//! last revision it applied), sends heartbeats, and converges the node's pods: one
//! [`pod::PodActor`] per pod, supervising one [`container::ContainerActor`] per container run,
//! which starts processes through the [`runtime`].

pub mod agent;
pub mod container;
mod log_server;
pub mod pod;
pub mod probe;
pub mod runtime;
