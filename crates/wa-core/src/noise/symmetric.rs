//! The Noise symmetric state: the running handshake hash `h`, the chaining key `ck` and the
//! current AES-256-GCM key with its nonce counter (protocol.md §2.2).

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};

use super::NoiseError;

/// `Noise_XX_25519_AESGCM_SHA256` padded with NULs to exactly 32 bytes. A name of 32 bytes or
/// less is used verbatim as the initial `h`, so it is not hashed.
pub const PROTOCOL_NAME: &[u8; 32] = b"Noise_XX_25519_AESGCM_SHA256\0\0\0\0";

/// The AES-GCM nonce for counter `n`: 8 zero bytes then `n` as a big-endian u32.
pub(crate) fn nonce(n: u32) -> [u8; 12] {
    let mut iv = [0u8; 12];
    iv[8..].copy_from_slice(&n.to_be_bytes());
    iv
}

/// HKDF-SHA256 with an empty info, expanded to two 32-byte keys.
pub(crate) fn hkdf_pair(salt: &[u8; 32], ikm: &[u8]) -> ([u8; 32], [u8; 32]) {
    let mut okm = [0u8; 64];
    // 64 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
    let expanded = Hkdf::<Sha256>::new(Some(salt), ikm).expand(&[], &mut okm);
    debug_assert!(expanded.is_ok());
    let mut first = [0u8; 32];
    let mut second = [0u8; 32];
    first.copy_from_slice(&okm[..32]);
    second.copy_from_slice(&okm[32..]);
    (first, second)
}

/// A snapshot of the state after one operation, recorded in tests to compare with the vector.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub h: [u8; 32],
    pub ck: [u8; 32],
    pub k: [u8; 32],
}

/// The handshake's symmetric state. One nonce counter serves both directions: the handshake
/// alternates strictly, and every MixKey resets it.
pub(crate) struct SymmetricState {
    h: [u8; 32],
    ck: [u8; 32],
    cipher: Aes256Gcm,
    n: u32,
    #[cfg(test)]
    k: [u8; 32],
    #[cfg(test)]
    pub trace: Vec<Snapshot>,
}

impl SymmetricState {
    /// Initialises from the protocol name and mixes in the prologue (the intro header).
    pub fn new(prologue: &[u8]) -> Self {
        let mut state = Self {
            h: *PROTOCOL_NAME,
            ck: *PROTOCOL_NAME,
            cipher: Aes256Gcm::new(PROTOCOL_NAME.into()),
            n: 0,
            #[cfg(test)]
            k: *PROTOCOL_NAME,
            #[cfg(test)]
            trace: Vec::new(),
        };
        state.mix_hash(prologue);
        state
    }

    /// The handshake hash so far.
    pub fn handshake_hash(&self) -> [u8; 32] {
        self.h
    }

    /// `h = SHA256(h || data)`.
    pub fn mix_hash(&mut self, data: &[u8]) {
        self.h = Sha256::new()
            .chain_update(self.h)
            .chain_update(data)
            .finalize()
            .into();
        self.record();
    }

    /// Derives a new chaining key and cipher key from Diffie-Hellman output and resets the nonce.
    pub fn mix_key(&mut self, input_key_material: &[u8]) {
        let (ck, k) = hkdf_pair(&self.ck, input_key_material);
        self.ck = ck;
        self.cipher = Aes256Gcm::new(&k.into());
        self.n = 0;
        #[cfg(test)]
        {
            self.k = k;
        }
        self.record();
    }

    /// Encrypts with `h` as associated data, then mixes the ciphertext into `h`.
    pub fn encrypt_and_hash(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, NoiseError> {
        let iv = nonce(self.next_nonce()?);
        let ciphertext = self
            .cipher
            .encrypt(
                (&iv).into(),
                Payload {
                    msg: plaintext,
                    aad: &self.h,
                },
            )
            .map_err(|_| NoiseError::Encrypt)?;
        self.mix_hash(&ciphertext);
        Ok(ciphertext)
    }

    /// Decrypts with `h` as associated data, then mixes the *ciphertext* into `h`.
    pub fn decrypt_and_hash(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, NoiseError> {
        let iv = nonce(self.next_nonce()?);
        let plaintext = self
            .cipher
            .decrypt(
                (&iv).into(),
                Payload {
                    msg: ciphertext,
                    aad: &self.h,
                },
            )
            .map_err(|_| NoiseError::HandshakeDecrypt)?;
        self.mix_hash(ciphertext);
        Ok(plaintext)
    }

    /// The two transport keys: the initiator writes with the first and reads with the second.
    pub fn split(&self) -> ([u8; 32], [u8; 32]) {
        hkdf_pair(&self.ck, &[])
    }

    fn next_nonce(&mut self) -> Result<u32, NoiseError> {
        let n = self.n;
        self.n = n.checked_add(1).ok_or(NoiseError::NonceExhausted)?;
        Ok(n)
    }

    #[cfg(test)]
    fn record(&mut self) {
        let snapshot = Snapshot {
            h: self.h,
            ck: self.ck,
            k: self.k,
        };
        self.trace.push(snapshot);
    }

    #[cfg(not(test))]
    fn record(&mut self) {}
}
