//! Admission: turning a JSON document from outside into an object the store may keep.
//! Typed decoding (unknown fields refused, warned about or dropped per `fieldValidation`),
//! Kubernetes defaulting, then validation (of a create, or of an update against the old object).

use crate::api::{Deployment, Endpoints, Event, Namespace, Node, Object, Pod, ReplicaSet, Service};
use crate::decode::decode_typed;
use crate::validation::FieldError;
use serde_json::Value;

/// How unknown fields are handled (`?fieldValidation=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Refuse the request, naming every unknown field.
    Strict,
    /// Drop them and warn (the default).
    Warn,
    /// Drop them silently.
    Ignore,
}

impl FieldValidation {
    /// Parses the query parameter; absent means `Warn`.
    pub fn from_param(p: Option<&str>) -> Result<FieldValidation, String> {
        match p {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some(other) => Err(format!(
                "fieldValidation: invalid value {other:?}: supported values: \"Ignore\", \"Warn\", \"Strict\""
            )),
        }
    }
}

/// An admitted object: defaulted and valid, with the warnings to send back.
#[derive(Debug, Clone, PartialEq)]
pub struct Admitted {
    /// The object as it will be stored (unknown fields dropped, defaults set).
    pub object: Value,
    /// `unknown field "spec.foo"` and the like.
    pub warnings: Vec<String>,
}

/// Why a document was not admitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AdmitError {
    /// The document does not fit the kind's schema (wrong types); → 400.
    #[error("{kind} in version \"{version}\" cannot be handled as a {kind}: {message}")]
    Decode {
        /// The kind.
        kind: String,
        /// Its API version.
        version: String,
        /// What did not fit.
        message: String,
    },
    /// Unknown fields with `fieldValidation=Strict`; → 400.
    #[error("{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}", .fields.iter().map(|f| format!("unknown field \"{f}\"")).collect::<Vec<_>>().join(", "))]
    UnknownFields {
        /// The kind.
        kind: String,
        /// Its API version.
        version: String,
        /// Every unknown field's path.
        fields: Vec<String>,
    },
    /// The object is invalid; → 422 with every failing field.
    #[error("{kind} \"{name}\" is invalid: {}", .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    Invalid {
        /// The kind.
        kind: String,
        /// The object's name.
        name: String,
        /// Every failing field.
        errors: Vec<FieldError>,
    },
    /// The kind is not served.
    #[error("no kind {0:?} is registered")]
    UnknownKind(String),
}

/// Admits `value` as an object of `kind`. With `old`, validates as an update of it.
pub fn admit(
    kind: &str,
    value: &Value,
    old: Option<&Value>,
    fv: FieldValidation,
) -> Result<Admitted, AdmitError> {
    match kind {
        "Pod" => admit_typed::<Pod>(value, old, fv),
        "Node" => admit_typed::<Node>(value, old, fv),
        "Namespace" => admit_typed::<Namespace>(value, old, fv),
        "Service" => admit_typed::<Service>(value, old, fv),
        "Endpoints" => admit_typed::<Endpoints>(value, old, fv),
        "Event" => admit_typed::<Event>(value, old, fv),
        "ReplicaSet" => admit_typed::<ReplicaSet>(value, old, fv),
        "Deployment" => admit_typed::<Deployment>(value, old, fv),
        other => Err(AdmitError::UnknownKind(other.to_string())),
    }
}

fn admit_typed<T: Object>(
    value: &Value,
    old: Option<&Value>,
    fv: FieldValidation,
) -> Result<Admitted, AdmitError> {
    let decode_err = |message: String| AdmitError::Decode {
        kind: T::KIND.to_string(),
        version: T::API_VERSION.to_string(),
        message,
    };
    let (mut obj, unknown) = decode_typed::<T>(value).map_err(|e| decode_err(e.to_string()))?;
    let warnings = match fv {
        FieldValidation::Strict if !unknown.is_empty() => {
            return Err(AdmitError::UnknownFields {
                kind: T::KIND.to_string(),
                version: T::API_VERSION.to_string(),
                fields: unknown,
            })
        }
        FieldValidation::Warn => unknown
            .iter()
            .map(|f| format!("unknown field \"{f}\""))
            .collect(),
        _ => Vec::new(),
    };
    obj.apply_defaults();
    let errors = match old {
        Some(o) => {
            let (old_typed, _) =
                decode_typed::<T>(o).map_err(|e| decode_err(format!("stored object: {e}")))?;
            obj.validate_update(&old_typed)
        }
        None => obj.validate(),
    };
    if !errors.is_empty() {
        let meta = obj.metadata();
        let name = if meta.name.is_empty() {
            meta.generate_name.clone()
        } else {
            meta.name.clone()
        };
        return Err(AdmitError::Invalid {
            kind: T::KIND.to_string(),
            name,
            errors,
        });
    }
    let object = serde_json::to_value(&obj).map_err(|e| decode_err(e.to_string()))?;
    Ok(Admitted { object, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(extra: Value) -> Value {
        let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
                           "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sleep", "1"]}]}});
        if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                p.insert(k.clone(), v.clone());
            }
        }
        p
    }

    #[test]
    fn strict_refuses_unknown_fields_by_path() {
        let mut p = pod(json!({}));
        p["spec"]["containers"][0]["colour"] = json!("red");
        p["spec"]["bogus"] = json!(1);
        let err = admit("Pod", &p, None, FieldValidation::Strict).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \""),
            "{text}"
        );
        assert!(
            text.contains("unknown field \"spec.containers[0].colour\""),
            "{text}"
        );
        match &err {
            AdmitError::UnknownFields { fields, .. } => {
                let mut sorted = fields.clone();
                sorted.sort();
                assert_eq!(sorted, vec!["spec.bogus", "spec.containers[0].colour"]);
            }
            other => panic!("expected UnknownFields, got {other:?}"),
        }
        let ok = admit("Pod", &p, None, FieldValidation::Warn).expect("warn admits");
        assert_eq!(ok.warnings.len(), 2);
        assert!(
            ok.object["spec"].get("bogus").is_none(),
            "unknown fields are dropped"
        );
        assert!(admit("Pod", &p, None, FieldValidation::Ignore)
            .expect("ignore admits")
            .warnings
            .is_empty());
    }

    #[test]
    fn defaults_are_applied_and_known_fields_kept() {
        let a = admit("Pod", &pod(json!({})), None, FieldValidation::Strict).expect("valid");
        assert_eq!(a.object["spec"]["restartPolicy"], "Always");
        assert_eq!(
            a.object["spec"]["containers"][0]["command"],
            json!(["sleep", "1"])
        );
        assert_eq!(a.object["metadata"]["name"], "web");
    }

    #[test]
    fn invalid_objects_list_every_field() {
        let bad = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Name"},
                         "spec": {"containers": [{"name": ""}]}});
        match admit("Pod", &bad, None, FieldValidation::Strict) {
            Err(AdmitError::Invalid { errors, .. }) => {
                let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
                assert!(paths.contains(&"metadata.name"), "{paths:?}");
                assert!(paths.contains(&"spec.containers[0].name"), "{paths:?}");
                assert!(paths.contains(&"spec.containers[0].image"), "{paths:?}");
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        let wrong_type = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"containers": "no"}});
        assert!(matches!(
            admit("Pod", &wrong_type, None, FieldValidation::Strict),
            Err(AdmitError::Decode { .. })
        ));
        assert!(matches!(
            admit("Widget", &wrong_type, None, FieldValidation::Strict),
            Err(AdmitError::UnknownKind(_))
        ));
    }
}
