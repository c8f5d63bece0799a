//! capstan-actors: the actix actors of Capstan, each a thin shell that feeds events into
//! `capstan-core` and performs the I/O that core asks for.
//!
//! Master side: the [`store::Store`] actor (the only writer of the redb database, with group
//! commit), the [`store::WatchHub`] fan-out of committed changes and the read side
//! ([`store::Db`]); the node gateway, one session per connected worker and the node lifecycle
//! ([`nodes`]). Worker side: the [`worker::agent::NodeAgent`] and its pod and container actors,
//! and the container [`worker::runtime`]. [`protocol`] is what master and workers say to each
//! other. Later steps add the scheduler and the controllers here.
//!
//! It does not parse HTTP, speak QUIC or read config files: that is `capstan-node`'s job.
#![deny(unsafe_code)] // two audited exceptions: the shim's pre_exec (worker::runtime::shim) and mallopt (memory)
#![warn(missing_docs)]

pub mod controllers;
pub mod events;
pub mod memory;
pub mod nodes;
pub mod priority;
pub mod protocol;
pub mod scheduler;
pub mod store;
pub mod worker;
