//! Pairwise sessions between two of our own parties, and libsignal's public ratchet vectors
//! (protocol.md §10.1). Interop with libsignal-node is in `tests/signal_vectors.rs` and
//! `conformance/signal.test.mjs`.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::x3dh::{initiator_keys, respond, Initiator, Responder};
use super::*;

fn h32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn signal_hex(s: &str) -> PublicKey {
    SignalPublicKey::from_slice(&hex::decode(s).unwrap())
        .unwrap()
        .public_key()
}

/// The vectors' key pairs as given: some of their public halves do not belong to the private
/// ones (libsignal's `from_public_and_private` does not check), and only the private halves
/// enter the agreements.
fn pair(private_hex: &str, public_hex: &str) -> KeyPair {
    KeyPair {
        private: PrivateKey::from_bytes(h32(private_hex)),
        public: signal_hex(public_hex),
    }
}

/// libsignal `rust/protocol/tests/ratchet.rs`, `test_ratcheting_session_as_bob`.
#[test]
fn libsignal_vector_as_bob() {
    let bob_ephemeral = pair(
        "a1cab48f7c893fafa9880a28c3b4999d28d6329562d27a4ea4e22e9ff1bdd65a",
        "052cb49776b8770205745a3a6e24f579cdb4ba7a89041005928ebbadc9c05ad458",
    );
    let bob_identity = pair(
        "4875cc69ddf8ea0719ec947d61081135868d5fd801f02c0225e516df2156605e",
        "05f1f43874f6966956c2dd473f8fa15adeb71d1cb991b2341692324cefb1c5e626",
    );
    let bob_signed = pair(
        "583900131fb727998b7803fe6ac22cc591f342e4e42a8c8d5d78194209b8d253",
        "05ac248a8f263be6863576eb0362e28c828f0107a3379d34bab1586bf8c770cd67",
    );
    let state = respond(Responder {
        our_identity: &bob_identity,
        our_registration_id: 1,
        our_signed_pre_key: &bob_signed,
        our_one_time_pre_key: None,
        our_ratchet_key: &bob_ephemeral,
        their_identity: signal_hex(
            "05b4a8455660ada65b401007f615e654041746432e3339c6875149bceefcb42b4a",
        ),
        their_registration_id: 2,
        their_base_key: signal_hex(
            "05472d1fb1a9862c3af6beaca8920277e2b26f4a79213ec7c906aeb35e03cf8950",
        ),
    });
    assert_eq!(
        hex::encode(state.sender.chain.key),
        "9797caca53c989bbe229a40ca7727010eb2604fc14945d77958a0aeda088b44d"
    );
    assert_eq!(state.sender.ratchet.public, bob_ephemeral.public);
}

/// libsignal `rust/protocol/tests/ratchet.rs`, `test_ratcheting_session_as_alice`.
#[test]
fn libsignal_vector_as_alice() {
    let alice_identity = pair(
        "9040f0d4e09cf38f6dc7c13779c908c015a1da4fa78737a080eb0a6f4f5f8f58",
        "05b4a8455660ada65b401007f615e654041746432e3339c6875149bceefcb42b4a",
    );
    let alice_base = pair(
        "11ae7c64d1e61cd596b76a0db5012673391cae66edbfcf073b4da80516a47449",
        "05472d1fb1a9862c3af6beaca8920277e2b26f4a79213ec7c906aeb35e03cf8950",
    );
    let (_, chain) = initiator_keys(&Initiator {
        our_identity: &alice_identity,
        our_registration_id: 1,
        our_base_key: alice_base,
        their_identity: signal_hex(
            "05f1f43874f6966956c2dd473f8fa15adeb71d1cb991b2341692324cefb1c5e626",
        ),
        their_registration_id: 2,
        their_signed_pre_key: (
            1,
            signal_hex("05ac248a8f263be6863576eb0362e28c828f0107a3379d34bab1586bf8c770cd67"),
        ),
        their_one_time_pre_key: None,
    });
    assert_eq!(
        hex::encode(chain.key),
        "ab9be50e5cb22a925446ab90ee5670545f4fd32902459ec274b6ad0ae5d6031a"
    );
    assert_eq!(chain.index, 0);
}

/// One party: identity, prekeys, and a record per peer name.
pub(crate) struct Party {
    pub(crate) us: LocalIdentity,
    pub(crate) signed: SignedPreKeyRecord,
    pub(crate) one_time: HashMap<u32, PreKeyRecord>,
    pub(crate) record: SessionRecord,
    pub(crate) rng: StdRng,
}

impl Party {
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let key_pair = KeyPair::generate(&mut rng);
        let signed = SignedPreKeyRecord::generate(1, &key_pair, &mut rng);
        let one_time = (100..103)
            .map(|id| (id, PreKeyRecord::generate(id, &mut rng)))
            .collect();
        Self {
            us: LocalIdentity {
                key_pair,
                registration_id: seed as u32 + 1000,
            },
            signed,
            one_time,
            record: SessionRecord::new(),
            rng,
        }
    }

    pub(crate) fn bundle(&self, one_time: Option<u32>) -> PreKeyBundle {
        PreKeyBundle::from_local(
            &self.us,
            &self.signed,
            one_time.map(|id| &self.one_time[&id]),
        )
    }

    pub(crate) fn start_with(&mut self, bundle: &PreKeyBundle) {
        self.record = self
            .record
            .initiate(&self.us, bundle, None, &mut self.rng)
            .unwrap();
    }

    pub(crate) fn send(&mut self, text: &[u8]) -> CiphertextMessage {
        let (record, message) = self.record.encrypt(text).unwrap();
        self.record = record;
        message
    }

    pub(crate) fn receive(&mut self, message: &CiphertextMessage) -> Result<Vec<u8>, SignalError> {
        let decrypted = match message {
            CiphertextMessage::PreKey(m) => {
                let keys = Keys {
                    signed: self.signed.clone(),
                    one_time: self.one_time.clone(),
                };
                self.record.decrypt_prekey_message(
                    &self.us,
                    &keys,
                    None,
                    m.serialized(),
                    &mut self.rng,
                )?
            }
            CiphertextMessage::Whisper(m) => {
                self.record.decrypt_message(m.serialized(), &mut self.rng)?
            }
        };
        if let Some(id) = decrypted.consumed_pre_key {
            assert!(
                self.one_time.remove(&id).is_some(),
                "consumed an unknown prekey"
            );
        }
        self.record = decrypted.record;
        Ok(decrypted.plaintext)
    }
}

/// A copy of a party's prekeys, looked up while its record is replaced.
struct Keys {
    signed: SignedPreKeyRecord,
    one_time: HashMap<u32, PreKeyRecord>,
}

impl PreKeyLookup for Keys {
    fn pre_key(&self, id: u32) -> Option<PreKeyRecord> {
        self.one_time.get(&id).cloned()
    }
    fn signed_pre_key(&self, id: u32) -> Option<SignedPreKeyRecord> {
        (id == self.signed.id).then(|| self.signed.clone())
    }
}

fn established(one_time: Option<u32>) -> (Party, Party) {
    let mut alice = Party::new(1);
    let mut bob = Party::new(2);
    alice.start_with(&bob.bundle(one_time));
    let first = alice.send(b"hello bob");
    assert_eq!(first.enc_type(), "pkmsg");
    assert_eq!(bob.receive(&first).unwrap(), b"hello bob");
    let reply = bob.send(b"hello alice");
    assert_eq!(reply.enc_type(), "msg");
    assert_eq!(alice.receive(&reply).unwrap(), b"hello alice");
    (alice, bob)
}

#[test]
fn sessions_with_and_without_one_time_prekey() {
    for one_time in [Some(101), None] {
        let (mut alice, mut bob) = established(one_time);
        assert_eq!(bob.one_time.contains_key(&101), one_time.is_none());
        assert_eq!(bob.one_time.len(), if one_time.is_some() { 2 } else { 3 });
        let next = alice.send(b"after the reply");
        assert_eq!(next.enc_type(), "msg", "pkmsg stops after the first reply");
        assert_eq!(bob.receive(&next).unwrap(), b"after the reply");
    }
}

#[test]
fn pkmsg_repeats_until_the_peer_answers() {
    let mut alice = Party::new(1);
    let mut bob = Party::new(2);
    alice.start_with(&bob.bundle(Some(100)));
    let messages: Vec<_> = (0..3).map(|i| alice.send(&[i])).collect();
    assert!(messages.iter().all(|m| m.enc_type() == "pkmsg"));
    // Delivered out of order: the later ones reuse the session the first built, no prekey twice.
    assert_eq!(bob.receive(&messages[2]).unwrap(), [2]);
    assert_eq!(bob.receive(&messages[0]).unwrap(), [0]);
    assert_eq!(bob.receive(&messages[1]).unwrap(), [1]);
    assert_eq!(bob.one_time.len(), 2);
    assert!(matches!(
        bob.receive(&messages[1]),
        Err(SignalError::DuplicateMessage { counter: 1 })
    ));
}

#[test]
fn out_of_order_duplicates_and_too_far() {
    let (mut alice, mut bob) = established(Some(100));
    let burst: Vec<_> = (0..50u8).map(|i| alice.send(&[i])).collect();
    for i in (0..50).rev() {
        assert_eq!(bob.receive(&burst[i]).unwrap(), [i as u8]);
    }
    let before = bob.record.serialize();
    assert!(matches!(
        bob.receive(&burst[7]),
        Err(SignalError::DuplicateMessage { counter: 7 })
    ));
    assert_eq!(
        bob.record.serialize(),
        before,
        "a refused message changes nothing"
    );

    // Exactly the limit is fine; one more is refused.
    let far: Vec<_> = (0..=MAX_FORWARD_JUMP + 1)
        .map(|_| alice.send(b"x"))
        .collect();
    assert!(matches!(
        bob.receive(&far[MAX_FORWARD_JUMP as usize + 1]),
        Err(SignalError::TooFarInFuture { .. })
    ));
    assert_eq!(bob.record.serialize(), before);
    assert_eq!(bob.receive(&far[MAX_FORWARD_JUMP as usize]).unwrap(), b"x");
    assert_eq!(bob.receive(&far[0]).unwrap(), b"x");
}

#[test]
fn tampered_messages_fail_with_bad_mac_and_change_nothing() {
    let (mut alice, mut bob) = established(None);
    let message = alice.send(b"secret");
    let bytes = message.serialized().to_vec();
    let before = bob.record.serialize();
    for at in [bytes.len() - 1, bytes.len() - 9, bytes.len() - 20] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        assert_eq!(
            bob.record.decrypt_message(&bad, &mut bob.rng).unwrap_err(),
            SignalError::BadMac
        );
    }
    assert_eq!(bob.record.serialize(), before);
    assert_eq!(
        bob.receive(&CiphertextMessage::Whisper(
            SignalMessage::parse(&bytes).unwrap()
        ))
        .unwrap(),
        b"secret"
    );
}

#[test]
fn a_fresh_pkmsg_archives_the_current_state_and_old_messages_still_decrypt() {
    let (mut alice, mut bob) = established(Some(100));
    let late = alice.send(b"late on the old session");
    // Alice starts over from a new bundle (say she lost her session).
    alice.start_with(&bob.bundle(Some(101)));
    let fresh = alice.send(b"new session");
    assert_eq!(fresh.enc_type(), "pkmsg");
    assert_eq!(bob.receive(&fresh).unwrap(), b"new session");
    assert_eq!(bob.record.archived().count(), 1);
    assert_eq!(bob.receive(&late).unwrap(), b"late on the old session");
    let reply = bob.send(b"on the new one");
    assert_eq!(alice.receive(&reply).unwrap(), b"on the new one");
    assert_eq!(
        bob.record.current().map(SessionState::base_key),
        alice.record.current().map(SessionState::base_key)
    );
}

#[test]
fn unknown_prekeys_and_changed_identity_are_refused() {
    let mut alice = Party::new(1);
    let mut bob = Party::new(2);
    alice.start_with(&bob.bundle(Some(100)));
    let first = alice.send(b"hi");
    bob.one_time.remove(&100);
    assert_eq!(bob.receive(&first), Err(SignalError::UnknownPreKey(100)));
    bob.signed.id = 9;
    assert_eq!(
        bob.receive(&first),
        Err(SignalError::UnknownSignedPreKey(1))
    );

    let other = Party::new(3);
    let result = alice.record.initiate(
        &alice.us,
        &bob.bundle(None),
        Some(&other.us.key_pair.public),
        &mut alice.rng,
    );
    assert!(matches!(result, Err(SignalError::UntrustedIdentity { .. })));
    let mut forged = bob.bundle(None);
    forged.signed_pre_key = other.signed.key_pair.public;
    assert!(matches!(
        alice
            .record
            .initiate(&alice.us, &forged, None, &mut alice.rng),
        Err(SignalError::BadSignature(_))
    ));
    assert_eq!(
        SessionRecord::new().encrypt(b"x").unwrap_err(),
        SignalError::NoSession
    );
    // A pkmsg handed over as a msg: its field 1 is a varint where a key is expected.
    assert!(matches!(
        SessionRecord::new().decrypt_message(first.serialized(), &mut alice.rng),
        Err(SignalError::Malformed {
            what: Malformed::WireType(0),
            ..
        })
    ));
}

#[test]
fn records_survive_serialization_mid_conversation() {
    let (mut alice, mut bob) = established(Some(100));
    let skipped = alice.send(b"skipped for now");
    let sent = alice.send(b"after");
    assert_eq!(bob.receive(&sent).unwrap(), b"after");
    bob.record = SessionRecord::deserialize(&bob.record.serialize()).unwrap();
    alice.record = SessionRecord::deserialize(&alice.record.serialize()).unwrap();
    assert_eq!(bob.receive(&skipped).unwrap(), b"skipped for now");
    let reply = bob.send(b"reply");
    assert_eq!(alice.receive(&reply).unwrap(), b"reply");
    let again = bob.record.serialize();
    assert_eq!(
        SessionRecord::deserialize(&again).unwrap().serialize(),
        again
    );

    let pre = PreKeyRecord::deserialize(&bob.one_time[&101].serialize()).unwrap();
    assert_eq!(pre.key_pair.public, bob.one_time[&101].key_pair.public);
    let signed = SignedPreKeyRecord::deserialize(&bob.signed.serialize()).unwrap();
    assert_eq!(signed.signature, bob.signed.signature);
    assert!(matches!(
        SessionRecord::deserialize(&[0x08, 0x02]),
        Err(RecordError::UnknownVersion(2))
    ));
    assert!(matches!(
        SessionRecord::deserialize(&[0xff]),
        Err(RecordError::Decode(_))
    ));
}

#[test]
fn malformed_messages_report_where() {
    assert_eq!(
        SignalMessage::parse(&[]),
        Err(SignalError::Malformed {
            offset: 0,
            what: Malformed::Truncated
        })
    );
    assert_eq!(
        SignalMessage::parse(&[0x23; 20]),
        Err(SignalError::UnsupportedVersion(0x23))
    );
    // Version, then a field 1 whose length runs past the end, then 8 MAC bytes.
    let mut bytes = vec![0x33, 0x0a, 0x40, 0x05];
    bytes.extend_from_slice(&[0; 8]);
    assert_eq!(
        SignalMessage::parse(&bytes),
        Err(SignalError::Malformed {
            offset: 3,
            what: Malformed::Truncated
        })
    );
    // A ratchet key of the wrong type byte.
    let mut bytes = vec![0x33, 0x0a, 0x21, 0x06];
    bytes.extend_from_slice(&[1; 32]);
    bytes.extend_from_slice(&[0; 8]);
    assert!(matches!(
        SignalMessage::parse(&bytes),
        Err(SignalError::Malformed {
            offset: 3,
            what: Malformed::Key(_)
        })
    ));
    assert!(matches!(
        PreKeySignalMessage::parse(&[0x33, 0x08, 0x01]),
        Err(SignalError::Malformed {
            what: Malformed::MissingField(_),
            ..
        })
    ));
}

#[test]
fn records_and_states_stay_bounded() {
    let mut alice = Party::new(1);
    let mut bob = Party::new(2);
    for round in 0..(MAX_ARCHIVED_STATES + 5) {
        alice.start_with(&bob.bundle(None));
        let hello = alice.send(&[round as u8]);
        assert_eq!(bob.receive(&hello).unwrap(), [round as u8]);
    }
    assert_eq!(bob.record.archived().count(), MAX_ARCHIVED_STATES);
    assert_eq!(alice.record.archived().count(), MAX_ARCHIVED_STATES);

    let (mut alice, mut bob) = established(None);
    for turn in 0..(2 * MAX_RECEIVER_CHAINS + 2) {
        let (from, to) = if turn % 2 == 0 {
            (&mut alice, &mut bob)
        } else {
            (&mut bob, &mut alice)
        };
        let message = from.send(b"step");
        to.receive(&message).unwrap();
    }
    for party in [&alice, &bob] {
        let state = party.record.current().unwrap();
        assert_eq!(state.receivers.len(), MAX_RECEIVER_CHAINS);
    }
    // Past the per-chain bound the oldest skipped keys are forgotten, the newer ones kept.
    let (mut alice, mut bob) = established(None);
    let held: Vec<_> = (0..=3001).map(|_| alice.send(b"k")).collect();
    assert_eq!(bob.receive(&held[1500]).unwrap(), b"k");
    assert_eq!(bob.receive(&held[3001]).unwrap(), b"k");
    let chain = bob.record.current().unwrap().receivers.last().unwrap();
    assert_eq!(chain.skipped.len(), MAX_SKIPPED_KEYS);
    assert!(matches!(
        bob.receive(&held[999]),
        Err(SignalError::DuplicateMessage { counter: 999 })
    ));
    assert_eq!(bob.receive(&held[1000]).unwrap(), b"k");
    assert_eq!(bob.receive(&held[3000]).unwrap(), b"k");
}

#[test]
fn a_pkmsg_from_another_identity_than_the_known_one_is_refused() {
    let mut alice = Party::new(1);
    let bob = Party::new(2);
    alice.start_with(&bob.bundle(Some(100)));
    let first = alice.send(b"hi");
    let stranger = Party::new(3);
    let keys = Keys {
        signed: bob.signed.clone(),
        one_time: bob.one_time.clone(),
    };
    let result = bob.record.decrypt_prekey_message(
        &bob.us,
        &keys,
        Some(&stranger.us.key_pair.public),
        first.serialized(),
        &mut StdRng::seed_from_u64(9),
    );
    assert_eq!(
        result.unwrap_err(),
        SignalError::UntrustedIdentity {
            expected: stranger.us.key_pair.public,
            received: alice.us.key_pair.public,
        }
    );
    let known = bob
        .record
        .decrypt_prekey_message(
            &bob.us,
            &keys,
            Some(&alice.us.key_pair.public),
            first.serialized(),
            &mut StdRng::seed_from_u64(9),
        )
        .unwrap();
    assert_eq!(known.plaintext, b"hi");
    assert_eq!(known.consumed_pre_key, Some(100));
}

#[test]
fn debug_output_holds_no_secret_keys() {
    let (alice, _) = established(None);
    let state = alice.record.current().unwrap();
    let shown = format!("{:?}", alice.record);
    for secret in [
        state.root_key,
        state.sender.chain.key,
        state.receivers[0].chain.key,
        state.sender.ratchet.private.to_bytes(),
    ] {
        assert!(!shown.contains(&hex::encode(secret)), "{shown}");
        assert!(!shown.contains(&format!("{:?}", secret)), "{shown}");
    }
    assert!(shown.contains("sending_index"));
}
