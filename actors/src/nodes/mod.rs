//! The master's side of the nodes: the QUIC [`gateway::NodeGateway`], one
//! [`session::NodeSession`] per connected worker, the [`lifecycle::NodeLifecycle`]
//! controller that marks silent nodes Unknown, the [`pod_router::PodRouter`] that hands each
//! session the changes to its node's pods, and the [`metrics::MetricsRegistry`] of the
//! usage the workers report.

pub mod gateway;
pub mod lifecycle;
pub mod metrics;
pub mod node_object;
pub mod pod_router;
pub mod session;
