//! A sender-key peer for the conformance suite (conformance/signal-group.test.mjs): one JSON
//! object per line on stdin, one answer per line on stdout. It holds our own sender key for a
//! group and one record for a remote sender, as a real client would for (group, sender).
//!
//! Requests (`hex` = lowercase hex bytes):
//! * `{"op":"create"}` → `{"skdm":hex}`: a fresh own sender key and its distribution message;
//! * `{"op":"encrypt","plaintext":hex}` → `{"skmsg":hex,"iteration":n}` (plaintext is padded
//!   already, as the caller of a group cipher pads);
//! * `{"op":"process","skdm":hex}` → `{"ok":true}`: install a remote sender's key;
//! * `{"op":"decrypt","skmsg":hex}` → `{"plaintext":hex,"iteration":n}`;
//! * `{"op":"unpad_message","padded":hex}` → `{"proto":hex}`: a padded `Message`, checked,
//!   decoded and encoded again;
//! * `{"op":"message_sample"}` → `{"padded":hex}`: a padded `Message` using every field of
//!   our subset.
//!
//! Any failure answers `{"error":kind,"detail":text}` with the error's variant as `kind`, and
//! the state stays as before the request (the records are replaced only on success).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, Write};

use prost::Message as _;
use rand::rngs::OsRng;
use serde_json::{json, Value};
use wa_core::plaintext::{decode_padded, encode_padded};
use wa_core::proto::{
    DeviceListMetadata, DeviceSentMessage, ExtendedTextMessage, Message, MessageContextInfo,
    SenderKeyDistributionMessage as SkdmProto,
};
use wa_core::signal::group::{GroupError, SenderKeyDistributionMessage, SenderKeyRecord};

#[derive(Default)]
struct Peer {
    own: SenderKeyRecord,
    remote: SenderKeyRecord,
}

fn kind(e: &GroupError) -> &'static str {
    match e {
        GroupError::Malformed { .. } => "Malformed",
        GroupError::NoSenderKeyState { .. } => "NoSenderKeyState",
        GroupError::BadSignature(_) => "BadSignature",
        GroupError::DuplicateOrOld { .. } => "DuplicateOrOld",
        GroupError::TooFarInFuture { .. } => "TooFarInFuture",
        GroupError::BadCiphertext(_) => "BadCiphertext",
        GroupError::NotOwnSenderKey => "NotOwnSenderKey",
        GroupError::ChainExhausted => "ChainExhausted",
    }
}

fn hex_field(req: &Value, name: &str) -> Result<Vec<u8>, Value> {
    let text = req[name]
        .as_str()
        .ok_or_else(|| json!({"error": "Request", "detail": format!("missing {name}")}))?;
    hex::decode(text).map_err(|e| json!({"error": "Request", "detail": e.to_string()}))
}

fn group_error(e: GroupError) -> Value {
    json!({"error": kind(&e), "detail": e.to_string()})
}

fn sample() -> Message {
    Message {
        conversation: Some("hello from Herald".into()),
        sender_key_distribution_message: Some(SkdmProto {
            group_id: Some("120363012345678901@g.us".into()),
            axolotl_sender_key_distribution_message: Some(vec![0x33, 0x08, 0x2a]),
        }),
        extended_text_message: Some(ExtendedTextMessage {
            text: Some("extended".into()),
        }),
        protocol_message: None,
        device_sent_message: Some(Box::new(DeviceSentMessage {
            destination_jid: Some("15551234567@s.whatsapp.net".into()),
            message: Some(Box::new(Message {
                conversation: Some("inner".into()),
                ..Default::default()
            })),
            phash: Some("2:1rP1CxtP".into()),
        })),
        message_context_info: Some(MessageContextInfo {
            device_list_metadata: Some(DeviceListMetadata {
                sender_key_hash: Some(vec![1, 2, 3]),
                sender_timestamp: Some(1_764_000_000),
                sender_key_indexes: vec![0, 5],
                recipient_key_hash: Some(vec![4, 5]),
                recipient_timestamp: Some(1_764_000_001),
                recipient_key_indexes: vec![2],
            }),
            device_list_metadata_version: Some(2),
            message_secret: Some(vec![0x5a; 32]),
            padding_bytes: None,
        }),
    }
}

impl Peer {
    fn handle(&mut self, req: &Value) -> Result<Value, Value> {
        match req["op"].as_str().unwrap_or_default() {
            "create" => {
                let (own, skdm) = SenderKeyRecord::new_own(&mut OsRng);
                self.own = own;
                Ok(json!({"skdm": hex::encode(skdm.encode())}))
            }
            "encrypt" => {
                let plaintext = hex_field(req, "plaintext")?;
                let out = self
                    .own
                    .encrypt(&plaintext, &mut OsRng)
                    .map_err(group_error)?;
                self.own = out.record;
                Ok(json!({"skmsg": hex::encode(out.message), "iteration": out.iteration}))
            }
            "process" => {
                let bytes = hex_field(req, "skdm")?;
                let skdm = SenderKeyDistributionMessage::parse(&bytes).map_err(group_error)?;
                self.remote = self.remote.process_distribution(&skdm);
                Ok(json!({"ok": true}))
            }
            "decrypt" => {
                let bytes = hex_field(req, "skmsg")?;
                let out = self.remote.decrypt(&bytes).map_err(group_error)?;
                self.remote = out.record;
                Ok(json!({"plaintext": hex::encode(out.plaintext), "iteration": out.iteration}))
            }
            "unpad_message" => {
                let padded = hex_field(req, "padded")?;
                let message = decode_padded(&padded)
                    .map_err(|e| json!({"error": "Plaintext", "detail": e.to_string()}))?;
                Ok(json!({"proto": hex::encode(message.encode_to_vec())}))
            }
            "message_sample" => {
                Ok(json!({"padded": hex::encode(encode_padded(&sample(), &mut OsRng))}))
            }
            other => Err(json!({"error": "Request", "detail": format!("unknown op {other:?}")})),
        }
    }
}

fn main() -> std::io::Result<()> {
    let mut peer = Peer::default();
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Value>(&line) {
            Ok(req) => peer.handle(&req).unwrap_or_else(|e| e),
            Err(e) => json!({"error": "Request", "detail": e.to_string()}),
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    Ok(())
}
