//! What the shell keeps: the service, the demo simulator in demo mode, and the tray's fate.

use std::sync::Mutex;

use crate::demo::Demo;
use herald_core::service::Service;

/// Shared state managed by Tauri.
pub struct AppState {
    pub service: Service,
    /// The built-in simulator, in demo mode.
    pub demo: Option<Demo>,
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

impl AppState {
    pub fn new(service: Service, demo: Option<Demo>) -> Self {
        Self {
            service,
            demo,
            tray: Mutex::new(TrayPresence::Missing),
        }
    }

    /// Records how the tray came out at start-up.
    pub fn set_tray(&self, presence: TrayPresence) {
        *self.tray.lock().unwrap_or_else(|p| p.into_inner()) = presence;
    }

    /// How the tray came out at start-up.
    pub fn tray(&self) -> TrayPresence {
        *self.tray.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closing the last window keeps the app alive only if the tray can bring it back.
    pub fn lives_in_tray(&self) -> bool {
        self.tray() == TrayPresence::Shown
    }
}
