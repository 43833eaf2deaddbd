//! One session, one process: an exclusive OS file lock on `session.lock` in the data folder,
//! held for the life of the engine, with the holder's pid, program and start time written into
//! the file so a second process can say who it is up against instead of fighting over the
//! session (the classic 440 ping-pong between two clients with the same credentials).
//!
//! The lock is `flock`-style (`fs4`): the OS drops it when the process dies, even by `kill -9`,
//! so a stale file never blocks a restart.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};

/// The lock file's name inside the data folder.
pub const LOCK_FILE: &str = "session.lock";

/// Who holds the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// Process id.
    pub pid: u32,
    /// Program name.
    pub program: String,
    /// When it took the lock (unix ms).
    pub since_ms: u64,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (pid {}, since unix ms {})",
            self.program, self.pid, self.since_ms
        )
    }
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process (or another engine in this one) holds it.
    #[error("the session in {dir} is in use by {}", holder.as_ref().map(ToString::to_string).unwrap_or_else(|| "another process that is starting".into()))]
    Held {
        dir: PathBuf,
        /// `None` when the holder has not written its name yet (it is starting).
        holder: Option<LockHolder>,
    },
    /// The lock file could not be opened or written.
    #[error("lock file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct SessionLock {
    file: File,
    path: PathBuf,
}

impl SessionLock {
    /// Takes the lock in `dir` without waiting.
    pub fn acquire(dir: &Path, program: &str, now_ms: u64) -> Result<Self, LockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match FileExt::try_lock_exclusive(&file) {
            Ok(true) => {}
            Ok(false) => {
                return Err(LockError::Held {
                    dir: dir.to_owned(),
                    holder: read_holder(&mut file),
                })
            }
            Err(e) => return Err(io(e)),
        }
        let holder = LockHolder {
            pid: std::process::id(),
            program: program.to_owned(),
            since_ms: now_ms,
        };
        let json = serde_json::to_vec(&holder).map_err(|e| io(std::io::Error::other(e)))?;
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&json).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(Self { file, path })
    }

    /// Who holds the lock in `dir` right now, if anyone.
    pub fn holder(dir: &Path) -> Option<LockHolder> {
        let mut file = File::open(dir.join(LOCK_FILE)).ok()?;
        match FileExt::try_lock_shared(&file) {
            // Nobody holds it: whatever the file says is stale.
            Ok(true) => {
                let _ = FileExt::unlock(&file);
                None
            }
            _ => read_holder(&mut file),
        }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it immediate even if
        // a duplicated descriptor lingers.
        let _ = FileExt::unlock(&self.file);
    }
}

fn read_holder(file: &mut File) -> Option<LockHolder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_ones_name() {
        let dir = tempdir();
        let first = SessionLock::acquire(&dir, "herald", 42).unwrap();
        match SessionLock::acquire(&dir, "herald-cli", 43) {
            Err(LockError::Held {
                holder: Some(h), ..
            }) => {
                assert_eq!(h.program, "herald");
                assert_eq!(h.pid, std::process::id());
                assert_eq!(h.since_ms, 42);
            }
            other => panic!("expected Held, got {other:?}"),
        }
        assert_eq!(SessionLock::holder(&dir).unwrap().program, "herald");
        drop(first);
        assert!(SessionLock::holder(&dir).is_none());
        let again = SessionLock::acquire(&dir, "herald-cli", 44).unwrap();
        assert!(again.path().ends_with(LOCK_FILE));
    }

    pub(crate) fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "wa-client-lock-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
