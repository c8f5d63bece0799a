//! Decoding outside input: JSON and YAML documents (one or many), and typed decoding that
//! reports unknown fields with their Kubernetes paths (`spec.containers[0].foo`) so the API
//! server can refuse them (`fieldValidation=Strict`) or warn about them.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

/// Why a document could not be decoded. Every message says where (line/column or field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not valid JSON; the message carries line and column.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// The bytes are not valid YAML; the message carries line and column.
    #[error("invalid YAML: {0}")]
    Yaml(String),
    /// The document parsed but does not fit the object's schema (wrong type for a field).
    #[error("{0}")]
    Schema(String),
    /// The document is not a JSON/YAML object (e.g. a bare string or list).
    #[error("the document must be an object, got {0}")]
    NotAnObject(&'static str),
}

/// Parses one JSON document.
pub fn parse_json(bytes: &[u8]) -> Result<Value, DecodeError> {
    serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))
}

/// Deepest nesting of flow collections (`[`, `{`) accepted in YAML. The YAML parser's cost
/// grows with the square of the depth, so depth is checked before parsing.
pub const MAX_YAML_FLOW_DEPTH: usize = 100;

/// Refuses YAML whose flow collections nest deeper than [`MAX_YAML_FLOW_DEPTH`], by a cheap scan
/// that skips quoted strings and comments.
fn check_yaml_depth(text: &[u8]) -> Result<(), DecodeError> {
    let (mut depth, mut line) = (0usize, 1usize);
    let mut quote: Option<u8> = None;
    let mut comment = false;
    let mut prev = b' ';
    for &b in text {
        if b == b'\n' {
            line += 1;
            comment = false;
        }
        match (quote, b) {
            _ if comment => {}
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'#') if prev.is_ascii_whitespace() => comment = true,
            (None, b'[' | b'{') => {
                depth += 1;
                if depth > MAX_YAML_FLOW_DEPTH {
                    return Err(DecodeError::Yaml(format!(
                        "collections nest deeper than {MAX_YAML_FLOW_DEPTH} levels at line {line}"
                    )));
                }
            }
            (None, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        prev = b;
    }
    Ok(())
}

/// Parses one YAML document (JSON is valid YAML too).
pub fn parse_yaml(bytes: &[u8]) -> Result<Value, DecodeError> {
    check_yaml_depth(bytes)?;
    yaml_serde::from_slice(bytes).map_err(|e| DecodeError::Yaml(e.to_string()))
}

/// Parses a request body by its content type: YAML for `application/yaml`, JSON otherwise.
pub fn parse_body(bytes: &[u8], content_type: &str) -> Result<Value, DecodeError> {
    let v = if content_type.contains("yaml") {
        parse_yaml(bytes)?
    } else {
        parse_json(bytes)?
    };
    require_object(v)
}

/// Parses a manifest file: a JSON document, or one or more YAML documents separated by `---`.
/// Empty documents are skipped; a `kind: List` (or `*List`) is expanded into its items.
pub fn parse_manifests(text: &str) -> Result<Vec<Value>, DecodeError> {
    let trimmed = text.trim_start();
    let docs: Vec<Value> = if trimmed.starts_with('{') {
        let mut out = Vec::new();
        for v in serde_json::Deserializer::from_str(trimmed).into_iter::<Value>() {
            out.push(v.map_err(|e| DecodeError::Json(e.to_string()))?);
        }
        out
    } else {
        check_yaml_depth(text.as_bytes())?;
        let mut out = Vec::new();
        for doc in yaml_serde::Deserializer::from_str(text) {
            let v = Value::deserialize(doc).map_err(|e| DecodeError::Yaml(e.to_string()))?;
            out.push(v);
        }
        out
    };
    let mut objects = Vec::new();
    for doc in docs {
        match doc {
            Value::Null => continue,
            Value::Object(ref m) => {
                let is_list = m
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k == "List" || k.ends_with("List"));
                match (is_list, m.get("items")) {
                    (true, Some(Value::Array(items))) => {
                        for item in items {
                            objects.push(require_object(item.clone())?);
                        }
                    }
                    _ => objects.push(doc),
                }
            }
            other => return Err(DecodeError::NotAnObject(type_name(&other))),
        }
    }
    Ok(objects)
}

fn require_object(v: Value) -> Result<Value, DecodeError> {
    match v {
        Value::Object(_) => Ok(v),
        other => Err(DecodeError::NotAnObject(type_name(&other))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Decodes `value` into `T`, returning the paths of every field `T` does not know
/// (`spec.containers[0].foo`), in key order. Known fields are never dropped.
pub fn decode_typed<T: DeserializeOwned>(value: &Value) -> Result<(T, Vec<String>), DecodeError> {
    let mut unknown = Vec::new();
    let typed = serde_ignored::deserialize(value, |path| unknown.push(kube_path(&path)))
        .map_err(|e: serde_json::Error| DecodeError::Schema(e.to_string()))?;
    Ok((typed, unknown))
}

/// Renders a serde_ignored path the Kubernetes way: dots between fields, `[i]` for list items.
fn kube_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", kube_path(parent)),
        Path::Map { parent, key } => {
            let p = kube_path(parent);
            if p.is_empty() {
                key.to_string()
            } else {
                format!("{p}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => kube_path(parent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Debug, Default, Deserialize, Serialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        #[serde(default)]
        name: String,
    }

    #[derive(Debug, Default, Deserialize, Serialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Outer {
        #[serde(default)]
        items: Vec<Inner>,
        #[serde(default)]
        inner: Option<Inner>,
    }

    #[test]
    fn unknown_fields_are_reported_with_kubernetes_paths() {
        let v: Value = serde_json::json!({
            "items": [{"name": "a"}, {"name": "b", "colour": "red"}],
            "inner": {"name": "x", "extra": 1},
            "top": true
        });
        let (typed, unknown) = decode_typed::<Outer>(&v).expect("decodes");
        assert_eq!(typed.items.len(), 2);
        // JSON objects iterate in key order.
        assert_eq!(unknown, vec!["inner.extra", "items[1].colour", "top"]);
    }

    #[test]
    fn wrong_types_name_the_problem() {
        let v: Value = serde_json::json!({"items": "nope"});
        let err = decode_typed::<Outer>(&v).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }

    #[test]
    fn manifests_split_and_lists_expand() {
        let text = "a: 1\n---\n\n---\nkind: List\nitems:\n- b: 2\n- c: 3\n";
        let docs = parse_manifests(text).expect("parses");
        assert_eq!(docs.len(), 3);
        let json = "{\"a\":1}\n{\"b\":2}";
        assert_eq!(parse_manifests(json).expect("parses json stream").len(), 2);
    }

    #[test]
    fn bad_documents_say_where() {
        let err = parse_manifests("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.to_string().contains("line"), "{err}");
        let err = parse_json(b"{\"a\": }").unwrap_err();
        assert!(err.to_string().contains("line 1 column"), "{err}");
        assert_eq!(
            parse_body(b"[1]", "application/json").unwrap_err(),
            DecodeError::NotAnObject("a list")
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(3_000_000);
        assert!(parse_json(deep.as_bytes()).is_err());
        let deep_yaml = "a: ".to_string() + &"[".repeat(3_000_000);
        let err = parse_yaml(deep_yaml.as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .contains("nest deeper than 100 levels at line 1"),
            "{err}"
        );
        assert!(parse_manifests(&deep_yaml).is_err());
        // Brackets inside quotes and comments do not count.
        let quoted = format!(
            "a: \"{}\"\nb: '{}' # {}\nc: [[1]]\n",
            "[".repeat(500),
            "{".repeat(500),
            "[".repeat(500)
        );
        assert!(parse_yaml(quoted.as_bytes()).is_ok());
    }
}
