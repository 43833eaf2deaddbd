//! Schedules in the app database: add, read, pause, resume, cancel.
//!
//! Adding a schedule also records its first occurrence in the outbox, in the same
//! transaction, so a running instance only has to look at the outbox's next-due index to
//! see it — whichever process wrote it.

use jiff::civil::{Date, DateTime};
use jiff::{SignedDuration, Timestamp};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::outbox::{self, MessageIds, SendState};
use super::planner::{self, Occurrence};
use super::recipient::{Recipient, RecipientError};
use super::timing::{CatchUp, End, MonthDay, Repeat, Timing, TimingError, Weekdays};

/// A row of the `schedules` table's primary key.
pub type ScheduleId = i64;

/// The longest text accepted, in characters: WhatsApp's own limit for a text message.
pub const MAX_TEXT_CHARS: usize = 65_536;

/// Whether a schedule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Paused,
    Cancelled,
    /// Every occurrence has been planned and none is left.
    Done,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Paused => "paused",
            Status::Cancelled => "cancelled",
            Status::Done => "done",
        }
    }

    fn parse(text: &str) -> Result<Status, StoreError> {
        Ok(match text {
            "active" => Status::Active,
            "paused" => Status::Paused,
            "cancelled" => Status::Cancelled,
            "done" => Status::Done,
            other => return Err(StoreError::Corrupt(format!("schedule status {other:?}"))),
        })
    }
}

/// What the user asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSchedule {
    pub recipient: Recipient,
    pub text: String,
    pub timing: Timing,
    pub catch_up: CatchUp,
}

/// A stored schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub id: ScheduleId,
    pub recipient: Recipient,
    pub text: String,
    pub timing: Timing,
    pub catch_up: CatchUp,
    pub status: Status,
    pub created_ms: i64,
    /// When it was made, or last edited by the user.
    pub changed_ms: i64,
    /// Not sent when the chat has written to us since the last change or send.
    pub skip_if_replied: bool,
}

/// Why a schedule could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the text is empty")]
    EmptyText,
    #[error("the text has {0} characters; WhatsApp takes at most {MAX_TEXT_CHARS}")]
    TextTooLong(usize),
    #[error("{local} in {zone} is in the past")]
    InThePast { local: DateTime, zone: String },
    #[error("the timing has no occurrence after now")]
    NothingAhead,
    #[error("no schedule {0}")]
    NotFound(ScheduleId),
    #[error("schedule {id} is {}", status.as_str())]
    WrongStatus { id: ScheduleId, status: Status },
    #[error("a message of schedule {0} is going out right now; try again in a moment")]
    SendingNow(ScheduleId),
    #[error(
        "this build of Herald cannot send messages yet (schedules are kept; nothing goes out)"
    )]
    NoSender,
    #[error("stored schedule is unreadable: {0}")]
    Corrupt(String),
    #[error("stored timing is unreadable: {0}")]
    Timing(#[from] TimingError),
    #[error("stored recipient is unreadable: {0}")]
    Recipient(#[from] RecipientError),
}

/// Checks a message text.
pub fn check_text(text: &str) -> Result<(), StoreError> {
    if text.trim().is_empty() {
        return Err(StoreError::EmptyText);
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(StoreError::TextTooLong(chars));
    }
    Ok(())
}

/// Stores a schedule and its first occurrence after `now`. A one-shot in the past, or a
/// timing with nothing left after `now`, is refused and nothing is written.
pub fn add(
    conn: &Connection,
    new: &NewSchedule,
    ids: &mut dyn MessageIds,
    now: Timestamp,
) -> Result<(ScheduleId, Occurrence), StoreError> {
    add_with(conn, new, false, ids, now)
}

/// [`add`], with the "skip if they have written to me since" condition.
pub fn add_with(
    conn: &Connection,
    new: &NewSchedule,
    skip_if_replied: bool,
    ids: &mut dyn MessageIds,
    now: Timestamp,
) -> Result<(ScheduleId, Occurrence), StoreError> {
    check_text(&new.text)?;
    let timing = &new.timing;
    let first = first_after(timing, now)?;
    let c = Columns::of(new);
    let now_ms = now.as_millisecond();
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "INSERT INTO schedules (recipient_kind, recipient, text, zone, start_local, repeat, \
         every, weekdays, last_day, until_date, max_count, catch_up, catch_up_ms, status, \
         created_ms, updated_ms, skip_if_replied) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'active', ?14, ?14, ?15)",
        params![
            new.recipient.kind(),
            new.recipient.value(),
            new.text,
            timing.zone_name(),
            c.start,
            c.repeat,
            c.every,
            c.weekdays,
            c.last_day,
            c.until,
            c.count,
            c.catch_up,
            c.catch_up_ms,
            now_ms,
            skip_if_replied,
        ],
    )?;
    let id = tx.last_insert_rowid();
    outbox::insert_occurrence(&tx, id, &first, SendState::Pending, false, ids, now)?;
    tx.commit()?;
    Ok((id, first))
}

/// The first occurrence after `now`, or why there is none.
pub(crate) fn first_after(timing: &Timing, now: Timestamp) -> Result<Occurrence, StoreError> {
    planner::next_after(timing, now).ok_or_else(|| match timing.repeat() {
        Repeat::Once => StoreError::InThePast {
            local: timing.start(),
            zone: timing.zone_name().to_owned(),
        },
        _ => StoreError::NothingAhead,
    })
}

/// A schedule's timing and catch-up policy as the table's columns.
pub(crate) struct Columns {
    pub start: String,
    pub repeat: &'static str,
    pub every: u16,
    pub weekdays: u8,
    pub last_day: bool,
    pub until: Option<String>,
    pub count: Option<u32>,
    pub catch_up: &'static str,
    pub catch_up_ms: Option<i64>,
}

impl Columns {
    pub fn of(new: &NewSchedule) -> Columns {
        let (repeat, every, weekdays, last_day) = repeat_columns(new.timing.repeat());
        let (until, count) = match new.timing.end() {
            End::Never => (None, None),
            End::Until(d) => (Some(d.to_string()), None),
            End::After(n) => (None, Some(n)),
        };
        let (catch_up, catch_up_ms) = match new.catch_up {
            CatchUp::Default => ("default", None),
            CatchUp::Within(w) => ("within", Some(w.as_millis() as i64)),
            CatchUp::Skip => ("skip", None),
            CatchUp::Always => ("always", None),
        };
        Columns {
            start: new.timing.start().to_string(),
            repeat,
            every,
            weekdays,
            last_day,
            until,
            count,
            catch_up,
            catch_up_ms,
        }
    }
}

fn repeat_columns(repeat: Repeat) -> (&'static str, u16, u8, bool) {
    match repeat {
        Repeat::Once => ("once", 1, 0, false),
        Repeat::Days { every } => ("days", every, 0, false),
        Repeat::Weeks { every, on } => ("weeks", every, on.bits(), false),
        Repeat::Months { every, on } => ("months", every, 0, on == MonthDay::LastDay),
        Repeat::Years { every } => ("years", every, 0, false),
    }
}

const COLUMNS: &str = "id, recipient_kind, recipient, text, zone, start_local, repeat, every, \
     weekdays, last_day, until_date, max_count, catch_up, catch_up_ms, status, created_ms, \
     coalesce(edited_ms, created_ms), skip_if_replied";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// The raw columns, decoded outside rusqlite's closure so errors keep their types.
struct RawSchedule {
    id: ScheduleId,
    kind: String,
    recipient: String,
    text: String,
    zone: String,
    start: String,
    repeat: String,
    every: u16,
    weekdays: u8,
    last_day: bool,
    until: Option<String>,
    count: Option<u32>,
    catch_up: String,
    catch_up_ms: Option<i64>,
    status: String,
    created_ms: i64,
    changed_ms: i64,
    skip_if_replied: bool,
}

fn raw(row: &Row<'_>) -> rusqlite::Result<RawSchedule> {
    Ok(RawSchedule {
        id: row.get(0)?,
        kind: row.get(1)?,
        recipient: row.get(2)?,
        text: row.get(3)?,
        zone: row.get(4)?,
        start: row.get(5)?,
        repeat: row.get(6)?,
        every: row.get(7)?,
        weekdays: row.get(8)?,
        last_day: row.get(9)?,
        until: row.get(10)?,
        count: row.get(11)?,
        catch_up: row.get(12)?,
        catch_up_ms: row.get(13)?,
        status: row.get(14)?,
        created_ms: row.get(15)?,
        changed_ms: row.get(16)?,
        skip_if_replied: row.get(17)?,
    })
}

impl RawSchedule {
    fn decode(self) -> Result<Schedule, StoreError> {
        let start: DateTime = self.start.parse().map_err(|e| corrupt("start", e))?;
        let repeat = match self.repeat.as_str() {
            "once" => Repeat::Once,
            "days" => Repeat::Days { every: self.every },
            "weeks" => Repeat::Weeks {
                every: self.every,
                on: Weekdays::from_bits(self.weekdays),
            },
            "months" => Repeat::Months {
                every: self.every,
                on: if self.last_day {
                    MonthDay::LastDay
                } else {
                    MonthDay::StartDay
                },
            },
            "years" => Repeat::Years { every: self.every },
            other => return Err(corrupt("repeat", other)),
        };
        let end = match (self.until, self.count) {
            (Some(d), _) => End::Until(d.parse::<Date>().map_err(|e| corrupt("until", e))?),
            (None, Some(n)) => End::After(n),
            (None, None) => End::Never,
        };
        let catch_up = match (self.catch_up.as_str(), self.catch_up_ms) {
            ("default", _) => CatchUp::Default,
            ("skip", _) => CatchUp::Skip,
            ("always", _) => CatchUp::Always,
            ("within", Some(ms)) => CatchUp::Within(SignedDuration::from_millis(ms)),
            (other, _) => return Err(corrupt("catch-up", other)),
        };
        Ok(Schedule {
            id: self.id,
            recipient: Recipient::from_stored(&self.kind, &self.recipient)?,
            text: self.text,
            timing: Timing::new(&self.zone, start, repeat, end)?,
            catch_up,
            status: Status::parse(&self.status)?,
            created_ms: self.created_ms,
            changed_ms: self.changed_ms,
            skip_if_replied: self.skip_if_replied,
        })
    }
}

/// One schedule.
pub fn get(conn: &Connection, id: ScheduleId) -> Result<Schedule, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM schedules WHERE id = ?1");
    conn.query_row(&sql, params![id], raw)
        .optional()?
        .ok_or(StoreError::NotFound(id))?
        .decode()
}

/// Every schedule, oldest first (cancelled ones included, for the record).
pub fn list(conn: &Connection) -> Result<Vec<Schedule>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM schedules ORDER BY id");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], raw)?;
    rows.map(|r| r?.decode()).collect()
}

pub(crate) fn set_status(
    conn: &Connection,
    id: ScheduleId,
    status: Status,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE schedules SET status = ?2, updated_ms = ?3 WHERE id = ?1",
        params![id, status.as_str(), now.as_millisecond()],
    )?;
    Ok(())
}

/// Stops a schedule from sending until [`resume`]. Its waiting occurrence is dropped (its id
/// never left this machine); a send already in flight or in doubt is still settled.
pub fn pause(conn: &Connection, id: ScheduleId, now: Timestamp) -> Result<(), StoreError> {
    let schedule = get(conn, id)?;
    if schedule.status != Status::Active {
        return Err(StoreError::WrongStatus {
            id,
            status: schedule.status,
        });
    }
    let tx = conn.unchecked_transaction()?;
    outbox::drop_untried(&tx, id)?;
    set_status(&tx, id, Status::Paused, now)?;
    tx.commit()?;
    Ok(())
}

/// Lets a paused schedule send again, from its next occurrence after `now` (the ones while
/// it was paused are not sent: the user paused it). Returns that occurrence, if any.
pub fn resume(
    conn: &Connection,
    id: ScheduleId,
    ids: &mut dyn MessageIds,
    now: Timestamp,
) -> Result<Option<Occurrence>, StoreError> {
    let schedule = get(conn, id)?;
    if schedule.status != Status::Paused {
        return Err(StoreError::WrongStatus {
            id,
            status: schedule.status,
        });
    }
    let tx = conn.unchecked_transaction()?;
    let next = plan_next(&tx, &schedule, now, ids, now)?;
    set_status(
        &tx,
        id,
        if next.is_some() {
            Status::Active
        } else {
            Status::Done
        },
        now,
    )?;
    tx.commit()?;
    Ok(next)
}

/// Ends a schedule for good; its unsent occurrences become `cancelled` (kept, visible).
pub fn cancel(conn: &Connection, id: ScheduleId, now: Timestamp) -> Result<(), StoreError> {
    let schedule = get(conn, id)?;
    if matches!(schedule.status, Status::Cancelled) {
        return Err(StoreError::WrongStatus {
            id,
            status: schedule.status,
        });
    }
    let tx = conn.unchecked_transaction()?;
    outbox::cancel_unsent(&tx, id, now)?;
    set_status(&tx, id, Status::Cancelled, now)?;
    tx.commit()?;
    Ok(())
}

/// Records the schedule's next occurrence after both `after` and its latest recorded one,
/// as `pending`; marks the schedule done when there is none. Call inside a transaction.
pub fn plan_next(
    conn: &Connection,
    schedule: &Schedule,
    after: Timestamp,
    ids: &mut dyn MessageIds,
    now: Timestamp,
) -> Result<Option<Occurrence>, StoreError> {
    let after = match outbox::last_due(conn, schedule.id)? {
        Some(last) => last.max(after),
        None => after,
    };
    match planner::next_after(&schedule.timing, after) {
        Some(next) => {
            outbox::insert_occurrence(
                conn,
                schedule.id,
                &next,
                SendState::Pending,
                false,
                ids,
                now,
            )?;
            Ok(Some(next))
        }
        None => {
            if schedule.status == Status::Active {
                set_status(conn, schedule.id, Status::Done, now)?;
            }
            Ok(None)
        }
    }
}

/// The next waiting occurrence of a schedule, if any.
pub fn next_send(
    conn: &Connection,
    id: ScheduleId,
) -> Result<Option<outbox::SendRecord>, StoreError> {
    let open = outbox::history(conn, Some(id), 4)?;
    Ok(open
        .into_iter()
        .filter(|s| {
            matches!(
                s.state,
                SendState::Pending | SendState::Sending | SendState::InDoubt
            )
        })
        .min_by_key(|s| s.due_ms))
}
