//! The planner: which instants a timing sends at. Pure: no clock, no database.
//!
//! Each occurrence is first an intended local date-time (from the rule), then an instant in
//! the schedule's zone. A local time that falls in a DST gap is sent the gap's length later
//! (02:30 on the spring-forward night in Europe/Berlin → 03:30 +02:00), a local time that
//! occurs twice is sent at the earlier instant: Temporal's "compatible" disambiguation, which
//! is also what RFC 5545 prescribes for the gap.

use std::collections::VecDeque;

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, Offset};
use jiff::{Timestamp, ToSpan};

use super::timing::{End, MonthDay, Repeat, Timing};

/// One planned send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// 1 for the first occurrence of the schedule, counting from its start.
    pub seq: u32,
    /// The local date-time the rule asked for.
    pub local: DateTime,
    /// When it is sent.
    pub at: Timestamp,
    /// The zone's offset at `at`.
    pub offset: Offset,
    /// Whether a DST change moved or disambiguated it.
    pub adjust: Adjust,
}

/// What a DST transition did to an occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjust {
    None,
    /// The local time does not exist that day; sent the gap's length later.
    Gap,
    /// The local time occurs twice that day; sent at the first.
    Fold,
}

impl Occurrence {
    /// The wall-clock time it is actually sent at, in the schedule's zone.
    pub fn wall(&self) -> DateTime {
        self.offset.to_datetime(self.at)
    }
}

/// The occurrences of `timing`, in order, from its start.
pub fn occurrences(timing: &Timing) -> Occurrences<'_> {
    Occurrences {
        timing,
        period: 0,
        week: VecDeque::new(),
        seq: 0,
        done: false,
    }
}

/// The first occurrence strictly after `after`.
pub fn next_after(timing: &Timing, after: Timestamp) -> Option<Occurrence> {
    occurrences(timing).find(|o| o.at > after)
}

/// The occurrences in `(after, until]`, at most `limit` of them.
pub fn between(
    timing: &Timing,
    after: Timestamp,
    until: Timestamp,
    limit: usize,
) -> Vec<Occurrence> {
    occurrences(timing)
        .skip_while(|o| o.at <= after)
        .take_while(|o| o.at <= until)
        .take(limit)
        .collect()
}

/// The next `count` occurrences after `after` (a preview).
pub fn preview(timing: &Timing, after: Timestamp, count: usize) -> Vec<Occurrence> {
    occurrences(timing)
        .skip_while(|o| o.at <= after)
        .take(count)
        .collect()
}

/// Iterator over a timing's occurrences. Ends with the schedule's end or at the end of
/// representable time.
pub struct Occurrences<'a> {
    timing: &'a Timing,
    /// How many periods (days, weeks, months, years of `every` each) have been generated.
    period: i64,
    /// The remaining dates of the current week, for weekly rules.
    week: VecDeque<Date>,
    seq: u32,
    done: bool,
}

impl Occurrences<'_> {
    /// The next candidate date from the rule, before the start and end are applied.
    fn next_date(&mut self) -> Option<Date> {
        let start = self.timing.start().date();
        let k = self.period;
        let date = match self.timing.repeat() {
            Repeat::Once => {
                if k > 0 {
                    return None;
                }
                start
            }
            Repeat::Days { every } => start.checked_add((k * i64::from(every)).days()).ok()?,
            Repeat::Weeks { every, on } => {
                if let Some(date) = self.week.pop_front() {
                    return Some(date);
                }
                let offset = i64::from(start.weekday().to_monday_zero_offset());
                let monday = start
                    .checked_add((7 * k * i64::from(every) - offset).days())
                    .ok()?;
                for day in on.iter() {
                    let d = monday
                        .checked_add(i64::from(day.to_monday_zero_offset()).days())
                        .ok()?;
                    self.week.push_back(d);
                }
                self.period += 1;
                return self.week.pop_front();
            }
            Repeat::Months { every, on } => {
                let first = start
                    .first_of_month()
                    .checked_add((k * i64::from(every)).months())
                    .ok()?;
                match on {
                    MonthDay::LastDay => first.last_of_month(),
                    MonthDay::StartDay => clamp_day(first, start.day())?,
                }
            }
            Repeat::Years { every } => {
                let first = start
                    .first_of_month()
                    .checked_add((k * i64::from(every)).years())
                    .ok()?;
                clamp_day(first, start.day())?
            }
        };
        self.period += 1;
        Some(date)
    }
}

/// `day` in the month of `first`, or the month's last day when it is shorter.
fn clamp_day(first: Date, day: i8) -> Option<Date> {
    let day = day.min(first.days_in_month());
    Date::new(first.year(), first.month(), day).ok()
}

impl Iterator for Occurrences<'_> {
    type Item = Occurrence;

    fn next(&mut self) -> Option<Occurrence> {
        loop {
            if self.done {
                return None;
            }
            if let End::After(n) = self.timing.end() {
                if self.seq >= n {
                    self.done = true;
                    return None;
                }
            }
            let Some(date) = self.next_date() else {
                self.done = true;
                return None;
            };
            let start = self.timing.start();
            if date < start.date() {
                continue;
            }
            if let End::Until(until) = self.timing.end() {
                if date > until {
                    self.done = true;
                    return None;
                }
            }
            let local = date.to_datetime(start.time());
            let Some(occurrence) = resolve(self.timing, local, self.seq + 1) else {
                self.done = true;
                return None;
            };
            self.seq += 1;
            return Some(occurrence);
        }
    }
}

/// The instant of a local date-time in the timing's zone, with the compatible rule.
fn resolve(timing: &Timing, local: DateTime, seq: u32) -> Option<Occurrence> {
    let zone = timing.zone();
    let ambiguous = zone.to_ambiguous_timestamp(local);
    let adjust = match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { .. } => Adjust::None,
        AmbiguousOffset::Gap { .. } => Adjust::Gap,
        AmbiguousOffset::Fold { .. } => Adjust::Fold,
    };
    let at = ambiguous.compatible().ok()?;
    Some(Occurrence {
        seq,
        local,
        at,
        offset: zone.to_offset(at),
        adjust,
    })
}
