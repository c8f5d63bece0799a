//! Events expire: every minute, Events last seen more than `ttl` ago are deleted (Kubernetes'
//! API server keeps them one hour).

use crate::store::{StoreHandle, WriteOp};
use capstan_core::kinds;
use capstan_core::time::Timestamp;
use serde_json::Value;
use std::time::Duration;

/// How often expired Events are looked for.
const EVERY: Duration = Duration::from_secs(60);

fn last_seen(e: &Value) -> Option<Timestamp> {
    [
        "/lastTimestamp",
        "/eventTime",
        "/firstTimestamp",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .find_map(|p| {
        e.pointer(p)
            .and_then(Value::as_str)
            .and_then(Timestamp::parse_rfc3339)
    })
}

/// The Events among `events` last seen before `now - ttl`: (namespace, name, uid).
pub fn expired(events: &[Value], now: Timestamp, ttl: Duration) -> Vec<(String, String, String)> {
    let cutoff = now.0 - i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
    events
        .iter()
        .filter(|e| last_seen(e).is_some_and(|t| t.0 < cutoff))
        .map(|e| {
            let s = |p: &str| {
                e.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            (
                s("/metadata/namespace"),
                s("/metadata/name"),
                s("/metadata/uid"),
            )
        })
        .collect()
}

/// Runs forever: deletes expired Events every minute.
pub async fn run(store: StoreHandle, ttl: Duration) {
    let Some(resource) = kinds::by_path("", "v1", "events") else {
        return;
    };
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let db = store.db.clone();
        let Ok(Ok((events, _))) =
            tokio::task::spawn_blocking(move || db.list(resource, None)).await
        else {
            continue;
        };
        for (namespace, name, uid) in expired(&events, crate::store::now(), ttl) {
            let _ = store
                .write(WriteOp::Delete {
                    resource,
                    namespace,
                    name,
                    expected_uid: Some(uid),
                    expected_revision: None,
                    grace_seconds: None,
                })
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_events_older_than_the_ttl_expire() {
        let now = Timestamp(10_000);
        let at = |secs: i64| Timestamp(secs).to_rfc3339();
        let events = vec![
            json!({"metadata": {"namespace": "d", "name": "old", "uid": "1"}, "lastTimestamp": at(10_000 - 3601)}),
            json!({"metadata": {"namespace": "d", "name": "new", "uid": "2"}, "lastTimestamp": at(10_000 - 10)}),
            json!({"metadata": {"namespace": "d", "name": "first-only", "uid": "3"}, "firstTimestamp": at(1)}),
        ];
        let gone: Vec<String> = expired(&events, now, Duration::from_secs(3600))
            .into_iter()
            .map(|e| e.1)
            .collect();
        assert_eq!(gone, ["old", "first-only"]);
    }
}
