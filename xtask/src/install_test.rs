//! `cargo xtask test install`: the `.deb` as a user gets it, installed and removed.
//!
//! Packages the debug build the test run already has (no release build: that is
//! `cargo xtask bundle`), installs the `.deb` with `dpkg --root` into a throwaway root (no
//! network, no chroot set-up, the system's own package database untouched), checks its files,
//! its declared dependencies (each must be a package this system can satisfy) and its desktop
//! entry (`desktop-file-validate`), starts the installed `herald --demo` under Xvfb until its
//! window has painted, saves a screenshot, and purges the package, checking nothing is left.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bundle::{self, Profile};
use crate::run::Headless;
use crate::step::sh;

/// Icon sizes the package must install into the hicolor theme.
const ICON_SIZES: &[u32] = &[16, 24, 32, 48, 64, 128, 256, 512];

pub fn run(root: &Path, target: &Path) -> Result<(), String> {
    let made = bundle::make(root, target, Profile::Debug)?;
    let work = target.join("xtask").join("install-test");
    let _ = std::fs::remove_dir_all(&work);
    let dest = work.join("root");
    for d in ["var/lib/dpkg/info", "var/lib/dpkg/updates"] {
        std::fs::create_dir_all(dest.join(d)).map_err(|e| e.to_string())?;
    }
    std::fs::write(dest.join("var/lib/dpkg/status"), "").map_err(|e| e.to_string())?;

    check_depends(&made.deb)?;
    // The throwaway root has no packages, so its dependencies were checked against this
    // system above instead.
    sh(dpkg(&dest)
        .args(["--force-depends", "--install"])
        .arg(&made.deb))?;

    let bin = dest.join("usr/bin/herald");
    let cli = dest.join("usr/bin/herald-cli");
    for f in [&bin, &cli] {
        if !is_executable(f) {
            return Err(format!("{} is missing or not executable", f.display()));
        }
    }
    let desktop = desktop_entry(&dest)?;
    sh(Command::new("desktop-file-validate").arg(&desktop))?;
    let entry = std::fs::read_to_string(&desktop).map_err(|e| e.to_string())?;
    for line in [
        "Exec=herald",
        "Icon=herald",
        "Type=Application",
        "Name=Herald",
    ] {
        if !entry.lines().any(|l| l.starts_with(line)) {
            return Err(format!("{}: no {line}", desktop.display()));
        }
    }
    for size in ICON_SIZES {
        let icon = dest.join(format!(
            "usr/share/icons/hicolor/{size}x{size}/apps/herald.png"
        ));
        if !icon.is_file() {
            return Err(format!("no {size}x{size} icon at {}", icon.display()));
        }
    }
    let version = Command::new(&cli)
        .arg("--version")
        .output()
        .map_err(|e| format!("{}: {e}", cli.display()))?;
    if !version.status.success() {
        return Err("the installed herald-cli --version failed".into());
    }
    println!(
        "install: {} runs: {}",
        cli.display(),
        String::from_utf8_lossy(&version.stdout).trim()
    );

    let shot = target.join("xtask").join("installed-demo.png");
    start_installed(&bin, &work.join("data"), &shot)?;

    sh(dpkg(&dest).args(["--purge", "herald"]))?;
    let left: Vec<PathBuf> = files_under(&dest)
        .into_iter()
        .filter(|p| !p.starts_with(dest.join("var/lib/dpkg")))
        .collect();
    if !left.is_empty() {
        return Err(format!("files left after purge: {left:?}"));
    }
    println!("install: installed, ran, and purged cleanly");
    Ok(())
}

fn dpkg(dest: &Path) -> Command {
    let mut c = Command::new("dpkg");
    c.arg(format!("--root={}", dest.display()))
        // Installing into a root that is not ours: no ownership changes, no triggers to run.
        .args(["--force-not-root", "--no-triggers"]);
    c
}

/// Every package named in `Depends` must be installable here: installed already, or known to
/// apt. (`libssl3` for the store's SQLCipher, the WebKitGTK stack, the tray library.)
fn check_depends(deb: &Path) -> Result<(), String> {
    let out = Command::new("dpkg-deb")
        .args(["--field"])
        .arg(deb)
        .arg("Depends")
        .output()
        .map_err(|e| format!("dpkg-deb: {e}"))?;
    let depends = String::from_utf8_lossy(&out.stdout).trim().to_string();
    println!("install: Depends: {depends}");
    for needed in ["libssl3", "libwebkit2gtk-4.1-0", "libgtk-3-0"] {
        if !depends.split(',').any(|d| d.trim().starts_with(needed)) {
            return Err(format!(
                "the package does not depend on {needed}: {depends}"
            ));
        }
    }
    for dep in depends.split(',') {
        // "a | b (>= 1)": any alternative will do; versions are left to dpkg.
        let ok = dep.split('|').any(|alt| {
            let name = alt.split_whitespace().next().unwrap_or_default();
            Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", name])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("ok installed"))
        });
        if !ok {
            return Err(format!(
                "dependency {} is not satisfied on this system",
                dep.trim()
            ));
        }
    }
    Ok(())
}

fn desktop_entry(dest: &Path) -> Result<PathBuf, String> {
    let dir = dest.join("usr/share/applications");
    std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "desktop"))
        .ok_or_else(|| format!("no desktop entry in {}", dir.display()))
}

/// Starts the installed binary in demo mode (it never leaves this machine) under Xvfb and a
/// private bus, waits for its painted window and saves it.
fn start_installed(bin: &Path, data: &Path, shot: &Path) -> Result<(), String> {
    let mut app = Command::new(bin);
    app.arg("--demo").env("HERALD_DATA_DIR", data);
    let headless = Headless::start(&mut app, true)?;
    crate::run::screenshot(
        app,
        Some(headless.xvfb.display.clone()),
        &shot.to_path_buf(),
    )?;
    let size = std::fs::metadata(shot).map(|m| m.len()).unwrap_or(0);
    if size < 10_000 {
        return Err(format!(
            "{} is missing or too small ({size} B)",
            shot.display()
        ));
    }
    println!(
        "install: screenshot of the installed app: {} ({size} B)",
        shot.display()
    );
    Ok(())
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
