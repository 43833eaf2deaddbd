//! Table and property tests of the planner: DST gaps and folds in several zones, month ends,
//! 29 February, weekly rules counted from the first week.

use jiff::civil::{date, Date, DateTime};
use jiff::tz::AmbiguousOffset;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::planner::{between, next_after, occurrences, preview, Adjust, Occurrence};
use super::timing::{End, MonthDay, Repeat, Timing, Weekdays};

fn timing(zone: &str, start: DateTime, repeat: Repeat, end: End) -> Timing {
    Timing::new(zone, start, repeat, end).unwrap()
}

fn first(t: &Timing, n: usize) -> Vec<Occurrence> {
    occurrences(t).take(n).collect()
}

/// `local wall time, offset, UTC` of each occurrence, as text.
fn shown(occ: &[Occurrence]) -> Vec<(String, String, String)> {
    occ.iter()
        .map(|o| (o.wall().to_string(), o.offset.to_string(), o.at.to_string()))
        .collect()
}

fn row(wall: &str, offset: &str, utc: &str) -> (String, String, String) {
    (wall.into(), offset.into(), utc.into())
}

#[test]
fn berlin_gap_and_fold() {
    let spring = timing(
        "Europe/Berlin",
        date(2026, 3, 28).at(2, 30, 0, 0),
        Repeat::Days { every: 1 },
        End::Never,
    );
    let occ = first(&spring, 3);
    assert_eq!(
        shown(&occ),
        vec![
            row("2026-03-28T02:30:00", "+01", "2026-03-28T01:30:00Z"),
            // 02:30 does not exist on the spring-forward night: an hour later, 03:30 +02:00.
            row("2026-03-29T03:30:00", "+02", "2026-03-29T01:30:00Z"),
            row("2026-03-30T02:30:00", "+02", "2026-03-30T00:30:00Z"),
        ]
    );
    assert_eq!(occ[1].adjust, Adjust::Gap);
    assert_eq!(occ[1].local, date(2026, 3, 29).at(2, 30, 0, 0));

    let autumn = timing(
        "Europe/Berlin",
        date(2026, 10, 25).at(2, 30, 0, 0),
        Repeat::Once,
        End::Never,
    );
    let occ = first(&autumn, 2);
    // 02:30 happens twice; sent once, at the first (still +02:00).
    assert_eq!(
        shown(&occ),
        vec![row("2026-10-25T02:30:00", "+02", "2026-10-25T00:30:00Z")]
    );
    assert_eq!(occ[0].adjust, Adjust::Fold);
}

#[test]
fn new_york_gap_and_fold() {
    let t = timing(
        "America/New_York",
        date(2026, 3, 8).at(2, 30, 0, 0),
        Repeat::Days { every: 1 },
        End::After(2),
    );
    assert_eq!(
        shown(&first(&t, 5)),
        vec![
            row("2026-03-08T03:30:00", "-04", "2026-03-08T07:30:00Z"),
            row("2026-03-09T02:30:00", "-04", "2026-03-09T06:30:00Z"),
        ]
    );
    let t = timing(
        "America/New_York",
        date(2026, 11, 1).at(1, 30, 0, 0),
        Repeat::Once,
        End::Never,
    );
    assert_eq!(
        shown(&first(&t, 1)),
        vec![row("2026-11-01T01:30:00", "-04", "2026-11-01T05:30:00Z")]
    );
}

#[test]
fn lord_howe_half_hour_shift() {
    // Lord Howe moves its clocks by 30 minutes: 02:00 → 02:30 in October.
    let t = timing(
        "Australia/Lord_Howe",
        date(2026, 10, 4).at(2, 15, 0, 0),
        Repeat::Once,
        End::Never,
    );
    let occ = first(&t, 1);
    assert_eq!(
        shown(&occ),
        vec![row("2026-10-04T02:45:00", "+11", "2026-10-03T15:45:00Z")]
    );
    assert_eq!(occ[0].adjust, Adjust::Gap);
    // 02:00 → 01:30 in April: 01:45 happens twice, the first at +11:00.
    let t = timing(
        "Australia/Lord_Howe",
        date(2026, 4, 5).at(1, 45, 0, 0),
        Repeat::Once,
        End::Never,
    );
    let occ = first(&t, 1);
    assert_eq!(
        shown(&occ),
        vec![row("2026-04-05T01:45:00", "+11", "2026-04-04T14:45:00Z")]
    );
    assert_eq!(occ[0].adjust, Adjust::Fold);
}

#[test]
fn chatham_quarter_hour_offsets() {
    // Chatham is +12:45 in winter, +13:45 in summer, changing at 02:45 local.
    let t = timing(
        "Pacific/Chatham",
        date(2026, 9, 26).at(3, 0, 0, 0),
        Repeat::Days { every: 1 },
        End::After(3),
    );
    let occ = first(&t, 3);
    assert_eq!(
        shown(&occ),
        vec![
            row("2026-09-26T03:00:00", "+12:45", "2026-09-25T14:15:00Z"),
            row("2026-09-27T04:00:00", "+13:45", "2026-09-26T14:15:00Z"),
            row("2026-09-28T03:00:00", "+13:45", "2026-09-27T13:15:00Z"),
        ]
    );
    assert_eq!(occ[1].adjust, Adjust::Gap);
    let t = timing(
        "Pacific/Chatham",
        date(2026, 4, 5).at(3, 0, 0, 0),
        Repeat::Once,
        End::Never,
    );
    let occ = first(&t, 1);
    assert_eq!(
        shown(&occ),
        vec![row("2026-04-05T03:00:00", "+13:45", "2026-04-04T13:15:00Z")]
    );
    assert_eq!(occ[0].adjust, Adjust::Fold);
}

#[test]
fn zone_without_dst_never_shifts() {
    let t = timing(
        "Asia/Kolkata",
        date(2026, 1, 1).at(2, 30, 0, 0),
        Repeat::Days { every: 1 },
        End::Never,
    );
    for o in occurrences(&t).take(400) {
        assert_eq!(o.adjust, Adjust::None);
        assert_eq!(o.offset.to_string(), "+05:30");
        assert_eq!(o.wall(), o.local);
    }
}

fn dates(occ: &[Occurrence]) -> Vec<Date> {
    occ.iter().map(|o| o.local.date()).collect()
}

#[test]
fn month_end_is_clamped_and_last_day_follows_the_month() {
    let t = timing(
        "UTC",
        date(2026, 1, 31).at(9, 0, 0, 0),
        Repeat::Months {
            every: 1,
            on: MonthDay::StartDay,
        },
        End::Never,
    );
    assert_eq!(
        dates(&first(&t, 4)),
        vec![
            date(2026, 1, 31),
            date(2026, 2, 28),
            date(2026, 3, 31),
            date(2026, 4, 30)
        ]
    );
    // From the 15th "on the last day": the start does not match, so the first send is the
    // end of that month.
    let t = timing(
        "UTC",
        date(2028, 1, 15).at(9, 0, 0, 0),
        Repeat::Months {
            every: 2,
            on: MonthDay::LastDay,
        },
        End::Never,
    );
    assert_eq!(
        dates(&first(&t, 3)),
        vec![date(2028, 1, 31), date(2028, 3, 31), date(2028, 5, 31)]
    );
    let t = timing(
        "UTC",
        date(2028, 1, 31).at(9, 0, 0, 0),
        Repeat::Months {
            every: 1,
            on: MonthDay::LastDay,
        },
        End::Never,
    );
    assert_eq!(
        dates(&first(&t, 2)),
        vec![date(2028, 1, 31), date(2028, 2, 29)]
    );
}

#[test]
fn leap_day_falls_on_28_february_in_other_years() {
    let t = timing(
        "Europe/Berlin",
        date(2024, 2, 29).at(8, 0, 0, 0),
        Repeat::Years { every: 1 },
        End::Never,
    );
    assert_eq!(
        dates(&first(&t, 5)),
        vec![
            date(2024, 2, 29),
            date(2025, 2, 28),
            date(2026, 2, 28),
            date(2027, 2, 28),
            date(2028, 2, 29)
        ]
    );
}

#[test]
fn every_two_weeks_on_monday_and_thursday() {
    // Start on Wednesday 4 March 2026: its week (from Monday 2 March) is week 0, so Monday 2
    // is before the start and Thursday 5 is the first send; then weeks 2, 4, …
    let t = timing(
        "Europe/Berlin",
        date(2026, 3, 4).at(9, 0, 0, 0),
        Repeat::Weeks {
            every: 2,
            on: Weekdays::parse_list("mon,thu").unwrap(),
        },
        End::Until(date(2026, 4, 2)),
    );
    assert_eq!(
        dates(&first(&t, 10)),
        vec![
            date(2026, 3, 5),
            date(2026, 3, 16),
            date(2026, 3, 19),
            date(2026, 3, 30),
            date(2026, 4, 2)
        ]
    );
}

#[test]
fn the_start_itself_is_the_first_send_when_it_matches() {
    let t = timing(
        "UTC",
        date(2026, 3, 2).at(9, 0, 0, 0),
        Repeat::Weeks {
            every: 1,
            on: Weekdays::WORKDAYS,
        },
        End::After(6),
    );
    let occ = first(&t, 10);
    assert_eq!(occ.len(), 6);
    assert_eq!(occ[0].local, date(2026, 3, 2).at(9, 0, 0, 0));
    assert_eq!(occ[5].local, date(2026, 3, 9).at(9, 0, 0, 0));
    assert_eq!(
        occ.iter().map(|o| o.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
}

#[test]
fn next_after_and_between() {
    let t = timing(
        "UTC",
        date(2026, 1, 1).at(12, 0, 0, 0),
        Repeat::Days { every: 3 },
        End::Never,
    );
    let at: Timestamp = "2026-01-04T12:00:00Z".parse().unwrap();
    // Strictly after: an occurrence exactly at `after` is not next.
    let next = next_after(&t, at).unwrap();
    assert_eq!(next.at.to_string(), "2026-01-07T12:00:00Z");
    assert_eq!(next.seq, 3);
    let window = between(&t, at - SignedDuration::from_hours(73), at, 10);
    assert_eq!(window.len(), 2);
    assert_eq!(preview(&t, at, 4).len(), 4);
    let once = timing(
        "UTC",
        date(2026, 1, 1).at(12, 0, 0, 0),
        Repeat::Once,
        End::Never,
    );
    assert!(next_after(&once, at).is_none());
}

const ZONES: &[&str] = &[
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "America/Santiago",
    "Africa/Casablanca",
    "UTC",
];

fn any_repeat() -> impl Strategy<Value = Repeat> {
    prop_oneof![
        (1u16..10).prop_map(|every| Repeat::Days { every }),
        (1u16..5, 1u8..128).prop_map(|(every, bits)| Repeat::Weeks {
            every,
            on: Weekdays::from_bits(bits)
        }),
        (1u16..13, any::<bool>()).prop_map(|(every, last)| Repeat::Months {
            every,
            on: if last {
                MonthDay::LastDay
            } else {
                MonthDay::StartDay
            }
        }),
        (1u16..3).prop_map(|every| Repeat::Years { every }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Occurrences strictly increase, keep the start's time of day, and each is either that
    /// local time or the documented shift.
    #[test]
    fn occurrences_increase_and_map_back(
        zone in proptest::sample::select(ZONES),
        day in 0i64..(365 * 30),
        minute in 0i8..60,
        hour in 0i8..24,
        repeat in any_repeat(),
    ) {
        let start = date(2000, 1, 1)
            .checked_add(jiff::Span::new().days(day))
            .unwrap()
            .at(hour, minute, 0, 0);
        let t = timing(zone, start, repeat, End::Never);
        let occ: Vec<Occurrence> = occurrences(&t).take(60).collect();
        prop_assert_eq!(occ.len(), 60);
        prop_assert!(occ[0].local >= start);
        for pair in occ.windows(2) {
            prop_assert!(pair[0].at < pair[1].at);
            prop_assert!(pair[0].local < pair[1].local);
            prop_assert_eq!(pair[1].seq, pair[0].seq + 1);
        }
        for o in &occ {
            prop_assert_eq!(o.local.time(), start.time());
            match t.zone().to_ambiguous_timestamp(o.local).offset() {
                AmbiguousOffset::Unambiguous { offset } => {
                    prop_assert_eq!(o.adjust, Adjust::None);
                    prop_assert_eq!(o.offset, offset);
                    prop_assert_eq!(o.wall(), o.local);
                }
                AmbiguousOffset::Gap { before, after } => {
                    // Sent the gap's length later on the wall clock.
                    prop_assert_eq!(o.adjust, Adjust::Gap);
                    let gap = after.duration_since(before);
                    prop_assert_eq!(o.wall(), o.local.checked_add(gap).unwrap());
                    prop_assert_eq!(o.at, before.to_timestamp(o.local).unwrap());
                }
                AmbiguousOffset::Fold { before, .. } => {
                    // The earlier of the two instants.
                    prop_assert_eq!(o.adjust, Adjust::Fold);
                    prop_assert_eq!(o.offset, before);
                    prop_assert_eq!(o.wall(), o.local);
                }
            }
        }
    }
}
