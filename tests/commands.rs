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
