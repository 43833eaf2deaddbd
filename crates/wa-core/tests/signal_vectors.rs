//! Conversations between two libsignal-node 6.0.0 parties (`tests/vectors/signal-*.json`, from
//! `conformance/gen-signal-vectors.mjs`) replayed with our cipher on both sides. Each party is
//! given the private keys libsignal drew, in the same order, so every message we encrypt must
//! equal libsignal's bytes exactly, and every message libsignal decrypted or refused must
//! decrypt or be refused the same way here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, VecDeque};

use rand::{CryptoRng, RngCore};
use serde_json::Value;
use wa_core::signal::{
    KeyPair, LocalIdentity, PreKeyBundle, PreKeyLookup, PreKeyRecord, PublicKey, SessionRecord,
    SignalError, SignalPublicKey, SignedPreKeyRecord,
};

/// Hands out the recorded private keys, 32 bytes at a time, and nothing else.
struct Replay(VecDeque<[u8; 32]>);

impl RngCore for Replay {
    fn next_u32(&mut self) -> u32 {
        unreachable!("the cipher only draws whole keys")
    }
    fn next_u64(&mut self) -> u64 {
        unreachable!("the cipher only draws whole keys")
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let key = self
            .0
            .pop_front()
            .expect("drew more keys than libsignal did");
        dest.copy_from_slice(&key);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Replay {}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn key32(v: &Value) -> [u8; 32] {
    bytes(v).try_into().expect("32 bytes")
}

fn signal_key(v: &Value) -> PublicKey {
    SignalPublicKey::from_slice(&bytes(v))
        .expect("05 key")
        .public_key()
}

fn pair(private: &Value, public: &Value) -> KeyPair {
    let pair = KeyPair::from_private_bytes(key32(private));
    assert_eq!(pair.public, signal_key(public), "libsignal's public key");
    pair
}

struct Party {
    us: LocalIdentity,
    signed: Option<SignedPreKeyRecord>,
    one_time: HashMap<u32, PreKeyRecord>,
    record: SessionRecord,
}

impl PreKeyLookup for Party {
    fn pre_key(&self, id: u32) -> Option<PreKeyRecord> {
        self.one_time.get(&id).cloned()
    }
    fn signed_pre_key(&self, id: u32) -> Option<SignedPreKeyRecord> {
        self.signed.clone().filter(|s| s.id == id)
    }
}

fn party(v: &Value) -> Party {
    let signed = v.get("signedPreKey").map(|s| SignedPreKeyRecord {
        id: s["id"].as_u64().unwrap() as u32,
        key_pair: pair(&s["private"], &s["public"]),
        signature: bytes(&s["signature"]).try_into().unwrap(),
    });
    let one_time = v
        .get("preKeys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|k| {
            let id = k["id"].as_u64().unwrap() as u32;
            let key_pair = pair(&k["private"], &k["public"]);
            (id, PreKeyRecord { id, key_pair })
        })
        .collect();
    Party {
        us: LocalIdentity {
            key_pair: pair(&v["identityPrivate"], &v["identityPublic"]),
            registration_id: v["registrationId"].as_u64().unwrap() as u32,
        },
        signed,
        one_time,
        record: SessionRecord::new(),
    }
}

fn bundle(v: &Value) -> PreKeyBundle {
    let signed = &v["signedPreKey"];
    PreKeyBundle {
        registration_id: v["registrationId"].as_u64().unwrap() as u32,
        identity_key: signal_key(&v["identityKey"]),
        signed_pre_key_id: signed["keyId"].as_u64().unwrap() as u32,
        signed_pre_key: signal_key(&signed["publicKey"]),
        signed_pre_key_signature: bytes(&signed["signature"]).try_into().unwrap(),
        pre_key: v["preKey"].as_object().map(|p| {
            (
                p["keyId"].as_u64().unwrap() as u32,
                signal_key(&p["publicKey"]),
            )
        }),
    }
}

fn draws(event: &Value) -> Vec<[u8; 32]> {
    event["draws"]
        .as_array()
        .unwrap()
        .iter()
        .map(key32)
        .collect()
}

/// Replays one file; returns (messages encrypted byte-exact, messages decrypted, refusals).
fn replay(json: &str) -> (usize, usize, usize) {
    let vectors: Value = serde_json::from_str(json).expect("vector file parses");
    let mut parties = HashMap::from([
        ("alice", party(&vectors["alice"])),
        ("bob", party(&vectors["bob"])),
    ]);
    let (mut encrypted, mut decrypted, mut refused) = (0, 0, 0);
    for (n, event) in vectors["events"].as_array().unwrap().iter().enumerate() {
        let name = event["party"].as_str().unwrap();
        let p = parties.get_mut(name).unwrap();
        match event["op"].as_str().unwrap() {
            "initiate" => {
                let mut rng = Replay(draws(event).into());
                p.record = p
                    .record
                    .initiate(&p.us, &bundle(&event["bundle"]), None, &mut rng)
                    .unwrap_or_else(|e| panic!("event {n}: {e}"));
                assert!(
                    rng.0.is_empty(),
                    "event {n}: base key and ratchet key drawn"
                );
            }
            "encrypt" => {
                let (record, message) = p.record.encrypt(&bytes(&event["plaintext"])).unwrap();
                p.record = record;
                assert_eq!(message.enc_type(), event["type"], "event {n}");
                assert_eq!(
                    hex::encode(message.serialized()),
                    event["body"].as_str().unwrap(),
                    "event {n}: our bytes differ from libsignal's"
                );
                encrypted += 1;
            }
            "decrypt" => {
                // Only the step that succeeded keeps its key: the last one libsignal drew.
                let mut rng = Replay(draws(event).last().copied().into_iter().collect());
                let body = bytes(&event["body"]);
                let result = if event["type"] == "pkmsg" {
                    p.record
                        .decrypt_prekey_message(&p.us, &*p, None, &body, &mut rng)
                } else {
                    p.record.decrypt_message(&body, &mut rng)
                };
                match (result, event.get("plaintext")) {
                    (Ok(out), Some(plaintext)) => {
                        assert_eq!(out.plaintext, bytes(plaintext), "event {n}");
                        assert_eq!(
                            out.consumed_pre_key.map(u64::from),
                            event["consumedPreKey"].as_u64(),
                            "event {n}: consumed prekey"
                        );
                        if let Some(id) = out.consumed_pre_key {
                            p.one_time.remove(&id);
                        }
                        p.record = out.record;
                        decrypted += 1;
                    }
                    (Err(error), None) => {
                        assert_eq!(event["error"], "duplicate", "event {n}");
                        assert!(
                            matches!(error, SignalError::DuplicateMessage { .. }),
                            "event {n}: {error}"
                        );
                        refused += 1;
                    }
                    (other, _) => panic!("event {n}: libsignal {event}, we {other:?}"),
                }
            }
            other => panic!("unknown op {other}"),
        }
        // Every state must also survive the store.
        if n % 7 == 0 {
            p.record = SessionRecord::deserialize(&p.record.serialize()).unwrap();
        }
    }
    (encrypted, decrypted, refused)
}

#[test]
fn libsignal_session_with_duplicates_and_a_replacing_session() {
    let (encrypted, decrypted, refused) = replay(include_str!("vectors/signal-session.json"));
    assert_eq!((encrypted, decrypted, refused), (18, 18, 3));
}

#[test]
fn libsignal_long_conversation_in_bursts_and_out_of_order() {
    let (encrypted, decrypted, refused) = replay(include_str!("vectors/signal-long.json"));
    assert_eq!((encrypted, decrypted, refused), (301, 301, 0));
}
