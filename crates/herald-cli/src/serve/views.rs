//! Shapes the API shares between endpoints, each with its schema for the OpenAPI document.
//! They are the HTTP contract, kept apart from herald-core's types so a change inside the app
//! cannot silently change what clients read.

use herald_core::history::DisconnectRecord;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;
use wa_client::UnixMillis;

/// A unix-millisecond instant from the engine as a timestamp (the epoch if out of range, which
/// no clock produces).
pub fn ts(ms: UnixMillis) -> Timestamp {
    ts_ms(i64::try_from(ms.as_millis()).unwrap_or(i64::MAX))
}

/// A signed unix-millisecond instant from the database as a timestamp.
pub fn ts_ms(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// One disconnect, as the history records it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Disconnect {
    pub id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The cause's stable key, e.g. `server_restarting`, `replaced`.
    pub cause: String,
    /// The cause in a few words.
    pub title: String,
    /// The protocol's number for it, where there is one (503, 440 …).
    pub code: Option<u16>,
    /// `reconnect_now`, `backoff` or `stop:<end state>`.
    pub decision: String,
    /// What to do about it.
    pub advice: String,
    /// Which failed attempt in a row this was, for backoffs.
    pub attempt: Option<u32>,
    /// How long Herald waited before dialling again.
    pub delay_ms: Option<u64>,
    /// How long the connection had been up before it dropped.
    pub online_for_ms: Option<u64>,
}

impl From<&DisconnectRecord> for Disconnect {
    fn from(r: &DisconnectRecord) -> Disconnect {
        Disconnect {
            id: r.id,
            at: ts(r.at_ms),
            cause: r.cause.clone(),
            title: r.title.clone(),
            code: r.code,
            decision: r.decision.clone(),
            advice: r.advice.clone(),
            attempt: r.attempt,
            delay_ms: r.delay_ms,
            online_for_ms: r.online_for_ms,
        }
    }
}

/// A request was taken and is being carried out.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub accepted: bool,
    /// What happens next.
    pub message: String,
}
