//! The watch hub: fans committed changes out to watchers, and the per-watcher stream that
//! replays history from the database before going live without gaps or repeats.

use super::db::Db;
use super::error::StoreError;
use capstan_core::kinds::ResourceKind;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed (including marked for deletion).
    Modified,
    /// Removed; the object is its last state.
    Deleted,
}

impl EventType {
    /// `ADDED`, `MODIFIED`, `DELETED` as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<EventType> {
        match s {
            "ADDED" => Some(EventType::Added),
            "MODIFIED" => Some(EventType::Modified),
            "DELETED" => Some(EventType::Deleted),
            _ => None,
        }
    }
}

/// One committed change.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    /// The revision of the write (the object's resourceVersion).
    pub revision: u64,
    /// What happened.
    pub event_type: EventType,
    /// The resource of the object.
    pub resource: &'static ResourceKind,
    /// The object's namespace (empty for cluster-scoped kinds).
    pub namespace: String,
    /// The object as written (for deletions, its last state at the deletion's revision).
    pub object: Arc<Value>,
}

/// Fan-out of committed changes. Cloning shares the hub.
#[derive(Clone)]
pub struct WatchHub {
    tx: broadcast::Sender<Arc<WatchEvent>>,
}

impl WatchHub {
    /// A hub whose watchers may fall `capacity` events behind before they are cut off.
    pub fn new(capacity: usize) -> WatchHub {
        let (tx, _) = broadcast::channel(capacity.max(16));
        WatchHub { tx }
    }

    /// A live receiver of every change published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<WatchEvent>> {
        self.tx.subscribe()
    }

    pub(crate) fn publish(&self, event: Arc<WatchEvent>) {
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(event);
    }

    /// Number of live watchers (for metrics and tests).
    pub fn watchers(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// Why a watch stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEnd {
    /// The watcher fell too far behind and was cut off; it must re-list.
    TooSlow,
    /// The hub closed (master shutting down).
    Closed,
}

/// A watch from a revision: history from the database, then live events, each exactly once
/// and in revision order.
pub struct WatchStream {
    replay: VecDeque<Arc<WatchEvent>>,
    live: broadcast::Receiver<Arc<WatchEvent>>,
    /// Live events at or below this revision were already covered by the replay.
    covered: u64,
}

impl WatchStream {
    /// Starts a watch of every change after revision `after`. Fails with `Gone` if that
    /// revision has been compacted away.
    pub fn start(db: &Db, hub: &WatchHub, after: u64) -> Result<WatchStream, StoreError> {
        // Subscribe before reading history, so that nothing committed in between is missed;
        // live events already covered by the history are dropped by revision.
        let live = hub.subscribe();
        let (history, current) = db.events_after(after)?;
        Ok(WatchStream {
            replay: history.into_iter().map(Arc::new).collect(),
            live,
            covered: after.max(current),
        })
    }

    /// The next change, or why the stream ended.
    pub async fn next(&mut self) -> Result<Arc<WatchEvent>, WatchEnd> {
        if let Some(e) = self.replay.pop_front() {
            return Ok(e);
        }
        loop {
            match self.live.recv().await {
                Ok(e) if e.revision <= self.covered => continue,
                Ok(e) => {
                    self.covered = e.revision;
                    return Ok(e);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => return Err(WatchEnd::TooSlow),
                Err(broadcast::error::RecvError::Closed) => return Err(WatchEnd::Closed),
            }
        }
    }

    /// A revision the watcher has fully seen, for bookmarks: once the replay is drained,
    /// every change up to it has been handed out.
    pub fn bookmark_revision(&self) -> Option<u64> {
        self.replay.is_empty().then_some(self.covered)
    }
}
