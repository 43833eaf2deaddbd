//! `herald-cli schedule …`: add, preview, list, pause, resume, cancel and the history of
//! scheduled sends.
//!
//! These write the app database directly, without the session lock, so they work while the
//! desktop app or `connect` runs; the running instance's scheduler sees each commit within
//! half a second (it polls SQLite's `data_version`). Bad input exits 2 and saves nothing.

use std::path::Path;

use clap::Subcommand;
use herald_core::db;
use herald_core::offline::{self, APP_DB};
use herald_core::schedule::outbox::{self, RandomIds, SendRecord};
use herald_core::schedule::planner::{self, Adjust, Occurrence};
use herald_core::schedule::recipient::Recipient;
use herald_core::schedule::store::{self, NewSchedule, ScheduleId, StoreError};
use herald_core::schedule::timing::Timing;
use herald_core::schedule::words::describe;
use jiff::tz::Offset;
use jiff::Timestamp;
use rusqlite::Connection;
use serde_json::{json, Value};

use crate::error::CliError;
use crate::options::DataDirArg;
use crate::printer::emit;
use crate::schedule_flags::{parse_catch_up, usage, TimingArgs};

/// `schedule` subcommands.
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Schedule a message, once or repeating.
    Add {
        /// A phone number with its country code (+49 151 …), or a user or group JID.
        #[arg(long, allow_hyphen_values = true)]
        to: String,
        /// The message.
        #[arg(long, allow_hyphen_values = true)]
        text: String,
        #[command(flatten)]
        timing: TimingArgs,
        /// How late a send after downtime may still go: 30m, 2h, skip or always (default:
        /// 6 h for a one-shot, 1 h for a repeating one).
        #[arg(long, value_name = "30m|2h|skip|always")]
        catch_up: Option<String>,
        #[command(flatten)]
        data: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// The next sends of a timing, without saving anything.
    Preview {
        #[command(flatten)]
        timing: TimingArgs,
        /// How many.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=1000))]
        next: u16,
        /// Accepted like every `schedule` command's; a preview reads and writes nothing.
        #[command(flatten)]
        data: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Every schedule with its next send.
    List {
        #[command(flatten)]
        data: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Stop a schedule from sending until `resume`.
    Pause {
        id: ScheduleId,
        #[command(flatten)]
        data: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Let a paused schedule send again, from its next occurrence.
    Resume {
        id: ScheduleId,
        #[command(flatten)]
        data: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// End a schedule; its unsent occurrences are kept as cancelled.
    Cancel {
        id: ScheduleId,
        #[command(flatten)]
        data: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// The sends of one schedule, or of all, newest first.
    History {
        id: Option<ScheduleId>,
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
        #[command(flatten)]
        data: DataDirArg,
        #[arg(long)]
        json: bool,
    },
}

/// `schedule …`.
pub fn run(command: ScheduleCommand) -> Result<(), CliError> {
    let now = Timestamp::now();
    match command {
        ScheduleCommand::Add {
            to,
            text,
            timing,
            catch_up,
            data,
            json,
        } => {
            let recipient = Recipient::parse(&to).map_err(|e| usage(&e))?;
            let timing = timing.build(now)?;
            let catch_up = parse_catch_up(catch_up.as_deref())?;
            store::check_text(&text).map_err(|e| usage(&e))?;
            let dir = data.resolve()?;
            let conn = open(&dir)?;
            let mut ids = RandomIds {
                own_user: own_user(&dir),
            };
            let new = NewSchedule {
                recipient,
                text,
                timing,
                catch_up,
            };
            let (id, _) = store::add(&conn, &new, &mut ids, now).map_err(store_error)?;
            let next = planner::preview(&new.timing, now, 5);
            if json {
                let body = json!({"id": id, "occurrences": occurrences_json(&new.timing, &next)});
                return emit(&format!("{body}\n"));
            }
            let mut out = format!(
                "Schedule {id}: {} to {}\n",
                describe(&new.timing),
                new.recipient
            );
            out.push_str(&occurrences_text(&new.timing, &next));
            emit(&out)
        }
        ScheduleCommand::Preview {
            timing, next, json, ..
        } => {
            let timing = timing.build(now)?;
            let occ = planner::preview(&timing, now, usize::from(next));
            if json {
                let body = json!({"occurrences": occurrences_json(&timing, &occ)});
                return emit(&format!("{body}\n"));
            }
            emit(&format!(
                "{}\n{}",
                describe(&timing),
                occurrences_text(&timing, &occ)
            ))
        }
        ScheduleCommand::List { data, json } => list(&data.resolve()?, json),
        ScheduleCommand::Pause { id, data, json } => {
            let conn = open(&data.resolve()?)?;
            store::pause(&conn, id, now).map_err(store_error)?;
            done(id, "paused", json)
        }
        ScheduleCommand::Resume { id, data, json } => {
            let dir = data.resolve()?;
            let conn = open(&dir)?;
            let mut ids = RandomIds {
                own_user: own_user(&dir),
            };
            store::resume(&conn, id, &mut ids, now).map_err(store_error)?;
            done(id, "active", json)
        }
        ScheduleCommand::Cancel { id, data, json } => {
            let conn = open(&data.resolve()?)?;
            store::cancel(&conn, id, now).map_err(store_error)?;
            done(id, "cancelled", json)
        }
        ScheduleCommand::History {
            id,
            limit,
            data,
            json,
        } => history(&data.resolve()?, id, limit as usize, json),
    }
}

/// Bad requests (no such schedule, wrong status, a past time) exit 2; the rest are failures.
fn store_error(e: StoreError) -> CliError {
    match e {
        StoreError::NotFound(_)
        | StoreError::WrongStatus { .. }
        | StoreError::InThePast { .. }
        | StoreError::NothingAhead
        | StoreError::EmptyText
        | StoreError::TextTooLong(_) => usage(&e),
        other => CliError::Schedule(other),
    }
}

fn open(dir: &Path) -> Result<Connection, CliError> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::Output(std::io::Error::other(e)))?;
    Ok(db::open(&dir.join(APP_DB))?)
}

/// The linked account's number, hashed into message ids as WA Web does; empty when unknown.
fn own_user(dir: &Path) -> String {
    offline::status(dir, wa_client::UnixMillis::EPOCH)
        .ok()
        .and_then(|s| s.account)
        .map(|a| a.phone.trim_start_matches('+').to_owned())
        .unwrap_or_default()
}

fn offset_text(offset: Offset) -> String {
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

fn occurrence_json(timing: &Timing, o: &Occurrence) -> Value {
    json!({
        "local": o.wall().strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        "offset": offset_text(o.offset),
        "utc": o.at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "zone": timing.zone_name(),
    })
}

fn occurrences_json(timing: &Timing, occ: &[Occurrence]) -> Vec<Value> {
    occ.iter().map(|o| occurrence_json(timing, o)).collect()
}

fn occurrences_text(timing: &Timing, occ: &[Occurrence]) -> String {
    if occ.is_empty() {
        return "  (no sends ahead)\n".into();
    }
    let mut out = String::new();
    for o in occ {
        let note = match o.adjust {
            Adjust::None => String::new(),
            Adjust::Gap => format!(
                "  (DST: {} does not exist that day)",
                o.local.strftime("%H:%M")
            ),
            Adjust::Fold => format!(
                "  (DST: {} happens twice; the first)",
                o.local.strftime("%H:%M")
            ),
        };
        out.push_str(&format!(
            "  {} {} {}{note}\n",
            o.wall().strftime("%a %Y-%m-%d %H:%M"),
            offset_text(o.offset),
            timing.zone_name()
        ));
    }
    out
}

fn done(id: ScheduleId, status: &str, json: bool) -> Result<(), CliError> {
    if json {
        return emit(&format!("{}\n", json!({"id": id, "status": status})));
    }
    emit(&format!("Schedule {id} is {status}.\n"))
}

fn list(dir: &Path, json: bool) -> Result<(), CliError> {
    let conn = open(dir)?;
    let schedules = store::list(&conn).map_err(store_error)?;
    let mut rows = Vec::new();
    let mut text = String::new();
    for s in &schedules {
        let next = store::next_send(&conn, s.id).map_err(store_error)?;
        let next_at = next
            .as_ref()
            .and_then(|n| Timestamp::from_millisecond(n.due_ms).ok());
        let next_json = next_at.map(|at| {
            let offset = s.timing.zone().to_offset(at);
            json!({
                "local": offset.to_datetime(at).strftime("%Y-%m-%dT%H:%M:%S").to_string(),
                "offset": offset_text(offset),
                "utc": at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "zone": s.timing.zone_name(),
            })
        });
        rows.push(json!({
            "id": s.id,
            "to": s.recipient.value(),
            "toKind": s.recipient.kind(),
            "text": s.text,
            "timing": describe(&s.timing),
            "status": s.status,
            "next": next_json,
        }));
        let when = match next_at {
            Some(at) => at
                .to_zoned_datetime(s.timing.zone().clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string(),
            None => "-".into(),
        };
        text.push_str(&format!(
            "{:>4}  {:<9} next {when:<22} to {}  {}\n      {}\n",
            s.id,
            s.status.as_str(),
            s.recipient,
            describe(&s.timing),
            preview_text(&s.text)
        ));
    }
    if json {
        return emit(&format!("{}\n", Value::Array(rows)));
    }
    if schedules.is_empty() {
        return emit("No schedules.\n");
    }
    emit(&text)
}

fn preview_text(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    let line: String = first.chars().take(60).collect();
    if line.len() < text.trim_end().len() {
        format!("{line}…")
    } else {
        line
    }
}

fn history(dir: &Path, id: Option<ScheduleId>, limit: usize, json: bool) -> Result<(), CliError> {
    let conn = open(dir)?;
    if let Some(id) = id {
        store::get(&conn, id).map_err(store_error)?;
    }
    let rows = outbox::history(&conn, id, limit).map_err(store_error)?;
    if json {
        let all: Vec<Value> = rows.iter().map(send_json).collect();
        return emit(&format!("{}\n", Value::Array(all)));
    }
    if rows.is_empty() {
        return emit("No sends recorded.\n");
    }
    let mut out = String::new();
    for r in &rows {
        let mark = match r.state {
            outbox::SendState::Sent => "✓",
            outbox::SendState::Delivered => "✓✓",
            outbox::SendState::Read => "✓✓ read",
            _ => "",
        };
        let why = match (&r.error_code, &r.advice) {
            (Some(code), Some(advice)) => format!("  {code}: {advice}"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{:>4}  {}  {:<10} {mark:<8} {}  (schedule {}){why}\n",
            r.id,
            utc(r.due_ms),
            r.state.as_str(),
            r.message_id,
            r.schedule_id
        ));
    }
    emit(&out)
}

fn utc(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn send_json(r: &SendRecord) -> Value {
    let at = |ms: Option<i64>| ms.map(utc);
    json!({
        "id": r.id,
        "scheduleId": r.schedule_id,
        "messageId": r.message_id,
        "state": r.state,
        "seq": r.seq,
        "local": r.local,
        "due": utc(r.due_ms),
        "attempts": r.attempts,
        "sentAt": at(r.sent_ms),
        "deliveredAt": at(r.delivered_ms),
        "readAt": at(r.read_ms),
        "errorCode": r.error_code,
        "advice": r.advice,
    })
}
