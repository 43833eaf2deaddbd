//! Wall-clock time, injected.
//!
//! Timers use `tokio::time` (so tests pause and advance them); the times the engine reports and
//! stores (`since_ms`, `until_ms`, history rows) are unix milliseconds from one [`Clock`]. The
//! default reads the system clock; [`TokioClock`] follows tokio's clock from a fixed start, so
//! that under a paused runtime the reported times advance exactly with the timers.

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in milliseconds.
pub trait Clock: Send + Sync + 'static {
    /// Now, as unix milliseconds.
    fn now_ms(&self) -> u64;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            // A clock before 1970 is a broken machine; 0 keeps arithmetic defined.
            .unwrap_or(0)
    }
}

/// A wall clock that starts at `start_ms` and advances with `tokio::time::Instant`, so a paused
/// test runtime controls it.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start_ms: u64,
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock that reads `start_ms` now.
    pub fn starting_at(start_ms: u64) -> Self {
        Self {
            start_ms,
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        let elapsed = self.start.elapsed().as_millis();
        self.start_ms
            .saturating_add(u64::try_from(elapsed).unwrap_or(u64::MAX))
    }
}
