//! ClientPayloads and a pairing made by Baileys (tests/vectors/baileys-payloads.json, written by
//! conformance/gen-payload-vectors.mjs): our validator accepts Baileys' payloads with the same
//! values, our companion accepts a phone identity built with Baileys' primitives, and our phone
//! accepts Baileys' pair-device-sign.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use prost::Message as _;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;
use wa_core::pair::adv::verify_pair_success_identity;
use wa_core::pair::phone::{verify_pair_device_sign, IssuedIdentity, PairDeviceSignError};
use wa_core::payload::{validate_client_payload, AppVersion, PayloadKind};
use wa_core::proto::AdvSignedDeviceIdentity;
use wa_core::signal::{KeyPair, PublicKey};

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/baileys-payloads.json")).expect("vector file parses")
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn key(v: &Value) -> [u8; 32] {
    bytes(v).try_into().expect("32 bytes")
}

#[test]
fn baileys_registrations_validate_with_their_values() {
    let v = vectors();
    let version: AppVersion = v["app_version"].as_str().unwrap().parse().unwrap();
    let regs = v["registrations"].as_array().unwrap();
    assert_eq!(regs.len(), 3);
    for r in regs {
        let valid = validate_client_payload(&bytes(&r["hex"])).unwrap();
        assert_eq!(valid.app_version, version);
        let PayloadKind::Registration(reg) = valid.kind else {
            panic!("not a registration");
        };
        assert_eq!(
            u64::from(reg.registration_id),
            r["registration_id"].as_u64().unwrap()
        );
        assert_eq!(
            u64::from(reg.signed_pre_key_id),
            r["signed_pre_key_id"].as_u64().unwrap()
        );
        assert_eq!(reg.identity.as_bytes(), &key(&v["identity_public_hex"]));
        assert_eq!(
            reg.signed_pre_key.as_bytes(),
            &key(&v["signed_pre_key_public_hex"])
        );
        assert_eq!(reg.device_props.os(), "Mac OS");
    }
}

#[test]
fn baileys_logins_validate_with_their_values() {
    let v = vectors();
    for l in v["logins"].as_array().unwrap() {
        let valid = validate_client_payload(&bytes(&l["hex"])).unwrap();
        assert_eq!(
            valid.kind,
            PayloadKind::Login {
                username: l["username"].as_u64().unwrap(),
                device: u32::try_from(l["device"].as_u64().unwrap()).unwrap(),
            }
        );
    }
}

#[test]
fn baileys_phone_identity_passes_our_companion_checks() {
    let v = vectors();
    let identity = KeyPair::from_private_bytes(key(&v["identity_private_hex"]));
    assert_eq!(identity.public.as_bytes(), &key(&v["identity_public_hex"]));
    let adv_secret = key(&v["adv_secret_hex"]);
    let mut rng = StdRng::seed_from_u64(9);
    for p in v["pairings"].as_array().unwrap() {
        let paired = verify_pair_success_identity(
            &bytes(&p["device_identity_hex"]),
            &adv_secret,
            &identity,
            &mut rng,
        )
        .unwrap();
        assert_eq!(
            u64::from(paired.key_index),
            p["key_index"].as_u64().unwrap()
        );
        assert_eq!(
            paired.account_signature_key.as_bytes(),
            &key(&v["account_public_hex"])
        );
        // Baileys' reply and ours differ only in the device signature (random nonce).
        let theirs =
            AdvSignedDeviceIdentity::decode(bytes(&p["baileys_reply_hex"]).as_slice()).unwrap();
        assert_eq!(theirs.details, paired.reply.details);
        assert_eq!(theirs.account_signature, paired.reply.account_signature);
        assert_eq!(theirs.account_signature_key, None);
        assert_eq!(paired.reply.account_signature_key, None);
        let wrong = [0u8; 32];
        assert!(verify_pair_success_identity(
            &bytes(&p["device_identity_hex"]),
            &wrong,
            &identity,
            &mut rng
        )
        .is_err());
    }
}

#[test]
fn baileys_pair_device_sign_passes_our_phone_checks() {
    let v = vectors();
    let companion = PublicKey::from_bytes(key(&v["identity_public_hex"]));
    for p in v["pairings"].as_array().unwrap() {
        let issued =
            IssuedIdentity::from_device_identity(&bytes(&p["device_identity_hex"]), &companion)
                .unwrap();
        let key_index = u32::try_from(p["baileys_reply_key_index"].as_u64().unwrap()).unwrap();
        let reply = bytes(&p["baileys_reply_hex"]);
        let recorded = verify_pair_device_sign(&issued, key_index, &reply).unwrap();
        assert_eq!(
            recorded.account_signature_key.as_deref(),
            Some(&key(&v["account_public_hex"])[..])
        );
        assert!(matches!(
            verify_pair_device_sign(&issued, key_index + 1, &reply),
            Err(PairDeviceSignError::KeyIndexMismatch { .. })
        ));
    }
}

#[test]
fn baileys_pairing_code_steps_match_ours() {
    use wa_core::pair::code::{
        derive_adv_secret, open_key_bundle, seal_key_bundle, unwrap_ephemeral_pub,
        wrap_ephemeral_pub, KeyBundle, LinkingCode, DEFAULT_PBKDF2_ITERATIONS,
    };
    use wa_core::signal::PrivateKey;

    let v = vectors();
    let p = &v["pairing_code"];
    let code_bytes: [u8; 5] = bytes(&p["code_bytes_hex"]).try_into().unwrap();
    let code = LinkingCode::from_random_bytes(code_bytes);
    assert_eq!(code.as_str(), p["code"].as_str().unwrap());

    let companion_eph = PrivateKey::from_bytes(key(&p["companion_ephemeral_private_hex"]));
    let primary_eph = PrivateKey::from_bytes(key(&p["primary_ephemeral_private_hex"]));
    let wrapped = bytes(&p["wrapped_companion_ephemeral_hex"]);
    let ours = wrap_ephemeral_pub(
        &code,
        companion_eph.public_key().as_bytes(),
        &[1; 32],
        &[2; 16],
        DEFAULT_PBKDF2_ITERATIONS,
    );
    assert_eq!(ours.as_slice(), wrapped.as_slice());
    let primary_pub = unwrap_ephemeral_pub(
        &code,
        &bytes(&p["wrapped_primary_ephemeral_hex"]),
        DEFAULT_PBKDF2_ITERATIONS,
    )
    .unwrap();
    assert_eq!(&primary_pub, primary_eph.public_key().as_bytes());

    let es = companion_eph.agree(&PublicKey::from_bytes(primary_pub));
    assert_eq!(es, key(&p["ephemeral_shared_hex"]));
    let bundle = KeyBundle {
        companion_identity_pub: key(&v["identity_public_hex"]),
        primary_identity_pub: key(&v["account_public_hex"]),
        adv_random: key(&p["adv_random_hex"]),
    };
    let sealed = seal_key_bundle(&es, &[5; 32], &[6; 12], &bundle);
    assert_eq!(
        hex::encode(&sealed),
        p["wrapped_key_bundle_hex"].as_str().unwrap()
    );
    assert_eq!(open_key_bundle(&es, &sealed).unwrap(), bundle);

    let identity = PrivateKey::from_bytes(key(&v["identity_private_hex"]));
    let identity_shared = identity.agree(&PublicKey::from_bytes(bundle.primary_identity_pub));
    assert_eq!(
        derive_adv_secret(&es, &identity_shared, &bundle.adv_random),
        key(&p["adv_secret_hex"])
    );
}
