//! The main window: created on demand, so closing it frees the webview and its WebKit
//! processes while Herald lives on in the tray. It comes back where it was: the size and place
//! it had when it closed are kept for the next one.

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder, WindowEvent};

use crate::window_place::{LastPlace, Opening, Rect, MIN_SIZE};

/// The main window's label.
pub const MAIN: &str = "main";

/// Reads where `window` is now (outer place, inner size); `None` where the platform cannot
/// say.
fn place_of<R: Runtime>(window: &tauri::WebviewWindow<R>) -> Option<Rect> {
    let scale = window.scale_factor().ok()?;
    let position = window.outer_position().ok()?.to_logical::<f64>(scale);
    let size = window.inner_size().ok()?.to_logical::<f64>(scale);
    Some(Rect {
        x: position.x,
        y: position.y,
        width: size.width,
        height: size.height,
    })
}

/// The screens there are now, in logical pixels; empty where the platform cannot say.
fn screens<R: Runtime>(app: &AppHandle<R>) -> Vec<Rect> {
    let Ok(monitors) = app.available_monitors() else {
        return Vec::new();
    };
    let mut all: Vec<(bool, Rect)> = monitors
        .iter()
        .map(|m| {
            let scale = m.scale_factor();
            let position = m.position().to_logical::<f64>(scale);
            let size = m.size().to_logical::<f64>(scale);
            (
                false,
                Rect {
                    x: position.x,
                    y: position.y,
                    width: size.width,
                    height: size.height,
                },
            )
        })
        .collect();
    // The primary screen first: a window whose screen is gone moves there.
    if let Ok(Some(primary)) = app.primary_monitor() {
        let at = primary.position();
        let scale = primary.scale_factor();
        let at = at.to_logical::<f64>(scale);
        for (is_primary, rect) in &mut all {
            *is_primary = rect.x == at.x && rect.y == at.y;
        }
    }
    all.sort_by_key(|(is_primary, _)| !*is_primary);
    all.into_iter().map(|(_, rect)| rect).collect()
}

/// Shows and focuses the main window, creating it if it was closed.
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    // Managing a second time is a no-op, so the first window to open sets this up.
    app.manage(LastPlace::default());
    let opening = app.state::<LastPlace>().opening(&screens(app));
    let mut builder = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("Herald")
        .min_inner_size(MIN_SIZE.0, MIN_SIZE.1);
    builder = match opening {
        Opening::At(place) => builder
            .inner_size(place.width, place.height)
            .position(place.x, place.y),
        Opening::Fresh { width, height } => builder.inner_size(width, height),
    };
    match builder.build() {
        Ok(window) => {
            let handle = app.clone();
            let this = window.clone();
            window.on_window_event(move |event| {
                if let WindowEvent::CloseRequested { .. } = event {
                    if let Some(place) = place_of(&this) {
                        handle.state::<LastPlace>().closed_at(place);
                    }
                }
            });
        }
        Err(e) => tracing::error!(error = %e, "the main window could not be created"),
    }
}
