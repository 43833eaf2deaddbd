//! Property tests for sender keys and plaintext padding: any delivery order within the limits
//! decrypts every message exactly once; replays, tampering and truncation fail with an error
//! and leave the record byte-for-byte as it was; padding round-trips and its checked unpad
//! never panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use wa_core::plaintext::{pad_with, unpad, PaddingError};
use wa_core::signal::group::{
    GroupError, SenderKeyDistributionMessage, SenderKeyMessage, SenderKeyRecord,
};

/// A plaintext and the group message carrying it.
type Sent = (Vec<u8>, Vec<u8>);

/// `count` group messages from a fresh sender, and the receiver's record before any.
fn conversation(seed: u64, count: usize) -> (SenderKeyRecord, Vec<Sent>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut own, skdm) = SenderKeyRecord::new_own(&mut rng);
    let receiver = SenderKeyRecord::new().process_distribution(&skdm);
    let messages = (0..count)
        .map(|i| {
            let plaintext = format!("message {i} of {seed}").into_bytes();
            let out = own.encrypt(&plaintext, &mut rng).unwrap();
            own = out.record;
            (plaintext, out.message)
        })
        .collect();
    (receiver, messages)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_order_decrypts_each_message_exactly_once(
        seed in any::<u64>(),
        order in Just((0..40usize).collect::<Vec<_>>()).prop_shuffle(),
        replays in proptest::collection::vec(0..40usize, 0..10),
    ) {
        let (mut record, messages) = conversation(seed, 40);
        let mut seen = std::collections::HashSet::new();
        // Interleave replays of already-delivered messages among the deliveries.
        let mut replays = replays.into_iter();
        for &i in &order {
            let got = record.decrypt(&messages[i].1).unwrap();
            prop_assert_eq!(&got.plaintext, &messages[i].0);
            prop_assert!(seen.insert(i));
            record = got.record;
            if let Some(r) = replays.next() {
                if seen.contains(&r) {
                    let before = record.serialize();
                    let err = record.decrypt(&messages[r].1).unwrap_err();
                    let is_duplicate = matches!(err, GroupError::DuplicateOrOld { .. });
                    prop_assert!(is_duplicate);
                    prop_assert_eq!(record.serialize(), before);
                }
            }
        }
        prop_assert_eq!(record.current().unwrap().skipped_keys(), 0);
    }

    #[test]
    fn tampering_and_truncation_fail_and_change_nothing(
        seed in any::<u64>(),
        which in 0..8usize,
        delivered in 0..8usize,
        position in any::<prop::sample::Index>(),
        flip in 1..=255u8,
        cut in any::<prop::sample::Index>(),
    ) {
        let (mut record, messages) = conversation(seed, 8);
        for (_, m) in messages.iter().take(delivered) {
            record = record.decrypt(m).unwrap().record;
        }
        let before = record.serialize();
        let original = &messages[which].1;
        let mut tampered = original.clone();
        tampered[position.index(original.len())] ^= flip;
        prop_assert!(record.decrypt(&tampered).is_err());
        let truncated = &original[..cut.index(original.len())];
        prop_assert!(record.decrypt(truncated).is_err());
        prop_assert_eq!(record.serialize(), before);
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = SenderKeyDistributionMessage::parse(&bytes);
        let _ = SenderKeyMessage::parse(&bytes);
        let _ = SenderKeyRecord::deserialize(&bytes);
        let (record, _) = conversation(1, 0);
        let before = record.serialize();
        prop_assert!(record.decrypt(&bytes).is_err());
        prop_assert_eq!(record.serialize(), before);
    }

    #[test]
    fn padding_round_trips(message in proptest::collection::vec(any::<u8>(), 0..300), pad in 1..=16u8) {
        let padded = pad_with(&message, pad);
        prop_assert_eq!(padded.len(), message.len() + usize::from(pad));
        prop_assert_eq!(unpad(&padded), Ok(&message[..]));
    }

    #[test]
    fn unpad_checks_arbitrary_input(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        match unpad(&bytes) {
            Ok(rest) => {
                let pad = usize::from(*bytes.last().unwrap());
                prop_assert_eq!(rest.len() + pad, bytes.len());
                prop_assert!(bytes[rest.len()..].iter().all(|&b| usize::from(b) == pad));
            }
            Err(PaddingError::Empty) => prop_assert!(bytes.is_empty()),
            Err(_) => {}
        }
    }
}
