//! The master's side of the nodes: the QUIC [`gateway::NodeGateway`], one
//! [`session::NodeSession`] per connected worker, and the [`lifecycle::NodeLifecycle`]
//! controller that marks silent nodes Unknown, and the [`metrics::MetricsRegistry`] of the
//! usage the workers report.

pub mod gateway;
pub mod lifecycle;
pub mod metrics;
pub mod node_object;
pub mod session;
