//! A schedule as a form or an API sends it, and turning it into a checked [`NewSchedule`].
//!
//! Every field is a plain string or number so a screen can send what the person typed; each
//! mistake comes back as one [`DraftError`] naming the field, and nothing is saved.

use jiff::civil::{Date, DateTime, Time};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::recipient::{Recipient, RecipientError};
use super::store::{self, NewSchedule, Schedule};
use super::timing::{CatchUp, End, MonthDay, Repeat, Timing, TimingError, Weekdays};

/// A schedule as typed. JSON is camelCase:
/// `{"to":"+49 151 2345 6789","text":"Hi","date":"2026-03-29","time":"09:00",
///   "zone":"Europe/Berlin","repeat":"weeks","every":2,"weekdays":["mon","thu"],
///   "until":"2026-12-31","catchUp":"within","catchUpMinutes":30,"skipIfReplied":true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleDraft {
    /// A phone number (with `+` and country code, or national with `region`), or a user or
    /// group JID.
    pub to: String,
    /// The country (ISO 3166 code, e.g. `DE`) a national number is read in.
    #[serde(default)]
    pub region: Option<String>,
    pub text: String,
    /// The first send's local date (`YYYY-MM-DD`) and time (`HH:MM`) in `zone`.
    pub date: String,
    pub time: String,
    /// An IANA zone name.
    pub zone: String,
    /// `once`, `days`, `weeks`, `months` or `years`.
    #[serde(default = "once")]
    pub repeat: String,
    /// Every N of `repeat`.
    #[serde(default = "one")]
    pub every: u16,
    /// A weekly schedule's days (`mon` … `sun`); empty: the start's weekday.
    #[serde(default)]
    pub weekdays: Vec<String>,
    /// A monthly schedule on the month's last day.
    #[serde(default)]
    pub last_day: bool,
    /// The last local date a repeating schedule sends on (inclusive).
    #[serde(default)]
    pub until: Option<String>,
    /// How many sends, the first included.
    #[serde(default)]
    pub count: Option<u32>,
    /// `default`, `within` (with `catchUpMinutes`), `skip` or `always`.
    #[serde(default = "default_policy")]
    pub catch_up: String,
    #[serde(default)]
    pub catch_up_minutes: Option<u32>,
    /// Skip a send when the recipient has written since the last change or send.
    #[serde(default)]
    pub skip_if_replied: bool,
}

fn once() -> String {
    "once".into()
}
fn one() -> u16 {
    1
}
fn default_policy() -> String {
    "default".into()
}

/// What is wrong with a draft, and which field.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DraftError {
    /// The draft's field at fault (`to`, `text`, `date`, `time`, `zone`, `every`, …).
    pub field: &'static str,
    pub message: String,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl DraftError {
    fn new(field: &'static str, message: impl Into<String>) -> DraftError {
        DraftError {
            field,
            message: message.into(),
            source: None,
        }
    }

    fn caused(
        field: &'static str,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> DraftError {
        DraftError {
            field,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// A recipient as a form's `to` and `region` fields give it: a phone number (national in
/// `region`, or with `+` and the country code) or a user's or group's address.
pub fn parse_recipient(to: &str, region: Option<&str>) -> Result<Recipient, DraftError> {
    let to = to.trim();
    if to.is_empty() {
        return Err(DraftError::new(
            "to",
            "Enter a phone number or choose a group.",
        ));
    }
    let parsed = match region.filter(|r| !r.is_empty()) {
        Some(region) if !to.starts_with('+') && !to.contains('@') => {
            Recipient::parse_national(region, to)
        }
        _ => Recipient::parse(to),
    };
    parsed.map_err(|e| {
        let message = match &e {
            RecipientError::BadJid(_) => e.to_string(),
            _ => format!("{to:?} is not a valid phone number; include the country code."),
        };
        DraftError::caused("to", message, e)
    })
}

/// A checked draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub schedule: NewSchedule,
    pub skip_if_replied: bool,
}

impl ScheduleDraft {
    /// Checks every field; `now` refuses a one-shot in the past.
    pub fn check(&self, now: Timestamp) -> Result<Checked, DraftError> {
        let recipient = self.recipient()?;
        store::check_text(&self.text).map_err(|e| DraftError::new("text", e.to_string()))?;
        let timing = self.timing()?;
        if timing.repeat() == Repeat::Once && super::planner::next_after(&timing, now).is_none() {
            return Err(DraftError::new(
                "time",
                format!(
                    "{} {} in {} is in the past.",
                    self.date.trim(),
                    self.time.trim(),
                    self.zone.trim()
                ),
            ));
        }
        Ok(Checked {
            schedule: NewSchedule {
                recipient,
                text: self.text.clone(),
                timing,
                catch_up: self.catch_up()?,
            },
            skip_if_replied: self.skip_if_replied,
        })
    }

    fn recipient(&self) -> Result<Recipient, DraftError> {
        parse_recipient(&self.to, self.region.as_deref())
    }

    /// The timing alone (for a preview, which does not need a recipient or text).
    pub fn timing(&self) -> Result<Timing, DraftError> {
        let zone = self.zone.trim();
        let date: Date = self.date.trim().parse().map_err(|e| {
            DraftError::caused(
                "date",
                format!("{:?} is not a date (YYYY-MM-DD).", self.date.trim()),
                e,
            )
        })?;
        let time: Time = self.time.trim().parse().map_err(|e| {
            DraftError::caused(
                "time",
                format!("{:?} is not a time of day (HH:MM).", self.time.trim()),
                e,
            )
        })?;
        let start = DateTime::from_parts(date, time);
        let repeat = self.repeat(start)?;
        let end = match (self.until.as_deref().map(str::trim), self.count) {
            (Some(u), _) if !u.is_empty() => End::Until(u.parse().map_err(|e| {
                DraftError::caused("until", format!("{u:?} is not a date (YYYY-MM-DD)."), e)
            })?),
            (_, Some(n)) => End::After(n),
            _ => End::Never,
        };
        let end = if repeat == Repeat::Once {
            End::Never
        } else {
            end
        };
        Timing::new(zone, start, repeat, end).map_err(|e| {
            let field = match &e {
                TimingError::UnknownZone { .. } => "zone",
                TimingError::BadWeekday(_) | TimingError::NoWeekdays => "weekdays",
                TimingError::BadEvery(_) => "every",
                TimingError::UntilBeforeStart { .. } => "until",
                TimingError::ZeroCount => "count",
                TimingError::OnceWithEnd => "repeat",
                TimingError::BadWindow => "catchUpMinutes",
            };
            let message = format!("{}.", capitalise(&e.to_string()));
            DraftError::caused(field, message, e)
        })
    }

    fn repeat(&self, start: DateTime) -> Result<Repeat, DraftError> {
        let every = self.every;
        Ok(match self.repeat.as_str() {
            "once" => Repeat::Once,
            "days" => Repeat::Days { every },
            "weeks" => {
                let on = if self.weekdays.is_empty() {
                    Weekdays::default().with(start.weekday())
                } else {
                    Weekdays::parse_list(&self.weekdays.join(",")).map_err(|e| {
                        DraftError::caused(
                            "weekdays",
                            format!("{}.", capitalise(&e.to_string())),
                            e,
                        )
                    })?
                };
                Repeat::Weeks { every, on }
            }
            "months" => Repeat::Months {
                every,
                on: if self.last_day {
                    MonthDay::LastDay
                } else {
                    MonthDay::StartDay
                },
            },
            "years" => Repeat::Years { every },
            other => {
                return Err(DraftError::new(
                    "repeat",
                    format!("{other:?} is not a repeat (once, days, weeks, months, years)."),
                ))
            }
        })
    }

    fn catch_up(&self) -> Result<CatchUp, DraftError> {
        Ok(match self.catch_up.as_str() {
            "default" => CatchUp::Default,
            "skip" => CatchUp::Skip,
            "always" => CatchUp::Always,
            "within" => {
                let minutes = self.catch_up_minutes.unwrap_or(0);
                CatchUp::within(SignedDuration::from_mins(i64::from(minutes))).map_err(|e| {
                    DraftError::caused(
                        "catchUpMinutes",
                        "Enter how many minutes late a send may still go.",
                        e,
                    )
                })?
            }
            other => {
                return Err(DraftError::new(
                    "catchUp",
                    format!("{other:?} is not a catch-up policy (default, within, skip, always)."),
                ))
            }
        })
    }

    /// The draft of a stored schedule (to fill the edit form).
    pub fn of(schedule: &Schedule) -> ScheduleDraft {
        let t = &schedule.timing;
        let start = t.start();
        let (repeat, every, weekdays, last_day) = match t.repeat() {
            Repeat::Once => ("once", 1, Vec::new(), false),
            Repeat::Days { every } => ("days", every, Vec::new(), false),
            Repeat::Weeks { every, on } => (
                "weeks",
                every,
                on.iter()
                    .map(|d| super::words::short(d).to_ascii_lowercase())
                    .collect(),
                false,
            ),
            Repeat::Months { every, on } => ("months", every, Vec::new(), on == MonthDay::LastDay),
            Repeat::Years { every } => ("years", every, Vec::new(), false),
        };
        let (until, count) = match t.end() {
            End::Never => (None, None),
            End::Until(d) => (Some(d.to_string()), None),
            End::After(n) => (None, Some(n)),
        };
        let (catch_up, catch_up_minutes) = match schedule.catch_up {
            CatchUp::Default => ("default", None),
            CatchUp::Skip => ("skip", None),
            CatchUp::Always => ("always", None),
            CatchUp::Within(w) => ("within", u32::try_from(w.as_mins()).ok()),
        };
        ScheduleDraft {
            to: schedule.recipient.value().to_owned(),
            region: None,
            text: schedule.text.clone(),
            date: start.date().to_string(),
            time: start.strftime("%H:%M").to_string(),
            zone: t.zone_name().to_owned(),
            repeat: repeat.into(),
            every,
            weekdays,
            last_day,
            until,
            count,
            catch_up: catch_up.into(),
            catch_up_minutes,
            skip_if_replied: schedule.skip_if_replied,
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
#[path = "draft_tests.rs"]
mod tests;
