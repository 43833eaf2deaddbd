use super::*;
use crate::lock::tests::tempdir;

fn creds() -> Credentials {
    Credentials::generate(&mut rand::thread_rng(), 1_000)
}

#[test]
fn credentials_round_trip_and_pairing_is_one_write() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    assert!(store.load_credentials().unwrap().is_none());
    let c = creds();
    store.create_credentials(&c).unwrap();
    let back = store.load_credentials().unwrap().unwrap();
    assert_eq!(back.noise.public, c.noise.public);
    assert_eq!(back.identity.public, c.identity.public);
    assert_eq!(back.signed_prekey.signature, c.signed_prekey.signature);
    assert_eq!(back.adv_secret, c.adv_secret);
    assert!(back.account.is_none());

    let account = Account {
        jid: "15551234567:7@s.whatsapp.net".parse().unwrap(),
        lid: Some("100000000000001:7@lid".parse().unwrap()),
        platform: Some("android".into()),
        business_name: None,
        signed_identity: vec![1, 2, 3],
        account_signature_key: [9; 32],
        paired_at_ms: 2_000,
    };
    store.save_account(&account).unwrap();
    drop(store);
    let store = Store::open(&dir).unwrap();
    assert_eq!(
        store.load_credentials().unwrap().unwrap().account,
        Some(account)
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn archive_keeps_a_copy_and_clears_the_device() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    assert_eq!(store.archive_session("logged_out", 5).unwrap(), None);
    store.create_credentials(&creds()).unwrap();
    store.add_prekeys(3, 1, || [7; 32]).unwrap();
    let path = store.archive_session("logged_out", 5).unwrap().unwrap();
    assert!(path.exists());
    assert!(store.load_credentials().unwrap().is_none());
    assert_eq!(store.prekey_count().unwrap(), 0);
    let archived = store.open_archive(&path);
    assert!(archived.is_some());
    assert_eq!(store.archives().unwrap().len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mode = std::fs::metadata(dir.join(DB_FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn prekey_ids_are_fresh_and_wrap_in_24_bits() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    let a = store.add_prekeys(2, 1, || [1; 32]).unwrap();
    let b = store.add_prekeys(2, 1, || [1; 32]).unwrap();
    assert_eq!(a.iter().map(|k| k.0).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(b.iter().map(|k| k.0).collect::<Vec<_>>(), vec![3, 4]);
    store
        .conn
        .execute(
            "UPDATE counters SET value = 16777215 WHERE name = 'next_prekey_id'",
            [],
        )
        .unwrap();
    let c = store.add_prekeys(2, 1, || [1; 32]).unwrap();
    assert_eq!(
        c.iter().map(|k| k.0).collect::<Vec<_>>(),
        vec![16_777_215, 1]
    );
}

#[test]
fn version_cache_round_trips() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    assert!(store.cached_version().unwrap().is_none());
    let v: AppVersion = "2.3000.123".parse().unwrap();
    store.save_version(v, 77).unwrap();
    assert_eq!(store.cached_version().unwrap(), Some((v, 77)));
}
