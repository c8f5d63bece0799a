//! The `Events:` section every describe ends with.

use super::text::{s, since, Doc};
use capstan_core::time::Timestamp;
use serde_json::Value;

fn last_seen(e: &Value) -> i64 {
    [
        "/lastTimestamp",
        "/eventTime",
        "/firstTimestamp",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .find_map(|p| Timestamp::parse_rfc3339(s(e, p)))
    .map(|t| t.0)
    .unwrap_or(0)
}

/// `Events:  <none>`, or a Type/Reason/Age/From/Message table sorted by when each was last seen.
pub fn events_section(d: &mut Doc, events: &[Value], now: Timestamp) {
    if events.is_empty() {
        d.field(0, "Events", "<none>");
        return;
    }
    d.flush();
    let mut sorted: Vec<&Value> = events.iter().collect();
    sorted.sort_by_key(|e| last_seen(e));
    d.line(0, "Events:");
    d.line(1, "Type\tReason\tAge\tFrom\tMessage");
    d.line(1, "----\t------\t----\t----\t-------");
    for e in sorted {
        let first = if s(e, "/eventTime").is_empty() {
            since(s(e, "/firstTimestamp"), now)
        } else {
            since(s(e, "/eventTime"), now)
        };
        let count = e.get("count").and_then(Value::as_i64).unwrap_or(0);
        let interval = if let Some(series) = e.get("series").filter(|v| v.is_object()) {
            let n = series.get("count").and_then(Value::as_i64).unwrap_or(0);
            format!(
                "{} (x{n} over {first})",
                since(s(series, "/lastObservedTime"), now)
            )
        } else if count > 1 {
            format!(
                "{} (x{count} over {first})",
                since(s(e, "/lastTimestamp"), now)
            )
        } else {
            first
        };
        let mut from = s(e, "/source/component");
        if from.is_empty() {
            from = s(e, "/reportingComponent");
        }
        let row = [
            s(e, "/type"),
            s(e, "/reason"),
            interval.as_str(),
            from,
            s(e, "/message").trim(),
        ]
        .map(super::text::clean)
        .join("\t");
        d.line(1, &row);
    }
}
