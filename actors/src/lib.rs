//! capstan-actors: the actix actors of Capstan, each a thin shell that feeds events into
//! `capstan-core` and performs the I/O that core asks for.
//!
//! Today: the [`store::Store`] actor (the only writer of the redb database, with group commit),
//! the [`store::WatchHub`] fan-out of committed changes, and the read side ([`store::Db`]).
//! Later steps add the scheduler, controllers and node sessions here.
//!
//! It does not parse HTTP, speak QUIC or read config files: that is `capstan-node`'s job.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod nodes;
pub mod protocol;
pub mod store;
pub mod worker;
