//! A session record: everything we keep for one peer device (one address). It holds the current
//! state and up to [`MAX_ARCHIVED_STATES`] = 40 previous ones (libsignal's
//! `ARCHIVED_STATES_MAX_LENGTH`, whatsmeow's `archivedStatesMaxLength`, libsignal-node's
//! `CLOSED_SESSIONS_MAX`), newest first, so late messages of a replaced session still decrypt.
//!
//! Archived states sit behind `Arc`: every operation returns a new record, and this way a copy
//! costs one state, not forty.

use std::sync::Arc;

use super::keys::PublicKey;
use super::state::SessionState;

/// How many replaced states a record keeps for late messages.
pub const MAX_ARCHIVED_STATES: usize = 40;

/// The sessions with one peer device.
#[derive(Clone, Debug, Default)]
pub struct SessionRecord {
    pub(crate) current: Option<SessionState>,
    /// Newest first.
    pub(crate) archived: Vec<Arc<SessionState>>,
}

impl SessionRecord {
    /// A record with no session yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state new messages are encrypted with.
    pub fn current(&self) -> Option<&SessionState> {
        self.current.as_ref()
    }

    /// Whether there is a state to encrypt with.
    pub fn has_current(&self) -> bool {
        self.current.is_some()
    }

    /// The replaced states, newest first.
    pub fn archived(&self) -> impl Iterator<Item = &SessionState> {
        self.archived.iter().map(|s| s.as_ref())
    }

    /// The current state's peer identity key.
    pub fn remote_identity(&self) -> Option<PublicKey> {
        self.current.as_ref().map(SessionState::remote_identity)
    }

    /// Makes `state` current, archiving the one it replaces.
    pub(crate) fn promote(&mut self, state: SessionState) {
        if let Some(old) = self.current.replace(state) {
            self.archived.insert(0, Arc::new(old));
            self.archived.truncate(MAX_ARCHIVED_STATES);
        }
    }

    /// Archives the current state, leaving none (the peer re-registered, or its identity
    /// changed and the store is starting over).
    pub fn archive_current(&self) -> Self {
        let mut next = self.clone();
        if let Some(old) = next.current.take() {
            next.archived.insert(0, Arc::new(old));
            next.archived.truncate(MAX_ARCHIVED_STATES);
        }
        next
    }

    /// Whether a state (current or archived) was started with this base key.
    pub(crate) fn has_base_key(&self, base_key: &PublicKey) -> bool {
        self.current.iter().any(|s| s.base_key == *base_key)
            || self.archived.iter().any(|s| s.base_key == *base_key)
    }
}
