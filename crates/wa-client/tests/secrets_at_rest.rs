//! The session store on disk: encrypted as a whole, opened again after a restart, its key
//! never replaced over an existing database, a store no key opens archived rather than
//! destroyed, a plaintext store encrypted in place. The keychain itself is exercised in
//! tests/keychain.rs (it needs a Secret Service); here keys come from the fallback file or the
//! operator.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod secrets;

use std::time::{Duration, Instant};

use secrets::*;
use wa_client::store::key_source::ProvidedKey;
use wa_client::store::{KeyBackend, KeyError, KeySource, Store, StoreError, StoreKey, DB_FILE};

fn provided(key: &StoreKey) -> KeySource {
    KeySource {
        provided: Some(ProvidedKey::Env {
            name: "TEST_KEY".into(),
            value: hex::encode(key.bytes()),
        }),
        ..KeySource::default()
    }
}

fn no_env() -> KeySource {
    KeySource {
        provided: None,
        ..KeySource::default()
    }
}

#[test]
fn the_store_and_its_wal_hold_no_plaintext_secret_and_a_restart_opens_it() {
    let dir = tempdir("plain");
    let mut store = Store::open_with(&dir, &no_env()).unwrap();
    let status = store.key_status().clone();
    assert_eq!(status.backend, KeyBackend::File);
    assert!(
        !status.protected,
        "a key file beside the store is not protection"
    );
    assert!(status.note.is_some());
    let creds = pair(&mut store, 20);
    let key = fallback_key(&dir);
    // Scanned while open, so the WAL still holds the last writes.
    assert!(dir.join(format!("{DB_FILE}-wal")).exists());
    let mut needles = needles(&key);
    needles.push(("noise private key", creds.noise.private.to_bytes().to_vec()));
    needles.push((
        "identity private key",
        creds.identity.private.to_bytes().to_vec(),
    ));
    needles.push(("ADV secret", creds.adv_secret.to_vec()));
    let found = secrets_on_disk(&dir, &needles);
    assert!(found.is_empty(), "plaintext on disk: {found:?}");
    drop(store);

    let started = Instant::now();
    let store = Store::open_with(&dir, &no_env()).unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        stored_jid(&store),
        Some(format!("{PHONE}:7@s.whatsapp.net"))
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(fallback_key(&dir), key, "the key is kept, never replaced");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("store.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn a_provided_key_is_used_and_never_written_down() {
    let dir = tempdir("provided");
    let key = StoreKey::generate();
    let mut store = Store::open_with(&dir, &provided(&key)).unwrap();
    assert_eq!(store.key_status().backend, KeyBackend::Provided);
    assert!(store.key_status().protected);
    pair(&mut store, 1);
    drop(store);
    assert!(!dir.join("store.key").exists());
    let store = Store::open_with(&dir, &provided(&key)).unwrap();
    assert!(stored_jid(&store).is_some());
    assert!(secrets_on_disk(&dir, &needles(&key)).is_empty());
}

#[test]
fn a_wrong_key_is_a_clear_error_and_the_session_is_archived_not_destroyed() {
    let dir = tempdir("wrong");
    let right = StoreKey::generate();
    let mut store = Store::open_with(&dir, &provided(&right)).unwrap();
    pair(&mut store, 1);
    drop(store);

    let err = Store::open_with(&dir, &provided(&StoreKey::generate()))
        .err()
        .expect("a wrong key must not open the store");
    let text = err.to_string();
    let StoreError::Key(KeyError::Unreadable { archived, .. }) = err else {
        panic!("not an unreadable-store error: {text}");
    };
    assert!(
        text.contains("wrong key") && text.contains("kept, not deleted"),
        "{text}"
    );
    assert!(!dir.join(DB_FILE).exists(), "moved aside");
    // The archived copy is whole: the right key still opens it.
    let copy = tempdir("wrong-copy");
    std::fs::copy(&archived, copy.join(DB_FILE)).unwrap();
    let reopened = Store::open_with(&copy, &provided(&right)).unwrap();
    assert_eq!(
        stored_jid(&reopened),
        Some(format!("{PHONE}:7@s.whatsapp.net"))
    );
}

#[test]
fn a_deleted_key_file_archives_the_store_and_never_makes_a_key_over_it() {
    let dir = tempdir("deleted");
    let mut store = Store::open_with(&dir, &no_env()).unwrap();
    pair(&mut store, 1);
    drop(store);
    let before = std::fs::read(dir.join(DB_FILE)).unwrap();
    std::fs::remove_file(dir.join("store.key")).unwrap();

    let err = Store::open_with(&dir, &no_env())
        .err()
        .expect("no key, no open");
    let text = err.to_string();
    let StoreError::Key(KeyError::Unreadable { archived, .. }) = err else {
        panic!("not an unreadable-store error: {text}");
    };
    assert!(text.contains("gone"), "{text}");
    assert_eq!(
        std::fs::read(&archived).unwrap(),
        before,
        "the archive is the store, untouched"
    );
    assert!(
        !dir.join("store.key").exists(),
        "no new key was made for the old store"
    );

    // Starting over works: a new store under a new key.
    let store = Store::open_with(&dir, &no_env()).unwrap();
    assert_eq!(stored_jid(&store), None);
}

#[test]
fn a_plaintext_store_is_encrypted_in_place_and_keeps_everything() {
    let dir = tempdir("migrate");
    write_plaintext_store(&dir, 50);
    let store = Store::open_with(&dir, &no_env()).unwrap();
    assert_eq!(
        stored_jid(&store),
        Some(format!("{PHONE}:7@s.whatsapp.net"))
    );
    assert_eq!(store.prekey_count().unwrap(), 50);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let key = fallback_key(&dir);
    drop(store);
    let found = secrets_on_disk(&dir, &needles(&key));
    assert!(found.is_empty(), "plaintext left: {found:?}");
    assert!(!dir.join(format!("{DB_FILE}.encrypting")).exists());
    // And the read-only view used beside a running engine opens it too.
    let summary = wa_client::store::peek_with(&dir, &no_env())
        .unwrap()
        .unwrap();
    assert_eq!(summary.prekeys, 50);
    assert!(summary.jid.is_some());
}

#[test]
fn a_bad_provided_key_changes_nothing() {
    let dir = tempdir("bad-provided");
    let source = KeySource {
        provided: Some(ProvidedKey::Env {
            name: "TEST_KEY".into(),
            value: "not hex".into(),
        }),
        ..KeySource::default()
    };
    let err = Store::open_with(&dir, &source)
        .err()
        .expect("bad key refused");
    assert!(err.to_string().contains("$TEST_KEY"), "{err}");
    let len = std::fs::metadata(dir.join(DB_FILE))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(len, 0, "nothing written");
}

/// With no Secret Service on the bus, the store falls back to the key file and says why.
#[cfg(target_os = "linux")]
#[test]
fn no_secret_service_falls_back_to_the_key_file_with_a_warning() {
    // The keychain's connection is made once per process, so this runs in a child process
    // whose session bus address points nowhere.
    if let Ok(dir) = std::env::var("WA_CLIENT_NO_SS_CHILD") {
        let dir = std::path::PathBuf::from(dir);
        let started = Instant::now();
        let mut keys = KeySource::with_keychain("herald-test");
        keys.provided = None;
        let store = Store::open_with(&dir, &keys).unwrap();
        let status = store.key_status();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(status.backend, KeyBackend::File);
        assert!(!status.protected);
        let note = status.note.clone().unwrap_or_default();
        assert!(note.contains("keychain"), "{note}");
        println!("fallback note: {note}");
        return;
    }
    let dir = tempdir("no-ss");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "no_secret_service_falls_back_to_the_key_file_with_a_warning",
            "--exact",
            "--nocapture",
        ])
        .env("WA_CLIENT_NO_SS_CHILD", &dir)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", dir.join("no-bus").display()),
        )
        .env_remove("HERALD_STORE_KEY")
        .env_remove("HERALD_STORE_KEY_FILE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("fallback note:"), "{stdout}");
    assert!(dir.join("store.key").exists());
}
