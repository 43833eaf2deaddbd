use super::*;
use crate::proto::client_payload::user_agent::Platform;
use crate::signal::{xeddsa, KeyPair};
use rand::rngs::StdRng;
use rand::SeedableRng;

struct Keys {
    identity: KeyPair,
    spk: KeyPair,
    signature: [u8; 64],
}

fn keys(seed: u64) -> Keys {
    let mut rng = StdRng::seed_from_u64(seed);
    let identity = KeyPair::generate(&mut rng);
    let spk = KeyPair::generate(&mut rng);
    let signature = xeddsa::sign_parts(
        &identity.private,
        &[&[DJB_TYPE], spk.public.as_bytes()],
        &[7; 64],
    );
    Keys {
        identity,
        spk,
        signature,
    }
}

fn registration(k: &Keys, config: &ClientConfig) -> ClientPayload {
    registration_payload(
        config,
        &RegistrationKeys {
            registration_id: 0x0102_0304,
            identity: &k.identity.public,
            signed_pre_key_id: 1,
            signed_pre_key: &k.spk.public,
            signed_pre_key_signature: &k.signature,
        },
    )
    .unwrap()
}

#[test]
fn app_version_display_parse_and_hash() {
    let v: AppVersion = "2.3000.1035194821".parse().unwrap();
    assert_eq!(v.to_string(), "2.3000.1035194821");
    assert_eq!(
        hex::encode(v.build_hash()),
        "a2c9471eff910a9e1ae659890a28872d"
    );
    assert_eq!(AppVersion::default(), AppVersion::DEFAULT);
    for bad in [
        "",
        "2.3000",
        "2.3000.1.4",
        "2..1",
        "2.3000.x",
        "2.+3.4",
        "2.3000.99999999999",
    ] {
        assert!(bad.parse::<AppVersion>().is_err(), "{bad}");
    }
}

#[test]
fn defaults_follow_the_reference_clients() {
    let c = ClientConfig::default();
    let p = login_payload(
        &c,
        LoginIdentity {
            username: 1,
            device: 2,
        },
    );
    let ua = p.user_agent.clone().unwrap();
    assert_eq!(ua.platform(), Platform::Web);
    assert_eq!(ua.release_channel(), user_agent::ReleaseChannel::Release);
    assert_eq!(ua.mcc(), "000");
    assert_eq!(ua.os_version(), "0.1");
    assert_eq!(ua.device(), "Desktop");
    assert_eq!(ua.locale_language_iso6391(), "en");
    assert_eq!(ua.locale_country_iso31661_alpha2(), "US");
    assert_eq!(
        p.web_info.as_ref().unwrap().web_sub_platform(),
        web_info::WebSubPlatform::WebBrowser
    );
    assert_eq!(p.connect_type(), ConnectType::WifiUnknown);
    assert_eq!(p.connect_reason(), ConnectReason::UserActivated);
    let props = c.device_props.to_proto();
    assert!(!props.require_full_sync());
    assert_eq!(
        props.history_sync_config.unwrap().storage_quota_mb(),
        10_240
    );
}

#[test]
fn registration_fields_have_the_protocols_shape() {
    let k = keys(1);
    let p = registration(&k, &ClientConfig::default());
    assert_eq!(p.passive, Some(false));
    assert_eq!(p.username, None);
    assert_eq!(p.device, None);
    let d = p.device_pairing_data.clone().unwrap();
    assert_eq!(d.e_regid(), [1, 2, 3, 4]);
    assert_eq!(d.e_keytype(), [5]);
    assert_eq!(d.e_ident(), k.identity.public.as_bytes());
    assert_eq!(d.e_skey_id(), [0, 0, 1]);
    assert_eq!(d.e_skey_val(), k.spk.public.as_bytes());
    assert_eq!(d.build_hash(), AppVersion::DEFAULT.build_hash());
    assert_eq!(
        DeviceProps::decode(d.device_props()).unwrap().os(),
        "Herald"
    );

    let v = validate_client_payload(&p.encode_to_vec()).unwrap();
    assert_eq!(v.app_version, AppVersion::DEFAULT);
    match v.kind {
        PayloadKind::Registration(r) => {
            assert_eq!(r.registration_id, 0x0102_0304);
            assert_eq!(r.signed_pre_key_id, 1);
            assert_eq!(r.identity, k.identity.public);
            assert_eq!(r.signed_pre_key, k.spk.public);
            assert_eq!(r.device_props.os(), "Herald");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn signed_pre_key_id_must_fit_three_bytes() {
    let k = keys(2);
    let keys = RegistrationKeys {
        registration_id: 1,
        identity: &k.identity.public,
        signed_pre_key_id: MAX_SIGNED_PRE_KEY_ID + 1,
        signed_pre_key: &k.spk.public,
        signed_pre_key_signature: &k.signature,
    };
    assert!(matches!(
        registration_payload(&ClientConfig::default(), &keys),
        Err(PayloadError::SignedPreKeyIdRange(0x0100_0000))
    ));
    let keys = RegistrationKeys {
        signed_pre_key_id: MAX_SIGNED_PRE_KEY_ID,
        ..keys
    };
    let p = registration_payload(&ClientConfig::default(), &keys).unwrap();
    assert_eq!(
        p.device_pairing_data.unwrap().e_skey_id(),
        [0xff, 0xff, 0xff]
    );
}

#[test]
fn login_validates() {
    let p = login_payload(
        &ClientConfig::default(),
        LoginIdentity {
            username: 15_551_234_567,
            device: 3,
        },
    );
    assert_eq!((p.passive, p.pull), (Some(true), Some(true)));
    let v = validate_client_payload(&p.encode_to_vec()).unwrap();
    assert_eq!(
        v.kind,
        PayloadKind::Login {
            username: 15_551_234_567,
            device: 3
        }
    );
}

fn reject(p: &ClientPayload) -> PayloadError {
    validate_client_payload(&p.encode_to_vec()).unwrap_err()
}

#[test]
fn registration_rules_are_each_enforced() {
    let k = keys(3);
    let good = registration(&k, &ClientConfig::default());
    let with = |f: &dyn Fn(&mut DevicePairingRegistrationData)| {
        let mut p = good.clone();
        f(p.device_pairing_data.as_mut().unwrap());
        reject(&p)
    };
    assert!(matches!(
        with(&|d| d.e_skey_sig.as_mut().unwrap()[0] ^= 1),
        PayloadError::SignedPreKeySignature(_)
    ));
    // A signature over the bare key, without the 05 type byte, is refused.
    assert!(matches!(
        with(&|d| d.e_skey_sig =
            Some(xeddsa::sign(&k.identity.private, k.spk.public.as_bytes(), &[1; 64]).to_vec())),
        PayloadError::SignedPreKeySignature(_)
    ));
    assert!(matches!(
        with(&|d| d.build_hash = Some(crate::ids::build_hash("2.3000.1").to_vec())),
        PayloadError::BuildHashMismatch(_)
    ));
    assert!(matches!(
        with(&|d| d.e_keytype = Some(vec![6])),
        PayloadError::KeyType
    ));
    assert!(matches!(
        with(&|d| d.e_regid = Some(vec![1, 2, 3])),
        PayloadError::FieldLength {
            field: "devicePairingData.eRegid",
            expected: 4,
            got: 3
        }
    ));
    assert!(matches!(
        with(&|d| d.e_skey_id = Some(vec![0, 0, 0, 1])),
        PayloadError::FieldLength {
            expected: 3,
            got: 4,
            ..
        }
    ));
    assert!(matches!(
        with(&|d| d.e_ident = Some(vec![5; 33])),
        PayloadError::FieldLength {
            expected: 32,
            got: 33,
            ..
        }
    ));
    assert!(matches!(
        with(&|d| d.e_skey_val = None),
        PayloadError::MissingField("devicePairingData.eSkeyVal")
    ));
    assert!(matches!(
        with(&|d| d.device_props = Some(vec![0x0a, 0x10])),
        PayloadError::DeviceProps(_)
    ));
    assert!(matches!(
        with(&|d| d.device_props = None),
        PayloadError::MissingField("devicePairingData.deviceProps")
    ));

    let mut p = good.clone();
    p.passive = Some(true);
    assert!(matches!(
        reject(&p),
        PayloadError::Passive { expected: false }
    ));
    let mut p = good.clone();
    p.username = Some(1);
    assert!(matches!(reject(&p), PayloadError::Ambiguous));
    let mut p = good.clone();
    p.device = Some(1);
    assert!(matches!(reject(&p), PayloadError::BadDevice));
    let mut p = good.clone();
    p.user_agent
        .as_mut()
        .unwrap()
        .app_version
        .as_mut()
        .unwrap()
        .tertiary = None;
    assert!(matches!(
        reject(&p),
        PayloadError::MissingField("userAgent.appVersion.tertiary")
    ));
    // The build hash follows the configured version.
    let config = ClientConfig {
        app_version: "2.3000.1035194821".parse().unwrap(),
        ..ClientConfig::default()
    };
    assert!(validate_client_payload(&registration(&k, &config).encode_to_vec()).is_ok());
}

#[test]
fn login_rules_are_each_enforced() {
    let good = login_payload(
        &ClientConfig::default(),
        LoginIdentity {
            username: 15_551_234_567,
            device: 3,
        },
    );
    let mut p = good.clone();
    p.passive = Some(false);
    assert!(matches!(
        reject(&p),
        PayloadError::Passive { expected: true }
    ));
    let mut p = good.clone();
    p.pull = None;
    assert!(matches!(reject(&p), PayloadError::Pull { expected: true }));
    let mut p = good.clone();
    p.device = None;
    assert!(matches!(reject(&p), PayloadError::MissingField("device")));
    let mut p = good.clone();
    p.device = Some(0);
    assert!(matches!(reject(&p), PayloadError::BadDevice));
    let mut p = good.clone();
    p.username = None;
    assert!(matches!(
        reject(&p),
        PayloadError::NeitherRegistrationNorLogin
    ));
    let mut p = good.clone();
    p.user_agent = None;
    assert!(matches!(
        reject(&p),
        PayloadError::MissingField("userAgent")
    ));
    let mut p = good.clone();
    p.user_agent.as_mut().unwrap().platform = None;
    assert!(matches!(
        reject(&p),
        PayloadError::MissingField("userAgent.platform")
    ));
    assert!(matches!(
        validate_client_payload(&[0x0a, 0xff]),
        Err(PayloadError::Decode(_))
    ));
}
