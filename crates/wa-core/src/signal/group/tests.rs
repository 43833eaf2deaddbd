use rand::rngs::StdRng;
use rand::SeedableRng;

use super::*;

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

/// A sender with its own record and a receiver that processed its distribution message.
fn pair(rng: &mut StdRng) -> (SenderKeyRecord, SenderKeyRecord) {
    let (own, skdm) = SenderKeyRecord::new_own(rng);
    let parsed = SenderKeyDistributionMessage::parse(&skdm.encode()).unwrap();
    let theirs = SenderKeyRecord::new().process_distribution(&parsed);
    (own, theirs)
}

fn send(own: &mut SenderKeyRecord, rng: &mut StdRng, text: &[u8]) -> Vec<u8> {
    let out = own.encrypt(text, rng).unwrap();
    *own = out.record;
    out.message
}

#[test]
fn messages_decrypt_in_order_with_consecutive_iterations() {
    let mut rng = rng();
    let (mut own, mut theirs) = pair(&mut rng);
    for i in 0..5u32 {
        let text = format!("message {i}");
        let msg = send(&mut own, &mut rng, text.as_bytes());
        let got = theirs.decrypt(&msg).unwrap();
        assert_eq!(got.iteration, i);
        assert_eq!(got.plaintext, text.as_bytes());
        theirs = got.record;
    }
    assert_eq!(theirs.current().unwrap().iteration(), 5);
    assert_eq!(theirs.current().unwrap().skipped_keys(), 0);
}

#[test]
fn gaps_and_late_messages_decrypt_once() {
    let mut rng = rng();
    let (mut own, theirs) = pair(&mut rng);
    let msgs: Vec<Vec<u8>> = (0..10)
        .map(|i| send(&mut own, &mut rng, &[i as u8; 3]))
        .collect();
    let got = theirs.decrypt(&msgs[9]).unwrap();
    assert_eq!(got.record.current().unwrap().skipped_keys(), 9);
    let mut record = got.record;
    for i in [3usize, 0, 8, 1] {
        let got = record.decrypt(&msgs[i]).unwrap();
        assert_eq!(got.plaintext, [i as u8; 3]);
        record = got.record;
    }
    assert_eq!(record.current().unwrap().skipped_keys(), 5);
    // Each a second time: a duplicate, and the record is as it was.
    for i in [3usize, 9] {
        let before = record.serialize();
        assert!(matches!(
            record.decrypt(&msgs[i]),
            Err(GroupError::DuplicateOrOld { iteration, chain_iteration: 10 }) if iteration == i as u32
        ));
        assert_eq!(record.serialize(), before);
    }
}

#[test]
fn forward_jump_limit_is_exact() {
    let mut rng = rng();
    let (mut own, theirs) = pair(&mut rng);
    let mut last = Vec::new();
    for _ in 0..=MAX_FORWARD_JUMP + 1 {
        last = send(&mut own, &mut rng, b"x");
    }
    // Iteration 2001 from a chain at 0: one too far.
    assert_eq!(
        theirs.decrypt(&last).unwrap_err(),
        GroupError::TooFarInFuture {
            iteration: MAX_FORWARD_JUMP + 1,
            chain_iteration: 0
        }
    );
    // Iteration 2000 is allowed, and keeps all 2000 skipped keys.
    let (mut own, theirs) = pair(&mut rng);
    for _ in 0..MAX_FORWARD_JUMP {
        send(&mut own, &mut rng, b"x");
    }
    let at_limit = send(&mut own, &mut rng, b"y");
    let got = theirs.decrypt(&at_limit).unwrap();
    assert_eq!(got.plaintext, b"y");
    assert_eq!(
        got.record.current().unwrap().skipped_keys(),
        MAX_SKIPPED_KEYS
    );
}

#[test]
fn eviction_drops_the_oldest_skipped_keys_first() {
    let mut rng = rng();
    let (mut own, mut theirs) = pair(&mut rng);
    let msgs: Vec<Vec<u8>> = (0..=3000).map(|_| send(&mut own, &mut rng, b"m")).collect();
    theirs = theirs.decrypt(&msgs[1500]).unwrap().record;
    assert_eq!(theirs.current().unwrap().skipped_keys(), 1500);
    theirs = theirs.decrypt(&msgs[3000]).unwrap().record;
    // 1500 + 1499 skipped, 2000 kept: iterations 0..=998 were evicted.
    assert_eq!(theirs.current().unwrap().skipped_keys(), MAX_SKIPPED_KEYS);
    for gone in [0usize, 998] {
        assert!(matches!(
            theirs.decrypt(&msgs[gone]),
            Err(GroupError::DuplicateOrOld { .. })
        ));
    }
    for kept in [999usize, 1499, 1501, 2999] {
        assert_eq!(theirs.decrypt(&msgs[kept]).unwrap().plaintext, b"m");
    }
}

#[test]
fn tampering_fails_cleanly() {
    let mut rng = rng();
    let (mut own, theirs) = pair(&mut rng);
    let msg = send(&mut own, &mut rng, b"hello group");
    let before = theirs.serialize();
    for i in 0..msg.len() {
        let mut bad = msg.clone();
        bad[i] ^= 0x01;
        assert!(
            theirs.decrypt(&bad).is_err(),
            "flip at byte {i} was accepted"
        );
    }
    let mut bad_sig = msg.clone();
    let n = bad_sig.len();
    bad_sig[n - 5] ^= 0x80;
    assert!(matches!(
        theirs.decrypt(&bad_sig),
        Err(GroupError::BadSignature(_))
    ));
    assert_eq!(theirs.serialize(), before);
    assert_eq!(theirs.decrypt(&msg).unwrap().plaintext, b"hello group");
}

#[test]
fn unknown_key_id_and_empty_records() {
    let mut rng = rng();
    let (mut own, _) = pair(&mut rng);
    let msg = send(&mut own, &mut rng, b"x");
    let key_id = own.current().unwrap().key_id();
    assert_eq!(
        SenderKeyRecord::new().decrypt(&msg).unwrap_err(),
        GroupError::NoSenderKeyState {
            key_id: Some(key_id)
        }
    );
    assert_eq!(
        SenderKeyRecord::new().encrypt(b"x", &mut rng).unwrap_err(),
        GroupError::NoSenderKeyState { key_id: None }
    );
    let (_, theirs) = pair(&mut rng);
    assert_eq!(
        theirs.encrypt(b"x", &mut rng).unwrap_err(),
        GroupError::NotOwnSenderKey
    );
}

#[test]
fn distribution_again_does_not_rewind_and_rotation_keeps_old_states() {
    let mut rng = rng();
    let (mut own, theirs) = pair(&mut rng);
    let m0 = send(&mut own, &mut rng, b"0");
    let theirs = theirs.decrypt(&m0).unwrap().record;
    // The sender re-sends its (now later) distribution message; replaying m0 still fails.
    let (own2, skdm) = own.own_distribution_message(&mut rng);
    assert_eq!(own2, own);
    assert_eq!(skdm.iteration, 1);
    let again = theirs.process_distribution(&skdm);
    assert_eq!(again.states().len(), 1);
    assert!(matches!(
        again.decrypt(&m0),
        Err(GroupError::DuplicateOrOld { .. })
    ));
    // Six rotations: only five generations are kept, newest first.
    let mut record = again;
    let mut ids = Vec::new();
    for _ in 0..6 {
        let (_, skdm) = SenderKeyRecord::new_own(&mut rng);
        ids.push(skdm.key_id);
        record = record.process_distribution(&skdm);
    }
    assert_eq!(record.states().len(), MAX_STATES);
    let kept: Vec<u32> = record.states().iter().map(|s| s.key_id()).collect();
    let mut expected: Vec<u32> = ids[1..].to_vec();
    expected.reverse();
    assert_eq!(kept, expected);
}

#[test]
fn records_round_trip_and_refuse_damage() {
    let mut rng = rng();
    let (mut own, theirs) = pair(&mut rng);
    for _ in 0..3 {
        send(&mut own, &mut rng, b"x");
    }
    let late = send(&mut own, &mut rng, b"late");
    let theirs = theirs.decrypt(&late).unwrap().record;
    for record in [&own, &theirs] {
        let bytes = record.serialize();
        assert_eq!(&SenderKeyRecord::deserialize(&bytes).unwrap(), record);
    }
    assert_eq!(
        SenderKeyRecord::deserialize(&SenderKeyRecord::new().serialize()).unwrap(),
        SenderKeyRecord::new()
    );
    assert!(matches!(
        SenderKeyRecord::deserialize(&[0xff, 0xff]),
        Err(RecordError::Decode(_))
    ));
    // version = 2
    assert_eq!(
        SenderKeyRecord::deserialize(&[0x08, 0x02]),
        Err(RecordError::Version(2))
    );
    assert_eq!(
        SenderKeyRecord::deserialize(&[]),
        Err(RecordError::Version(0))
    );
    // A state whose chain seed is 1 byte.
    let bad = [
        0x08, 0x01, 0x12, 0x07, 0x08, 0x01, 0x10, 0x00, 0x1a, 0x01, 0x00,
    ];
    assert_eq!(
        SenderKeyRecord::deserialize(&bad),
        Err(RecordError::Invalid("chain seed"))
    );
}

#[test]
fn wrong_sender_signature_is_refused() {
    let mut rng = rng();
    let (mut own, _) = pair(&mut rng);
    let msg = send(&mut own, &mut rng, b"x");
    // Someone who knows the chain (a member) but not the signing key cannot impersonate.
    let mut skdm = own.current().unwrap().distribution_message();
    skdm.signing_key = crate::signal::KeyPair::generate(&mut rng).public;
    let forged = SenderKeyRecord::new().process_distribution(&skdm);
    assert!(matches!(
        forged.decrypt(&msg),
        Err(GroupError::BadSignature(_))
    ));
}

/// Baileys' SenderChainKey / SenderMessageKey at fixed iterations
/// (tests/vectors/sender-key-baileys.json).
#[test]
fn chain_steps_match_baileys() {
    use super::chain::{ChainKey, MessageKeys};
    let v: serde_json::Value = serde_json::from_str(include_str!(
        "../../../tests/vectors/sender-key-baileys.json"
    ))
    .unwrap();
    let h = |x: &serde_json::Value| hex::decode(x.as_str().unwrap()).unwrap();
    let mut chain = ChainKey {
        iteration: 0,
        seed: h(&v["chain_key"]).try_into().unwrap(),
    };
    let vectors = v["chain"].as_array().unwrap();
    assert_eq!(vectors.len(), 5);
    for want in vectors {
        let at = want["iteration"].as_u64().unwrap() as u32;
        while chain.iteration < at {
            chain = chain.next().unwrap();
        }
        assert_eq!(chain.seed.to_vec(), h(&want["chain_key"]));
        let seed = chain.message_seed();
        assert_eq!(seed.to_vec(), h(&want["message_seed"]));
        let keys = MessageKeys::from_seed(&seed);
        assert_eq!(keys.iv.to_vec(), h(&want["iv"]));
        assert_eq!(keys.cipher_key.to_vec(), h(&want["cipher_key"]));
    }
}
