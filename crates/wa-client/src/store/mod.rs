//! The session store: SQLite (bundled), WAL, numbered migrations in `migrations/*.sql`.
//!
//! * Credentials are written in one transaction each (create, pair, rotate the ADV secret,
//!   archive), with `synchronous=FULL`: a crash — even `kill -9` mid-write — leaves the old
//!   state or the new one.
//! * On logout the whole store is copied to `archive/session-<unix ms>.db` (`VACUUM INTO`)
//!   before the device row is removed: a session is never silently deleted.
//! * Secrets at rest: the whole database (and so its WAL) is encrypted with SQLCipher under a
//!   random 32-byte key held by the OS keychain, a key the operator provides, or an owner-only
//!   key file flagged "not protected" ([`key_source`], [`KeyStatus`]); a plaintext store from
//!   an older build is encrypted in place on open. The folder is also owner-only (0700) and
//!   the files 0600 on Unix.

mod cipher;
mod credentials;
pub mod key_source;
pub mod keychain;
mod messages;
mod migrate_plain;
pub mod openssl_exit;
mod peek;
mod signal;

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use wa_core::payload::AppVersion;

pub use credentials::{Account, Credentials, SignedPreKey};
pub use key_source::{KeyBackend, KeyError, KeySource, KeyStatus, StoreKey};
pub use messages::{RetryVerdict, SentMessage, MAX_RETRIES_PER_DEVICE};
pub use peek::{peek, peek_with, SessionSummary};
pub use signal::{IdentityChange, PairwiseKind, Received, SignalStoreError, SignalTx};

/// The database file's name in the data folder.
pub const DB_FILE: &str = "session.db";
/// Folder (inside the data folder) of archived sessions.
pub const ARCHIVE_DIR: &str = "archive";

const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("migrations/0001_session.sql")),
    (2, include_str!("migrations/0002_signal.sql")),
    (3, include_str!("migrations/0003_messages.sql")),
    (4, include_str!("migrations/0004_group_distribution.sql")),
    (5, include_str!("migrations/0005_nct_salt.sql")),
];

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A stored value is not what was written (a bug or tampering; never a crash).
    #[error("stored {0} is malformed")]
    Corrupt(&'static str),
    /// The database is newer than this program.
    #[error("store schema version {0} is newer than this program knows")]
    TooNew(u32),
    /// The encryption key could not be had, or does not open the store.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// One archived session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedSession {
    pub archived_at_ms: u64,
    /// The cause key that ended it (`device_removed`, `user_logout`, …).
    pub reason: String,
    pub jid: Option<String>,
    /// The full copy of the store.
    pub path: String,
}

/// The open store. One writer: the supervisor owns it.
pub struct Store {
    conn: Connection,
    dir: PathBuf,
    // Only archives need it again (their copies are encrypted under the same key).
    #[cfg_attr(not(test), allow(dead_code))]
    key: StoreKey,
    key_status: KeyStatus,
}

/// Creates `dir` (and parents) with owner-only permissions where the OS has them.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Creates `path` empty with owner-only permissions if it does not exist, and tightens it if
/// it does.
fn ensure_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

impl Store {
    /// Opens (creating and migrating) the store in `dir` with the default key sources (no
    /// keychain: see [`KeySource::default`]).
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(dir, &KeySource::default())
    }

    /// Opens (creating, encrypting a plaintext one, and migrating) the store in `dir`, its key
    /// from `keys`.
    pub fn open_with(dir: &Path, keys: &KeySource) -> Result<Self, StoreError> {
        ensure_private_dir(dir).map_err(|source| StoreError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        ensure_private_file(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        let (conn, key, key_status) = cipher::open(dir, &path, keys)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a committed credential write survives power loss, not only a process crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Self {
            conn,
            dir: dir.to_owned(),
            key,
            key_status,
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let current: u32 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let latest = MIGRATIONS.last().map_or(0, |m| m.0);
        if current > latest {
            return Err(StoreError::TooNew(current));
        }
        for (number, sql) in MIGRATIONS.iter().filter(|(n, _)| *n > current) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            if *number == 2 {
                signal::copy_legacy_keys(&tx)?;
            }
            tx.pragma_update(None, "user_version", number)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the encryption key is kept and whether that protects it.
    pub fn key_status(&self) -> &KeyStatus {
        &self.key_status
    }

    /// The stored device, if keys were generated.
    pub fn load_credentials(&self) -> Result<Option<Credentials>, StoreError> {
        credentials::load(&self.conn)
    }

    /// Stores freshly generated keys (before the first dial).
    pub fn create_credentials(&mut self, creds: &Credentials) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM device", [])?;
        credentials::insert(&tx, creds)?;
        // New keys, new device: Signal state made for the old identity is void.
        signal::clear(&tx)?;
        signal::put_signed_prekey(&tx, &creds.signed_prekey, creds.created_at_ms)?;
        tx.commit()?;
        Ok(())
    }

    /// Records a successful pairing: the account, in one transaction.
    pub fn save_account(&mut self, account: &Account) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        credentials::update_account(&tx, account)?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces the ADV secret (`companion_reg_refresh`, pairing code).
    pub fn set_adv_secret(&mut self, secret: &[u8; 32]) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE device SET adv_secret = ?1 WHERE id = 1",
            params![&secret[..]],
        )?;
        Ok(())
    }

    /// Copies the whole store to `archive/session-<now>.db`, records it, and removes the device
    /// and its prekeys, in that order. Returns the archive path, or `None` when there was no
    /// device to archive.
    pub fn archive_session(
        &mut self,
        reason: &str,
        now_ms: u64,
    ) -> Result<Option<PathBuf>, StoreError> {
        let jid: Option<Option<String>> = self
            .conn
            .query_row("SELECT jid FROM device WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        let Some(jid) = jid else {
            return Ok(None);
        };
        let archive_dir = self.dir.join(ARCHIVE_DIR);
        ensure_private_dir(&archive_dir).map_err(|source| StoreError::Io {
            path: archive_dir.clone(),
            source,
        })?;
        let mut path = archive_dir.join(format!("session-{now_ms}.db"));
        let mut n = 1;
        while path.exists() {
            path = archive_dir.join(format!("session-{now_ms}-{n}.db"));
            n += 1;
        }
        let path_text = path.to_string_lossy().into_owned();
        self.conn.execute("VACUUM INTO ?1", params![path_text])?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(
                |source| StoreError::Io {
                    path: path.clone(),
                    source,
                },
            )?;
        }
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO archives (archived_at_ms, reason, jid, path) VALUES (?1, ?2, ?3, ?4)",
            params![now_ms as i64, reason, jid, path_text],
        )?;
        tx.execute("DELETE FROM device", [])?;
        signal::clear(&tx)?;
        messages::clear(&tx)?;
        tx.commit()?;
        Ok(Some(path))
    }

    /// Archived sessions, oldest first.
    pub fn archives(&self) -> Result<Vec<ArchivedSession>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT archived_at_ms, reason, jid, path FROM archives ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(ArchivedSession {
                archived_at_ms: r.get::<_, i64>(0)? as u64,
                reason: r.get(1)?,
                jid: r.get(2)?,
                path: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Reserves `count` fresh prekey ids and stores the keys from `make`, in one transaction.
    /// Ids continue from the last one ever handed out and wrap inside 1..=0xFFFFFF.
    pub fn add_prekeys(
        &mut self,
        count: u32,
        now_ms: u64,
        make: impl FnMut() -> [u8; 32],
    ) -> Result<Vec<(u32, [u8; 32])>, StoreError> {
        signal::add_prekeys(&mut self.conn, count, now_ms, make)
    }

    /// Marks prekeys as accepted by the server.
    pub fn mark_prekeys_uploaded(&mut self, ids: &[u32]) -> Result<(), StoreError> {
        signal::mark_prekeys_uploaded(&mut self.conn, ids)
    }

    /// How many one-time prekeys are stored and not yet used (uploaded or not).
    pub fn prekey_count(&self) -> Result<u32, StoreError> {
        signal::prekey_count(&self.conn)
    }

    /// The cached WhatsApp Web version and when it was fetched.
    pub fn cached_version(&self) -> Result<Option<(AppVersion, u64)>, StoreError> {
        let row: Option<(String, i64)> = self
            .conn
            .query_row(
                "SELECT version, fetched_at_ms FROM version_cache WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            None => Ok(None),
            Some((v, at)) => {
                let v = v
                    .parse()
                    .map_err(|_| StoreError::Corrupt("version cache"))?;
                Ok(Some((v, at as u64)))
            }
        }
    }

    /// Caches a freshly fetched version.
    pub fn save_version(
        &mut self,
        version: AppVersion,
        fetched_at_ms: u64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO version_cache (id, version, fetched_at_ms) VALUES (1, ?1, ?2)",
            params![version.to_string(), fetched_at_ms as i64],
        )?;
        Ok(())
    }

    /// SQLite's own consistency check; "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod signal_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
impl Store {
    /// Opens an archived copy (encrypted under the store's key) read-only to check it holds a
    /// device.
    fn open_archive(&self, path: &Path) -> Option<Credentials> {
        let conn =
            Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
        if !cipher::apply_key(&conn, &self.key).ok()? {
            return None;
        }
        credentials::load(&conn).ok().flatten()
    }
}
