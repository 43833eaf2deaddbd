//! Sender keys made by Baileys (tests/vectors/sender-key-baileys.json, written by
//! conformance/gen-sender-key-vectors.mjs): our parser reads Baileys' distribution message and
//! our encoder writes the same bytes; Baileys' group messages decrypt here in any order and
//! once only; our messages for the same key and plaintext carry the same bytes Baileys' do up
//! to the (randomized) signature; Baileys' Message protobufs decode and re-encode unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use prost::Message as _;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::Value;
use wa_core::plaintext::unpad;
use wa_core::proto::Message;
use wa_core::signal::group::{
    GroupError, SenderKeyDistributionMessage, SenderKeyMessage, SenderKeyRecord,
};
use wa_core::signal::{KeyPair, SignalPublicKey};

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/sender-key-baileys.json")).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn key32(v: &Value) -> [u8; 32] {
    bytes(v).try_into().unwrap()
}

#[test]
fn baileys_distribution_message_parses_and_encodes_byte_for_byte() {
    let v = vectors();
    let wire = bytes(&v["skdm"]);
    let skdm = SenderKeyDistributionMessage::parse(&wire).unwrap();
    assert_eq!(u64::from(skdm.key_id), v["key_id"].as_u64().unwrap());
    assert_eq!(skdm.iteration, 0);
    assert_eq!(skdm.chain_key, key32(&v["chain_key"]));
    let signing = SignalPublicKey::from_slice(&bytes(&v["signing_public"])).unwrap();
    assert_eq!(skdm.signing_key, signing.public_key());
    assert_eq!(skdm.encode(), wire);
}

#[test]
fn baileys_group_messages_decrypt_in_any_order_exactly_once() {
    let v = vectors();
    let skdm = SenderKeyDistributionMessage::parse(&bytes(&v["skdm"])).unwrap();
    let messages = v["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 30);
    let mut rng = StdRng::seed_from_u64(5);
    for round in 0..20 {
        let mut order: Vec<usize> = (0..messages.len()).collect();
        if round > 0 {
            order.shuffle(&mut rng);
        }
        let mut record = SenderKeyRecord::new().process_distribution(&skdm);
        for &i in &order {
            let m = &messages[i];
            let got = record.decrypt(&bytes(&m["skmsg"])).unwrap();
            assert_eq!(got.plaintext, bytes(&m["plaintext"]));
            assert_eq!(u64::from(got.iteration), m["iteration"].as_u64().unwrap());
            assert!(Message::decode(unpad(&got.plaintext).unwrap())
                .unwrap()
                .conversation
                .unwrap()
                .starts_with("Baileys vector message"));
            record = got.record;
        }
        for m in messages.iter().take(3) {
            assert!(matches!(
                record.decrypt(&bytes(&m["skmsg"])),
                Err(GroupError::DuplicateOrOld { .. })
            ));
        }
    }
}

#[test]
fn our_messages_match_baileys_up_to_the_signature() {
    let v = vectors();
    let signing = KeyPair::from_private_bytes(key32(&v["signing_private"]));
    let key_id = u32::try_from(v["key_id"].as_u64().unwrap()).unwrap();
    let mut rng = StdRng::seed_from_u64(9);
    let mut own = SenderKeyRecord::with_own_key(key_id, 0, key32(&v["chain_key"]), signing);
    let mut receiver = SenderKeyRecord::new()
        .process_distribution(&SenderKeyDistributionMessage::parse(&bytes(&v["skdm"])).unwrap());
    for m in v["messages"].as_array().unwrap() {
        let iteration = u32::try_from(m["iteration"].as_u64().unwrap()).unwrap();
        while own.current().unwrap().iteration() < iteration {
            own = own.encrypt(b"skip", &mut rng).unwrap().record;
        }
        let plaintext = bytes(&m["plaintext"]);
        let out = own.encrypt(&plaintext, &mut rng).unwrap();
        own = out.record;
        let theirs = bytes(&m["skmsg"]);
        let ours = SenderKeyMessage::parse(&out.message).unwrap();
        assert_eq!(
            ours.signed,
            SenderKeyMessage::parse(&theirs).unwrap().signed
        );
        let got = receiver.decrypt(&out.message).unwrap();
        assert_eq!(got.plaintext, plaintext);
        receiver = got.record;
    }
}

#[test]
fn baileys_message_protobufs_round_trip_unchanged() {
    let v = vectors();
    for p in v["plaintexts"].as_array().unwrap() {
        let wire = bytes(&p["proto"]);
        let message = Message::decode(wire.as_slice()).unwrap();
        assert_eq!(message.encode_to_vec(), wire);
    }
    let group = v["group"].as_str().unwrap();
    let skdm = Message::decode(bytes(&v["plaintexts"][2]["proto"]).as_slice())
        .unwrap()
        .sender_key_distribution_message
        .unwrap();
    assert_eq!(skdm.group_id.as_deref(), Some(group));
    assert_eq!(
        skdm.axolotl_sender_key_distribution_message.unwrap(),
        bytes(&v["skdm"])
    );
}
