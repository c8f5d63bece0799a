//! The store: the master's durable desired state.
//!
//! [`Store`] is the only writer. It queues [`Write`] messages and commits them in group
//! commits: while one batch is being made durable on a blocking thread, new writes queue up
//! and go into the next batch together. A write is acknowledged only after its batch is
//! durable, and its change is published on the [`WatchHub`] before the acknowledgement.
//! Reads go straight to [`Db`], which redb serves concurrently with the writer.

mod db;
mod error;
mod watch;

pub use db::{now, object_key, Db, Outcome, WriteOp, WriteResult};
pub use error::StoreError;
pub use watch::{EventType, WatchEnd, WatchEvent, WatchHub, WatchStream};

use actix::prelude::*;
use capstan_core::kinds::ResourceKind;
use capstan_core::write_rules::Subresource;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 512;

/// Write one object (create, update, delete). Answered once the write is durable.
#[derive(Debug, Message)]
#[rtype(result = "Result<WriteResult, StoreError>")]
pub struct Write(pub WriteOp);

/// Ask the store how much it has committed (for metrics and tests).
#[derive(Debug, Message)]
#[rtype(result = "StoreStats")]
pub struct GetStats;

/// Counters of the store actor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Transactions committed.
    pub batches: u64,
    /// Writes answered (committed or refused).
    pub writes: u64,
}

type Reply = oneshot::Sender<Result<WriteResult, StoreError>>;

/// The single writer of the database.
pub struct Store {
    db: Arc<Db>,
    hub: WatchHub,
    queue: Vec<(WriteOp, Reply)>,
    committing: bool,
    stats: StoreStats,
}

/// Everything the rest of the master needs to use the store.
#[derive(Clone)]
pub struct StoreHandle {
    /// Send [`Write`]s here.
    pub writer: Addr<Store>,
    /// Read objects, lists and history here.
    pub db: Arc<Db>,
    /// Subscribe to changes here.
    pub hub: WatchHub,
}

impl StoreHandle {
    /// Sends one write and waits until it is durable.
    pub async fn write(&self, op: WriteOp) -> Result<WriteResult, StoreError> {
        self.writer
            .send(Write(op))
            .await
            .unwrap_or(Err(StoreError::Unavailable))
    }

    /// Reads one object, lets `change` edit it (returning false leaves it alone), and writes it
    /// back conditional on the version read, retrying from a fresh read when another write got
    /// in between. Returns the stored object, or `None` when it does not exist or `change`
    /// declined.
    pub async fn modify(
        &self,
        resource: &'static ResourceKind,
        namespace: &str,
        name: &str,
        subresource: Subresource,
        mut change: impl FnMut(&mut serde_json::Value) -> bool,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        const ATTEMPTS: usize = 5;
        for _ in 0..ATTEMPTS {
            let Some(mut obj) = self.db.get(resource, namespace, name)? else {
                return Ok(None);
            };
            let expected_revision = obj
                .pointer("/metadata/resourceVersion")
                .and_then(serde_json::Value::as_str)
                .and_then(|s| s.parse().ok());
            if !change(&mut obj) {
                return Ok(None);
            }
            match self
                .write(WriteOp::Update {
                    resource,
                    object: obj,
                    subresource,
                    expected_revision,
                })
                .await
            {
                Err(StoreError::Conflict { .. }) => continue,
                other => return other.map(|r| Some(r.object)),
            }
        }
        Err(StoreError::Conflict {
            resource: resource.qualified_plural(),
            name: name.to_string(),
            reason: format!("still conflicting after {ATTEMPTS} attempts"),
        })
    }

    /// Starts a watch of every change after `after`.
    pub fn watch(&self, after: u64) -> Result<WatchStream, StoreError> {
        WatchStream::start(&self.db, &self.hub, after)
    }
}

impl Store {
    /// Opens the database at `path` and starts the store actor on the current arbiter.
    /// `history` revisions of change log are kept for watchers; a watcher that falls
    /// `watch_buffer` events behind is cut off.
    pub fn start(
        path: &Path,
        history: u64,
        watch_buffer: usize,
    ) -> Result<StoreHandle, StoreError> {
        let db = Db::open(path, history)?;
        let hub = WatchHub::new(watch_buffer);
        let writer = Store {
            db: db.clone(),
            hub: hub.clone(),
            queue: Vec::new(),
            committing: false,
            stats: StoreStats::default(),
        }
        .start();
        Ok(StoreHandle { writer, db, hub })
    }

    /// Starts committing the queued writes unless a commit is already under way.
    fn kick(&mut self, ctx: &mut Context<Self>) {
        if self.committing || self.queue.is_empty() {
            return;
        }
        self.committing = true;
        let take = self.queue.len().min(MAX_BATCH);
        let (ops, replies): (Vec<WriteOp>, Vec<Reply>) = self.queue.drain(..take).unzip();
        let db = self.db.clone();
        let job = tokio::task::spawn_blocking(move || db.apply_batch(ops, db::now()));
        ctx.spawn(job.into_actor(self).map(move |joined, act, ctx| {
            act.committing = false;
            act.stats.batches += 1;
            act.stats.writes += replies.len() as u64;
            let outcome = joined.unwrap_or_else(|e| Err(StoreError::Storage(format!("commit task failed: {e}"))));
            match outcome {
                Ok((results, events)) => {
                    for e in events {
                        act.hub.publish(Arc::new(e));
                    }
                    for (reply, r) in replies.into_iter().zip(results) {
                        let _ = reply.send(r);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "store commit failed; writes in the batch are rejected");
                    for reply in replies {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
            act.kick(ctx);
        }));
    }
}

impl Actor for Store {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Writes move from the mailbox to our own queue at once; the mailbox only absorbs bursts.
        ctx.set_mailbox_capacity(65_536);
        tracing::info!("store started");
    }
}

impl Handler<Write> for Store {
    type Result = ResponseFuture<Result<WriteResult, StoreError>>;

    fn handle(&mut self, msg: Write, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.queue.push((msg.0, tx));
        self.kick(ctx);
        Box::pin(async move { rx.await.unwrap_or(Err(StoreError::Unavailable)) })
    }
}

impl Handler<GetStats> for Store {
    type Result = MessageResult<GetStats>;

    fn handle(&mut self, _: GetStats, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.stats)
    }
}

#[cfg(test)]
mod tests;
