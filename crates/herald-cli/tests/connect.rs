//! `herald-cli` as a process against a real simulator on 127.0.0.1: pairing, restarts, the
//! session lock, signals, status and history after a disconnect, pairing by phone number, and
//! logout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{data_dir, files, pair, run, Cli, Sim, PHONE};
use serde_json::Value;

#[test]
fn pairs_reaches_online_and_comes_back_after_kill_9_without_a_qr() {
    let sim = Sim::start();
    let dir = data_dir();
    let mut first = pair(&sim, dir.path());
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(5));
    for line in first.drain() {
        let v: Value = serde_json::from_str(&line).expect("only JSON on stdout");
        assert!(v["event"].is_string(), "{line}");
    }

    let mut second = Cli::spawn(&["connect", "--json"], dir.path(), Some(&sim));
    second.wait_online();
    assert!(
        !second.seen.iter().any(|l| l.contains(r#""event":"qr""#)),
        "no QR code with a saved session: {:?}",
        second.seen
    );
    assert_eq!(sim.devices(), 1, "still the one linked device");
}

#[test]
fn a_second_connect_on_the_same_folder_is_refused_naming_the_holder() {
    let sim = Sim::start();
    let dir = data_dir();
    let mut first = Cli::spawn(&["connect", "--json"], dir.path(), Some(&sim));
    first.wait_json("a QR code", |v| v["event"] == "qr");

    let started = Instant::now();
    let mut second = Cli::spawn(&["connect", "--json"], dir.path(), Some(&sim));
    let status = second.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(3), "stderr: {}", second.stderr());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "refused at once"
    );
    let err = second.stderr();
    assert!(
        err.contains(&format!("herald-cli (pid {}", first.pid())),
        "names the holder: {err}"
    );
    assert!(second.drain().is_empty(), "nothing on stdout");
}

#[test]
fn sigterm_shuts_down_cleanly_and_releases_the_session() {
    let sim = Sim::start();
    let dir = data_dir();
    let mut first = pair(&sim, dir.path());
    let asked = Instant::now();
    first.signal("TERM");
    let status = first.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "stderr: {}", first.stderr());
    assert!(asked.elapsed() < Duration::from_secs(3));
    let closed = first
        .drain()
        .iter()
        .any(|l| l.contains(r#""state":"closed""#));
    assert!(
        closed,
        "the engine reported its clean close: {:?}",
        first.seen
    );

    let mut next = Cli::spawn(&["connect", "--json"], dir.path(), Some(&sim));
    next.wait_online();
}

#[test]
fn status_and_history_show_a_503_while_connect_runs() {
    let sim = Sim::start();
    let dir = data_dir();
    let mut cli = pair(&sim, dir.path());
    assert_eq!(sim.kick("503"), 1);
    cli.wait_json("the 503", |v| {
        v["event"] == "disconnected" && v["cause"] == "server_restarting"
    });

    let (code, out, err) = run(&["status", "--json"], dir.path());
    assert_eq!(code, 0, "{err}");
    let status: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(status["linked"], true);
    assert_eq!(status["account"]["phone"], format!("+{PHONE}"));
    assert_eq!(status["running"]["program"], "herald-cli");
    assert_eq!(status["running"]["pid"], cli.pid());
    assert_eq!(status["lastDisconnect"]["cause"], "server_restarting");
    assert_eq!(status["lastDisconnect"]["decision"], "backoff");
    assert_eq!(status["lastDisconnect"]["code"], 503);
    assert_eq!(
        status["disconnects"], 2,
        "the 515 after pairing, then the 503"
    );

    let (code, out, _) = run(&["status"], dir.path());
    assert_eq!(code, 0);
    assert!(
        out.contains("server_restarting, code 503) → backoff"),
        "{out}"
    );
    assert!(
        out.contains(&format!("Running: herald-cli (pid {}", cli.pid())),
        "{out}"
    );

    let (code, out, err) = run(&["history", "--json"], dir.path());
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["cause"], "server_restarting", "newest first");
    assert_eq!(rows[0]["decision"], "backoff");
    assert_eq!(rows[1]["cause"], "restart_required");
    assert_eq!(rows[1]["decision"], "reconnect_now");

    let (code, out, _) = run(&["history", "--csv", "--limit", "1"], dir.path());
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "header and one row: {out}");
    assert!(lines[0].starts_with("time_utc,cause,"));
    assert!(
        lines[1].contains(",server_restarting,") && lines[1].contains(",503,backoff,"),
        "{}",
        lines[1]
    );

    // The backoff ends and the connection comes back by itself.
    cli.wait_online();
}

#[test]
fn pair_code_refuses_a_wrong_number_and_changes_nothing() {
    let dir = data_dir();
    for wrong in ["+12", "+0155512345", "call me", "+1555123456789012"] {
        let (code, out, err) = run(
            &[
                "pair-code",
                wrong,
                "--server",
                "ws://127.0.0.1:9/ws/chat",
                "--trust-root",
                &"ab".repeat(32),
            ],
            dir.path(),
        );
        assert_eq!(code, 2, "{wrong}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains("phone number"), "{err}");
    }
    assert!(files(dir.path()).is_empty(), "nothing was written");
}

#[test]
fn pair_code_links_by_phone_number() {
    let sim = Sim::start();
    let dir = data_dir();
    let mut cli = Cli::spawn(
        &["pair-code", &format!("+{PHONE}"), "--json"],
        dir.path(),
        Some(&sim),
    );
    let event = cli.wait_json("a pairing code", |v| v["event"] == "pair_code");
    let code = event["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 9, "XXXX-XXXX: {code}");
    assert_eq!(&code[4..5], "-");
    sim.enter_code(&code);
    cli.wait_json("paired", |v| v["event"] == "paired");
    cli.wait_online();
    assert_eq!(sim.devices(), 1);
}

#[test]
fn logout_unlinks_on_the_server_and_archives_the_session() {
    let sim = Sim::start();
    let dir = data_dir();
    let mut cli = pair(&sim, dir.path());
    cli.signal("TERM");
    assert_eq!(cli.wait_exit(Duration::from_secs(5)).code(), Some(0));

    let mut args = vec!["logout", "--json"];
    let server = sim.server_args();
    args.extend(server.iter().map(String::as_str));
    let (code, out, err) = run(&args, dir.path());
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["wasLinked"], true);
    assert_eq!(report["unlinkedOnServer"], true, "{out}");
    let archive = report["archive"].as_str().unwrap();
    assert!(std::path::Path::new(archive).exists(), "{archive}");
    assert_eq!(sim.devices(), 0, "the phone no longer lists it");

    let (_, out, _) = run(&["status", "--json"], dir.path());
    let status: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(status["linked"], false);
    assert_eq!(status["archivedSessions"], 1);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = data_dir();
    let cases: &[&[&str]] = &[
        &["connect", "--bogus"],
        &["connect", "--server", "http://127.0.0.1:9/"],
        &["connect", "--server", "ws://127.0.0.1:9/ws/chat"],
        &[
            "connect",
            "--server",
            "ws://127.0.0.1:9/ws/chat",
            "--trust-root",
            "12ab",
        ],
        &["history", "--limit", "0"],
    ];
    for args in cases {
        let (code, out, err) = run(args, dir.path());
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("herald-cli: "), "{err}");
    }
    assert!(files(dir.path()).is_empty());
}
