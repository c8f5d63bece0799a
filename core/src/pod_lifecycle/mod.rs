//! Pod and container lifecycle as kubelet reports it: CrashLoopBackOff delays, one container's
//! status as a state machine, and a pod's phase and conditions computed from its containers.
//!
//! A worker's `ContainerActor` feeds [`ContainerStatus::handle`] with what happened to its
//! process and asks [`CrashLoop::next_delay`] how long to wait before a restart; its `PodActor`
//! gathers the container statuses and posts [`pod_status_json`]. Nothing here starts a process,
//! sleeps or reads the clock: times come in as [`crate::time::Timestamp`] (wall clock, for the
//! API) or as milliseconds of a virtual clock (for delays).
//!
//! Deliberately absent: restartable init containers (sidecars), readiness gates and the
//! `PodReadyToStartContainers` condition.

mod backoff;
mod container;
mod pod;

pub use backoff::{go_duration, BackoffPolicy, CrashLoop, RestartPolicy};
pub use container::{ContainerEvent, ContainerState, ContainerStatus, Terminated};
pub use pod::{pod_phase, pod_status_json, PodStatusInput};

#[cfg(test)]
mod tests;
