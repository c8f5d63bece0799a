//! How fast silent nodes may be tainted `unreachable:NoExecute` (which evicts their pods):
//! the disruption handling of Kubernetes' node lifecycle controller, over the whole cluster
//! taken as one zone.
//!
//! - **Normal** (few nodes silent): at most `node_eviction_rate` nodes a second (Kubernetes:
//!   `--node-eviction-rate`, 0.1), with a burst of one, so a single lost node is tainted at once.
//! - **Partial disruption** (more than two nodes and at least 55 % of them silent): at most
//!   `secondary_node_eviction_rate` a second (0.01) in a cluster of more than 50 nodes, none in
//!   a smaller one. So many nodes going silent at once is more likely a problem of the master or
//!   of the network than of the nodes, and evicting their pods would only pile them onto the
//!   few nodes left.
//! - **Full disruption** (every node silent): no node is tainted, and taints already set are
//!   lifted: the master assumes the fault is its own.
//!
//! Nodes are still marked `Ready=Unknown` as soon as they go silent, in every state; only the
//! eviction waits. The clock is a parameter, so the limiter runs on a virtual clock in tests.

/// The share of silent nodes, in percent, from which the cluster counts as partially
/// disrupted (Kubernetes: `--unhealthy-zone-threshold`, 0.55).
pub const UNHEALTHY_PERCENT: usize = 55;

/// Clusters of at most this many nodes evict nothing while partially disrupted (Kubernetes:
/// `--large-cluster-size-threshold`).
pub const LARGE_CLUSTER: usize = 50;

/// How much of the cluster is silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disruption {
    /// Few nodes silent: evict at the normal rate.
    Normal,
    /// Most nodes silent: evict at the secondary rate, or not at all in a small cluster.
    Partial,
    /// Every node silent: evict nothing, lift the taints.
    Full,
}

impl Disruption {
    /// The state of a cluster of `total` nodes of which `silent` are silent.
    pub fn of(silent: usize, total: usize) -> Disruption {
        if silent > 0 && silent >= total {
            Disruption::Full
        } else if silent > 2
            && silent.saturating_mul(100) >= UNHEALTHY_PERCENT.saturating_mul(total)
        {
            Disruption::Partial
        } else {
            Disruption::Normal
        }
    }
}

/// Eviction rates, in nodes a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvictionRates {
    /// While few nodes are silent.
    pub normal: f64,
    /// While most are, in a cluster of more than [`LARGE_CLUSTER`] nodes.
    pub secondary: f64,
}

impl Default for EvictionRates {
    /// Kubernetes' defaults: 0.1 and 0.01 nodes a second.
    fn default() -> Self {
        EvictionRates {
            normal: 0.1,
            secondary: 0.01,
        }
    }
}

impl EvictionRates {
    /// The rate for a cluster of `total` nodes in `state`.
    pub fn rate(&self, state: Disruption, total: usize) -> f64 {
        match state {
            Disruption::Normal => self.normal,
            Disruption::Partial if total > LARGE_CLUSTER => self.secondary,
            Disruption::Partial | Disruption::Full => 0.0,
        }
    }
}

/// A token bucket with a burst of one node, refilled at the rate of the cluster's current
/// state.
#[derive(Debug, Clone)]
pub struct EvictionLimiter {
    rates: EvictionRates,
    tokens: f64,
    last_ms: Option<u64>,
}

impl EvictionLimiter {
    /// A limiter with a full bucket (the first silent node is tainted at once).
    pub fn new(rates: EvictionRates) -> EvictionLimiter {
        EvictionLimiter {
            rates,
            tokens: 1.0,
            last_ms: None,
        }
    }

    /// How many of `waiting` nodes may be tainted at `now_ms`, in a cluster of `total` nodes
    /// in `state`; the answer is taken from the bucket.
    pub fn take(&mut self, now_ms: u64, state: Disruption, total: usize, waiting: usize) -> usize {
        let elapsed_s = self
            .last_ms
            .map_or(0.0, |last| now_ms.saturating_sub(last) as f64 / 1000.0);
        self.last_ms = Some(now_ms);
        let rate = self.rates.rate(state, total);
        self.tokens = (self.tokens + rate * elapsed_s).min(1.0);
        if rate <= 0.0 {
            return 0;
        }
        let n = (self.tokens.floor() as usize).min(waiting);
        self.tokens -= n as f64;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_the_share_of_silent_nodes() {
        assert_eq!(Disruption::of(0, 0), Disruption::Normal);
        assert_eq!(Disruption::of(0, 10), Disruption::Normal);
        assert_eq!(Disruption::of(1, 1), Disruption::Full);
        assert_eq!(Disruption::of(1, 2), Disruption::Normal);
        assert_eq!(
            Disruption::of(2, 3),
            Disruption::Normal,
            "two silent are never partial"
        );
        assert_eq!(Disruption::of(3, 3), Disruption::Full);
        assert_eq!(Disruption::of(3, 5), Disruption::Partial);
        assert_eq!(Disruption::of(54, 100), Disruption::Normal);
        assert_eq!(Disruption::of(55, 100), Disruption::Partial);
        assert_eq!(Disruption::of(99, 100), Disruption::Partial);
        assert_eq!(Disruption::of(100, 100), Disruption::Full);
    }

    #[test]
    fn rates_by_state_and_size() {
        let r = EvictionRates::default();
        assert_eq!(r.rate(Disruption::Normal, 10), 0.1);
        assert_eq!(r.rate(Disruption::Partial, 50), 0.0, "small clusters stop");
        assert_eq!(r.rate(Disruption::Partial, 51), 0.01);
        assert_eq!(r.rate(Disruption::Full, 5000), 0.0);
    }

    #[test]
    fn one_node_at_once_then_one_every_ten_seconds() {
        let mut l = EvictionLimiter::new(EvictionRates::default());
        assert_eq!(l.take(0, Disruption::Normal, 100, 5), 1, "the burst");
        assert_eq!(l.take(0, Disruption::Normal, 100, 4), 0);
        assert_eq!(l.take(9_999, Disruption::Normal, 100, 4), 0);
        assert_eq!(l.take(10_000, Disruption::Normal, 100, 4), 1);
        // A long quiet time does not build up more than the burst.
        assert_eq!(l.take(1_000_000, Disruption::Normal, 100, 4), 1);
        assert_eq!(l.take(1_000_000, Disruption::Normal, 100, 3), 0);
        // Nothing waiting takes nothing.
        assert_eq!(l.take(2_000_000, Disruption::Normal, 100, 0), 0);
        assert_eq!(l.take(2_000_000, Disruption::Normal, 100, 1), 1);
    }

    /// Thousands of nodes going silent together (an overloaded master) lose only a handful to
    /// eviction: the first at once, then one every ten seconds until more than half are
    /// silent, then one every hundred seconds.
    #[test]
    fn a_mass_silence_evicts_a_handful() {
        let total = 5000;
        let mut l = EvictionLimiter::new(EvictionRates::default());
        let mut tainted = 0;
        // 500 nodes go silent every 2 s until 4,000 are, and stay silent for 10 minutes
        // (checked every 100 ms).
        for tick in 0..6_000u64 {
            let now = tick * 100;
            let silent = ((now / 2_000 + 1) * 500).min(4_000) as usize;
            let state = Disruption::of(silent, total);
            tainted += l.take(now, state, total, silent - tainted);
        }
        assert!((1..=10).contains(&tainted), "{tainted} tainted");
        // The same on a 40-node cluster: once partial, nothing more.
        let mut l = EvictionLimiter::new(EvictionRates::default());
        let mut tainted = 0;
        for tick in 0..6_000u64 {
            let now = tick * 100;
            let silent = if now < 30_000 { 20 } else { 30 };
            tainted += l.take(now, Disruption::of(silent, 40), 40, silent - tainted);
        }
        assert_eq!(
            tainted, 3,
            "one at once, then one per 10 s until 30 s, then none"
        );
    }

    #[test]
    fn a_zero_rate_never_evicts() {
        let mut l = EvictionLimiter::new(EvictionRates {
            normal: 0.0,
            secondary: 0.0,
        });
        assert_eq!(l.take(0, Disruption::Normal, 10, 3), 0);
        assert_eq!(l.take(1_000_000, Disruption::Normal, 10, 3), 0);
    }
}
