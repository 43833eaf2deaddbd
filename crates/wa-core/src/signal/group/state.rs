//! Sender-key states and the record that holds them for one (group, sender device).
//!
//! A record keeps at most [`MAX_STATES`] states, newest first, as libsignal does: a sender that
//! rotates its key (a member left) sends a new distribution message with a new key id, and
//! messages made with the previous key that are still in flight must decrypt. Each state keeps
//! at most [`MAX_SKIPPED_KEYS`] message keys of iterations it skipped over, oldest evicted
//! first.

use std::collections::VecDeque;

use super::chain::ChainKey;
use crate::signal::{PrivateKey, PublicKey};

/// States kept per record (libsignal-node `SenderKeyRecord.MAX_STATES`, signalapp's
/// `MAX_SENDER_KEY_STATES`).
pub const MAX_STATES: usize = 5;

/// Skipped message keys kept per state (libsignal-node `SenderKeyState.MAX_MESSAGE_KEYS`).
pub const MAX_SKIPPED_KEYS: usize = 2000;

/// The furthest a message may be ahead of the chain: libsignal-node refuses "Over 2000
/// messages into the future!", and WA Web's `signalFutureMessagesMax` is 2000
/// (messaging.md §0.3). A jump of exactly this many is accepted.
pub const MAX_FORWARD_JUMP: u32 = 2000;

/// A message key seed kept for an iteration the chain moved past.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SkippedKey {
    pub(crate) iteration: u32,
    pub(crate) seed: [u8; 32],
}

/// One sender key: a key id, its chain, its signing key, and the keys it skipped.
#[derive(Clone)]
pub struct SenderKeyState {
    pub(crate) key_id: u32,
    pub(crate) chain: ChainKey,
    pub(crate) signing_public: PublicKey,
    /// Present only for our own sender key, which we sign with.
    pub(crate) signing_private: Option<PrivateKey>,
    pub(crate) skipped: VecDeque<SkippedKey>,
}

impl PartialEq for SenderKeyState {
    fn eq(&self, other: &Self) -> bool {
        self.key_id == other.key_id
            && self.chain == other.chain
            && self.signing_public == other.signing_public
            && self.signing_private.as_ref().map(PrivateKey::to_bytes)
                == other.signing_private.as_ref().map(PrivateKey::to_bytes)
            && self.skipped == other.skipped
    }
}

impl Eq for SenderKeyState {}

impl core::fmt::Debug for SenderKeyState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Chain and message keys are secrets; ids and counts are what a log needs.
        f.debug_struct("SenderKeyState")
            .field("key_id", &self.key_id)
            .field("iteration", &self.chain.iteration)
            .field("own", &self.signing_private.is_some())
            .field("skipped", &self.skipped.len())
            .finish()
    }
}

impl SenderKeyState {
    /// The key id group messages made with this state carry.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The next iteration the chain derives (for our own key: the next message's iteration).
    pub fn iteration(&self) -> u32 {
        self.chain.iteration
    }

    /// The public key this state's messages are signed with.
    pub fn signing_key(&self) -> PublicKey {
        self.signing_public
    }

    /// Whether this is our own sender key (we hold its private signing key).
    pub fn is_own(&self) -> bool {
        self.signing_private.is_some()
    }

    /// How many skipped message keys are kept.
    pub fn skipped_keys(&self) -> usize {
        self.skipped.len()
    }

    /// Keeps a skipped key, evicting the oldest beyond the bound.
    pub(crate) fn push_skipped(&mut self, key: SkippedKey) {
        self.skipped.push_back(key);
        while self.skipped.len() > MAX_SKIPPED_KEYS {
            self.skipped.pop_front();
        }
    }
}

/// All sender-key states of one sender device in one group. Stored as one BLOB
/// (see [`SenderKeyRecord::serialize`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SenderKeyRecord {
    /// Newest first; at most [`MAX_STATES`].
    pub(crate) states: Vec<SenderKeyState>,
}

impl SenderKeyRecord {
    /// A record with no state (nothing received from this sender yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether there is no state at all.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The states, newest first.
    pub fn states(&self) -> &[SenderKeyState] {
        &self.states
    }

    /// The newest state: the one our own messages are encrypted with.
    pub fn current(&self) -> Option<&SenderKeyState> {
        self.states.first()
    }

    pub(crate) fn position(&self, key_id: u32) -> Option<usize> {
        self.states.iter().position(|s| s.key_id == key_id)
    }

    /// Puts `state` first, dropping the oldest states beyond the bound.
    pub(crate) fn push_front(&mut self, state: SenderKeyState) {
        self.states.insert(0, state);
        self.states.truncate(MAX_STATES);
    }
}
