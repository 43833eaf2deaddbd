//! The tray icon: one per connection state, the state as the icon's label (tooltips do nothing
//! on Linux) and as a disabled first menu line, the next scheduled send as the second, and
//! Open / Reconnect now / Quit.
//!
//! The tray is optional. On Linux it needs a dynamically loaded appindicator library, whose
//! absence makes the tray crate panic, and a tray host (a StatusNotifierWatcher) to display
//! it; the app must keep working without either.

use serde::Serialize;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use herald_core::presentation::{ConnectionView, Tone};
use herald_core::schedules::NextSend;
use jiff::tz::TimeZone;

use crate::state::TrayPresence;
use crate::window;

/// The tray icon's stable id.
pub const TRAY_ID: &str = "herald";

/// The four icons, one per kind of state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TrayStatus {
    Online,
    Connecting,
    NeedsAttention,
    Offline,
}

impl TrayStatus {
    /// The icon for a presented state.
    pub fn of(view: &ConnectionView) -> Self {
        match view.tone {
            Tone::Ok => TrayStatus::Online,
            Tone::Warn => TrayStatus::Connecting,
            Tone::Bad => TrayStatus::NeedsAttention,
            Tone::Off => TrayStatus::Offline,
        }
    }

    fn icon_png(self) -> &'static [u8] {
        match self {
            TrayStatus::Online => include_bytes!("../../icons/tray-online.png"),
            TrayStatus::Connecting => include_bytes!("../../icons/tray-connecting.png"),
            TrayStatus::NeedsAttention => include_bytes!("../../icons/tray-attention.png"),
            TrayStatus::Offline => include_bytes!("../../icons/tray-offline.png"),
        }
    }
}

/// The label next to the icon and atop the menu.
pub fn label(view: &ConnectionView) -> String {
    format!("Herald: {}", view.label)
}

/// Creates the tray icon for the current state and reports whether the user can see it.
pub fn create<R: Runtime>(app: &AppHandle<R>) -> TrayPresence {
    let service = app.state::<crate::AppState>().service.clone();
    let view = tauri::async_runtime::block_on(service.connection());
    // The tray crate panics when the appindicator library cannot be loaded. Catch that, and
    // log its message ourselves instead of letting the default hook print a backtrace.
    let message = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = message.clone();
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        *wa_client::mutex::lock(&sink) = info.to_string();
    }));
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(app, &view)));
    std::panic::set_hook(previous_hook);
    match built {
        Ok(Ok(())) => {
            if host_present() {
                tracing::info!("tray icon created");
                TrayPresence::Shown
            } else {
                tracing::info!("tray icon created, but no tray host is running to show it");
                TrayPresence::Hidden
            }
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "no tray icon; closing the window will quit");
            TrayPresence::Missing
        }
        Err(_) => {
            let why = wa_client::mutex::lock(&message).clone();
            tracing::warn!(
                reason = %why.lines().take(2).collect::<Vec<_>>().join(" "),
                "the tray library is missing; no tray icon, closing the window will quit"
            );
            TrayPresence::Missing
        }
    }
}

fn build<R: Runtime>(app: &AppHandle<R>, view: &ConnectionView) -> tauri::Result<()> {
    let next = next_line_now(app);
    app.state::<crate::AppState>().tray_lines(|l| {
        l.view = Some(view.clone());
        l.next = next.clone();
    });
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(TrayStatus::of(view).icon_png())?)
        .title(label(view))
        .tooltip(label(view))
        .menu(&menu(app, view, &next)?)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => window::show_main(app),
            "reconnect" => {
                let service = app.state::<crate::AppState>().service.clone();
                tauri::async_runtime::spawn(async move { service.reconnect_now().await });
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)?;
    Ok(())
}

fn menu<R: Runtime>(
    app: &AppHandle<R>,
    view: &ConnectionView,
    next: &str,
) -> tauri::Result<Menu<R>> {
    let status = MenuItem::with_id(app, "status", label(view), false, None::<&str>)?;
    let next = MenuItem::with_id(app, "next", next, false, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let open = MenuItem::with_id(app, "open", "Open Herald", true, None::<&str>)?;
    let reconnect = MenuItem::with_id(
        app,
        "reconnect",
        "Reconnect now",
        view.can_reconnect,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    Menu::with_items(app, &[&status, &next, &separator, &open, &reconnect, &quit])
}

/// The menu line about the next scheduled send, in the computer's zone. Pure.
pub fn next_line(next: Option<&NextSend>, sending: bool, zone: &TimeZone) -> String {
    let Some(next) = next else {
        return "Nothing scheduled".into();
    };
    let when = jiff::Timestamp::from_millisecond(next.at_ms)
        .map(|at| {
            at.to_zoned_datetime(zone.clone())
                .strftime("%a %-d %b %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    if sending {
        format!("Next send: {when} to {}", next.to)
    } else {
        format!("Next: {when} to {} (sending not available yet)", next.to)
    }
}

fn next_line_now<R: Runtime>(app: &AppHandle<R>) -> String {
    let service = &app.state::<crate::AppState>().service;
    let sending =
        service.scheduler_status().state == herald_core::schedule::view::SchedulerState::Running;
    match service.next_send() {
        Ok(next) => next_line(next.as_ref(), sending, &TimeZone::system()),
        Err(e) => {
            tracing::warn!(error = %e, "the next scheduled send could not be read");
            String::new()
        }
    }
}

/// Schedules changed: the menu's next-send line is redrawn.
pub fn show_next<R: Runtime>(app: &AppHandle<R>) {
    let next = next_line_now(app);
    let lines = app.state::<crate::AppState>().tray_lines(|l| l.next = next);
    let (Some(tray), Some(view)) = (app.tray_by_id(TRAY_ID), lines.view) else {
        return;
    };
    if let Err(e) = menu(app, &view, &lines.next).and_then(|m| tray.set_menu(Some(m))) {
        tracing::warn!(error = %e, "the tray could not show the next send");
    }
}

/// Shows a new state on the tray: icon, label and the menu's status line.
pub fn show_state<R: Runtime>(app: &AppHandle<R>, view: &ConnectionView) {
    let lines = app
        .state::<crate::AppState>()
        .tray_lines(|l| l.view = Some(view.clone()));
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let result = (|| -> tauri::Result<()> {
        tray.set_icon(Some(Image::from_bytes(TrayStatus::of(view).icon_png())?))?;
        tray.set_title(Some(label(view)))?;
        tray.set_tooltip(Some(label(view)))?;
        tray.set_menu(Some(menu(app, view, &lines.next)?))?;
        Ok(())
    })();
    if let Err(e) = result {
        tracing::warn!(error = %e, "the tray could not show the new state");
    }
}

/// Whether something will display the icon. Only Linux can lack a tray host.
#[cfg(target_os = "linux")]
fn host_present() -> bool {
    use std::time::Duration;
    let probe = async {
        let conn = zbus::Connection::session().await?;
        let watcher = zbus::Proxy::new(
            &conn,
            "org.kde.StatusNotifierWatcher",
            "/StatusNotifierWatcher",
            "org.kde.StatusNotifierWatcher",
        )
        .await?;
        watcher
            .get_property::<bool>("IsStatusNotifierHostRegistered")
            .await
    };
    let answer = tauri::async_runtime::block_on(async {
        tokio::time::timeout(Duration::from_secs(2), probe).await
    });
    matches!(answer, Ok(Ok(true)))
}

#[cfg(not(target_os = "linux"))]
fn host_present() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_send_line() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let next = NextSend {
            schedule_id: 1,
            to: "+4915123456789".into(),
            // 2026-03-29T07:30:00Z, the first morning of summer time.
            at_ms: 1_774_769_400_000,
        };
        assert_eq!(next_line(None, true, &berlin), "Nothing scheduled");
        assert_eq!(
            next_line(Some(&next), true, &berlin),
            "Next send: Sun 29 Mar 09:30 to +4915123456789"
        );
        assert_eq!(
            next_line(Some(&next), false, &berlin),
            "Next: Sun 29 Mar 09:30 to +4915123456789 (sending not available yet)"
        );
    }
}
