//! The retry policy, pure: how long to wait before the next dial, when to give up and pause,
//! and when a connection has lasted long enough to forgive past failures.
//!
//! Defaults (DESIGN.md): 2, 4, 8, 16, 32, 60 s (cap) with ±20 % jitter, 10 attempts, then
//! paused until the user retries; the counter resets after 60 s online. The caller supplies
//! the randomness and the durations, so every path is a table test.

use std::time::Duration;

/// The numbers of the policy; all configurable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    /// The first delay; each next one doubles.
    pub base: Duration,
    /// No delay exceeds this (before jitter).
    pub cap: Duration,
    /// Relative jitter: a delay `d` becomes uniform in `d·(1 − j) … d·(1 + j)`.
    pub jitter: f64,
    /// Failed attempts after which we pause instead of dialing again.
    pub max_attempts: u32,
    /// Time online after which the attempt counter starts over.
    pub reset_after: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(60),
            jitter: 0.2,
            max_attempts: 10,
            reset_after: Duration::from_secs(60),
        }
    }
}

/// What to do after a failure that the classifier said to back off from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// Wait `delay`, then dial; this will be attempt number `attempt` (1-based).
    Retry { attempt: u32, delay: Duration },
    /// `max_attempts` failed in a row: stop until the user (or a network change) retries.
    Pause { attempts: u32 },
}

impl BackoffPolicy {
    /// The delay before attempt `attempt` (1-based) without jitter: base·2^(attempt−1), capped.
    pub fn nominal_delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.base
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// The delay before attempt `attempt` with jitter; `unit` is a uniform random number in
    /// `[0, 1)` from the caller. Never below `at_least`.
    pub fn delay(&self, attempt: u32, unit: f64, at_least: Duration) -> Duration {
        let nominal = self.nominal_delay(attempt).as_secs_f64();
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let factor = 1.0 + self.jitter.clamp(0.0, 1.0) * (2.0 * unit - 1.0);
        Duration::from_secs_f64((nominal * factor).max(0.0)).max(at_least)
    }

    /// Whether a connection that was online for `online_for` wipes the failure count.
    pub fn resets_after(&self, online_for: Duration) -> bool {
        online_for >= self.reset_after
    }
}

/// The failure counter of one account's connection: pure state, no clock.
///
/// ```
/// use std::time::Duration;
/// use wa_core::backoff::{BackoffPolicy, Next, RetryState};
///
/// let policy = BackoffPolicy::default();
/// let mut retry = RetryState::default();
/// // `unit` is the jitter's random draw in [0, 1]; 0.5 is no jitter at all.
/// let mut delays = Vec::new();
/// while let Next::Retry { delay, .. } =
///     retry.on_backoff(&policy, Duration::ZERO, Duration::ZERO, 0.5)
/// {
///     delays.push(delay.as_secs());
/// }
/// assert_eq!(delays, [2, 4, 8, 16, 32, 60, 60, 60, 60, 60], "then it pauses");
///
/// // A connection that stayed online for a minute starts the count afresh.
/// let next = retry.on_backoff(&policy, Duration::from_secs(60), Duration::ZERO, 0.5);
/// assert_eq!(next, Next::Retry { attempt: 1, delay: Duration::from_secs(2) });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryState {
    /// Failed attempts since the counter last reset.
    pub failures: u32,
}

impl RetryState {
    /// A connection ended after being online for `online_for` (zero if it never came up) and
    /// the classifier said to back off, with a floor of `at_least`. Returns what to do next.
    pub fn on_backoff(
        &mut self,
        policy: &BackoffPolicy,
        online_for: Duration,
        at_least: Duration,
        unit: f64,
    ) -> Next {
        if policy.resets_after(online_for) {
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        if self.failures > policy.max_attempts {
            return Next::Pause {
                attempts: policy.max_attempts,
            };
        }
        Next::Retry {
            attempt: self.failures,
            delay: policy.delay(self.failures, unit, at_least),
        }
    }

    /// The connection ended in a way that reconnects at once (515, a refreshed version): it is
    /// not a failure, but a long stable stretch before it still forgives the past ones.
    pub fn on_immediate(&mut self, policy: &BackoffPolicy, online_for: Duration) {
        if policy.resets_after(online_for) {
            self.failures = 0;
        }
    }

    /// The user asked to retry (or the network came back): start counting afresh.
    pub fn on_user_retry(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn delays_double_to_the_cap() {
        let p = BackoffPolicy::default();
        let got: Vec<u64> = (1..=8).map(|a| p.nominal_delay(a).as_secs()).collect();
        assert_eq!(got, vec![2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(p.nominal_delay(u32::MAX), S(60));
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let p = BackoffPolicy::default();
        assert_eq!(
            p.delay(3, 0.0, Duration::ZERO),
            Duration::from_secs_f64(6.4)
        );
        assert_eq!(p.delay(3, 0.5, Duration::ZERO), S(8));
        assert!(p.delay(3, 0.999_999, Duration::ZERO) <= Duration::from_secs_f64(9.6));
        assert_eq!(p.delay(6, 1.0, Duration::ZERO), S(72));
        assert_eq!(
            p.delay(1, f64::NAN, Duration::ZERO),
            S(2),
            "bad randomness is centred"
        );
        assert_eq!(
            p.delay(1, 0.5, S(60)),
            S(60),
            "a floor wins over a short delay"
        );
    }

    #[test]
    fn ten_failures_then_pause() {
        let p = BackoffPolicy::default();
        let mut s = RetryState::default();
        let mut delays = Vec::new();
        for _ in 0..10 {
            match s.on_backoff(&p, Duration::ZERO, Duration::ZERO, 0.5) {
                Next::Retry { delay, .. } => delays.push(delay.as_secs()),
                Next::Pause { .. } => panic!("paused too early"),
            }
        }
        assert_eq!(delays, vec![2, 4, 8, 16, 32, 60, 60, 60, 60, 60]);
        assert_eq!(
            s.on_backoff(&p, Duration::ZERO, Duration::ZERO, 0.5),
            Next::Pause { attempts: 10 }
        );
        s.on_user_retry();
        assert_eq!(
            s.on_backoff(&p, Duration::ZERO, Duration::ZERO, 0.5),
            Next::Retry {
                attempt: 1,
                delay: S(2)
            }
        );
    }

    #[test]
    fn only_a_minute_online_forgives_failures() {
        let p = BackoffPolicy::default();
        let mut s = RetryState { failures: 5 };
        assert_eq!(
            s.on_backoff(&p, S(59), Duration::ZERO, 0.5),
            Next::Retry {
                attempt: 6,
                delay: S(60)
            },
            "59 s online is not stable yet"
        );
        assert_eq!(
            s.on_backoff(&p, S(60), Duration::ZERO, 0.5),
            Next::Retry {
                attempt: 1,
                delay: S(2)
            }
        );
        let mut s = RetryState { failures: 4 };
        s.on_immediate(&p, S(10));
        assert_eq!(
            s.failures, 4,
            "an immediate reconnect is not a failure, nor a reset"
        );
        s.on_immediate(&p, S(120));
        assert_eq!(s.failures, 0);
    }
}
