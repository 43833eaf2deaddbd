//! Desktop notifications, posted off the UI thread.
//!
//! On Linux `show()` is a blocking D-Bus round trip (and a slow or absent notification server
//! would stall whoever calls it), so it always runs on the blocking pool.

/// The application name notification servers show and group by.
pub const APP_NAME: &str = "Herald";

/// Why a notification could not be posted.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The platform's notification service refused it or is not there.
    #[error("the desktop notification could not be shown: {0}")]
    Post(#[from] notify_rust::error::Error),
    /// The blocking task that posts it did not finish.
    #[error("the notification task failed: {0}")]
    Task(String),
}

/// Posts one notification and waits for the server's answer. Blocking: call [`post`] instead
/// from async code or the UI thread.
pub fn post_blocking(summary: &str, body: &str) -> Result<(), NotifyError> {
    notify_rust::Notification::new()
        .appname(APP_NAME)
        .summary(summary)
        .body(body)
        .icon("dialog-information")
        .timeout(notify_rust::Timeout::Milliseconds(10_000))
        .show()?;
    Ok(())
}

/// Posts one notification from the blocking pool.
pub async fn post(summary: String, body: String) -> Result<(), NotifyError> {
    tauri::async_runtime::spawn_blocking(move || post_blocking(&summary, &body))
        .await
        .map_err(|e| NotifyError::Task(e.to_string()))?
}
