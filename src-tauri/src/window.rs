//! The main window: created on demand, so closing it frees the webview and its WebKit
//! processes while Herald lives on in the tray. It comes back where it was: the size and place
//! it had when it closed are kept for the next one.

use std::sync::Mutex;

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use wa_client::mutex::lock;

/// The main window's label.
pub const MAIN: &str = "main";

/// The size a first window opens at, in logical pixels.
const DEFAULT_SIZE: (f64, f64) = (980.0, 700.0);

/// The main window's last size and place, in logical pixels, while the app runs.
#[derive(Debug, Default)]
pub struct LastPlace(Mutex<Option<Place>>);

#[derive(Debug, Clone, Copy, PartialEq)]
struct Place {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

impl LastPlace {
    fn get(&self) -> Option<Place> {
        *lock(&self.0)
    }

    fn set(&self, place: Place) {
        *lock(&self.0) = Some(place);
    }
}

/// Reads where `window` is now; `None` where the platform cannot say.
fn place_of<R: Runtime>(window: &tauri::WebviewWindow<R>) -> Option<Place> {
    let scale = window.scale_factor().ok()?;
    let position = window.outer_position().ok()?.to_logical::<f64>(scale);
    let size = window.inner_size().ok()?.to_logical::<f64>(scale);
    Some(Place {
        x: position.x,
        y: position.y,
        width: size.width,
        height: size.height,
    })
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
    let last = app.state::<LastPlace>().get();
    let mut builder = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("Herald")
        .min_inner_size(720.0, 520.0);
    builder = match last {
        Some(place) => builder
            .inner_size(place.width, place.height)
            .position(place.x, place.y),
        None => builder.inner_size(DEFAULT_SIZE.0, DEFAULT_SIZE.1),
    };
    match builder.build() {
        Ok(window) => {
            let handle = app.clone();
            let this = window.clone();
            window.on_window_event(move |event| {
                if let WindowEvent::CloseRequested { .. } = event {
                    if let Some(place) = place_of(&this) {
                        handle.state::<LastPlace>().set(place);
                    }
                }
            });
        }
        Err(e) => tracing::error!(error = %e, "the main window could not be created"),
    }
}
