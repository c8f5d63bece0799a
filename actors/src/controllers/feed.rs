//! Feeds a controller: a list of each watched kind, then their changes in batches; a new list
//! when the watch falls behind (as an informer's relist).

use crate::store::{StoreHandle, WatchEnd, WatchEvent};
use actix::prelude::*;
use capstan_core::kinds::ResourceKind;
use futures_util::FutureExt;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A fresh list of every watched kind.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Listed(pub Vec<(&'static str, Vec<Value>)>);

/// Changes, in revision order.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Changed(pub Vec<Arc<WatchEvent>>);

/// Most changes handed over at once.
const BATCH: usize = 1024;

/// Runs until the store closes or the receiver goes away.
pub async fn run(
    listed: Recipient<Listed>,
    changed: Recipient<Changed>,
    store: StoreHandle,
    kinds: Vec<&'static ResourceKind>,
) {
    loop {
        let db = store.db.clone();
        let ks = kinds.clone();
        let lists = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            let mut revision = u64::MAX;
            for k in ks {
                let (objects, rev) = db.list(k, None)?;
                revision = revision.min(rev);
                out.push((k.kind, objects));
            }
            Ok::<_, crate::store::StoreError>((out, revision))
        })
        .await;
        let (lists, revision) = match lists {
            Ok(Ok(l)) => l,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "controller list failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(_) => return,
        };
        if listed.send(Listed(lists)).await.is_err() {
            return;
        }
        let Ok(mut watch) = store.watch(revision) else {
            continue;
        };
        loop {
            let first = match watch.next().await {
                Ok(e) => e,
                Err(WatchEnd::TooSlow) => {
                    tracing::warn!("a controller's watch fell behind the store; re-listing");
                    break;
                }
                Err(WatchEnd::Closed) => return,
            };
            let mut batch = vec![first];
            let mut ended = None;
            while batch.len() < BATCH {
                match watch.next().now_or_never() {
                    Some(Ok(e)) => batch.push(e),
                    Some(Err(end)) => {
                        ended = Some(end);
                        break;
                    }
                    None => break,
                }
            }
            batch.retain(|e| kinds.iter().any(|k| k.kind == e.resource.kind));
            if !batch.is_empty() && changed.send(Changed(batch)).await.is_err() {
                return;
            }
            match ended {
                Some(WatchEnd::Closed) => return,
                Some(WatchEnd::TooSlow) => {
                    tracing::warn!("a controller's watch fell behind the store; re-listing");
                    break;
                }
                None => {}
            }
        }
    }
}
