//! What the shell keeps between calls: the connection as the UI shows it, and the tray.

use serde::Serialize;
use std::sync::Mutex;

use crate::tray::TrayStatus;

/// The connection's state as the window, the tray and the notifications present it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    /// A stable machine key (`not_linked`, `connecting`, `online`, …) for the UI's styling.
    pub state: &'static str,
    /// The state in the user's words.
    pub label: String,
    /// One sentence on what it means and what to do.
    pub detail: String,
    /// Which tray icon stands for it.
    pub tray: TrayStatus,
}

impl ConnectionView {
    /// No account has been linked on this computer yet.
    pub fn not_linked() -> Self {
        Self {
            state: "not_linked",
            label: "Not linked yet".into(),
            detail: "Link Herald to your WhatsApp by scanning a QR code with your phone.".into(),
            tray: TrayStatus::Offline,
        }
    }
}

/// Shared state managed by Tauri.
pub struct AppState {
    connection: Mutex<ConnectionView>,
    tray: Mutex<TrayPresence>,
}

/// Whether a tray icon exists and whether anything shows it to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayPresence {
    /// The icon could not be created (no tray library, or the platform refused it).
    Missing,
    /// The icon exists but no tray host is running to display it (e.g. a bare X server).
    Hidden,
    /// The icon exists and a tray host displays it.
    Shown,
}

impl Default for AppState {
    fn default() -> Self {
        Self {
            connection: Mutex::new(ConnectionView::not_linked()),
            tray: Mutex::new(TrayPresence::Missing),
        }
    }
}

impl AppState {
    /// The connection as last published.
    pub fn connection(&self) -> ConnectionView {
        lock(&self.connection).clone()
    }

    /// Records how the tray came out at start-up.
    pub fn set_tray(&self, presence: TrayPresence) {
        *lock(&self.tray) = presence;
    }

    /// How the tray came out at start-up.
    pub fn tray(&self) -> TrayPresence {
        *lock(&self.tray)
    }

    /// Closing the last window keeps the app alive only if the tray can bring it back.
    pub fn lives_in_tray(&self) -> bool {
        self.tray() == TrayPresence::Shown
    }
}

/// A poisoned lock only means another thread panicked mid-update of a plain value; the value is
/// still a valid snapshot, so keep serving it rather than taking the UI down.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
