//! Installs what building, running and testing Herald need.
//!
//! Debian/Ubuntu: apt packages (with sudo when not root) and a pinned `tauri-driver`. Other
//! systems: checks and says what is missing. Idempotent, and quick when all is present: one
//! `dpkg-query` call and a few `--version` probes.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::step::sh;

/// Building the app (tauri-notes §1): the WebKitGTK stack, and the tray library loaded at run
/// time.
const APT_BUILD: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libwebkit2gtk-4.1-dev",
    "libayatana-appindicator3-1",
    // SQLCipher (the session store) links the system libcrypto.
    "libssl-dev",
    // The bundler looks for the tray library's development files when making packages.
    "libayatana-appindicator3-dev",
];

/// Running headless and testing: a virtual display, the WebDriver for WebKitGTK, a private
/// D-Bus for notifications and the tray, the fake notification server's Python bindings, and
/// `import` for screenshots.
const APT_TEST: &[&str] = &[
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "dbus",
    "python3",
    "python3-dbus",
    "python3-gi",
    "imagemagick",
    // The store key against a real Secret Service (`cargo xtask test keychain`).
    "gnome-keyring",
    // The install test checks the package's desktop entry.
    "desktop-file-utils",
    // The API fuzzer (schemathesis, from PyPI) lives in a virtualenv under the target folder.
    "python3-venv",
    // `cargo xtask measure-serve` loads the daemon with it.
    "wrk",
];

/// tauri-driver bridges WebDriver clients to WebKitWebDriver; pinned so tests do not drift.
pub const TAURI_DRIVER_VERSION: &str = "2.1.0";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Say what is present too.
    Verbose,
    /// Only speak when installing.
    Quiet,
}

/// Makes sure everything is installed.
pub fn ensure(mode: Mode) -> Result<(), String> {
    if cfg!(target_os = "linux") && have("dpkg-query") && have("apt-get") {
        ensure_apt(mode)?;
        ensure_node(mode)?;
        ensure_tauri_driver(mode)?;
        Ok(())
    } else {
        check_elsewhere();
        Ok(())
    }
}

fn ensure_apt(mode: Mode) -> Result<(), String> {
    let wanted: Vec<&str> = APT_BUILD.iter().chain(APT_TEST).copied().collect();
    let missing = missing_packages(&wanted)?;
    if missing.is_empty() {
        if mode == Mode::Verbose {
            println!("setup: all {} system packages present", wanted.len());
        }
        return Ok(());
    }
    println!("setup: installing {}", missing.join(" "));
    sh(privileged("apt-get").args(["update", "-q"]))?;
    sh(privileged("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(&missing))
}

/// The Node.js that runs the conformance suites against Baileys.
fn ensure_node(mode: Mode) -> Result<(), String> {
    if have("node") && have("npm") {
        if mode == Mode::Verbose {
            println!("setup: node and npm present");
        }
        return Ok(());
    }
    println!("setup: installing nodejs and npm");
    sh(privileged("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args([
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "nodejs",
            "npm",
        ]))
}

fn ensure_tauri_driver(mode: Mode) -> Result<(), String> {
    if let Some(found) = tauri_driver().filter(|_| tauri_driver_is_pinned()) {
        if mode == Mode::Verbose {
            println!("setup: tauri-driver present ({})", found.display());
        }
        return Ok(());
    }
    println!("setup: installing tauri-driver {TAURI_DRIVER_VERSION}");
    sh(Command::new(crate::cargo()).args([
        "install",
        "tauri-driver",
        "--locked",
        "--version",
        TAURI_DRIVER_VERSION,
    ]))
}

/// Whether cargo installed the pinned tauri-driver (it has no `--version` flag to ask).
fn tauri_driver_is_pinned() -> bool {
    let want = format!("tauri-driver v{TAURI_DRIVER_VERSION}:");
    Command::new(crate::cargo())
        .args(["install", "--list"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l == want)
        })
        .unwrap_or(false)
}

/// Where tauri-driver is: on PATH, or in cargo's bin folder (which a fresh shell may not have
/// on PATH yet).
pub fn tauri_driver() -> Option<PathBuf> {
    if have_program("tauri-driver") {
        return Some(PathBuf::from("tauri-driver"));
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let path = home.join("bin").join("tauri-driver");
    path.is_file().then_some(path)
}

fn missing_packages(wanted: &[&str]) -> Result<Vec<String>, String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Package} ${db:Status-Abbrev}\n"])
        .args(wanted)
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("dpkg-query: {e}"))?;
    let listing = String::from_utf8_lossy(&out.stdout);
    let installed: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, status)| status.starts_with("ii"))
        .map(|(name, _)| name.split(':').next().unwrap_or(name))
        .collect();
    Ok(wanted
        .iter()
        .filter(|p| !installed.contains(p))
        .map(|p| p.to_string())
        .collect())
}

/// `cmd`, through sudo unless we are root already.
fn privileged(cmd: &str) -> Command {
    if is_root() || !have("sudo") {
        Command::new(cmd)
    } else {
        let mut c = Command::new("sudo");
        c.arg(cmd);
        c
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Whether `program` is on PATH (for tools without a `--version` flag).
fn have_program(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Whether `program` can be started from PATH.
pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn check_elsewhere() {
    println!("setup: automatic installation covers Debian and Ubuntu; on this system check:");
    if cfg!(target_os = "macos") {
        println!("  - Xcode command line tools (xcode-select --install)");
    } else if cfg!(target_os = "windows") {
        println!("  - Microsoft C++ Build Tools and the WebView2 runtime");
    } else {
        println!("  - WebKitGTK 4.1 development files, pkg-config and a C compiler");
    }
    for (tool, why) in [
        ("node", "the conformance suites"),
        ("npm", "the conformance suites"),
    ] {
        let state = if have(tool) { "found" } else { "MISSING" };
        println!("  - {tool} ({why}): {state}");
    }
    println!("  The WebDriver end-to-end suite runs on Linux only (WebKitWebDriver).");
}
