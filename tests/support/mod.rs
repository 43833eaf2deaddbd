//! Children the app-level tests start: a private D-Bus session bus and the fake notification
//! server. Each is stopped with SIGTERM on drop (SIGKILL would leak dbus-daemon's socket and
//! orphan what tauri-driver started).

#![allow(dead_code)] // each test binary uses a different part

pub mod driver;
pub mod schedules;

use std::io::{BufRead, BufReader, Lines};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};

/// A child stopped with SIGTERM when dropped.
pub struct Term(pub Child);

impl Drop for Term {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.0.id().to_string())
            .stderr(Stdio::null())
            .status();
        let _ = self.0.wait();
    }
}

/// Starts a private session bus and returns it with its address.
pub fn session_bus() -> (Term, String) {
    let mut child = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon starts (cargo xtask setup installs it)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("dbus-daemon prints its address");
    (Term(child), line.trim().to_string())
}

/// The fake notification server on the bus at `address`, and its output lines.
pub fn fake_notification_server(address: &str) -> (Term, Lines<BufReader<ChildStdout>>) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake_notifyd.py");
    // Debian's interpreter, which has python3-dbus and python3-gi (a python3 earlier on PATH,
    // e.g. from pyenv, usually does not).
    let python = if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let mut child = Command::new(python)
        .arg(script)
        .env("DBUS_SESSION_BUS_ADDRESS", address)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("readable");
    assert_eq!(
        first, "READY",
        "the fake notification server did not come up"
    );
    (Term(child), lines)
}

/// The fake notification server with its calls collected in the background.
pub struct Notifications {
    _server: Term,
    calls: std::sync::mpsc::Receiver<serde_json::Value>,
}

impl Notifications {
    /// Starts the fake server on the session bus at `address`.
    pub fn start(address: &str) -> Self {
        let (server, lines) = fake_notification_server(address);
        let (tx, calls) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                match serde_json::from_str(&line) {
                    Ok(v) => {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                    Err(_) => continue,
                }
            }
        });
        Self {
            _server: server,
            calls,
        }
    }

    /// Waits for a notification whose summary is `summary`; fails on timeout.
    pub fn expect(&self, summary: &str, within: std::time::Duration) -> serde_json::Value {
        let deadline = std::time::Instant::now() + within;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.calls.recv_timeout(left) {
                Ok(call) if call["summary"] == summary => return call,
                Ok(call) => seen.push(call),
                Err(_) => panic!("no notification {summary:?}; saw {seen:?}"),
            }
        }
    }

    /// Every notification received so far.
    pub fn drain(&self) -> Vec<serde_json::Value> {
        self.calls.try_iter().collect()
    }
}
