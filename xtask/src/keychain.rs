//! `cargo xtask test keychain`: the session store's key against a real Secret Service.
//!
//! A private D-Bus session bus with gnome-keyring started on it, unlocked with a throwaway
//! password, its keyrings in a throwaway folder: the developer's own keychain is never
//! touched. Then `crates/wa-client/tests/keychain.rs` runs with `HERALD_TEST_SECRET_SERVICE=1`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::display::SessionBus;
use crate::step::sh;

pub fn run(root: &Path, target: &Path) -> Result<(), String> {
    let bus = SessionBus::start()?;
    let home = target.join("xtask").join("keychain-home");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).map_err(|e| format!("{}: {e}", home.display()))?;
    // --unlock reads the login keyring's password from stdin, creates the keyring if there is
    // none, and leaves the daemon running on the bus until the bus goes away.
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("share"))
        .env("XDG_RUNTIME_DIR", &home)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start gnome-keyring-daemon (run `cargo xtask setup`): {e}"))?;
    if let Some(mut stdin) = daemon.stdin.take() {
        stdin
            .write_all(b"throwaway")
            .map_err(|e| format!("unlocking the keyring: {e}"))?;
    }
    let started = daemon
        .wait()
        .map_err(|e| format!("gnome-keyring-daemon: {e}"))?;
    if !started.success() {
        return Err(format!("gnome-keyring-daemon --unlock failed: {started}"));
    }
    let mut test = Command::new(crate::cargo());
    test.current_dir(root)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("HERALD_TEST_SECRET_SERVICE", "1")
        .args([
            "test",
            "-p",
            "wa-client",
            "--test",
            "keychain",
            "--",
            "--nocapture",
        ]);
    let result = sh(&mut test);
    drop(bus);
    result
}
