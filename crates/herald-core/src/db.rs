//! The app's SQLite database: one file, WAL, numbered migrations applied in order.

use std::path::Path;

use rusqlite::Connection;

/// The migrations, in order; the `user_version` pragma records how many are applied.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_history",
        include_str!("../migrations/0001_history.sql"),
    ),
    (
        "0002_settings",
        include_str!("../migrations/0002_settings.sql"),
    ),
    (
        "0003_schedules",
        include_str!("../migrations/0003_schedules.sql"),
    ),
    (
        "0004_schedule_service",
        include_str!("../migrations/0004_schedule_service.sql"),
    ),
];

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration {name} failed: {source}")]
    Migration {
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error("the database is from a newer Herald (schema {found}, this build knows {known})")]
    TooNew { found: u32, known: u32 },
    #[error("stored settings are unreadable: {0}")]
    Settings(#[from] serde_json::Error),
}

/// Opens (creating if needed) the app database at `path` and brings its schema up to date.
pub fn open(path: &Path) -> Result<Connection, DbError> {
    wa_client::store::first_open::prepare();
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    migrate(&conn)?;
    Ok(conn)
}

/// The schema version this build writes (the number of migrations).
pub(crate) fn known_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// An in-memory database with the full schema, for tests and previews.
pub fn open_in_memory() -> Result<Connection, DbError> {
    wa_client::store::first_open::prepare();
    let conn = Connection::open_in_memory()?;
    migrate(&conn)?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> Result<(), DbError> {
    let applied: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as u32;
    if applied > known {
        return Err(DbError::TooNew {
            found: applied,
            known,
        });
    }
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
        // Each migration and its version bump commit together, or not at all.
        let run = || -> rusqlite::Result<()> {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index as u32 + 1)?;
            tx.commit()
        };
        run().map_err(|source| DbError::Migration { name, source })?;
        tracing::info!(migration = name, "database migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_refuse_a_newer_schema() {
        let dir = std::env::temp_dir().join(format!("herald-db-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("herald.db");
        let conn = open(&path).unwrap();
        let v: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as u32);
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(conn);
        open(&path).expect("reopening applies nothing twice");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(
            open(&path),
            Err(DbError::TooNew { found: 99, .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
