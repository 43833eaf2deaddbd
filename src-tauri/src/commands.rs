//! The commands the UI can invoke: each a thin translation onto the service.

use std::time::Duration;

use herald_core::health::HealthView;
use herald_core::history::DisconnectRecord;
use herald_core::presentation::ConnectionView;
use herald_core::service::TimelineView;
use herald_core::settings::Settings;
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};

use crate::error::UiError;
use crate::state::AppState;

type Result<T> = std::result::Result<T, UiError>;

/// What the window needs to know about this launch.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: &'static str,
    pub demo: bool,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        demo: state.demo.is_some(),
    }
}

/// The connection as the UI should show it right now.
#[tauri::command]
pub async fn connection_state(state: State<'_, AppState>) -> Result<ConnectionView> {
    Ok(state.service.connection().await)
}

#[tauri::command]
pub async fn health(state: State<'_, AppState>) -> Result<HealthView> {
    Ok(state.service.health().await?)
}

/// A page of disconnects, newest first, older than `before_id`.
#[tauri::command]
pub fn history(
    state: State<'_, AppState>,
    before_id: Option<i64>,
    limit: Option<u32>,
) -> Result<Vec<DisconnectRecord>> {
    Ok(state.service.history(before_id, limit.unwrap_or(50))?)
}

/// The online/offline timeline over `range`: `day` (24 h) or `week` (7 days).
#[tauri::command]
pub fn timeline(state: State<'_, AppState>, range: String) -> Result<TimelineView> {
    let window = match range.as_str() {
        "day" => Duration::from_secs(24 * 3600),
        "week" => Duration::from_secs(7 * 24 * 3600),
        other => {
            return Err(UiError::new(
                "invalid_range",
                format!("Unknown timeline range {other:?}."),
                "Use day or week.",
            ))
        }
    };
    Ok(state.service.timeline(now(), window)?)
}

#[derive(Debug, Serialize)]
pub struct Exported {
    pub path: String,
    pub rows: usize,
}

/// Saves the whole history as CSV in the Downloads folder (or the data folder without one).
#[tauri::command]
pub fn export_history_csv(state: State<'_, AppState>) -> Result<Exported> {
    let (dir, stamp) = downloads_and_stamp();
    let (path, rows) = state.service.export_history(&dir, &stamp)?;
    Ok(Exported {
        path: path.display().to_string(),
        rows,
    })
}

#[derive(Debug, Serialize)]
pub struct SavedBundle {
    pub path: String,
    pub bytes: u64,
}

/// Saves a support bundle (logs, history, settings, versions; secrets redacted) in the
/// Downloads folder (or the temporary folder without one).
#[tauri::command]
pub async fn save_support_bundle(state: State<'_, AppState>) -> Result<SavedBundle> {
    let (dir, stamp) = downloads_and_stamp();
    let out = dir.join(format!("herald-support-{stamp}.zip"));
    let program = format!("herald {}", env!("CARGO_PKG_VERSION"));
    let summary = state
        .service
        .support_bundle(out, program, now())
        .await
        .map_err(|e| {
            UiError::new(
                "support_bundle",
                e.to_string(),
                "Check that the Downloads folder is writable.",
            )
        })?;
    Ok(SavedBundle {
        path: summary.path.display().to_string(),
        bytes: summary.bytes,
    })
}

/// Fresh QR codes (after they expired, or after a logout).
#[tauri::command]
pub async fn start_pairing(state: State<'_, AppState>) -> Result<()> {
    state.service.start_pairing().await;
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct PairCode {
    pub code: String,
}

/// Pairing by phone number: returns the code to type on the phone.
#[tauri::command]
pub async fn pair_with_phone(state: State<'_, AppState>, phone: String) -> Result<PairCode> {
    let code = state.service.pair_with_phone(&phone).await?;
    Ok(PairCode { code })
}

#[tauri::command]
pub async fn reconnect_now(state: State<'_, AppState>) -> Result<()> {
    state.service.reconnect_now().await;
    Ok(())
}

#[tauri::command]
pub async fn logout(state: State<'_, AppState>) -> Result<()> {
    state.service.logout().await?;
    Ok(())
}

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> Result<Settings> {
    Ok(state.service.settings()?)
}

/// Validates and saves settings, and registers or removes Herald as a login item to match;
/// returns them as saved.
#[tauri::command]
pub async fn set_settings(state: State<'_, AppState>, settings: Settings) -> Result<Settings> {
    let before = state.service.settings()?;
    let saved = state.service.set_settings(settings).await?;
    // While enabled, register again on every save so a moved executable is picked up.
    if saved.start_at_login != before.start_at_login || saved.start_at_login {
        crate::autostart::apply(saved.start_at_login, state.demo.is_some())?;
    }
    Ok(saved)
}

/// Demo mode: the simulated phone scans the QR code on screen.
#[tauri::command]
pub async fn demo_scan(state: State<'_, AppState>) -> Result<()> {
    let demo = state.demo.as_ref().ok_or_else(not_demo)?;
    let view = state.service.connection().await;
    demo.scan(view.qr.as_ref().map(|q| q.text.as_str()))?;
    Ok(())
}

/// Demo mode: injects a fault into the simulator.
#[tauri::command]
pub fn demo_fault(state: State<'_, AppState>, kind: String) -> Result<()> {
    let demo = state.demo.as_ref().ok_or_else(not_demo)?;
    demo.inject(kind.parse()?)?;
    Ok(())
}

fn not_demo() -> UiError {
    UiError::new(
        "not_demo",
        "This works only in demo mode.",
        "Start Herald with --demo.",
    )
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

/// Where a saved file goes (Downloads, else the temporary folder) and a file-name-safe time
/// stamp for its name.
fn downloads_and_stamp() -> (std::path::PathBuf, String) {
    let dir = dirs::download_dir()
        .filter(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let stamp = herald_core::export::iso8601(now())
        .replace([':', '.'], "-")
        .trim_end_matches('Z')
        .to_string();
    (dir, stamp)
}

/// Wall-clock now, from the engine's one clock.
fn now() -> wa_client::UnixMillis {
    wa_client::Clock::now(&wa_client::SystemClock)
}
