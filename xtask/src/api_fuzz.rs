//! `cargo xtask test api`: schemathesis, a property-based API fuzzer from PyPI, against a live
//! `herald-cli serve` whose engine talks to a `wa-sim` on 127.0.0.1. It reads the daemon's own
//! `GET /openapi.json` and checks every operation: no undocumented status (so no 500), every
//! response matching its schema, every protected operation refusing a request without a key.
//! What it runs with and what it leaves out is in `xtask/schemathesis.toml`.
//!
//! schemathesis is installed, pinned, into a virtualenv under the target folder, so nothing
//! outside the build tree changes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::step::sh;

/// The pinned fuzzer.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// How long the daemon and the simulator may take to say where they listen.
const START_WAIT: Duration = Duration::from_secs(20);

/// A child process that is stopped when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        // SIGTERM first, so the daemon closes its session cleanly; then make sure.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The virtualenv with schemathesis, made or updated as needed; returns its `schemathesis`.
pub fn ensure(target: &Path) -> Result<PathBuf, String> {
    let venv = target.join("xtask").join("schemathesis-venv");
    let bin = venv.join("bin");
    let exe = bin.join("schemathesis");
    let pinned = Command::new(&exe)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(SCHEMATHESIS_VERSION))
        .unwrap_or(false);
    if pinned {
        return Ok(exe);
    }
    println!(
        "api: installing schemathesis {SCHEMATHESIS_VERSION} into {}",
        venv.display()
    );
    sh(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    sh(Command::new(bin.join("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("schemathesis=={SCHEMATHESIS_VERSION}"),
    ]))?;
    Ok(exe)
}

/// The first stdout line that contains `needle`, within `START_WAIT`.
fn wait_line(out: ChildStdout, needle: &'static str) -> Result<String, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if line.contains(needle) {
                let _ = tx.send(line);
                break;
            }
        }
    });
    rx.recv_timeout(START_WAIT)
        .map_err(|_| format!("no line with {needle:?} within {START_WAIT:?}"))
}

/// The string value of `"key":"…"` in a one-line JSON object (the simulator's first line).
fn json_field(line: &str, key: &str) -> Result<String, String> {
    let marker = format!("\"{key}\":\"");
    let start = line
        .find(&marker)
        .ok_or_else(|| format!("{key} missing in {line}"))?
        + marker.len();
    let end = line[start..]
        .find('"')
        .ok_or_else(|| format!("{key} unterminated in {line}"))?;
    Ok(line[start..start + end].to_owned())
}

/// Runs the fuzzer against a fresh daemon and simulator.
pub fn run(root: &Path, target: &Path) -> Result<(), String> {
    let schemathesis = ensure(target)?;
    let debug = target.join("debug");
    let work = target.join("xtask").join("api-fuzz");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;

    let mut sim = Command::new(debug.join("wa-sim"))
        .args(["serve", "--port", "0", "--state"])
        .arg(work.join("sim"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start wa-sim: {e}"))?;
    let sim_out = sim.stdout.take().ok_or("wa-sim has no stdout")?;
    let sim = Running(sim);
    let listening = wait_line(sim_out, "\"listening\"")?;
    let url = json_field(&listening, "url")?;
    let root_hex = json_field(&listening, "root_pub_hex")?;

    let cli = debug.join("herald-cli");
    let data = work.join("data");
    let made = Command::new(&cli)
        .args([
            "api-key",
            "create",
            "--name",
            "fuzz",
            "--json",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .map_err(|e| format!("cannot run herald-cli: {e}"))?;
    if !made.status.success() {
        return Err(format!(
            "api-key create failed: {}",
            String::from_utf8_lossy(&made.stderr)
        ));
    }
    let key = json_field(&String::from_utf8_lossy(&made.stdout), "key")?;

    let mut daemon = Command::new(&cli)
        // The fuzzer sends wrong keys on purpose (to see them refused) from one address; the
        // back-off would turn the rest of its run into 429s.
        .args([
            "serve",
            "--metrics",
            "--listen",
            "127.0.0.1:0",
            "--bad-key-limit",
            "1000000",
        ])
        .arg("--data-dir")
        .arg(&data)
        .args(["--server", &url, "--trust-root", &root_hex])
        .env("HERALD_KEYCHAIN", "off")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(work.join("serve.log")).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot start herald-cli serve: {e}"))?;
    let daemon_out = daemon.stdout.take().ok_or("serve has no stdout")?;
    let daemon = Running(daemon);
    let line = wait_line(daemon_out, "listening on http://")?;
    let base = line
        .rsplit_once("listening on ")
        .map(|(_, b)| b.trim().to_owned())
        .ok_or("no address in serve's first line")?;

    let outcome = sh(Command::new(&schemathesis)
        .current_dir(&work)
        .arg("--config-file")
        .arg(root.join("xtask").join("schemathesis.toml"))
        .arg("--no-color")
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .arg("--header")
        .arg(format!("X-API-Key: {key}")));
    drop(daemon);
    drop(sim);
    outcome.map_err(|e| {
        format!(
            "{e} (the daemon's log: {})",
            work.join("serve.log").display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_simulators_first_line() {
        let line = r#"{"event":"listening","url":"ws://127.0.0.1:4/ws/chat","root_pub_hex":"ab"}"#;
        assert_eq!(json_field(line, "url").unwrap(), "ws://127.0.0.1:4/ws/chat");
        assert_eq!(json_field(line, "root_pub_hex").unwrap(), "ab");
        assert!(json_field(line, "nope").is_err());
    }
}
