//! 50 `kill -9`s at random moments during pairing and login: the credentials are never corrupt.
//!
//! The parent re-runs this test binary as a child that pairs, logs in and unlinks in a loop
//! against an in-process simulator (every step writes credentials), kills it with SIGKILL at a
//! random moment, and checks the store it left behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use rand::Rng;
use support::*;
use wa_client::store::Store;
use wa_client::{ConnectionState, EngineEvent};

const CHILD_ENV: &str = "WA_CLIENT_CRASH_CHILD_DIR";

#[test]
fn fifty_kill_9s_never_corrupt_the_credentials() {
    let dir = tempdir("crash");
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::thread_rng();
    let mut paired_seen = 0;
    for round in 0..50 {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--ignored", "--nocapture"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..800)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let store =
            Store::open(&dir).unwrap_or_else(|e| panic!("round {round}: store unusable: {e}"));
        assert_eq!(store.integrity_check().unwrap(), "ok", "round {round}");
        match store.load_credentials() {
            Ok(Some(c)) => {
                if let Some(a) = &c.account {
                    paired_seen += 1;
                    assert!(a.jid.device > 0, "round {round}: {}", a.jid);
                    assert!(!a.signed_identity.is_empty());
                }
            }
            Ok(None) => {}
            Err(e) => panic!("round {round}: credentials corrupt: {e}"),
        }
    }
    // The kills must have landed in both phases for the test to mean something.
    assert!(paired_seen > 0, "never killed after a pairing was stored");
    // Fifty rounds of unlinking leave fifty archived sessions (over 100 MB); a failed run
    // keeps them for a look, a passing one does not.
    let _ = std::fs::remove_dir_all(&dir);
}

/// The child: pair, log in, unlink, again, until killed.
#[test]
#[ignore = "run by fifty_kill_9s_never_corrupt_the_credentials"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let sim = sim();
        let mut h = Harness::start_with(sim, dir.into(), |_| {});
        loop {
            let e = h
                .wait_for("qr or online", |e| {
                    matches!(e, EngineEvent::Qr { .. })
                        || matches!(
                            e,
                            EngineEvent::State {
                                state: ConnectionState::Online { .. } | ConnectionState::LoggedOut,
                                ..
                            }
                        )
                })
                .await;
            match e {
                EngineEvent::Qr { qr, .. } => {
                    let _ = h.sim.scan(&qr);
                }
                EngineEvent::State {
                    state: ConnectionState::Online { .. },
                    ..
                } => {
                    let _ = h.engine.logout().await;
                    h.engine.new_qr();
                }
                _ => h.engine.new_qr(),
            }
        }
    });
}
