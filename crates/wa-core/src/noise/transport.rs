//! The transport phase after the handshake: AES-256-GCM with an empty AAD and a separate u32
//! nonce counter per direction (protocol.md §2.4). No rekeying ever happens.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit};

use super::symmetric::nonce;
use super::NoiseError;

/// Bytes AES-GCM appends to every frame.
pub const TAG_LEN: usize = 16;

/// Encrypts outgoing frame payloads.
pub struct WriteCipher {
    cipher: Aes256Gcm,
    counter: u32,
}

/// Decrypts incoming frame payloads.
pub struct ReadCipher {
    cipher: Aes256Gcm,
    counter: u32,
}

/// Both directions of an established Noise session. Split it with [`TransportCipher::split`] to
/// give the reader and the writer their own half.
pub struct TransportCipher {
    /// Our sending direction.
    pub writer: WriteCipher,
    /// Our receiving direction.
    pub reader: ReadCipher,
    handshake_hash: [u8; 32],
}

impl TransportCipher {
    /// A session from the two keys Split produced, already ordered for this side, and the
    /// final handshake hash.
    pub fn new(write_key: &[u8; 32], read_key: &[u8; 32], handshake_hash: [u8; 32]) -> Self {
        Self {
            writer: WriteCipher::new(write_key),
            reader: ReadCipher::new(read_key),
            handshake_hash,
        }
    }

    /// The final handshake hash `h`, identical on both sides of a completed handshake.
    pub fn handshake_hash(&self) -> [u8; 32] {
        self.handshake_hash
    }

    /// Encrypts one frame payload.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, NoiseError> {
        self.writer.encrypt(plaintext)
    }

    /// Decrypts one frame payload.
    pub fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, NoiseError> {
        self.reader.decrypt(ciphertext)
    }

    /// Separates the two directions.
    pub fn split(self) -> (WriteCipher, ReadCipher) {
        (self.writer, self.reader)
    }
}

impl WriteCipher {
    fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
            counter: 0,
        }
    }

    /// How many frames have been encrypted.
    pub fn counter(&self) -> u32 {
        self.counter
    }

    /// Encrypts one frame payload into a new buffer (ciphertext || tag).
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, NoiseError> {
        let mut buffer = Vec::with_capacity(plaintext.len() + TAG_LEN);
        buffer.extend_from_slice(plaintext);
        self.encrypt_in_place(&mut buffer)?;
        Ok(buffer)
    }

    /// Encrypts the payload in `buffer` in place and appends the tag, so a caller can reserve
    /// room for the frame header in front and send without another copy.
    pub fn encrypt_in_place(&mut self, buffer: &mut Vec<u8>) -> Result<(), NoiseError> {
        let iv = nonce(self.counter);
        let next = self
            .counter
            .checked_add(1)
            .ok_or(NoiseError::NonceExhausted)?;
        self.cipher
            .encrypt_in_place((&iv).into(), &[], buffer)
            .map_err(|_| NoiseError::Encrypt)?;
        self.counter = next;
        Ok(())
    }
}

impl ReadCipher {
    fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
            counter: 0,
        }
    }

    /// How many frames have been decrypted (including ones that failed).
    pub fn counter(&self) -> u32 {
        self.counter
    }

    /// Decrypts one frame payload (ciphertext || tag).
    pub fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, NoiseError> {
        let mut buffer = ciphertext.to_vec();
        self.decrypt_in_place(&mut buffer)?;
        Ok(buffer)
    }

    /// Decrypts in place, leaving the plaintext in `buffer`. The counter advances even on
    /// failure, as the sender's did; the stream cannot recover either way, so a failure should
    /// end the connection.
    pub fn decrypt_in_place(&mut self, buffer: &mut Vec<u8>) -> Result<(), NoiseError> {
        let iv = nonce(self.counter);
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or(NoiseError::NonceExhausted)?;
        self.cipher
            .decrypt_in_place((&iv).into(), &[], buffer)
            .map_err(|_| NoiseError::TransportDecrypt)
    }
}
