//! `cargo xtask test api`: schemathesis, a property-based API fuzzer from PyPI, against a live
//! `herald-cli serve` whose engine talks to a `wa-sim` on 127.0.0.1. It reads the daemon's own
//! `GET /openapi.json` and checks every operation: no undocumented status (so no 500), every
//! response matching its schema, every protected operation refusing a request without a key.
//! What it runs with and what it leaves out is in `xtask/schemathesis.toml`.
//!
//! schemathesis is installed, pinned, into a virtualenv under the target folder, so nothing
//! outside the build tree changes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::daemon::{create_key, start_serve, start_sim};
use crate::step::sh;

/// The pinned fuzzer.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

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
    // `--clear`: a venv left half-made, or moved (its scripts name their old path), is
    // made again rather than trusted.
    sh(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv))?;
    sh(Command::new(bin.join("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("schemathesis=={SCHEMATHESIS_VERSION}"),
    ]))?;
    Ok(exe)
}

/// Runs the fuzzer against a fresh daemon and simulator.
pub fn run(root: &Path, target: &Path) -> Result<(), String> {
    let schemathesis = ensure(target)?;
    let debug = target.join("debug");
    let work = target.join("xtask").join("api-fuzz");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;

    let sim = start_sim(&debug.join("wa-sim"), &work.join("sim"))?;
    let cli = debug.join("herald-cli");
    let data = work.join("data");
    let key = create_key(&cli, &data)?;
    let log = work.join("serve.log");
    // The fuzzer sends wrong keys on purpose (to see them refused), all from one address; the
    // back-off would turn the rest of its run into 429s.
    let daemon = start_serve(
        &cli,
        &data,
        &sim,
        &["--metrics", "--bad-key-limit", "1000000"],
        &log,
    )?;
    // Linked, so the connection's endpoints (restart, logout, history) do real work.
    daemon.pair(&sim, &key)?;
    let base = format!("http://{}", daemon.addr);

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
