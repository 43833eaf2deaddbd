//! `cargo xtask test`: everything, each step timed; stops at the first failure.
//!
//! The app is built once per run: the `build` step compiles every test target of the workspace
//! together with the binaries the suites start (the app, `herald-cli`, `wa-sim`), in the one
//! feature set that `cargo test --workspace` uses (dev-dependencies such as tauri's `test`
//! feature included), and every later step reuses those artifacts instead of asking cargo for
//! a build with other features. After it, the suites run in two lanes at once — the unit and
//! conformance suites beside the end-to-end suite and the screenshot, which mostly wait on a
//! window — each lane's output kept apart and printed when the lane ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::display::{SessionBus, Xvfb};
use crate::setup;
use crate::step::{fmt, sh, step, summary, Timing};

/// The steps, in the order they run. `cargo xtask test STEP…` runs only the named ones.
const STEPS: &[&str] = &[
    "setup",
    "fmt",
    "clippy",
    "build",
    "tests",
    "conformance",
    "keychain",
    "e2e",
    "screenshot",
    "install",
];

/// The steps after `build`, split into lanes that run at the same time.
const LANES: &[&[&str]] = &[
    &["tests", "conformance", "keychain"],
    &["e2e", "screenshot", "install"],
];

/// The one test build every step shares: the whole workspace with the simulator linked into
/// the app (its demo mode is what the e2e suite and the screenshot drive).
const TEST_BUILD: &[&str] = &["test", "--workspace", "--features", "herald/demo"];

/// Set in a lane's process: where it appends `name<TAB>seconds` for each step it ran.
const TIMINGS_ENV: &str = "HERALD_XTASK_TIMINGS";

pub fn run_all(args: &[String]) -> Result<(), String> {
    let (lane, args) = match args.split_first() {
        Some((first, rest)) if first == "--lane" => (true, rest),
        _ => (false, args),
    };
    for a in args {
        if !STEPS.contains(&a.as_str()) {
            return Err(format!("unknown step {a}; steps: {}", STEPS.join(", ")));
        }
    }
    let wanted = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    let root = crate::root();
    let mut timings: Vec<Timing> = Vec::new();
    let result = if lane {
        suites(&root, &mut timings, &wanted)
    } else {
        (|| -> Result<(), String> {
            checks(&root, &mut timings, &wanted)?;
            let lanes: Vec<Vec<&str>> = LANES
                .iter()
                .map(|l| l.iter().copied().filter(|s| wanted(s)).collect::<Vec<_>>())
                .filter(|l| !l.is_empty())
                .collect();
            match lanes.as_slice() {
                [] => Ok(()),
                [one] => suites(&root, &mut timings, &|s| one.contains(&s)),
                _ => in_lanes(&root, &lanes, &mut timings),
            }
        })()
    };
    if lane {
        record(&timings);
    } else {
        summary(&timings);
    }
    result
}

/// The steps before the suites, one after the other.
fn checks(
    root: &Path,
    timings: &mut Vec<Timing>,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    if wanted("setup") {
        step(timings, "setup", || setup::ensure(setup::Mode::Verbose))?;
    }
    if wanted("fmt") {
        step(timings, "fmt", || {
            sh(cargo(root).args(["fmt", "--all", "--", "--check"]))
        })?;
    }
    if wanted("clippy") {
        step(timings, "clippy", || {
            sh(cargo(root).args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        })?;
    }
    if wanted("build") {
        step(timings, "build (every test target, app included)", || {
            build(root)
        })?;
    }
    Ok(())
}

/// The suites, in order, in this process.
fn suites(
    root: &Path,
    timings: &mut Vec<Timing>,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    if wanted("tests") {
        step(
            timings,
            "tests (unit, integration, app on mock runtime)",
            || sh(cargo(root).args(TEST_BUILD)),
        )?;
    }
    if wanted("conformance") && root.join("conformance/package.json").is_file() {
        step(timings, "conformance against Baileys (node)", || {
            conformance(root)
        })?;
    }
    if wanted("keychain") && cfg!(target_os = "linux") {
        step(
            timings,
            "keychain (store key in a real Secret Service)",
            || crate::keychain::run(root, &target_dir(root)),
        )?;
    }
    if wanted("e2e") && cfg!(target_os = "linux") {
        step(timings, "e2e (real app, WebDriver, Xvfb)", || e2e(root))?;
    }
    if wanted("screenshot") && cfg!(target_os = "linux") {
        step(timings, "run --screenshot", || screenshot(root))?;
    }
    if wanted("install") && cfg!(target_os = "linux") {
        step(
            timings,
            "install (.deb into a throwaway root, run, purge)",
            || crate::install_test::run(root, &target_dir(root)),
        )?;
    }
    Ok(())
}

/// Runs each lane as a child `xtask test --lane STEP…` with its output in a log file, waits for
/// all of them, then prints each log and takes over the steps' timings.
fn in_lanes(root: &Path, lanes: &[Vec<&str>], timings: &mut Vec<Timing>) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = target_dir(root).join("xtask").join("lanes");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut children = Vec::new();
    for (i, lane) in lanes.iter().enumerate() {
        let log = dir.join(format!("lane-{i}.log"));
        let times = dir.join(format!("lane-{i}.times"));
        let _ = std::fs::remove_file(&times);
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        println!(
            "\n==> {} (in parallel; output in {})",
            lane.join(", "),
            log.display()
        );
        let child = Command::new(&exe)
            .current_dir(root)
            .env(TIMINGS_ENV, &times)
            .arg("test")
            .arg("--lane")
            .args(lane)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start lane {}: {e}", lane.join(", ")))?;
        children.push((lane, log, times, child));
    }
    let mut failed = Vec::new();
    for (lane, log, times, mut child) in children {
        let status = child.wait().map_err(|e| e.to_string())?;
        println!("\n---- {} ----", lane.join(", "));
        if let Ok(text) = std::fs::read_to_string(&log) {
            print!("{text}");
        }
        for line in std::fs::read_to_string(&times).unwrap_or_default().lines() {
            if let Some((name, secs)) = line.split_once('\t') {
                let took = secs
                    .parse()
                    .map(Duration::from_secs_f64)
                    .unwrap_or_default();
                println!("<== {name}: {}", fmt(took));
                timings.push(Timing {
                    name: name.to_owned(),
                    took,
                });
            }
        }
        if !status.success() {
            failed.push(lane.join(", "));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed in: {}", failed.join("; ")))
    }
}

/// In a lane's process: hands the steps' durations to the parent.
fn record(timings: &[Timing]) {
    let Some(path) = std::env::var_os(TIMINGS_ENV) else {
        summary(timings);
        return;
    };
    let text: String = timings
        .iter()
        .map(|t| format!("{}\t{}\n", t.name, t.took.as_secs_f64()))
        .collect();
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("xtask: cannot write {}: {e}", PathBuf::from(path).display());
    }
}

/// The run's one build: every test target of the workspace and the binaries they start, with
/// the features of `cargo test --workspace`. Later steps find it done.
pub(crate) fn build(root: &Path) -> Result<(), String> {
    sh(cargo(root).args(TEST_BUILD).arg("--no-run"))
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
/// runner, against the debug `herald-cli`, `wa-sim`, wa-core's example peers (`signal_peer`,
/// `group_peer`) and wa-client's store-backed one (`store_peer`).
fn conformance(root: &Path) -> Result<(), String> {
    // herald-cli, wa-sim and the examples as the test build made them (the same features, so
    // no rebuild).
    build(root)?;
    let dir = root.join("conformance");
    crate::step::npm_ci(&dir)?;
    let cli = target_dir(root).join("debug").join("herald-cli");
    let sim = target_dir(root).join("debug").join("wa-sim");
    let examples = target_dir(root).join("debug").join("examples");
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
        .env("SIGNAL_PEER", examples.join("signal_peer"))
        .env("GROUP_PEER", examples.join("group_peer"))
        .env("STORE_PEER", examples.join("store_peer"))
        .arg("--test")
        // Baileys leaves timers behind after its sockets end; without this node waits ~30 s
        // per suite for them once every test has finished.
        .arg("--test-force-exit")
        .args(&tests))
}

/// The end-to-end suite drives the real app over WebDriver on a private display and bus.
fn e2e(root: &Path) -> Result<(), String> {
    let driver = setup::tauri_driver().ok_or("tauri-driver is not installed")?;
    // The suites' executables as the build step made them, run directly: asking cargo for
    // `--test e2e` resolves other features for the host crates and rebuilds tauri.
    let suites = test_executables(root, &["e2e", "e2e_demo"])?;
    let xvfb = Xvfb::start(1280, 900)?;
    let bus = SessionBus::start()?;
    for suite in suites {
        sh(Command::new(&suite)
            .current_dir(root)
            .env("DISPLAY", &xvfb.display)
            .env_remove("WAYLAND_DISPLAY")
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("HERALD_TAURI_DRIVER", &driver)
            .args(["--ignored", "--test-threads=1"]))?;
    }
    Ok(())
}

/// The executables of the named integration-test targets, from the build step's artifacts
/// (cargo reports them even when nothing needed building).
fn test_executables(root: &Path, names: &[&str]) -> Result<Vec<PathBuf>, String> {
    let out = cargo(root)
        .args(TEST_BUILD)
        .args(["--no-run", "--message-format=json"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo test --no-run exited with {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut found = Vec::new();
    for name in names {
        let target = format!("\"name\":\"{name}\",\"src_path\"");
        let exe = text
            .lines()
            .filter(|l| l.contains("\"reason\":\"compiler-artifact\"") && l.contains(&target))
            .filter(|l| l.contains("\"kind\":[\"test\"]"))
            .find_map(|l| json_string_after(l, "\"executable\":\""))
            .ok_or_else(|| format!("the build made no test executable named {name}"))?;
        found.push(PathBuf::from(exe));
    }
    Ok(found)
}

/// The JSON string value that follows `key` in `line`, unescaped for the escapes a path may
/// carry (`\\` and `\"`).
fn json_string_after(line: &str, key: &str) -> Option<String> {
    let rest = &line[line.find(key)? + key.len()..];
    let mut value = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}

/// `cargo xtask run --demo --screenshot` works on this machine, with a throwaway data folder.
fn screenshot(root: &Path) -> Result<(), String> {
    let out = target_dir(root).join("xtask");
    let data = out.join("screenshot-data");
    let _ = std::fs::remove_dir_all(&data);
    let shot = out.join("first-screen.png");
    let _ = std::fs::remove_file(&shot);
    // The app the test build made; `run` alone would build it again without the test
    // features, recompiling tauri.
    build(root)?;
    let app = target_dir(root).join("debug").join(if cfg!(windows) {
        "herald.exe"
    } else {
        "herald"
    });
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    sh(Command::new(exe)
        .current_dir(root)
        .env("HERALD_DATA_DIR", &data)
        .arg("run")
        // Demo mode: the test never leaves this machine (the real app would dial WhatsApp).
        .arg("--demo")
        .arg("--binary")
        .arg(&app)
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
