//! PATCH support: JSON patch (RFC 6902), JSON merge patch (RFC 7396) and Kubernetes' strategic
//! merge patch, the three content types `kubectl` sends to `PATCH` requests.
//!
//! [`apply_patch`] is the entry point: it takes the stored object and an already-parsed patch
//! body and returns the patched object, or a [`PatchError`] that the API layer turns into a
//! `400 Bad Request` or `422 Unprocessable Entity` ([`PatchError::http_status`]).
//!
//! Strategic merge patch follows `k8s.io/apimachinery/pkg/util/strategicpatch`: maps merge
//! recursively, lists merge according to the per-field strategies of [`merge_keys`], and the
//! `$patch`, `$retainKeys`, `$setElementOrder/<field>` and `$deleteFromPrimitiveList/<field>`
//! directives are honoured.

pub mod merge_keys;
mod strategic;
#[cfg(test)]
mod tests;

use serde_json::Value;

/// The PATCH content types the API server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchType {
    /// `application/json-patch+json`: a list of RFC 6902 operations.
    Json,
    /// `application/merge-patch+json`: an RFC 7396 merge patch.
    Merge,
    /// `application/strategic-merge-patch+json`: a Kubernetes strategic merge patch.
    Strategic,
}

impl PatchType {
    /// Maps a `Content-Type` header value to a patch type, ignoring parameters such as
    /// `; charset=utf-8`, surrounding whitespace and letter case. Returns `None` for any other
    /// media type (including server-side apply's `application/apply-patch+yaml`).
    pub fn from_content_type(ct: &str) -> Option<PatchType> {
        let media = ct.split(';').next().unwrap_or("").trim();
        [PatchType::Json, PatchType::Merge, PatchType::Strategic]
            .into_iter()
            .find(|t| media.eq_ignore_ascii_case(t.content_type()))
    }

    /// The media type of this patch type, e.g. `application/merge-patch+json`.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::Strategic => "application/strategic-merge-patch+json",
        }
    }
}

/// Why a patch could not be applied. Paths in strategic merge patch errors are dot-separated map
/// keys from the object's root (list elements add no segment).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// A merge patch or strategic merge patch whose top level is not a JSON object.
    #[error("the patch must be a JSON object")]
    NotAnObject,
    /// A JSON patch body that is not a JSON array of well-formed RFC 6902 operations.
    #[error("invalid json patch: {reason}")]
    InvalidJsonPatch {
        /// What is malformed.
        reason: String,
    },
    /// A JSON patch operation that could not be applied (missing path, failed `test`, ...).
    /// No operation of the patch takes effect.
    #[error("json patch operation {index} ({op} {path}): {reason}")]
    JsonPatchFailed {
        /// Zero-based index of the failing operation in the patch array.
        index: usize,
        /// The operation: `add`, `remove`, `replace`, `move`, `copy` or `test`.
        op: String,
        /// The operation's JSON pointer (`from -> path` for `move` and `copy`).
        path: String,
        /// Why it failed.
        reason: String,
    },
    /// A `$patch` directive other than `replace`, `delete` or `merge`.
    #[error("strategic merge patch: $patch directive {directive:?} is not supported{}", at(.path))]
    UnsupportedPatchDirective {
        /// The directive's value as given (JSON text if it is not a string).
        directive: String,
        /// Where it appeared.
        path: String,
    },
    /// A map key starting with `$` that is not a known directive.
    #[error("strategic merge patch: unknown directive {key:?}{}", at(.path))]
    UnknownDirective {
        /// The offending key.
        key: String,
        /// The map it appeared in.
        path: String,
    },
    /// A known directive with a malformed value (e.g. `$retainKeys` not a list of strings).
    #[error("strategic merge patch: invalid {directive}{}: {reason}", at(.path))]
    InvalidDirective {
        /// The directive key, e.g. `$retainKeys` or `$setElementOrder/containers`.
        directive: String,
        /// The map it appeared in.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A patch map setting a field that its own `$retainKeys` list does not retain.
    #[error("strategic merge patch: field {key:?}{} is not listed in $retainKeys", at(.path))]
    RetainKeysViolation {
        /// The field set by the patch.
        key: String,
        /// The map holding the directive.
        path: String,
    },
    /// An element of a list merged by key that lacks the merge key.
    #[error("strategic merge patch: an element of list {path} has no merge key {key:?}")]
    MissingMergeKey {
        /// The list.
        path: String,
        /// The merge key, e.g. `name`.
        key: String,
    },
    /// A patch list whose order disagrees with its `$setElementOrder` list.
    #[error(
        "strategic merge patch: the order of list {path} does not match its $setElementOrder list"
    )]
    ElementOrderMismatch {
        /// The list.
        path: String,
    },
    /// A list that cannot be merged with its strategy (e.g. objects in a list of primitives).
    #[error("strategic merge patch: list {path}: {reason}")]
    InvalidList {
        /// The list.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl PatchError {
    /// The HTTP status Kubernetes answers with: 422 for a JSON patch operation that fails and for
    /// a `$retainKeys` violation, 400 for everything else (malformed patches).
    pub fn http_status(&self) -> u16 {
        match self {
            PatchError::JsonPatchFailed { .. } | PatchError::RetainKeysViolation { .. } => 422,
            _ => 400,
        }
    }
}

/// Formats the location suffix of an error message (nothing at the root).
fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" at {path}")
    }
}

/// Applies `patch` (already-parsed JSON) to `original` for an object of `kind` ("Pod",
/// "Deployment", "ReplicaSet", "Service", "Node", "Endpoints", "Event", "Namespace"; other kinds
/// get the kind-independent list strategies, e.g. pod templates under `spec.template.spec`).
///
/// `original` is not modified; on error nothing is applied.
pub fn apply_patch(
    original: &Value,
    patch_type: PatchType,
    patch: &Value,
    kind: &str,
) -> Result<Value, PatchError> {
    match patch_type {
        PatchType::Json => apply_json_patch(original, patch),
        PatchType::Merge => {
            if !patch.is_object() {
                return Err(PatchError::NotAnObject);
            }
            let mut doc = original.clone();
            json_patch::merge(&mut doc, patch);
            Ok(doc)
        }
        PatchType::Strategic => strategic::strategic_merge(original, patch, kind),
    }
}

/// RFC 6902: parses the operations one by one (for precise errors) and applies them atomically.
fn apply_json_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    let Value::Array(ops) = patch else {
        return Err(PatchError::InvalidJsonPatch {
            reason: "the patch must be a JSON array of operations".to_string(),
        });
    };
    let mut parsed = Vec::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        let op: json_patch::PatchOperation =
            serde_json::from_value(op.clone()).map_err(|e| PatchError::InvalidJsonPatch {
                reason: format!("operation {index}: {e}"),
            })?;
        parsed.push(op);
    }
    let mut doc = original.clone();
    json_patch::patch(&mut doc, &parsed).map_err(|e| {
        let (op, path) = describe_operation(&parsed[e.operation]);
        let reason = match e.kind {
            json_patch::PatchErrorKind::TestFailed => {
                "test failed: the value does not match".to_string()
            }
            json_patch::PatchErrorKind::InvalidPointer => "path not found".to_string(),
            json_patch::PatchErrorKind::InvalidFromPointer => "\"from\" path not found".to_string(),
            json_patch::PatchErrorKind::CannotMoveInsideItself => {
                "cannot move a value into one of its own children".to_string()
            }
            ref other => other.to_string(),
        };
        PatchError::JsonPatchFailed {
            index: e.operation,
            op: op.to_string(),
            path,
            reason,
        }
    })?;
    Ok(doc)
}

/// The name and path(s) of a JSON patch operation, for error messages.
fn describe_operation(op: &json_patch::PatchOperation) -> (&'static str, String) {
    use json_patch::PatchOperation as Op;
    match op {
        Op::Add(o) => ("add", o.path.to_string()),
        Op::Remove(o) => ("remove", o.path.to_string()),
        Op::Replace(o) => ("replace", o.path.to_string()),
        Op::Move(o) => ("move", format!("{} -> {}", o.from, o.path)),
        Op::Copy(o) => ("copy", format!("{} -> {}", o.from, o.path)),
        Op::Test(o) => ("test", o.path.to_string()),
    }
}
