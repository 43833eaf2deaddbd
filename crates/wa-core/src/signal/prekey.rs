//! Our identity, our prekeys, and a peer's prekey bundle as the server serves it.
//!
//! A session is started from a peer's bundle (protocol.md §9.3): their registration id, identity
//! key, signed prekey with its XEdDSA signature, and optionally one one-time prekey. The
//! signature covers the 33-byte `05`-prefixed signed prekey and is checked before the bundle is
//! used, so a server cannot substitute a key of its own.

use rand_core::CryptoRngCore;

use super::error::SignalError;
use super::keys::{KeyPair, PublicKey};
use super::xeddsa::{self, SIGNATURE_LEN};

/// Our own long-term identity with the registration id we announced for it.
#[derive(Clone, Debug)]
pub struct LocalIdentity {
    /// The identity key pair.
    pub key_pair: KeyPair,
    /// Our registration id (WhatsApp accepts any u32; see messaging.md §2.6).
    pub registration_id: u32,
}

/// One of our one-time prekeys. Each is used by at most one incoming session; the store marks it
/// consumed when a decrypt reports its id.
#[derive(Clone, Debug)]
pub struct PreKeyRecord {
    /// The id the server hands out with the key (3 bytes on the wire).
    pub id: u32,
    /// The key pair.
    pub key_pair: KeyPair,
}

impl PreKeyRecord {
    /// A fresh one-time prekey.
    pub fn generate(id: u32, rng: &mut impl CryptoRngCore) -> Self {
        Self {
            id,
            key_pair: KeyPair::generate(rng),
        }
    }
}

/// Our signed prekey: a medium-term key signed by our identity key.
#[derive(Clone, Debug)]
pub struct SignedPreKeyRecord {
    /// Its id (3 bytes on the wire).
    pub id: u32,
    /// The key pair.
    pub key_pair: KeyPair,
    /// XEdDSA signature by our identity key over `05 || public key`.
    pub signature: [u8; SIGNATURE_LEN],
}

impl SignedPreKeyRecord {
    /// A fresh signed prekey, signed by `identity`.
    pub fn generate(id: u32, identity: &KeyPair, rng: &mut impl CryptoRngCore) -> Self {
        let key_pair = KeyPair::generate(rng);
        let signature = xeddsa::sign_with_rng(
            &identity.private,
            key_pair.public.to_signal().as_bytes(),
            rng,
        );
        Self {
            id,
            key_pair,
            signature,
        }
    }
}

/// A peer device's bundle, as read from the server's `<key>` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreKeyBundle {
    /// The peer's registration id.
    pub registration_id: u32,
    /// The peer's identity key.
    pub identity_key: PublicKey,
    /// The signed prekey's id.
    pub signed_pre_key_id: u32,
    /// The signed prekey.
    pub signed_pre_key: PublicKey,
    /// The identity key's XEdDSA signature over `05 || signed_pre_key`.
    pub signed_pre_key_signature: [u8; SIGNATURE_LEN],
    /// One one-time prekey, when the server still had one.
    pub pre_key: Option<(u32, PublicKey)>,
}

impl PreKeyBundle {
    /// Checks the signed prekey's signature against the identity key.
    pub fn verify_signature(&self) -> Result<(), SignalError> {
        xeddsa::verify(
            &self.identity_key,
            self.signed_pre_key.to_signal().as_bytes(),
            &self.signed_pre_key_signature,
        )
        .map_err(SignalError::BadSignature)
    }

    /// The bundle a peer would fetch for us, from our own keys.
    pub fn from_local(
        identity: &LocalIdentity,
        signed: &SignedPreKeyRecord,
        one_time: Option<&PreKeyRecord>,
    ) -> Self {
        Self {
            registration_id: identity.registration_id,
            identity_key: identity.key_pair.public,
            signed_pre_key_id: signed.id,
            signed_pre_key: signed.key_pair.public,
            signed_pre_key_signature: signed.signature,
            pre_key: one_time.map(|k| (k.id, k.key_pair.public)),
        }
    }
}

/// Read access to our prekeys while an incoming prekey message is decrypted. The store answers
/// from its tables; the cipher never changes them, it reports which one-time prekey it used.
pub trait PreKeyLookup {
    /// The one-time prekey with this id, if it is still unconsumed.
    fn pre_key(&self, id: u32) -> Option<PreKeyRecord>;
    /// The signed prekey with this id, if we still hold it.
    fn signed_pre_key(&self, id: u32) -> Option<SignedPreKeyRecord>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn generated_bundle_verifies_and_a_changed_one_does_not() {
        let mut rng = StdRng::seed_from_u64(1);
        let identity = LocalIdentity {
            key_pair: KeyPair::generate(&mut rng),
            registration_id: 7,
        };
        let signed = SignedPreKeyRecord::generate(1, &identity.key_pair, &mut rng);
        let one = PreKeyRecord::generate(2, &mut rng);
        let bundle = PreKeyBundle::from_local(&identity, &signed, Some(&one));
        assert_eq!(bundle.verify_signature(), Ok(()));

        let mut other_key = bundle.clone();
        other_key.signed_pre_key = one.key_pair.public;
        assert!(matches!(
            other_key.verify_signature(),
            Err(SignalError::BadSignature(_))
        ));
        let mut other_identity = bundle.clone();
        other_identity.identity_key = one.key_pair.public;
        assert!(other_identity.verify_signature().is_err());
        let mut flipped = bundle;
        flipped.signed_pre_key_signature[5] ^= 1;
        assert!(flipped.verify_signature().is_err());
    }
}
