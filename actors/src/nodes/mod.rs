//! The master's side of the nodes: the QUIC [`gateway::NodeGateway`], one
//! [`session::NodeSession`] per connected worker, and the [`lifecycle::NodeLifecycle`]
//! controller that marks silent nodes Unknown.

pub mod gateway;
pub mod lifecycle;
pub mod node_object;
pub mod session;
