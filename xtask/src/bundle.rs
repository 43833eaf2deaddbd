//! `cargo xtask bundle`: the release app and its `.deb` and `.rpm`, with `herald-cli` in
//! `/usr/bin` beside `herald`, the desktop entry, icons at every size and the package
//! metadata of `tauri.conf.json`.
//!
//! The Tauri bundler is the npm package pinned in `packaging/` (a prebuilt binary from the
//! registry, nothing downloaded at bundle time). The version is the workspace's, in the root
//! `Cargo.toml`: `tauri.conf.json` names none, so the bundler takes the package's.
//!
//! Updater signatures: when `TAURI_SIGNING_PRIVATE_KEY` is set, `packaging/updater.json` is
//! merged in with `HERALD_UPDATER_PUBKEY` and `HERALD_UPDATER_ENDPOINT`, so the packages carry
//! the updater's configuration (signed versions required) and the bundler signs what it makes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::step::sh;

/// Release or debug packages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Release,
    /// The debug build the tests already have, packaged without a rebuild (the install test).
    Debug,
}

impl Profile {
    fn dir(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Debug => "debug",
        }
    }
}

/// What was made.
pub struct Packages {
    pub deb: PathBuf,
    /// Release only: the install test needs just the `.deb`.
    pub rpm: Option<PathBuf>,
    /// Updater signatures made next to them (only with a signing key).
    pub signatures: Vec<PathBuf>,
}

/// `cargo xtask bundle [--debug]` (`--debug`: the `.deb` of the debug build).
pub fn run(args: &[String]) -> Result<(), String> {
    let profile = match args {
        [] => Profile::Release,
        [flag] if flag == "--debug" => Profile::Debug,
        _ => return Err("usage: cargo xtask bundle [--debug]".into()),
    };
    let root = crate::root();
    let made = make(&root, &crate::target_dir(), profile)?;
    for p in std::iter::once(&made.deb)
        .chain(&made.rpm)
        .chain(&made.signatures)
    {
        let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        println!(
            "bundle: {} ({:.1} MiB)",
            p.display(),
            size as f64 / 1_048_576.0
        );
    }
    Ok(())
}

/// Builds (release) or reuses (debug) the binaries and makes the packages.
pub fn make(root: &Path, target: &Path, profile: Profile) -> Result<Packages, String> {
    let tauri = ensure_cli(root)?;
    match profile {
        Profile::Release => {
            sh(Command::new(crate::cargo()).current_dir(root).args([
                "build",
                "-p",
                "herald-cli",
                "--release",
            ]))?;
        }
        // The debug binaries of the one test build (demo mode linked in, which the install
        // test starts); building them here with other features would rebuild the app and
        // replace the binary the other steps use.
        Profile::Debug => crate::test::build(root)?,
    }
    let out = target.join(profile.dir());
    let cli = out.join("herald-cli");

    let patch_path = target.join("xtask").join("bundle-config.json");
    std::fs::create_dir_all(target.join("xtask")).map_err(|e| e.to_string())?;
    let patch = config_patch(root, &cli)?;
    std::fs::write(&patch_path, patch).map_err(|e| format!("{}: {e}", patch_path.display()))?;

    let bundle_dir = out.join("bundle");
    for kind in ["deb", "rpm"] {
        let _ = std::fs::remove_dir_all(bundle_dir.join(kind));
    }
    let mut cmd = Command::new(&tauri);
    cmd.current_dir(root).env("CARGO_TARGET_DIR", target);
    match profile {
        // `build` compiles the app with the bundler's release settings (embedded assets via
        // the custom protocol), then bundles.
        Profile::Release => cmd.args(["build", "--bundles", "deb,rpm", "--ci"]),
        // `bundle` packages the debug binary already built: no second compile of the app.
        // Only the `.deb`: compressing a second 160 MiB debug package would test nothing more.
        Profile::Debug => cmd.args(["bundle", "--debug", "--bundles", "deb", "--ci"]),
    };
    cmd.arg("--config").arg(&patch_path);
    sh(&mut cmd)?;

    let deb = find(&bundle_dir.join("deb"), ".deb")?;
    let rpm = match profile {
        Profile::Release => Some(find(&bundle_dir.join("rpm"), ".rpm")?),
        Profile::Debug => None,
    };
    let signatures = [&bundle_dir.join("deb"), &bundle_dir.join("rpm")]
        .iter()
        .filter_map(|d| find(d, ".sig").ok())
        .collect();
    Ok(Packages {
        deb,
        rpm,
        signatures,
    })
}

/// The bundler, installed from `packaging/package-lock.json` when missing.
pub fn ensure_cli(root: &Path) -> Result<PathBuf, String> {
    let dir = root.join("packaging");
    let cli = dir.join("node_modules").join(".bin").join("tauri");
    if !cli.exists() {
        crate::step::npm_ci(&dir)?;
    }
    Ok(cli)
}

/// The merge patch for `tauri.conf.json`: `herald-cli` into both packages and, with a
/// signing key, the updater.
fn config_patch(root: &Path, cli: &Path) -> Result<String, String> {
    let cli = json_string(&cli.display().to_string());
    let files = format!("{{\"/usr/bin/herald-cli\": {cli}}}");
    let linux =
        format!("\"linux\": {{\"deb\": {{\"files\": {files}}}, \"rpm\": {{\"files\": {files}}}}}");
    let Some(_key) = std::env::var_os("TAURI_SIGNING_PRIVATE_KEY").filter(|k| !k.is_empty()) else {
        return Ok(format!("{{\"bundle\": {{{linux}}}}}"));
    };
    let pubkey = std::env::var("HERALD_UPDATER_PUBKEY").map_err(|_| {
        "TAURI_SIGNING_PRIVATE_KEY is set: set HERALD_UPDATER_PUBKEY to its public key too"
    })?;
    let endpoint = std::env::var("HERALD_UPDATER_ENDPOINT").map_err(|_| {
        "TAURI_SIGNING_PRIVATE_KEY is set: set HERALD_UPDATER_ENDPOINT to the update manifest's https URL"
    })?;
    let template = std::fs::read_to_string(root.join("packaging/updater.json"))
        .map_err(|e| format!("packaging/updater.json: {e}"))?;
    // The template's empty key and endpoint list are the only places filled in; everything
    // else (requireSignedVersion, createUpdaterArtifacts) is taken as committed.
    let filled = template
        .replace(
            "\"pubkey\": \"\"",
            &format!("\"pubkey\": {}", json_string(&pubkey)),
        )
        .replace(
            "\"endpoints\": []",
            &format!("\"endpoints\": [{}]", json_string(&endpoint)),
        );
    let body = filled
        .trim()
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .ok_or("packaging/updater.json is not a JSON object")?;
    let body = body.replacen("\"bundle\": {", &format!("\"bundle\": {{{linux},"), 1);
    Ok(format!("{{{body}}}"))
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn find(dir: &Path, suffix: &str) -> Result<PathBuf, String> {
    std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .ok_or_else(|| format!("no *{suffix} in {}", dir.display()))
}
