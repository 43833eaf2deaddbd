//! How schedules and their sends read in the API.

use herald_core::schedule::outbox::SendRecord;
use herald_core::schedule::store::Schedule;
use herald_core::schedule::timing::{CatchUp, End, MonthDay, Repeat};
use herald_core::schedule::words::describe;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::schedule_body::{CatchUpKind, RepeatUnit};
use super::views::ts_ms;

/// A stored schedule.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    pub id: i64,
    /// E.164 for a phone number, else the JID.
    pub to: String,
    /// `phone`, `user`, `lid` or `group`.
    pub to_kind: String,
    pub text: String,
    /// The first send's local date-time in `zone`.
    pub at: String,
    pub zone: String,
    pub repeat: Option<RepeatView>,
    pub until: Option<String>,
    pub count: Option<u32>,
    pub catch_up: CatchUpKind,
    pub catch_up_minutes: Option<u32>,
    /// `active`, `paused`, `cancelled` or `done`.
    pub status: String,
    /// The timing in words, e.g. "every Monday at 09:00 (Europe/Berlin)".
    pub description: String,
    /// The next send waiting, if any.
    pub next: Option<SendView>,
    #[schema(value_type = String, format = DateTime)]
    pub created: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepeatView {
    pub unit: RepeatUnit,
    pub every: u16,
    /// A weekly schedule's days.
    pub on: Option<Vec<String>>,
    pub last_day: bool,
}

/// One occurrence in the outbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendView {
    pub id: i64,
    pub schedule_id: i64,
    /// The WhatsApp message id, fixed when the occurrence was planned.
    pub message_id: String,
    /// `pending`, `sending`, `sent`, `delivered`, `read`, `failed`, `in_doubt`, `missed` or
    /// `cancelled`.
    pub state: String,
    /// Which occurrence of the schedule (1 = the first).
    pub seq: u32,
    /// The local date-time the rule asked for.
    pub local: String,
    #[schema(value_type = String, format = DateTime)]
    pub due: Timestamp,
    pub attempts: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<Timestamp>,
    pub error_code: Option<String>,
    pub advice: Option<String>,
}

impl From<&SendRecord> for SendView {
    fn from(r: &SendRecord) -> SendView {
        SendView {
            id: r.id,
            schedule_id: r.schedule_id,
            message_id: r.message_id.clone(),
            state: r.state.as_str().to_owned(),
            seq: r.seq,
            local: r.local.clone(),
            due: ts_ms(r.due_ms),
            attempts: r.attempts,
            sent_at: r.sent_ms.map(ts_ms),
            delivered_at: r.delivered_ms.map(ts_ms),
            read_at: r.read_ms.map(ts_ms),
            error_code: r.error_code.clone(),
            advice: r.advice.clone(),
        }
    }
}

impl ScheduleView {
    pub fn new(s: &Schedule, next: Option<&SendRecord>) -> ScheduleView {
        let t = &s.timing;
        let repeat = match t.repeat() {
            Repeat::Once => None,
            Repeat::Days { every } => Some((RepeatUnit::Day, every, None, false)),
            Repeat::Weeks { every, on } => Some((
                RepeatUnit::Week,
                every,
                Some(on.iter().map(|d| day_name(d).to_owned()).collect()),
                false,
            )),
            Repeat::Months { every, on } => {
                Some((RepeatUnit::Month, every, None, on == MonthDay::LastDay))
            }
            Repeat::Years { every } => Some((RepeatUnit::Year, every, None, false)),
        }
        .map(|(unit, every, on, last_day)| RepeatView {
            unit,
            every,
            on,
            last_day,
        });
        let (until, count) = match t.end() {
            End::Never => (None, None),
            End::Until(d) => (Some(d.to_string()), None),
            End::After(n) => (None, Some(n)),
        };
        let (catch_up, catch_up_minutes) = match s.catch_up {
            CatchUp::Default => (CatchUpKind::Default, None),
            CatchUp::Skip => (CatchUpKind::Skip, None),
            CatchUp::Always => (CatchUpKind::Always, None),
            CatchUp::Within(w) => (
                CatchUpKind::Within,
                Some(u32::try_from(w.as_mins()).unwrap_or(u32::MAX)),
            ),
        };
        ScheduleView {
            id: s.id,
            to: s.recipient.value().to_owned(),
            to_kind: s.recipient.kind().to_owned(),
            text: s.text.clone(),
            at: t.start().strftime("%Y-%m-%dT%H:%M:%S").to_string(),
            zone: t.zone_name().to_owned(),
            repeat,
            until,
            count,
            catch_up,
            catch_up_minutes,
            status: s.status.as_str().to_owned(),
            description: describe(t),
            next: next.map(SendView::from),
            created: ts_ms(s.created_ms),
        }
    }
}

fn day_name(d: jiff::civil::Weekday) -> &'static str {
    use jiff::civil::Weekday as W;
    match d {
        W::Monday => "mon",
        W::Tuesday => "tue",
        W::Wednesday => "wed",
        W::Thursday => "thu",
        W::Friday => "fri",
        W::Saturday => "sat",
        W::Sunday => "sun",
    }
}
