//! What the shell keeps: the service, the demo simulator in demo mode, and the tray's fate.

use std::sync::Mutex;

use crate::demo::Demo;
use herald_core::service::Service;
use wa_client::mutex::lock;

/// Shared state managed by Tauri.
pub struct AppState {
    pub service: Service,
    /// The built-in simulator, in demo mode.
    pub demo: Option<Demo>,
    tray: Mutex<TrayPresence>,
    /// What the tray menu shows now: the connection and the next scheduled send.
    tray_lines: Mutex<TrayLines>,
}

/// The tray menu's changing lines, kept so either can be redrawn without the other.
#[derive(Debug, Clone, Default)]
pub struct TrayLines {
    pub view: Option<herald_core::presentation::ConnectionView>,
    pub next: String,
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
            tray_lines: Mutex::new(TrayLines::default()),
        }
    }

    /// Changes the tray's lines; returns them as they are now.
    pub fn tray_lines(&self, change: impl FnOnce(&mut TrayLines)) -> TrayLines {
        let mut lines = lock(&self.tray_lines);
        change(&mut lines);
        lines.clone()
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
