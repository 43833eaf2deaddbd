//! 50 `kill -9`s at random moments while plaintext stores are being encrypted in place: the
//! store left behind always opens, with everything it held.
//!
//! The child re-runs a loop: put a plaintext store (as an older build wrote it) in place,
//! open it (which encrypts it), close it. The parent kills it with SIGKILL at a random moment
//! and opens what is left.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod secrets;

use std::process::{Command, Stdio};
use std::time::Duration;

use rand::Rng;
use secrets::*;
use wa_client::store::{KeySource, Store, DB_FILE};

const CHILD_ENV: &str = "WA_CLIENT_MIGRATE_CHILD_DIR";
const PREKEYS: u32 = 2_000;

fn keys() -> KeySource {
    KeySource {
        provided: None,
        ..KeySource::default()
    }
}

#[test]
fn fifty_kill_9s_during_migration_leave_an_openable_store() {
    let dir = tempdir("migrate-crash");
    let template = tempdir("migrate-template");
    write_plaintext_store(&template, PREKEYS);
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::thread_rng();
    let mut mid_migration = 0;
    for round in 0..50 {
        let mut child = Command::new(&exe)
            .args(["migrate_child", "--exact", "--ignored", "--nocapture"])
            .env(CHILD_ENV, &dir)
            .env("WA_CLIENT_MIGRATE_TEMPLATE", &template)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.gen_range(30..400)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        if dir.join(format!("{DB_FILE}.encrypting")).exists() {
            mid_migration += 1;
        }
        let store = Store::open_with(&dir, &keys())
            .unwrap_or_else(|e| panic!("round {round}: store unusable: {e}"));
        assert_eq!(store.integrity_check().unwrap(), "ok", "round {round}");
        assert_eq!(
            stored_jid(&store),
            Some(format!("{PHONE}:7@s.whatsapp.net")),
            "round {round}: the account survived"
        );
        assert_eq!(store.prekey_count().unwrap(), PREKEYS, "round {round}");
        let head = std::fs::read(dir.join(DB_FILE)).unwrap();
        assert!(
            !head.starts_with(b"SQLite format 3\0"),
            "round {round}: encrypted"
        );
    }
    println!("kills that landed while a copy was being written: {mid_migration}/50");
    // The kills must land inside migrations for the test to mean something.
    assert!(mid_migration > 0, "no kill ever landed mid-migration");
}

/// The child: a plaintext store in place, encrypt it, again, until killed.
#[test]
#[ignore = "run by fifty_kill_9s_during_migration_leave_an_openable_store"]
fn migrate_child() {
    let (Ok(dir), Ok(template)) = (
        std::env::var(CHILD_ENV),
        std::env::var("WA_CLIENT_MIGRATE_TEMPLATE"),
    ) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let template = std::path::PathBuf::from(template).join(DB_FILE);
    loop {
        // The plaintext store goes in by rename, so the test itself never tears a file; its
        // old key goes only after, since a plaintext store needs none.
        let staged = dir.join("staged.db");
        std::fs::copy(&template, &staged).unwrap();
        std::fs::rename(&staged, dir.join(DB_FILE)).unwrap();
        let _ = std::fs::remove_file(dir.join("store.key"));
        let store = Store::open_with(&dir, &keys()).unwrap();
        drop(store);
    }
}
