//! A Signal party on stdin/stdout for `conformance/signal.test.mjs`, which drives it against
//! libsignal-node: one JSON object per line in, one per line out.
//!
//! Requests (`peer` names a session record; keys and bytes are hex, public keys 33-byte form):
//! - `{"op":"init","seed":N,"preKeys":K}`: identity, signed prekey 1 and one-time prekeys 1..=K,
//!   drawn from a generator seeded with N; answers with the bundle (all one-time prekeys);
//! - `{"op":"initiate","peer":P,"bundle":{…}}`: start a session from a libsignal-style bundle;
//! - `{"op":"encrypt","peer":P,"plaintext":HEX}` → `{"type":"pkmsg"|"msg","body":HEX}`;
//! - `{"op":"decrypt","peer":P,"type":T,"body":HEX}` → `{"plaintext":HEX,"consumedPreKey":ID?}`;
//! - `{"op":"reload"}`: every record and prekey through `serialize`/`deserialize`, as a restart;
//! - `{"op":"info","peer":P}` → whether the record has a session and how many are archived.
//!
//! Failures answer `{"error":KIND,"message":TEXT}` with KIND one of `duplicate`, `bad_mac`,
//! `unknown_prekey`, `no_session`, `untrusted_identity`, `too_far`, `malformed`, `other`.
//!
//! `cargo run -p wa-core --example signal_peer`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{self, BufRead, Write};

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use wa_core::signal::{
    LocalIdentity, PreKeyBundle, PreKeyLookup, PreKeyRecord, PublicKey, SessionRecord, SignalError,
    SignalPublicKey, SignedPreKeyRecord,
};

type Failure = (String, String);

fn fail(kind: &str, message: impl Into<String>) -> Failure {
    (kind.to_string(), message.into())
}

fn kind(error: &SignalError) -> &'static str {
    match error {
        SignalError::DuplicateMessage { .. } => "duplicate",
        SignalError::BadMac => "bad_mac",
        SignalError::UnknownPreKey(_) | SignalError::UnknownSignedPreKey(_) => "unknown_prekey",
        SignalError::NoSession => "no_session",
        SignalError::UntrustedIdentity { .. } => "untrusted_identity",
        SignalError::TooFarInFuture { .. } => "too_far",
        SignalError::Malformed { .. } | SignalError::UnsupportedVersion(_) => "malformed",
        _ => "other",
    }
}

fn signal_error(error: SignalError) -> Failure {
    fail(kind(&error), error.to_string())
}

fn hex_field(v: &Value, name: &str) -> Result<Vec<u8>, Failure> {
    let text = v[name]
        .as_str()
        .ok_or_else(|| fail("other", format!("{name} missing")))?;
    hex::decode(text).map_err(|e| fail("other", format!("{name}: {e}")))
}

fn key_field(v: &Value, name: &str) -> Result<PublicKey, Failure> {
    SignalPublicKey::from_slice(&hex_field(v, name)?)
        .map(PublicKey::from)
        .map_err(|e| fail("other", format!("{name}: {e}")))
}

fn u32_field(v: &Value, name: &str) -> Result<u32, Failure> {
    v[name]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| fail("other", format!("{name} missing")))
}

fn hex_of_key(key: &PublicKey) -> String {
    hex::encode(key.to_signal().as_bytes())
}

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

struct Peer {
    us: LocalIdentity,
    keys: Keys,
    records: HashMap<String, SessionRecord>,
    rng: StdRng,
}

impl Peer {
    fn init(seed: u64, pre_keys: u32) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let us = LocalIdentity {
            key_pair: wa_core::signal::KeyPair::generate(&mut rng),
            registration_id: (seed as u32 & 0x3fff) + 1,
        };
        let signed = SignedPreKeyRecord::generate(1, &us.key_pair, &mut rng);
        let one_time = (1..=pre_keys)
            .map(|id| (id, PreKeyRecord::generate(id, &mut rng)))
            .collect();
        Self {
            us,
            keys: Keys { signed, one_time },
            records: HashMap::new(),
            rng,
        }
    }

    fn bundle(&self) -> Value {
        let mut ids: Vec<_> = self.keys.one_time.keys().copied().collect();
        ids.sort_unstable();
        json!({
            "registrationId": self.us.registration_id,
            "identityKey": hex_of_key(&self.us.key_pair.public),
            "signedPreKey": {
                "keyId": self.keys.signed.id,
                "publicKey": hex_of_key(&self.keys.signed.key_pair.public),
                "signature": hex::encode(self.keys.signed.signature),
            },
            "preKeys": ids.iter().map(|id| json!({
                "keyId": id,
                "publicKey": hex_of_key(&self.keys.one_time[id].key_pair.public),
            })).collect::<Vec<_>>(),
        })
    }

    fn record(&self, peer: &str) -> SessionRecord {
        self.records.get(peer).cloned().unwrap_or_default()
    }

    fn handle(&mut self, request: &Value) -> Result<Value, Failure> {
        let peer = request["peer"].as_str().unwrap_or("").to_string();
        match request["op"].as_str().unwrap_or("") {
            "initiate" => {
                let b = &request["bundle"];
                let signed = &b["signedPreKey"];
                let signature: [u8; 64] = hex_field(signed, "signature")?
                    .try_into()
                    .map_err(|_| fail("other", "signature must be 64 bytes"))?;
                let pre_key = match b.get("preKey").filter(|v| !v.is_null()) {
                    Some(p) => Some((u32_field(p, "keyId")?, key_field(p, "publicKey")?)),
                    None => None,
                };
                let bundle = PreKeyBundle {
                    registration_id: u32_field(b, "registrationId")?,
                    identity_key: key_field(b, "identityKey")?,
                    signed_pre_key_id: u32_field(signed, "keyId")?,
                    signed_pre_key: key_field(signed, "publicKey")?,
                    signed_pre_key_signature: signature,
                    pre_key,
                };
                let record = self
                    .record(&peer)
                    .initiate(&self.us, &bundle, None, &mut self.rng)
                    .map_err(signal_error)?;
                self.records.insert(peer, record);
                Ok(json!({}))
            }
            "encrypt" => {
                let plaintext = hex_field(request, "plaintext")?;
                let (record, message) = self
                    .record(&peer)
                    .encrypt(&plaintext)
                    .map_err(signal_error)?;
                self.records.insert(peer, record);
                Ok(json!({
                    "type": message.enc_type(),
                    "body": hex::encode(message.serialized()),
                }))
            }
            "decrypt" => {
                let body = hex_field(request, "body")?;
                let record = self.record(&peer);
                let decrypted = match request["type"].as_str() {
                    Some("pkmsg") => record.decrypt_prekey_message(
                        &self.us,
                        &self.keys,
                        None,
                        &body,
                        &mut self.rng,
                    ),
                    Some("msg") => record.decrypt_message(&body, &mut self.rng),
                    _ => return Err(fail("other", "type must be pkmsg or msg")),
                }
                .map_err(signal_error)?;
                if let Some(id) = decrypted.consumed_pre_key {
                    // As the store will: a used one-time prekey is gone for good.
                    self.keys.one_time.remove(&id);
                }
                self.records.insert(peer, decrypted.record);
                Ok(json!({
                    "plaintext": hex::encode(&decrypted.plaintext),
                    "consumedPreKey": decrypted.consumed_pre_key,
                }))
            }
            "reload" => {
                for record in self.records.values_mut() {
                    *record = SessionRecord::deserialize(&record.serialize())
                        .map_err(|e| fail("other", e.to_string()))?;
                }
                for key in self.keys.one_time.values_mut() {
                    *key = PreKeyRecord::deserialize(&key.serialize())
                        .map_err(|e| fail("other", e.to_string()))?;
                }
                self.keys.signed = SignedPreKeyRecord::deserialize(&self.keys.signed.serialize())
                    .map_err(|e| fail("other", e.to_string()))?;
                Ok(json!({}))
            }
            "info" => {
                let record = self.record(&peer);
                Ok(json!({
                    "hasSession": record.has_current(),
                    "archived": record.archived().count(),
                    "pending": record.current().is_some_and(|s| s.has_pending_prekey()),
                }))
            }
            "bundle" => Ok(self.bundle()),
            other => Err(fail("other", format!("unknown op {other:?}"))),
        }
    }
}

fn main() -> io::Result<()> {
    let stdin = io::stdin();
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut peer: Option<Peer> = None;
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Value>(&line) {
            Err(e) => json!({"error": "other", "message": e.to_string()}),
            Ok(request) if request["op"] == "init" => {
                let seed = request["seed"].as_u64().unwrap_or(1);
                let pre_keys = request["preKeys"].as_u64().unwrap_or(5) as u32;
                let created = Peer::init(seed, pre_keys);
                let bundle = created.bundle();
                peer = Some(created);
                bundle
            }
            Ok(request) => match peer.as_mut() {
                None => json!({"error": "other", "message": "init first"}),
                Some(p) => p
                    .handle(&request)
                    .unwrap_or_else(|(kind, message)| json!({"error": kind, "message": message})),
            },
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    Ok(())
}
