//! XEdDSA signatures over Curve25519 keys, in libsignal's variant.
//!
//! Signal's XEdDSA paper forces the Edwards sign bit to 0; libsignal instead stores the sign bit
//! of the signer's Edwards public key in the top bit of the signature (which a canonical `s`
//! never uses). WhatsApp uses this variant for signed prekeys, device identities and the server
//! certificate chain, so this is the one implemented here (protocol.md §9.6).

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use super::keys::{PrivateKey, PublicKey};

/// Size of an XEdDSA signature: `R || s` with the sign bit folded into the last byte.
pub const SIGNATURE_LEN: usize = 64;

/// Why a signature was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature is not 64 bytes.
    #[error("signature must be 64 bytes, got {0}")]
    WrongLength(usize),
    /// The public key is not a valid curve point for the sign bit carried in the signature.
    #[error("public key does not map to an Edwards point")]
    InvalidPublicKey,
    /// `s` has bits set above 2^253, so it is not a reduced scalar; accepting it would make
    /// signatures malleable.
    #[error("signature scalar is not canonical")]
    NonCanonicalScalar,
    /// The signature does not match the key and message.
    #[error("signature does not verify")]
    Mismatch,
}

/// The 32-byte prefix that separates the nonce hash from an ordinary SHA-512 of the message
/// (hash_1 of the XEdDSA paper: 2^256 - 2 in little-endian).
const NONCE_HASH_PREFIX: [u8; 32] = {
    let mut prefix = [0xff; 32];
    prefix[0] = 0xfe;
    prefix
};

/// Signs `message` with a Curve25519 private key. `random` must be 64 fresh random bytes from a
/// cryptographic RNG; it makes the nonce unpredictable even to someone who knows the key's past
/// signatures.
pub fn sign(key: &PrivateKey, message: &[u8], random: &[u8; 64]) -> [u8; SIGNATURE_LEN] {
    sign_parts(key, &[message], random)
}

/// Like [`sign`], drawing the 64 random bytes from `rng`.
pub fn sign_with_rng(
    key: &PrivateKey,
    message: &[u8],
    rng: &mut impl CryptoRngCore,
) -> [u8; SIGNATURE_LEN] {
    let mut random = [0u8; 64];
    rng.fill_bytes(&mut random);
    sign_parts(key, &[message], &random)
}

/// Signs the concatenation of `parts` without building it (the protocol signs prefix || body ||
/// key concatenations).
pub fn sign_parts(key: &PrivateKey, parts: &[&[u8]], random: &[u8; 64]) -> [u8; SIGNATURE_LEN] {
    let key_bytes = key.to_bytes();
    let a = Scalar::from_bytes_mod_order(key_bytes);
    let cap_a = EdwardsPoint::mul_base(&a).compress();
    let sign_bit = cap_a.as_bytes()[31] & 0x80;

    let mut nonce_hash = Sha512::new();
    nonce_hash.update(NONCE_HASH_PREFIX);
    nonce_hash.update(key_bytes);
    for part in parts {
        nonce_hash.update(part);
    }
    nonce_hash.update(random);
    let r = Scalar::from_bytes_mod_order_wide(&nonce_hash.finalize().into());
    let cap_r = EdwardsPoint::mul_base(&r).compress();

    let h = challenge(cap_r.as_bytes(), cap_a.as_bytes(), parts);
    let s = r + h * a;

    let mut signature = [0u8; SIGNATURE_LEN];
    signature[..32].copy_from_slice(cap_r.as_bytes());
    signature[32..].copy_from_slice(s.as_bytes());
    signature[63] = (signature[63] & 0x7f) | sign_bit;
    signature
}

/// Verifies an XEdDSA signature made by the owner of the Curve25519 public key `key`.
pub fn verify(key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
    verify_parts(key, &[message], signature)
}

/// Verifies a signature over the concatenation of `parts`.
pub fn verify_parts(
    key: &PublicKey,
    parts: &[&[u8]],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let signature: &[u8; SIGNATURE_LEN] = signature
        .try_into()
        .map_err(|_| SignatureError::WrongLength(signature.len()))?;
    let sign_bit = signature[63] >> 7;
    let ed_key = MontgomeryPoint(*key.as_bytes())
        .to_edwards(sign_bit)
        .ok_or(SignatureError::InvalidPublicKey)?;

    let mut cap_r = [0u8; 32];
    cap_r.copy_from_slice(&signature[..32]);
    let mut s = [0u8; 32];
    s.copy_from_slice(&signature[32..]);
    s[31] &= 0x7f;
    if s[31] & 0xe0 != 0 {
        return Err(SignatureError::NonCanonicalScalar);
    }

    let h = challenge(&cap_r, ed_key.compress().as_bytes(), parts);
    // R' = s·B − h·A; the signature holds iff R' encodes to the R that was sent.
    let check = EdwardsPoint::vartime_double_scalar_mul_basepoint(
        &h,
        &-ed_key,
        &Scalar::from_bytes_mod_order(s),
    )
    .compress();
    if bool::from(check.as_bytes().ct_eq(&cap_r)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// h = SHA-512(R || A || M) mod ℓ.
fn challenge(cap_r: &[u8; 32], cap_a: &[u8; 32], parts: &[&[u8]]) -> Scalar {
    let mut hash = Sha512::new();
    hash.update(cap_r);
    hash.update(cap_a);
    for part in parts {
        hash.update(part);
    }
    Scalar::from_bytes_mod_order_wide(&hash.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::keys::KeyPair;
    use rand::{RngCore, SeedableRng};

    /// libsignal `rust/core/src/curve/curve25519.rs`, `test_signature`.
    const LS_PRIVATE: &str = "c097248412e58bf05df487968205132794178e367637f5818f81e0e6ce73e865";
    const LS_PUBLIC: &str = "ab7e717d4a163b7d9a1d8071dfe9dcf8cdcd1cea3339b6356be84d887e322c64";
    const LS_MESSAGE: &str = "05edce9d9c415ca78cb7252e72c2c4a554d3eb29485a0e1d503118d1a82d99fb4a";
    const LS_SIGNATURE: &str = "5de88ca9a89b4a115da79109c67c9c7464a3e4180274f1cb8c63c2984e286dfbede82deb9dcd9fae0bfbb821569b3d9001bd8130cd11d486cef047bd60b86e88";

    fn ls_public() -> PublicKey {
        PublicKey::from_slice(&hex::decode(LS_PUBLIC).unwrap()).unwrap()
    }

    #[test]
    fn libsignal_signature_vector_verifies() {
        let private: [u8; 32] = hex::decode(LS_PRIVATE).unwrap().try_into().unwrap();
        assert_eq!(KeyPair::from_private_bytes(private).public, ls_public());
        let message = hex::decode(LS_MESSAGE).unwrap();
        let signature = hex::decode(LS_SIGNATURE).unwrap();
        assert_eq!(verify(&ls_public(), &message, &signature), Ok(()));
    }

    #[test]
    fn libsignal_signature_vector_rejects_every_bit_flip() {
        let message = hex::decode(LS_MESSAGE).unwrap();
        let signature = hex::decode(LS_SIGNATURE).unwrap();
        for i in 0..SIGNATURE_LEN {
            let mut tampered = signature.clone();
            tampered[i] ^= 0x01;
            assert!(
                verify(&ls_public(), &message, &tampered).is_err(),
                "flip in byte {i} accepted"
            );
        }
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..32 {
            let pair = KeyPair::generate(&mut rng);
            let mut message = vec![0u8; (rng.next_u32() % 200) as usize];
            rng.fill_bytes(&mut message);
            let signature = sign_with_rng(&pair.private, &message, &mut rng);
            assert_eq!(verify(&pair.public, &message, &signature), Ok(()));
            message.push(0);
            assert_eq!(
                verify(&pair.public, &message, &signature),
                Err(SignatureError::Mismatch)
            );
        }
    }

    #[test]
    fn parts_sign_the_concatenation() {
        let pair = KeyPair::from_private_bytes([3; 32]);
        let random = [9u8; 64];
        let joined = sign(&pair.private, b"\x06\x01details-key", &random);
        let parts = sign_parts(&pair.private, &[b"\x06\x01", b"details", b"-key"], &random);
        assert_eq!(joined, parts);
        assert_eq!(
            verify_parts(&pair.public, &[b"\x06\x01details", b"-key"], &joined),
            Ok(())
        );
    }

    #[test]
    fn the_random_bytes_change_the_signature_not_its_validity() {
        let pair = KeyPair::from_private_bytes([4; 32]);
        let one = sign(&pair.private, b"m", &[1; 64]);
        let two = sign(&pair.private, b"m", &[2; 64]);
        assert_ne!(one, two);
        assert_eq!(verify(&pair.public, b"m", &one), Ok(()));
        assert_eq!(verify(&pair.public, b"m", &two), Ok(()));
    }

    #[test]
    fn non_canonical_s_is_rejected() {
        // s + 4ℓ is the same scalar mod ℓ but sets bit 254: only the explicit high-bit check
        // can reject it, the group equation alone would accept it.
        const ELL: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let pair = KeyPair::from_private_bytes([5; 32]);
        let signature = sign(&pair.private, b"msg", &[6; 64]);
        let sign_bit = signature[63] & 0x80;
        let mut s = [0u8; 32];
        s.copy_from_slice(&signature[32..]);
        s[31] &= 0x7f;
        let mut carry = 0u16;
        for (i, byte) in s.iter_mut().enumerate() {
            let sum = u16::from(*byte) + 4 * u16::from(ELL[i]) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
        assert_ne!(s[31] & 0x60, 0);
        let mut forged = signature;
        forged[32..].copy_from_slice(&s);
        forged[63] |= sign_bit;
        assert_eq!(
            verify(&pair.public, b"msg", &forged),
            Err(SignatureError::NonCanonicalScalar)
        );
    }

    #[test]
    fn wrong_length_is_rejected() {
        let pair = KeyPair::from_private_bytes([5; 32]);
        let signature = sign(&pair.private, b"msg", &[6; 64]);
        assert_eq!(
            verify(&pair.public, b"msg", &signature[..63]),
            Err(SignatureError::WrongLength(63))
        );
    }
}
