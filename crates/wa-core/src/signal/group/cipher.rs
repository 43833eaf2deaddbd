//! Group encrypt and decrypt, and the distribution messages that set them up.
//!
//! Every operation borrows the record and returns a new one with its result, so a caller can
//! commit the new record together with whatever depends on it, or drop it. Decryption does all
//! its checks (signature, iteration window, ciphertext) on borrowed state and builds the new
//! record only once the plaintext is in hand: a failure leaves nothing to undo.

use rand_core::CryptoRngCore;

use super::chain::{ChainKey, MessageKeys};
use super::error::GroupError;
use super::state::{SenderKeyRecord, SenderKeyState, SkippedKey, MAX_FORWARD_JUMP};
use super::wire::{encode_message_body, SenderKeyDistributionMessage, SenderKeyMessage};
use crate::signal::crypto::{aes256_cbc_decrypt, aes256_cbc_encrypt};
use crate::signal::{xeddsa, KeyPair};

impl SenderKeyState {
    /// The distribution message that lets a member decrypt from this state's iteration on.
    pub fn distribution_message(&self) -> SenderKeyDistributionMessage {
        SenderKeyDistributionMessage {
            key_id: self.key_id,
            iteration: self.chain.iteration,
            chain_key: self.chain.seed,
            signing_key: self.signing_public,
        }
    }
}

/// What a successful decrypt hands back.
#[derive(Debug)]
pub struct GroupDecrypted {
    /// The record to store in place of the one decrypted with.
    pub record: SenderKeyRecord,
    /// The (still padded) plaintext.
    pub plaintext: Vec<u8>,
    /// The iteration the message had.
    pub iteration: u32,
}

/// What a successful encrypt hands back.
#[derive(Debug)]
pub struct GroupEncrypted {
    /// The record to store: its chain has moved one step.
    pub record: SenderKeyRecord,
    /// The `skmsg` bytes: version, proto, signature.
    pub message: Vec<u8>,
    /// The iteration the message was made at.
    pub iteration: u32,
}

impl SenderKeyRecord {
    /// A record holding a fresh sender key of our own, at iteration 0, and its distribution
    /// message. Rotating our key (a member left the group) is this, replacing the old record.
    pub fn new_own(rng: &mut impl CryptoRngCore) -> (Self, SenderKeyDistributionMessage) {
        // 31 bits, as Baileys (`randomInt(2^31 - 1)`) and libsignal draw key ids: peers written
        // in languages with signed 32-bit integers keep them positive.
        let key_id = rng.next_u32() & 0x7fff_ffff;
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let signing = KeyPair::generate(rng);
        let record = Self::with_own_key(key_id, 0, seed, signing);
        let skdm = record.states[0].distribution_message();
        (record, skdm)
    }

    /// A record holding our own sender key from its parts (an import, or a test with fixed
    /// keys); [`SenderKeyRecord::new_own`] is the usual way to make one.
    pub fn with_own_key(
        key_id: u32,
        iteration: u32,
        chain_key: [u8; 32],
        signing: KeyPair,
    ) -> Self {
        Self {
            states: vec![SenderKeyState {
                key_id,
                chain: ChainKey {
                    iteration,
                    seed: chain_key,
                },
                signing_public: signing.public,
                signing_private: Some(signing.private),
                skipped: Default::default(),
            }],
        }
    }

    /// Our own current sender key's distribution message, creating the key when the record
    /// has none we can sign with.
    pub fn own_distribution_message(
        &self,
        rng: &mut impl CryptoRngCore,
    ) -> (Self, SenderKeyDistributionMessage) {
        match self.current().filter(|s| s.is_own()) {
            Some(state) => (self.clone(), state.distribution_message()),
            None => Self::new_own(rng),
        }
    }

    /// Installs a sender's distribution message. The same key (id and signing key) seen again
    /// keeps the state we have, so a re-sent distribution message cannot rewind the chain and
    /// let old messages decrypt twice; a new key id becomes the newest state.
    pub fn process_distribution(&self, message: &SenderKeyDistributionMessage) -> Self {
        let mut record = self.clone();
        let existing = record
            .position(message.key_id)
            .map(|i| record.states.remove(i));
        let state = match existing {
            Some(state) if state.signing_public == message.signing_key => state,
            _ => SenderKeyState {
                key_id: message.key_id,
                chain: ChainKey {
                    iteration: message.iteration,
                    seed: message.chain_key,
                },
                signing_public: message.signing_key,
                signing_private: None,
                skipped: Default::default(),
            },
        };
        record.push_front(state);
        record
    }

    /// Encrypts an already padded plaintext with our current sender key.
    pub fn encrypt(
        &self,
        padded_plaintext: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<GroupEncrypted, GroupError> {
        let state = self
            .current()
            .ok_or(GroupError::NoSenderKeyState { key_id: None })?;
        let private = state
            .signing_private
            .as_ref()
            .ok_or(GroupError::NotOwnSenderKey)?;
        let next = state.chain.next().ok_or(GroupError::ChainExhausted)?;
        let iteration = state.chain.iteration;
        let keys = MessageKeys::from_seed(&state.chain.message_seed());
        let ciphertext = aes256_cbc_encrypt(&keys.cipher_key, &keys.iv, padded_plaintext);
        let mut message = encode_message_body(state.key_id, iteration, &ciphertext);
        let signature = xeddsa::sign_with_rng(private, &message, rng);
        message.extend_from_slice(&signature);

        let mut record = self.clone();
        if let Some(own) = record.states.first_mut() {
            own.chain = next;
        }
        Ok(GroupEncrypted {
            record,
            message,
            iteration,
        })
    }

    /// Checks and decrypts a group message (`skmsg`) from this record's sender.
    pub fn decrypt(&self, message: &[u8]) -> Result<GroupDecrypted, GroupError> {
        let parsed = SenderKeyMessage::parse(message)?;
        let index = self
            .position(parsed.key_id)
            .ok_or(GroupError::NoSenderKeyState {
                key_id: Some(parsed.key_id),
            })?;
        let state = &self.states[index];
        xeddsa::verify(&state.signing_public, parsed.signed, parsed.signature)
            .map_err(GroupError::BadSignature)?;
        let step = Step::plan(state, parsed.iteration)?;
        let keys = MessageKeys::from_seed(step.seed());
        let plaintext = aes256_cbc_decrypt(&keys.cipher_key, &keys.iv, parsed.ciphertext)
            .map_err(GroupError::BadCiphertext)?;

        let mut record = self.clone();
        step.apply(&mut record.states[index]);
        Ok(GroupDecrypted {
            record,
            plaintext,
            iteration: parsed.iteration,
        })
    }
}

/// How a state changes to decrypt one iteration, computed before anything is changed.
enum Step {
    /// A key we skipped earlier: use it and forget it.
    Skipped { position: usize, seed: [u8; 32] },
    /// At or ahead of the chain: keep the keys passed over, move the chain past `iteration`.
    Forward {
        passed: Vec<SkippedKey>,
        seed: [u8; 32],
        chain: ChainKey,
    },
}

impl Step {
    fn plan(state: &SenderKeyState, iteration: u32) -> Result<Step, GroupError> {
        let chain_iteration = state.chain.iteration;
        if iteration < chain_iteration {
            return state
                .skipped
                .iter()
                .position(|k| k.iteration == iteration)
                .map(|position| Step::Skipped {
                    position,
                    seed: state.skipped[position].seed,
                })
                .ok_or(GroupError::DuplicateOrOld {
                    iteration,
                    chain_iteration,
                });
        }
        if iteration - chain_iteration > MAX_FORWARD_JUMP {
            return Err(GroupError::TooFarInFuture {
                iteration,
                chain_iteration,
            });
        }
        let mut chain = state.chain.clone();
        let mut passed = Vec::with_capacity((iteration - chain_iteration) as usize);
        while chain.iteration < iteration {
            passed.push(SkippedKey {
                iteration: chain.iteration,
                seed: chain.message_seed(),
            });
            // `chain.iteration < iteration <= u32::MAX`, so there is a next one.
            chain = chain.next().ok_or(GroupError::ChainExhausted)?;
        }
        let seed = chain.message_seed();
        let chain = chain.next().ok_or(GroupError::ChainExhausted)?;
        Ok(Step::Forward {
            passed,
            seed,
            chain,
        })
    }

    fn apply(self, state: &mut SenderKeyState) {
        match self {
            Step::Skipped { position, .. } => {
                state.skipped.remove(position);
            }
            Step::Forward { passed, chain, .. } => {
                for key in passed {
                    state.push_skipped(key);
                }
                state.chain = chain;
            }
        }
    }
}

impl Step {
    fn seed(&self) -> &[u8; 32] {
        match self {
            Step::Skipped { seed, .. } | Step::Forward { seed, .. } => seed,
        }
    }
}
