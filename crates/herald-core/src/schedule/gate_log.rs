//! The send gate's memory in the database: which chat was sent to when, for the last hour.
//!
//! The gate itself works on the monotonic clock and lives in the runner; without this a
//! restart would forget that a chat was written to a minute ago, or that the hourly cap is
//! nearly used up, and a crash loop could burst past both.

use jiff::Timestamp;
use rusqlite::{params, Connection};

use super::store::StoreError;

/// How long a row can still hold a send back (the hourly cap's window; the per-chat minimum
/// is shorter).
pub const KEEP_MS: i64 = 3_600_000;

/// A send to `chat` was let through at `at`; rows older than an hour are dropped.
pub fn record(conn: &Connection, chat: &str, at: Timestamp) -> Result<(), StoreError> {
    let at_ms = at.as_millisecond();
    conn.execute(
        "INSERT INTO gate_log (chat, at_ms) VALUES (?1, ?2)",
        params![chat, at_ms],
    )?;
    conn.execute(
        "DELETE FROM gate_log WHERE at_ms < ?1",
        params![at_ms - KEEP_MS],
    )?;
    Ok(())
}

/// The sends of the hour before `now`, oldest first.
pub fn recent(conn: &Connection, now: Timestamp) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT chat, at_ms FROM gate_log WHERE at_ms >= ?1 AND at_ms <= ?2 ORDER BY at_ms",
    )?;
    let now_ms = now.as_millisecond();
    let rows = stmt.query_map(params![now_ms - KEEP_MS, now_ms], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_hour_only() {
        let conn = crate::db::open_in_memory().unwrap();
        let t = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        record(&conn, "a@s.whatsapp.net", t(0)).unwrap();
        record(&conn, "b@s.whatsapp.net", t(1800)).unwrap();
        assert_eq!(recent(&conn, t(1900)).unwrap().len(), 2);
        // An hour and a bit later the first one no longer counts, and is gone.
        record(&conn, "a@s.whatsapp.net", t(3700)).unwrap();
        let left = recent(&conn, t(3700)).unwrap();
        assert_eq!(
            left.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(),
            ["b@s.whatsapp.net", "a@s.whatsapp.net"]
        );
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM gate_log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2);
    }
}
