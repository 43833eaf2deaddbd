//! Reading a data folder without running it: the status and the history while the desktop
//! app or `herald-cli connect` holds the session, or while nothing runs at all. Nothing here
//! takes the session lock, creates a file, migrates a schema or writes a row.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use wa_client::lock::SessionLock;
use wa_client::store::{self, StoreError};
use wa_client::{LockHolder, UnixMillis};

use crate::db::{self, DbError};
use crate::health::Account;
use crate::history::{self, DisconnectRecord};

/// The app database's file name in the data folder.
pub const APP_DB: &str = "herald.db";
/// The engine's folder in the data folder.
pub const SESSION_DIR: &str = "session";

/// Why the folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error("app database: {0}")]
    Db(#[from] DbError),
    #[error("session store: {0}")]
    Store(#[from] StoreError),
}

/// A recorded online/offline transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    pub at_ms: UnixMillis,
    pub online: bool,
}

/// What `herald-cli status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineStatus {
    /// Whether a phone linked this folder's device.
    pub linked: bool,
    pub account: Option<Account>,
    /// The phone's platform, as it reported itself when linking.
    pub platform: Option<String>,
    pub paired_at_ms: Option<u64>,
    /// The process running this session now, if any.
    pub running: Option<LockHolder>,
    /// The last online/offline transition recorded (current only while `running`).
    pub last_transition: Option<Transition>,
    pub last_disconnect: Option<DisconnectRecord>,
    pub disconnects: u64,
    pub disconnects_last_24h: u64,
    pub archived_sessions: u64,
    pub prekeys: u64,
}

/// Opens the app database read-only; `None` when it does not exist yet.
pub fn open_app_db(data_dir: &Path) -> Result<Option<Connection>, DbError> {
    let path = data_dir.join(APP_DB);
    if !path.exists() {
        return Ok(None);
    }
    wa_client::store::first_open::prepare();
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = db::known_version();
    if found > known {
        return Err(DbError::TooNew { found, known });
    }
    // An older schema lacks tables this build reads; only a running app migrates it.
    Ok((found == known).then_some(conn))
}

/// The newest `limit` disconnects, newest first; empty when nothing was recorded yet.
pub fn history(data_dir: &Path, limit: u32) -> Result<Vec<DisconnectRecord>, DbError> {
    match open_app_db(data_dir)? {
        Some(conn) => history::page(&conn, None, limit),
        None => Ok(Vec::new()),
    }
}

/// The window of `disconnects_last_24h`.
const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);

/// The status of the folder at `now`.
pub fn status(data_dir: &Path, now: UnixMillis) -> Result<OfflineStatus, OfflineError> {
    let session_dir = data_dir.join(SESSION_DIR);
    let keys = crate::store_keys::store_keys(Some(crate::store_keys::KEYCHAIN_SERVICE));
    let session = store::peek_with(&session_dir, &keys)?.unwrap_or_default();
    let mut status = OfflineStatus {
        linked: session.jid.is_some(),
        account: session.jid.as_deref().and_then(Account::from_jid),
        platform: session.platform,
        paired_at_ms: session.paired_at_ms,
        running: SessionLock::holder(&session_dir),
        last_transition: None,
        last_disconnect: None,
        disconnects: 0,
        disconnects_last_24h: 0,
        archived_sessions: session.archived_sessions,
        prekeys: session.prekeys,
    };
    if let Some(conn) = open_app_db(data_dir)? {
        status.last_disconnect = history::page(&conn, None, 1)?.into_iter().next();
        status.disconnects = history::count(&conn)?;
        status.disconnects_last_24h =
            history::times_since(&conn, now.saturating_sub(DAY))?.len() as u64;
        // From the end of time: only the state in force then, the last transition.
        status.last_transition = history::transitions_since(&conn, UnixMillis(u64::MAX))?
            .last()
            .map(|&(at_ms, online)| Transition { at_ms, online });
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "herald-offline-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_empty_folder_reads_as_not_linked_and_stays_empty() {
        let dir = tempdir();
        let s = status(&dir, UnixMillis::EPOCH).unwrap();
        assert!(!s.linked);
        assert_eq!(s.running, None);
        assert_eq!(s.disconnects, 0);
        assert!(history(&dir, 10).unwrap().is_empty());
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "reading created nothing"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn recorded_rows_are_read_back() {
        let dir = tempdir();
        let conn = db::open(&dir.join(APP_DB)).unwrap();
        let row = DisconnectRecord {
            id: 0,
            at_ms: wa_client::UnixMillis(1_000),
            cause: "server_restarting".into(),
            title: "t".into(),
            code: Some(503),
            decision: "backoff".into(),
            advice: "a.".into(),
            attempt: Some(1),
            delay_ms: Some(2000),
            online_for_ms: None,
        };
        history::append(&conn, &row).unwrap();
        history::log_state(&conn, wa_client::UnixMillis(900), true).unwrap();
        history::log_state(&conn, wa_client::UnixMillis(1_000), false).unwrap();
        let s = status(&dir, wa_client::UnixMillis(2_000)).unwrap();
        assert_eq!(s.disconnects, 1);
        assert_eq!(s.disconnects_last_24h, 1);
        assert_eq!(s.last_disconnect.unwrap().cause, "server_restarting");
        assert_eq!(
            s.last_transition,
            Some(Transition {
                at_ms: wa_client::UnixMillis(1_000),
                online: false
            })
        );
        assert_eq!(history(&dir, 5).unwrap().len(), 1);
        drop(conn);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
