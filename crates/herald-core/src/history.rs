//! The reconnect history: one row per disconnect, and the online/offline transitions behind
//! the timeline.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use wa_client::{DecisionKind, UnixMillis};
use wa_core::disconnect::EndState;

use crate::db::DbError;

/// One disconnect as the history table shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisconnectRecord {
    pub id: i64,
    /// When it happened.
    pub at_ms: UnixMillis,
    /// The cause's stable key (`replaced`, `client_outdated`, …).
    pub cause: String,
    /// The cause in a few words.
    pub title: String,
    /// The protocol's number for it, where there is one.
    pub code: Option<u16>,
    /// What Herald decided: `reconnect_now`, `backoff` or `stop:<end state>`.
    pub decision: String,
    /// The sentence the user saw.
    pub advice: String,
    /// Which failed attempt in a row this was, for backoffs.
    pub attempt: Option<u32>,
    /// How long Herald waited before dialing again.
    pub delay_ms: Option<u64>,
    /// How long the connection had been online before it dropped (none if it never came up).
    pub online_for_ms: Option<u64>,
}

/// The stored form of a decision: `reconnect_now`, `backoff` or `stop:<end state>` (the
/// History screen reads it as it is).
pub fn decision_key(decision: DecisionKind, stop: Option<EndState>) -> String {
    match (decision, stop) {
        (DecisionKind::ReconnectNow, _) => "reconnect_now".into(),
        (DecisionKind::Backoff, _) => "backoff".into(),
        (DecisionKind::Stop, Some(end)) => format!("stop:{}", end.key()),
        (DecisionKind::Stop, None) => "stop".into(),
    }
}

/// A disconnect to record; its `id` is ignored (the database assigns it).
pub type NewDisconnect = DisconnectRecord;

/// Appends a disconnect and returns it with its id.
pub fn append(conn: &Connection, d: &NewDisconnect) -> Result<DisconnectRecord, DbError> {
    conn.execute(
        "INSERT INTO disconnects
            (at_ms, cause, title, code, decision, advice, attempt, delay_ms, online_for_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            d.at_ms,
            d.cause,
            d.title,
            d.code,
            d.decision,
            d.advice,
            d.attempt,
            d.delay_ms.map(|v| v as i64),
            d.online_for_ms.map(|v| v as i64),
        ],
    )?;
    Ok(DisconnectRecord {
        id: conn.last_insert_rowid(),
        ..d.clone()
    })
}

/// One page of history, newest first: up to `limit` rows older than `before_id` (or the
/// newest when `None`).
pub fn page(
    conn: &Connection,
    before_id: Option<i64>,
    limit: u32,
) -> Result<Vec<DisconnectRecord>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at_ms, cause, title, code, decision, advice, attempt, delay_ms, online_for_ms
           FROM disconnects WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![before_id.unwrap_or(i64::MAX), limit], |r| {
        Ok(DisconnectRecord {
            id: r.get(0)?,
            at_ms: r.get(1)?,
            cause: r.get(2)?,
            title: r.get(3)?,
            code: r.get(4)?,
            decision: r.get(5)?,
            advice: r.get(6)?,
            attempt: r.get(7)?,
            delay_ms: r.get::<_, Option<i64>>(8)?.map(|v| v.max(0) as u64),
            online_for_ms: r.get::<_, Option<i64>>(9)?.map(|v| v.max(0) as u64),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many disconnects are recorded.
pub fn count(conn: &Connection) -> Result<u64, DbError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM disconnects", [], |r| {
        r.get::<_, i64>(0)
    })? as u64)
}

/// The times of the disconnects since `from_ms`, oldest first (the timeline's marks).
pub fn times_since(conn: &Connection, from_ms: UnixMillis) -> Result<Vec<UnixMillis>, DbError> {
    let mut stmt =
        conn.prepare_cached("SELECT at_ms FROM disconnects WHERE at_ms >= ?1 ORDER BY at_ms")?;
    let rows = stmt.query_map(params![from_ms], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records that the connection went online or offline at `at_ms`; repeats of the same state
/// are skipped so the log holds transitions only.
pub fn log_state(conn: &Connection, at_ms: UnixMillis, online: bool) -> Result<(), DbError> {
    let last: Option<bool> = conn
        .query_row(
            "SELECT online FROM state_log ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if last != Some(online) {
        conn.execute(
            "INSERT INTO state_log (at_ms, online) VALUES (?1, ?2)",
            params![at_ms, online],
        )?;
    }
    Ok(())
}

/// The transitions that matter for `[from_ms, …)`: the last one before `from_ms` (the state
/// the window starts in) and every one after.
pub fn transitions_since(
    conn: &Connection,
    from_ms: UnixMillis,
) -> Result<Vec<(UnixMillis, bool)>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at_ms, online FROM (
             SELECT at_ms, online, id FROM
                 (SELECT at_ms, online, id FROM state_log WHERE at_ms < ?1
                   ORDER BY at_ms DESC, id DESC LIMIT 1)
             UNION ALL
             SELECT at_ms, online, id FROM state_log WHERE at_ms >= ?1
         ) ORDER BY at_ms, id",
    )?;
    let rows = stmt.query_map(params![from_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::open_in_memory;

    fn record(at_ms: i64, cause: &str) -> NewDisconnect {
        DisconnectRecord {
            id: 0,
            at_ms: UnixMillis(u64::try_from(at_ms).unwrap()),
            cause: cause.into(),
            title: "t".into(),
            code: Some(503),
            decision: "backoff".into(),
            advice: "a.".into(),
            attempt: Some(1),
            delay_ms: Some(2000),
            online_for_ms: None,
        }
    }

    #[test]
    fn pages_newest_first() {
        let conn = open_in_memory().unwrap();
        for i in 0..5 {
            append(&conn, &record(i * 1000, &format!("c{i}"))).unwrap();
        }
        assert_eq!(count(&conn).unwrap(), 5);
        let first = page(&conn, None, 2).unwrap();
        assert_eq!(
            first.iter().map(|r| r.cause.as_str()).collect::<Vec<_>>(),
            ["c4", "c3"]
        );
        let next = page(&conn, Some(first[1].id), 10).unwrap();
        assert_eq!(
            next.iter().map(|r| r.cause.as_str()).collect::<Vec<_>>(),
            ["c2", "c1", "c0"]
        );
        assert_eq!(next[0].delay_ms, Some(2000));
        assert_eq!(next[0].online_for_ms, None);
    }

    #[test]
    fn state_log_keeps_transitions_only() {
        let conn = open_in_memory().unwrap();
        log_state(&conn, UnixMillis(100), false).unwrap();
        log_state(&conn, UnixMillis(200), true).unwrap();
        log_state(&conn, UnixMillis(250), true).unwrap();
        log_state(&conn, UnixMillis(300), false).unwrap();
        log_state(&conn, UnixMillis(400), true).unwrap();
        assert_eq!(
            transitions_since(&conn, UnixMillis::EPOCH).unwrap(),
            [(100, false), (200, true), (300, false), (400, true)]
                .map(|(at, on)| (UnixMillis(at), on))
        );
        assert_eq!(
            transitions_since(&conn, UnixMillis(350)).unwrap(),
            [(UnixMillis(300), false), (UnixMillis(400), true)],
            "the window starts with the state in force at its start"
        );
    }
}
