//! Feeds the scheduler: a list of nodes and pods, then a watch of their changes in batches; a
//! new list when the watch falls behind. Both lists are applied idempotently, so the watch
//! starts from the older list's revision and may repeat a change the newer list already holds.

use super::actor::{Changes, Resync, SchedulerActor};
use crate::store::{StoreHandle, WatchEnd};
use actix::Addr;
use capstan_core::kinds::{NODES, PODS};
use futures_util::FutureExt;
use std::time::Duration;

/// Most changes handed over in one batch.
const BATCH: usize = 2048;

/// Runs until the store closes or the actor goes away.
pub(crate) async fn run(actor: Addr<SchedulerActor>, store: StoreHandle) {
    loop {
        let db = store.db.clone();
        let listed = tokio::task::spawn_blocking(move || {
            let (nodes, r1) = db.list(NODES, None)?;
            let (pods, r2) = db.list(PODS, None)?;
            Ok::<_, crate::store::StoreError>((nodes, pods, r1.min(r2)))
        })
        .await;
        let (nodes, pods, revision) = match listed {
            Ok(Ok(l)) => l,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "scheduler: listing failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(_) => return,
        };
        if actor.send(Resync { nodes, pods }).await.is_err() {
            return;
        }
        let mut watch = match store.watch(revision) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "scheduler: watch failed; re-listing");
                continue;
            }
        };
        loop {
            let first = match watch.next().await {
                Ok(e) => e,
                Err(WatchEnd::TooSlow) => {
                    tracing::warn!("scheduler fell behind the store; re-listing");
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
            batch.retain(|e| e.resource.kind == "Pod" || e.resource.kind == "Node");
            if !batch.is_empty() && actor.send(Changes(batch)).await.is_err() {
                return;
            }
            match ended {
                Some(WatchEnd::Closed) => return,
                Some(WatchEnd::TooSlow) => break,
                None => {}
            }
        }
    }
}
