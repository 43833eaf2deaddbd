//! Wall-clock time, injected.
//!
//! Timers use `tokio::time` (so tests pause and advance them); the times the engine reports and
//! stores (`since_ms`, `until_ms`, history rows) are unix milliseconds from one [`Clock`]. The
//! default reads the system clock; [`TokioClock`] follows tokio's clock from a fixed start, so
//! that under a paused runtime the reported times advance exactly with the timers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time as unix milliseconds: the one time type of the engine's events, its health
/// and the app's records. Serialized as the bare number; stored in SQLite as an INTEGER.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct UnixMillis(pub u64);

impl UnixMillis {
    /// The unix epoch.
    pub const EPOCH: Self = Self(0);

    /// The milliseconds since the epoch.
    pub fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at the end of time.
    pub fn saturating_add(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        )
    }

    /// `self - d`, saturating at the epoch.
    pub fn saturating_sub(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_sub(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        )
    }

    /// How long after `earlier` this is; zero when it is not after.
    pub fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl std::fmt::Display for UnixMillis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl rusqlite::ToSql for UnixMillis {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        // SQLite integers are signed; a time past i64::MAX ms is not one this app meets.
        Ok(i64::try_from(self.0).unwrap_or(i64::MAX).into())
    }
}

impl rusqlite::types::FromSql for UnixMillis {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        // A negative time (a hand-edited row) reads as the epoch rather than failing the page.
        i64::column_result(value).map(|v| Self(u64::try_from(v).unwrap_or(0)))
    }
}

/// Unix time in milliseconds.
pub trait Clock: Send + Sync + 'static {
    /// Now, as unix milliseconds.
    fn now_ms(&self) -> u64;

    /// Now, as the engine's time type.
    fn now(&self) -> UnixMillis {
        UnixMillis(self.now_ms())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_millis_is_a_bare_number_in_json_and_saturates() {
        let t = UnixMillis(1_700_000_000_000);
        assert_eq!(serde_json::to_string(&t).unwrap(), "1700000000000");
        assert_eq!(
            serde_json::from_str::<UnixMillis>("5").unwrap(),
            UnixMillis(5)
        );
        assert_eq!(
            t.saturating_add(Duration::from_secs(1)).as_millis(),
            1_700_000_001_000
        );
        assert_eq!(
            UnixMillis(5).saturating_sub(Duration::from_secs(1)),
            UnixMillis::EPOCH
        );
        assert_eq!(UnixMillis(5).saturating_duration_since(t), Duration::ZERO);
    }

    #[test]
    fn unix_millis_round_trips_through_sqlite() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        let t = UnixMillis(1_700_000_000_123);
        let back: UnixMillis = db.query_row("SELECT ?1", [t], |r| r.get(0)).unwrap();
        assert_eq!(back, t);
        let negative: UnixMillis = db.query_row("SELECT -5", [], |r| r.get(0)).unwrap();
        assert_eq!(negative, UnixMillis::EPOCH);
    }
}
