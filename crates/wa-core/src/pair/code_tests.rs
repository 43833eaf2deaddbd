use super::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

// Few iterations keep the tests fast; the default is exercised once below.
const FAST: u32 = 2;

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

#[test]
fn linking_code_is_big_endian_base32_of_five_bytes() {
    assert_eq!(LinkingCode::from_random_bytes([0; 5]).as_str(), "11111111");
    assert_eq!(
        LinkingCode::from_random_bytes([0xff; 5]).as_str(),
        "ZZZZZZZZ"
    );
    // 0x0842108421 = 00001 00001 00001 … in 5-bit groups: every digit is alphabet[1].
    assert_eq!(
        LinkingCode::from_random_bytes([0x08, 0x42, 0x10, 0x84, 0x21]).as_str(),
        "22222222"
    );
    // Only the last group set: 31 -> 'Z'.
    assert_eq!(
        LinkingCode::from_random_bytes([0, 0, 0, 0, 0x1f]).as_str(),
        "1111111Z"
    );
    assert_eq!(
        LinkingCode::from_random_bytes([0xf8, 0, 0, 0, 0]).display(),
        "Z111-1111"
    );
}

#[test]
fn linking_code_parse_accepts_typed_forms_only() {
    let code = LinkingCode::generate(&mut rng(1));
    assert_eq!(LinkingCode::parse(&code.display()).unwrap(), code);
    assert_eq!(LinkingCode::parse(code.as_str()).unwrap(), code);
    assert_eq!(
        LinkingCode::parse(&code.as_str().to_ascii_lowercase()).unwrap(),
        code
    );
    for bad in [
        "",
        "1234567",
        "123456789",
        "ABCD-EFG0",
        "ABCDEFGI",
        "AB-CDEFGH",
        "ABCD--EFGH",
    ] {
        assert!(
            matches!(LinkingCode::parse(bad), Err(PairCodeError::BadLinkingCode)),
            "{bad}"
        );
    }
    assert!(!format!("{code:?}").contains(code.as_str()));
}

#[test]
fn wrap_unwrap_round_trip_and_layout() {
    let code = LinkingCode::from_random_bytes([1, 2, 3, 4, 5]);
    let wrapped = wrap_ephemeral_pub(&code, &[9; 32], &[1; 32], &[2; 16], FAST);
    assert_eq!(&wrapped[..32], &[1; 32]);
    assert_eq!(&wrapped[32..48], &[2; 16]);
    assert_ne!(&wrapped[48..], &[9; 32]);
    assert_eq!(
        unwrap_ephemeral_pub(&code, &wrapped, FAST).unwrap(),
        [9; 32]
    );
    let other = LinkingCode::from_random_bytes([1, 2, 3, 4, 6]);
    assert_ne!(
        unwrap_ephemeral_pub(&other, &wrapped, FAST).unwrap(),
        [9; 32]
    );
    assert_ne!(
        unwrap_ephemeral_pub(&code, &wrapped, FAST + 1).unwrap(),
        [9; 32]
    );
    assert!(matches!(
        unwrap_ephemeral_pub(&code, &wrapped[..79], FAST),
        Err(PairCodeError::WrappedEphemeralLength(79))
    ));
}

#[test]
fn default_iterations_are_the_protocols() {
    assert_eq!(DEFAULT_PBKDF2_ITERATIONS, 2 << 16);
    let code = LinkingCode::from_random_bytes([7; 5]);
    let wrapped = wrap_ephemeral_pub(
        &code,
        &[3; 32],
        &[4; 32],
        &[5; 16],
        DEFAULT_PBKDF2_ITERATIONS,
    );
    assert_eq!(
        unwrap_ephemeral_pub(&code, &wrapped, DEFAULT_PBKDF2_ITERATIONS).unwrap(),
        [3; 32]
    );
}

#[test]
fn key_bundle_seal_open_and_tamper() {
    let bundle = KeyBundle {
        companion_identity_pub: [1; 32],
        primary_identity_pub: [2; 32],
        adv_random: [3; 32],
    };
    let sealed = seal_key_bundle(&[5; 32], &[6; 32], &[7; 12], &bundle);
    assert_eq!(sealed.len(), WRAPPED_KEY_BUNDLE_LEN);
    assert_eq!(open_key_bundle(&[5; 32], &sealed).unwrap(), bundle);
    assert!(matches!(
        open_key_bundle(&[4; 32], &sealed),
        Err(PairCodeError::KeyBundleDecrypt)
    ));
    for i in [0, 40, 100, sealed.len() - 1] {
        let mut t = sealed.clone();
        t[i] ^= 1;
        assert!(
            matches!(
                open_key_bundle(&[5; 32], &t),
                Err(PairCodeError::KeyBundleDecrypt)
            ),
            "byte {i}"
        );
    }
    assert!(matches!(
        open_key_bundle(&[5; 32], &sealed[1..]),
        Err(PairCodeError::WrappedKeyBundleLength(_))
    ));
}

struct Parties {
    companion_identity: PrivateKey,
    primary_identity: PrivateKey,
}

fn parties(r: &mut StdRng) -> Parties {
    Parties {
        companion_identity: PrivateKey::generate(r),
        primary_identity: PrivateKey::generate(r),
    }
}

fn public(private: &PrivateKey) -> [u8; 32] {
    *private.public_key().as_bytes()
}

fn public_of(bytes: [u8; 32]) -> [u8; 32] {
    public(&PrivateKey::from_bytes(bytes))
}

#[test]
fn companion_and_phone_derive_the_same_adv_secret() {
    let r = &mut rng(42);
    let p = parties(r);
    let (companion, hello) = CompanionLinking::start(r, FAST);
    let typed = LinkingCode::parse(&companion.code().display()).unwrap();
    let (phone, primary_wrapped) =
        PrimaryLinking::on_companion_hello(r, &typed, &hello, FAST).unwrap();
    let finish = companion
        .finish(
            r,
            &p.companion_identity,
            &primary_wrapped,
            &public(&p.primary_identity),
        )
        .unwrap();
    let phone_secret = phone
        .on_companion_finish(
            &p.primary_identity,
            &finish.wrapped_key_bundle,
            &public(&p.companion_identity),
        )
        .unwrap();
    assert_eq!(phone_secret, finish.adv_secret);
}

#[test]
fn wrong_typed_code_fails_at_the_key_bundle() {
    let r = &mut rng(43);
    let p = parties(r);
    let (companion, hello) = CompanionLinking::start(r, FAST);
    let mut wrong = LinkingCode::generate(r);
    while wrong == *companion.code() {
        wrong = LinkingCode::generate(r);
    }
    let (phone, primary_wrapped) =
        PrimaryLinking::on_companion_hello(r, &wrong, &hello, FAST).unwrap();
    let finish = companion
        .finish(
            r,
            &p.companion_identity,
            &primary_wrapped,
            &public(&p.primary_identity),
        )
        .unwrap();
    assert!(matches!(
        phone.on_companion_finish(
            &p.primary_identity,
            &finish.wrapped_key_bundle,
            &public(&p.companion_identity)
        ),
        Err(PairCodeError::KeyBundleDecrypt)
    ));
}

#[test]
fn phone_checks_both_identities_in_the_bundle() {
    let r = &mut rng(44);
    let p = parties(r);
    let (companion, hello) = CompanionLinking::start(r, FAST);
    let (phone, primary_wrapped) =
        PrimaryLinking::on_companion_hello(r, companion.code(), &hello, FAST).unwrap();
    // The companion was told a different primary identity than the phone's own.
    let finish = companion
        .finish(
            r,
            &p.companion_identity,
            &primary_wrapped,
            &public_of([9; 32]),
        )
        .unwrap();
    assert!(matches!(
        phone.on_companion_finish(
            &p.primary_identity,
            &finish.wrapped_key_bundle,
            &public(&p.companion_identity)
        ),
        Err(PairCodeError::PrimaryIdentityMismatch)
    ));
    let finish = companion
        .finish(
            r,
            &p.companion_identity,
            &primary_wrapped,
            &public(&p.primary_identity),
        )
        .unwrap();
    assert!(matches!(
        phone.on_companion_finish(
            &p.primary_identity,
            &finish.wrapped_key_bundle,
            &public_of([8; 32])
        ),
        Err(PairCodeError::CompanionIdentityMismatch)
    ));
    assert!(matches!(
        phone.on_companion_finish(&p.primary_identity, &finish.wrapped_key_bundle, &[1; 31]),
        Err(PairCodeError::IdentityKeyLength(31))
    ));
}

#[test]
fn low_order_peer_key_is_refused() {
    let r = &mut rng(45);
    let p = parties(r);
    let (companion, _) = CompanionLinking::start(r, FAST);
    let zero_wrapped = wrap_ephemeral_pub(companion.code(), &[0; 32], &[1; 32], &[2; 16], FAST);
    assert!(matches!(
        companion.finish(
            r,
            &p.companion_identity,
            &zero_wrapped,
            &public(&p.primary_identity)
        ),
        Err(PairCodeError::NonContributory)
    ));
}

#[test]
fn adv_secret_depends_on_every_input() {
    let base = derive_adv_secret(&[1; 32], &[2; 32], &[3; 32]);
    assert_ne!(base, derive_adv_secret(&[0; 32], &[2; 32], &[3; 32]));
    assert_ne!(base, derive_adv_secret(&[1; 32], &[0; 32], &[3; 32]));
    assert_ne!(base, derive_adv_secret(&[1; 32], &[2; 32], &[0; 32]));
}

#[test]
fn phone_number_validation() {
    assert_eq!(
        PhoneNumber::parse("15551234567").unwrap().as_str(),
        "15551234567"
    );
    assert!(PhoneNumber::parse("1234567").is_ok());
    assert!(PhoneNumber::parse("123456789012345").is_ok());
    assert_eq!(
        PhoneNumber::parse("+15551234567"),
        Err(PhoneNumberError::NotDigits)
    );
    assert_eq!(
        PhoneNumber::parse("1555 123 4567"),
        Err(PhoneNumberError::NotDigits)
    );
    assert_eq!(
        PhoneNumber::parse("１２３４５６７"),
        Err(PhoneNumberError::NotDigits)
    );
    assert_eq!(
        PhoneNumber::parse("123456"),
        Err(PhoneNumberError::Length(6))
    );
    assert_eq!(
        PhoneNumber::parse("1234567890123456"),
        Err(PhoneNumberError::Length(16))
    );
    assert_eq!(PhoneNumber::parse(""), Err(PhoneNumberError::Length(0)));
    assert_eq!(
        PhoneNumber::parse("05551234567"),
        Err(PhoneNumberError::LeadingZero)
    );
}
