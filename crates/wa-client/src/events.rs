//! What the engine tells the world: the current [`ConnectionState`], the ordered stream of
//! [`EngineEvent`]s, and the [`Health`] snapshot. All serialize to JSON with stable
//! snake_case names (`herald-cli --json` prints them as they are).

use serde::Serialize;
use wa_core::disconnect::{Decision, Verdict};

/// Where the connection is. Times are unix milliseconds from the engine's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// Started, nothing dialled yet.
    Idle,
    /// Dialling and running the Noise handshake; `attempt` counts failed dials in this episode
    /// plus one.
    Connecting { attempt: u32 },
    /// Showing a QR code to scan: `index` (1-based) of `total`, valid until `expires_at_ms`.
    Pairing {
        qr: String,
        expires_at_ms: u64,
        index: u32,
        total: u32,
    },
    /// Waiting for the user to type `code` (shown as `XXXX-XXXX`) on the phone.
    PairingCode { code: String, expires_at_ms: u64 },
    /// Every QR code expired without a scan; ask for a new one (`new_qr`). Not a failure.
    QrExpired,
    /// Handshake done with stored credentials; waiting for `<success>`.
    LoggingIn,
    /// Logged in since `since_ms`.
    Online { since_ms: u64 },
    /// Waiting until `until_ms` before dial number `attempt`, after `cause`.
    Backoff {
        attempt: u32,
        until_ms: u64,
        cause: String,
    },
    /// Not reconnecting by itself until the user acts (or the ban ends).
    Paused { reason: PausedReason },
    /// The link is gone; the session was archived. A new pairing is needed.
    LoggedOut,
    /// Another client took over this session; no automatic reconnect.
    Replaced,
    /// Shut down.
    Closed,
}

impl ConnectionState {
    /// The snake_case name of the state (the `state` tag of its JSON).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Connecting { .. } => "connecting",
            Self::Pairing { .. } => "pairing",
            Self::PairingCode { .. } => "pairing_code",
            Self::QrExpired => "qr_expired",
            Self::LoggingIn => "logging_in",
            Self::Online { .. } => "online",
            Self::Backoff { .. } => "backoff",
            Self::Paused { .. } => "paused",
            Self::LoggedOut => "logged_out",
            Self::Replaced => "replaced",
            Self::Closed => "closed",
        }
    }
}

/// Why the engine paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PausedReason {
    /// A failure only the user can fix.
    NeedsAttention,
    /// Every one of the retry policy's `attempts` failed; waiting for "Reconnect now".
    RetriesExhausted { attempts: u32 },
    /// WhatsApp rejects our version even after a refresh.
    ClientOutdated,
    /// Temporarily banned until `until_ms` (when the server said).
    TempBanned { until_ms: Option<u64> },
}

/// What to do after a disconnect, as recorded in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Dialled again at once (515, a refreshed version, the user's "reconnect now").
    ReconnectNow,
    /// Dialling again after `delay_ms`.
    Backoff,
    /// Not reconnecting by itself.
    Stop,
}

impl DecisionKind {
    /// The decision's kind, without its parameters.
    pub fn of(decision: &Decision) -> Self {
        match decision {
            Decision::ReconnectNow => Self::ReconnectNow,
            Decision::Backoff { .. } => Self::Backoff,
            Decision::Stop(_) => Self::Stop,
        }
    }
}

/// Where the WhatsApp Web version in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionSource {
    /// The user's configured version.
    Override,
    /// Fetched from `sw.js` just now.
    Fetched,
    /// Fetched earlier and still fresh in the store.
    Cached,
    /// The version compiled in.
    Fallback,
}

/// One connection ending: what happened and what the engine does about it. This is the row
/// the history records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disconnect {
    /// When it ended.
    pub at_ms: u64,
    /// Stable cause key (`restart_required`, `replaced`, `client_outdated`, …).
    pub cause: String,
    /// The cause in a few words.
    pub title: String,
    /// Stream error code or failure reason, when the server gave one (440 for replaced).
    pub code: Option<u16>,
    /// Reconnect now, back off, or stop.
    pub decision: DecisionKind,
    /// Where it stops, when it stops (`logged_out`, `replaced`, `paused`, `qr_expired`,
    /// `closed`).
    pub stop_state: Option<String>,
    /// One plain sentence for the user.
    pub advice: String,
    /// The attempt number of the next dial (0 when stopping or reconnecting at once).
    pub attempt: u32,
    /// Delay before the next dial; `None` when not redialling.
    pub delay_ms: Option<u64>,
    /// How long the connection had been online before this (0 if it never logged in).
    pub online_for_ms: u64,
    /// Whether this deserves a desktop notification.
    pub notify: bool,
}

impl Disconnect {
    /// Builds the record from the classifier's verdict and the supervisor's numbers.
    pub fn from_verdict(
        verdict: &Verdict,
        at_ms: u64,
        attempt: u32,
        delay_ms: Option<u64>,
        online_for_ms: u64,
    ) -> Self {
        let stop_state = match verdict.decision {
            Decision::Stop(end) => Some(end.key().to_owned()),
            _ => None,
        };
        Self {
            at_ms,
            cause: verdict.cause.key().to_owned(),
            title: verdict.cause.title().to_owned(),
            code: verdict.code,
            decision: DecisionKind::of(&verdict.decision),
            stop_state,
            advice: verdict.advice.clone(),
            attempt,
            delay_ms,
            online_for_ms,
            notify: verdict.notify,
        }
    }
}

/// Everything the engine reports, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EngineEvent {
    /// The connection state changed (the same value the `watch` now holds).
    State {
        at_ms: u64,
        #[serde(flatten)]
        state: ConnectionState,
    },
    /// A QR code to show: the exact text to encode, until `expires_at_ms`.
    Qr {
        qr: String,
        expires_at_ms: u64,
        index: u32,
        total: u32,
    },
    /// A pairing code to type on the phone.
    PairCode { code: String, phone: String },
    /// The phone linked us.
    Paired {
        jid: String,
        lid: Option<String>,
        platform: Option<String>,
        business_name: Option<String>,
    },
    /// A connection ended (one history row).
    Disconnected(Disconnect),
    /// A ping went unanswered past its deadline.
    KeepAliveTimeout {
        failures: u32,
        last_pong_ms: Option<u64>,
    },
    /// Pings are answered again after failures.
    KeepAliveRestored { after_failures: u32 },
    /// A ping was answered.
    Pong { at_ms: u64, rtt_ms: u64 },
    /// The WhatsApp Web version used for the next dial.
    Version {
        version: String,
        source: VersionSource,
    },
    /// The session was archived (kept, timestamped) and the link is gone.
    LoggedOut {
        cause: String,
        archive: Option<String>,
    },
    /// Prekeys were uploaded to the server.
    PrekeysUploaded { count: u32 },
}

/// A snapshot of the connection's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Health {
    /// The current state's name.
    pub state: String,
    /// Since when (unix ms).
    pub state_since_ms: u64,
    /// Our own JID once paired.
    pub jid: Option<String>,
    /// The last disconnect's cause key, code and advice.
    pub last_cause: Option<String>,
    pub last_code: Option<u16>,
    pub last_advice: Option<String>,
    /// Failed attempts in the current episode.
    pub attempt: u32,
    /// When the next dial is due, while backing off.
    pub next_retry_at_ms: Option<u64>,
    /// Round-trip time of the last answered ping.
    pub rtt_ms: Option<u64>,
    /// When the last ping was answered.
    pub last_pong_ms: Option<u64>,
    /// The WhatsApp Web version in use, and where it came from.
    pub version: Option<String>,
    pub version_source: Option<VersionSource>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_events_flatten_the_state_tag() {
        let e = EngineEvent::State {
            at_ms: 5,
            state: ConnectionState::Online { since_ms: 5 },
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"event": "state", "at_ms": 5, "state": "online", "since_ms": 5})
        );
        let p = ConnectionState::Paused {
            reason: PausedReason::TempBanned { until_ms: Some(9) },
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"state": "paused", "reason": {"kind": "temp_banned", "until_ms": 9}})
        );
    }

    #[test]
    fn qr_events_carry_the_exact_text() {
        let e = EngineEvent::Qr {
            qr: "https://wa.me/x".into(),
            expires_at_ms: 60_000,
            index: 1,
            total: 6,
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["event"], "qr");
        assert_eq!(v["qr"], "https://wa.me/x");
    }
}
