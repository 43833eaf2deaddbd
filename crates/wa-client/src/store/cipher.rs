//! Opening the session store encrypted as a whole with SQLCipher under a raw 32-byte key
//! (`PRAGMA key = "x'…'"`: no key derivation, so it opens in milliseconds).
//!
//! The open path decides, from what is on disk, which key to use:
//! * no database yet: the first key any source has, else a new one, stored before the
//!   database is created (so a database never exists without its key being kept somewhere);
//! * a plaintext database (an older Herald): the same, then [`super::migrate_plain`];
//! * an encrypted one: every key the sources have, in order, until one opens it. Never a new
//!   key: if the keychain cannot be read now the store stays untouched; if no key opens it,
//!   the file is moved to `archive/` (not deleted) and the error says where.
//!
//! After a successful open a key found only in the fallback file is moved into the keychain
//! when one answers: stored, read back and compared, and only then is the file removed.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::key_source::{
    self, KeyBackend, KeyError, KeySource, KeyStatus, Lookup, StoreKey, FALLBACK_KEY_FILE,
};
use super::keychain::{KeychainEntry, KeychainFault};
use super::{migrate_plain, StoreError, ARCHIVE_DIR};

/// What the database file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDisk {
    Missing,
    Plain,
    Encrypted,
}

/// Every SQLite database starts with these 16 bytes; a SQLCipher one starts with random salt.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

pub(crate) fn classify(path: &Path) -> Result<OnDisk, StoreError> {
    super::first_open::prepare();
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(OnDisk::Missing),
        Err(source) => {
            return Err(StoreError::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.to_owned(),
                    source,
                })
            }
        }
    }
    if read == 0 {
        // An empty file with a WAL beside it is a plaintext database whose first pages are
        // still only in the WAL; an empty file alone is a store that was never written.
        let wal = wal_path(path);
        let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        return Ok(if wal_len > 0 {
            OnDisk::Plain
        } else {
            OnDisk::Missing
        });
    }
    Ok(if &head[..read] == SQLITE_HEADER {
        OnDisk::Plain
    } else {
        OnDisk::Encrypted
    })
}

pub(crate) fn wal_path(path: &Path) -> PathBuf {
    sibling(path, "-wal")
}

pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Applies `key` to a fresh connection and proves it opens the file: SQLCipher only checks
/// the key on the first read, which fails with `SQLITE_NOTADB` when it is wrong.
pub(crate) fn apply_key(conn: &Connection, key: &StoreKey) -> Result<bool, rusqlite::Error> {
    let hex = key.hex();
    // A wrong key is an answer here, not an error: keep SQLCipher from printing its own
    // decryption errors to stderr while candidates are tried.
    let pragma = zeroize::Zeroizing::new(format!(
        "PRAGMA cipher_log_level = NONE; PRAGMA key = \"x'{}'\";",
        hex.as_str()
    ));
    conn.execute_batch(&pragma)?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(true),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// The keys the sources hold, in order, with what each said.
struct Candidates {
    keys: Vec<(StoreKey, KeyBackend)>,
    keychain: Option<KeychainEntry>,
    /// `None`: not asked; `Some(Ok(found))`: answered; `Some(Err)`: could not be read.
    keychain_answer: Option<Result<bool, KeychainFault>>,
}

fn gather(dir: &Path, source: &KeySource) -> Result<Candidates, StoreError> {
    let mut keys = Vec::new();
    let keychain = source.keychain(dir);
    let mut keychain_answer = None;
    if let Some(entry) = &keychain {
        keychain_answer = Some(match key_source::lookup_keychain(entry) {
            Lookup::Found(key) => {
                keys.push((key, KeyBackend::Keychain));
                Ok(true)
            }
            Lookup::Absent => Ok(false),
            Lookup::Failed(fault) => Err(fault),
        });
    }
    if let Some(provided) = &source.provided {
        keys.push((provided.read()?, KeyBackend::Provided));
    }
    if let Some(key) = key_source::read_fallback(dir)? {
        keys.push((key, KeyBackend::File));
    }
    Ok(Candidates {
        keys,
        keychain,
        keychain_answer,
    })
}

/// Opens (creating, or migrating a plaintext one) the encrypted database at `path` in `dir`.
pub(crate) fn open(
    dir: &Path,
    path: &Path,
    source: &KeySource,
) -> Result<(Connection, StoreKey, KeyStatus), StoreError> {
    migrate_plain::clean_up_leftovers(path)?;
    let on_disk = classify(path)?;
    let candidates = gather(dir, source)?;
    let (key, backend) = match on_disk {
        OnDisk::Missing | OnDisk::Plain => {
            let (key, backend) = match candidates.keys.first() {
                Some(first) => first.clone(),
                None => keep_new_key(dir, &candidates)?,
            };
            if on_disk == OnDisk::Plain {
                migrate_plain::migrate(path, &key)?;
            }
            (key, backend)
        }
        OnDisk::Encrypted => match find_opening_key(path, &candidates)? {
            Some(found) => found,
            None => return Err(unreadable(dir, path, source, &candidates)),
        },
    };
    let conn = Connection::open(path)?;
    if !apply_key(&conn, &key)? {
        return Err(StoreError::Corrupt(
            "database does not open with its own key",
        ));
    }
    let backend = settle(dir, &key, backend, &candidates)?;
    key_source::record_backend(dir, backend)?;
    let status = status_of(backend, &candidates);
    if !status.protected {
        tracing::warn!(
            backend = backend.label(),
            note = status.note.as_deref().unwrap_or(""),
            "session store key is not protected: it is in {} beside the database",
            FALLBACK_KEY_FILE
        );
    }
    Ok((conn, key, status))
}

/// Opens the store read-only for a tool beside a running engine: no new key, no migration,
/// no move. A plaintext store (not migrated yet) opens without a key.
pub(crate) fn open_read_only(
    dir: &Path,
    path: &Path,
    source: &KeySource,
) -> Result<Connection, StoreError> {
    let open = || {
        Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
    };
    if classify(path)? != OnDisk::Encrypted {
        return Ok(open()?);
    }
    let candidates = gather(dir, source)?;
    // A fresh connection per candidate: a key, once set, stays with its connection.
    for (key, _) in &candidates.keys {
        let conn = open()?;
        if apply_key(&conn, key)? {
            return Ok(conn);
        }
    }
    Err(match &candidates.keychain_answer {
        Some(Err(fault)) => KeyError::KeychainUnavailable(fault.clone()).into(),
        _ => StoreError::Corrupt("store key (no source has a key that opens the store)"),
    })
}

fn find_opening_key(
    path: &Path,
    candidates: &Candidates,
) -> Result<Option<(StoreKey, KeyBackend)>, StoreError> {
    for (key, backend) in &candidates.keys {
        let conn = Connection::open(path)?;
        if apply_key(&conn, key)? {
            return Ok(Some((key.clone(), *backend)));
        }
    }
    Ok(None)
}

/// A new key for a new (or plaintext) database, kept before the database is written.
fn keep_new_key(dir: &Path, candidates: &Candidates) -> Result<(StoreKey, KeyBackend), StoreError> {
    let key = StoreKey::generate();
    if let (Some(entry), Some(Ok(_))) = (&candidates.keychain, &candidates.keychain_answer) {
        match key_source::store_in_keychain(entry, &key) {
            Ok(()) => return Ok((key, KeyBackend::Keychain)),
            Err(fault) => tracing::warn!(%fault, "could not store the new key in the keychain"),
        }
    }
    key_source::write_fallback(dir, &key)?;
    Ok((key, KeyBackend::File))
}

/// After a successful open: move a file-held key into the keychain when one answers, and
/// remove a file copy the keychain already holds. Returns where the key now lives.
fn settle(
    dir: &Path,
    key: &StoreKey,
    backend: KeyBackend,
    candidates: &Candidates,
) -> Result<KeyBackend, StoreError> {
    let file_copy = candidates
        .keys
        .iter()
        .any(|(k, b)| *b == KeyBackend::File && k == key);
    match backend {
        KeyBackend::File => {
            let (Some(entry), Some(Ok(_))) = (&candidates.keychain, &candidates.keychain_answer)
            else {
                return Ok(KeyBackend::File);
            };
            match key_source::store_in_keychain(entry, key) {
                Ok(()) => {
                    // Recorded before the file goes: a crash in between leaves both copies.
                    key_source::record_backend(dir, KeyBackend::Keychain)?;
                    key_source::remove_fallback(dir)?;
                    tracing::info!("session store key moved from the key file into the keychain");
                    Ok(KeyBackend::Keychain)
                }
                Err(fault) => {
                    tracing::warn!(%fault, "could not move the store key into the keychain");
                    Ok(KeyBackend::File)
                }
            }
        }
        KeyBackend::Keychain if file_copy => {
            key_source::remove_fallback(dir)?;
            Ok(KeyBackend::Keychain)
        }
        other => Ok(other),
    }
}

fn status_of(backend: KeyBackend, candidates: &Candidates) -> KeyStatus {
    let note = match (&candidates.keychain_answer, backend) {
        (_, KeyBackend::Keychain | KeyBackend::Provided) => None,
        (None, KeyBackend::File) => Some("no keychain is configured".to_owned()),
        (Some(Ok(_)), KeyBackend::File) => {
            Some("the keychain did not take the key; it stays in the key file".to_owned())
        }
        (Some(Err(fault)), KeyBackend::File) => Some(fault.to_string()),
    };
    KeyStatus {
        backend,
        protected: backend != KeyBackend::File,
        note,
    }
}

/// No key opens the database. A keychain that cannot be read now may hold the right key, so
/// then nothing is touched; otherwise the file is moved aside so the user can start over.
fn unreadable(dir: &Path, path: &Path, source: &KeySource, candidates: &Candidates) -> StoreError {
    let recorded = key_source::recorded_backend(dir);
    if let Some(Err(fault)) = &candidates.keychain_answer {
        if candidates.keys.is_empty() || recorded == Some(KeyBackend::Keychain) {
            return KeyError::KeychainUnavailable(fault.clone()).into();
        }
    }
    if recorded == Some(KeyBackend::Keychain) && source.keychain_service.is_none() {
        // This run was told not to use the keychain; the key is probably still there.
        return KeyError::KeychainUnavailable(KeychainFault::Unavailable(
            "this run does not use the keychain".into(),
        ))
        .into();
    }
    let why = if candidates.keys.is_empty() {
        match recorded {
            Some(b) => format!("its key is gone from the {}", b.label()),
            None => "no key for it was found".to_owned(),
        }
    } else {
        "the key found does not open it (a wrong key)".to_owned()
    };
    match archive_unreadable(dir, path) {
        Ok(archived) => {
            tracing::error!(%why, archived = %archived.display(), "session store unreadable");
            KeyError::Unreadable { why, archived }.into()
        }
        Err(e) => e,
    }
}

fn archive_unreadable(dir: &Path, path: &Path) -> Result<PathBuf, StoreError> {
    let archive_dir = dir.join(ARCHIVE_DIR);
    super::ensure_private_dir(&archive_dir).map_err(|source| StoreError::Io {
        path: archive_dir.clone(),
        source,
    })?;
    // Only names the file; the store is opened before any injected clock reaches it.
    let now_ms = crate::clock::Clock::now_ms(&crate::clock::SystemClock);
    let mut target = archive_dir.join(format!("unreadable-{now_ms}.db"));
    let mut n = 1;
    while target.exists() {
        target = archive_dir.join(format!("unreadable-{now_ms}-{n}.db"));
        n += 1;
    }
    // WAL first: a crash between the two renames leaves the main file in place, still
    // unreadable, and the next open archives it again.
    for suffix in ["-wal", "-shm"] {
        let from = sibling(path, suffix);
        if from.exists() {
            std::fs::rename(&from, sibling(&target, suffix)).map_err(|source| StoreError::Io {
                path: from.clone(),
                source,
            })?;
        }
    }
    std::fs::rename(path, &target).map_err(|source| StoreError::Io {
        path: path.to_owned(),
        source,
    })?;
    key_source::sync_dir(path).map_err(|source| StoreError::Io {
        path: dir.to_owned(),
        source,
    })?;
    Ok(target)
}
