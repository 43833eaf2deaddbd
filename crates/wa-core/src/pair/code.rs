//! Linking by phone number ("pairing code") instead of scanning a QR code.
//!
//! The companion shows an 8-character code; the user types it on the phone. Both sides wrap their
//! ephemeral X25519 public key with a key stretched from that code (PBKDF2-SHA256, AES-256-CTR),
//! so only someone who knows the code can complete the exchange. The companion then sends a key
//! bundle sealed under the ephemeral shared secret (HKDF-SHA256, AES-256-GCM), and both sides
//! derive the new ADV secret that keys the HMAC of the following `pair-success`.

use aes::cipher::{KeyIvInit, StreamCipher};
use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use hkdf::Hkdf;
use rand_core::{CryptoRng, RngCore};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::signal::PrivateKey;

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

/// The 32 characters of the linking code: Crockford-style, without `0`, `I`, `O`, `U`.
pub const LINKING_CODE_ALPHABET: &[u8; 32] = b"123456789ABCDEFGHJKLMNPQRSTVWXYZ";

/// PBKDF2 iterations the protocol uses to stretch the linking code.
pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 131_072;

/// Length of a wrapped ephemeral key: salt(32) || iv(16) || encrypted key(32).
pub const WRAPPED_EPHEMERAL_LEN: usize = 80;

/// Length of the plaintext key bundle: companion identity, primary identity, ADV randomness.
pub const KEY_BUNDLE_PLAINTEXT_LEN: usize = 96;

/// Length of a wrapped key bundle: salt(32) || nonce(12) || ciphertext(96) || tag(16).
pub const WRAPPED_KEY_BUNDLE_LEN: usize = 32 + 12 + KEY_BUNDLE_PLAINTEXT_LEN + 16;

const KEY_BUNDLE_INFO: &[u8] = b"link_code_pairing_key_bundle_encryption_key";
const ADV_SECRET_INFO: &[u8] = b"adv_secret";

/// Why a pairing-code step failed.
#[derive(Debug, thiserror::Error)]
pub enum PairCodeError {
    /// A linking code is not 8 characters of [`LINKING_CODE_ALPHABET`].
    #[error("linking code must be 8 characters of the linking alphabet (XXXX-XXXX)")]
    BadLinkingCode,
    /// A wrapped ephemeral key is not 80 bytes.
    #[error("wrapped ephemeral key is {0} bytes, expected {WRAPPED_EPHEMERAL_LEN}")]
    WrappedEphemeralLength(usize),
    /// A wrapped key bundle is not the expected length.
    #[error("wrapped key bundle is {0} bytes, expected {WRAPPED_KEY_BUNDLE_LEN}")]
    WrappedKeyBundleLength(usize),
    /// An identity public key is not 32 bytes.
    #[error("identity public key is {0} bytes, expected 32")]
    IdentityKeyLength(usize),
    /// The key bundle does not authenticate: wrong code, wrong keys, or tampering.
    #[error("key bundle failed to decrypt")]
    KeyBundleDecrypt,
    /// The key bundle names a primary identity other than ours.
    #[error("key bundle names a different primary identity key")]
    PrimaryIdentityMismatch,
    /// The key bundle names a companion identity other than the one sent beside it.
    #[error("key bundle names a different companion identity key")]
    CompanionIdentityMismatch,
    /// A Diffie-Hellman result was all zeros: the peer sent a low-order point.
    #[error("peer key is a low-order point")]
    NonContributory,
}

/// A phone number as the pairing-code flow needs it: E.164 digits without `+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneNumberError {
    /// Something other than an ASCII digit, including a leading `+` or spaces.
    #[error("phone number must be digits only, country code first, without '+' or spaces")]
    NotDigits,
    /// Fewer than 7 or more than 15 digits.
    #[error("phone number has {0} digits, expected 7 to 15")]
    Length(usize),
    /// Starts with `0`, which no country code does.
    #[error("phone number must start with the country code, not 0")]
    LeadingZero,
}

impl PhoneNumber {
    /// Validates `s` as international digits, e.g. `15551234567`.
    pub fn parse(s: &str) -> Result<Self, PhoneNumberError> {
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneNumberError::NotDigits);
        }
        if !(7..=15).contains(&s.len()) {
            return Err(PhoneNumberError::Length(s.len()));
        }
        if s.starts_with('0') {
            return Err(PhoneNumberError::LeadingZero);
        }
        Ok(Self(s.to_owned()))
    }

    /// The digits, which are the user part of the account's JID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The 8-character code the user types on the phone.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkingCode([u8; 8]);

impl std::fmt::Debug for LinkingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code protects the pairing for its lifetime; keep it out of logs.
        f.write_str("LinkingCode(****-****)")
    }
}

impl LinkingCode {
    /// The code for five random bytes: their 40 bits as 8 base-32 digits, most significant first.
    pub fn from_random_bytes(bytes: [u8; 5]) -> Self {
        let mut bits = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let mut code = [0u8; 8];
        for slot in code.iter_mut().rev() {
            *slot = LINKING_CODE_ALPHABET[(bits & 0x1f) as usize];
            bits >>= 5;
        }
        Self(code)
    }

    /// A fresh random code.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut bytes = [0u8; 5];
        rng.fill_bytes(&mut bytes);
        Self::from_random_bytes(bytes)
    }

    /// Parses a code as typed: 8 characters, optionally `XXXX-XXXX`, case-insensitive.
    pub fn parse(s: &str) -> Result<Self, PairCodeError> {
        let compact: Vec<u8> = s
            .bytes()
            .enumerate()
            .filter(|&(i, b)| !(i == 4 && b == b'-' && s.len() == 9))
            .map(|(_, b)| b.to_ascii_uppercase())
            .collect();
        let code: [u8; 8] = compact
            .as_slice()
            .try_into()
            .map_err(|_| PairCodeError::BadLinkingCode)?;
        if code.iter().all(|b| LINKING_CODE_ALPHABET.contains(b)) {
            Ok(Self(code))
        } else {
            Err(PairCodeError::BadLinkingCode)
        }
    }

    /// The 8 characters without a dash; this is what the key is stretched from.
    pub fn as_str(&self) -> &str {
        // Every byte comes from the ASCII alphabet, checked on construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The code as shown to the user: `XXXX-XXXX`.
    pub fn display(&self) -> String {
        let s = self.as_str();
        format!("{}-{}", &s[..4], &s[4..])
    }

    fn stretch(&self, salt: &[u8], iterations: u32) -> [u8; 32] {
        pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(&self.0, salt, iterations)
    }
}

/// Wraps an ephemeral public key under the linking code:
/// `salt || iv || AES-256-CTR(PBKDF2-SHA256(code, salt, iterations), iv, pub)`.
pub fn wrap_ephemeral_pub(
    code: &LinkingCode,
    ephemeral_pub: &[u8; 32],
    salt: &[u8; 32],
    iv: &[u8; 16],
    iterations: u32,
) -> [u8; WRAPPED_EPHEMERAL_LEN] {
    let key = code.stretch(salt, iterations);
    let mut out = [0u8; WRAPPED_EPHEMERAL_LEN];
    out[..32].copy_from_slice(salt);
    out[32..48].copy_from_slice(iv);
    out[48..].copy_from_slice(ephemeral_pub);
    Aes256Ctr::new(&key.into(), &(*iv).into()).apply_keystream(&mut out[48..]);
    out
}

/// Undoes [`wrap_ephemeral_pub`]. CTR has no integrity: a wrong code yields a wrong key, which
/// the later key bundle check catches.
pub fn unwrap_ephemeral_pub(
    code: &LinkingCode,
    wrapped: &[u8],
    iterations: u32,
) -> Result<[u8; 32], PairCodeError> {
    let wrapped: &[u8; WRAPPED_EPHEMERAL_LEN] = wrapped
        .try_into()
        .map_err(|_| PairCodeError::WrappedEphemeralLength(wrapped.len()))?;
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&wrapped[32..48]);
    let mut plain = [0u8; 32];
    plain.copy_from_slice(&wrapped[48..]);
    let key = code.stretch(&wrapped[..32], iterations);
    Aes256Ctr::new(&key.into(), &iv.into()).apply_keystream(&mut plain);
    Ok(plain)
}

/// What the companion seals for the phone in `companion_finish`.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBundle {
    /// The companion's identity public key.
    pub companion_identity_pub: [u8; 32],
    /// The phone's identity public key, as the companion received it.
    pub primary_identity_pub: [u8; 32],
    /// The companion's random contribution to the ADV secret.
    pub adv_random: [u8; 32],
}

impl std::fmt::Debug for KeyBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyBundle").finish_non_exhaustive()
    }
}

fn key_bundle_cipher(ephemeral_shared: &[u8; 32], salt: &[u8]) -> Aes256Gcm {
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte output limit, so expand cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(salt), ephemeral_shared).expand(KEY_BUNDLE_INFO, &mut key);
    Aes256Gcm::new(&key.into())
}

/// Seals a key bundle: `salt || nonce || AES-256-GCM(HKDF(es, salt, info), nonce, bundle)`.
pub fn seal_key_bundle(
    ephemeral_shared: &[u8; 32],
    salt: &[u8; 32],
    nonce: &[u8; 12],
    bundle: &KeyBundle,
) -> Vec<u8> {
    let mut plain = [0u8; KEY_BUNDLE_PLAINTEXT_LEN];
    plain[..32].copy_from_slice(&bundle.companion_identity_pub);
    plain[32..64].copy_from_slice(&bundle.primary_identity_pub);
    plain[64..].copy_from_slice(&bundle.adv_random);
    let mut out = Vec::with_capacity(WRAPPED_KEY_BUNDLE_LEN);
    out.extend_from_slice(salt);
    out.extend_from_slice(nonce);
    // AES-GCM only fails for plaintexts beyond 64 GiB.
    let sealed = key_bundle_cipher(ephemeral_shared, salt)
        .encrypt(Nonce::from_slice(nonce), plain.as_slice())
        .unwrap_or_default();
    out.extend_from_slice(&sealed);
    out
}

/// Opens a key bundle sealed by [`seal_key_bundle`].
pub fn open_key_bundle(
    ephemeral_shared: &[u8; 32],
    wrapped: &[u8],
) -> Result<KeyBundle, PairCodeError> {
    if wrapped.len() != WRAPPED_KEY_BUNDLE_LEN {
        return Err(PairCodeError::WrappedKeyBundleLength(wrapped.len()));
    }
    let (salt, rest) = wrapped.split_at(32);
    let (nonce, sealed) = rest.split_at(12);
    let plain = key_bundle_cipher(ephemeral_shared, salt)
        .decrypt(Nonce::from_slice(nonce), sealed)
        .map_err(|_| PairCodeError::KeyBundleDecrypt)?;
    let take = |range: std::ops::Range<usize>| -> Result<[u8; 32], PairCodeError> {
        plain
            .get(range)
            .and_then(|s| s.try_into().ok())
            .ok_or(PairCodeError::KeyBundleDecrypt)
    };
    Ok(KeyBundle {
        companion_identity_pub: take(0..32)?,
        primary_identity_pub: take(32..64)?,
        adv_random: take(64..96)?,
    })
}

/// The ADV secret both sides derive: `HKDF-SHA256(es || identity_shared || adv_random, no salt,
/// "adv_secret")`.
pub fn derive_adv_secret(
    ephemeral_shared: &[u8; 32],
    identity_shared: &[u8; 32],
    adv_random: &[u8; 32],
) -> [u8; 32] {
    let mut ikm = [0u8; 96];
    ikm[..32].copy_from_slice(ephemeral_shared);
    ikm[32..64].copy_from_slice(identity_shared);
    ikm[64..].copy_from_slice(adv_random);
    let mut out = [0u8; 32];
    let _ = Hkdf::<Sha256>::new(None, &ikm).expand(ADV_SECRET_INFO, &mut out);
    out
}

fn agree(secret: &StaticSecret, peer: &[u8; 32]) -> Result<[u8; 32], PairCodeError> {
    let shared = secret.diffie_hellman(&PublicKey::from(*peer));
    if shared.was_contributory() {
        Ok(shared.to_bytes())
    } else {
        Err(PairCodeError::NonContributory)
    }
}

fn to_key(bytes: &[u8]) -> Result<[u8; 32], PairCodeError> {
    bytes
        .try_into()
        .map_err(|_| PairCodeError::IdentityKeyLength(bytes.len()))
}

fn random<const N: usize>(rng: &mut (impl RngCore + CryptoRng)) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill_bytes(&mut out);
    out
}

/// The companion's state between `companion_hello` and the phone's answer.
pub struct CompanionLinking {
    ephemeral: StaticSecret,
    code: LinkingCode,
    iterations: u32,
}

/// What the companion sends in `companion_finish`, and the secret it keeps.
pub struct CompanionFinish {
    /// `link_code_pairing_wrapped_key_bundle`.
    pub wrapped_key_bundle: Vec<u8>,
    /// The new ADV secret; replaces the one from the QR code.
    pub adv_secret: [u8; 32],
}

impl CompanionLinking {
    /// Starts linking: a fresh ephemeral key and code. Returns the state and
    /// `link_code_pairing_wrapped_companion_ephemeral_pub`.
    pub fn start(
        rng: &mut (impl RngCore + CryptoRng),
        iterations: u32,
    ) -> (Self, [u8; WRAPPED_EPHEMERAL_LEN]) {
        let ephemeral = StaticSecret::random_from_rng(&mut *rng);
        let code = LinkingCode::generate(rng);
        let wrapped = wrap_ephemeral_pub(
            &code,
            PublicKey::from(&ephemeral).as_bytes(),
            &random(rng),
            &random(rng),
            iterations,
        );
        (
            Self {
                ephemeral,
                code,
                iterations,
            },
            wrapped,
        )
    }

    /// The code to show to the user.
    pub fn code(&self) -> &LinkingCode {
        &self.code
    }

    /// Answers the phone's `link_code_companion_reg` notification.
    pub fn finish(
        &self,
        rng: &mut (impl RngCore + CryptoRng),
        identity: &PrivateKey,
        wrapped_primary_ephemeral_pub: &[u8],
        primary_identity_pub: &[u8],
    ) -> Result<CompanionFinish, PairCodeError> {
        let primary_identity_pub = to_key(primary_identity_pub)?;
        let primary_ephemeral =
            unwrap_ephemeral_pub(&self.code, wrapped_primary_ephemeral_pub, self.iterations)?;
        let ephemeral_shared = agree(&self.ephemeral, &primary_ephemeral)?;
        let identity = StaticSecret::from(identity.to_bytes());
        let identity_shared = agree(&identity, &primary_identity_pub)?;
        let bundle = KeyBundle {
            companion_identity_pub: PublicKey::from(&identity).to_bytes(),
            primary_identity_pub,
            adv_random: random(rng),
        };
        let wrapped_key_bundle =
            seal_key_bundle(&ephemeral_shared, &random(rng), &random(rng), &bundle);
        Ok(CompanionFinish {
            wrapped_key_bundle,
            adv_secret: derive_adv_secret(&ephemeral_shared, &identity_shared, &bundle.adv_random),
        })
    }
}

/// The phone's state after it answered `companion_hello`.
pub struct PrimaryLinking {
    ephemeral_shared: [u8; 32],
}

impl PrimaryLinking {
    /// The phone receives the companion's wrapped key and the code the user typed. Returns the
    /// state and `link_code_pairing_wrapped_primary_ephemeral_pub`.
    pub fn on_companion_hello(
        rng: &mut (impl RngCore + CryptoRng),
        typed_code: &LinkingCode,
        wrapped_companion_ephemeral_pub: &[u8],
        iterations: u32,
    ) -> Result<(Self, [u8; WRAPPED_EPHEMERAL_LEN]), PairCodeError> {
        let companion_ephemeral =
            unwrap_ephemeral_pub(typed_code, wrapped_companion_ephemeral_pub, iterations)?;
        let ephemeral = StaticSecret::random_from_rng(&mut *rng);
        let ephemeral_shared = agree(&ephemeral, &companion_ephemeral)?;
        let wrapped = wrap_ephemeral_pub(
            typed_code,
            PublicKey::from(&ephemeral).as_bytes(),
            &random(rng),
            &random(rng),
            iterations,
        );
        Ok((Self { ephemeral_shared }, wrapped))
    }

    /// The phone opens `companion_finish` and derives the ADV secret it will key the
    /// `pair-success` HMAC with.
    pub fn on_companion_finish(
        &self,
        primary_identity: &PrivateKey,
        wrapped_key_bundle: &[u8],
        companion_identity_pub: &[u8],
    ) -> Result<[u8; 32], PairCodeError> {
        let companion_identity_pub = to_key(companion_identity_pub)?;
        let bundle = open_key_bundle(&self.ephemeral_shared, wrapped_key_bundle)?;
        let identity = StaticSecret::from(primary_identity.to_bytes());
        if bundle.primary_identity_pub != PublicKey::from(&identity).to_bytes() {
            return Err(PairCodeError::PrimaryIdentityMismatch);
        }
        if bundle.companion_identity_pub != companion_identity_pub {
            return Err(PairCodeError::CompanionIdentityMismatch);
        }
        let identity_shared = agree(&identity, &companion_identity_pub)?;
        Ok(derive_adv_secret(
            &self.ephemeral_shared,
            &identity_shared,
            &bundle.adv_random,
        ))
    }
}

#[cfg(test)]
#[path = "code_tests.rs"]
mod tests;
