use super::*;

const S: fn(u64) -> Duration = Duration::from_secs;

fn refs(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("ref{i}")).collect()
}

fn issued(pairing_ref: &[u8]) -> IssuedCode {
    // One PBKDF2 round: the test is about the machine, not the key stretching.
    let (linking, _) = CompanionLinking::start(&mut rand::rngs::OsRng, 1);
    let phone = PhoneNumber::parse("15551234567").unwrap();
    IssuedCode {
        linking,
        phone_jid: Jid::new(phone.as_str(), Server::Pn),
        phone,
        pairing_ref: pairing_ref.to_vec(),
    }
}

#[test]
fn qr_codes_rotate_sixty_then_twenty_seconds() {
    let t = QrTiming::default();
    let s: Vec<u64> = qr_schedule(6, &t).iter().map(Duration::as_secs).collect();
    assert_eq!(s, vec![60, 80, 100, 120, 140, 160]);
    assert_eq!(qr_lifetime(0, &t), S(60));
    assert_eq!(qr_lifetime(5, &t), S(20));
}

#[test]
fn phone_numbers_are_normalised() {
    assert_eq!(
        normalize_phone("+1 555 123-4567").unwrap().as_str(),
        "15551234567"
    );
    assert!(matches!(
        normalize_phone("12ab"),
        Err(CommandError::InvalidPhone(_))
    ));
    assert!(normalize_phone("+0123456789").is_err());
}

#[test]
fn each_ref_is_shown_once_then_the_pairing_is_exhausted() {
    let start = Instant::now();
    let mut p = Pairing::new(refs(3), QrTiming::default(), start, UnixMillis(1_000));
    assert_eq!(p.deadline(), start + S(60));
    assert_eq!(
        p.qr(),
        Some(QrToShow {
            pairing_ref: "ref0".into(),
            expires_at_ms: UnixMillis(61_000),
            index: 1,
            total: 3,
        })
    );
    // Woken 5 s late: the next code still expires 20 s after the last deadline.
    let shown = p.on_deadline(UnixMillis(66_000));
    assert_eq!(
        shown,
        Expired::Show(QrToShow {
            pairing_ref: "ref1".into(),
            expires_at_ms: UnixMillis(86_000),
            index: 2,
            total: 3,
        })
    );
    assert_eq!(p.deadline(), start + S(80));
    assert!(matches!(p.on_deadline(UnixMillis(81_000)), Expired::Show(q) if q.index == 3));
    assert_eq!(p.on_deadline(UnixMillis(101_000)), Expired::Exhausted);
}

#[test]
fn a_pairing_code_replaces_the_qr_codes_until_its_own_deadline() {
    let start = Instant::now();
    let mut p = Pairing::new(refs(6), QrTiming::default(), start, UnixMillis(0));
    let shown = p.code_issued(issued(b"r"), S(180), start + S(5), UnixMillis(5_000));
    assert_eq!(shown.phone, "15551234567");
    assert_eq!(shown.code.len(), 9, "XXXX-XXXX");
    assert_eq!(shown.expires_at_ms, UnixMillis(185_000));
    assert_eq!(p.deadline(), start + S(185));
    assert_eq!(p.qr(), None, "no QR code while the code is shown");
    assert_eq!(p.on_deadline(UnixMillis(185_000)), Expired::Exhausted);
}

#[test]
fn only_the_answer_for_the_codes_ref_is_taken_and_only_once() {
    let start = Instant::now();
    let mut p = Pairing::new(refs(6), QrTiming::default(), start, UnixMillis(0));
    assert_eq!(p.phone_answered(b"r").err(), Some(NotTaken::NoCode));
    p.code_issued(issued(b"r"), S(180), start, UnixMillis(0));
    assert_eq!(p.phone_answered(b"other").err(), Some(NotTaken::OtherRef));
    assert!(p.phone_answered(b"r").is_ok());
    assert_eq!(p.phone_answered(b"r").err(), Some(NotTaken::NoCode));
    assert_eq!(p.qr(), None);
    assert_eq!(
        p.on_deadline(UnixMillis(180_000)),
        Expired::Exhausted,
        "pair-success is due by the code's deadline"
    );
}
