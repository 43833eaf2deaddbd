//! The shell's commands on Tauri's mock runtime: no webview, the real command handlers over a
//! real service (an engine pointed at a port where nothing listens, a real database).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use herald_app::paths::LaunchOptions;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{WebviewUrl, WebviewWindow, WebviewWindowBuilder};

fn data_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Shuts the service down when a test ends. The service runs on Tauri's global runtime, which
/// outlives the tests: without this, the process could exit while the engine still commits to
/// the encrypted store, and SQLCipher's exit-time clean-up would pull its heap from under that
/// write (a SIGSEGV after every test passed). The app itself shuts down the same way on quit.
struct StopService(herald_core::service::Service);

impl Drop for StopService {
    fn drop(&mut self) {
        tauri::async_runtime::block_on(self.0.shutdown());
    }
}

fn app_and_window(
    name: &str,
    demo: bool,
) -> (
    tauri::App<MockRuntime>,
    WebviewWindow<MockRuntime>,
    StopService,
) {
    let dir = data_dir(name);
    // Outside demo mode the engine dials a loopback port where nothing listens.
    let server = (!demo).then(|| {
        herald_app::paths::server_target(
            "ws://127.0.0.1:9/ws/chat",
            "142375574d0a587166aae71ebe516437c4a28b73e3695c6ce1f7f9545da8ee6b",
        )
        .expect("target")
    });
    let options = LaunchOptions {
        demo,
        data_dir: Some(dir.clone()),
        server,
        ..LaunchOptions::default()
    };
    let data = herald_app::paths::data_dir(&options).expect("data dir");
    let state = tauri::async_runtime::block_on(herald_app::start_service(&options, &data))
        .expect("service starts");
    let stop = StopService(state.service.clone());
    let app = herald_app::configure(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .expect("mock app builds");
    let window = WebviewWindowBuilder::new(&app, "main", WebviewUrl::default())
        .build()
        .expect("mock window builds");
    (app, window, stop)
}

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("json response"))
}

#[test]
fn settings_round_trip_and_bad_values_are_refused_with_their_field() {
    let (_app, w, _stop) = app_and_window("cmd-settings", false);
    let defaults = invoke(&w, "get_settings", json!({})).unwrap();
    assert_eq!(defaults["pingAfterSilenceSecs"], 20);
    assert_eq!(defaults["presence"], "unavailable");

    let mut bad = defaults.clone();
    bad["pingAfterSilenceSecs"] = json!(301);
    let err = invoke(&w, "set_settings", json!({ "settings": bad })).unwrap_err();
    assert_eq!(err["code"], "invalid_setting");
    assert_eq!(err["field"], "pingAfterSilenceSecs");
    assert_eq!(
        invoke(&w, "get_settings", json!({})).unwrap(),
        defaults,
        "nothing changed"
    );

    let mut good = defaults.clone();
    good["pingAfterSilenceSecs"] = json!(60);
    good["versionOverride"] = json!("2.3000.1045649367");
    assert_eq!(
        invoke(&w, "set_settings", json!({ "settings": good.clone() })).unwrap(),
        good
    );
    assert_eq!(invoke(&w, "get_settings", json!({})).unwrap(), good);
}

#[test]
fn history_holds_only_the_refused_dials_and_the_timeline_spans_a_day() {
    let (_app, w, _stop) = app_and_window("cmd-history", false);
    // The engine starts dialling at once, so by the time the command runs the history may
    // already hold the first refused dial (nothing listens on the port): every row there must
    // be that network failure with its backoff, and nothing else.
    let rows = invoke(&w, "history", json!({ "limit": 10 })).unwrap();
    for row in rows.as_array().unwrap() {
        assert_eq!(row["cause"], "network", "{row}");
        assert_eq!(row["decision"], "backoff", "{row}");
        assert!(row["delayMs"].as_u64().unwrap() > 0, "{row}");
    }
    let t = invoke(&w, "timeline", json!({ "range": "day" })).unwrap();
    assert_eq!(
        t["toMs"].as_i64().unwrap() - t["fromMs"].as_i64().unwrap(),
        86_400_000
    );
    assert!(t["spans"].as_array().unwrap().len() <= 2);
    let err = invoke(&w, "timeline", json!({ "range": "year" })).unwrap_err();
    assert_eq!(err["code"], "invalid_range");
}

#[test]
fn demo_commands_need_demo_mode() {
    let (_app, w, _stop) = app_and_window("cmd-not-demo", false);
    assert_eq!(invoke(&w, "app_info", json!({})).unwrap()["demo"], false);
    let err = invoke(&w, "demo_fault", json!({ "kind": "drop" })).unwrap_err();
    assert_eq!(err["code"], "not_demo");
    assert!(err["advice"].as_str().unwrap().contains("--demo"));
}

// The simulator is only linked into builds with the demo feature (as `cargo xtask test` runs).
#[cfg(feature = "demo")]
#[test]
fn demo_faults_are_named() {
    let (_app, w, _stop) = app_and_window("cmd-demo-fault", true);
    assert_eq!(invoke(&w, "app_info", json!({})).unwrap()["demo"], true);
    let err = invoke(&w, "demo_fault", json!({ "kind": "fire" })).unwrap_err();
    assert_eq!(err["code"], "demo");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("unknown demo fault"));
}

#[test]
fn unknown_commands_are_refused() {
    let (_app, w, _stop) = app_and_window("cmd-unknown", false);
    let err = invoke(&w, "delete_everything", json!({})).unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
}

/// A schedule form as the window sends it, `secs` from now in UTC.
fn schedule_draft(to: &str, secs: i64) -> Value {
    let at = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(secs))
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC);
    json!({
        "to": to,
        "text": "Happy birthday!",
        "date": at.strftime("%Y-%m-%d").to_string(),
        "time": at.strftime("%H:%M").to_string(),
        "zone": "UTC",
    })
}

#[test]
fn bad_schedules_are_refused_with_their_field_and_nothing_is_saved() {
    let (_app, w, _stop) = app_and_window("cmd-schedules-bad", false);
    let mut past = schedule_draft("+49 151 2345 6789", -3600);
    past["repeat"] = json!("once");
    let mut feb31 = schedule_draft("+49 151 2345 6789", 3600);
    feb31["date"] = json!("2027-02-31");
    let mut zone = schedule_draft("+49 151 2345 6789", 3600);
    zone["zone"] = json!("Europe/Atlantis");
    let mut national = schedule_draft("0151 234", 3600);
    national["region"] = json!("DE");
    let cases = [
        (past, "time", "is in the past"),
        (feb31, "date", "\"2027-02-31\" is not a date"),
        (
            schedule_draft("+1 555", 3600),
            "to",
            "not a valid phone number",
        ),
        (national, "to", "not a valid phone number"),
        (zone, "zone", "Unknown time zone \"Europe/Atlantis\""),
    ];
    for (draft, field, says) in cases {
        let err = invoke(&w, "create_schedule", json!({ "draft": draft })).unwrap_err();
        assert_eq!(err["code"], "invalid_schedule", "{err}");
        assert_eq!(err["field"], field, "{err}");
        assert!(
            err["message"].as_str().unwrap().contains(says),
            "{field}: {err}"
        );
    }
    let err = invoke(
        &w,
        "create_schedule",
        json!({ "draft": { "to": "+4915123456789" } }),
    )
    .unwrap_err();
    assert!(err.to_string().contains("missing field"), "{err}");
    assert_eq!(
        invoke(&w, "list_schedules", json!({})).unwrap(),
        json!([]),
        "nothing saved"
    );
    let err = invoke(&w, "get_schedule", json!({ "id": 999 })).unwrap_err();
    assert_eq!(err["code"], "not_found");
}

#[test]
fn a_schedule_is_made_shown_edited_paused_and_deleted() {
    let (_app, w, _stop) = app_and_window("cmd-schedules", false);
    // The app sends through the engine (offline here: nothing listens on its port).
    let status = invoke(&w, "scheduler_status", json!({})).unwrap();
    assert_eq!(status["state"], "running", "{status}");
    assert_eq!(status["checksNumbers"], true);
    // Offline the number cannot be asked about: said so, and the schedule is still saved.
    let check = invoke(
        &w,
        "check_number",
        json!({ "to": "0151 23456789", "region": "DE" }),
    )
    .unwrap();
    assert_eq!(check["status"], "unchecked", "{check}");
    assert_eq!(check["phone"], "+4915123456789", "{check}");
    assert!(
        check["reason"] == "offline" || check["reason"] == "not_linked",
        "{check}"
    );
    let err = invoke(&w, "check_number", json!({ "to": "+1 555" })).unwrap_err();
    assert_eq!(err["field"], "to", "{err}");

    let mut draft = schedule_draft("0151 23456789", 7200);
    draft["region"] = json!("DE");
    draft["repeat"] = json!("weeks");
    draft["weekdays"] = json!(["mon", "tue", "wed", "thu", "fri"]);
    let preview = invoke(&w, "preview_schedule", json!({ "draft": draft })).unwrap();
    assert_eq!(preview.as_array().unwrap().len(), 5, "{preview}");
    assert_eq!(preview[0]["zone"], "UTC");

    let made = invoke(&w, "create_schedule", json!({ "draft": draft })).unwrap();
    let id = made["id"].as_i64().unwrap();
    assert_eq!(made["to"], "+4915123456789");
    assert_eq!(made["toKind"], "phone");
    assert!(
        made["timing"]
            .as_str()
            .unwrap()
            .starts_with("Every weekday at "),
        "{made}"
    );
    assert_eq!(made["status"], "active");
    assert!(made["next"]["atMs"].as_i64().is_some(), "{made}");
    assert_eq!(made["draft"]["repeat"], "weeks");

    // Queued now; held while offline.
    let now = invoke(&w, "send_schedule_now", json!({ "id": id })).unwrap();
    assert_eq!(
        (now["state"].as_str(), now["seq"].as_u64()),
        (Some("pending"), Some(0))
    );

    let mut edit = made["draft"].clone();
    edit["text"] = json!("Good morning");
    let edited = invoke(&w, "edit_schedule", json!({ "id": id, "draft": edit })).unwrap();
    assert_eq!(edited["text"], "Good morning");
    let mut bad = made["draft"].clone();
    bad["time"] = json!("24:61");
    let err = invoke(&w, "edit_schedule", json!({ "id": id, "draft": bad })).unwrap_err();
    assert_eq!(err["field"], "time");
    assert_eq!(
        invoke(&w, "get_schedule", json!({ "id": id })).unwrap()["text"],
        "Good morning",
        "a refused edit changes nothing"
    );

    let paused = invoke(&w, "pause_schedule", json!({ "id": id })).unwrap();
    assert_eq!(paused["status"], "paused");
    let err = invoke(&w, "pause_schedule", json!({ "id": id })).unwrap_err();
    assert_eq!(err["code"], "wrong_status");
    let resumed = invoke(&w, "resume_schedule", json!({ "id": id })).unwrap();
    assert_eq!(resumed["status"], "active");
    let copy = invoke(&w, "duplicate_schedule", json!({ "id": id })).unwrap();
    let sends = invoke(&w, "schedule_sends", json!({ "id": id })).unwrap();
    assert_eq!(sends[0]["state"], "pending", "{sends}");
    invoke(&w, "delete_schedule", json!({ "id": id })).unwrap();
    let left = invoke(&w, "list_schedules", json!({})).unwrap();
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["id"], copy["id"]);

    let zones = invoke(&w, "time_zones", json!({})).unwrap();
    assert!(zones["zones"]
        .as_array()
        .unwrap()
        .contains(&json!("Australia/Lord_Howe")));
    let countries = invoke(&w, "phone_countries", json!({})).unwrap();
    assert!(countries
        .as_array()
        .unwrap()
        .contains(&json!({ "region": "DE", "callingCode": 49 })));
    // Offline, WhatsApp cannot be asked for the groups: said so, with what to do instead.
    let err = invoke(&w, "account_groups", json!({})).unwrap_err();
    assert_eq!(err["code"], "not_available", "{err}");
    assert!(err["advice"].as_str().unwrap().contains("paste"), "{err}");
    let health = invoke(&w, "health", json!({})).unwrap();
    assert_eq!(
        health["scheduledMessages"], 1,
        "the copy's next send: {health}"
    );
    assert_eq!(health["activeJobs"], 1);
}
