//! The messaging tables (migration 0003): sent messages with their committed stanza, the
//! per-device delivery and retry record, sender-key holders, LID mappings and privacy tokens.
//!
//! Everything is a method of [`SignalTx`], so a send commits its stanza in the same
//! transaction as the ratchet steps that made it.

use rusqlite::{params, Connection, OptionalExtension};

use super::signal::{SignalStoreError, SignalTx};
use super::StoreError;

/// A message this device sent, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// Its id.
    pub id: String,
    /// The chat it went to (user or group JID).
    pub chat: String,
    /// The `Message` protobuf, unpadded.
    pub plaintext: Vec<u8>,
    /// The binary-encoded `<message>` as first committed.
    pub stanza: Vec<u8>,
    /// A group message's sender-key distribution message (encoded) as it was when its skmsg
    /// was made: what a device added before a resend needs to read that skmsg.
    pub distribution: Option<Vec<u8>>,
}

/// Whether a retry receipt for a sent message may be answered (messaging.md §3.4, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryVerdict {
    /// Answer it; this is the device's `n`th answered retry.
    Allowed(u32),
    /// The device already confirmed delivery (WA Web's `ALREADY_DELIVERED`): a resend would
    /// show the message twice.
    AlreadyDelivered,
    /// The device had its retries.
    TooMany,
    /// We have no such message.
    Unknown,
}

/// Answered retries per device and message, at most.
pub const MAX_RETRIES_PER_DEVICE: u32 = 5;

impl SignalTx<'_> {
    /// Stores a sent message and the devices it was addressed to. A message stored again (a
    /// resend that had to add a device) replaces the stanza and keeps the device rows.
    pub fn put_sent(
        &mut self,
        message: &SentMessage,
        devices: &[String],
    ) -> Result<(), SignalStoreError> {
        let now = self.now_ms() as i64;
        let sql = self.sql();
        sql.execute(
            "INSERT INTO sent_messages (id, chat, plaintext, stanza, distribution, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET stanza = excluded.stanza",
            params![message.id, message.chat, message.plaintext, message.stanza, message.distribution, now],
        )?;
        for d in devices {
            sql.execute(
                "INSERT OR IGNORE INTO sent_devices (message_id, device) VALUES (?1, ?2)",
                params![message.id, d],
            )?;
        }
        Ok(())
    }

    /// A sent message by id.
    pub fn sent(&self, id: &str) -> Result<Option<SentMessage>, SignalStoreError> {
        Ok(self
            .sql()
            .query_row(
                "SELECT id, chat, plaintext, stanza, distribution FROM sent_messages WHERE id = ?1",
                params![id],
                |r| {
                    Ok(SentMessage {
                        id: r.get(0)?,
                        chat: r.get(1)?,
                        plaintext: r.get(2)?,
                        stanza: r.get(3)?,
                        distribution: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// The devices a sent message was addressed to (the ones that had a copy or, in a group,
    /// already held the key its skmsg needs).
    pub fn sent_devices(&self, id: &str) -> Result<Vec<String>, SignalStoreError> {
        let mut stmt = self
            .sql()
            .prepare("SELECT device FROM sent_devices WHERE message_id = ?1 ORDER BY device")?;
        let rows = stmt.query_map(params![id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The server acked it.
    pub fn mark_acked(&mut self, id: &str) -> Result<(), SignalStoreError> {
        let now = self.now_ms() as i64;
        self.sql().execute(
            "UPDATE sent_messages SET acked_at_ms = ?2 WHERE id = ?1 AND acked_at_ms IS NULL",
            params![id, now],
        )?;
        Ok(())
    }

    /// A device confirmed delivery of one of our messages. False when the id is not ours.
    pub fn mark_delivered(&mut self, id: &str, device: &str) -> Result<bool, SignalStoreError> {
        let now = self.now_ms() as i64;
        let known: bool = self.sql().query_row(
            "SELECT EXISTS(SELECT 1 FROM sent_messages WHERE id = ?1)",
            params![id],
            |r| r.get(0),
        )?;
        if known {
            self.sql().execute(
                "INSERT INTO sent_devices (message_id, device, delivered_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(message_id, device) DO UPDATE SET delivered_at_ms = COALESCE(delivered_at_ms, excluded.delivered_at_ms)",
                params![id, device, now],
            )?;
        }
        Ok(known)
    }

    /// Decides a retry receipt from `device` for `id`, counting it when allowed.
    pub fn note_retry(&mut self, id: &str, device: &str) -> Result<RetryVerdict, SignalStoreError> {
        if self.sent(id)?.is_none() {
            return Ok(RetryVerdict::Unknown);
        }
        let row: Option<(Option<i64>, u32)> = self
            .sql()
            .query_row(
                "SELECT delivered_at_ms, retries FROM sent_devices WHERE message_id = ?1 AND device = ?2",
                params![id, device],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let retries = match row {
            Some((Some(_), _)) => return Ok(RetryVerdict::AlreadyDelivered),
            Some((None, n)) if n >= MAX_RETRIES_PER_DEVICE => return Ok(RetryVerdict::TooMany),
            Some((None, n)) => n + 1,
            None => 1,
        };
        self.sql().execute(
            "INSERT INTO sent_devices (message_id, device, retries) VALUES (?1, ?2, ?3)
             ON CONFLICT(message_id, device) DO UPDATE SET retries = excluded.retries",
            params![id, device, retries],
        )?;
        Ok(RetryVerdict::Allowed(retries))
    }

    /// The devices holding our current sender key of `group`.
    pub fn sender_key_holders(&self, group: &str) -> Result<Vec<String>, SignalStoreError> {
        let mut stmt = self
            .sql()
            .prepare("SELECT device FROM sender_key_holders WHERE group_id = ?1")?;
        let rows = stmt.query_map(params![group], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// `devices` now hold our current sender key of `group`.
    pub fn add_sender_key_holders(
        &mut self,
        group: &str,
        devices: &[String],
    ) -> Result<(), SignalStoreError> {
        for d in devices {
            self.sql().execute(
                "INSERT OR IGNORE INTO sender_key_holders (group_id, device) VALUES (?1, ?2)",
                params![group, d],
            )?;
        }
        Ok(())
    }

    /// Forgets who holds our sender key of `group` (it is being replaced, or a device lost it).
    pub fn clear_sender_key_holders(
        &mut self,
        group: &str,
        device: Option<&str>,
    ) -> Result<(), SignalStoreError> {
        match device {
            Some(d) => self.sql().execute(
                "DELETE FROM sender_key_holders WHERE group_id = ?1 AND device = ?2",
                params![group, d],
            )?,
            None => self.sql().execute(
                "DELETE FROM sender_key_holders WHERE group_id = ?1",
                params![group],
            )?,
        };
        Ok(())
    }

    /// Forgets our own sender key of `group`, so the next send makes a new one.
    pub fn drop_sender_key(&mut self, group: &str, own: &str) -> Result<(), SignalStoreError> {
        self.sql().execute(
            "DELETE FROM sender_keys WHERE group_id = ?1 AND sender = ?2",
            params![group, own],
        )?;
        self.clear_sender_key_holders(group, None)
    }

    /// The LID user of a phone-number user, when known.
    pub fn lid_of(&self, pn: &str) -> Result<Option<String>, SignalStoreError> {
        Ok(self
            .sql()
            .query_row(
                "SELECT lid FROM lid_mappings WHERE pn = ?1",
                params![pn],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The phone-number user of a LID user, when known.
    pub fn pn_of(&self, lid: &str) -> Result<Option<String>, SignalStoreError> {
        Ok(self
            .sql()
            .query_row(
                "SELECT pn FROM lid_mappings WHERE lid = ?1",
                params![lid],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records a PN ↔ LID pair.
    pub fn put_lid(&mut self, pn: &str, lid: &str) -> Result<(), SignalStoreError> {
        self.sql().execute(
            "INSERT OR REPLACE INTO lid_mappings (pn, lid) VALUES (?1, ?2)",
            params![pn, lid],
        )?;
        Ok(())
    }

    /// A contact's privacy token and its time (unix seconds).
    pub fn privacy_token(&self, jid: &str) -> Result<Option<(Vec<u8>, u64)>, SignalStoreError> {
        Ok(self
            .sql()
            .query_row(
                "SELECT token, t FROM privacy_tokens WHERE jid = ?1",
                params![jid],
                |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)),
            )
            .optional()?)
    }

    /// Stores a contact's token unless a newer one is stored.
    pub fn put_privacy_token(
        &mut self,
        jid: &str,
        token: &[u8],
        t: u64,
    ) -> Result<(), SignalStoreError> {
        self.sql().execute(
            "INSERT INTO privacy_tokens (jid, token, t) VALUES (?1, ?2, ?3)
             ON CONFLICT(jid) DO UPDATE SET token = excluded.token, t = excluded.t WHERE excluded.t >= t",
            params![jid, token, t as i64],
        )?;
        Ok(())
    }
}

impl SignalTx<'_> {
    /// Stores the account's NCT salt, replacing the one before.
    pub fn put_nct_salt(&mut self, salt: &[u8]) -> Result<(), SignalStoreError> {
        let now = self.now_ms() as i64;
        self.sql().execute(
            "INSERT OR REPLACE INTO nct_salt (id, salt, updated_at_ms) VALUES (1, ?1, ?2)",
            params![salt, now],
        )?;
        Ok(())
    }

    /// The account's NCT salt, when the history carried one.
    pub fn nct_salt(&self) -> Result<Option<Vec<u8>>, SignalStoreError> {
        Ok(self
            .sql()
            .query_row("SELECT salt FROM nct_salt WHERE id = 1", [], |r| r.get(0))
            .optional()?)
    }
}

/// Forgets everything messaging kept (the account is gone; the archive keeps a copy).
pub(super) fn clear(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "DELETE FROM sent_messages; DELETE FROM sent_devices; DELETE FROM sender_key_holders;
         DELETE FROM lid_mappings; DELETE FROM privacy_tokens; DELETE FROM nct_salt;",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn store() -> ((), Store) {
        ((), Store::open(&crate::lock::tests::tempdir()).unwrap())
    }

    fn sent(id: &str) -> SentMessage {
        SentMessage {
            id: id.into(),
            chat: "15551234567@s.whatsapp.net".into(),
            plaintext: vec![1],
            stanza: vec![2],
            distribution: None,
        }
    }

    #[test]
    fn a_group_message_keeps_its_distribution_and_its_devices_across_a_restored_stanza() {
        let (_dir, mut store) = store();
        let first = SentMessage {
            chat: "120363000000000001@g.us".into(),
            distribution: Some(vec![0x33, 7]),
            ..sent("G")
        };
        let devices = [
            "b:0@s.whatsapp.net".to_owned(),
            "a:1@s.whatsapp.net".to_owned(),
        ];
        store
            .signal_transaction(1, |tx| tx.put_sent(&first, &devices))
            .unwrap();
        // A repaired stanza replaces the bytes only, and adds its new device.
        let repaired = SentMessage {
            stanza: vec![9],
            distribution: None,
            ..first.clone()
        };
        store
            .signal_transaction(2, |tx| {
                tx.put_sent(&repaired, &["c:0@s.whatsapp.net".to_owned()])
            })
            .unwrap();
        let (got, addressed) = store
            .signal_transaction(3, |tx| {
                Ok::<_, SignalStoreError>((tx.sent("G")?, tx.sent_devices("G")?))
            })
            .unwrap();
        let got = got.unwrap();
        assert_eq!(got.stanza, vec![9]);
        assert_eq!(got.distribution, Some(vec![0x33, 7]));
        assert_eq!(
            addressed,
            [
                "a:1@s.whatsapp.net",
                "b:0@s.whatsapp.net",
                "c:0@s.whatsapp.net"
            ]
        );
    }

    #[test]
    fn retries_are_refused_after_delivery_and_after_five() {
        let (_dir, mut store) = store();
        let dev = "15551234567:2@s.whatsapp.net";
        store
            .signal_transaction(1, |tx| tx.put_sent(&sent("A"), &[dev.into()]))
            .unwrap();
        let verdicts: Vec<_> = (0..6)
            .map(|_| {
                store
                    .signal_transaction(2, |tx| tx.note_retry("A", dev))
                    .unwrap()
            })
            .collect();
        assert_eq!(
            verdicts,
            [
                RetryVerdict::Allowed(1),
                RetryVerdict::Allowed(2),
                RetryVerdict::Allowed(3),
                RetryVerdict::Allowed(4),
                RetryVerdict::Allowed(5),
                RetryVerdict::TooMany,
            ]
        );
        let other = "15551234567:3@s.whatsapp.net";
        assert!(store
            .signal_transaction(3, |tx| tx.mark_delivered("A", other))
            .unwrap());
        assert_eq!(
            store
                .signal_transaction(4, |tx| tx.note_retry("A", other))
                .unwrap(),
            RetryVerdict::AlreadyDelivered
        );
        assert_eq!(
            store
                .signal_transaction(4, |tx| tx.note_retry("B", other))
                .unwrap(),
            RetryVerdict::Unknown
        );
        assert!(!store
            .signal_transaction(4, |tx| tx.mark_delivered("B", other))
            .unwrap());
    }

    #[test]
    fn a_sent_message_reads_back_and_storing_it_again_changes_only_its_stanza() {
        let (_dir, mut store) = store();
        store
            .signal_transaction(1, |tx| tx.put_sent(&sent("A"), &[]))
            .unwrap();
        let mut again = sent("A");
        again.stanza = vec![9];
        again.plaintext = vec![8];
        store
            .signal_transaction(2, |tx| tx.put_sent(&again, &[]))
            .unwrap();
        let got = store
            .signal_transaction(3, |tx| tx.sent("A"))
            .unwrap()
            .unwrap();
        assert_eq!(got.stanza, vec![9]);
        assert_eq!(got.plaintext, vec![1]);
    }

    #[test]
    fn mappings_tokens_and_holders() {
        let (_dir, mut store) = store();
        store
            .signal_transaction(1, |tx| {
                tx.put_lid("1555@s.whatsapp.net", "100@lid")?;
                tx.put_privacy_token("100@lid", b"new", 20)?;
                tx.put_privacy_token("100@lid", b"old", 10)?;
                assert_eq!(tx.nct_salt()?, None);
                tx.put_nct_salt(b"first")?;
                tx.put_nct_salt(b"second")?;
                tx.add_sender_key_holders("g@g.us", &["a".into(), "b".into()])?;
                tx.clear_sender_key_holders("g@g.us", Some("a"))
            })
            .unwrap();
        store
            .signal_transaction(2, |tx| {
                assert_eq!(
                    tx.lid_of("1555@s.whatsapp.net")?.as_deref(),
                    Some("100@lid")
                );
                assert_eq!(tx.pn_of("100@lid")?.as_deref(), Some("1555@s.whatsapp.net"));
                assert_eq!(tx.privacy_token("100@lid")?, Some((b"new".to_vec(), 20)));
                assert_eq!(tx.nct_salt()?.as_deref(), Some(&b"second"[..]));
                assert_eq!(tx.sender_key_holders("g@g.us")?, ["b"]);
                tx.drop_sender_key("g@g.us", "me")?;
                assert!(tx.sender_key_holders("g@g.us")?.is_empty());
                Ok::<_, SignalStoreError>(())
            })
            .unwrap();
    }
}
