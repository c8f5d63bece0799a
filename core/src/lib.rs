//! capstan-core: the pure heart of Capstan.
//!
//! It holds the Kubernetes object model (Pod, Node, ReplicaSet, Deployment, Service, Endpoints,
//! Event, Namespace), quantities, label and field selectors, defaulting, validation, patch
//! application (merge, strategic merge, JSON patch), the resource registry and server-side tables.
//!
//! It does **not** touch a socket, a file, a thread or the clock: time comes in as an argument
//! (`time::Timestamp`), so everything here can be tested deterministically and driven on
//! simulated clusters.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admission;
pub mod api;
pub mod binding;
pub mod controllers;
pub mod decode;
pub mod defaults;
pub mod fields;
pub mod fingerprint;
pub mod kinds;
pub mod node_eviction;
pub mod node_status;
pub mod patch;
pub mod pod_lifecycle;
pub mod quantity;
pub mod scheduler;
pub mod selector;
pub mod table;
pub mod time;
pub mod validation;
pub mod write_rules;
