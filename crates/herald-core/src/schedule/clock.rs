//! The wall clock the scheduler reads, injected so tests can run on paused time and jump it.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use tokio::time::Instant;
use wa_client::mutex::lock;

/// Where "now" comes from.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// A shared clock is a clock (the service keeps one for the runner and its commands).
impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A wall clock that follows tokio's (pausable) monotonic clock from a chosen start, and can
/// jump like a laptop's clock after a suspend or an NTP correction. For tests.
#[derive(Debug, Clone)]
pub struct SteppedClock {
    base: Timestamp,
    origin: Instant,
    jumped: Arc<Mutex<SignedDuration>>,
}

impl SteppedClock {
    /// Reads `start` now; then runs with `tokio::time`.
    pub fn starting_at(start: Timestamp) -> SteppedClock {
        SteppedClock {
            base: start,
            origin: Instant::now(),
            jumped: Arc::new(Mutex::new(SignedDuration::ZERO)),
        }
    }

    /// Moves the wall clock by `by` without the monotonic clock moving (a suspend).
    pub fn jump(&self, by: SignedDuration) {
        let mut jumped = lock(&self.jumped);
        *jumped += by;
    }
}

impl Clock for SteppedClock {
    fn now(&self) -> Timestamp {
        let run = SignedDuration::try_from(self.origin.elapsed()).unwrap_or(SignedDuration::MAX);
        let jumped = *lock(&self.jumped);
        self.base
            .checked_add(run.saturating_add(jumped))
            .unwrap_or(self.base)
    }
}
