//! `herald-cli support-bundle FILE` as a user runs it: on a folder that has a store and logs,
//! it writes the zip, names what it holds, and a bad destination is a clear error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "herald-cli-bundle-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    dir
}

#[test]
fn writes_a_zip_and_says_what_is_in_it() {
    let data = tempdir();
    std::fs::write(
        data.join("logs/herald.log"),
        "INFO paired jid=15557654321:7@s.whatsapp.net\n",
    )
    .unwrap();
    let out = data.join("support.zip");
    let run = Command::new(env!("CARGO_BIN_EXE_herald-cli"))
        .args(["support-bundle"])
        .arg(&out)
        .arg("--data-dir")
        .arg(&data)
        .env("HERALD_KEYCHAIN", "off")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("system.json") && stdout.contains("logs/herald.log"),
        "{stdout}"
    );
    let zip = std::fs::read(&out).unwrap();
    assert_eq!(&zip[..2], b"PK", "a zip");

    let bad = Command::new(env!("CARGO_BIN_EXE_herald-cli"))
        .args(["support-bundle"])
        .arg(data.join("no-such-folder/support.zip"))
        .arg("--data-dir")
        .arg(&data)
        .env("HERALD_KEYCHAIN", "off")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("support bundle") && stderr.contains("no-such-folder"),
        "{stderr}"
    );
}
