//! The store key in a real Secret Service: gnome-keyring in a private D-Bus session, started
//! by `cargo xtask test keychain`, which sets `HERALD_TEST_SECRET_SERVICE=1`. Without it this
//! test says so and passes (a developer's own keychain is never touched).
//!
//! One test, in order, because locking the keychain (the last step) affects every entry.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod secrets;

use std::process::Command;
use std::time::{Duration, Instant};

use secrets::*;
use wa_client::store::keychain::KeychainEntry;
use wa_client::store::{KeyBackend, KeyError, KeySource, Store, StoreError, StoreKey, DB_FILE};

const SERVICE: &str = "herald-test";

fn keychain() -> KeySource {
    let mut keys = KeySource::with_keychain(SERVICE);
    keys.provided = None;
    keys
}

fn entry(dir: &std::path::Path) -> KeychainEntry {
    KeychainEntry {
        service: SERVICE.into(),
        account: dir.to_string_lossy().into_owned(),
        timeout: Duration::from_secs(5),
    }
}

fn key_in_keychain(dir: &std::path::Path) -> Option<StoreKey> {
    entry(dir).get().unwrap().and_then(|s| StoreKey::parse(&s))
}

#[test]
fn the_store_key_lives_in_the_secret_service() {
    if std::env::var("HERALD_TEST_SECRET_SERVICE").as_deref() != Ok("1") {
        println!("skipped: needs the private Secret Service of `cargo xtask test keychain`");
        return;
    }

    // A new store: the key goes to the keychain, nothing secret reaches the disk.
    let dir = tempdir("kc-new");
    let mut store = Store::open_with(&dir, &keychain()).unwrap();
    assert_eq!(store.key_status().backend, KeyBackend::Keychain);
    assert!(store.key_status().protected);
    pair(&mut store, 20);
    let key = key_in_keychain(&dir).expect("the key is in the keychain");
    assert!(
        !dir.join("store.key").exists(),
        "no key file when the keychain holds it"
    );
    let found = secrets_on_disk(&dir, &needles(&key));
    assert!(found.is_empty(), "plaintext on disk: {found:?}");
    drop(store);
    let store = Store::open_with(&dir, &keychain()).unwrap();
    assert_eq!(
        stored_jid(&store),
        Some(format!("{PHONE}:7@s.whatsapp.net"))
    );
    drop(store);
    println!("new store: key in the Secret Service, restart opens it");

    // A key in the fallback file moves into the keychain, and the file goes only after the
    // keychain gave it back.
    let moved = tempdir("kc-move");
    let keys = KeySource {
        provided: None,
        ..KeySource::default()
    };
    let mut store = Store::open_with(&moved, &keys).unwrap();
    pair(&mut store, 1);
    drop(store);
    let file_key = fallback_key(&moved);
    let store = Store::open_with(&moved, &keychain()).unwrap();
    assert_eq!(store.key_status().backend, KeyBackend::Keychain);
    assert_eq!(key_in_keychain(&moved), Some(file_key));
    assert!(!moved.join("store.key").exists());
    drop(store);
    assert!(stored_jid(&Store::open_with(&moved, &keychain()).unwrap()).is_some());
    println!("key file moved into the Secret Service");

    // A plaintext store from an older build is encrypted under a keychain key.
    let legacy = tempdir("kc-legacy");
    write_plaintext_store(&legacy, 10);
    let store = Store::open_with(&legacy, &keychain()).unwrap();
    assert_eq!(store.key_status().backend, KeyBackend::Keychain);
    assert_eq!(store.prekey_count().unwrap(), 10);
    let key = key_in_keychain(&legacy).unwrap();
    drop(store);
    assert!(secrets_on_disk(&legacy, &needles(&key)).is_empty());

    // The key deleted from the keychain: a clear error, the store archived, no new key over it.
    entry(&dir).delete().unwrap();
    let err = Store::open_with(&dir, &keychain())
        .err()
        .expect("no key, no open");
    let text = err.to_string();
    let StoreError::Key(KeyError::Unreadable { archived, .. }) = err else {
        panic!("not an unreadable-store error: {text}");
    };
    assert!(text.contains("gone from the OS keychain"), "{text}");
    assert!(archived.exists() && !dir.join(DB_FILE).exists());
    assert_eq!(
        key_in_keychain(&dir),
        None,
        "no key was made for the archived store"
    );
    println!("deleted key: {text}");

    // A wrong key in the keychain: the same.
    entry(&moved)
        .set(hex::encode(StoreKey::generate().bytes()).as_bytes())
        .unwrap();
    let err = Store::open_with(&moved, &keychain())
        .err()
        .expect("wrong key, no open");
    assert!(err.to_string().contains("wrong key"), "{err}");

    // A locked keychain: a clear message within a second, and the store left as it was.
    let locked = tempdir("kc-locked");
    drop(Store::open_with(&locked, &keychain()).unwrap());
    let before = std::fs::read(locked.join(DB_FILE)).unwrap();
    let status = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .output()
        .unwrap();
    assert!(status.status.success(), "could not lock the keychain");
    let started = Instant::now();
    let err = Store::open_with(&locked, &keychain())
        .err()
        .expect("locked, no open");
    let took = started.elapsed();
    let text = err.to_string();
    assert!(took < Duration::from_millis(1_500), "took {took:?}");
    assert!(
        matches!(err, StoreError::Key(KeyError::KeychainUnavailable(_))),
        "{text}"
    );
    assert!(text.contains("Unlock the keychain"), "{text}");
    assert_eq!(std::fs::read(locked.join(DB_FILE)).unwrap(), before);
    assert!(
        !locked.join("archive").exists(),
        "a locked keychain archives nothing"
    );
    println!("locked keychain after {} ms: {text}", took.as_millis());

    // A new store while the keychain is locked still starts, on the flagged key file.
    let fresh = tempdir("kc-locked-new");
    let store = Store::open_with(&fresh, &keychain()).unwrap();
    assert_eq!(store.key_status().backend, KeyBackend::File);
    assert!(!store.key_status().protected);
    println!("new store while locked: {:?}", store.key_status().note);
}
