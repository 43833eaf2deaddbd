//! The fixed pairwise session both Signal targets fuzz against: Alice started it from Bob's
//! bundle (with a one-time prekey), Bob answered, Alice read the answer. Built once per process
//! from fixed seeds so every run sees the same keys.

// Each target reads the half of the session it fuzzes; the other half is unused there.
#![allow(dead_code)]

use std::sync::OnceLock;

use rand_core::{CryptoRng, RngCore};
use wa_core::signal::{
    KeyPair, LocalIdentity, PreKeyBundle, PreKeyLookup, PreKeyRecord, SessionRecord,
    SignedPreKeyRecord,
};

/// A deterministic generator (SplitMix64): fuzzing needs repeatable keys, not secret ones.
pub struct FixedRng(pub u64);

impl RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for FixedRng {}

pub struct Bob {
    pub us: LocalIdentity,
    pub signed: SignedPreKeyRecord,
    pub one_time: Vec<PreKeyRecord>,
}

impl PreKeyLookup for Bob {
    fn pre_key(&self, id: u32) -> Option<PreKeyRecord> {
        self.one_time.iter().find(|k| k.id == id).cloned()
    }
    fn signed_pre_key(&self, id: u32) -> Option<SignedPreKeyRecord> {
        Some(self.signed.clone()).filter(|s| s.id == id)
    }
}

pub struct Session {
    pub bob: Bob,
    /// Bob's record after the exchange.
    pub record: SessionRecord,
    /// Valid messages to Bob on that record: `msg`s of the established session.
    pub messages: Vec<Vec<u8>>,
    /// Valid `pkmsg`s to Bob: a later one of the same session, and one of a new session.
    pub prekey_messages: Vec<Vec<u8>>,
}

pub fn session() -> &'static Session {
    static SESSION: OnceLock<Session> = OnceLock::new();
    SESSION.get_or_init(|| {
        let mut rng = FixedRng(7);
        let alice = LocalIdentity {
            key_pair: KeyPair::generate(&mut rng),
            registration_id: 1,
        };
        let bob_identity = KeyPair::generate(&mut rng);
        let bob = Bob {
            signed: SignedPreKeyRecord::generate(1, &bob_identity, &mut rng),
            one_time: vec![
                PreKeyRecord::generate(5, &mut rng),
                PreKeyRecord::generate(6, &mut rng),
            ],
            us: LocalIdentity {
                key_pair: bob_identity,
                registration_id: 2,
            },
        };
        let bundle = PreKeyBundle::from_local(&bob.us, &bob.signed, Some(&bob.one_time[0]));
        let alice_record = SessionRecord::new()
            .initiate(&alice, &bundle, None, &mut rng)
            .expect("own bundle");
        let (alice_record, first) = alice_record.encrypt(b"first").expect("session");
        let (alice_record, second) = alice_record.encrypt(b"second").expect("session");
        let opened = SessionRecord::new()
            .decrypt_prekey_message(&bob.us, &bob, None, first.serialized(), &mut rng)
            .expect("own pkmsg");
        let (bob_record, reply) = opened.record.encrypt(b"reply").expect("session");
        let alice_record = alice_record
            .decrypt_message(reply.serialized(), &mut rng)
            .expect("own msg")
            .record;
        let mut alice_record = alice_record;
        let mut messages = Vec::new();
        for text in [&b"one"[..], b"two", b"three"] {
            let (next, message) = alice_record.encrypt(text).expect("session");
            alice_record = next;
            messages.push(message.serialized().to_vec());
        }
        let other = SessionRecord::new()
            .initiate(
                &alice,
                &PreKeyBundle::from_local(&bob.us, &bob.signed, Some(&bob.one_time[1])),
                None,
                &mut rng,
            )
            .expect("own bundle");
        let (_, fresh) = other.encrypt(b"fresh").expect("session");
        Session {
            bob,
            record: bob_record,
            messages,
            prekey_messages: vec![second.serialized().to_vec(), fresh.serialized().to_vec()],
        }
    })
}

/// The input as the target reads it: mode 0 uses the bytes as they are; other modes take one
/// of `valid` and XOR the rest of the input into it from an offset, or cut it short.
pub fn input(data: &[u8], valid: &[Vec<u8>]) -> Vec<u8> {
    let Some((&mode, rest)) = data.split_first() else {
        return Vec::new();
    };
    if mode % 3 == 0 || valid.is_empty() || rest.len() < 2 {
        return rest.to_vec();
    }
    let mut message = valid[usize::from(rest[0]) % valid.len()].clone();
    let at = usize::from(rest[1]);
    if mode % 3 == 1 {
        let len = message.len().max(1);
        for (i, b) in rest[2..].iter().enumerate() {
            if let Some(byte) = message.get_mut((at + i) % len) {
                *byte ^= b;
            }
        }
    } else {
        message.truncate(at % (message.len() + 1));
        message.extend_from_slice(&rest[2..]);
    }
    message
}
