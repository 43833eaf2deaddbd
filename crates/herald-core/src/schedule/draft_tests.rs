//! What a form may send, and the one clear error (with its field) for each mistake.

use jiff::Timestamp;

use super::*;
use crate::schedule::recipient::Recipient;
use crate::schedule::timing::{CatchUp, End, Repeat};

fn draft() -> ScheduleDraft {
    serde_json::from_value(serde_json::json!({
        "to": "+49 151 2345 6789",
        "text": "Guten Morgen",
        "date": "2026-03-29",
        "time": "02:30",
        "zone": "Europe/Berlin",
    }))
    .unwrap()
}

fn now() -> Timestamp {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

#[test]
fn a_minimal_draft_is_a_one_shot_with_the_default_policy() {
    let c = draft().check(now()).unwrap();
    assert_eq!(
        c.schedule.recipient,
        Recipient::Phone("+4915123456789".into())
    );
    assert_eq!(c.schedule.timing.repeat(), Repeat::Once);
    assert_eq!(c.schedule.timing.start().to_string(), "2026-03-29T02:30:00");
    assert_eq!(c.schedule.catch_up, CatchUp::Default);
    assert!(!c.skip_if_replied);
}

#[test]
fn every_field_of_a_recurring_draft() {
    let mut d = draft();
    d.to = "0151 23456789".into();
    d.region = Some("DE".into());
    d.repeat = "weeks".into();
    d.every = 2;
    d.weekdays = vec!["mon".into(), "thu".into()];
    d.until = Some("2026-12-31".into());
    d.catch_up = "within".into();
    d.catch_up_minutes = Some(30);
    d.skip_if_replied = true;
    let c = d.check(now()).unwrap();
    assert_eq!(c.schedule.recipient.value(), "+4915123456789");
    assert!(matches!(
        c.schedule.timing.repeat(),
        Repeat::Weeks { every: 2, .. }
    ));
    assert_eq!(
        c.schedule.timing.end(),
        End::Until(jiff::civil::date(2026, 12, 31))
    );
    assert_eq!(
        c.schedule.catch_up,
        CatchUp::Within(jiff::SignedDuration::from_mins(30))
    );
    assert!(c.skip_if_replied);
}

#[test]
fn mistakes_name_their_field() {
    type Change = fn(&mut ScheduleDraft);
    let cases: Vec<(Change, &str, &str)> = vec![
        (|d| d.to = "+1 555".into(), "to", "not a valid phone number"),
        (|d| d.to = "  ".into(), "to", "Enter a phone number"),
        (
            |d| d.to = "status@broadcast".into(),
            "to",
            "not a user or group",
        ),
        (|d| d.text = " ".into(), "text", "empty"),
        (
            |d| d.date = "2026-02-31".into(),
            "date",
            "\"2026-02-31\" is not a date",
        ),
        (|d| d.time = "25:00".into(), "time", "not a time of day"),
        (|d| d.date = "2026-02-01".into(), "time", "is in the past"),
        (
            |d| d.zone = "Mars/Olympus".into(),
            "zone",
            "Unknown time zone",
        ),
        (
            |d| {
                d.repeat = "days".into();
                d.every = 0;
            },
            "every",
            "between 1 and 1000",
        ),
        (
            |d| {
                d.repeat = "weeks".into();
                d.weekdays = vec!["someday".into()];
            },
            "weekdays",
            "not a weekday",
        ),
        (
            |d| {
                d.repeat = "days".into();
                d.until = Some("2026-01-01".into());
            },
            "until",
            "before the start date",
        ),
        (|d| d.repeat = "hourly".into(), "repeat", "not a repeat"),
        (
            |d| d.catch_up = "later".into(),
            "catchUp",
            "not a catch-up policy",
        ),
        (
            |d| {
                d.catch_up = "within".into();
                d.catch_up_minutes = Some(0);
            },
            "catchUpMinutes",
            "minutes late",
        ),
    ];
    for (change, field, says) in cases {
        let mut d = draft();
        change(&mut d);
        let e = d.check(now()).unwrap_err();
        assert_eq!(e.field, field, "{d:?}: {e}");
        assert!(e.message.contains(says), "{field}: {:?}", e.message);
    }
}

#[test]
fn a_stored_schedule_gives_back_its_draft() {
    let mut d = draft();
    d.repeat = "months".into();
    d.last_day = true;
    d.count = Some(4);
    d.catch_up = "skip".into();
    let c = d.check(now()).unwrap();
    let stored = crate::schedule::store::Schedule {
        id: 1,
        recipient: c.schedule.recipient.clone(),
        text: c.schedule.text.clone(),
        timing: c.schedule.timing.clone(),
        catch_up: c.schedule.catch_up,
        status: crate::schedule::store::Status::Active,
        created_ms: 0,
        changed_ms: 0,
        skip_if_replied: false,
    };
    let back = ScheduleDraft::of(&stored);
    assert_eq!(back.to, "+4915123456789");
    assert_eq!((back.repeat.as_str(), back.last_day), ("months", true));
    assert_eq!(back.count, Some(4));
    assert_eq!(back.catch_up, "skip");
    assert_eq!(back.check(now()).unwrap(), c);
}
