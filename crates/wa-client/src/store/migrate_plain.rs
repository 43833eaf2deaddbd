//! Encrypting a plaintext store (written by an older Herald) in place.
//!
//! The plaintext database is checkpointed and taken out of WAL mode (so no WAL of the old
//! file is left to be replayed onto the new one), copied with `sqlcipher_export` into
//! `session.db.encrypting`, the copy is checked (it opens with the key and holds the same rows),
//! synced, and renamed over the original. A crash at any point leaves either the untouched
//! plaintext store, which is migrated again on the next open, or the finished encrypted one;
//! a half-written copy is removed on the next open.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use super::cipher::{self, sibling};
use super::key_source::{sync_dir, StoreKey};
use super::StoreError;

const ENCRYPTING_SUFFIX: &str = ".encrypting";

fn encrypting_path(path: &Path) -> PathBuf {
    sibling(path, ENCRYPTING_SUFFIX)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Removes what an interrupted migration left: the partial copy and its journal.
pub(crate) fn clean_up_leftovers(path: &Path) -> Result<(), StoreError> {
    let tmp = encrypting_path(path);
    for leftover in [
        sibling(&tmp, "-journal"),
        sibling(&tmp, "-wal"),
        tmp.clone(),
    ] {
        match std::fs::remove_file(&leftover) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(StoreError::Io {
                    path: leftover,
                    source,
                })
            }
        }
    }
    Ok(())
}

/// Encrypts the plaintext database at `path` under `key`.
pub(crate) fn migrate(path: &Path, key: &StoreKey) -> Result<(), StoreError> {
    let tmp = encrypting_path(path);
    clean_up_leftovers(path)?;
    super::first_open::prepare();
    let plain = Connection::open(path)?;
    plain.busy_timeout(std::time::Duration::from_secs(5))?;
    // Everything into the main file, then rollback-journal mode: the WAL file is gone before
    // the encrypted file takes this name.
    plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    plain.pragma_update(None, "journal_mode", "DELETE")?;
    let version: u32 = plain.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let tables = table_counts(&plain)?;

    super::ensure_private_file(&tmp).map_err(io(&tmp))?;
    let tmp_text = tmp.to_string_lossy().into_owned();
    let key_text = zeroize::Zeroizing::new(format!("x'{}'", key.hex().as_str()));
    plain.execute(
        "ATTACH DATABASE ?1 AS encrypted KEY ?2",
        params![tmp_text, key_text.as_str()],
    )?;
    plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
    // sqlcipher_export copies the schema and rows, not the header's user_version.
    plain.execute_batch(&format!("PRAGMA encrypted.user_version = {version};"))?;
    plain.execute_batch("DETACH DATABASE encrypted;")?;
    drop(plain);

    let copy = Connection::open(&tmp)?;
    if !cipher::apply_key(&copy, key)? || table_counts(&copy)? != tables {
        return Err(StoreError::Corrupt("encrypted copy of the plaintext store"));
    }
    drop(copy);
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(path).map_err(io(path))?;
    tracing::info!(
        tables = tables.len(),
        "plaintext session store encrypted in place"
    );
    Ok(())
}

/// Every table and its row count: the copy must hold the same.
fn table_counts(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let names: Vec<String> = {
        let mut stmt = conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let quoted = name.replace('"', "\"\"");
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{quoted}\""), [], |r| {
            r.get(0)
        })?;
        out.push((name, n));
    }
    Ok(out)
}
