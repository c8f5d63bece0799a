//! A deduplicating work queue of object keys, as client-go's workqueue: a key waits at most
//! once; a key being processed that is added again is processed again afterwards; keys can be
//! added after a delay.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::Instant;

/// The queue. Keys are `namespace/name`.
#[derive(Debug, Default)]
pub struct WorkQueue {
    ready: VecDeque<String>,
    queued: HashSet<String>,
    delayed: BTreeMap<Instant, Vec<String>>,
}

impl WorkQueue {
    /// Adds `key` unless it already waits.
    pub fn add(&mut self, key: &str) {
        if self.queued.insert(key.to_string()) {
            self.ready.push_back(key.to_string());
        }
    }

    /// Adds `key` once `at` has passed.
    pub fn add_at(&mut self, key: &str, at: Instant) {
        self.delayed.entry(at).or_default().push(key.to_string());
    }

    /// Moves the delayed keys whose time has come to the ready queue.
    pub fn promote(&mut self, now: Instant) {
        let later = self.delayed.split_off(&now);
        let due = std::mem::replace(&mut self.delayed, later);
        for keys in due.into_values() {
            for k in keys {
                self.add(&k);
            }
        }
    }

    /// The next key to process.
    pub fn pop(&mut self) -> Option<String> {
        let k = self.ready.pop_front()?;
        self.queued.remove(&k);
        Some(k)
    }

    /// Keys ready now.
    pub fn len(&self) -> usize {
        self.ready.len()
    }

    /// Whether no key is ready.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keys_are_deduplicated_and_delayed_ones_come_later() {
        let mut q = WorkQueue::default();
        q.add("a");
        q.add("b");
        q.add("a");
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop().as_deref(), Some("a"));
        q.add("a"); // added again while "processing": comes back
        assert_eq!(q.pop().as_deref(), Some("b"));
        assert_eq!(q.pop().as_deref(), Some("a"));
        assert!(q.pop().is_none());
        let t0 = Instant::now();
        q.add_at("c", t0 + Duration::from_secs(1));
        q.promote(t0);
        assert!(q.is_empty());
        q.promote(t0 + Duration::from_secs(2));
        assert_eq!(q.pop().as_deref(), Some("c"));
    }
}
