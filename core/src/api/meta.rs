//! Object metadata shared by every kind (`metadata:`), owner references and object references.
//!
//! Identity strings that every stored object has (`name`, `namespace`, `uid`, `resourceVersion`)
//! are plain `String`s, empty meaning unset; timestamps are RFC 3339 strings in `Option`s.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Kubernetes `ObjectMeta`: the `metadata` of every object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Unique within a namespace (or the cluster for cluster-scoped kinds).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Prefix from which the API server generates `name` when `name` is empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub generate_name: String,
    /// Namespace of a namespaced object; empty for cluster-scoped kinds. Filled by the API
    /// server from the URL, never by defaulting.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Deprecated self link; kept when a client sends it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub self_link: String,
    /// Unique id assigned by the API server at creation.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// The store revision of the object's last write (opaque to clients).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    /// Sequence number of spec changes, bumped by the API server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// When the object was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    /// When graceful deletion was requested (RFC 3339); set by the API server only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<String>,
    /// Grace period granted to the deletion in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_grace_period_seconds: Option<i64>,
    /// Identifying labels used by selectors.
    #[serde(
        default,
        deserialize_with = "crate::api::null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Non-identifying metadata.
    #[serde(
        default,
        deserialize_with = "crate::api::null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    /// Objects this one depends on (garbage collection, controller ownership).
    #[serde(
        default,
        deserialize_with = "crate::api::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub owner_references: Vec<OwnerReference>,
    /// Finalizers that must be removed before the object is deleted from the store.
    #[serde(
        default,
        deserialize_with = "crate::api::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub finalizers: Vec<String>,
    /// Server-side apply bookkeeping, kept opaque.
    #[serde(
        default,
        deserialize_with = "crate::api::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub managed_fields: Vec<serde_json::Value>,
}

/// A reference to the owner of an object (`metadata.ownerReferences[*]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// API version of the owner (`apps/v1`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Kind of the owner (`ReplicaSet`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Name of the owner.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// UID of the owner.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// True when the owner is the managing controller (at most one per object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// True when foreground deletion of the owner must wait for this object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

/// A reference to another object (`involvedObject`, `targetRef`), Kubernetes `ObjectReference`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// Kind of the referent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Namespace of the referent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Name of the referent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// UID of the referent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// API version of the referent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Resource version of the referent when the reference was made.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    /// A path inside the referent (`spec.containers{nginx}`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field_path: String,
}

/// A reference to an object in the same namespace by name only (`imagePullSecrets[*]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalObjectReference {
    /// Name of the referent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}
