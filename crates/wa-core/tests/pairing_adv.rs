//! The ADV identity from both ends: the phone issues it, the companion verifies and signs it,
//! the phone checks the answer. Every check is shown to fail on its own fault.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use prost::Message as _;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;
use wa_core::pair::adv::{
    adv_hmac, verify_pair_success_identity, AdvError, AdvLayer, PairErrorReply,
};
use wa_core::pair::phone::{
    issue_device_identity, verify_pair_device_sign, IssuedIdentity, PairDeviceSignError,
};
use wa_core::proto::{
    AdvDeviceIdentity, AdvEncryptionType, AdvSignedDeviceIdentity, AdvSignedDeviceIdentityHmac,
};
use wa_core::signal::{xeddsa, KeyPair};

struct World {
    rng: StdRng,
    account: KeyPair,
    companion: KeyPair,
    adv_secret: [u8; 32],
}

fn world(seed: u64) -> World {
    let mut rng = StdRng::seed_from_u64(seed);
    let account = KeyPair::generate(&mut rng);
    let companion = KeyPair::generate(&mut rng);
    World {
        rng,
        account,
        companion,
        adv_secret: [0x5a; 32],
    }
}

fn device(device_type: AdvEncryptionType) -> AdvDeviceIdentity {
    AdvDeviceIdentity {
        raw_id: Some(123_456_789),
        timestamp: Some(1_764_000_000),
        key_index: Some(7),
        account_type: Some(device_type as i32),
        device_type: Some(device_type as i32),
    }
}

fn issue(w: &mut World, device_type: AdvEncryptionType) -> IssuedIdentity {
    issue_device_identity(
        &w.account,
        &w.companion.public,
        &w.adv_secret,
        &device(device_type),
        &mut w.rng,
    )
}

#[test]
fn adv_hmac_vectors() {
    let v: Value =
        serde_json::from_str(include_str!("vectors/pairing.json")).expect("vector file parses");
    let v = &v["adv_hmac"];
    let secret: [u8; 32] = hex::decode(v["adv_secret_hex"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let details = hex::decode(v["details_hex"].as_str().unwrap()).unwrap();
    assert_eq!(
        hex::encode(adv_hmac(&secret, AdvEncryptionType::E2ee, &details)),
        v["hmac_e2ee_hex"].as_str().unwrap()
    );
    assert_eq!(
        hex::encode(adv_hmac(&secret, AdvEncryptionType::Hosted, &details)),
        v["hmac_hosted_hex"].as_str().unwrap()
    );
}

#[test]
fn full_pairing_round_trip() {
    for device_type in [AdvEncryptionType::E2ee, AdvEncryptionType::Hosted] {
        let mut w = world(1);
        let issued = issue(&mut w, device_type);
        let paired = verify_pair_success_identity(
            &issued.device_identity,
            &w.adv_secret,
            &w.companion,
            &mut w.rng,
        )
        .unwrap();
        assert_eq!(paired.key_index, 7);
        assert_eq!(paired.device, device(device_type));
        assert_eq!(paired.account_signature_key, w.account.public);
        assert_eq!(
            paired.account.account_signature_key.as_deref(),
            Some(w.account.public.as_bytes().as_slice())
        );
        assert!(paired.account.device_signature.is_some());
        assert_eq!(paired.reply.account_signature_key, None);
        assert_eq!(
            paired.reply.device_signature,
            paired.account.device_signature
        );

        let recorded =
            verify_pair_device_sign(&issued, paired.key_index, &paired.reply_bytes()).unwrap();
        assert_eq!(recorded, paired.account);
    }
}

#[test]
fn companion_rejects_bad_hmac_and_wrong_secret() {
    let mut w = world(2);
    let issued = issue(&mut w, AdvEncryptionType::E2ee);
    let err = verify_pair_success_identity(
        &issued.device_identity,
        &[0x5b; 32],
        &w.companion,
        &mut w.rng,
    )
    .unwrap_err();
    assert!(matches!(err, AdvError::HmacMismatch));
    assert_eq!(err.reply(), PairErrorReply::HmacMismatch);

    let mut container =
        AdvSignedDeviceIdentityHmac::decode(issued.device_identity.as_slice()).unwrap();
    container.hmac.as_mut().unwrap()[0] ^= 1;
    let err = verify_pair_success_identity(
        &container.encode_to_vec(),
        &w.adv_secret,
        &w.companion,
        &mut w.rng,
    )
    .unwrap_err();
    assert!(matches!(err, AdvError::HmacMismatch));

    // Claiming HOSTED for an E2EE tag changes the HMAC input.
    let mut container =
        AdvSignedDeviceIdentityHmac::decode(issued.device_identity.as_slice()).unwrap();
    container.account_type = Some(AdvEncryptionType::Hosted as i32);
    assert!(matches!(
        verify_pair_success_identity(
            &container.encode_to_vec(),
            &w.adv_secret,
            &w.companion,
            &mut w.rng
        ),
        Err(AdvError::HmacMismatch)
    ));
}

/// Re-wraps a modified ADVSignedDeviceIdentity with a valid HMAC, so only the later checks can
/// catch the fault.
fn rewrap(w: &World, signed: &AdvSignedDeviceIdentity) -> Vec<u8> {
    let bytes = signed.encode_to_vec();
    AdvSignedDeviceIdentityHmac {
        hmac: Some(adv_hmac(&w.adv_secret, AdvEncryptionType::E2ee, &bytes).to_vec()),
        details: Some(bytes),
        account_type: None,
    }
    .encode_to_vec()
}

fn inner(issued: &IssuedIdentity) -> AdvSignedDeviceIdentity {
    let container = AdvSignedDeviceIdentityHmac::decode(issued.device_identity.as_slice()).unwrap();
    AdvSignedDeviceIdentity::decode(container.details.unwrap().as_slice()).unwrap()
}

#[test]
fn companion_rejects_bad_account_signature() {
    let mut w = world(3);
    let issued = issue(&mut w, AdvEncryptionType::E2ee);
    let check = |w: &mut World, signed: &AdvSignedDeviceIdentity| {
        verify_pair_success_identity(&rewrap(w, signed), &w.adv_secret, &w.companion, &mut w.rng)
    };

    let mut s = inner(&issued);
    s.account_signature.as_mut().unwrap()[5] ^= 1;
    let err = check(&mut w, &s).unwrap_err();
    assert!(matches!(err, AdvError::AccountSignature(_)), "{err:?}");
    assert_eq!(err.reply(), PairErrorReply::SignatureMismatch);

    // Tampered details: the signature no longer covers them.
    let mut s = inner(&issued);
    let mut d = device(AdvEncryptionType::E2ee);
    d.key_index = Some(8);
    s.details = Some(d.encode_to_vec());
    assert!(matches!(
        check(&mut w, &s),
        Err(AdvError::AccountSignature(_))
    ));

    // Signed for another companion.
    let other = KeyPair::generate(&mut w.rng);
    let for_other = issue_device_identity(
        &w.account,
        &other.public,
        &w.adv_secret,
        &device(AdvEncryptionType::E2ee),
        &mut w.rng,
    );
    assert!(matches!(
        verify_pair_success_identity(
            &for_other.device_identity,
            &w.adv_secret,
            &w.companion,
            &mut w.rng
        ),
        Err(AdvError::AccountSignature(_))
    ));

    // A hosted device whose account signed with the E2EE prefix.
    let mut s = inner(&issued);
    s.details = Some(device(AdvEncryptionType::Hosted).encode_to_vec());
    let mut random = [0u8; 64];
    rand::RngCore::fill_bytes(&mut w.rng, &mut random);
    s.account_signature = Some(
        xeddsa::sign_parts(
            &w.account.private,
            &[
                &[6, 0],
                s.details.as_deref().unwrap(),
                w.companion.public.as_bytes(),
            ],
            &random,
        )
        .to_vec(),
    );
    assert!(matches!(
        check(&mut w, &s),
        Err(AdvError::AccountSignature(_))
    ));

    let mut s = inner(&issued);
    s.account_signature_key = Some(vec![1; 33]);
    assert!(matches!(
        check(&mut w, &s),
        Err(AdvError::AccountSignatureKeyLength(33))
    ));
    let mut s = inner(&issued);
    s.account_signature.as_mut().unwrap().pop();
    assert!(matches!(
        check(&mut w, &s),
        Err(AdvError::AccountSignatureLength(63))
    ));
    let mut s = inner(&issued);
    s.account_signature_key = None;
    let err = check(&mut w, &s).unwrap_err();
    assert!(matches!(err, AdvError::MissingField(_)));
    assert_eq!(err.reply(), PairErrorReply::InternalError);
}

#[test]
fn companion_reports_undecodable_layers() {
    let mut w = world(4);
    let err =
        verify_pair_success_identity(&[0x0a, 0x05, 1], &w.adv_secret, &w.companion, &mut w.rng)
            .unwrap_err();
    assert!(matches!(
        err,
        AdvError::Decode {
            layer: AdvLayer::SignedDeviceIdentityHmac,
            ..
        }
    ));
    assert_eq!(err.reply(), PairErrorReply::InternalError);

    let garbage = vec![0xff, 0xff];
    let container = AdvSignedDeviceIdentityHmac {
        hmac: Some(adv_hmac(&w.adv_secret, AdvEncryptionType::E2ee, &garbage).to_vec()),
        details: Some(garbage),
        account_type: None,
    };
    assert!(matches!(
        verify_pair_success_identity(
            &container.encode_to_vec(),
            &w.adv_secret,
            &w.companion,
            &mut w.rng
        ),
        Err(AdvError::Decode {
            layer: AdvLayer::SignedDeviceIdentity,
            ..
        })
    ));

    let issued = issue(&mut w, AdvEncryptionType::E2ee);
    let mut s = inner(&issued);
    s.details = Some(vec![0x08]);
    assert!(matches!(
        verify_pair_success_identity(&rewrap(&w, &s), &w.adv_secret, &w.companion, &mut w.rng),
        Err(AdvError::Decode {
            layer: AdvLayer::DeviceIdentity,
            ..
        })
    ));
}

fn companion_reply(w: &mut World, issued: &IssuedIdentity) -> AdvSignedDeviceIdentity {
    verify_pair_success_identity(
        &issued.device_identity,
        &w.adv_secret,
        &w.companion,
        &mut w.rng,
    )
    .unwrap()
    .reply
}

#[test]
fn phone_rejects_kept_account_key_wrong_index_and_tampering() {
    let mut w = world(5);
    let issued = issue(&mut w, AdvEncryptionType::E2ee);
    let reply = companion_reply(&mut w, &issued);

    let mut kept = reply.clone();
    kept.account_signature_key = Some(w.account.public.as_bytes().to_vec());
    assert!(matches!(
        verify_pair_device_sign(&issued, 7, &kept.encode_to_vec()),
        Err(PairDeviceSignError::AccountSignatureKeyKept)
    ));

    assert!(matches!(
        verify_pair_device_sign(&issued, 8, &reply.encode_to_vec()),
        Err(PairDeviceSignError::KeyIndexMismatch {
            expected: 7,
            got: 8
        })
    ));

    let mut tampered = reply.clone();
    tampered.details.as_mut().unwrap().push(0);
    assert!(matches!(
        verify_pair_device_sign(&issued, 7, &tampered.encode_to_vec()),
        Err(PairDeviceSignError::DetailsMismatch)
    ));

    let mut tampered = reply.clone();
    tampered.account_signature.as_mut().unwrap()[0] ^= 1;
    assert!(matches!(
        verify_pair_device_sign(&issued, 7, &tampered.encode_to_vec()),
        Err(PairDeviceSignError::AccountSignatureMismatch)
    ));

    let mut tampered = reply.clone();
    tampered.device_signature.as_mut().unwrap()[10] ^= 1;
    assert!(matches!(
        verify_pair_device_sign(&issued, 7, &tampered.encode_to_vec()),
        Err(PairDeviceSignError::DeviceSignature(_))
    ));

    let mut missing = reply.clone();
    missing.device_signature = None;
    assert!(matches!(
        verify_pair_device_sign(&issued, 7, &missing.encode_to_vec()),
        Err(PairDeviceSignError::MissingDeviceSignature)
    ));

    // A device signature by another companion for the same details does not verify.
    let mut impostor = world(6);
    impostor.account = w.account.clone();
    impostor.adv_secret = w.adv_secret;
    let for_impostor = issue(&mut impostor, AdvEncryptionType::E2ee);
    let mut forged = reply.clone();
    forged.device_signature = companion_reply(&mut impostor, &for_impostor).device_signature;
    assert!(matches!(
        verify_pair_device_sign(&issued, 7, &forged.encode_to_vec()),
        Err(PairDeviceSignError::DeviceSignature(_))
    ));

    assert!(matches!(
        verify_pair_device_sign(&issued, 7, &[0x0a, 0x09]),
        Err(PairDeviceSignError::Decode(_))
    ));
}

#[test]
fn issued_identity_reads_back_from_its_bytes() {
    let mut w = world(7);
    let issued = issue(&mut w, AdvEncryptionType::Hosted);
    let back =
        IssuedIdentity::from_device_identity(&issued.device_identity, &w.companion.public).unwrap();
    assert_eq!(back, issued);
    assert!(IssuedIdentity::from_device_identity(&[0x0a, 0x01], &w.companion.public).is_err());
    let empty = AdvSignedDeviceIdentityHmac::default().encode_to_vec();
    assert!(IssuedIdentity::from_device_identity(&empty, &w.companion.public).is_err());
}
