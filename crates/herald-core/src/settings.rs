//! The user's settings: validated as a whole, stored as one JSON document.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use wa_core::payload::AppVersion;

use crate::db::DbError;

/// What the user can change. Unknown fields in stored JSON are ignored and missing ones take
/// their defaults, so settings survive upgrades in both directions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// A ping goes out after this many seconds with nothing received (an idle link costs one
    /// ping per interval; a busy one none). Settings saved before pings followed silence
    /// carry it as `keepaliveMinSecs`; their `keepaliveMaxSecs` is ignored like any unknown
    /// field.
    #[serde(alias = "keepaliveMinSecs")]
    pub ping_after_silence_secs: u32,
    /// Connecting (socket + handshake) must finish within this.
    pub connect_timeout_secs: u32,
    /// A query to the server must be answered within this.
    pub query_timeout_secs: u32,
    /// A WhatsApp Web version to use instead of the fetched one, e.g. `2.3000.1045649367`.
    pub version_override: Option<String>,
    /// How Herald appears to your contacts while linked.
    pub presence: Presence,
    /// Start Herald when you log in to the computer.
    pub start_at_login: bool,
}

/// Presence while linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Presence {
    /// Appear offline, so the phone keeps getting notifications (the default).
    Unavailable,
    /// Appear online while Herald is connected.
    Available,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            ping_after_silence_secs: 20,
            connect_timeout_secs: 20,
            query_timeout_secs: 60,
            version_override: None,
            presence: Presence::Unavailable,
            start_at_login: false,
        }
    }
}

/// A setting that cannot be saved; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidSetting {
    /// The field's name as the UI knows it.
    pub field: &'static str,
    /// What is wrong, in the user's words.
    pub problem: String,
}

fn invalid(field: &'static str, problem: impl Into<String>) -> InvalidSetting {
    InvalidSetting {
        field,
        problem: problem.into(),
    }
}

impl Settings {
    /// Checks every field; the first problem found is returned.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let range = |field, v: u32, lo: u32, hi: u32| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(invalid(
                    field,
                    format!("must be between {lo} and {hi} seconds"),
                ))
            }
        };
        range("pingAfterSilenceSecs", self.ping_after_silence_secs, 5, 300)?;
        range("connectTimeoutSecs", self.connect_timeout_secs, 5, 120)?;
        range("queryTimeoutSecs", self.query_timeout_secs, 5, 600)?;
        if let Some(v) = &self.version_override {
            v.trim().parse::<AppVersion>().map_err(|_| {
                invalid(
                    "versionOverride",
                    "must look like 2.3000.1045649367 (three numbers joined by dots)",
                )
            })?;
        }
        Ok(())
    }

    /// The override, if set and well-formed.
    pub fn version_override(&self) -> Option<AppVersion> {
        self.version_override
            .as_deref()
            .and_then(|v| v.trim().parse().ok())
    }
}

const KEY: &str = "settings";

/// The saved settings, or the defaults when none were saved.
pub fn load(conn: &Connection) -> Result<Settings, DbError> {
    let stored: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [KEY], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(match stored {
        Some(json) => serde_json::from_str(&json)?,
        None => Settings::default(),
    })
}

/// Saves settings after validating them; invalid settings change nothing.
pub fn save(conn: &Connection, settings: &Settings) -> Result<Result<(), InvalidSetting>, DbError> {
    if let Err(e) = settings.validate() {
        return Ok(Err(e));
    }
    let json = serde_json::to_string(settings)?;
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![KEY, json],
    )?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::open_in_memory;

    #[test]
    fn defaults_round_trip_and_survive_unknown_fields() {
        let conn = open_in_memory().unwrap();
        assert_eq!(load(&conn).unwrap(), Settings::default());
        let s = Settings {
            ping_after_silence_secs: 60,
            version_override: Some("2.3000.1045649367".into()),
            presence: Presence::Available,
            ..Settings::default()
        };
        save(&conn, &s).unwrap().unwrap();
        assert_eq!(load(&conn).unwrap(), s);
        conn.execute(
            "UPDATE settings SET value = '{\"keepaliveMinSecs\":25,\"keepaliveMaxSecs\":40,\"fromTheFuture\":1}'",
            [],
        )
        .unwrap();
        let loaded = load(&conn).unwrap();
        assert_eq!(
            loaded.ping_after_silence_secs, 25,
            "the old name of the setting still reads"
        );
        assert_eq!(
            loaded.connect_timeout_secs, 20,
            "missing fields take defaults"
        );
    }

    #[test]
    fn invalid_settings_change_nothing() {
        let conn = open_in_memory().unwrap();
        let bad = [
            (
                Settings {
                    ping_after_silence_secs: 1,
                    ..Default::default()
                },
                "pingAfterSilenceSecs",
            ),
            (
                Settings {
                    ping_after_silence_secs: 301,
                    ..Default::default()
                },
                "pingAfterSilenceSecs",
            ),
            (
                Settings {
                    connect_timeout_secs: 0,
                    ..Default::default()
                },
                "connectTimeoutSecs",
            ),
            (
                Settings {
                    query_timeout_secs: 9999,
                    ..Default::default()
                },
                "queryTimeoutSecs",
            ),
            (
                Settings {
                    version_override: Some("2.3000".into()),
                    ..Default::default()
                },
                "versionOverride",
            ),
            (
                Settings {
                    version_override: Some("2.3000.x1".into()),
                    ..Default::default()
                },
                "versionOverride",
            ),
        ];
        for (s, field) in bad {
            let err = save(&conn, &s).unwrap().unwrap_err();
            assert_eq!(err.field, field);
            assert_eq!(load(&conn).unwrap(), Settings::default());
        }
    }
}
