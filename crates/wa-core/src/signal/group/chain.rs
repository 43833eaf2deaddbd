//! The sender-key chain: one HMAC-SHA256 step per message, as libsignal's `SenderChainKey`.
//!
//! * message-key seed at iteration `i` = `HMAC-SHA256(chain_i, 01)`;
//! * `chain_{i+1}` = `HMAC-SHA256(chain_i, 02)`;
//! * `iv(16) || cipher key(32)` = `HKDF-SHA256(salt = 32 zero bytes, seed, "WhisperGroup")`.

use crate::signal::crypto::{hkdf_sha256, hmac_sha256};

const MESSAGE_KEY_SEED: [u8; 1] = [0x01];
const CHAIN_KEY_SEED: [u8; 1] = [0x02];
const GROUP_INFO: &[u8] = b"WhisperGroup";

/// A chain key at an iteration.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ChainKey {
    pub(crate) iteration: u32,
    pub(crate) seed: [u8; 32],
}

impl ChainKey {
    /// The seed of this iteration's message key (what a skipped key is stored as).
    pub(crate) fn message_seed(&self) -> [u8; 32] {
        hmac_sha256(&self.seed, &[&MESSAGE_KEY_SEED])
    }

    /// The chain at the next iteration; `None` past `u32::MAX`, where the iteration field of
    /// the wire message could not name it.
    pub(crate) fn next(&self) -> Option<ChainKey> {
        Some(ChainKey {
            iteration: self.iteration.checked_add(1)?,
            seed: hmac_sha256(&self.seed, &[&CHAIN_KEY_SEED]),
        })
    }
}

/// The AES key and IV of one group message.
pub(crate) struct MessageKeys {
    pub(crate) iv: [u8; 16],
    pub(crate) cipher_key: [u8; 32],
}

impl MessageKeys {
    pub(crate) fn from_seed(seed: &[u8; 32]) -> Self {
        // A `None` salt is RFC 5869's zero salt of hash length, what libsignal passes explicitly.
        let okm: [u8; 48] = hkdf_sha256(None, seed, GROUP_INFO);
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&okm[..16]);
        let mut cipher_key = [0u8; 32];
        cipher_key.copy_from_slice(&okm[16..]);
        Self { iv, cipher_key }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_distinct_and_deterministic() {
        let c0 = ChainKey {
            iteration: 0,
            seed: [3; 32],
        };
        let c1 = c0.next().unwrap();
        assert_eq!(c1.iteration, 1);
        assert_ne!(c1.seed, c0.seed);
        assert_ne!(c0.message_seed(), c1.seed);
        assert_eq!(c0.next().unwrap().seed, c1.seed);
        let k = MessageKeys::from_seed(&c0.message_seed());
        assert_ne!(k.iv[..], k.cipher_key[..16]);
        let last = ChainKey {
            iteration: u32::MAX,
            seed: [0; 32],
        };
        assert!(last.next().is_none());
    }
}
