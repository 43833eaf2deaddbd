//! Helpers for the secrets-at-rest tests: a paired store, a plaintext store as an older build
//! wrote it, and a search of the files on disk for secrets.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use wa_client::store::{Account, Credentials, Store, StoreKey, DB_FILE};

/// The phone number every test account uses; it must never appear on disk in the clear.
pub const PHONE: &str = "15557654321";

pub fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wa-client-secrets-{tag}-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn account() -> Account {
    Account {
        jid: format!("{PHONE}:7@s.whatsapp.net").parse().unwrap(),
        lid: Some("100000000000042:7@lid".parse().unwrap()),
        platform: Some("android".into()),
        business_name: None,
        signed_identity: vec![1, 2, 3],
        account_signature_key: [9; 32],
        paired_at_ms: 2_000,
    }
}

/// Writes fresh credentials and the test account, and `prekeys` prekeys.
pub fn pair(store: &mut Store, prekeys: u32) -> Credentials {
    let creds = Credentials::generate(&mut rand::thread_rng(), 1_000);
    store.create_credentials(&creds).unwrap();
    store.save_account(&account()).unwrap();
    store.add_prekeys(prekeys, 1, rand::random).unwrap();
    creds
}

/// The stored account's JID, opening the store again.
pub fn stored_jid(store: &Store) -> Option<String> {
    store
        .load_credentials()
        .unwrap()
        .and_then(|c| c.account)
        .map(|a| a.jid.to_string())
}

/// The key in the fallback key file.
pub fn fallback_key(dir: &Path) -> StoreKey {
    StoreKey::parse(&std::fs::read(dir.join("store.key")).unwrap()).unwrap()
}

/// A plaintext store at `dir` as an older build left it: schema, a paired device, prekeys.
/// Made by writing an encrypted store and exporting it to plain SQLite.
pub fn write_plaintext_store(dir: &Path, prekeys: u32) {
    let scratch = tempdir("scratch");
    let mut store = Store::open(&scratch).unwrap();
    pair(&mut store, prekeys);
    drop(store);
    let key = fallback_key(&scratch);
    let conn = rusqlite::Connection::open(scratch.join(DB_FILE)).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\";",
        hex::encode(key.bytes())
    ))
    .unwrap();
    let plain = dir.join(DB_FILE);
    let _ = std::fs::remove_file(&plain);
    conn.execute(
        "ATTACH DATABASE ?1 AS plain KEY ''",
        [plain.to_string_lossy().as_ref()],
    )
    .unwrap();
    conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))
        .unwrap();
    // The copy has this build's schema, so it carries this build's schema version (plaintext
    // stores of older schemas migrate after the encryption, as any store does).
    let version: u32 = conn
        .query_row("PRAGMA main.user_version", [], |r| r.get(0))
        .unwrap();
    conn.execute_batch(&format!(
        "PRAGMA plain.user_version = {version}; DETACH DATABASE plain;"
    ))
    .unwrap();
    drop(conn);
    std::fs::remove_dir_all(&scratch).unwrap();
    let head = std::fs::read(&plain).unwrap();
    assert!(
        head.starts_with(b"SQLite format 3\0"),
        "the legacy store is plaintext"
    );
}

/// Which of `needles` occur in the database file and its WAL (hex names for messages).
pub fn secrets_on_disk(dir: &Path, needles: &[(&str, Vec<u8>)]) -> Vec<String> {
    let mut found = Vec::new();
    for file in [DB_FILE.to_owned(), format!("{DB_FILE}-wal")] {
        let Ok(data) = std::fs::read(dir.join(&file)) else {
            continue;
        };
        for (name, needle) in needles {
            if data.windows(needle.len()).any(|w| w == &needle[..]) {
                found.push(format!("{name} in {file}"));
            }
        }
    }
    found
}

/// The needles of a store under `key`: its key (raw and hex) and the phone number.
pub fn needles(key: &StoreKey) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("raw key", key.bytes().to_vec()),
        ("hex key", hex::encode(key.bytes()).into_bytes()),
        ("phone number", PHONE.as_bytes().to_vec()),
        ("SQLite header", b"SQLite format 3\0".to_vec()),
    ]
}
