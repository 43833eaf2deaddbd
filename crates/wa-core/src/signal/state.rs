//! One session state: the root key, our sending chain, the peer's receiving chains with their
//! skipped message keys, and what a pending prekey message must carry.
//!
//! Limits, as the WhatsApp clients use them (messaging.md §2.2):
//! - [`MAX_FORWARD_JUMP`] = 2,000: a message may be at most 2,000 counters ahead of the next one
//!   its chain expects (whatsmeow's `maxFutureMessages`, WhatsApp Web's
//!   `signalFutureMessagesMax`; libsignal-node refuses "over 2000 messages into the future",
//!   counting from the last key it derived, so it stops one earlier);
//! - [`MAX_SKIPPED_KEYS`] = 2,000 keys of skipped messages kept per chain, oldest dropped first
//!   (whatsmeow's `maxMessageKeys`, libsignal's `MAX_MESSAGE_KEYS`);
//! - [`MAX_RECEIVER_CHAINS`] = 5 receiving chains kept per state, oldest dropped first.

use std::collections::VecDeque;

use rand_core::CryptoRngCore;

use super::chain::{ratchet_root, ChainKey, MessageKeys};
use super::crypto::{aes256_cbc_decrypt, aes256_cbc_encrypt};
use super::error::SignalError;
use super::keys::{KeyPair, PublicKey};
use super::wire::SignalMessage;

/// How far ahead of its chain a message's counter may be.
pub const MAX_FORWARD_JUMP: u32 = 2_000;
/// How many skipped message keys one chain keeps.
pub const MAX_SKIPPED_KEYS: usize = 2_000;
/// How many receiving chains one state keeps.
pub const MAX_RECEIVER_CHAINS: usize = 5;

/// Our current sending chain and the ratchet key pair it belongs to.
#[derive(Clone, Debug)]
pub(crate) struct SenderChain {
    pub(crate) ratchet: KeyPair,
    pub(crate) chain: ChainKey,
}

/// A chain the peer sends on, keyed by their ratchet key.
#[derive(Clone)]
pub(crate) struct ReceiverChain {
    pub(crate) ratchet_key: PublicKey,
    pub(crate) chain: ChainKey,
    /// Message-key seeds of counters we passed without their message, ascending.
    pub(crate) skipped: VecDeque<(u32, [u8; 32])>,
}

/// What every message carries while the peer has not yet answered a session we started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PendingPreKey {
    pub(crate) pre_key_id: Option<u32>,
    pub(crate) signed_pre_key_id: u32,
    pub(crate) base_key: PublicKey,
}

/// One session with one peer device.
#[derive(Clone)]
pub struct SessionState {
    pub(crate) local_identity: PublicKey,
    pub(crate) remote_identity: PublicKey,
    pub(crate) local_registration_id: u32,
    pub(crate) remote_registration_id: u32,
    pub(crate) root_key: [u8; 32],
    /// The initiator's X3DH base key: it names the session in both parties' records.
    pub(crate) base_key: PublicKey,
    pub(crate) sender: SenderChain,
    pub(crate) previous_counter: u32,
    /// Oldest first.
    pub(crate) receivers: Vec<ReceiverChain>,
    pub(crate) pending: Option<PendingPreKey>,
}

impl core::fmt::Debug for SessionState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Keys and counters that identify the session; no root, chain or message key.
        f.debug_struct("SessionState")
            .field("remote_identity", &self.remote_identity)
            .field("remote_registration_id", &self.remote_registration_id)
            .field("base_key", &self.base_key)
            .field("sending_ratchet", &self.sender.ratchet.public)
            .field("sending_index", &self.sender.chain.index)
            .field("receiving_chains", &self.receivers.len())
            .field("pending_prekey", &self.pending)
            .finish_non_exhaustive()
    }
}

impl SessionState {
    /// The peer's identity key.
    pub fn remote_identity(&self) -> PublicKey {
        self.remote_identity
    }

    /// The peer's registration id.
    pub fn remote_registration_id(&self) -> u32 {
        self.remote_registration_id
    }

    /// The X3DH base key that names this session.
    pub fn base_key(&self) -> PublicKey {
        self.base_key
    }

    /// Whether our messages still go out as prekey messages (the peer has not answered yet).
    pub fn has_pending_prekey(&self) -> bool {
        self.pending.is_some()
    }

    /// Encrypts one message on the sending chain and advances it.
    pub(crate) fn encrypt(&mut self, plaintext: &[u8]) -> SignalMessage {
        let chain = &self.sender.chain;
        let keys = MessageKeys::derive(&chain.message_seed());
        let ciphertext = aes256_cbc_encrypt(&keys.cipher_key, &keys.iv, plaintext);
        let message = SignalMessage::new(
            &keys.mac_key,
            &self.local_identity,
            &self.remote_identity,
            self.sender.ratchet.public,
            chain.index,
            self.previous_counter,
            ciphertext,
        );
        self.sender.chain = chain.next();
        message
    }

    /// Decrypts a message in this state, changing it only on success: callers run it on a copy.
    ///
    /// A message on a new ratchet key is authenticated on a receiving chain derived aside; only
    /// then is our next ratchet key drawn. A forged message thus costs one agreement and consumes
    /// no randomness, and the draws happen exactly where libsignal makes them.
    pub(crate) fn decrypt(
        &mut self,
        message: &SignalMessage,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Vec<u8>, SignalError> {
        let plaintext = match self.receiver_index(&message.ratchet_key) {
            Some(index) => {
                let seed = take_message_seed(&mut self.receivers[index], message.counter)?;
                self.open(message, &seed)?
            }
            None => {
                let their_ratchet = message.ratchet_key;
                let (root, chain) = ratchet_root(
                    &self.root_key,
                    &self.sender.ratchet.private.agree(&their_ratchet),
                );
                let mut receiver = ReceiverChain {
                    ratchet_key: their_ratchet,
                    chain,
                    skipped: VecDeque::new(),
                };
                let seed = take_message_seed(&mut receiver, message.counter)?;
                let plaintext = self.open(message, &seed)?;
                self.step_sending(root, their_ratchet, rng);
                self.push_receiver(receiver);
                plaintext
            }
        };
        // The peer has this session now, so plain messages will do from here on.
        self.pending = None;
        Ok(plaintext)
    }

    /// Checks the MAC and decrypts the body with the message key from `seed`.
    fn open(&self, message: &SignalMessage, seed: &[u8; 32]) -> Result<Vec<u8>, SignalError> {
        let keys = MessageKeys::derive(seed);
        if !message.verify_mac(&keys.mac_key, &self.remote_identity, &self.local_identity) {
            return Err(SignalError::BadMac);
        }
        aes256_cbc_decrypt(&keys.cipher_key, &keys.iv, &message.ciphertext)
            .map_err(SignalError::BadCiphertext)
    }

    fn receiver_index(&self, ratchet_key: &PublicKey) -> Option<usize> {
        self.receivers
            .iter()
            .rposition(|r| r.ratchet_key == *ratchet_key)
    }

    /// The second half of a DH ratchet step, once the peer's new chain checked out: a fresh key
    /// pair of ours and the sending chain that starts from it.
    fn step_sending(
        &mut self,
        root: [u8; 32],
        their_ratchet: PublicKey,
        rng: &mut impl CryptoRngCore,
    ) {
        let ours = KeyPair::generate(rng);
        let (root, sending) = ratchet_root(&root, &ours.private.agree(&their_ratchet));
        // The last counter we sent on the chain we leave (0 if none), as libsignal sends it.
        self.previous_counter = self.sender.chain.index.saturating_sub(1);
        self.root_key = root;
        self.sender = SenderChain {
            ratchet: ours,
            chain: sending,
        };
    }

    pub(crate) fn add_receiver(&mut self, ratchet_key: PublicKey, chain: ChainKey) {
        self.push_receiver(ReceiverChain {
            ratchet_key,
            chain,
            skipped: VecDeque::new(),
        });
    }

    fn push_receiver(&mut self, receiver: ReceiverChain) {
        if self.receivers.len() >= MAX_RECEIVER_CHAINS {
            self.receivers.remove(0);
        }
        self.receivers.push(receiver);
    }
}
/// The message-key seed for `counter` on `chain`: a stored skipped one, or one derived by moving
/// the chain forward and storing the seeds passed on the way.
fn take_message_seed(chain: &mut ReceiverChain, counter: u32) -> Result<[u8; 32], SignalError> {
    let next = chain.chain.index;
    if counter < next {
        let found = chain.skipped.binary_search_by_key(&counter, |(i, _)| *i);
        return found
            .ok()
            .and_then(|pos| chain.skipped.remove(pos))
            .map(|(_, seed)| seed)
            .ok_or(SignalError::DuplicateMessage { counter });
    }
    if counter - next > MAX_FORWARD_JUMP {
        return Err(SignalError::TooFarInFuture {
            counter,
            chain_index: next,
        });
    }
    while chain.chain.index < counter {
        if chain.skipped.len() >= MAX_SKIPPED_KEYS {
            chain.skipped.pop_front();
        }
        chain
            .skipped
            .push_back((chain.chain.index, chain.chain.message_seed()));
        chain.chain = chain.chain.next();
    }
    let seed = chain.chain.message_seed();
    chain.chain = chain.chain.next();
    Ok(seed)
}
