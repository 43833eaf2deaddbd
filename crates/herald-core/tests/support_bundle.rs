//! The support bundle leaks nothing: a data folder full of secrets (a linked number and LID,
//! the store key, message texts in the database and in the logs, a QR payload) goes into a
//! bundle, and every entry, decompressed, and the zip itself are searched for each of them.
//! The bundle must still say what happened: causes, times, settings, versions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use herald_core::history::{self, NewDisconnect};
use herald_core::support_bundle::{self, BundleRequest};
use wa_client::store::{Account, Credentials, KeySource, Store, StoreKey};

const PHONE: &str = "15557654321";
const LID: &str = "100000000000042";
const TEXT: &str = "meet me at the harbour at six";
const NOW_MS: i64 = 1_796_000_000_000;

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "herald-bundle-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A linked session under a key in the fallback file; returns the key.
fn linked_session(data: &Path) -> StoreKey {
    let dir = data.join("session");
    let keys = KeySource {
        provided: None,
        ..KeySource::default()
    };
    let mut store = Store::open_with(&dir, &keys).unwrap();
    store
        .create_credentials(&Credentials::generate(&mut rand::thread_rng(), 1))
        .unwrap();
    store
        .save_account(&Account {
            jid: format!("{PHONE}:7@s.whatsapp.net").parse().unwrap(),
            lid: Some(format!("{LID}:7@lid").parse().unwrap()),
            platform: Some("android".into()),
            business_name: None,
            signed_identity: vec![1],
            account_signature_key: [2; 32],
            paired_at_ms: 5,
        })
        .unwrap();
    drop(store);
    StoreKey::parse(&std::fs::read(dir.join("store.key")).unwrap()).unwrap()
}

fn app_db(data: &Path) {
    let conn = herald_core::db::open(&data.join("herald.db")).unwrap();
    history::append(
        &conn,
        &NewDisconnect {
            id: 0,
            at_ms: wa_client::UnixMillis(NOW_MS as u64 - 60_000),
            cause: "replaced".into(),
            title: "Another client took over".into(),
            code: Some(440),
            decision: "stop:replaced".into(),
            advice: format!("Another WhatsApp Web for +{PHONE} took over."),
            attempt: None,
            delay_ms: None,
            online_for_ms: Some(1_000),
        },
    )
    .unwrap();
    // Whatever the scheduler's tables are, a text column is found and its values hidden.
    conn.execute_batch(&format!(
        "CREATE TABLE test_outbox (id INTEGER PRIMARY KEY, recipient TEXT, text TEXT);
         INSERT INTO test_outbox (recipient, text) VALUES ('+{PHONE}', '{TEXT}');"
    ))
    .unwrap();
}

fn logs(data: &Path, key: &StoreKey) -> String {
    let dir = data.join("logs");
    std::fs::create_dir_all(&dir).unwrap();
    let qr = "2@Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==,bm9pc2VrZXkwMTIzNDU2Nzg5YWJjZGVm,aWRlbnRpdHkwMTIz";
    let recent = format!(
        "2026-11-30T10:00:00Z INFO paired jid={PHONE}:7@s.whatsapp.net lid={LID}:7@lid\n\
         2026-11-30T10:00:01Z INFO qr shown qr={qr}\n\
         2026-11-30T10:00:02Z INFO sending to=+{PHONE} text=\"{TEXT}\"\n\
         2026-11-30T10:00:03Z DEBUG key {}\n\
         2026-11-30T10:00:04Z WARN disconnected cause=replaced code=440 delay_ms=2000 at_ms=1795999940000\n",
        hex::encode(key.bytes())
    );
    std::fs::write(dir.join("herald.2026-11-30.log"), &recent).unwrap();
    let old = dir.join("herald.2026-11-01.log");
    std::fs::write(&old, "2026-11-01 INFO a line from a month ago\n").unwrap();
    let month_ago = SystemTime::UNIX_EPOCH + Duration::from_millis(NOW_MS as u64)
        - Duration::from_secs(30 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(month_ago)
        .unwrap();
    let recent_at = SystemTime::UNIX_EPOCH + Duration::from_millis(NOW_MS as u64);
    std::fs::File::options()
        .write(true)
        .open(dir.join("herald.2026-11-30.log"))
        .unwrap()
        .set_modified(recent_at)
        .unwrap();
    qr.to_owned()
}

fn entries(zip_path: &Path) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            (f.name().unwrap().to_string(), text)
        })
        .collect()
}

#[test]
fn no_secret_number_or_text_leaks_into_the_bundle() {
    let data = tempdir();
    let key = linked_session(&data);
    app_db(&data);
    let qr = logs(&data, &key);
    let out = data.join("bundle.zip");
    let summary = support_bundle::write(
        &BundleRequest {
            data_dir: data.clone(),
            program: "herald-test 0.0.0".into(),
            now: wa_client::UnixMillis(NOW_MS as u64),
            live_health: None,
        },
        &out,
    )
    .unwrap();
    assert!(summary.bytes > 0);

    let needles: Vec<(&str, Vec<u8>)> = vec![
        ("phone number", PHONE.as_bytes().to_vec()),
        ("LID", LID.as_bytes().to_vec()),
        ("message text", TEXT.as_bytes().to_vec()),
        ("key (hex)", hex::encode(key.bytes()).into_bytes()),
        ("key (raw)", key.bytes().to_vec()),
        ("QR payload", qr.as_bytes()[2..20].to_vec()),
    ];
    let all = entries(&out);
    let raw = std::fs::read(&out).unwrap();
    for (name, needle) in &needles {
        for (entry, text) in &all {
            assert!(
                !text
                    .as_bytes()
                    .windows(needle.len())
                    .any(|w| w == &needle[..]),
                "{name} leaked in {entry}:\n{text}"
            );
        }
        assert!(
            !raw.windows(needle.len()).any(|w| w == &needle[..]),
            "{name} in the zip's bytes"
        );
    }

    // Still useful: what happened, when, with what settings, on what.
    let get = |name: &str| {
        all.iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| panic!("no {name} in {:?}", summary.entries))
    };
    let history = get("history.json");
    assert!(
        history.contains("\"replaced\"") && history.contains("440"),
        "{history}"
    );
    assert!(
        history.contains(&(NOW_MS - 60_000).to_string()),
        "times kept: {history}"
    );
    assert!(get("settings.json").contains("pingAfterSilenceSecs"));
    let system = get("system.json");
    assert!(system.contains(std::env::consts::OS) && system.contains("herald-test 0.0.0"));
    assert!(get("session.json").contains("\"linked\": true"));
    assert!(get("session.json").contains("\"storeKeyBackend\": \"file\""));
    let log = get("logs/herald.2026-11-30.log");
    assert!(
        log.contains("cause=replaced code=440 delay_ms=2000 at_ms=1795999940000"),
        "{log}"
    );
    assert!(
        !summary.entries.iter().any(|e| e.contains("2026-11-01")),
        "logs older than 14 days stay out: {:?}",
        summary.entries
    );
}

#[test]
fn a_bundle_of_an_empty_folder_still_has_the_system_facts() {
    let data = tempdir();
    let out = data.join("b.zip");
    let summary = support_bundle::write(
        &BundleRequest {
            data_dir: data.clone(),
            program: "herald 0.1.0".into(),
            now: wa_client::UnixMillis(NOW_MS as u64),
            live_health: None,
        },
        &out,
    )
    .unwrap();
    assert_eq!(
        summary.entries,
        vec!["README.txt", "system.json", "session.json"],
        "nothing invented"
    );
}
