//! The three primitives every Signal cipher in this module is built from, in one place so the
//! pairwise ratchet and the group (sender-key) cipher cannot drift apart: AES-256-CBC with
//! PKCS#7 padding, HMAC-SHA256, and HKDF-SHA256.
//!
//! libsignal encrypts message bodies with AES-256-CBC (not an AEAD) and authenticates them
//! separately: with a truncated HMAC for pairwise messages, with an XEdDSA signature for group
//! messages. So a decrypt here only checks the padding; callers authenticate first.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// The ciphertext's padding did not check out: wrong key or IV, or the bytes were altered
/// (only possible when the caller skipped authentication).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("AES-CBC: the decrypted padding is invalid")]
pub struct BadPadding;

/// AES-256-CBC with PKCS#7 padding; the output is 1–16 bytes longer than `plaintext`.
pub fn aes256_cbc_encrypt(key: &[u8; 32], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    Aes256CbcEnc::new(key.into(), iv.into()).encrypt_padded_vec_mut::<Pkcs7>(plaintext)
}

/// The inverse of [`aes256_cbc_encrypt`]; fails on a length that is not a multiple of 16 or on
/// bad padding, never panics.
pub fn aes256_cbc_decrypt(
    key: &[u8; 32],
    iv: &[u8; 16],
    ciphertext: &[u8],
) -> Result<Vec<u8>, BadPadding> {
    Aes256CbcDec::new(key.into(), iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        .map_err(|_| BadPadding)
}

/// HMAC-SHA256 over the concatenation of `parts` (so callers need not copy to one buffer).
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HKDF-SHA256 with an optional salt (`None` is RFC 5869's zero salt), expanded to `N` bytes.
/// `N` is at most 255 × 32 for SHA-256; every caller here asks for 32–96 bytes.
pub fn hkdf_sha256<const N: usize>(salt: Option<&[u8]>, ikm: &[u8], info: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, &mut out)
        .unwrap_or_else(|_| unreachable!("HKDF-SHA256 output of {N} bytes is within 255 blocks"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbc_round_trips_and_pads_to_the_next_block() {
        let key = [7u8; 32];
        let iv = [9u8; 16];
        for len in [0usize, 1, 15, 16, 17, 100] {
            let plain: Vec<u8> = (0..len as u8).collect();
            let ct = aes256_cbc_encrypt(&key, &iv, &plain);
            assert_eq!(ct.len(), (len / 16 + 1) * 16);
            assert_eq!(aes256_cbc_decrypt(&key, &iv, &ct), Ok(plain));
        }
    }

    #[test]
    fn cbc_refuses_bad_lengths_and_wrong_keys() {
        let ct = aes256_cbc_encrypt(&[1; 32], &[2; 16], b"hello");
        assert_eq!(
            aes256_cbc_decrypt(&[1; 32], &[2; 16], &ct[..15]),
            Err(BadPadding)
        );
        assert_eq!(aes256_cbc_decrypt(&[1; 32], &[2; 16], &[]), Err(BadPadding));
        // A wrong key yields garbage whose padding almost never checks out; this one does not.
        assert!(aes256_cbc_decrypt(&[3; 32], &[2; 16], &ct).is_err());
    }

    #[test]
    fn rfc4231_case_2_and_rfc5869_case_3() {
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 5869 test case 3: no salt, no info.
        let okm: [u8; 42] = hkdf_sha256(None, &[0x0b; 22], &[]);
        assert_eq!(
            hex::encode(okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
        );
    }
}
