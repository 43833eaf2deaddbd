//! A read-only look at a session store, for tools that must not disturb a running engine
//! (`herald-cli status` next to the app): no session lock, no migration, no write. SQLite's
//! WAL lets this reader see the last committed state while the engine writes.

use std::path::Path;

use rusqlite::OptionalExtension;
use serde::Serialize;

use super::{cipher, first_open, KeySource, StoreError, DB_FILE, MIGRATIONS};

/// What a store holds, without its secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    /// Whether device keys were generated (a first dial happened).
    pub has_keys: bool,
    /// Our device JID once paired.
    pub jid: Option<String>,
    /// Our LID once paired.
    pub lid: Option<String>,
    /// The phone's platform, as the phone reported it.
    pub platform: Option<String>,
    /// When the phone linked us (unix ms).
    pub paired_at_ms: Option<u64>,
    /// One-time prekeys stored (uploaded or not).
    pub prekeys: u64,
    /// Sessions that ended and were archived.
    pub archived_sessions: u64,
}

/// Reads the summary of the store in `dir` with the default key sources; `None` when there
/// is no store yet.
pub fn peek(dir: &Path) -> Result<Option<SessionSummary>, StoreError> {
    peek_with(dir, &KeySource::default())
}

/// Reads the summary of the store in `dir`, its key from `keys` (never a new key, never a
/// move: a store no key opens is an error here and is left for the engine to deal with).
pub fn peek_with(dir: &Path, keys: &KeySource) -> Result<Option<SessionSummary>, StoreError> {
    let path = dir.join(DB_FILE);
    if !path.exists() {
        return Ok(None);
    }
    first_open::prepare();
    let conn = cipher::open_read_only(dir, &path, keys)?;
    // The engine's writes are short transactions; wait them out instead of failing.
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    if version > latest {
        return Err(StoreError::TooNew(version));
    }
    if version == 0 {
        // Created but never migrated: an engine was starting, nothing is stored yet.
        return Ok(Some(SessionSummary::default()));
    }
    let count = |sql: &str| -> Result<u64, StoreError> {
        Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))?.max(0) as u64)
    };
    let base = SessionSummary {
        // Migration 2 moved the one-time prekeys to `signal_prekeys`.
        prekeys: if version >= 2 {
            count("SELECT COUNT(*) FROM signal_prekeys WHERE consumed_at_ms IS NULL")?
        } else {
            count("SELECT COUNT(*) FROM prekeys")?
        },
        archived_sessions: count("SELECT COUNT(*) FROM archives")?,
        ..SessionSummary::default()
    };
    let summary = conn
        .query_row(
            "SELECT jid, lid, platform, paired_at_ms FROM device WHERE id = 1",
            [],
            |r| {
                Ok(SessionSummary {
                    has_keys: true,
                    jid: r.get(0)?,
                    lid: r.get(1)?,
                    platform: r.get(2)?,
                    paired_at_ms: r.get::<_, Option<i64>>(3)?.map(|v| v.max(0) as u64),
                    ..base.clone()
                })
            },
        )
        .optional()?
        .unwrap_or(base);
    Ok(Some(summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Account, Credentials, Store};
    use wa_core::binary::Jid;

    #[test]
    fn reads_a_store_without_changing_it() {
        let dir = crate::lock::tests::tempdir();
        assert_eq!(peek(&dir).unwrap(), None, "no store, no summary, no file");
        assert!(!dir.join(DB_FILE).exists());

        let mut store = Store::open(&dir).unwrap();
        assert_eq!(peek(&dir).unwrap(), Some(SessionSummary::default()));
        let mut creds = Credentials::generate(&mut rand::rngs::OsRng, 1);
        store.create_credentials(&creds).unwrap();
        let summary = peek(&dir).unwrap().unwrap();
        assert!(summary.has_keys);
        assert_eq!(summary.jid, None);

        creds.account = Some(Account {
            jid: "15551234567:3@s.whatsapp.net".parse::<Jid>().unwrap(),
            lid: None,
            platform: Some("android".into()),
            business_name: None,
            signed_identity: vec![1, 2, 3],
            account_signature_key: [7; 32],
            paired_at_ms: 1234,
        });
        store.save_account(creds.account.as_ref().unwrap()).unwrap();
        let summary = peek(&dir).unwrap().unwrap();
        assert_eq!(summary.jid.as_deref(), Some("15551234567:3@s.whatsapp.net"));
        assert_eq!(summary.platform.as_deref(), Some("android"));
        assert_eq!(summary.paired_at_ms, Some(1234));
    }
}
