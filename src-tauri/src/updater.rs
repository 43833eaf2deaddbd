//! Signed updates. Only release packages built with an updater key carry the `plugins.updater`
//! configuration (`packaging/updater.json`, merged in by `cargo xtask bundle`): it names the
//! public key, the endpoint and `requireSignedVersion`, so an update is installed only when its
//! signature verifies and was made for the very version the endpoint announces (a forged
//! manifest cannot pair a high version number with an old, validly signed build). Builds
//! without it, such as every development build, have no updater at all.

use tauri::{AppHandle, Runtime};
use tauri_plugin_updater::UpdaterExt;

/// Whether this build was configured for updates.
pub fn configured<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.config().plugins.0.contains_key("updater")
}

/// Registers the updater plugin and checks once in the background; an update is announced in
/// the log, never installed without the user.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    if !configured(app) {
        return;
    }
    if let Err(e) = app.plugin(tauri_plugin_updater::Builder::new().build()) {
        tracing::warn!(error = %e, "updater not started");
        return;
    }
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let checked = match handle.updater() {
            Ok(updater) => updater.check().await,
            Err(e) => Err(e),
        };
        match checked {
            Ok(Some(update)) => tracing::info!(version = %update.version, "an update is available"),
            Ok(None) => tracing::info!("Herald is up to date"),
            Err(e) => tracing::info!(error = %e, "update check failed"),
        }
    });
}
