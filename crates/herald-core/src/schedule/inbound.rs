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

/// When the person behind `chats` — one user's chat as a phone number and as a LID, which
/// WhatsApp may use for the same person — last wrote to us: the newest of them.
pub fn last_of(conn: &Connection, chats: &[String]) -> Result<Option<i64>, StoreError> {
    let mut newest = None;
    for chat in chats {
        newest = newest.max(last(conn, chat)?);
    }
    Ok(newest)
}

/// The chats that are one recipient: its own and its counterparts in the other namespace,
/// each once. Pure.
pub fn same_person(chat: &str, others: &[String]) -> Vec<String> {
    let mut all = vec![chat.to_owned()];
    for other in others {
        if !all.contains(other) {
            all.push(other.clone());
        }
    }
    all
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
    fn a_reply_from_either_namespace_counts() {
        const PN: &str = "4915123456791@s.whatsapp.net";
        const LID: &str = "200000000000003@lid";
        const OTHER: &str = "4915123456789@s.whatsapp.net";
        // (schedule's chat, the pair the store knows, who wrote when) → skipped
        // The schedule was changed at 100 and has not sent yet.
        type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, i64)], bool);
        let cases: &[Case] = &[
            // Phone-number schedule, reply from the LID chat: the pair makes it the same person.
            (PN, &[LID], &[(LID, 150)], true),
            // … without the pair it cannot be told apart.
            (PN, &[], &[(LID, 150)], false),
            // LID schedule, reply from the phone-number chat.
            (LID, &[PN], &[(PN, 150)], true),
            // The newest of either counts: an old one in one namespace, a new one in the other.
            (PN, &[LID], &[(PN, 50), (LID, 150)], true),
            (PN, &[LID], &[(PN, 50), (LID, 90)], false),
            // Someone else writing never skips.
            (PN, &[LID], &[(OTHER, 150)], false),
            // A counterpart equal to the chat is not counted twice (and changes nothing).
            (PN, &[PN], &[(PN, 150)], true),
        ];
        for (chat, others, wrote, want) in cases {
            let conn = crate::db::open_in_memory().unwrap();
            for (from, at) in *wrote {
                record(&conn, from, Timestamp::from_millisecond(*at).unwrap()).unwrap();
            }
            let others: Vec<String> = others.iter().map(|o| o.to_string()).collect();
            let chats = same_person(chat, &others);
            assert!(chats.len() <= 2, "{chats:?}");
            let got = skips(true, last_of(&conn, &chats).unwrap(), 100, None);
            assert_eq!(got, *want, "{chat} {others:?} {wrote:?}");
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
