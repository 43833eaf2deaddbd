//! The window's pure JavaScript (the store and navigation in `ui/js/`), tested with Node's own
//! test runner from `tests/ui/*.test.mjs`. Node is already needed by the conformance suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

#[test]
fn store_and_navigation() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/ui exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.test.mjs in {}", dir.display());
    let out = Command::new("node")
        .arg("--test")
        .args(&files)
        .output()
        .expect("node runs (install Node.js 20 or newer; the conformance suite needs it too)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A runner that found nothing to run also exits 0: insist the tests ran.
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("# pass ") && l != "# pass 0"),
        "no test passed:\n{report}"
    );
}
