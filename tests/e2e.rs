//! End-to-end: the real app binary under a (virtual) display.
//!
//! Run by `cargo xtask test` on a private Xvfb display and D-Bus session bus, with
//! `HERALD_TAURI_DRIVER` pointing at tauri-driver; ignored in a plain `cargo test`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use support::driver::*;
use support::Term;

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver (cargo xtask test runs it)"]
async fn first_screen_shows_the_connection_state() {
    wait_until_no_instance().await;
    let data = scratch("e2e-first-screen");
    let _driver = start_driver(&data, &[]);
    let client = session(&["--demo"]).await;

    // A fresh install goes straight to linking: the QR is up and the title says so.
    wait_text(&client, "side-state", "Waiting for a scan").await;
    let title = client.title().await.expect("title");
    assert_eq!(title, "Herald — Waiting for a scan");
    let qr = client
        .find(Locator::Css("#qr-box svg"))
        .await
        .expect("the QR code is drawn");
    assert!(qr.is_displayed().await.expect("displayed"));
    let status = text(&client, "pair-status").await;
    assert!(status.contains("scan"), "status: {status}");
    screenshot(&client, "first-screen").await;

    // The data folder was set up where the environment said, with the day's log file in it.
    let logs: Vec<_> = std::fs::read_dir(data.join("demo/logs"))
        .expect("log folder")
        .collect();
    assert!(!logs.is_empty(), "a log file is written in the data folder");
    finish(client).await;
}

#[test]
#[ignore = "needs a display (cargo xtask test runs it)"]
fn the_app_starts_when_the_tray_library_cannot_load() {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(wait_until_no_instance());
    let data = scratch("e2e-no-tray");
    // dlopen finds these first and fails on them, exactly as when the library is absent.
    let fake_libs = data.join("libs");
    std::fs::create_dir_all(&fake_libs).expect("dir");
    for name in [
        "libayatana-appindicator3.so.1",
        "libappindicator3.so.1",
        "libayatana-appindicator3.so",
        "libappindicator3.so",
    ] {
        std::fs::write(fake_libs.join(name), b"not a library").expect("fake lib");
    }
    let mut child = Command::new(APP)
        .arg("--demo")
        .env("HERALD_DATA_DIR", &data)
        .env("LD_LIBRARY_PATH", &fake_libs)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("app starts");
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let app = Term(child);

    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut saw_missing_tray, mut saw_ready) = (false, false);
    while !(saw_missing_tray && saw_ready) {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("tray missing: {saw_missing_tray}, ui ready: {saw_ready}"));
        saw_missing_tray |= line.contains("the tray library is missing");
        saw_ready |= line.contains("ui ready");
    }
    drop(app);
}
