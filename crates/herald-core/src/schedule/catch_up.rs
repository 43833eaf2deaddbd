//! What to do with occurrences that came due while Herald could not send (asleep, offline,
//! logged out, not running). Pure.
//!
//! A backlog is coalesced: at most one late send per schedule — the latest occurrence, if it
//! is inside the window — and every other occurrence is recorded as missed, never dropped
//! silently.

use jiff::{SignedDuration, Timestamp};

use super::planner::{self, Occurrence};
use super::timing::{CatchUp, Timing};

/// The most occurrences one judgement records; a schedule left alone for longer than this
/// many periods keeps the latest ones (a daily schedule: 27 years).
pub const MAX_BACKLOG: usize = 10_000;

/// What happens to one occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Send,
    Missed,
}

/// The judgement of a schedule's backlog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// For the occurrence already in the outbox.
    pub stored: Fate,
    /// The schedule's later occurrences up to now, which the outbox does not have yet.
    pub later: Vec<(Occurrence, Fate)>,
}

/// Judges a schedule whose outbox row for the occurrence at `stored_due` is due at `now`.
pub fn judge(timing: &Timing, policy: CatchUp, stored_due: Timestamp, now: Timestamp) -> Judgement {
    let later = planner::between(timing, stored_due, now, MAX_BACKLOG);
    let window = policy.window(timing);
    let in_window = |at: Timestamp| match window {
        None => true,
        Some(w) => now.duration_since(at) <= w,
    };
    let latest = later.last().map_or(stored_due, |o| o.at);
    let send_latest = in_window(latest);
    let fate = |is_latest: bool| {
        if is_latest && send_latest {
            Fate::Send
        } else {
            Fate::Missed
        }
    };
    let count = later.len();
    Judgement {
        stored: fate(count == 0),
        later: later
            .into_iter()
            .enumerate()
            .map(|(i, o)| (o, fate(i + 1 == count)))
            .collect(),
    }
}

/// How late a send at `due` is at `now` (zero when early).
pub fn lateness(due: Timestamp, now: Timestamp) -> SignedDuration {
    now.duration_since(due).max(SignedDuration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::timing::{End, Repeat};
    use jiff::civil::date;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn daily() -> Timing {
        Timing::new(
            "UTC",
            date(2026, 5, 1).at(9, 0, 0, 0),
            Repeat::Days { every: 1 },
            End::Never,
        )
        .unwrap()
    }

    #[test]
    fn on_time_sends_the_stored_one() {
        let j = judge(
            &daily(),
            CatchUp::Default,
            ts("2026-05-01T09:00:00Z"),
            ts("2026-05-01T09:00:01Z"),
        );
        assert_eq!(j.stored, Fate::Send);
        assert!(j.later.is_empty());
    }

    #[test]
    fn a_backlog_sends_only_the_latest_inside_the_window() {
        let j = judge(
            &daily(),
            CatchUp::Default,
            ts("2026-05-01T09:00:00Z"),
            ts("2026-05-04T09:30:00Z"),
        );
        assert_eq!(j.stored, Fate::Missed);
        let fates: Vec<Fate> = j.later.iter().map(|(_, f)| *f).collect();
        assert_eq!(fates, [Fate::Missed, Fate::Missed, Fate::Send]);
        assert_eq!(j.later[2].0.at, ts("2026-05-04T09:00:00Z"));
    }

    #[test]
    fn outside_the_window_everything_is_missed_unless_always() {
        let stored = ts("2026-05-01T09:00:00Z");
        let now = ts("2026-05-01T11:00:00Z");
        let j = judge(&daily(), CatchUp::Default, stored, now);
        assert_eq!(j.stored, Fate::Missed);
        let j = judge(&daily(), CatchUp::Always, stored, now);
        assert_eq!(j.stored, Fate::Send);
        let j = judge(
            &daily(),
            CatchUp::Within(SignedDuration::from_hours(3)),
            stored,
            now,
        );
        assert_eq!(j.stored, Fate::Send);
        let j = judge(&daily(), CatchUp::Skip, stored, ts("2026-05-01T09:05:00Z"));
        assert_eq!(j.stored, Fate::Missed);
    }
}
