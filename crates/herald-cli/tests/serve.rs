//! `herald-cli serve` as a process against a real simulator on 127.0.0.1: linking through
//! `GET /qr` (the PNG decoded and scanned by the simulated phone), liveness and readiness
//! through a 503, keys on `POST /restart` (none, wrong, revoked, good), the reconnect in the
//! history, the event stream's order, the bad-key back-off, refusing a public address without
//! a key, and a clean SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/daemon.rs"]
mod daemon;

use std::time::{Duration, Instant};

use common::{data_dir, run, Cli, Sim, PHONE};
use daemon::{create_key, next_event, Daemon};

#[test]
fn links_through_the_qr_png_and_stays_live_through_a_503() {
    let sim = Sim::start();
    let dir = data_dir();
    let d = Daemon::start(&sim, dir.path(), &[]);

    let bare = d.get_bare("/health");
    assert_eq!(bare.status, 200);
    let status = bare.json()["status"].as_str().unwrap().to_owned();
    assert!(
        ["connecting", "pairing"].contains(&status.as_str()),
        "{status}"
    );
    assert_eq!(d.get_bare("/health/ready").status, 503);
    assert_eq!(d.get_bare("/qr").status, 401, "the QR code needs a key");
    let text = d.wait_for("/qr.txt", "the QR text", |a| a.status == 200);
    assert!(text
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert!(text.header("x-qr-expires-at").is_some());
    let svg = d.get("/qr.svg");
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(String::from_utf8_lossy(&svg.body).contains("<svg"));

    d.pair(&sim);
    let ready = d.get_bare("/health/ready");
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["status"], "connected");
    assert_eq!(d.get("/qr").code(), "already_linked");
    assert_eq!(d.get("/qr").status, 409);

    // Without a key: the old service's four fields only.
    let bare = d.get_bare("/health").json();
    let mut fields: Vec<&str> = bare
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["activeJobs", "scheduledMessages", "status", "timestamp"]
    );
    let full = d.get("/health").json();
    assert_eq!(full["detail"]["state"], "online");
    assert_eq!(full["detail"]["account"], format!("+{PHONE}"));
    assert_eq!(
        full["detail"]["lastDisconnect"]["code"], 515,
        "the restart after pairing"
    );

    assert_eq!(sim.kick("503"), 1);
    let mut saw_not_ready = false;
    let deadline = Instant::now() + common::STEP;
    loop {
        assert_eq!(
            d.get_bare("/health").status,
            200,
            "liveness holds throughout"
        );
        let ready = d.get_bare("/health/ready");
        match ready.status {
            503 => saw_not_ready = true,
            200 if saw_not_ready => break,
            200 => {}
            other => panic!("readiness answered {other}"),
        }
        assert!(Instant::now() < deadline, "ready again within the step");
        std::thread::sleep(Duration::from_millis(20));
    }
    let after = d.get("/health").json();
    assert_eq!(
        after["detail"]["lastDisconnect"]["cause"],
        "server_restarting"
    );
    assert_eq!(after["detail"]["lastDisconnect"]["code"], 503);
}

#[test]
fn restart_needs_a_live_key_and_shows_in_the_history_and_the_events_in_order() {
    let sim = Sim::start();
    let dir = data_dir();
    let d = Daemon::start(&sim, dir.path(), &[]);
    d.pair(&sim);
    let revoked = create_key(dir.path(), "old");
    let (code, _, err) = run(&["api-key", "revoke", "old"], dir.path());
    assert_eq!(code, 0, "{err}");

    for (headers, why) in [
        (vec![], "no key"),
        (vec![("x-api-key", "herald_wrong")], "a wrong key"),
        (
            vec![("authorization", "Bearer herald_wrong")],
            "a wrong bearer",
        ),
        (vec![("x-api-key", revoked.as_str())], "a revoked key"),
    ] {
        let a = d.call("POST", "/restart", &headers, None);
        assert_eq!(a.status, 401, "{why}");
        assert_eq!(a.code(), "unauthorized", "{why}");
    }
    let before = d.get("/history").json().as_array().unwrap().len();
    assert_eq!(
        d.get_bare("/health").json()["status"],
        "connected",
        "nothing restarted"
    );

    let events = d.events();
    let mut skipped = Vec::new();
    let first = next_event(&events, &mut skipped, |n, _| n == "state");
    assert_eq!(
        first["state"], "online",
        "the stream opens with the current state"
    );

    let bearer = format!("Bearer {}", d.key);
    let a = d.call("POST", "/restart", &[("authorization", &bearer)], None);
    assert_eq!(a.status, 202);
    assert_eq!(a.json()["accepted"], true);

    // The states after the restart, in the order the engine went through them.
    let mut states = Vec::new();
    while states.last().map(String::as_str) != Some("online") {
        let s = next_event(&events, &mut skipped, |n, _| n == "state");
        states.push(s["state"].as_str().unwrap().to_owned());
    }
    let connecting = states.iter().position(|s| s == "connecting").unwrap();
    let logging_in = states.iter().position(|s| s == "logging_in").unwrap();
    assert!(connecting < logging_in, "{states:?}");
    assert_eq!(states.last().unwrap(), "online");
    assert!(
        skipped.iter().any(|(n, _)| n == "disconnected"),
        "the disconnect is on the stream: {skipped:?}"
    );

    let history = d
        .wait_for("/history", "the reconnect row", |a| {
            a.json().as_array().unwrap().len() == before + 1
        })
        .json();
    assert_eq!(history[0]["decision"], "reconnect_now", "{history}");
    assert_eq!(d.get_bare("/health/ready").status, 200);
}

#[test]
fn links_by_phone_number_and_refuses_a_number_that_is_not_one() {
    let sim = Sim::start();
    let dir = data_dir();
    let d = Daemon::start(&sim, dir.path(), &[]);
    for wrong in ["+12", "call me"] {
        let body = serde_json::json!({ "phone": wrong }).to_string();
        let a = d.send_json("POST", "/pair-code", &body);
        assert_eq!(
            (a.status, a.code().as_str()),
            (400, "invalid_phone"),
            "{wrong}"
        );
    }
    let body = serde_json::json!({ "phone": format!("+{PHONE}") }).to_string();
    let a = d.send_json("POST", "/pair-code", &body);
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let code = a.json();
    assert_eq!(code["code"].as_str().unwrap().len(), 8);
    sim.enter_code(code["formatted"].as_str().unwrap());
    d.wait_for("/health", "connected", |a| {
        a.json()["status"] == "connected"
    });
    let again = d.send_json("POST", "/pair-code", &body);
    assert_eq!(
        (again.status, again.code().as_str()),
        (409, "already_linked")
    );
}

#[test]
fn wrong_keys_from_one_address_get_429_with_a_delay() {
    let sim = Sim::start();
    let dir = data_dir();
    let d = Daemon::start(&sim, dir.path(), &[]);
    for i in 1..=5 {
        let a = d.call("GET", "/schedules", &[("x-api-key", "herald_guess")], None);
        assert_eq!(a.status, 401, "wrong key {i}");
    }
    let a = d.call("GET", "/schedules", &[("x-api-key", "herald_guess")], None);
    assert_eq!(a.status, 429);
    assert_eq!(a.code(), "too_many_bad_keys");
    assert!(a.header("retry-after").is_some());
    // While it waits, even the right key is not looked at.
    assert_eq!(d.get("/schedules").status, 429);
    // Requests without a key are not guesses: the health checks go on.
    assert_eq!(d.get_bare("/health").status, 200);
    assert!(
        !d.cli.stderr().contains("herald_guess"),
        "no key in the logs"
    );
}

#[test]
fn a_public_address_without_a_key_is_refused_and_sigterm_stops_cleanly() {
    let dir = data_dir();
    let (code, out, err) = run(
        &[
            "serve",
            "--listen",
            "0.0.0.0:0",
            "--server",
            "ws://127.0.0.1:9/ws/chat",
            "--trust-root",
            &"ab".repeat(32),
        ],
        dir.path(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("needs an API key"), "{err}");

    let sim = Sim::start();
    let mut d = Daemon::start(&sim, dir.path(), &[]);
    assert_eq!(d.get_bare("/health").status, 200);
    let events = d.events();
    let asked = Instant::now();
    d.cli.signal("TERM");
    let status = d.cli.wait_exit(Duration::from_secs(8));
    assert_eq!(status.code(), Some(0), "{}", d.cli.stderr());
    assert!(
        asked.elapsed() < Duration::from_secs(6),
        "an open event stream does not hold it"
    );
    // The stream ended with the daemon.
    let deadline = Instant::now() + Duration::from_secs(3);
    while events.recv_timeout(Duration::from_millis(100)).is_ok() {
        assert!(Instant::now() < deadline);
    }

    // The session is free again.
    let mut next = Cli::spawn(&["connect", "--json"], dir.path(), Some(&sim));
    next.wait_json("a QR code", |v| v["event"] == "qr");
}
