//! Where the store's 32-byte key comes from, in order: the OS keychain; else a key the
//! operator provides (an environment variable or a secret file, for servers); else a key file
//! in the data folder, owner-only, which is flagged "not protected" and moved into the
//! keychain as soon as one answers.
//!
//! Which backend holds the key is recorded in `store-key.json` beside the database (no secret
//! in it), so that a key missing from the keychain can be told apart from a keychain that is
//! merely locked today.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::keychain::{KeychainEntry, KeychainFault};

/// Environment variable holding the key as 64 hex digits.
pub const KEY_ENV: &str = "HERALD_STORE_KEY";
/// Environment variable naming a file that holds the key (64 hex digits, or 32 raw bytes).
pub const KEY_FILE_ENV: &str = "HERALD_STORE_KEY_FILE";
/// The fallback key file, in the data folder.
pub const FALLBACK_KEY_FILE: &str = "store.key";
/// The record of which backend holds the key, in the data folder.
pub const KEY_RECORD_FILE: &str = "store-key.json";
/// How long a keychain call may take before the store gives up on it.
pub const DEFAULT_KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// The raw SQLCipher key. Wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey(Zeroizing<[u8; 32]>);

impl StoreKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut bytes[..]);
        Self(bytes)
    }

    /// The key bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads a key written as 64 hex digits (surrounding whitespace ignored) or as 32 raw bytes.
    pub fn parse(data: &[u8]) -> Option<Self> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        if data.len() == 32 {
            bytes.copy_from_slice(data);
            return Some(Self(bytes));
        }
        let text = std::str::from_utf8(data).ok()?.trim();
        hex::decode_to_slice(text, &mut bytes[..]).ok()?;
        Some(Self(bytes))
    }

    /// The key as 64 lowercase hex digits.
    pub(crate) fn hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(&self.0[..]))
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

/// A key the operator provides instead of the keychain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvidedKey {
    /// From an environment variable (its value, and its name for messages).
    Env { name: String, value: String },
    /// From a secret file (e.g. a mounted container secret).
    File(PathBuf),
}

/// Which sources the store may take its key from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySource {
    /// The keychain's service name; `None` leaves the keychain alone (tests, servers).
    pub keychain_service: Option<String>,
    /// How long one keychain call may take.
    pub keychain_timeout: Duration,
    /// A key given by the operator.
    pub provided: Option<ProvidedKey>,
}

impl Default for KeySource {
    /// No keychain; the operator's key when [`KEY_ENV`] or [`KEY_FILE_ENV`] is set; else the
    /// fallback key file.
    fn default() -> Self {
        Self {
            keychain_service: None,
            keychain_timeout: DEFAULT_KEYCHAIN_TIMEOUT,
            provided: ProvidedKey::from_env(),
        }
    }
}

impl KeySource {
    /// The desktop's choice: the keychain under `service` first.
    pub fn with_keychain(service: &str) -> Self {
        Self {
            keychain_service: Some(service.to_owned()),
            ..Self::default()
        }
    }

    pub(crate) fn keychain(&self, dir: &Path) -> Option<KeychainEntry> {
        let service = self.keychain_service.as_ref()?;
        // One entry per data folder: two profiles never share a key.
        let account = std::path::absolute(dir)
            .unwrap_or_else(|_| dir.to_owned())
            .to_string_lossy()
            .into_owned();
        Some(KeychainEntry {
            service: service.clone(),
            account,
            timeout: self.keychain_timeout,
        })
    }
}

impl ProvidedKey {
    /// [`KEY_ENV`], else [`KEY_FILE_ENV`], when set and not empty.
    pub fn from_env() -> Option<Self> {
        if let Some(value) = std::env::var(KEY_ENV).ok().filter(|v| !v.is_empty()) {
            return Some(Self::Env {
                name: KEY_ENV.to_owned(),
                value,
            });
        }
        std::env::var_os(KEY_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(|p| Self::File(PathBuf::from(p)))
    }

    pub(crate) fn read(&self) -> Result<StoreKey, KeyError> {
        match self {
            Self::Env { name, value } => {
                StoreKey::parse(value.as_bytes()).ok_or_else(|| KeyError::BadProvidedKey {
                    source_name: format!("${name}"),
                })
            }
            Self::File(path) => {
                let data = Zeroizing::new(std::fs::read(path).map_err(|source| {
                    KeyError::ProvidedFile {
                        path: path.clone(),
                        source,
                    }
                })?);
                StoreKey::parse(&data).ok_or_else(|| KeyError::BadProvidedKey {
                    source_name: path.display().to_string(),
                })
            }
        }
    }
}

/// Where the key of an open store is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyBackend {
    /// The OS keychain.
    Keychain,
    /// Given by the operator (environment or secret file).
    Provided,
    /// The owner-only key file in the data folder.
    File,
}

impl KeyBackend {
    /// The user's word for it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Keychain => "OS keychain",
            Self::Provided => "key provided by the environment",
            Self::File => "key file (not protected)",
        }
    }
}

/// What the health view and the log say about the secrets at rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyStatus {
    pub backend: KeyBackend,
    /// False when the key sits in a plain file next to the database: anyone who can read the
    /// folder can read the session.
    pub protected: bool,
    /// Why the keychain was not used, when it was wanted.
    pub note: Option<String>,
}

/// Why the store could not get its key, or the key does not open it.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The keychain holds the key but cannot be read now; nothing was changed.
    #[error("the session store's key is in the OS keychain, which cannot be read now: {0}. Unlock the keychain and try again")]
    KeychainUnavailable(#[source] KeychainFault),
    /// The operator's key is not 64 hex digits or 32 bytes.
    #[error("the store key in {source_name} is not 64 hex digits (or 32 raw bytes)")]
    BadProvidedKey { source_name: String },
    #[error("reading the store key file {path}: {source}")]
    ProvidedFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No source has a key that opens the database. It was moved aside, not deleted.
    #[error("the session store could not be opened: {why}. It was moved to {} (kept, not deleted); pair again to start a new session", archived.display())]
    Unreadable { why: String, archived: PathBuf },
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The answer of one source.
pub(crate) enum Lookup {
    Found(StoreKey),
    Absent,
    Failed(KeychainFault),
}

pub(crate) fn lookup_keychain(entry: &KeychainEntry) -> Lookup {
    match entry.get() {
        Ok(Some(secret)) => match StoreKey::parse(&secret) {
            Some(key) => Lookup::Found(key),
            // Something else under our name: treat as no key, never overwrite it blindly.
            None => Lookup::Failed(KeychainFault::Unavailable(
                "the keychain entry is not a store key".into(),
            )),
        },
        Ok(None) => Lookup::Absent,
        Err(fault) => Lookup::Failed(fault),
    }
}

/// Stores `key` in the keychain and reads it back: only a confirmed round trip counts.
pub(crate) fn store_in_keychain(
    entry: &KeychainEntry,
    key: &StoreKey,
) -> Result<(), KeychainFault> {
    entry.set(key.hex().as_bytes())?;
    match lookup_keychain(entry) {
        Lookup::Found(back) if back == *key => Ok(()),
        Lookup::Found(_) | Lookup::Absent => Err(KeychainFault::Unavailable(
            "the keychain did not give back the key just stored".into(),
        )),
        Lookup::Failed(fault) => Err(fault),
    }
}

pub(crate) fn read_fallback(dir: &Path) -> Result<Option<StoreKey>, KeyError> {
    let path = dir.join(FALLBACK_KEY_FILE);
    match std::fs::read(&path) {
        Ok(data) => Ok(StoreKey::parse(&Zeroizing::new(data))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyError::Io { path, source }),
    }
}

/// Writes the fallback key file owner-only, atomically (a temporary file, synced, renamed).
pub(crate) fn write_fallback(dir: &Path, key: &StoreKey) -> Result<(), KeyError> {
    let path = dir.join(FALLBACK_KEY_FILE);
    write_private_atomically(&path, key.hex().as_bytes())
        .map_err(|source| KeyError::Io { path, source })
}

pub(crate) fn remove_fallback(dir: &Path) -> Result<(), KeyError> {
    let path = dir.join(FALLBACK_KEY_FILE);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(KeyError::Io { path, source }),
    }
}

#[derive(Serialize, Deserialize)]
struct Record {
    backend: KeyBackend,
}

/// The backend recorded for this folder, if any.
pub fn recorded_backend(dir: &Path) -> Option<KeyBackend> {
    let data = std::fs::read(dir.join(KEY_RECORD_FILE)).ok()?;
    serde_json::from_slice::<Record>(&data)
        .ok()
        .map(|r| r.backend)
}

pub(crate) fn record_backend(dir: &Path, backend: KeyBackend) -> Result<(), KeyError> {
    let path = dir.join(KEY_RECORD_FILE);
    let json = serde_json::to_vec(&Record { backend }).unwrap_or_default();
    write_private_atomically(&path, &json).map_err(|source| KeyError::Io { path, source })
}

/// Writes `data` to `path` so a crash leaves the old file or the new one, never a torn one.
pub(crate) fn write_private_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(data)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    sync_dir(path)
}

/// Makes a rename in `path`'s folder durable.
pub(crate) fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_from_hex_or_raw_and_nothing_else() {
        let key = StoreKey::generate();
        assert_eq!(StoreKey::parse(key.hex().as_bytes()), Some(key.clone()));
        assert_eq!(
            StoreKey::parse(format!("  {}\n", key.hex().as_str()).as_bytes()),
            Some(key.clone())
        );
        assert_eq!(StoreKey::parse(&key.bytes()[..]), Some(key.clone()));
        assert_eq!(StoreKey::parse(b"not a key"), None);
        assert_eq!(StoreKey::parse(&key.hex().as_bytes()[..63]), None);
        assert_ne!(StoreKey::generate(), StoreKey::generate());
        assert_eq!(
            format!("{key:?}"),
            "StoreKey(..)",
            "Debug never shows the key"
        );
    }

    #[test]
    fn a_bad_provided_key_is_a_clear_error() {
        let provided = ProvidedKey::Env {
            name: "K".into(),
            value: "xyz".into(),
        };
        let err = provided.read().unwrap_err().to_string();
        assert!(err.contains("$K") && err.contains("64 hex"), "{err}");
    }

    #[test]
    fn the_fallback_file_is_owner_only_and_round_trips() {
        let dir = crate::lock::tests::tempdir();
        assert_eq!(read_fallback(&dir).unwrap(), None);
        let key = StoreKey::generate();
        write_fallback(&dir, &key).unwrap();
        assert_eq!(read_fallback(&dir).unwrap(), Some(key));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(FALLBACK_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        remove_fallback(&dir).unwrap();
        assert_eq!(read_fallback(&dir).unwrap(), None);
        record_backend(&dir, KeyBackend::Keychain).unwrap();
        assert_eq!(recorded_backend(&dir), Some(KeyBackend::Keychain));
    }
}
