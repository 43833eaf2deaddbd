//! Driving the real app over WebDriver (tauri-driver → WebKitWebDriver) and reading what it
//! shows outside the window: the tray over D-Bus.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use super::Term;

pub const APP: &str = env!("CARGO_BIN_EXE_herald");

/// A fresh, empty folder under the test target dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Where screenshots go.
pub fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir
}

/// tauri-driver (port 4444) and its WebKitWebDriver (4445). The app it launches inherits
/// `env` and the data folder.
pub fn start_driver(data_dir: &Path, env: &[(&str, &str)]) -> Term {
    let driver = std::env::var("HERALD_TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
    let runtime_dir = data_dir.join("runtime");
    std::fs::create_dir_all(&runtime_dir).expect("runtime dir");
    let mut cmd = Command::new(driver);
    cmd.args(["--port", "4444", "--native-port", "4445"])
        .env("HERALD_DATA_DIR", data_dir)
        .env("XDG_RUNTIME_DIR", &runtime_dir)
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
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

/// A WebDriver session that launches the app with `args`.
pub async fn session(args: &[&str]) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), serde_json::json!("wry"));
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": APP, "args": args }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect("http://127.0.0.1:4444")
        .await
        .expect("WebDriver session")
}

/// The text of `#id` (empty if absent).
pub async fn text(client: &Client, id: &str) -> String {
    match client.find(Locator::Id(id)).await {
        Ok(el) => el.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Polls `#id` until its text satisfies `ok`, for up to `secs`.
pub async fn wait_text_by(
    client: &Client,
    id: &str,
    secs: u64,
    what: &str,
    ok: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last = String::new();
    while Instant::now() < deadline {
        last = text(client, id).await;
        if ok(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("#{id} shows {last:?}, expected {what}");
}

/// Polls `#id` until its text equals `want`.
pub async fn wait_text(client: &Client, id: &str, want: &str) {
    wait_text_by(client, id, 30, &format!("{want:?}"), |t| t == want).await;
}

/// Runs `js` (a function body that returns a value) in the window.
pub async fn eval(client: &Client, js: &str) -> serde_json::Value {
    client
        .execute(js, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{js}"))
}

/// Polls `js` until it returns `want`, for up to `secs`.
pub async fn wait_eval(client: &Client, js: &str, secs: u64, want: serde_json::Value) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last = serde_json::Value::Null;
    while Instant::now() < deadline {
        last = eval(client, js).await;
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{js} returned {last}, expected {want}");
}

/// Clicks the element matching a CSS selector.
pub async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} not found: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{css} not clickable: {e}"));
}

/// Whether the element matching `css` is displayed.
pub async fn displayed(client: &Client, css: &str) -> bool {
    match client.find(Locator::Css(css)).await {
        Ok(el) => el.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// Polls until the element matching `css` is displayed.
pub async fn wait_displayed(client: &Client, css: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !displayed(client, css).await {
        assert!(Instant::now() < deadline, "{css} is not displayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a screenshot of the window under `target/e2e/NAME.png`.
pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    assert_eq!(&png[1..4], b"PNG");
    std::fs::write(artifacts().join(format!("{name}.png")), png).expect("saved");
}

/// Links the demo account: the simulated phone scans the QR on screen.
pub async fn pair(client: &Client) {
    wait_text(client, "side-state", "Waiting for a scan").await;
    click(client, "#simulate-scan-btn").await;
    wait_text(client, "side-state", "Online").await;
}

/// The tray's label as the StatusNotifierItem exports it (what a tray host shows), read from
/// whichever connection on the session bus exports Herald's item.
pub fn tray_label() -> Option<String> {
    let names = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--reply-timeout=1000",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.ListNames",
        ])
        .output()
        .ok()?;
    let listing = String::from_utf8_lossy(&names.stdout);
    for name in listing
        .lines()
        .filter_map(|l| l.trim().strip_prefix("string \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| n.starts_with(':'))
    {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--reply-timeout=300",
                &format!("--dest={name}"),
                "/org/ayatana/NotificationItem/tray_icon_tray_app_herald",
                "org.freedesktop.DBus.Properties.Get",
                "string:org.kde.StatusNotifierItem",
                "string:XAyatanaLabel",
            ])
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let reply = String::from_utf8_lossy(&out.stdout);
        if let Some(label) = reply.lines().find_map(|l| {
            l.trim()
                .strip_prefix("variant       string \"")
                .or_else(|| l.trim().strip_prefix("variant string \""))
        }) {
            return Some(label.trim_end_matches('"').to_string());
        }
    }
    None
}

/// Polls the tray label until it equals `want`.
pub async fn wait_tray_label(want: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = None;
    while Instant::now() < deadline {
        last = tray_label();
        if last.as_deref() == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("tray label is {last:?}, expected {want:?}");
}

/// Ends the session and waits until the app has exited (its single-instance name is gone from
/// the bus), so the next launch is a new instance rather than a focus of this one.
pub async fn finish(client: Client) {
    client.close().await.expect("session closed");
    wait_until_no_instance().await;
}

/// Waits until no Herald instance holds its single-instance name on the session bus. An
/// instance left over by a failed test (whose session was never closed) is asked to quit
/// first, so one failure does not cascade into the next test.
pub async fn wait_until_no_instance() {
    // Anchored: the bare path also matches `herald-cli` (a prefix), whose tests may be running
    // beside this suite.
    let pattern = format!("^{}( |$)", APP.replace('.', "\\."));
    let _ = Command::new("pkill")
        .args(["-TERM", "-f", &pattern])
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    for name in [
        "dev.herald.desktop.demo.SingleInstance",
        "dev.herald.desktop.SingleInstance",
    ] {
        loop {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--reply-timeout=1000",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    &format!("string:{name}"),
                ])
                .output()
                .expect("dbus-send");
            if !String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the previous Herald did not exit"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
