//! The outbox: one row per occurrence of a schedule, and every state change of a send.
//!
//! The rules that make a send happen exactly once live here. A row gets its message id when
//! it is made, before anything is encrypted or written. The encoded stanza is committed
//! before its bytes leave ([`store_stanza`]); from then on the row is only ever sent as those
//! bytes, never encrypted anew. A row caught in `sending` by a crash becomes `in_doubt` at the
//! next start ([`recover`]) and is resent as the same bytes, or settled by a receipt.

use jiff::Timestamp;
use rand::rngs::OsRng;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::planner::Occurrence;
use super::store::{ScheduleId, StoreError};

/// A send's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SendState {
    Pending,
    Sending,
    Sent,
    Delivered,
    Read,
    Failed,
    InDoubt,
    Missed,
    Cancelled,
}

impl SendState {
    pub fn as_str(self) -> &'static str {
        match self {
            SendState::Pending => "pending",
            SendState::Sending => "sending",
            SendState::Sent => "sent",
            SendState::Delivered => "delivered",
            SendState::Read => "read",
            SendState::Failed => "failed",
            SendState::InDoubt => "in_doubt",
            SendState::Missed => "missed",
            SendState::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> Result<SendState, StoreError> {
        Ok(match text {
            "pending" => SendState::Pending,
            "sending" => SendState::Sending,
            "sent" => SendState::Sent,
            "delivered" => SendState::Delivered,
            "read" => SendState::Read,
            "failed" => SendState::Failed,
            "in_doubt" => SendState::InDoubt,
            "missed" => SendState::Missed,
            "cancelled" => SendState::Cancelled,
            other => return Err(StoreError::Corrupt(format!("send state {other:?}"))),
        })
    }
}

/// A row of the `sends` table's primary key.
pub type SendId = i64;

/// One send, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRecord {
    pub id: SendId,
    pub schedule_id: ScheduleId,
    pub message_id: String,
    pub state: SendState,
    pub due_ms: i64,
    pub seq: u32,
    /// The local date-time the rule asked for.
    pub local: String,
    pub attempts: u32,
    #[serde(skip)]
    pub cleared: bool,
    #[serde(skip)]
    pub next_try_ms: i64,
    #[serde(skip)]
    pub stanza: Option<Vec<u8>>,
    pub sent_ms: Option<i64>,
    pub delivered_ms: Option<i64>,
    pub read_ms: Option<i64>,
    pub error_code: Option<String>,
    pub advice: Option<String>,
}

const COLUMNS: &str = "id, schedule_id, message_id, state, due_ms, seq, local, attempts, \
     cleared_ms, next_try_ms, stanza, sent_ms, delivered_ms, read_ms, error_code, advice";

fn record(row: &Row<'_>) -> rusqlite::Result<(SendRecord, String)> {
    let state: String = row.get(3)?;
    Ok((
        SendRecord {
            id: row.get(0)?,
            schedule_id: row.get(1)?,
            message_id: row.get(2)?,
            state: SendState::Pending,
            due_ms: row.get(4)?,
            seq: row.get(5)?,
            local: row.get(6)?,
            attempts: row.get(7)?,
            cleared: row.get::<_, Option<i64>>(8)?.is_some(),
            next_try_ms: row.get(9)?,
            stanza: row.get(10)?,
            sent_ms: row.get(11)?,
            delivered_ms: row.get(12)?,
            read_ms: row.get(13)?,
            error_code: row.get(14)?,
            advice: row.get(15)?,
        },
        state,
    ))
}

fn finish(pair: (SendRecord, String)) -> Result<SendRecord, StoreError> {
    let (mut rec, state) = pair;
    rec.state = SendState::parse(&state)?;
    Ok(rec)
}

fn query(
    conn: &Connection,
    tail: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<SendRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM sends {tail}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args, record)?;
    rows.map(|r| finish(r?)).collect()
}

/// Where message ids come from.
pub trait MessageIds {
    /// A fresh id, unique forever.
    fn next_id(&mut self, now: Timestamp) -> String;
}

/// WA Web's message ids (wa-core's generator), drawn from the OS's random source.
#[derive(Debug, Clone, Default)]
pub struct RandomIds {
    /// The account's phone-number user, hashed into each id like WA Web does; empty before
    /// linking (the 16 random bytes keep ids unique either way).
    pub own_user: String,
}

impl MessageIds for RandomIds {
    fn next_id(&mut self, now: Timestamp) -> String {
        let secs = u64::try_from(now.as_second()).unwrap_or_default();
        wa_core::ids::new_message_id(&mut OsRng, secs, &self.own_user)
    }
}

/// Records an occurrence with a fresh message id; nothing when the row already exists (the
/// UNIQUE (schedule, instant) key makes re-planning harmless). Returns the new row's id.
pub fn insert_occurrence(
    conn: &Connection,
    schedule: ScheduleId,
    occurrence: &Occurrence,
    state: SendState,
    cleared: bool,
    ids: &mut dyn MessageIds,
    now: Timestamp,
) -> Result<Option<SendId>, StoreError> {
    let now_ms = now.as_millisecond();
    let due_ms = occurrence.at.as_millisecond();
    let changed = conn.execute(
        "INSERT OR IGNORE INTO sends (schedule_id, due_ms, seq, local, message_id, state, \
         cleared_ms, next_try_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            schedule,
            due_ms,
            occurrence.seq,
            occurrence.local.to_string(),
            ids.next_id(now),
            state.as_str(),
            cleared.then_some(now_ms),
            due_ms,
            now_ms,
        ],
    )?;
    Ok((changed == 1).then(|| conn.last_insert_rowid()))
}

/// After a crash: every send caught in `sending` becomes `in_doubt`. Returns how many.
pub fn recover(conn: &Connection, now: Timestamp) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE sends SET state = 'in_doubt', cleared_ms = coalesce(cleared_ms, ?1), \
         updated_ms = ?1 WHERE state = 'sending'",
        params![now.as_millisecond()],
    )?)
}

/// The earliest instant any send may go (through the partial index, not a scan).
pub fn next_try(conn: &Connection) -> Result<Option<Timestamp>, StoreError> {
    let ms: Option<i64> = conn
        .query_row(
            "SELECT next_try_ms FROM sends WHERE state IN ('pending', 'in_doubt') \
             ORDER BY next_try_ms LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    ms.map(ms_to_ts).transpose()
}

/// Pending sends that are due and whose lateness has not been judged yet.
pub fn due_unjudged(
    conn: &Connection,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<SendRecord>, StoreError> {
    query(
        conn,
        "WHERE state IN ('pending', 'in_doubt') AND next_try_ms <= ?1 AND cleared_ms IS NULL \
         ORDER BY next_try_ms LIMIT ?2",
        params![now.as_millisecond(), limit as i64],
    )
}

/// Cleared sends that may go now, oldest first.
pub fn ready(
    conn: &Connection,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<SendRecord>, StoreError> {
    query(
        conn,
        "WHERE state IN ('pending', 'in_doubt') AND next_try_ms <= ?1 \
         AND cleared_ms IS NOT NULL ORDER BY next_try_ms LIMIT ?2",
        params![now.as_millisecond(), limit as i64],
    )
}

/// The catch-up policy let this send go.
pub fn clear(conn: &Connection, id: SendId, now: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sends SET cleared_ms = ?2, updated_ms = ?2 WHERE id = ?1",
        params![id, now.as_millisecond()],
    )?;
    Ok(())
}

/// One send by its row id.
pub fn get(conn: &Connection, id: SendId) -> Result<Option<SendRecord>, StoreError> {
    Ok(query(conn, "WHERE id = ?1", params![id])?
        .into_iter()
        .next())
}

/// One send by its message id.
pub fn by_message_id(conn: &Connection, id: &str) -> Result<Option<SendRecord>, StoreError> {
    Ok(query(conn, "WHERE message_id = ?1", params![id])?
        .into_iter()
        .next())
}

/// The sends of one schedule (or of all), newest occurrence first.
pub fn history(
    conn: &Connection,
    schedule: Option<ScheduleId>,
    limit: usize,
) -> Result<Vec<SendRecord>, StoreError> {
    match schedule {
        Some(id) => query(
            conn,
            "WHERE schedule_id = ?1 ORDER BY due_ms DESC, id DESC LIMIT ?2",
            params![id, limit as i64],
        ),
        None => query(
            conn,
            "ORDER BY due_ms DESC, id DESC LIMIT ?1",
            params![limit as i64],
        ),
    }
}

/// Moves a send from one of `from` to `to`; false when it was in none of them (someone
/// else moved it first).
fn transition(
    conn: &Connection,
    id: SendId,
    from: &[SendState],
    set: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<bool, StoreError> {
    let from = from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("UPDATE sends SET {set} WHERE id = ?1 AND state IN ({from})");
    let mut all: Vec<&dyn rusqlite::ToSql> = vec![&id];
    all.extend_from_slice(args);
    Ok(conn.execute(&sql, all.as_slice())? == 1)
}

/// `pending`/`in_doubt` → `sending`, committed before anything is encrypted or sent.
pub fn claim(conn: &Connection, id: SendId, now: Timestamp) -> Result<bool, StoreError> {
    transition(
        conn,
        id,
        &[SendState::Pending, SendState::InDoubt],
        "state = 'sending', attempts = attempts + 1, updated_ms = ?2",
        &[&now.as_millisecond()],
    )
}

/// Keeps the encoded stanza of a send; must commit before its bytes leave. Refused when the
/// row already has bytes: one occurrence, one ciphertext.
pub fn store_stanza(conn: &Connection, id: SendId, stanza: &[u8]) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE sends SET stanza = ?2 WHERE id = ?1 AND state = 'sending' AND stanza IS NULL",
        params![id, stanza],
    )? == 1)
}

/// The server acked it.
pub fn mark_sent(conn: &Connection, id: SendId, at: Timestamp) -> Result<bool, StoreError> {
    transition(
        conn,
        id,
        &[SendState::Sending, SendState::InDoubt],
        "state = 'sent', sent_ms = ?2, updated_ms = ?2, error_code = NULL, advice = NULL",
        &[&at.as_millisecond()],
    )
}

/// The ack was lost (or the link dropped mid-send): resend the stored bytes at `retry`.
pub fn mark_in_doubt(
    conn: &Connection,
    id: SendId,
    retry: Timestamp,
    now: Timestamp,
) -> Result<bool, StoreError> {
    transition(
        conn,
        id,
        &[SendState::Sending],
        "state = 'in_doubt', next_try_ms = ?2, updated_ms = ?3",
        &[&retry.as_millisecond(), &now.as_millisecond()],
    )
}

/// Not sent (a temporary refusal, a rate limit): try again at `retry`, with the stored bytes
/// if there are any.
pub fn retry_later(
    conn: &Connection,
    id: SendId,
    retry: Timestamp,
    code: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    transition(
        conn,
        id,
        &[SendState::Sending],
        "state = 'pending', next_try_ms = ?2, error_code = ?3, updated_ms = ?4",
        &[&retry.as_millisecond(), &code, &now.as_millisecond()],
    )
}

/// Refused for good.
pub fn mark_failed(
    conn: &Connection,
    id: SendId,
    code: &str,
    advice: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    transition(
        conn,
        id,
        &[SendState::Sending, SendState::Pending, SendState::InDoubt],
        "state = 'failed', error_code = ?2, advice = ?3, updated_ms = ?4",
        &[&code, &advice, &now.as_millisecond()],
    )
}

/// The recipient wrote since the last change or send and the schedule asked to skip then: the
/// send is cancelled with the reason, before anything was encrypted.
pub fn mark_skipped(conn: &Connection, id: SendId, now: Timestamp) -> Result<bool, StoreError> {
    transition(
        conn,
        id,
        &[SendState::Pending],
        "state = 'cancelled', error_code = 'replied', advice = ?3, updated_ms = ?2",
        &[
            &now.as_millisecond(),
            &"Not sent: they wrote to you since, and this schedule skips then.",
        ],
    )
}

/// Too late for the catch-up window.
pub fn mark_missed(conn: &Connection, id: SendId, now: Timestamp) -> Result<bool, StoreError> {
    transition(
        conn,
        id,
        &[SendState::Pending],
        "state = 'missed', updated_ms = ?2",
        &[&now.as_millisecond()],
    )
}

/// A receipt came for a message id. States only move forward (a late `delivered` after
/// `read` changes nothing), and a receipt settles an in-doubt send as sent and delivered.
pub fn on_receipt(
    conn: &Connection,
    message_id: &str,
    read: bool,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let at = at.as_millisecond();
    let changed = if read {
        conn.execute(
            "UPDATE sends SET state = 'read', read_ms = ?2, sent_ms = coalesce(sent_ms, ?2), \
             delivered_ms = coalesce(delivered_ms, ?2), updated_ms = ?2 \
             WHERE message_id = ?1 AND state IN ('sending', 'in_doubt', 'sent', 'delivered')",
            params![message_id, at],
        )?
    } else {
        conn.execute(
            "UPDATE sends SET state = 'delivered', delivered_ms = ?2, \
             sent_ms = coalesce(sent_ms, ?2), updated_ms = ?2 \
             WHERE message_id = ?1 AND state IN ('sending', 'in_doubt', 'sent')",
            params![message_id, at],
        )?
    };
    Ok(changed == 1)
}

/// Drops a schedule's unsent, never-tried rows (on pause: their ids never left this machine).
pub fn drop_untried(conn: &Connection, schedule: ScheduleId) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM sends WHERE schedule_id = ?1 AND state = 'pending' AND stanza IS NULL \
         AND attempts = 0",
        params![schedule],
    )?)
}

/// Cancels a schedule's sends that have not gone out (the stored-bytes ones included: the
/// user said not to send).
pub fn cancel_unsent(
    conn: &Connection,
    schedule: ScheduleId,
    now: Timestamp,
) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE sends SET state = 'cancelled', updated_ms = ?2 \
         WHERE schedule_id = ?1 AND state = 'pending'",
        params![schedule, now.as_millisecond()],
    )?)
}

/// Whether the schedule still has a send waiting (pending, in flight or in doubt).
pub fn has_open(conn: &Connection, schedule: ScheduleId) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM sends WHERE schedule_id = ?1 \
             AND state IN ('pending', 'sending', 'in_doubt') LIMIT 1",
            params![schedule],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The latest occurrence instant recorded for a schedule.
pub fn last_due(conn: &Connection, schedule: ScheduleId) -> Result<Option<Timestamp>, StoreError> {
    let ms: Option<i64> = conn.query_row(
        "SELECT max(due_ms) FROM sends WHERE schedule_id = ?1",
        params![schedule],
        |r| r.get(0),
    )?;
    ms.map(ms_to_ts).transpose()
}

pub(crate) fn ms_to_ts(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(format!("instant {ms}: {e}")))
}
