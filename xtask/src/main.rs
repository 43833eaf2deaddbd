//! `cargo xtask`: the project's own set-up, run and test commands.
//!
//! Std only, so that it compiles in seconds on a fresh machine before anything else is there.

mod api_fuzz;
mod bundle;
mod daemon;
mod display;
mod install_test;
mod keychain;
mod measure;
mod measure_serve;
mod run;
#[cfg(test)]
mod seams;
mod setup;
mod smaps;
mod step;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup                      install what building and testing need (Debian/Ubuntu), check elsewhere
  run [--release] [--demo] [--screenshot PATH] [--binary PATH]
                             build and start Herald; with no display, under Xvfb;
                             --screenshot saves a PNG of the window once it has rendered, then exits;
                             --binary runs an app already built instead of building one
  test [STEP…]               set-up, formatting, lints and every test suite, each step timed
  bundle [--debug]           the release app's .deb and .rpm (with herald-cli), signed for the
                             updater when TAURI_SIGNING_PRIVATE_KEY is set; --debug makes the
                             .deb of the debug build instead (what the install test does)
  measure                    release build: launch-to-paint time and memory of the app and its
                             WebKit processes, window open and in the tray (Linux)
  measure-serve [--no-load]  release build: herald-cli serve linked to wa-sim, idle memory with
                             1,000 schedules, GET /health at ~1,000 req/s for 60 s under wrk (Linux);
                             --no-load stops after the idle figures
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::ensure(setup::Mode::Verbose),
        Some("run") => run::RunOptions::parse(&args[1..]).and_then(|o| run::run(&o)),
        Some("test") => test::run_all(&args[1..]),
        Some("measure") => measure::run(),
        Some("measure-serve") => measure_serve::run(&args[1..]),
        Some("bundle") => bundle::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown or missing command\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (xtask lives one level below it).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Where cargo puts what it builds.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The cargo that runs us, so that toolchain overrides carry over.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
