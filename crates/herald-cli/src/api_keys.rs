//! API keys for `herald-cli serve`: made here, shown once, stored only as SHA-256 digests.
//!
//! The keys live in the CLI's own table in the app database (`herald.db`), created on first
//! use, not in a numbered migration of herald-core: only the daemon reads them, the desktop
//! app never does, and keeping them out of the app's schema sequence means a desktop install
//! neither carries nor migrates them. One file still holds everything a backup needs.
//!
//! A key is 32 random bytes (256 bits) from the OS, shown as `herald_` and URL-safe base64,
//! so secret scanners can spot a leaked one. A digest is enough to check a key and useless to
//! anyone who reads the database: the key has too much entropy to guess from it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What every key starts with.
pub const PREFIX: &str = "herald_";
/// Random bytes in a key.
const KEY_BYTES: usize = 32;
/// The longest name accepted.
const MAX_NAME: usize = 64;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS cli_api_keys (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    -- SHA-256 of the whole key text, prefix included.
    digest     BLOB    NOT NULL UNIQUE CHECK (length(digest) = 32),
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER
);
-- A name picks one live key; revoked ones keep theirs, for the record.
CREATE UNIQUE INDEX IF NOT EXISTS cli_api_keys_live_name
    ON cli_api_keys (name) WHERE revoked_ms IS NULL;";

/// Why a key could not be made, listed or revoked.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a live key is already named {0:?}; revoke it first or pick another --name")]
    NameTaken(String),
    #[error("no live key is named {0:?} (see `herald-cli api-key list`)")]
    NoSuchKey(String),
    #[error("a key name is 1 to {MAX_NAME} letters, digits, '-', '_' or '.', got {0:?}")]
    BadName(String),
}

/// A stored key, without anything secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyInfo {
    pub name: String,
    pub created: jiff::Timestamp,
    pub revoked: Option<jiff::Timestamp>,
}

/// A key just made: its text is shown once and never stored.
#[derive(Debug)]
pub struct NewKey {
    pub name: String,
    pub key: String,
}

/// Makes sure the table exists (idempotent).
pub fn prepare(conn: &Connection) -> Result<(), KeyError> {
    conn.execute_batch(SCHEMA)?;
    Ok(())
}

/// The digest stored for a key text.
pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn check_name(name: &str) -> Result<(), KeyError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(KeyError::BadName(name.to_owned()))
    }
}

/// Makes a new key named `name` (or `key-N`, the first free N) and stores its digest.
pub fn create(
    conn: &Connection,
    name: Option<&str>,
    now: jiff::Timestamp,
) -> Result<NewKey, KeyError> {
    prepare(conn)?;
    let name = match name {
        Some(n) => {
            check_name(n)?;
            n.to_owned()
        }
        None => free_name(conn)?,
    };
    let mut bytes = [0u8; KEY_BYTES];
    OsRng.fill_bytes(&mut bytes);
    let key = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let inserted = conn.execute(
        "INSERT INTO cli_api_keys (name, digest, created_ms) VALUES (?1, ?2, ?3)",
        params![name, digest(&key).as_slice(), now.as_millisecond()],
    );
    match inserted {
        Ok(_) => Ok(NewKey { name, key }),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(KeyError::NameTaken(name))
        }
        Err(e) => Err(e.into()),
    }
}

fn free_name(conn: &Connection) -> Result<String, KeyError> {
    let mut n: u64 = 0;
    loop {
        n += 1;
        let name = format!("key-{n}");
        let taken = conn
            .query_row(
                "SELECT 1 FROM cli_api_keys WHERE name = ?1 AND revoked_ms IS NULL",
                params![name],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !taken {
            return Ok(name);
        }
    }
}

/// Every key, oldest first, revoked ones included.
pub fn list(conn: &Connection) -> Result<Vec<KeyInfo>, KeyError> {
    prepare(conn)?;
    let mut stmt =
        conn.prepare("SELECT name, created_ms, revoked_ms FROM cli_api_keys ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Option<i64>>(2)?,
        ))
    })?;
    let ts = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    rows.map(|row| {
        let (name, created, revoked) = row?;
        Ok(KeyInfo {
            name,
            created: ts(created),
            revoked: revoked.map(ts),
        })
    })
    .collect()
}

/// Revokes the live key named `name`: it stops working at the next request.
pub fn revoke(conn: &Connection, name: &str, now: jiff::Timestamp) -> Result<(), KeyError> {
    prepare(conn)?;
    let changed = conn.execute(
        "UPDATE cli_api_keys SET revoked_ms = ?2 WHERE name = ?1 AND revoked_ms IS NULL",
        params![name, now.as_millisecond()],
    )?;
    if changed == 0 {
        return Err(KeyError::NoSuchKey(name.to_owned()));
    }
    Ok(())
}

/// How many keys work now.
pub fn live_count(conn: &Connection) -> Result<usize, KeyError> {
    prepare(conn)?;
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM cli_api_keys WHERE revoked_ms IS NULL",
        [],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// The name of the live key whose digest matches `presented`, if any. Every live digest is
/// compared, in constant time each, with no early exit: how long this takes says nothing
/// about how close a guess came.
pub fn check(conn: &Connection, presented: &str) -> Result<Option<String>, KeyError> {
    let wanted = digest(presented);
    let mut stmt =
        conn.prepare_cached("SELECT name, digest FROM cli_api_keys WHERE revoked_ms IS NULL")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut found = None;
    for row in rows {
        let (name, stored) = row?;
        if bool::from(stored.as_slice().ct_eq(wanted.as_slice())) {
            found = Some(name);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        herald_core::db::open_in_memory().unwrap()
    }

    #[test]
    fn a_key_is_long_random_and_stored_only_as_its_digest() {
        let conn = db();
        let now = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let a = create(&conn, None, now).unwrap();
        let b = create(&conn, None, now).unwrap();
        assert_eq!((a.name.as_str(), b.name.as_str()), ("key-1", "key-2"));
        assert!(a.key.starts_with(PREFIX));
        assert_eq!(a.key.len(), PREFIX.len() + 43, "256 bits in base64");
        assert_ne!(a.key, b.key);
        let stored: Vec<u8> = conn
            .query_row(
                "SELECT digest FROM cli_api_keys WHERE name = 'key-1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, digest(&a.key).to_vec());
        let dump: String = conn
            .query_row(
                "SELECT group_concat(name || hex(digest)) FROM cli_api_keys",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            !dump.contains(&a.key[PREFIX.len()..]),
            "the key itself is nowhere"
        );
    }

    #[test]
    fn check_finds_live_keys_only() {
        let conn = db();
        let now = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let key = create(&conn, Some("ci"), now).unwrap();
        assert_eq!(check(&conn, &key.key).unwrap().as_deref(), Some("ci"));
        assert_eq!(check(&conn, "herald_wrong").unwrap(), None);
        assert_eq!(check(&conn, "").unwrap(), None);
        let mut almost = key.key.clone();
        almost.pop();
        assert_eq!(check(&conn, &almost).unwrap(), None);
        revoke(&conn, "ci", now).unwrap();
        assert_eq!(check(&conn, &key.key).unwrap(), None);
        assert_eq!(live_count(&conn).unwrap(), 0);
        let listed = list(&conn).unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].revoked.is_some());
    }

    #[test]
    fn names_are_checked_and_unique_among_live_keys() {
        let conn = db();
        let now = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        create(&conn, Some("ci"), now).unwrap();
        assert!(matches!(
            create(&conn, Some("ci"), now),
            Err(KeyError::NameTaken(_))
        ));
        for bad in ["", "has space", "a/b", &"x".repeat(65)] {
            assert!(
                matches!(create(&conn, Some(bad), now), Err(KeyError::BadName(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            revoke(&conn, "nope", now),
            Err(KeyError::NoSuchKey(_))
        ));
        revoke(&conn, "ci", now).unwrap();
        create(&conn, Some("ci"), now).expect("a revoked key's name is free again");
        assert_eq!(live_count(&conn).unwrap(), 1);
    }
}
