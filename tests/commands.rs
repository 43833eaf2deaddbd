//! The shell's commands on Tauri's mock runtime: no webview, the real command handlers.

use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{WebviewUrl, WebviewWindow, WebviewWindowBuilder};

fn app_and_window() -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = herald_app::configure(mock_builder())
        .build(mock_context(noop_assets()))
        .expect("mock app builds");
    let window = WebviewWindowBuilder::new(&app, "main", WebviewUrl::default())
        .build()
        .expect("mock window builds");
    (app, window)
}

fn invoke(
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    args: serde_json::Value,
) -> Result<serde_json::Value, serde_json::Value> {
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
    .map(|body| {
        body.deserialize::<serde_json::Value>()
            .expect("json response")
    })
}

#[test]
fn a_fresh_install_reports_not_linked() {
    let (_app, window) = app_and_window();
    let view = invoke(&window, "connection_state", serde_json::json!({})).unwrap();
    assert_eq!(view["state"], "not_linked");
    assert_eq!(view["label"], "Not linked yet");
    assert_eq!(view["tray"], "offline");
    assert!(
        view["detail"].as_str().unwrap().contains("QR code"),
        "the detail tells the user what to do: {view}"
    );
}

#[test]
fn ui_ready_is_accepted() {
    let (_app, window) = app_and_window();
    assert_eq!(
        invoke(&window, "ui_ready", serde_json::json!({})).unwrap(),
        serde_json::Value::Null
    );
}

#[test]
fn unknown_commands_are_refused() {
    let (_app, window) = app_and_window();
    let err = invoke(&window, "delete_everything", serde_json::json!({})).unwrap_err();
    assert!(
        err.to_string().contains("not found"),
        "unexpected error for an unknown command: {err}"
    );
}

#[test]
fn closing_the_window_quits_unless_a_tray_is_shown() {
    let (app, _window) = app_and_window();
    let state = tauri::Manager::state::<herald_app::AppState>(&app);
    assert!(!state.lives_in_tray(), "no tray yet: closing must quit");
    state.set_tray(herald_app::state::TrayPresence::Hidden);
    assert!(
        !state.lives_in_tray(),
        "an icon nobody can see cannot bring the window back"
    );
    state.set_tray(herald_app::state::TrayPresence::Shown);
    assert!(state.lives_in_tray());
}
