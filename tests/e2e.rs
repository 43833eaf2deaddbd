//! End-to-end: the real app binary under a (virtual) display.
//!
//! Run by `cargo xtask test` on a private Xvfb display and D-Bus session bus, with
//! `HERALD_TAURI_DRIVER` pointing at tauri-driver; ignored in a plain `cargo test`.

mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use support::Term;

const APP: &str = env!("CARGO_BIN_EXE_herald");

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir
}

/// tauri-driver (port 4444) and its WebKitWebDriver (4445), started for one test.
fn start_driver(data_dir: &PathBuf) -> Term {
    let driver = std::env::var("HERALD_TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
    let runtime_dir = data_dir.join("runtime");
    std::fs::create_dir_all(&runtime_dir).expect("runtime dir");
    let child = Command::new(driver)
        .args(["--port", "4444", "--native-port", "4445"])
        // The app inherits the driver's environment.
        .env("HERALD_DATA_DIR", data_dir)
        .env("XDG_RUNTIME_DIR", &runtime_dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("tauri-driver starts (cargo xtask setup installs it)");
    let deadline = Instant::now() + Duration::from_secs(30);
    // Both ports: a session request sent before WebKitWebDriver listens fails.
    while TcpStream::connect("127.0.0.1:4444").is_err()
        || TcpStream::connect("127.0.0.1:4445").is_err()
    {
        assert!(Instant::now() < deadline, "tauri-driver did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    Term(child)
}

async fn session() -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), serde_json::json!("wry"));
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": APP }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect("http://127.0.0.1:4444")
        .await
        .expect("WebDriver session")
}

/// Polls an element's text until it equals `want` (the UI fills it asynchronously).
async fn wait_text(client: &Client, id: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(el) = client.find(Locator::Id(id)).await {
            last = el.text().await.unwrap_or_default();
            if last == want {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("#{id} shows {last:?}, expected {want:?}");
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver (cargo xtask test runs it)"]
async fn first_screen_shows_the_connection_state() {
    let data = scratch("e2e-first-screen");
    let _driver = start_driver(&data);
    let client = session().await;

    wait_text(&client, "state-label", "Not linked yet").await;
    let title = client.title().await.expect("title");
    assert_eq!(title, "Herald — Not linked yet");
    let detail = client
        .find(Locator::Id("state-detail"))
        .await
        .expect("detail")
        .text()
        .await
        .expect("text");
    assert!(detail.contains("QR code"), "detail: {detail}");

    let png = client.screenshot().await.expect("screenshot");
    assert_eq!(&png[1..4], b"PNG");
    std::fs::write(artifacts().join("first-screen.png"), &png).expect("saved");

    // The data folder was set up where the environment said, with the day's log file in it.
    let logs: Vec<_> = std::fs::read_dir(data.join("logs"))
        .expect("log folder")
        .collect();
    assert!(!logs.is_empty(), "a log file is written in the data folder");
    client.close().await.expect("session closed");
}

#[test]
#[ignore = "needs a display (cargo xtask test runs it)"]
fn the_app_starts_when_the_tray_library_cannot_load() {
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
