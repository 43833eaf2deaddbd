//! The OS keychain (keyring 4: Keychain Services, the Credential Manager, the Secret Service),
//! behind a deadline.
//!
//! A keychain call can block indefinitely: a locked Secret Service collection asks its
//! prompter to unlock it, a macOS keychain shows a dialog. Every call therefore runs on its
//! own thread and the caller waits at most `timeout`; a call that overruns is abandoned (its
//! thread finishes or dies with the process) and reported as [`KeychainFault::TimedOut`], so
//! neither the UI thread nor the engine's start ever hangs on it.

use std::sync::mpsc;
use std::time::Duration;

use zeroize::Zeroizing;

/// Why the keychain gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainFault {
    /// No keychain on this system, or it refused (no Secret Service on the bus, locked and the
    /// unlock prompt was dismissed or could not be shown, access denied).
    #[error("the keychain is not available: {0}")]
    Unavailable(String),
    /// It did not answer in time: usually locked and waiting for an unlock prompt.
    #[error("the keychain did not answer within {} ms (locked, or waiting for an unlock prompt)", .0.as_millis())]
    TimedOut(Duration),
}

/// One entry of the keychain: `service` names the program, `account` the data folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeychainEntry {
    pub service: String,
    pub account: String,
    pub timeout: Duration,
}

impl KeychainEntry {
    /// The stored secret; `None` when the keychain answered that there is none.
    pub fn get(&self) -> Result<Option<Zeroizing<Vec<u8>>>, KeychainFault> {
        self.call(|entry| match entry.get_secret() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(KeychainFault::Unavailable(e.to_string())),
        })
    }

    /// Stores `secret`, replacing any earlier one.
    pub fn set(&self, secret: &[u8]) -> Result<(), KeychainFault> {
        let secret = Zeroizing::new(secret.to_vec());
        self.call(move |entry| {
            entry
                .set_secret(&secret)
                .map_err(|e| KeychainFault::Unavailable(e.to_string()))
        })
    }

    /// Removes the secret; removing one that is not there is not an error.
    pub fn delete(&self) -> Result<(), KeychainFault> {
        self.call(|entry| match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(KeychainFault::Unavailable(e.to_string())),
        })
    }

    fn call<T: Send + 'static>(
        &self,
        op: impl FnOnce(&keyring::Entry) -> Result<T, KeychainFault> + Send + 'static,
    ) -> Result<T, KeychainFault> {
        let (tx, rx) = mpsc::channel();
        let service = self.service.clone();
        let account = self.account.clone();
        let spawned = std::thread::Builder::new()
            .name("keychain".into())
            .spawn(move || {
                let result = keyring::Entry::new(&service, &account)
                    .map_err(|e| KeychainFault::Unavailable(e.to_string()))
                    .and_then(|entry| op(&entry));
                // The caller may have given up waiting; nobody to tell then.
                let _ = tx.send(result);
            });
        if let Err(e) = spawned {
            return Err(KeychainFault::Unavailable(format!(
                "could not start the keychain thread: {e}"
            )));
        }
        match rx.recv_timeout(self.timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(KeychainFault::TimedOut(self.timeout)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(KeychainFault::Unavailable(
                "the keychain call ended without an answer".into(),
            )),
        }
    }
}
