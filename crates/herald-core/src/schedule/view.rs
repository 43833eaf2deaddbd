//! Schedules and sends as screens and the HTTP API show them (JSON, camelCase).

use jiff::tz::Offset;
use jiff::Timestamp;
use serde::Serialize;

use super::draft::ScheduleDraft;
use super::outbox::{SendRecord, SendState};
use super::planner::{Adjust, Occurrence};
use super::store::{Schedule, Status};
use super::timing::Timing;
use super::words::describe;

/// One planned or past send time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OccurrenceView {
    /// The instant, Unix milliseconds.
    pub at_ms: i64,
    /// The wall-clock time it goes at in the schedule's zone, `2026-03-29T03:30:00`.
    pub local: String,
    /// `+02:00`.
    pub offset: String,
    pub zone: String,
    /// `gap` when the asked-for time does not exist that day (sent the gap's length later),
    /// `fold` when it happens twice (sent at the first); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<&'static str>,
    /// The local time the rule asked for, when DST moved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asked: Option<String>,
}

impl OccurrenceView {
    pub fn of(timing: &Timing, o: &Occurrence) -> OccurrenceView {
        let dst = match o.adjust {
            Adjust::None => None,
            Adjust::Gap => Some("gap"),
            Adjust::Fold => Some("fold"),
        };
        OccurrenceView {
            at_ms: o.at.as_millisecond(),
            local: o.wall().strftime("%Y-%m-%dT%H:%M:%S").to_string(),
            offset: offset_text(o.offset),
            zone: timing.zone_name().to_owned(),
            dst,
            asked: dst.map(|_| o.local.strftime("%H:%M").to_string()),
        }
    }

    /// An instant in a schedule's zone (a stored send's due time).
    pub fn at(timing: &Timing, at: Timestamp) -> OccurrenceView {
        let offset = timing.zone().to_offset(at);
        OccurrenceView {
            at_ms: at.as_millisecond(),
            local: offset
                .to_datetime(at)
                .strftime("%Y-%m-%dT%H:%M:%S")
                .to_string(),
            offset: offset_text(offset),
            zone: timing.zone_name().to_owned(),
            dst: None,
            asked: None,
        }
    }
}

/// `+02:00`, `-03:30`.
pub fn offset_text(offset: Offset) -> String {
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// A schedule on the Schedules screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    pub id: i64,
    /// The phone number (E.164) or JID.
    pub to: String,
    /// `phone`, `user`, `lid` or `group`.
    pub to_kind: &'static str,
    pub text: String,
    /// The timing in words: "Every weekday at 09:00, Europe/Berlin".
    pub timing: String,
    pub zone: String,
    pub status: Status,
    /// The next send, if one is waiting.
    pub next: Option<OccurrenceView>,
    /// The state of the latest send that went out or failed, for the list's status mark.
    pub last: Option<SendState>,
    pub skip_if_replied: bool,
    pub created_ms: i64,
    /// What the edit form starts from.
    pub draft: ScheduleDraft,
}

impl ScheduleView {
    pub fn of(s: &Schedule, next: Option<&SendRecord>, last: Option<SendState>) -> ScheduleView {
        let next = next.and_then(|n| {
            Timestamp::from_millisecond(n.due_ms)
                .ok()
                .map(|at| OccurrenceView::at(&s.timing, at))
        });
        ScheduleView {
            id: s.id,
            to: s.recipient.value().to_owned(),
            to_kind: s.recipient.kind(),
            text: s.text.clone(),
            timing: describe(&s.timing),
            zone: s.timing.zone_name().to_owned(),
            status: s.status,
            next,
            last,
            skip_if_replied: s.skip_if_replied,
            created_ms: s.created_ms,
            draft: ScheduleDraft::of(s),
        }
    }
}

/// One send in a schedule's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendView {
    pub id: i64,
    pub schedule_id: i64,
    pub message_id: String,
    pub state: SendState,
    /// The occurrence's instant and wall-clock time in the schedule's zone.
    pub due: OccurrenceView,
    /// 1 for the rule's first occurrence; 0 for a "send now".
    pub seq: u32,
    pub attempts: u32,
    pub sent_ms: Option<i64>,
    pub delivered_ms: Option<i64>,
    pub read_ms: Option<i64>,
    pub error_code: Option<String>,
    pub advice: Option<String>,
}

impl SendView {
    pub fn of(timing: &Timing, r: &SendRecord) -> SendView {
        let due = Timestamp::from_millisecond(r.due_ms)
            .map(|at| OccurrenceView::at(timing, at))
            .unwrap_or_else(|_| OccurrenceView {
                at_ms: r.due_ms,
                local: r.local.clone(),
                offset: String::new(),
                zone: timing.zone_name().to_owned(),
                dst: None,
                asked: None,
            });
        SendView {
            id: r.id,
            schedule_id: r.schedule_id,
            message_id: r.message_id.clone(),
            state: r.state,
            due,
            seq: r.seq,
            attempts: r.attempts,
            sent_ms: r.sent_ms,
            delivered_ms: r.delivered_ms,
            read_ms: r.read_ms,
            error_code: r.error_code.clone(),
            advice: r.advice.clone(),
        }
    }
}

/// Whether scheduled messages can go out, for the health screen and the Schedules screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum SchedulerState {
    /// The runner is running: due sends go out while online.
    Running,
    /// This build has no way to send a message yet: schedules are kept, nothing is sent.
    #[default]
    NoSender,
    /// The runner ended (shut down, or its database failed).
    Stopped,
}
