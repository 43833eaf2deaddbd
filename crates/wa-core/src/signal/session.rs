//! The pairwise cipher's entry points, transactional: each takes the record by reference and
//! returns a new record with its result, so the store can commit the new record together with
//! what depends on it (messaging.md §2.8). A failed call returns an error and nothing else; the
//! old record stays valid.
//!
//! - [`SessionRecord::initiate`]: start a session from a peer's bundle (X3DH as initiator);
//! - [`SessionRecord::encrypt`]: a `pkmsg` while the peer has not answered, a `msg` after;
//! - [`SessionRecord::decrypt_prekey_message`]: a `pkmsg`, which may start a new session (X3DH as
//!   responder) and report the one-time prekey it consumed;
//! - [`SessionRecord::decrypt_message`]: a `msg`, tried in the current state, then in the
//!   archived ones newest first. A state that decrypts is updated in place; an archived one is not
//!   made current again (as libsignal-node does), since the peer has moved on to the new one.

use std::sync::Arc;

use rand_core::CryptoRngCore;

use super::error::SignalError;
use super::keys::{KeyPair, PublicKey};
use super::prekey::{LocalIdentity, PreKeyBundle, PreKeyLookup};
use super::record::SessionRecord;
use super::state::SessionState;
use super::wire::{PreKeySignalMessage, SignalMessage};
use super::x3dh::{self, Initiator, Responder};

/// An encrypted message, as it goes into `<enc type="pkmsg|msg">`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CiphertextMessage {
    /// A message of a session the peer has not answered yet.
    PreKey(PreKeySignalMessage),
    /// A message of an established session.
    Whisper(SignalMessage),
}

impl CiphertextMessage {
    /// The bytes for the `<enc>` node.
    pub fn serialized(&self) -> &[u8] {
        match self {
            Self::PreKey(m) => m.serialized(),
            Self::Whisper(m) => m.serialized(),
        }
    }

    /// The `<enc type>` attribute.
    pub fn enc_type(&self) -> &'static str {
        match self {
            Self::PreKey(_) => "pkmsg",
            Self::Whisper(_) => "msg",
        }
    }
}

/// A successful decrypt.
#[derive(Clone, Debug)]
pub struct Decrypted {
    /// The record to store in place of the old one.
    pub record: SessionRecord,
    /// The decrypted bytes (still padded: unpadding belongs to the message layer).
    pub plaintext: Vec<u8>,
    /// The one-time prekey this message consumed; the store must delete it in the same
    /// transaction as it stores `record`.
    pub consumed_pre_key: Option<u32>,
    /// The identity key of the state that decrypted it.
    pub sender_identity: PublicKey,
}

fn check_trust(known: Option<&PublicKey>, received: &PublicKey) -> Result<(), SignalError> {
    match known {
        Some(expected) if expected != received => Err(SignalError::UntrustedIdentity {
            expected: *expected,
            received: *received,
        }),
        _ => Ok(()),
    }
}

impl SessionRecord {
    /// Starts a new session from a peer's bundle, archiving the current one. The bundle's
    /// signature is checked first; `known_identity` is the identity the store holds for this
    /// address, if any, and a bundle with another one is refused.
    pub fn initiate(
        &self,
        us: &LocalIdentity,
        bundle: &PreKeyBundle,
        known_identity: Option<&PublicKey>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, SignalError> {
        bundle.verify_signature()?;
        check_trust(known_identity, &bundle.identity_key)?;
        let state = x3dh::initiate(
            Initiator {
                our_identity: &us.key_pair,
                our_registration_id: us.registration_id,
                our_base_key: KeyPair::generate(rng),
                their_identity: bundle.identity_key,
                their_registration_id: bundle.registration_id,
                their_signed_pre_key: (bundle.signed_pre_key_id, bundle.signed_pre_key),
                their_one_time_pre_key: bundle.pre_key,
            },
            rng,
        );
        let mut next = self.clone();
        next.promote(state);
        Ok(next)
    }

    /// Encrypts `plaintext` with the current state.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<(Self, CiphertextMessage), SignalError> {
        let mut state = self.current.clone().ok_or(SignalError::NoSession)?;
        let message = state.encrypt(plaintext);
        let out = match &state.pending {
            Some(pending) => CiphertextMessage::PreKey(PreKeySignalMessage::new(
                state.local_registration_id,
                pending.pre_key_id,
                pending.signed_pre_key_id,
                pending.base_key,
                state.local_identity,
                message,
            )),
            None => CiphertextMessage::Whisper(message),
        };
        let next = Self {
            current: Some(state),
            archived: self.archived.clone(),
        };
        Ok((next, out))
    }

    /// Decrypts a `msg`.
    pub fn decrypt_message(
        &self,
        bytes: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Decrypted, SignalError> {
        let message = SignalMessage::parse(bytes)?;
        self.decrypt_in_states(&message, rng)
    }

    /// Decrypts a `pkmsg`. When no state has its base key, a new session is built with our
    /// prekeys and becomes current (the old one is archived), and the one-time prekey it used is
    /// reported in [`Decrypted::consumed_pre_key`]. `known_identity` is the identity the store
    /// holds for this address, if any; a message with another one is refused.
    pub fn decrypt_prekey_message(
        &self,
        us: &LocalIdentity,
        prekeys: &impl PreKeyLookup,
        known_identity: Option<&PublicKey>,
        bytes: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Decrypted, SignalError> {
        let message = PreKeySignalMessage::parse(bytes)?;
        check_trust(known_identity, &message.identity_key)?;
        if self.has_base_key(&message.base_key) {
            // A repeat, or a later pkmsg of a session we already built: no prekey is used again.
            return self.decrypt_in_base_key_state(&message, rng);
        }
        let signed = prekeys
            .signed_pre_key(message.signed_pre_key_id)
            .ok_or(SignalError::UnknownSignedPreKey(message.signed_pre_key_id))?;
        let one_time = match message.pre_key_id {
            Some(id) => Some(prekeys.pre_key(id).ok_or(SignalError::UnknownPreKey(id))?),
            None => None,
        };
        let mut state = x3dh::respond(Responder {
            our_identity: &us.key_pair,
            our_registration_id: us.registration_id,
            our_signed_pre_key: &signed.key_pair,
            our_one_time_pre_key: one_time.as_ref().map(|k| &k.key_pair),
            our_ratchet_key: &signed.key_pair,
            their_identity: message.identity_key,
            their_registration_id: message.registration_id,
            their_base_key: message.base_key,
        });
        let plaintext = state.decrypt(&message.message, rng)?;
        let mut record = self.clone();
        record.promote(state);
        Ok(Decrypted {
            record,
            plaintext,
            consumed_pre_key: message.pre_key_id,
            sender_identity: message.identity_key,
        })
    }

    fn decrypt_in_base_key_state(
        &self,
        message: &PreKeySignalMessage,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Decrypted, SignalError> {
        let mut next = self.clone();
        if let Some(current) = next
            .current
            .as_mut()
            .filter(|s| s.base_key == message.base_key)
        {
            let plaintext = current.decrypt(&message.message, rng)?;
            return Ok(decrypted(next, plaintext, message.identity_key));
        }
        let position = next
            .archived
            .iter()
            .position(|s| s.base_key == message.base_key)
            .ok_or(SignalError::NoSession)?;
        let mut state = SessionState::clone(&next.archived[position]);
        let plaintext = state.decrypt(&message.message, rng)?;
        next.archived[position] = Arc::new(state);
        Ok(decrypted(next, plaintext, message.identity_key))
    }

    fn decrypt_in_states(
        &self,
        message: &SignalMessage,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Decrypted, SignalError> {
        let mut failure: Option<SignalError> = None;
        let mut note = |error: SignalError| {
            // A duplicate in any state is the answer that matters: the message was handled.
            let keep = matches!(failure, Some(SignalError::DuplicateMessage { .. }))
                || (failure.is_some() && !matches!(error, SignalError::DuplicateMessage { .. }));
            if !keep {
                failure = Some(error);
            }
        };
        if let Some(current) = &self.current {
            let mut state = current.clone();
            match state.decrypt(message, rng) {
                Ok(plaintext) => {
                    let identity = state.remote_identity;
                    let next = Self {
                        current: Some(state),
                        archived: self.archived.clone(),
                    };
                    return Ok(decrypted(next, plaintext, identity));
                }
                Err(error) => note(error),
            }
        }
        for (position, archived) in self.archived.iter().enumerate() {
            let mut state = SessionState::clone(archived);
            match state.decrypt(message, rng) {
                Ok(plaintext) => {
                    let identity = state.remote_identity;
                    let mut next = self.clone();
                    next.archived[position] = Arc::new(state);
                    return Ok(decrypted(next, plaintext, identity));
                }
                Err(error) => note(error),
            }
        }
        Err(failure.unwrap_or(SignalError::NoSession))
    }
}

fn decrypted(record: SessionRecord, plaintext: Vec<u8>, sender: PublicKey) -> Decrypted {
    Decrypted {
        record,
        plaintext,
        consumed_pre_key: None,
        sender_identity: sender,
    }
}
