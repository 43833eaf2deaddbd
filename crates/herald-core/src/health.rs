//! The health snapshot: the engine's numbers plus what the app knows (the last disconnect
//! from the history, the linked account, this process's memory).

use serde::Serialize;

use wa_client::UnixMillis;

use crate::history::DisconnectRecord;

/// What the Connection screen and `herald-cli status` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthView {
    pub state: String,
    pub state_since_ms: UnixMillis,
    /// The linked account, for display.
    pub account: Option<Account>,
    pub last_disconnect: Option<DisconnectRecord>,
    pub attempt: u32,
    pub next_retry_at_ms: Option<UnixMillis>,
    pub rtt_ms: Option<u64>,
    pub last_pong_ms: Option<UnixMillis>,
    pub version: Option<String>,
    /// `override`, `fetched`, `cached` or `fallback`.
    pub version_source: Option<String>,
    /// Resident memory of this process, where the platform tells.
    pub memory_bytes: Option<u64>,
    /// Disconnects recorded so far.
    pub disconnects: u64,
    /// Where the session store's key is kept; `protected: false` is shown as "not protected".
    pub store_key: wa_client::store::KeyStatus,
    /// Scheduled sends waiting to go out (pending, going out, or in doubt).
    pub scheduled_messages: u64,
    /// Schedules that are active (not paused, cancelled or done).
    pub active_jobs: u64,
    /// Whether the scheduler sends.
    pub scheduler: crate::schedule::view::SchedulerState,
}

/// The waiting sends (through the outbox's partial index) and the active schedules.
pub fn schedule_counts(conn: &rusqlite::Connection) -> rusqlite::Result<(u64, u64)> {
    let waiting: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM sends WHERE state IN ('pending', 'in_doubt')) \
         + (SELECT count(*) FROM sends WHERE state = 'sending')",
        [],
        |r| r.get(0),
    )?;
    let active: i64 = conn.query_row(
        "SELECT count(*) FROM schedules WHERE status = 'active'",
        [],
        |r| r.get(0),
    )?;
    Ok((
        u64::try_from(waiting).unwrap_or(0),
        u64::try_from(active).unwrap_or(0),
    ))
}

/// The linked account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Our device JID, e.g. `15551234567:12@s.whatsapp.net`.
    pub jid: String,
    /// The phone number in international form, e.g. `+15551234567`.
    pub phone: String,
}

impl Account {
    /// The account of a device JID, if it has a phone-number user part.
    pub fn from_jid(jid: &str) -> Option<Account> {
        let user = jid.split('@').next()?;
        let number = user.split([':', '.']).next()?;
        (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then(|| Account {
            jid: jid.to_string(),
            phone: format!("+{number}"),
        })
    }
}

/// Resident set size of this process (Linux: `/proc/self/statm`).
pub fn process_memory() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        Some(pages * 4096)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_from_device_jids() {
        let a = Account::from_jid("15551234567:12@s.whatsapp.net").unwrap();
        assert_eq!(a.phone, "+15551234567");
        assert_eq!(
            Account::from_jid("15551234567.0:3@s.whatsapp.net")
                .unwrap()
                .phone,
            "+15551234567"
        );
        assert_eq!(Account::from_jid("@s.whatsapp.net"), None);
        assert_eq!(Account::from_jid("abc@lid"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn memory_is_measured() {
        let m = process_memory().unwrap();
        assert!(m > 100_000 && m < 10_000_000_000, "{m}");
    }
}
