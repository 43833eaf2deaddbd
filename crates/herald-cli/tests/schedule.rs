//! `herald-cli schedule …` as real processes: the flags, `--json` output, bad input (exit 2,
//! one line, nothing saved), and writing while `connect` holds the session.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{data_dir, pair, run, Sim};
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn ok(args: &[&str], dir: &std::path::Path) -> Value {
    let (code, out, err) = run(args, dir);
    assert_eq!(code, 0, "{args:?}: {err}");
    json(&out)
}

#[test]
fn preview_shows_the_dst_gap_in_the_documented_form() {
    let dir = data_dir();
    // 29 March 2099 is a spring-forward Sunday in Europe/Berlin.
    let v = ok(
        &[
            "schedule",
            "preview",
            "--at",
            "2099-03-28 02:30",
            "--tz",
            "Europe/Berlin",
            "--every",
            "day",
            "--next",
            "3",
            "--json",
        ],
        dir.path(),
    );
    let want = serde_json::json!({"occurrences": [
        {"local": "2099-03-28T02:30:00", "offset": "+01:00", "utc": "2099-03-28T01:30:00Z", "zone": "Europe/Berlin"},
        {"local": "2099-03-29T03:30:00", "offset": "+02:00", "utc": "2099-03-29T01:30:00Z", "zone": "Europe/Berlin"},
        {"local": "2099-03-30T02:30:00", "offset": "+02:00", "utc": "2099-03-30T00:30:00Z", "zone": "Europe/Berlin"},
    ]});
    assert_eq!(v, want);
    // Preview saves nothing.
    assert_eq!(
        ok(&["schedule", "list", "--json"], dir.path()),
        Value::Array(vec![])
    );
}

#[test]
fn preview_of_weekly_monthly_and_yearly_rules() {
    let dir = data_dir();
    let locals = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["schedule", "preview", "--tz", "UTC", "--json"];
        all.extend_from_slice(args);
        ok(&all, dir.path())["occurrences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["local"].as_str().unwrap()[..10].to_owned())
            .collect()
    };
    // Wednesday 4 March 2099: week 0 starts Monday 2 March.
    assert_eq!(
        locals(&[
            "--at",
            "2099-03-04 09:00",
            "--every",
            "2w",
            "--on",
            "mon,thu",
            "--next",
            "4"
        ]),
        ["2099-03-05", "2099-03-16", "2099-03-19", "2099-03-30"]
    );
    assert_eq!(
        locals(&[
            "--at",
            "2099-01-31 09:00",
            "--every",
            "month",
            "--next",
            "3"
        ]),
        ["2099-01-31", "2099-02-28", "2099-03-31"]
    );
    assert_eq!(
        locals(&[
            "--at",
            "2099-01-10 09:00",
            "--every",
            "month",
            "--last-day",
            "--next",
            "2"
        ]),
        ["2099-01-31", "2099-02-28"]
    );
    assert_eq!(
        locals(&[
            "--at",
            "2096-02-29 09:00",
            "--every",
            "year",
            "--next",
            "2",
            "--count",
            "5"
        ]),
        ["2096-02-29", "2097-02-28"]
    );
    assert_eq!(
        locals(&[
            "--at",
            "2099-05-01 09:00",
            "--every",
            "3d",
            "--until",
            "2099-05-07"
        ]),
        ["2099-05-01", "2099-05-04", "2099-05-07"]
    );
}

#[test]
fn add_list_pause_resume_cancel_and_history() {
    let dir = data_dir();
    let d = dir.path();
    let added = ok(
        &[
            "schedule",
            "add",
            "--to",
            "+49 151 23456789",
            "--text",
            "Guten Morgen",
            "--at",
            "2099-06-01 09:00",
            "--tz",
            "Europe/Berlin",
            "--every",
            "week",
            "--on",
            "mon,tue,wed,thu,fri",
            "--catch-up",
            "30m",
            "--json",
        ],
        d,
    );
    let id = added["id"].as_i64().unwrap();
    assert_eq!(added["occurrences"].as_array().unwrap().len(), 5);
    assert_eq!(added["occurrences"][0]["utc"], "2099-06-01T07:00:00Z");
    let soon = ok(
        &[
            "schedule",
            "add",
            "--to",
            "120363012345678901@g.us",
            "--text",
            "hi all",
            "--in",
            "90s",
            "--json",
        ],
        d,
    );
    assert_eq!(soon["occurrences"].as_array().unwrap().len(), 1);

    let list = ok(&["schedule", "list", "--json"], d);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["to"], "+4915123456789");
    assert_eq!(list[0]["timing"], "Every weekday at 09:00, Europe/Berlin");
    assert_eq!(list[0]["next"]["local"], "2099-06-01T09:00:00");
    assert_eq!(list[1]["toKind"], "group");

    let history = ok(&["schedule", "history", &id.to_string(), "--json"], d);
    let first = &history[0];
    assert_eq!(first["state"], "pending");
    let message_id = first["messageId"].as_str().unwrap().to_owned();
    assert!(message_id.starts_with("3EB0") && message_id.len() == 22);

    let paused = ok(&["schedule", "pause", &id.to_string(), "--json"], d);
    assert_eq!(paused["status"], "paused");
    let (code, _, err) = run(&["schedule", "pause", &id.to_string()], d);
    assert_eq!((code, err.trim()), (2, "herald-cli: schedule 1 is paused"));
    assert_eq!(
        ok(&["schedule", "list", "--json"], d)[0]["next"],
        Value::Null
    );
    ok(&["schedule", "resume", &id.to_string(), "--json"], d);
    assert_eq!(
        ok(&["schedule", "list", "--json"], d)[0]["next"]["local"],
        "2099-06-01T09:00:00"
    );
    ok(&["schedule", "cancel", "2", "--json"], d);
    let all = ok(&["schedule", "history", "--json"], d);
    let states: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert!(
        states.contains(&"cancelled") && states.contains(&"pending"),
        "{states:?}"
    );
    let (code, out, _) = run(&["schedule", "history"], d);
    assert_eq!(code, 0);
    assert!(
        out.contains("cancelled") && out.contains("pending"),
        "{out}"
    );
    let (code, _, err) = run(&["schedule", "history", "99"], d);
    assert_eq!((code, err.trim()), (2, "herald-cli: no schedule 99"));
}

#[test]
fn bad_input_exits_2_with_one_line_and_saves_nothing() {
    let dir = data_dir();
    let d = dir.path();
    let base = ["schedule", "add", "--to", "+4915123456789", "--text", "x"];
    let cases: &[(&[&str], &str)] = &[
        (
            &["--at", "2099-01-01 09:00", "--tz", "Mars/Olympus"],
            "unknown time zone",
        ),
        (&["--at", "2020-01-01 09:00", "--tz", "UTC"], "in the past"),
        (&["--at", "2099-02-31 09:00", "--tz", "UTC"], "no such date"),
        (&["--at", "2099-01-01 25:00", "--tz", "UTC"], "no such time"),
        (
            &[
                "--at",
                "2099-03-01 09:00",
                "--tz",
                "UTC",
                "--every",
                "day",
                "--until",
                "2099-02-01",
            ],
            "before the start date",
        ),
        (
            &["--at", "2099-03-01 09:00", "--tz", "UTC", "--every", "0d"],
            "--every",
        ),
        (
            &["--at", "2099-03-01 09:00", "--tz", "UTC", "--on", "mon"],
            "need --every",
        ),
        (
            &[
                "--at",
                "2099-03-01 09:00",
                "--tz",
                "UTC",
                "--every",
                "week",
                "--on",
                "funday",
            ],
            "not a weekday",
        ),
        (
            &["--at", "2099-03-01 09:00", "--tz", "UTC", "--count", "3"],
            "need --every",
        ),
        (
            &[
                "--at",
                "2099-03-01 09:00",
                "--tz",
                "UTC",
                "--catch-up",
                "soon",
            ],
            "--catch-up",
        ),
        (&["--in", "ten minutes", "--tz", "UTC"], "--in"),
        (&["--tz", "UTC"], "--at"),
    ];
    for (extra, needle) in cases {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        let (code, out, err) = run(&args, d);
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(out.is_empty(), "{extra:?}: stdout {out}");
        assert_eq!(err.trim().lines().count(), 1, "{extra:?}: one line: {err}");
        assert!(err.contains(needle), "{extra:?}: {err}");
    }
    for (to, needle) in [
        ("+1 555", "not a valid phone number"),
        ("hello", "not a phone number"),
        ("status@broadcast", "not a user or group"),
    ] {
        let (code, _, err) = run(
            &["schedule", "add", "--to", to, "--text", "x", "--in", "1h"],
            d,
        );
        assert_eq!(code, 2, "{to}: {err}");
        assert!(err.contains(needle), "{to}: {err}");
    }
    let (code, _, err) = run(
        &[
            "schedule",
            "add",
            "--to",
            "+4915123456789",
            "--text",
            "  ",
            "--in",
            "1h",
        ],
        d,
    );
    assert_eq!((code, err.contains("empty")), (2, true), "{err}");
    assert_eq!(ok(&["schedule", "list", "--json"], d), Value::Array(vec![]));
}

#[test]
fn schedule_commands_work_while_connect_holds_the_session() {
    let sim = Sim::start();
    let dir = data_dir();
    let connect = pair(&sim, dir.path());
    let added = ok(
        &[
            "schedule",
            "add",
            "--to",
            "+4915123456789",
            "--text",
            "while running",
            "--in",
            "2h",
            "--json",
        ],
        dir.path(),
    );
    assert!(added["id"].as_i64().is_some());
    let list = ok(&["schedule", "list", "--json"], dir.path());
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The linked account's number went into the message id's hash; still the WA Web shape.
    let history = ok(&["schedule", "history", "--json"], dir.path());
    assert!(history[0]["messageId"]
        .as_str()
        .unwrap()
        .starts_with("3EB0"));
    connect.signal("TERM");
}
