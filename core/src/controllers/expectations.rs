//! Expectations, as client-go's: after acting on a key, a controller does not act on it again
//! until it has observed as many changes of the objects it wrote as it wrote (or a timeout
//! passes), so that a cache that lags behind the store never makes it create or delete twice.
//! Time is the caller's clock in milliseconds (real or virtual).

use std::collections::HashMap;

#[derive(Debug, Clone, Copy)]
struct Pending {
    left: usize,
    until_ms: u64,
}

/// The keys waiting for the effects of their last actions.
#[derive(Debug, Clone)]
pub struct Expectations {
    timeout_ms: u64,
    pending: HashMap<String, Pending>,
}

impl Expectations {
    /// Expectations that give up after `timeout_ms`.
    pub fn new(timeout_ms: u64) -> Expectations {
        Expectations {
            timeout_ms,
            pending: HashMap::new(),
        }
    }

    /// `key` wrote `writes` creations or deletions at `now_ms` (0: nothing to wait for).
    pub fn expect(&mut self, key: &str, writes: usize, now_ms: u64) {
        if writes == 0 {
            return;
        }
        self.pending.insert(
            key.to_string(),
            Pending {
                left: writes,
                until_ms: now_ms.saturating_add(self.timeout_ms),
            },
        );
    }

    /// One of `key`'s writes has been observed.
    pub fn observed(&mut self, key: &str) {
        if let Some(p) = self.pending.get_mut(key) {
            p.left = p.left.saturating_sub(1);
            if p.left == 0 {
                self.pending.remove(key);
            }
        }
    }

    /// Whether `key` must wait before it is reconciled again.
    pub fn waiting(&self, key: &str) -> bool {
        self.pending.contains_key(key)
    }

    /// Gives up on the keys whose writes did not all show by `now_ms`; returns them (to be
    /// reconciled again).
    pub fn expire(&mut self, now_ms: u64) -> Vec<String> {
        let expired: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.until_ms <= now_ms)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &expired {
            self.pending.remove(k);
        }
        expired
    }

    /// Stops waiting for `key` (its writes failed).
    pub fn forget(&mut self, key: &str) {
        self.pending.remove(key);
    }

    /// Stops waiting for every key (after a fresh list, the cache is current).
    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Expectations;

    #[test]
    fn a_key_waits_until_each_write_is_seen_or_time_runs_out() {
        let mut e = Expectations::new(15_000);
        e.expect("ns/a", 0, 0);
        assert!(!e.waiting("ns/a"), "nothing written, nothing to wait for");
        e.expect("ns/a", 3, 1_000);
        e.observed("ns/a");
        e.observed("ns/a");
        assert!(e.waiting("ns/a"));
        e.observed("ns/a");
        assert!(!e.waiting("ns/a"));
        e.observed("ns/a");
        assert!(!e.waiting("ns/a"), "extra observations do no harm");

        e.expect("ns/b", 2, 1_000);
        assert!(e.expire(15_999).is_empty());
        assert_eq!(e.expire(16_000), ["ns/b"]);
        assert!(!e.waiting("ns/b"));

        e.expect("ns/c", 1, 0);
        e.forget("ns/c");
        assert!(!e.waiting("ns/c"));
        e.expect("ns/d", 1, 0);
        e.clear();
        assert!(!e.waiting("ns/d"));
    }
}
