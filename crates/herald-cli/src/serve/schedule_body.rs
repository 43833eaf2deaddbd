//! The bodies of `POST /schedules` and `PATCH /schedules/{id}`, and turning them into checked
//! values: every mistake is a 400 with a sentence naming the field, before anything is saved.
//!
//! A time is a local date-time (`2030-01-31T09:00`) in an IANA zone (`Europe/Berlin`, default
//! `UTC`), never a UTC instant: "09:00 in Berlin" stays 09:00 across DST.

use super::schedule_edit::Changes;
use herald_core::schedule::recipient::Recipient;
use herald_core::schedule::store::{check_text, NewSchedule};
use herald_core::schedule::timing::{CatchUp, End, MonthDay, Repeat, Timing, Weekdays};
use jiff::civil::{Date, DateTime};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;

/// A new schedule.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewScheduleBody {
    /// A phone number with its country code (`+49 151 …`), or a user or group JID.
    #[schema(min_length = 1)]
    pub to: String,
    /// The message, 1 to 65,536 characters.
    #[schema(min_length = 1)]
    pub text: String,
    /// The first send, local time in `zone`: `YYYY-MM-DDTHH:MM[:SS]`, no offset.
    #[schema(example = "2030-01-31T09:00")]
    pub at: String,
    /// An IANA time zone (default `UTC`).
    #[schema(example = "Europe/Berlin")]
    pub zone: Option<String>,
    /// Absent: send once.
    pub repeat: Option<RepeatBody>,
    /// The last local date a repeating schedule sends on (inclusive), `YYYY-MM-DD`.
    pub until: Option<String>,
    /// How many sends in all, the first included.
    #[schema(minimum = 1)]
    pub count: Option<u32>,
    /// `default` (6 h for a one-shot, 1 h for a repeating one), `skip`, `always`, or `within`
    /// with `catchUpMinutes`.
    pub catch_up: Option<CatchUpKind>,
    /// The window for `within`, 1 to 525,600 minutes.
    #[schema(minimum = 1, maximum = 525600)]
    pub catch_up_minutes: Option<u32>,
}

/// When a schedule sends (the timing fields of either body).
#[derive(Debug, Clone, Default)]
struct TimingBody {
    at: Option<String>,
    zone: Option<String>,
    repeat: Option<RepeatBody>,
    until: Option<String>,
    count: Option<u32>,
}

/// How a schedule repeats.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RepeatBody {
    pub unit: RepeatUnit,
    /// Every N units (default 1), 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub every: Option<u16>,
    /// A weekly schedule's days, e.g. `["mon", "thu"]` (default: the first send's day).
    pub on: Option<Vec<String>>,
    /// A monthly schedule on the month's last day.
    pub last_day: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RepeatUnit {
    Day,
    Week,
    Month,
    Year,
}

/// The catch-up fields of either body.
#[derive(Debug, Clone, Copy, Default)]
struct CatchUpBody {
    catch_up: Option<CatchUpKind>,
    catch_up_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CatchUpKind {
    Default,
    Skip,
    Always,
    Within,
}

/// Changes to a schedule; absent fields keep their value. Any timing field replaces the whole
/// timing: `at` is then required and `zone` defaults to the schedule's.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EditScheduleBody {
    /// Pause or resume.
    pub status: Option<StatusChange>,
    pub to: Option<String>,
    pub text: Option<String>,
    /// The first send, local time in `zone`: `YYYY-MM-DDTHH:MM[:SS]`, no offset.
    #[schema(example = "2030-01-31T09:00")]
    pub at: Option<String>,
    /// An IANA time zone (default: the schedule's).
    #[schema(example = "Europe/Berlin")]
    pub zone: Option<String>,
    /// Absent: send once.
    pub repeat: Option<RepeatBody>,
    /// The last local date a repeating schedule sends on (inclusive), `YYYY-MM-DD`.
    pub until: Option<String>,
    /// How many sends in all, the first included.
    #[schema(minimum = 1)]
    pub count: Option<u32>,
    /// `default` (6 h for a one-shot, 1 h for a repeating one), `skip`, `always`, or `within`
    /// with `catchUpMinutes`.
    pub catch_up: Option<CatchUpKind>,
    /// The window for `within`, 1 to 525,600 minutes.
    #[schema(minimum = 1, maximum = 525600)]
    pub catch_up_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusChange {
    Active,
    Paused,
}

/// A checked edit.
#[derive(Debug, Clone)]
pub struct Edit {
    pub changes: Changes,
    pub status: Option<StatusChange>,
}

fn bad(code: &str, message: String) -> ApiError {
    ApiError::bad_request(code, message)
}

/// The recipient, checked.
pub fn recipient(to: &str) -> Result<Recipient, ApiError> {
    Recipient::parse(to).map_err(|e| bad("invalid_recipient", format!("to: {e}")))
}

/// The text, checked.
pub fn text(text: &str) -> Result<(), ApiError> {
    check_text(text).map_err(|e| bad("invalid_text", format!("text: {e}")))
}

impl NewScheduleBody {
    /// The schedule to store, checked against `now`.
    pub fn check(&self, now: Timestamp) -> Result<NewSchedule, ApiError> {
        let recipient = recipient(&self.to)?;
        text(&self.text)?;
        let timing = TimingBody {
            at: Some(self.at.clone()),
            zone: self.zone.clone(),
            repeat: self.repeat.clone(),
            until: self.until.clone(),
            count: self.count,
        }
        .build(None, now)?;
        let catch_up = CatchUpBody {
            catch_up: self.catch_up,
            catch_up_minutes: self.catch_up_minutes,
        };
        Ok(NewSchedule {
            recipient,
            text: self.text.clone(),
            timing,
            catch_up: catch_up.build()?.unwrap_or(CatchUp::Default),
        })
    }
}

impl EditScheduleBody {
    /// The edit, checked; `zone` is the schedule's zone (the default for a new timing).
    pub fn check(&self, zone: &str, now: Timestamp) -> Result<Edit, ApiError> {
        let t = &TimingBody {
            at: self.at.clone(),
            zone: self.zone.clone(),
            repeat: self.repeat.clone(),
            until: self.until.clone(),
            count: self.count,
        };
        let catch_up = CatchUpBody {
            catch_up: self.catch_up,
            catch_up_minutes: self.catch_up_minutes,
        };
        let retimed = t.at.is_some()
            || t.zone.is_some()
            || t.repeat.is_some()
            || t.until.is_some()
            || t.count.is_some();
        let changes = Changes {
            recipient: self.to.as_deref().map(recipient).transpose()?,
            text: match &self.text {
                Some(s) => {
                    text(s)?;
                    Some(s.clone())
                }
                None => None,
            },
            timing: if retimed {
                Some(t.build(Some(zone), now)?)
            } else {
                None
            },
            catch_up: catch_up.build()?,
        };
        if changes.is_empty() && self.status.is_none() {
            return Err(bad(
                "empty_edit",
                "the body changes nothing: give status, to, text, a timing or catchUp".into(),
            ));
        }
        Ok(Edit {
            changes,
            status: self.status,
        })
    }
}

impl TimingBody {
    fn build(&self, default_zone: Option<&str>, now: Timestamp) -> Result<Timing, ApiError> {
        let zone = self.zone.as_deref().or(default_zone).unwrap_or("UTC");
        let at = self.at.as_deref().ok_or_else(|| {
            bad(
                "invalid_time",
                "at: the first send's local time is required".into(),
            )
        })?;
        let start = parse_local(at)?;
        let repeat = match &self.repeat {
            None => Repeat::Once,
            Some(r) => r.build(start)?,
        };
        let end = match (&self.until, self.count) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "invalid_repeat",
                    "give until or count, not both".into(),
                ))
            }
            (Some(d), None) => End::Until(d.parse::<Date>().map_err(|e| {
                bad(
                    "invalid_time",
                    format!("until: {d:?} is not a date YYYY-MM-DD ({e})"),
                )
            })?),
            (None, Some(n)) => End::After(n),
            (None, None) => End::Never,
        };
        if repeat == Repeat::Once && end != End::Never {
            return Err(bad(
                "invalid_repeat",
                "until and count need a repeat (a one-shot sends once)".into(),
            ));
        }
        let timing = Timing::new(zone, start, repeat, end).map_err(|e| {
            let code = match e {
                herald_core::schedule::timing::TimingError::UnknownZone { .. } => "unknown_zone",
                _ => "invalid_repeat",
            };
            bad(code, e.to_string())
        })?;
        if herald_core::schedule::planner::next_after(&timing, now).is_none() {
            return Err(match repeat {
                Repeat::Once => bad(
                    "in_the_past",
                    format!(
                        "at: {} in {zone} is in the past",
                        start.strftime("%Y-%m-%d %H:%M")
                    ),
                ),
                _ => bad(
                    "nothing_ahead",
                    "the timing has no send after now (check until and count)".into(),
                ),
            });
        }
        Ok(timing)
    }
}

impl RepeatBody {
    fn build(&self, start: DateTime) -> Result<Repeat, ApiError> {
        let every = self.every.unwrap_or(1);
        if self.on.is_some() && self.unit != RepeatUnit::Week {
            return Err(bad(
                "invalid_repeat",
                "repeat.on only applies to unit week".into(),
            ));
        }
        if self.last_day == Some(true) && self.unit != RepeatUnit::Month {
            return Err(bad(
                "invalid_repeat",
                "repeat.lastDay only applies to unit month".into(),
            ));
        }
        Ok(match self.unit {
            RepeatUnit::Day => Repeat::Days { every },
            RepeatUnit::Week => Repeat::Weeks {
                every,
                on: match &self.on {
                    Some(days) => Weekdays::parse_list(&days.join(","))
                        .map_err(|e| bad("invalid_repeat", format!("repeat.on: {e}")))?,
                    None => Weekdays::default().with(start.weekday()),
                },
            },
            RepeatUnit::Month => Repeat::Months {
                every,
                on: if self.last_day == Some(true) {
                    MonthDay::LastDay
                } else {
                    MonthDay::StartDay
                },
            },
            RepeatUnit::Year => Repeat::Years { every },
        })
    }
}

impl CatchUpBody {
    /// `None` when neither field is given.
    fn build(&self) -> Result<Option<CatchUp>, ApiError> {
        let minutes = self.catch_up_minutes;
        let policy = match (self.catch_up, minutes) {
            (None, None) => return Ok(None),
            (Some(CatchUpKind::Within) | None, Some(m)) => {
                if !(1..=525_600).contains(&m) {
                    return Err(bad(
                        "invalid_catch_up",
                        format!("catchUpMinutes must be 1 to 525600, got {m}"),
                    ));
                }
                CatchUp::within(SignedDuration::from_mins(i64::from(m)))
                    .map_err(|e| bad("invalid_catch_up", e.to_string()))?
            }
            (Some(CatchUpKind::Within), None) => {
                return Err(bad(
                    "invalid_catch_up",
                    "catchUp within needs catchUpMinutes".into(),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(bad(
                    "invalid_catch_up",
                    "catchUpMinutes only goes with catchUp within".into(),
                ))
            }
            (Some(CatchUpKind::Default), None) => CatchUp::Default,
            (Some(CatchUpKind::Skip), None) => CatchUp::Skip,
            (Some(CatchUpKind::Always), None) => CatchUp::Always,
        };
        Ok(Some(policy))
    }
}

/// `YYYY-MM-DDTHH:MM[:SS]` (or with a space), without an offset.
fn parse_local(text: &str) -> Result<DateTime, ApiError> {
    let t = text.trim();
    if t.ends_with(['Z', 'z'])
        || t.get(10..)
            .is_some_and(|rest| rest.contains(['+']) || rest.rfind('-').is_some())
    {
        return Err(bad(
            "invalid_time",
            format!("at: {text:?} has an offset; give the local time and the zone instead"),
        ));
    }
    t.parse::<DateTime>().map_err(|e| {
        bad(
            "invalid_time",
            format!("at: {text:?} is not a local date-time YYYY-MM-DDTHH:MM ({e})"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2030-01-10T08:00:00Z".parse().unwrap()
    }

    fn check(body: serde_json::Value) -> Result<NewSchedule, String> {
        let parsed: NewScheduleBody = serde_json::from_value(body).map_err(|e| e.to_string())?;
        parsed.check(now()).map_err(|e| e.body.code)
    }

    #[test]
    fn good_bodies() {
        let s = check(json!({"to": "+44 7911 123456", "text": "hi", "at": "2030-01-10T09:00"}))
            .unwrap();
        assert_eq!(s.recipient.value(), "+447911123456");
        assert_eq!(s.timing.zone_name(), "UTC");
        assert_eq!(s.timing.repeat(), Repeat::Once);
        let s = check(json!({
            "to": "+447911123456", "text": "standup", "at": "2030-01-13 09:30", "zone": "Europe/Berlin",
            "repeat": {"unit": "week", "on": ["mon", "thu"]}, "count": 10,
            "catchUp": "within", "catchUpMinutes": 30
        }))
        .unwrap();
        assert!(matches!(s.timing.repeat(), Repeat::Weeks { every: 1, .. }));
        assert_eq!(s.timing.end(), End::After(10));
        assert_eq!(s.catch_up, CatchUp::Within(SignedDuration::from_mins(30)));
        let s = check(json!({
            "to": "120363041234567890@g.us", "text": "rent", "at": "2030-01-31T09:00",
            "repeat": {"unit": "month", "lastDay": true}, "until": "2030-12-31", "catchUp": "skip"
        }))
        .unwrap();
        assert!(matches!(
            s.timing.repeat(),
            Repeat::Months {
                on: MonthDay::LastDay,
                ..
            }
        ));
        assert_eq!(s.catch_up, CatchUp::Skip);
    }

    #[test]
    fn bad_bodies_name_what_is_wrong() {
        let base = || json!({"to": "+447911123456", "text": "hi", "at": "2030-01-10T09:00"});
        let with = |k: &str, v: serde_json::Value| {
            let mut b = base();
            b[k] = v;
            b
        };
        let table: Vec<(serde_json::Value, &str)> = vec![
            (with("to", json!("call me")), "invalid_recipient"),
            (with("to", json!("+12")), "invalid_recipient"),
            (with("text", json!("   ")), "invalid_text"),
            (with("text", json!("x".repeat(65_537))), "invalid_text"),
            (with("at", json!("2030-01-10T07:59")), "in_the_past"),
            (with("at", json!("2030-02-31T09:00")), "invalid_time"),
            (with("at", json!("2030-01-10T09:00:00Z")), "invalid_time"),
            (with("at", json!("2030-01-10T09:00+01:00")), "invalid_time"),
            (with("at", json!("tomorrow")), "invalid_time"),
            (with("zone", json!("Mars/Olympus")), "unknown_zone"),
            (with("count", json!(3)), "invalid_repeat"),
            (
                with("repeat", json!({"unit": "day", "every": 0})),
                "invalid_repeat",
            ),
            (
                with("repeat", json!({"unit": "day", "on": ["mon"]})),
                "invalid_repeat",
            ),
            (
                with("repeat", json!({"unit": "week", "on": ["funday"]})),
                "invalid_repeat",
            ),
            (
                with("repeat", json!({"unit": "week", "lastDay": true})),
                "invalid_repeat",
            ),
            (with("catchUp", json!("within")), "invalid_catch_up"),
            (with("catchUpMinutes", json!(0)), "invalid_catch_up"),
        ];
        for (body, code) in table {
            assert_eq!(check(body.clone()).err().as_deref(), Some(code), "{body}");
        }
        let mut past_end = base();
        past_end["repeat"] = json!({"unit": "day"});
        past_end["until"] = json!("2030-01-09");
        assert!(check(past_end).is_err());
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_refused_by_the_parser() {
        for body in [
            json!({"to": "+447911123456", "text": "hi", "at": "2030-01-10T09:00", "extra": 1}),
            json!({"to": 15551234567u64, "text": "hi", "at": "2030-01-10T09:00"}),
            json!({"to": "+447911123456", "text": "hi", "at": "2030-01-10T09:00", "repeat": {"unit": "fortnight"}}),
            json!({"to": "+447911123456", "text": "hi", "at": "2030-01-10T09:00", "repeat": {"unit": "day", "x": 1}}),
            json!({"text": "hi", "at": "2030-01-10T09:00"}),
        ] {
            assert!(
                serde_json::from_value::<NewScheduleBody>(body.clone()).is_err(),
                "{body}"
            );
        }
    }

    #[test]
    fn edits() {
        let edit = |body: serde_json::Value| {
            serde_json::from_value::<EditScheduleBody>(body)
                .unwrap()
                .check("Europe/Berlin", now())
                .map_err(|e| e.body.code)
        };
        let e = edit(json!({"text": "new"})).unwrap();
        assert_eq!(e.changes.text.as_deref(), Some("new"));
        assert!(e.changes.timing.is_none());
        let e = edit(json!({"at": "2030-01-11T09:00"})).unwrap();
        assert_eq!(
            e.changes.timing.unwrap().zone_name(),
            "Europe/Berlin",
            "keeps its zone"
        );
        let e = edit(json!({"status": "paused"})).unwrap();
        assert_eq!(e.status, Some(StatusChange::Paused));
        assert_eq!(edit(json!({})).err().as_deref(), Some("empty_edit"));
        assert_eq!(
            edit(json!({"zone": "UTC"})).err().as_deref(),
            Some("invalid_time")
        );
        assert_eq!(
            edit(json!({"to": "nope"})).err().as_deref(),
            Some("invalid_recipient")
        );
        assert!(
            serde_json::from_value::<EditScheduleBody>(json!({"status": "cancelled"})).is_err()
        );
    }
}
