//! When each chat last wrote to us, and the "skip if they have written to me since" check.
//!
//! The engine's incoming messages are recorded here as one time per chat (nothing of the
//! message is kept). A schedule with the condition on is not sent when its chat wrote after
//! the reference point: the later of the schedule's last edit (else its making) and its last
//! send, so a reply to one reminder skips the next one, and an old message does not skip a
//! new schedule.

use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

use super::store::StoreError;

/// A message from `chat` arrived (its sender's time `at`); keeps the newest.
pub fn record(conn: &Connection, chat: &str, at: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO inbound (chat, last_ms) VALUES (?1, ?2) \
         ON CONFLICT (chat) DO UPDATE SET last_ms = max(last_ms, excluded.last_ms)",
        params![chat, at.as_millisecond()],
    )?;
    Ok(())
}

/// When `chat` last wrote to us, if ever.
pub fn last(conn: &Connection, chat: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT last_ms FROM inbound WHERE chat = ?1",
            params![chat],
            |r| r.get(0),
        )
        .optional()?)
}

/// The schedule's last send that went out (sent, delivered or read), if any.
pub fn last_sent(conn: &Connection, schedule: i64) -> Result<Option<i64>, StoreError> {
    Ok(conn.query_row(
        "SELECT max(sent_ms) FROM sends WHERE schedule_id = ?1 \
         AND state IN ('sent', 'delivered', 'read')",
        params![schedule],
        |r| r.get(0),
    )?)
}

/// Whether an occurrence is skipped: the condition is on and the chat wrote after both the
/// schedule's last change and its last send. Pure.
pub fn skips(
    condition: bool,
    last_inbound_ms: Option<i64>,
    changed_ms: i64,
    last_sent_ms: Option<i64>,
) -> bool {
    let since = last_sent_ms.map_or(changed_ms, |s| s.max(changed_ms));
    condition && last_inbound_ms.is_some_and(|wrote| wrote > since)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_table() {
        // (condition, last inbound, changed, last sent) → skipped
        let cases = [
            (false, Some(500), 100, None, false),
            (true, None, 100, None, false),
            (true, Some(50), 100, None, false),
            (true, Some(100), 100, None, false),
            (true, Some(101), 100, None, true),
            // A reply before the last reminder went out does not skip the next one …
            (true, Some(150), 100, Some(200), false),
            // … a reply after it does.
            (true, Some(250), 100, Some(200), true),
            // An edit after the reply starts afresh.
            (true, Some(250), 300, Some(200), false),
        ];
        for (condition, inbound, changed, sent, want) in cases {
            assert_eq!(
                skips(condition, inbound, changed, sent),
                want,
                "{condition} {inbound:?} {changed} {sent:?}"
            );
        }
    }

    #[test]
    fn keeps_the_newest_message_time_per_chat() {
        let conn = crate::db::open_in_memory().unwrap();
        let t = |ms: i64| Timestamp::from_millisecond(ms).unwrap();
        assert_eq!(last(&conn, "a@s.whatsapp.net").unwrap(), None);
        record(&conn, "a@s.whatsapp.net", t(2_000)).unwrap();
        // A late-delivered older message does not move it back.
        record(&conn, "a@s.whatsapp.net", t(1_000)).unwrap();
        assert_eq!(last(&conn, "a@s.whatsapp.net").unwrap(), Some(2_000));
        record(&conn, "a@s.whatsapp.net", t(3_000)).unwrap();
        assert_eq!(last(&conn, "a@s.whatsapp.net").unwrap(), Some(3_000));
        assert_eq!(last(&conn, "b@s.whatsapp.net").unwrap(), None);
    }
}
