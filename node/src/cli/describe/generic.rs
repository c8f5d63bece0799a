//! `describe` for kinds without a dedicated renderer: the header, then every other top-level
//! field (`spec`, `status`, ...) as indented YAML.

use super::events::events_section;
use super::text::{header, Doc};
use capstan_core::time::Timestamp;
use serde_json::Value;

/// `spec` → `Spec`.
fn title(key: &str) -> String {
    let mut c = key.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Any object: header, its other top-level fields as YAML, events.
pub fn render_generic(obj: &Value, events: &[Value], now: Timestamp) -> String {
    let mut d = Doc::new();
    header(&mut d, obj);
    if let Some(m) = obj.as_object() {
        for (k, v) in m {
            if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            match v {
                Value::Object(_) | Value::Array(_) => {
                    d.line(0, &format!("{}:", title(k)));
                    let yaml = yaml_serde::to_string(v).unwrap_or_else(|_| v.to_string());
                    for l in yaml.lines() {
                        d.line(1, &l.replace('\t', "    "));
                    }
                }
                other => d.field(0, &title(k), &super::text::scalar(Some(other))),
            }
        }
    }
    events_section(&mut d, events, now);
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn other_kinds_show_their_fields_as_yaml() {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev", "labels": {"a": "b"}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        let text = render_generic(&ns, &[], Timestamp(0));
        assert!(text.starts_with("Name:"), "{text}");
        assert!(text.contains("Labels:             a=b\n"), "{text}");
        assert!(
            text.contains("Spec:\n  finalizers:\n  - kubernetes\n"),
            "{text}"
        );
        assert!(text.contains("Status:\n  phase: Active\n"), "{text}");
        assert!(text.contains("Events:"), "{text}");
    }
}
