//! `cargo xtask test`: everything, in order, each step timed; stops at the first failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::display::{SessionBus, Xvfb};
use crate::setup;
use crate::step::{sh, step, summary, Timing};

/// The steps, in the order they run. `cargo xtask test STEP…` runs only the named ones.
const STEPS: &[&str] = &[
    "setup",
    "fmt",
    "clippy",
    "tests",
    "conformance",
    "e2e",
    "screenshot",
];

pub fn run_all(args: &[String]) -> Result<(), String> {
    for a in args {
        if !STEPS.contains(&a.as_str()) {
            return Err(format!("unknown step {a}; steps: {}", STEPS.join(", ")));
        }
    }
    let wanted = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    let root = crate::root();
    let mut timings: Vec<Timing> = Vec::new();
    let result = (|| -> Result<(), String> {
        if wanted("setup") {
            step(&mut timings, "setup", || {
                setup::ensure(setup::Mode::Verbose)
            })?;
        }
        if wanted("fmt") {
            step(&mut timings, "fmt", || {
                sh(cargo(&root).args(["fmt", "--all", "--", "--check"]))
            })?;
        }
        if wanted("clippy") {
            step(&mut timings, "clippy", || {
                sh(cargo(&root).args([
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ]))
            })?;
        }
        if wanted("tests") {
            step(
                &mut timings,
                "tests (unit, integration, app on mock runtime)",
                || sh(cargo(&root).args(["test", "--workspace", "--features", "herald/demo"])),
            )?;
        }
        if wanted("conformance") && root.join("conformance/package.json").is_file() {
            step(&mut timings, "conformance against Baileys (node)", || {
                conformance(&root)
            })?;
        }
        if wanted("e2e") && cfg!(target_os = "linux") {
            step(&mut timings, "e2e (real app, WebDriver, Xvfb)", || {
                e2e(&root)
            })?;
        }
        if wanted("screenshot") && cfg!(target_os = "linux") {
            step(&mut timings, "run --screenshot", || screenshot(&root))?;
        }
        Ok(())
    })();
    summary(&timings);
    result
}

fn cargo(root: &Path) -> Command {
    let mut c = Command::new(crate::cargo());
    c.current_dir(root);
    c
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Installs the pinned npm packages and runs every `conformance/*.test.mjs` with node's test
/// runner, against the debug `herald-cli` and `wa-sim`.
fn conformance(root: &Path) -> Result<(), String> {
    sh(cargo(root).args(["build", "-p", "herald-cli", "-p", "wa-sim"]))?;
    let dir = root.join("conformance");
    sh(Command::new("npm").current_dir(&dir).args([
        "ci",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
    ]))?;
    let cli = target_dir(root).join("debug").join("herald-cli");
    let sim = target_dir(root).join("debug").join("wa-sim");
    let mut tests: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".test.mjs"))
        })
        .collect();
    tests.sort();
    if tests.is_empty() {
        return Err("conformance/ has no *.test.mjs".into());
    }
    sh(Command::new("node")
        .current_dir(&dir)
        .env("HERALD_CLI", cli)
        .env("WA_SIM", sim)
        .arg("--test")
        .args(&tests))
}

/// The end-to-end suite drives the real app over WebDriver on a private display and bus.
fn e2e(root: &Path) -> Result<(), String> {
    let driver = setup::tauri_driver().ok_or("tauri-driver is not installed")?;
    let xvfb = Xvfb::start(1280, 900)?;
    let bus = SessionBus::start()?;
    sh(cargo(root)
        .env("DISPLAY", &xvfb.display)
        .env_remove("WAYLAND_DISPLAY")
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("HERALD_TAURI_DRIVER", driver)
        .args([
            "test",
            "-p",
            "herald",
            "--features",
            "demo",
            "--test",
            "e2e",
            "--test",
            "e2e_demo",
            "--",
            "--ignored",
            "--test-threads=1",
        ]))
}

/// `cargo xtask run --demo --screenshot` works on this machine, with a throwaway data folder.
fn screenshot(root: &Path) -> Result<(), String> {
    let out = target_dir(root).join("xtask");
    let data = out.join("screenshot-data");
    let _ = std::fs::remove_dir_all(&data);
    let shot = out.join("first-screen.png");
    let _ = std::fs::remove_file(&shot);
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    sh(Command::new(exe)
        .current_dir(root)
        .env("HERALD_DATA_DIR", &data)
        .arg("run")
        // Demo mode: the test never leaves this machine (the real app would dial WhatsApp).
        .arg("--demo")
        .arg("--screenshot")
        .arg(&shot))?;
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    if size < 10_000 {
        return Err(format!(
            "{} is missing or too small ({size} B)",
            shot.display()
        ));
    }
    Ok(())
}
