//! The dead-socket clock: when the oldest unanswered request went out, and when anything last
//! arrived. Written by the IQ path and the reader, read by the keepalive task.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// When the oldest unanswered request went out, and when anything last arrived; shared with
/// the keepalive task.
#[derive(Debug)]
pub struct Activity {
    epoch: Instant,
    /// ms since `epoch` + 1 of the first send since the last receive; 0 = none pending.
    first_unanswered_send: AtomicU64,
    last_received: AtomicU64,
}

impl Activity {
    pub(super) fn new() -> Self {
        Self {
            epoch: Instant::now(),
            first_unanswered_send: AtomicU64::new(0),
            last_received: AtomicU64::new(0),
        }
    }

    fn stamp(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    pub(super) fn sent(&self) {
        let now = self.stamp();
        let _ = self.first_unanswered_send.compare_exchange(
            0,
            now,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    pub(super) fn received(&self) {
        self.last_received.store(self.stamp(), Ordering::Release);
        self.first_unanswered_send.store(0, Ordering::Release);
    }

    /// When anything last arrived; `None` before the first frame.
    pub fn last_received(&self) -> Option<Instant> {
        match self.last_received.load(Ordering::Acquire) {
            0 => None,
            ms => Some(self.epoch + Duration::from_millis(ms - 1)),
        }
    }

    /// When the oldest send that nothing has been received after went out.
    pub fn first_unanswered_send(&self) -> Option<Instant> {
        match self.first_unanswered_send.load(Ordering::Acquire) {
            0 => None,
            ms => Some(self.epoch + Duration::from_millis(ms - 1)),
        }
    }
}
