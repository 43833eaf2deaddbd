//! The double ratchet's key derivations, libsignal protocol v3 (protocol.md §9.4):
//!
//! - X3DH output → root key and first chain key: HKDF-SHA256, zero salt, info `WhisperText`, 64 B;
//! - each DH ratchet step: HKDF-SHA256, salt = root key, ikm = DH output, info `WhisperRatchet`,
//!   64 B → new root key, new chain key;
//! - along a chain: message-key seed = HMAC(chain key, `01`), next chain key = HMAC(chain key, `02`);
//! - per message: HKDF-SHA256, zero salt, ikm = seed, info `WhisperMessageKeys`, 80 B → cipher
//!   key 32 ‖ MAC key 32 ‖ IV 16.

use super::crypto::{hkdf_sha256, hmac_sha256};

const MESSAGE_KEY_SEED: [u8; 1] = [0x01];
const CHAIN_KEY_SEED: [u8; 1] = [0x02];

/// Splits a 64-byte HKDF output into its two 32-byte halves.
fn halves(okm: [u8; 64]) -> ([u8; 32], [u8; 32]) {
    let mut first = [0u8; 32];
    let mut second = [0u8; 32];
    first.copy_from_slice(&okm[..32]);
    second.copy_from_slice(&okm[32..]);
    (first, second)
}

/// The root key and first chain key from the X3DH secret (`FF×32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4]`).
pub(crate) fn derive_initial(secret: &[u8]) -> ([u8; 32], ChainKey) {
    // A zero salt of hash length is what RFC 5869 uses for "no salt".
    let (root, chain) = halves(hkdf_sha256::<64>(None, secret, b"WhisperText"));
    (root, ChainKey::new(chain, 0))
}

/// One DH ratchet step: the next root key and the chain key that starts from it.
pub(crate) fn ratchet_root(root: &[u8; 32], dh_output: &[u8; 32]) -> ([u8; 32], ChainKey) {
    let (root, chain) = halves(hkdf_sha256::<64>(Some(root), dh_output, b"WhisperRatchet"));
    (root, ChainKey::new(chain, 0))
}

/// A chain key with the counter of the next message it will produce.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ChainKey {
    pub(crate) key: [u8; 32],
    pub(crate) index: u32,
}

impl core::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The key itself must never reach a log line.
        f.debug_struct("ChainKey")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl ChainKey {
    pub(crate) const fn new(key: [u8; 32], index: u32) -> Self {
        Self { key, index }
    }

    /// The seed of the message key for counter `self.index`.
    pub(crate) fn message_seed(&self) -> [u8; 32] {
        hmac_sha256(&self.key, &[&MESSAGE_KEY_SEED])
    }

    /// The chain key for the next counter. At u32::MAX the counter stays put: four billion
    /// messages on one chain cannot happen, and the receiver would refuse the repeat as a
    /// duplicate rather than accept a reused key silently.
    pub(crate) fn next(&self) -> Self {
        Self {
            key: hmac_sha256(&self.key, &[&CHAIN_KEY_SEED]),
            index: self.index.saturating_add(1),
        }
    }
}

/// The keys of one message.
pub(crate) struct MessageKeys {
    pub(crate) cipher_key: [u8; 32],
    pub(crate) mac_key: [u8; 32],
    pub(crate) iv: [u8; 16],
}

impl MessageKeys {
    pub(crate) fn derive(seed: &[u8; 32]) -> Self {
        let okm = hkdf_sha256::<80>(None, seed, b"WhisperMessageKeys");
        let mut keys = Self {
            cipher_key: [0; 32],
            mac_key: [0; 32],
            iv: [0; 16],
        };
        keys.cipher_key.copy_from_slice(&okm[..32]);
        keys.mac_key.copy_from_slice(&okm[32..64]);
        keys.iv.copy_from_slice(&okm[64..]);
        keys
    }
}
