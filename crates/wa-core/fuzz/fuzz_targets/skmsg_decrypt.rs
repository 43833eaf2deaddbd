//! Group messages (`skmsg`) against a fixed sender-key record: parsing and decryption must
//! never panic, and a failure leaves nothing changed (the record is only ever borrowed; the
//! new record comes back with a success).
//!
//! The first byte picks the mode. Mode 0 feeds the rest as a whole wire message, which almost
//! never carries a valid signature. Mode 1 signs what the fuzzer chose (an iteration and a
//! ciphertext, optionally the key id) with the sender's key, so the iteration window, the
//! skipped-key bookkeeping and the AES padding check are reached too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wa_core::proto::signal_wire::SenderKeyMessage as WireMessage;
use wa_core::proto::ProtoMessage;
use wa_core::signal::group::{
    GroupError, SenderKeyDistributionMessage, SenderKeyMessage, SenderKeyRecord, MAX_SKIPPED_KEYS,
};
use wa_core::signal::{xeddsa, KeyPair};

const KEY_ID: u32 = 0x0123_4567;

fn fixed() -> (KeyPair, SenderKeyRecord) {
    let signing = KeyPair::from_private_bytes([0x61; 32]);
    let skdm = SenderKeyDistributionMessage {
        key_id: KEY_ID,
        iteration: 10,
        chain_key: [0x5a; 32],
        signing_key: signing.public,
    };
    (signing, SenderKeyRecord::new().process_distribution(&skdm))
}

fn check(record: &SenderKeyRecord, message: &[u8]) {
    let before = record.serialize();
    match record.decrypt(message) {
        Ok(out) => {
            let state = out.record.current().unwrap_or_else(|| unreachable!());
            assert!(state.skipped_keys() <= MAX_SKIPPED_KEYS);
            // The same message twice is always refused.
            assert!(matches!(
                out.record.decrypt(message),
                Err(GroupError::DuplicateOrOld { .. })
            ));
            let back = SenderKeyRecord::deserialize(&out.record.serialize());
            assert_eq!(back.as_ref(), Ok(&out.record));
        }
        Err(_) => {}
    }
    assert_eq!(record.serialize(), before);
}

fuzz_target!(|data: &[u8]| {
    let (signing, record) = fixed();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let _ = SenderKeyMessage::parse(rest);
        let _ = SenderKeyDistributionMessage::parse(rest);
        check(&record, rest);
        return;
    }
    if rest.len() < 4 {
        return;
    }
    // Iterations near the fixed chain (10) are the interesting ones; the high bits of the
    // mode byte sometimes give a wild one or a wrong key id.
    let raw = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
    let iteration = if mode & 2 == 0 { raw % 4096 } else { raw };
    let key_id = if mode & 4 == 0 { KEY_ID } else { raw };
    let wire = WireMessage {
        id: Some(key_id),
        iteration: Some(iteration),
        ciphertext: Some(rest[4..].to_vec()),
    };
    let mut message = vec![0x33];
    message.extend_from_slice(&wire.encode_to_vec());
    let signature = xeddsa::sign(&signing.private, &message, &[7; 64]);
    message.extend_from_slice(&signature);
    check(&record, &message);
});
