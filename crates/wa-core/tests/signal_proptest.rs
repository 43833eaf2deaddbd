//! Properties of the pairwise cipher: any delivery order within the limits (a message at most
//! three of its sender's ratchet steps old, so its chain is among the five a state keeps; jumps
//! far below 2,000) decrypts every message exactly once; a second delivery is a duplicate; a
//! tampered byte, a replay or a jump past the limit fails with the right error, and the record
//! it was given still decrypts the untouched message afterwards.

use std::cell::Cell;

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use wa_core::signal::{
    CiphertextMessage, KeyPair, LocalIdentity, PreKeyBundle, PreKeyLookup, PreKeyRecord,
    PreKeySignalMessage, PublicKey, SessionRecord, SignalError, SignalMessage, SignedPreKeyRecord,
    MAX_FORWARD_JUMP,
};

struct Party {
    us: LocalIdentity,
    signed: SignedPreKeyRecord,
    one_time: Option<PreKeyRecord>,
    record: SessionRecord,
    rng: StdRng,
    /// Our ratchet keys in the order we used them.
    ratchets: Vec<PublicKey>,
    /// Seeds each decrypt's generator afresh: reusing one would reuse ratchet keys.
    decrypts: Cell<u64>,
}

impl PreKeyLookup for Party {
    fn pre_key(&self, id: u32) -> Option<PreKeyRecord> {
        self.one_time.clone().filter(|k| k.id == id)
    }
    fn signed_pre_key(&self, id: u32) -> Option<SignedPreKeyRecord> {
        Some(self.signed.clone()).filter(|s| s.id == id)
    }
}

impl Party {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let key_pair = KeyPair::generate(&mut rng);
        let signed = SignedPreKeyRecord::generate(7, &key_pair, &mut rng);
        let one_time = Some(PreKeyRecord::generate(9, &mut rng));
        Self {
            us: LocalIdentity {
                key_pair,
                registration_id: seed as u32,
            },
            signed,
            one_time,
            record: SessionRecord::new(),
            rng,
            ratchets: Vec::new(),
            decrypts: Cell::new(seed << 32),
        }
    }

    fn bundle(&self) -> PreKeyBundle {
        PreKeyBundle::from_local(&self.us, &self.signed, self.one_time.as_ref())
    }

    /// Sends `text`; returns the message and its sender ratchet epoch.
    fn send(&mut self, text: &[u8]) -> (CiphertextMessage, usize) {
        let (record, message) = self.record.encrypt(text).unwrap();
        self.record = record;
        let key = ratchet_key(&message);
        if self.ratchets.last() != Some(&key) {
            self.ratchets.push(key);
        }
        (message, self.ratchets.len() - 1)
    }

    fn try_receive(
        &self,
        message: &CiphertextMessage,
    ) -> Result<(SessionRecord, Vec<u8>), SignalError> {
        self.decrypts.set(self.decrypts.get() + 1);
        let mut rng = StdRng::seed_from_u64(self.decrypts.get());
        let out = match message {
            CiphertextMessage::PreKey(m) => self.record.decrypt_prekey_message(
                &self.us,
                self,
                None,
                m.serialized(),
                &mut rng,
            )?,
            CiphertextMessage::Whisper(m) => {
                self.record.decrypt_message(m.serialized(), &mut rng)?
            }
        };
        Ok((out.record, out.plaintext))
    }
}

fn ratchet_key(message: &CiphertextMessage) -> PublicKey {
    match message {
        CiphertextMessage::PreKey(m) => m.message.ratchet_key,
        CiphertextMessage::Whisper(m) => m.ratchet_key,
    }
}

struct InFlight {
    to_bob: bool,
    message: CiphertextMessage,
    text: Vec<u8>,
    epoch: usize,
}

fn established() -> (Party, Party) {
    let mut alice = Party::new(1);
    let mut bob = Party::new(2);
    alice.record = alice
        .record
        .initiate(&alice.us, &bob.bundle(), None, &mut alice.rng)
        .unwrap();
    let (hello, _) = alice.send(b"hello");
    bob.record = bob.try_receive(&hello).unwrap().0;
    let (reply, _) = bob.send(b"reply");
    alice.record = alice.try_receive(&reply).unwrap().0;
    (alice, bob)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_delivery_order_within_the_limits_decrypts_each_message_once(
        script in prop::collection::vec((0u8..3, any::<u16>()), 1..120),
    ) {
        let mut alice = Party::new(11);
        let mut bob = Party::new(12);
        alice.record = alice.record.initiate(&alice.us, &bob.bundle(), None, &mut alice.rng).unwrap();
        let mut in_flight: Vec<InFlight> = Vec::new();
        let mut delivered: Vec<InFlight> = Vec::new();
        let mut sent = 0u32;
        let deliver = |i: usize, in_flight: &mut Vec<InFlight>, alice: &mut Party, bob: &mut Party,
                       delivered: &mut Vec<InFlight>| -> Result<(), TestCaseError> {
            let item = in_flight.remove(i);
            let receiver = if item.to_bob { bob } else { alice };
            let (record, plaintext) = receiver.try_receive(&item.message)
                .map_err(|e| TestCaseError::fail(format!("delivery failed: {e}")))?;
            prop_assert_eq!(&plaintext, &item.text);
            receiver.record = record;
            delivered.push(item);
            Ok(())
        };
        for (action, pick) in script {
            let bob_can_send = bob.record.has_current();
            match action {
                0 | 1 => {
                    let from_alice = action == 0 || !bob_can_send;
                    // Keep every held message within three of its sender's ratchet steps.
                    loop {
                        let sender_epoch = if from_alice { alice.ratchets.len() } else { bob.ratchets.len() };
                        let Some(i) = in_flight.iter().position(|m| m.to_bob == from_alice
                            && m.epoch + 3 < sender_epoch) else { break };
                        deliver(i, &mut in_flight, &mut alice, &mut bob, &mut delivered)?;
                    }
                    let text = format!("message {sent}").into_bytes();
                    sent += 1;
                    let (message, epoch) = if from_alice { alice.send(&text) } else { bob.send(&text) };
                    in_flight.push(InFlight { to_bob: from_alice, message, text, epoch });
                }
                _ if !in_flight.is_empty() => {
                    let i = usize::from(pick) % in_flight.len();
                    deliver(i, &mut in_flight, &mut alice, &mut bob, &mut delivered)?;
                }
                _ => {}
            }
        }
        while !in_flight.is_empty() {
            let i = in_flight.len() / 2;
            deliver(i, &mut in_flight, &mut alice, &mut bob, &mut delivered)?;
        }
        // Exactly once: a message delivered again is a duplicate while its chain is still kept;
        // once the chain is gone it cannot be told from a forgery, and fails as one.
        for item in &delivered {
            let (receiver, sender_epochs) = if item.to_bob {
                (&bob, alice.ratchets.len())
            } else {
                (&alice, bob.ratchets.len())
            };
            let again = receiver.try_receive(&item.message).map(|r| r.1);
            if item.epoch + 5 >= sender_epochs {
                prop_assert!(
                    matches!(again, Err(SignalError::DuplicateMessage { .. })),
                    "second delivery: {:?}", again
                );
            } else {
                prop_assert!(
                    matches!(again, Err(SignalError::DuplicateMessage { .. } | SignalError::BadMac)),
                    "second delivery of an old one: {:?}", again
                );
            }
        }
    }

    #[test]
    fn a_tampered_byte_fails_and_the_record_still_decrypts_the_original(
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
        prekey in any::<bool>(),
    ) {
        let (mut alice, bob) = if prekey {
            let alice = Party::new(21);
            let mut alice = alice;
            let bob = Party::new(22);
            alice.record = alice.record.initiate(&alice.us, &bob.bundle(), None, &mut alice.rng).unwrap();
            (alice, bob)
        } else {
            established()
        };
        let (message, _) = alice.send(b"the untouched message");
        let mut bytes = message.serialized().to_vec();
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        let mac_start = bytes.len() - 8;
        let tampered = match &message {
            CiphertextMessage::PreKey(_) => PreKeySignalMessage::parse(&bytes).map(CiphertextMessage::PreKey),
            CiphertextMessage::Whisper(_) => SignalMessage::parse(&bytes).map(CiphertextMessage::Whisper),
        };
        match tampered {
            Ok(tampered) => {
                let result = bob.try_receive(&tampered).map(|r| r.1);
                match &message {
                    CiphertextMessage::Whisper(_) => {
                        prop_assert!(result.is_err(), "a tampered message decrypted");
                        if i >= mac_start {
                            prop_assert_eq!(result.unwrap_err(), SignalError::BadMac);
                        }
                    }
                    // A pkmsg's registration id is not authenticated (in libsignal neither):
                    // altering it may go unnoticed, but never yields other content.
                    CiphertextMessage::PreKey(_) => {
                        if let Ok(plaintext) = result {
                            prop_assert_eq!(plaintext, b"the untouched message".to_vec());
                        }
                    }
                }
            }
            // Refused while parsing, which is as clean a failure.
            Err(error) => prop_assert!(
                matches!(error, SignalError::Malformed { .. } | SignalError::UnsupportedVersion(_)),
                "{error}"
            ),
        }
        let (_, plaintext) = bob.try_receive(&message).unwrap();
        prop_assert_eq!(plaintext, b"the untouched message".to_vec());
    }

    #[test]
    fn replays_and_jumps_past_the_limit_are_refused(
        extra in 1u32..50,
        replay_index in 0usize..20,
    ) {
        let (mut alice, mut bob) = established();
        let messages: Vec<_> = (0..20).map(|i| alice.send(&[i]).0).collect();
        for m in &messages {
            bob.record = bob.try_receive(m).unwrap().0;
        }
        let replayed = bob.try_receive(&messages[replay_index]).map(|r| r.1);
        prop_assert!(
            matches!(replayed, Err(SignalError::DuplicateMessage { .. })),
            "replay: {:?}", replayed
        );
        let far: Vec<_> = (0..=MAX_FORWARD_JUMP + extra).map(|_| alice.send(b"far").0).collect();
        let last = far.last().unwrap();
        let jumped = bob.try_receive(last).map(|r| r.1);
        prop_assert!(
            matches!(jumped, Err(SignalError::TooFarInFuture { .. })),
            "jump: {:?}", jumped
        );
        // The refused jump changed nothing: the next message in line still decrypts.
        prop_assert_eq!(bob.try_receive(&far[0]).unwrap().1, b"far".to_vec());
    }
}
