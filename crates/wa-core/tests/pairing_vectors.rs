//! The pairing vectors of the protocol notes: QR string, build hash, phash (ADV HMAC vectors are
//! checked in `adv_vectors` once the ADV module is in).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use wa_core::ids::{build_hash, participant_hash};
use wa_core::pair::qr::{CompanionWebClientType, QrData};

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/pairing.json")).expect("vector file parses")
}

fn hex32(v: &Value) -> [u8; 32] {
    hex::decode(v.as_str().expect("hex string"))
        .expect("valid hex")
        .try_into()
        .expect("32 bytes")
}

#[test]
fn qr_string_vector_builds_and_parses() {
    let v = &vectors()["qr"];
    let qr = QrData {
        pairing_ref: v["ref"].as_str().unwrap().to_owned(),
        noise_pub: hex32(&v["noise_pub_hex"]),
        identity_pub: hex32(&v["identity_pub_hex"]),
        adv_secret: hex32(&v["adv_secret_hex"]),
        client_type: CompanionWebClientType::from_char(
            v["client_type"].as_str().unwrap().chars().next().unwrap(),
        )
        .unwrap(),
    };
    assert_eq!(qr.client_type, CompanionWebClientType::OtherWebClient);
    let want = v["string"].as_str().unwrap();
    assert_eq!(qr.to_qr_string(), want);
    assert_eq!(QrData::parse(want).unwrap(), qr);
}

#[test]
fn build_hash_vectors() {
    let cases = vectors()["build_hash"]["cases"].as_array().unwrap().clone();
    assert!(!cases.is_empty());
    for case in cases {
        assert_eq!(
            hex::encode(build_hash(case["version"].as_str().unwrap())),
            case["md5_hex"].as_str().unwrap()
        );
    }
}

#[test]
fn phash_vector() {
    let v = &vectors()["phash"];
    let devices: Vec<&str> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(participant_hash(&devices), v["phash"].as_str().unwrap());
    let mut reversed = devices.clone();
    reversed.reverse();
    assert_eq!(participant_hash(&reversed), v["phash"].as_str().unwrap());
}
