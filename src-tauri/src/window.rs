//! The main window: created on demand, so closing it frees the webview and its WebKit
//! processes while Herald lives on in the tray.

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

/// The main window's label.
pub const MAIN: &str = "main";

/// Shows and focuses the main window, creating it if it was closed.
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let built = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("Herald")
        .inner_size(980.0, 700.0)
        .min_inner_size(720.0, 520.0)
        .build();
    if let Err(e) = built {
        tracing::error!(error = %e, "the main window could not be created");
    }
}
