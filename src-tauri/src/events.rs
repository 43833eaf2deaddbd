//! Service events out to the window (Tauri events), the tray and desktop notifications.

use herald_core::service::{Service, ServiceEvent};
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::broadcast::error::RecvError;

use crate::{notify, tray};

/// Forwards the service's events for the life of the app.
pub fn forward<R: Runtime>(app: AppHandle<R>, service: Service) {
    let mut rx = service.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => dispatch(&app, event),
                Err(RecvError::Lagged(missed)) => {
                    // The window missed some updates; the current view supersedes them.
                    tracing::warn!(missed, "UI events lagged; resending the current state");
                    dispatch(&app, ServiceEvent::Connection(service.connection().await));
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

fn dispatch<R: Runtime>(app: &AppHandle<R>, event: ServiceEvent) {
    let sent = match event {
        ServiceEvent::Connection(view) => {
            tray::show_state(app, &view);
            app.emit("connection", view)
        }
        ServiceEvent::Health(health) => app.emit("health", health),
        ServiceEvent::History(record) => app.emit("history", record),
        ServiceEvent::Alert(alert) => {
            tracing::info!(summary = %alert.summary, "desktop notification");
            tauri::async_runtime::spawn(async move {
                if let Err(e) = notify::post(alert.summary, alert.body).await {
                    tracing::warn!(error = %e, "desktop notification not shown");
                }
            });
            Ok(())
        }
        ServiceEvent::Schedules(change) => {
            tray::show_next(app);
            app.emit("schedules", change)
        }
        ServiceEvent::Engine(_) => Ok(()),
    };
    if let Err(e) = sent {
        tracing::warn!(error = %e, "an event could not reach the window");
    }
}
