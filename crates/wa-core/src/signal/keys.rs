//! Curve25519 keys in the two shapes the protocol uses.
//!
//! WhatsApp's XMPP layer, the QR code and the Noise handshake carry a public key as its raw 32
//! bytes; libsignal's protobufs and signed payloads carry it with a one-byte type prefix `05`
//! (33 bytes). Mixing the two up produces signatures and MACs that silently fail to verify, so
//! each shape is its own type and converting between them is explicit.

use core::fmt;

use curve25519_dalek::scalar::clamp_integer;
use rand_core::CryptoRngCore;
use x25519_dalek::StaticSecret;

/// The key type byte libsignal puts in front of a Curve25519 public key ("DJB" type).
pub const DJB_TYPE: u8 = 0x05;

/// Errors when reading a key from untrusted bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The byte string has the wrong size for this kind of key.
    #[error("key must be {expected} bytes, got {actual}")]
    WrongLength {
        /// The size this key shape has.
        expected: usize,
        /// The size that was given.
        actual: usize,
    },
    /// A 33-byte Signal key did not start with the `05` type byte.
    #[error("signal public key has type byte {0:#04x}, expected 0x05")]
    UnknownKeyType(u8),
}

/// A raw 32-byte Curve25519 (Montgomery u-coordinate) public key, as on the XMPP layer, in the QR
/// code and in the Noise handshake.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Wraps 32 raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads a raw key, rejecting any length other than 32.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let raw: [u8; 32] = bytes.try_into().map_err(|_| KeyError::WrongLength {
            expected: 32,
            actual: bytes.len(),
        })?;
        Ok(Self(raw))
    }

    /// The raw 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The same key in libsignal's 33-byte form.
    pub fn to_signal(&self) -> SignalPublicKey {
        SignalPublicKey::from(*self)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        write!(f, ")")
    }
}

impl From<SignalPublicKey> for PublicKey {
    fn from(key: SignalPublicKey) -> Self {
        key.public_key()
    }
}

/// A Curve25519 public key in libsignal's serialized form: `05 || raw 32 bytes`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalPublicKey([u8; 33]);

impl SignalPublicKey {
    /// Reads a 33-byte key, rejecting other lengths and any type byte but `05`.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let raw: [u8; 33] = bytes.try_into().map_err(|_| KeyError::WrongLength {
            expected: 33,
            actual: bytes.len(),
        })?;
        if raw[0] != DJB_TYPE {
            return Err(KeyError::UnknownKeyType(raw[0]));
        }
        Ok(Self(raw))
    }

    /// The 33 serialized bytes, type byte first.
    pub const fn as_bytes(&self) -> &[u8; 33] {
        &self.0
    }

    /// The raw 32-byte key without the type byte.
    pub fn public_key(&self) -> PublicKey {
        let mut raw = [0u8; 32];
        raw.copy_from_slice(&self.0[1..]);
        PublicKey(raw)
    }
}

impl From<PublicKey> for SignalPublicKey {
    fn from(key: PublicKey) -> Self {
        let mut out = [0u8; 33];
        out[0] = DJB_TYPE;
        out[1..].copy_from_slice(&key.0);
        Self(out)
    }
}

impl fmt::Debug for SignalPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignalPublicKey(")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        write!(f, ")")
    }
}

/// A Curve25519 private key, clamped on construction (as libsignal stores it) so the same bytes
/// serve X25519 agreement and XEdDSA signing.
#[derive(Clone)]
pub struct PrivateKey(StaticSecret);

impl PrivateKey {
    /// Builds a key from 32 bytes, clamping them.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(StaticSecret::from(clamp_integer(bytes)))
    }

    /// Draws a fresh key from the caller's cryptographic RNG.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// The clamped 32 bytes, for storage.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(x25519_dalek::PublicKey::from(&self.0).to_bytes())
    }

    /// X25519 agreement with a peer's public key.
    pub fn agree(&self, their_public: &PublicKey) -> [u8; 32] {
        self.0
            .diffie_hellman(&x25519_dalek::PublicKey::from(their_public.0))
            .to_bytes()
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Private key bytes must never reach a log line.
        f.write_str("PrivateKey(..)")
    }
}

/// A private key with its public key, computed once.
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// The private half.
    pub private: PrivateKey,
    /// The public half, raw 32 bytes.
    pub public: PublicKey,
}

impl KeyPair {
    /// Draws a fresh key pair from the caller's cryptographic RNG.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self::from_private(PrivateKey::generate(rng))
    }

    /// Completes a stored private key with its public key.
    pub fn from_private(private: PrivateKey) -> Self {
        let public = private.public_key();
        Self { private, public }
    }

    /// Builds a pair from 32 stored private key bytes.
    pub fn from_private_bytes(bytes: [u8; 32]) -> Self {
        Self::from_private(PrivateKey::from_bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h32(s: &str) -> [u8; 32] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    /// libsignal `rust/core/src/curve/curve25519.rs`, `test_agreement`.
    #[test]
    fn libsignal_agreement_vector() {
        let alice_public = h32("1bb75966f2e93a3691dfff942bb2a466a1c08b8d78ca3f4d6df8b8bfa2e4ee28");
        let alice_private = h32("c806439dc9d2c476ffed8f2580c0888d58ab406bf7ae3698879021b96bb4bf59");
        let bob_public = h32("653614993d2b15ee9e5fd3d86ce719ef4ec1daae1886a87b3f5fa9565a27a22f");
        let bob_private = h32("b03b34c33a1c44f225b662d2bf4859b8135411fa7b0386d45fb75dc5b91b4466");
        let shared = h32("325f239328941ced6e673b86ba41017448e99b649a9c3806c1dd7ca4c477e629");

        let alice = KeyPair::from_private_bytes(alice_private);
        let bob = KeyPair::from_private_bytes(bob_private);
        assert_eq!(alice.public.as_bytes(), &alice_public);
        assert_eq!(bob.public.as_bytes(), &bob_public);
        assert_eq!(
            alice.private.agree(&PublicKey::from_bytes(bob_public)),
            shared
        );
        assert_eq!(
            bob.private.agree(&PublicKey::from_bytes(alice_public)),
            shared
        );
    }

    #[test]
    fn private_key_is_stored_clamped() {
        let key = PrivateKey::from_bytes([0xff; 32]);
        let bytes = key.to_bytes();
        assert_eq!(bytes[0] & 0x07, 0);
        assert_eq!(bytes[31] & 0xc0, 0x40);
    }

    #[test]
    fn signal_form_round_trips_and_is_checked() {
        let raw = PublicKey::from_bytes([7; 32]);
        let signal = raw.to_signal();
        assert_eq!(signal.as_bytes()[0], DJB_TYPE);
        assert_eq!(&signal.as_bytes()[1..], raw.as_bytes());
        assert_eq!(signal.public_key(), raw);
        assert_eq!(SignalPublicKey::from_slice(signal.as_bytes()), Ok(signal));

        let mut wrong_type = *signal.as_bytes();
        wrong_type[0] = 0x06;
        assert_eq!(
            SignalPublicKey::from_slice(&wrong_type),
            Err(KeyError::UnknownKeyType(0x06))
        );
        // A raw key must not be accepted where the 33-byte form is expected, and vice versa.
        assert_eq!(
            SignalPublicKey::from_slice(raw.as_bytes()),
            Err(KeyError::WrongLength {
                expected: 33,
                actual: 32
            })
        );
        assert_eq!(
            PublicKey::from_slice(signal.as_bytes()),
            Err(KeyError::WrongLength {
                expected: 32,
                actual: 33
            })
        );
    }

    #[test]
    fn debug_never_prints_private_bytes() {
        let key = PrivateKey::from_bytes([0xab; 32]);
        assert!(!format!("{key:?}").contains("ab"));
    }
}
