//! The building blocks of describe output: kubectl's prefix writer (tab-separated cells aligned
//! by a tabwriter, two spaces per level), JSON accessors and time formatting.

use crate::cli::tabwriter::{self, DESCRIBE};
use capstan_core::time::{human_duration, Timestamp};
use serde_json::{Map, Value};

/// Where kubectl records `apply`'s input; describe leaves it out.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Describe output under construction. Lines hold `\t`-separated cells; `flush` ends an
/// alignment block (kubectl flushes its tabwriter before the events table).
#[derive(Debug, Default)]
pub struct Doc {
    done: String,
    pending: String,
}

impl Doc {
    /// An empty document.
    pub fn new() -> Doc {
        Doc::default()
    }

    /// Writes `text` at indentation `level` (two spaces each).
    pub fn write(&mut self, level: usize, text: &str) {
        for _ in 0..level {
            self.pending.push_str("  ");
        }
        self.pending.push_str(text);
    }

    /// Writes one line (`text` plus a newline) at `level`.
    pub fn line(&mut self, level: usize, text: &str) {
        self.write(level, text);
        self.pending.push('\n');
    }

    /// `Key:\tvalue` at `level`.
    pub fn field(&mut self, level: usize, key: &str, value: &str) {
        self.line(level, &format!("{key}:\t{}", clean(value)));
    }

    /// Aligns what was written so far as its own block.
    pub fn flush(&mut self) {
        let text = std::mem::take(&mut self.pending);
        self.done.push_str(&tabwriter::align(&text, DESCRIBE));
    }

    /// The aligned text.
    pub fn finish(mut self) -> String {
        self.flush();
        self.done
    }
}

/// Cell text without the tabs and newlines that would break alignment.
pub fn clean(s: &str) -> String {
    s.replace(['\t', '\n'], " ")
}

/// A string at `pointer`, or `""`.
pub fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// An integer at `pointer`, or `default`.
pub fn int(v: &Value, pointer: &str, default: i64) -> i64 {
    v.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

/// A list at `pointer`, or empty.
pub fn list<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A map at `pointer`, if any.
pub fn map<'a>(v: &'a Value, pointer: &str) -> Option<&'a Map<String, Value>> {
    v.pointer(pointer).and_then(Value::as_object)
}

/// A scalar as text (`"25%"` → `25%`, `1` → `1`, `true` → `true`); `""` for null/absent.
pub fn scalar(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(t)) => t.clone(),
        Some(other) => other.to_string(),
    }
}

/// `text`, or `<none>` when empty.
pub fn or_none(text: &str) -> String {
    if text.is_empty() {
        "<none>".into()
    } else {
        text.to_string()
    }
}

/// `True`/`False` like kubectl's `printBool`.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// RFC 3339 → Go's RFC1123Z in UTC (`Mon, 02 Jan 2006 15:04:05 +0000`); unparsable text is
/// returned as is, empty as `<unknown>`.
pub fn rfc1123z(ts: &str) -> String {
    let Some(t) = Timestamp::parse_rfc3339(ts) else {
        return if ts.is_empty() {
            "<unknown>".into()
        } else {
            ts.to_string()
        };
    };
    let text = t.to_rfc3339();
    let weekday = DAYS[usize::try_from((t.0.div_euclid(86_400) + 4).rem_euclid(7)).unwrap_or(0)];
    let month = text
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("???");
    let (year, day, clock) = (
        text.get(0..4).unwrap_or(""),
        text.get(8..10).unwrap_or(""),
        text.get(11..19).unwrap_or(""),
    );
    format!("{weekday}, {day} {month} {year} {clock} +0000")
}

/// Time since `ts` as kubectl prints ages (`5m`), `<unknown>` when absent.
pub fn since(ts: &str, now: Timestamp) -> String {
    match Timestamp::parse_rfc3339(ts) {
        Some(t) => human_duration(t.seconds_until(now)),
        None => "<unknown>".into(),
    }
}

/// `Labels:` with one `k=v` per line (sorted), or `<none>`.
pub fn labels_multiline(
    d: &mut Doc,
    level: usize,
    title: &str,
    labels: Option<&Map<String, Value>>,
) {
    let mut pairs: Vec<String> = labels
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", scalar(Some(v))))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    multiline(d, level, title, &pairs);
}

/// `Annotations:` with one `k: v` per line (sorted), the last-applied one left out.
pub fn annotations_multiline(
    d: &mut Doc,
    level: usize,
    title: &str,
    annotations: Option<&Map<String, Value>>,
) {
    let mut pairs: Vec<String> = annotations
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.as_str() != LAST_APPLIED)
                .map(|(k, v)| format!("{k}: {}", scalar(Some(v))))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    multiline(d, level, title, &pairs);
}

/// `Title:\tfirst` then `\tnext` lines, or `Title:\t<none>`.
pub fn multiline(d: &mut Doc, level: usize, title: &str, items: &[String]) {
    match items.split_first() {
        None => d.field(level, title, "<none>"),
        Some((first, rest)) => {
            d.field(level, title, first);
            for item in rest {
                d.line(level, &format!("\t{}", clean(item)));
            }
        }
    }
}

/// `app=web,tier in (a,b)` from a LabelSelector, `<none>` when empty.
pub fn format_selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel else {
        return "<none>".into();
    };
    let mut parts: Vec<(String, String)> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            parts.push((k.clone(), format!("{k}={}", scalar(Some(v)))));
        }
    }
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let key = s(e, "/key");
        let mut values: Vec<String> = list(e, "/values").iter().map(|v| scalar(Some(v))).collect();
        values.sort();
        let text = match s(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            other => format!("{key} {other} ({})", values.join(",")),
        };
        parts.push((key.to_string(), text));
    }
    parts.sort();
    or_none(
        &parts
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// The controller owner (`ReplicaSet/web-abc`), if any.
pub fn controlled_by(obj: &Value) -> Option<String> {
    list(obj, "/metadata/ownerReferences")
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .map(|r| format!("{}/{}", s(r, "/kind"), s(r, "/name")))
}

/// The lines every describe starts with: Name, Namespace (namespaced objects), Labels,
/// Annotations and CreationTimestamp.
pub fn header(d: &mut Doc, obj: &Value) {
    d.field(0, "Name", s(obj, "/metadata/name"));
    let ns = s(obj, "/metadata/namespace");
    if !ns.is_empty() {
        d.field(0, "Namespace", ns);
    }
    labels_multiline(d, 0, "Labels", map(obj, "/metadata/labels"));
    annotations_multiline(d, 0, "Annotations", map(obj, "/metadata/annotations"));
    d.field(
        0,
        "CreationTimestamp",
        &rfc1123z(s(obj, "/metadata/creationTimestamp")),
    );
}

/// A resource list (`cpu: 100m`) sorted by name, one per line at `level`.
pub fn resource_list(d: &mut Doc, level: usize, resources: Option<&Map<String, Value>>) {
    let Some(m) = resources else { return };
    let mut names: Vec<&String> = m.keys().collect();
    names.sort();
    for n in names {
        d.field(level, n, &scalar(m.get(n)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_format_like_go() {
        assert_eq!(
            rfc1123z("2026-11-28T09:41:15Z"),
            "Sat, 28 Nov 2026 09:41:15 +0000"
        );
        assert_eq!(
            rfc1123z("1970-01-01T00:00:00Z"),
            "Thu, 01 Jan 1970 00:00:00 +0000"
        );
        assert_eq!(rfc1123z(""), "<unknown>");
        let t = Timestamp::parse_rfc3339("2026-11-28T09:41:15Z").expect("parses");
        assert_eq!(since("2026-11-28T09:41:15Z", Timestamp(t.0 + 300)), "5m");
        assert_eq!(since("", t), "<unknown>");
    }

    #[test]
    fn selectors_format_like_kubectl() {
        let cases = [
            (json!({"matchLabels": {"b": "2", "a": "1"}}), "a=1,b=2"),
            (
                json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}, {"key": "x", "operator": "DoesNotExist"}]}),
                "env in (dev,prod),!x",
            ),
            (json!({}), "<none>"),
        ];
        for (sel, want) in cases {
            assert_eq!(format_selector(Some(&sel)), want);
        }
    }

    #[test]
    fn multiline_fields_align() {
        let mut d = Doc::new();
        d.field(0, "Name", "web");
        labels_multiline(&mut d, 0, "Labels", json!({"b": "2", "a": "1"}).as_object());
        annotations_multiline(
            &mut d,
            0,
            "Annotations",
            json!({LAST_APPLIED: "{}"}).as_object(),
        );
        assert_eq!(
            d.finish(),
            "Name:         web\nLabels:       a=1\n              b=2\nAnnotations:  <none>\n"
        );
    }
}
