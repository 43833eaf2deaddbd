//! Running commands as named, timed steps.

use std::process::Command;
use std::time::{Duration, Instant};

/// One finished step and how long it took.
pub struct Timing {
    pub name: String,
    pub took: Duration,
}

/// Runs `f` as a step named `name`: announces it, times it, and reports the outcome.
pub fn step(
    timings: &mut Vec<Timing>,
    name: &str,
    f: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    println!("\n==> {name}");
    let start = Instant::now();
    let outcome = f();
    let took = start.elapsed();
    match &outcome {
        Ok(()) => println!("<== {name}: ok in {}", fmt(took)),
        Err(e) => println!("<== {name}: FAILED after {}: {e}", fmt(took)),
    }
    timings.push(Timing {
        name: name.to_string(),
        took,
    });
    outcome.map_err(|e| format!("step `{name}` failed: {e}"))
}

/// Runs a command to completion, inheriting stdio; non-zero exit is an error.
pub fn sh(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} exited with {status}"))
    }
}

pub fn fmt(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 {
        format!("{}m{:04.1}s", (s / 60.0).floor(), s % 60.0)
    } else {
        format!("{s:.1}s")
    }
}

/// Prints the table of step durations.
pub fn summary(timings: &[Timing]) {
    println!("\nstep durations:");
    let total: Duration = timings.iter().map(|t| t.took).sum();
    for t in timings {
        println!("  {:<50} {:>9}", t.name, fmt(t.took));
    }
    println!("  {:<50} {:>9}", "total", fmt(total));
}

/// `npm ci` of a folder's pinned packages, quietly.
pub fn npm_ci(dir: &std::path::Path) -> Result<(), String> {
    sh(std::process::Command::new("npm").current_dir(dir).args([
        "ci",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
    ]))
}
