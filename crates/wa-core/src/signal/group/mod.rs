//! Sender keys: how WhatsApp encrypts one group message once for every member (protocol.md
//! §9.7 "Groups", messaging.md §1), byte-compatible with libsignal-node's and Baileys'
//! `GroupCipher`.
//!
//! Each sender device has a chain per group. It hands the chain's current key to each member
//! in a [`SenderKeyDistributionMessage`] over their pairwise session; each group message is
//! then AES-256-CBC under the next chain step, signed with the sender's signing key. Records
//! are kept per (group, sender device), bounded: [`MAX_STATES`] key generations,
//! [`MAX_SKIPPED_KEYS`] skipped message keys per generation, and no forward jump beyond
//! [`MAX_FORWARD_JUMP`].
//!
//! Pure code: randomness comes from the caller, and every operation returns a new record
//! instead of changing the one it was given.

mod chain;
mod cipher;
pub mod error;
mod record;
mod state;
pub mod wire;

pub use cipher::{GroupDecrypted, GroupEncrypted};
pub use error::{GroupError, MalformedReason, RecordError};
pub use record::RECORD_VERSION;
pub use state::{SenderKeyRecord, SenderKeyState, MAX_FORWARD_JUMP, MAX_SKIPPED_KEYS, MAX_STATES};
pub use wire::{SenderKeyDistributionMessage, SenderKeyMessage, VERSION_BYTE};

#[cfg(test)]
mod tests;
