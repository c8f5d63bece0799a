//! CrashLoopBackOff: how long a crashed container waits before its next start, and whether the
//! pod's restart policy restarts it at all.

/// Back-off delays for restarting crashed containers, in virtual-clock milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Delay before the first restart.
    pub initial_ms: u64,
    /// Largest delay; doubling stops here.
    pub cap_ms: u64,
    /// A container that ran at least this long before exiting starts over at `initial_ms`.
    pub reset_after_ms: u64,
}

impl Default for BackoffPolicy {
    /// Kubernetes' kubelet: 10 s doubling up to 300 s, reset after 10 minutes of running.
    fn default() -> BackoffPolicy {
        BackoffPolicy {
            initial_ms: 10_000,
            cap_ms: 300_000,
            reset_after_ms: 600_000,
        }
    }
}

/// A pod's `spec.restartPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    /// Restart whatever the exit code (the Kubernetes default).
    Always,
    /// Restart only after a non-zero exit code.
    OnFailure,
    /// Never restart.
    Never,
}

impl RestartPolicy {
    /// Parses the API value; unknown or empty values mean `Always`, the API server's default.
    pub fn parse(s: &str) -> RestartPolicy {
        match s {
            "OnFailure" => RestartPolicy::OnFailure,
            "Never" => RestartPolicy::Never,
            _ => RestartPolicy::Always,
        }
    }

    /// The API spelling: `Always`, `OnFailure` or `Never`.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "Always",
            RestartPolicy::OnFailure => "OnFailure",
            RestartPolicy::Never => "Never",
        }
    }

    /// Whether a container that exited with `exit_code` is started again.
    pub fn restarts_after(self, exit_code: i32) -> bool {
        match self {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => exit_code != 0,
            RestartPolicy::Never => false,
        }
    }
}

/// One container's crash-loop back-off: the delay grows with each crash and resets after a long
/// enough run.
#[derive(Debug, Clone, Default)]
pub struct CrashLoop {
    /// The last delay handed out; 0 before the first crash or after a reset.
    current_ms: u64,
}

impl CrashLoop {
    /// The container exited after running `ran_for_ms`; returns the delay before its next start.
    ///
    /// Kubernetes waits `initial_ms` before the first restart too, then doubles the delay on each
    /// crash up to `cap_ms`. If the container ran for at least `reset_after_ms`, the back-off
    /// starts over at `initial_ms`.
    pub fn next_delay(&mut self, ran_for_ms: u64, policy: &BackoffPolicy) -> u64 {
        if ran_for_ms >= policy.reset_after_ms {
            self.reset();
        }
        self.current_ms = if self.current_ms == 0 {
            policy.initial_ms
        } else {
            self.current_ms.saturating_mul(2)
        }
        .min(policy.cap_ms);
        self.current_ms
    }

    /// Forgets past crashes: the next delay is `initial_ms` again.
    pub fn reset(&mut self) {
        self.current_ms = 0;
    }

    /// The delay last returned by [`CrashLoop::next_delay`] (0 when none since a reset).
    pub fn current_ms(&self) -> u64 {
        self.current_ms
    }
}

/// Formats milliseconds as Go's `time.Duration` prints them (`10s`, `1m20s`, `5m0s`, `1.5s`,
/// `500ms`), which is how kubelet writes back-off delays into messages.
pub fn go_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m) = (ms / 3_600_000, (ms / 60_000) % 60);
    let (s, frac) = ((ms / 1000) % 60, ms % 1000);
    let secs = if frac == 0 {
        format!("{s}s")
    } else {
        let f = format!("{frac:03}");
        format!("{s}.{}s", f.trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => secs,
        (0, m) => format!("{m}m{secs}"),
        (h, m) => format!("{h}h{m}m{secs}"),
    }
}
