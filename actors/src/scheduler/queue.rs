//! The pods waiting for a scheduling decision: active (to decide now, first come first served)
//! or backing off after a failed attempt.

use capstan_core::scheduler::PodInfo;
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// First retry delay after a failed attempt (kube-scheduler's podInitialBackoffSeconds).
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// Longest retry delay (kube-scheduler's podMaxBackoffSeconds).
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A pod waiting for a node.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// The pod as last seen.
    pub pod: Arc<Value>,
    /// What the engine needs of it.
    pub info: PodInfo,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not before this instant (after a failure).
    pub not_before: Option<Instant>,
    /// The message of the last failure, if any.
    pub last_message: Option<String>,
}

/// The queue. Every waiting pod is in `waiting`; those ready to try are also in `active`.
#[derive(Debug, Default)]
pub struct Queue {
    waiting: HashMap<String, Waiting>,
    active: VecDeque<String>,
    in_active: HashSet<String>,
}

impl Queue {
    /// Adds a new waiting pod, or refreshes one already waiting (keeping its backoff).
    pub fn upsert(&mut self, uid: &str, pod: Arc<Value>, info: PodInfo) {
        match self.waiting.get_mut(uid) {
            Some(w) => {
                w.pod = pod;
                w.info = info;
            }
            None => {
                self.waiting.insert(
                    uid.to_string(),
                    Waiting {
                        pod,
                        info,
                        attempts: 0,
                        not_before: None,
                        last_message: None,
                    },
                );
                self.activate(uid);
            }
        }
    }

    fn activate(&mut self, uid: &str) {
        if self.in_active.insert(uid.to_string()) {
            self.active.push_back(uid.to_string());
        }
    }

    /// The pod no longer waits (bound, deleted, or no longer ours).
    pub fn remove(&mut self, uid: &str) -> Option<Waiting> {
        self.in_active.remove(uid);
        // `active` may keep the uid; `pop` skips uids no longer waiting.
        self.waiting.remove(uid)
    }

    /// The next pod to decide, with its entry.
    pub fn pop(&mut self) -> Option<(String, Waiting)> {
        while let Some(uid) = self.active.pop_front() {
            if !self.in_active.remove(&uid) {
                continue;
            }
            if let Some(w) = self.waiting.get(&uid) {
                return Some((uid, w.clone()));
            }
        }
        None
    }

    /// Records a failed attempt: the pod backs off (1 s doubling to 10 s).
    pub fn failed(&mut self, uid: &str, message: String, now: Instant) {
        if let Some(w) = self.waiting.get_mut(uid) {
            w.attempts = w.attempts.saturating_add(1);
            let delay = INITIAL_BACKOFF
                .saturating_mul(1u32 << (w.attempts - 1).min(10))
                .min(MAX_BACKOFF);
            w.not_before = Some(now + delay);
            w.last_message = Some(message);
        }
    }

    /// Puts a pod back to be decided again now (a binding that did not land).
    pub fn retry_now(&mut self, uid: &str) {
        if let Some(w) = self.waiting.get_mut(uid) {
            w.not_before = None;
        }
        if self.waiting.contains_key(uid) {
            self.activate(uid);
        }
    }

    /// Activates the backing-off pods whose time has come; with `all`, every one (the cluster
    /// changed in a way that may let them fit). Returns how many were activated.
    pub fn wake(&mut self, now: Instant, all: bool) -> usize {
        let due: Vec<String> = self
            .waiting
            .iter()
            .filter(|(uid, w)| {
                !self.in_active.contains(*uid) && (all || w.not_before.is_none_or(|t| t <= now))
            })
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in &due {
            self.activate(uid);
        }
        due.len()
    }

    /// Pods waiting (active or backing off).
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Whether no pod is waiting.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Pods ready to decide now.
    pub fn active_len(&self) -> usize {
        self.in_active.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(uid: &str) -> PodInfo {
        PodInfo {
            uid: uid.into(),
            ..PodInfo::default()
        }
    }

    #[test]
    fn fifo_backoff_and_wake() {
        let mut q = Queue::default();
        let pod = Arc::new(Value::Null);
        q.upsert("a", pod.clone(), info("a"));
        q.upsert("b", pod.clone(), info("b"));
        q.upsert("a", pod.clone(), info("a")); // a refresh does not queue twice
        assert_eq!(q.pop().map(|p| p.0).as_deref(), Some("a"));
        let t0 = Instant::now();
        q.failed("a", "no".into(), t0);
        assert_eq!(q.pop().map(|p| p.0).as_deref(), Some("b"));
        assert!(q.pop().is_none());
        assert_eq!(q.wake(t0, false), 1, "b was never failed: due at once");
        assert_eq!(q.pop().map(|p| p.0).as_deref(), Some("b"));
        // b is placed: it leaves the queue.
        q.remove("b");
        assert_eq!(
            q.wake(t0 + Duration::from_millis(500), false),
            0,
            "a backs off 1 s"
        );
        assert_eq!(q.wake(t0 + Duration::from_secs(1), false), 1);
        assert_eq!(q.pop().map(|p| p.0).as_deref(), Some("a"));
        // The second failure doubles the delay, up to 10 s.
        q.failed("a", "no".into(), t0);
        assert_eq!(q.wake(t0 + Duration::from_millis(1500), false), 0);
        for _ in 0..10 {
            q.failed("a", "no".into(), t0);
        }
        assert_eq!(q.wake(t0 + Duration::from_secs(10), false), 1);
        // A cluster change wakes everyone at once.
        q.pop();
        q.failed("a", "no".into(), t0);
        assert_eq!(q.wake(t0, true), 1);
        // Removed pods are skipped.
        q.remove("a");
        assert!(q.pop().is_none());
        assert_eq!(q.len(), 0);
    }
}
