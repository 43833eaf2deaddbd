//! When a schedule sends: a local date-time in an IANA zone, a repeat rule, an end, and what
//! to do with occurrences that were due while Herald could not send.
//!
//! The zone is kept by name and the start as wall-clock time, never as a fixed offset: "09:00
//! in Europe/Berlin" must stay 09:00 across DST changes and zone-rule updates.

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::SignedDuration;

/// The largest `every N` accepted; larger values are almost certainly typos.
pub const MAX_EVERY: u16 = 1000;

/// A validated timing. Build it with [`Timing::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    zone_name: String,
    zone: TimeZone,
    start: DateTime,
    repeat: Repeat,
    end: End,
}

/// How a schedule repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    Once,
    /// Every `every` days from the start.
    Days {
        every: u16,
    },
    /// Every `every` weeks on the given weekdays; weeks start on Monday and are counted from
    /// the week of the start date (RFC 5545 with WKST=MO).
    Weeks {
        every: u16,
        on: Weekdays,
    },
    /// Every `every` months, on the start's day of month (clamped to the month's last day)
    /// or on the last day.
    Months {
        every: u16,
        on: MonthDay,
    },
    /// Every `every` years on the start's month and day; 29 February falls on 28 February in
    /// other years.
    Years {
        every: u16,
    },
}

/// Which day of the month a monthly schedule uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthDay {
    StartDay,
    LastDay,
}

/// When a recurring schedule stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Never,
    /// The last local date an occurrence may fall on (inclusive).
    Until(Date),
    /// After this many occurrences, the first included.
    After(u32),
}

/// What happens to an occurrence that was due while Herald was asleep, offline or stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    /// 6 h for a one-shot; the smaller of 1 h and a quarter of the period for a recurring one.
    Default,
    /// Send if late by at most this much.
    Within(SignedDuration),
    /// Never send late (beyond [`ON_TIME_GRACE`]).
    Skip,
    /// Send however late (still at most one catch-up per schedule).
    Always,
}

/// Lateness that still counts as on time: the runner wakes exactly at the due instant, so
/// only a busy gate or a slow disk makes a send this late while Herald is running.
pub const ON_TIME_GRACE: SignedDuration = SignedDuration::from_mins(2);

/// A set of weekdays, bit 0 = Monday … bit 6 = Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Weekdays(u8);

impl Weekdays {
    pub const WORKDAYS: Weekdays = Weekdays(0b0001_1111);

    /// From the stored bit mask; bits above Sunday are dropped.
    pub fn from_bits(bits: u8) -> Weekdays {
        Weekdays(bits & 0x7f)
    }

    pub fn bits(self) -> u8 {
        self.0
    }

    pub fn with(self, day: Weekday) -> Weekdays {
        Weekdays(self.0 | (1 << day.to_monday_zero_offset()))
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.to_monday_zero_offset()) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The days in week order, Monday first.
    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        (0..7i8)
            .filter(move |i| self.0 & (1 << i) != 0)
            .filter_map(|i| Weekday::from_monday_zero_offset(i).ok())
    }

    /// Parses `mon,tue,…` (full names too, any case).
    pub fn parse_list(text: &str) -> Result<Weekdays, TimingError> {
        let mut set = Weekdays::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            set = set.with(parse_weekday(part)?);
        }
        if set.is_empty() {
            return Err(TimingError::NoWeekdays);
        }
        Ok(set)
    }
}

fn parse_weekday(text: &str) -> Result<Weekday, TimingError> {
    let lower = text.to_ascii_lowercase();
    let day = match lower.get(..3).unwrap_or(&lower) {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return Err(TimingError::BadWeekday(text.to_owned())),
    };
    Ok(day)
}

/// Why a timing is not acceptable.
#[derive(Debug, thiserror::Error)]
pub enum TimingError {
    #[error("unknown time zone {name:?} (use an IANA name such as Europe/Berlin)")]
    UnknownZone {
        name: String,
        #[source]
        source: jiff::Error,
    },
    #[error("{0:?} is not a weekday (use mon,tue,wed,thu,fri,sat,sun)")]
    BadWeekday(String),
    #[error("a weekly schedule needs at least one weekday")]
    NoWeekdays,
    #[error("`every` must be between 1 and {MAX_EVERY}, got {0}")]
    BadEvery(u16),
    #[error("the end date {until} is before the start date {start}")]
    UntilBeforeStart { until: Date, start: Date },
    #[error("a schedule must send at least once (count 0)")]
    ZeroCount,
    #[error("a one-shot schedule cannot have an end")]
    OnceWithEnd,
    #[error("the catch-up window must be positive")]
    BadWindow,
}

impl Timing {
    /// Checks and builds a timing. The zone must be in jiff's bundled database (the same on
    /// every OS).
    pub fn new(
        zone_name: &str,
        start: DateTime,
        repeat: Repeat,
        end: End,
    ) -> Result<Timing, TimingError> {
        let zone = TimeZone::get(zone_name).map_err(|source| TimingError::UnknownZone {
            name: zone_name.to_owned(),
            source,
        })?;
        match repeat {
            Repeat::Once if end != End::Never => return Err(TimingError::OnceWithEnd),
            Repeat::Once => {}
            Repeat::Days { every }
            | Repeat::Weeks { every, .. }
            | Repeat::Months { every, .. }
            | Repeat::Years { every } => {
                if every == 0 || every > MAX_EVERY {
                    return Err(TimingError::BadEvery(every));
                }
            }
        }
        if let Repeat::Weeks { on, .. } = repeat {
            if on.is_empty() {
                return Err(TimingError::NoWeekdays);
            }
        }
        match end {
            End::Until(until) if until < start.date() => {
                return Err(TimingError::UntilBeforeStart {
                    until,
                    start: start.date(),
                })
            }
            End::After(0) => return Err(TimingError::ZeroCount),
            _ => {}
        }
        // Sub-second parts would make "the same local time" ambiguous in storage.
        let start = start.with().subsec_nanosecond(0).build().unwrap_or(start);
        Ok(Timing {
            zone_name: zone_name.to_owned(),
            zone,
            start,
            repeat,
            end,
        })
    }

    /// The IANA name, as stored.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The first local date-time (the first send when it matches the rule).
    pub fn start(&self) -> DateTime {
        self.start
    }

    pub fn repeat(&self) -> Repeat {
        self.repeat
    }

    pub fn end(&self) -> End {
        self.end
    }

    /// The nominal period of a recurring rule (a month counts 28 days, a year 365, so the
    /// default catch-up window never exceeds a quarter of the real gap).
    pub fn period(&self) -> Option<SignedDuration> {
        let days = match self.repeat {
            Repeat::Once => return None,
            Repeat::Days { every } => i64::from(every),
            // With several weekdays the gap is shorter than a week, but never under a day.
            Repeat::Weeks { on, .. } if on.iter().count() > 1 => 1,
            Repeat::Weeks { every, .. } => 7 * i64::from(every),
            Repeat::Months { every, .. } => 28 * i64::from(every),
            Repeat::Years { every } => 365 * i64::from(every),
        };
        Some(SignedDuration::from_hours(24 * days))
    }
}

impl CatchUp {
    /// How late an occurrence of `timing` may be and still be sent; `None` = no limit.
    pub fn window(self, timing: &Timing) -> Option<SignedDuration> {
        match self {
            CatchUp::Always => None,
            CatchUp::Skip => Some(ON_TIME_GRACE),
            CatchUp::Within(w) => Some(w.max(ON_TIME_GRACE)),
            CatchUp::Default => Some(match timing.period() {
                None => SignedDuration::from_hours(6),
                Some(period) => SignedDuration::from_hours(1).min(period / 4),
            }),
        }
    }

    /// Checks a user-given window.
    pub fn within(window: SignedDuration) -> Result<CatchUp, TimingError> {
        if window <= SignedDuration::ZERO {
            return Err(TimingError::BadWindow);
        }
        Ok(CatchUp::Within(window))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn weekdays_parse_in_any_case_and_order() {
        let set = Weekdays::parse_list("thu,MON,monday").unwrap();
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![Weekday::Monday, Weekday::Thursday]
        );
        assert!(matches!(
            Weekdays::parse_list("mon,xyz"),
            Err(TimingError::BadWeekday(_))
        ));
        assert!(matches!(
            Weekdays::parse_list(","),
            Err(TimingError::NoWeekdays)
        ));
    }

    #[test]
    fn bad_timings_are_refused() {
        let start = date(2026, 3, 1).at(9, 0, 0, 0);
        assert!(matches!(
            Timing::new("Mars/Olympus", start, Repeat::Once, End::Never),
            Err(TimingError::UnknownZone { .. })
        ));
        assert!(matches!(
            Timing::new(
                "Europe/Berlin",
                start,
                Repeat::Days { every: 1 },
                End::Until(date(2026, 2, 28))
            ),
            Err(TimingError::UntilBeforeStart { .. })
        ));
        assert!(matches!(
            Timing::new(
                "Europe/Berlin",
                start,
                Repeat::Days { every: 0 },
                End::Never
            ),
            Err(TimingError::BadEvery(0))
        ));
        assert!(matches!(
            Timing::new(
                "Europe/Berlin",
                start,
                Repeat::Days { every: 1 },
                End::After(0)
            ),
            Err(TimingError::ZeroCount)
        ));
        // The end date may be the start date itself.
        assert!(Timing::new(
            "Europe/Berlin",
            start,
            Repeat::Days { every: 1 },
            End::Until(date(2026, 3, 1))
        )
        .is_ok());
    }

    #[test]
    fn default_catch_up_windows() {
        let start = date(2026, 3, 1).at(9, 0, 0, 0);
        let once = Timing::new("UTC", start, Repeat::Once, End::Never).unwrap();
        let daily = Timing::new("UTC", start, Repeat::Days { every: 1 }, End::Never).unwrap();
        assert_eq!(
            CatchUp::Default.window(&once),
            Some(SignedDuration::from_hours(6))
        );
        assert_eq!(
            CatchUp::Default.window(&daily),
            Some(SignedDuration::from_hours(1))
        );
        assert_eq!(CatchUp::Always.window(&daily), None);
        assert_eq!(CatchUp::Skip.window(&daily), Some(ON_TIME_GRACE));
    }
}
