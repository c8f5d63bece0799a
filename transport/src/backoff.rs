//! Reconnect delays: exponential growth with "equal jitter", and a connect loop using them.
//!
//! [`Backoff`] is pure: it reads no clock and, given a seed, returns the same delays every time.

use std::{net::SocketAddr, time::Duration};

use rand::{rngs::StdRng, Rng, SeedableRng};
use tracing::warn;

use crate::{Client, Connection, TransportError};

/// Exponential backoff with equal jitter: the n-th delay lies in `[c/2, c]` where
/// `c = min(max, initial * 2^n)` is the ceiling, so delays never collapse to zero yet clients
/// that failed together spread out.
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
    rng: StdRng,
}

impl Backoff {
    /// Delays start at `initial` and stop growing at `max`; seeded from the OS.
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
            attempt: 0,
            rng: StdRng::seed_from_u64(rand::random()),
        }
    }

    /// The same delays on every run: for tests and simulations.
    pub fn with_seed(mut self, seed: u64) -> Backoff {
        self.rng = StdRng::seed_from_u64(seed);
        self
    }

    /// The ceiling of the next delay, before jitter.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.initial
            .checked_mul(factor)
            .map_or(self.max, |d| d.min(self.max))
    }

    /// The next delay, and one step of growth.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        let nanos = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(self.rng.random_range(0..=nanos))
    }

    /// Back to the initial delay (after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Connects, retrying after [`Backoff::next_delay`] until it succeeds or `give_up` returns true
/// for an error (for instance `|e| !e.is_retryable()`, to stop on a refused certificate). The
/// backoff is reset on success.
pub async fn connect_with_backoff(
    client: &Client,
    addr: SocketAddr,
    server_name: &str,
    backoff: &mut Backoff,
    give_up: impl Fn(&TransportError) -> bool,
) -> Result<Connection, TransportError> {
    loop {
        match client.connect(addr, server_name).await {
            Ok(conn) => {
                backoff.reset();
                return Ok(conn);
            }
            Err(e) if give_up(&e) => return Err(e),
            Err(e) => {
                let delay = backoff.next_delay();
                warn!(%addr, error = %e, ?delay, "connect failed; retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let mut b = Backoff::new(100 * MS, 5_000 * MS).with_seed(1);
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            ceilings.push(b.ceiling().as_millis());
            b.next_delay();
        }
        assert_eq!(
            ceilings,
            [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]
        );
    }

    #[test]
    fn delays_stay_within_jitter_bounds_and_never_exceed_the_cap() {
        let mut b = Backoff::new(10 * MS, 1_000 * MS).with_seed(2);
        for n in 0..200 {
            let ceiling = b.ceiling();
            let d = b.next_delay();
            assert!(
                d >= ceiling / 2 && d <= ceiling,
                "attempt {n}: {d:?} outside [{:?}, {ceiling:?}]",
                ceiling / 2
            );
            assert!(d <= 1_000 * MS, "attempt {n}: {d:?} over the cap");
        }
    }

    #[test]
    fn delays_grow_until_the_cap() {
        // With equal jitter each ceiling is twice the last, so the lower bound of delay n+1
        // equals the upper bound of delay n: delays never shrink until the cap.
        let mut b = Backoff::new(10 * MS, 10_000 * MS).with_seed(3);
        let mut last = Duration::ZERO;
        for n in 0..10 {
            let d = b.next_delay();
            assert!(d >= last, "attempt {n}: {d:?} < previous {last:?}");
            last = d;
        }
    }

    #[test]
    fn same_seed_same_delays() {
        let run = |seed| {
            let mut b = Backoff::new(50 * MS, 2_000 * MS).with_seed(seed);
            (0..20).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9), "a seed must fix the sequence");
        assert_ne!(run(9), run(10), "different seeds should jitter differently");
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(100 * MS, 10_000 * MS).with_seed(4);
        for _ in 0..5 {
            b.next_delay();
        }
        b.reset();
        assert_eq!(b.ceiling(), 100 * MS);
        let d = b.next_delay();
        assert!(d >= 50 * MS && d <= 100 * MS, "{d:?}");
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60)).with_seed(5);
        for _ in 0..100 {
            assert!(b.next_delay() <= Duration::from_secs(60));
        }
        let mut zero = Backoff::new(Duration::ZERO, Duration::ZERO).with_seed(6);
        assert_eq!(zero.next_delay(), Duration::ZERO);
    }
}
