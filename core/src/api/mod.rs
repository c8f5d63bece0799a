//! The Kubernetes object model: the kinds Capstan serves and the [`Object`] trait the API server
//! and the store use to handle them generically.
//!
//! Conventions, relied on by every other module:
//! - JSON field names are Kubernetes' (camelCase, `podIP`, `hostPID`, ...).
//! - Optional scalars and objects are `Option`s and are omitted when `None`; lists and maps are
//!   omitted when empty. JSON `null` reads as absent everywhere, lists and maps included (Go
//!   clients send `null` for nil slices).
//! - Identity strings every stored object has (`metadata.name`, `namespace`, `uid`,
//!   `resourceVersion`, condition `type`/`status`) are plain `String`s, empty meaning unset.
//! - Status counters are `Option<i32>` (`None` reads as 0).
//! - Fields Capstan does not interpret are kept as opaque `serde_json::Value`s.

use crate::validation::FieldError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

pub mod apps;
pub mod event;
pub mod intstr;
pub mod meta;
pub mod namespace;
pub mod node;
pub mod pod;
pub mod service;

#[cfg(test)]
mod tests;

pub use apps::*;
pub use event::*;
pub use intstr::IntOrString;
pub use meta::*;
pub use namespace::*;
pub use node::*;
pub use pod::*;
pub use service::*;

/// Deserializes JSON `null` as the type's default (`[]`, `{}`), for list, map and struct fields
/// that are not `Option`s.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A top-level API object that the API server admits and the store keeps.
pub trait Object: Serialize + DeserializeOwned + Default + Clone + std::fmt::Debug {
    /// `Pod`, `Deployment`, ...
    const KIND: &'static str;
    /// `v1`, `apps/v1`.
    const API_VERSION: &'static str;
    /// Whether objects of this kind live in a namespace (false for Node and Namespace).
    const NAMESPACED: bool = true;
    /// The object's metadata.
    fn metadata(&self) -> &ObjectMeta;
    /// The object's metadata, mutably.
    fn metadata_mut(&mut self) -> &mut ObjectMeta;
    /// Kubernetes defaulting; idempotent; sets apiVersion/kind too.
    fn apply_defaults(&mut self);
    /// Every failing field of a create (empty when valid). Paths start at the object root:
    /// `metadata.name`, `spec.containers[0].image`.
    fn validate(&self) -> Vec<FieldError>;
    /// Every failing field of an update from `old` (includes `validate()` plus immutability
    /// rules). Default: `self.validate()`.
    fn validate_update(&self, old: &Self) -> Vec<FieldError> {
        let _ = old;
        self.validate()
    }
}

macro_rules! impl_object {
    ($ty:ty, $kind:literal, $version:literal, $namespaced:literal, $defaults:path, $validate:path, $validate_update:path) => {
        impl Object for $ty {
            const KIND: &'static str = $kind;
            const API_VERSION: &'static str = $version;
            const NAMESPACED: bool = $namespaced;
            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
            fn apply_defaults(&mut self) {
                $defaults(self)
            }
            fn validate(&self) -> Vec<FieldError> {
                $validate(self)
            }
            fn validate_update(&self, old: &Self) -> Vec<FieldError> {
                $validate_update(self, old)
            }
        }
    };
}

use crate::defaults as d;
use crate::validation as v;

impl_object!(
    Pod,
    "Pod",
    "v1",
    true,
    d::default_pod,
    v::validate_pod,
    v::validate_pod_update
);
impl_object!(
    Node,
    "Node",
    "v1",
    false,
    d::default_node,
    v::validate_node,
    v::validate_node_update
);
impl_object!(
    ReplicaSet,
    "ReplicaSet",
    "apps/v1",
    true,
    d::default_replica_set,
    v::validate_replica_set,
    v::validate_replica_set_update
);
impl_object!(
    Deployment,
    "Deployment",
    "apps/v1",
    true,
    d::default_deployment,
    v::validate_deployment,
    v::validate_deployment_update
);
impl_object!(
    Service,
    "Service",
    "v1",
    true,
    d::default_service,
    v::validate_service,
    v::validate_service_update
);
impl_object!(
    Endpoints,
    "Endpoints",
    "v1",
    true,
    d::default_endpoints,
    v::validate_endpoints,
    v::validate_endpoints_update
);
impl_object!(
    Event,
    "Event",
    "v1",
    true,
    d::default_event,
    v::validate_event,
    v::validate_event_update
);
impl_object!(
    Namespace,
    "Namespace",
    "v1",
    false,
    d::default_namespace,
    v::validate_namespace,
    v::validate_namespace_update
);
