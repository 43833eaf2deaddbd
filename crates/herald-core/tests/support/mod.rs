//! What the service-level tests share: their service options, a one-shot draft some seconds
//! ahead, and a bounded wait for an event.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use herald_core::schedule::draft::ScheduleDraft;
use herald_core::service::{ServerTarget, ServiceEvent, ServiceOptions};
use jiff::Timestamp;
use tokio::sync::broadcast;

/// A service on `dir` that links to `server` and does not fetch WhatsApp Web's version.
pub fn options(dir: &Path, server: ServerTarget, program: &str) -> ServiceOptions {
    ServiceOptions {
        data_dir: dir.to_path_buf(),
        server: Some(server),
        fetch_version: false,
        program_name: program.into(),
        keychain: None,
    }
}

/// A one-shot draft of `text` to `to`, `secs` from now in UTC, with `extra` fields (an
/// object, or `null` for none) merged in.
pub fn one_shot(to: &str, text: &str, secs: i64, extra: serde_json::Value) -> ScheduleDraft {
    one_shot_from(Timestamp::now(), to, text, secs, extra)
}

/// [`one_shot`] from `now` (a test's own wall clock).
pub fn one_shot_from(
    now: Timestamp,
    to: &str,
    text: &str,
    secs: i64,
    extra: serde_json::Value,
) -> ScheduleDraft {
    let at = now
        .checked_add(jiff::SignedDuration::from_secs(secs))
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let mut draft = serde_json::json!({
        "to": to,
        "text": text,
        "date": at.strftime("%Y-%m-%d").to_string(),
        "time": at.strftime("%H:%M:%S").to_string(),
        "zone": "UTC",
    });
    if let (Some(fields), serde_json::Value::Object(extra)) = (draft.as_object_mut(), extra) {
        fields.extend(extra);
    }
    serde_json::from_value(draft).unwrap()
}

/// Waits (up to `secs`) for the first event `pick` accepts.
pub async fn next<T>(
    rx: &mut broadcast::Receiver<ServiceEvent>,
    secs: u64,
    what: &str,
    mut pick: impl FnMut(&ServiceEvent) -> Option<T>,
) -> T {
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    if let Some(t) = pick(&e) {
                        return t;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("events ended"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(secs), wait)
        .await
        .unwrap_or_else(|_| panic!("no {what} within {secs} s"))
}
