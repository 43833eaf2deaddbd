//! The commands the UI can invoke. Each one is a thin translation onto the state or the service.

use tauri::{AppHandle, Runtime, State};

use crate::state::{AppState, ConnectionView};

/// The connection as the UI should show it right now.
#[tauri::command]
pub fn connection_state(state: State<'_, AppState>) -> ConnectionView {
    state.connection()
}

/// The UI calls this once it has painted its first screen; the line it logs is what
/// `cargo xtask run --screenshot` and the start-up tests wait for.
#[tauri::command]
pub fn ui_ready() {
    tracing::info!(target: "herald::ui", "ui ready");
}

/// Quits the app, tray and all: the window's own way out when no tray is shown.
#[tauri::command]
pub fn quit<R: Runtime>(app: AppHandle<R>) {
    tracing::info!("quit requested from the window");
    app.exit(0);
}
