//! What the engine tells the world: the current [`ConnectionState`], the ordered stream of
//! [`EngineEvent`]s, and the [`Health`] snapshot.
//!
//! JSON, one convention for everything the engine and the app put out: field names are
//! camelCase (`expiresAtMs`), enum tags and values are snake_case (`"state":"pairing_code"`,
//! `"cause":"restart_required"`). Times are [`UnixMillis`], a bare number of unix milliseconds;
//! durations are `…Ms` numbers. `herald-cli --json` prints these as they are.

use serde::Serialize;
use wa_core::disconnect::{Cause, Decision, EndState, Verdict};

use crate::clock::UnixMillis;

/// Where the connection is. Times are unix milliseconds from the engine's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "state",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum ConnectionState {
    /// Started, nothing dialled yet.
    Idle,
    /// Dialling and running the Noise handshake; `attempt` counts failed dials in this episode
    /// plus one.
    Connecting { attempt: u32 },
    /// Showing a QR code to scan: `index` (1-based) of `total`, valid until `expires_at_ms`.
    Pairing {
        qr: String,
        expires_at_ms: UnixMillis,
        index: u32,
        total: u32,
    },
    /// Waiting for the user to type `code` (shown as `XXXX-XXXX`) on the phone.
    PairingCode {
        code: String,
        expires_at_ms: UnixMillis,
    },
    /// Every QR code expired without a scan; ask for a new one (`new_qr`). Not a failure.
    QrExpired,
    /// Handshake done with stored credentials; waiting for `<success>`.
    LoggingIn,
    /// Logged in since `since_ms`.
    Online { since_ms: UnixMillis },
    /// Waiting until `until_ms` before dial number `attempt`, after `cause`.
    Backoff {
        attempt: u32,
        until_ms: UnixMillis,
        cause: Cause,
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
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum PausedReason {
    /// A failure only the user can fix.
    NeedsAttention,
    /// Every one of the retry policy's `attempts` failed; waiting for "Reconnect now".
    RetriesExhausted { attempts: u32 },
    /// WhatsApp rejects our version even after a refresh.
    ClientOutdated,
    /// Temporarily banned until `until_ms` (when the server said).
    TempBanned { until_ms: Option<UnixMillis> },
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
            Decision::Stop { .. } => Self::Stop,
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
#[serde(rename_all = "camelCase")]
pub struct Disconnect {
    /// When it ended.
    pub at_ms: UnixMillis,
    /// The classifier's cause (`restart_required`, `replaced`, `client_outdated`, … in JSON).
    pub cause: Cause,
    /// The cause in a few words.
    pub title: String,
    /// Stream error code or failure reason, when the server gave one (440 for replaced).
    pub code: Option<u16>,
    /// Reconnect now, back off, or stop.
    pub decision: DecisionKind,
    /// Where it rests, when it stops: the classifier's end state, or
    /// [`EndState::RetriesExhausted`] when this close used up the last attempt.
    pub stop: Option<EndState>,
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
        at_ms: UnixMillis,
        attempt: u32,
        delay_ms: Option<u64>,
        online_for_ms: u64,
    ) -> Self {
        let stop = match verdict.decision {
            Decision::Stop { end } => Some(end),
            _ => None,
        };
        Self {
            at_ms,
            cause: verdict.cause,
            title: verdict.cause.title().to_owned(),
            code: verdict.code,
            decision: DecisionKind::of(&verdict.decision),
            stop,
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
#[serde(
    tag = "event",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum EngineEvent {
    /// The connection state changed (the same value the `watch` now holds).
    State {
        at_ms: UnixMillis,
        #[serde(flatten)]
        state: ConnectionState,
    },
    /// A QR code to show: the exact text to encode, until `expires_at_ms`.
    Qr {
        qr: String,
        expires_at_ms: UnixMillis,
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
        last_pong_ms: Option<UnixMillis>,
    },
    /// Pings are answered again after failures.
    KeepAliveRestored { after_failures: u32 },
    /// A ping was answered.
    Pong { at_ms: UnixMillis, rtt_ms: u64 },
    /// The WhatsApp Web version used for the next dial.
    Version {
        version: String,
        source: VersionSource,
    },
    /// The session was archived (kept, timestamped) and the link is gone.
    LoggedOut {
        cause: Cause,
        archive: Option<String>,
    },
    /// Prekeys were uploaded to the server.
    PrekeysUploaded { count: u32 },
    /// A text message arrived (from a contact, in a group, or a copy of one we sent from
    /// another of our devices). `sender` is the user (without device), `t` the server's time.
    Message {
        id: String,
        chat: String,
        sender: String,
        text: String,
        t: UnixMillis,
    },
    /// A device reported on messages we sent.
    Receipt {
        ids: Vec<String>,
        kind: ReceiptKind,
        device: String,
        t: UnixMillis,
    },
}

/// What a receipt for our message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    /// It reached the device.
    Delivered,
    /// It was read there.
    Read,
    /// A voice or video message was played there.
    Played,
    /// The device could not decrypt it and asked again.
    Retry,
}

/// A snapshot of the connection's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// The current state's name.
    pub state: String,
    /// Since when.
    pub state_since_ms: UnixMillis,
    /// Our own JID once paired.
    pub jid: Option<String>,
    /// The last disconnect's cause.
    pub last_cause: Option<Cause>,
    /// The last disconnect's code, when the server gave one.
    pub last_code: Option<u16>,
    /// The last disconnect's advice.
    pub last_advice: Option<String>,
    /// Failed attempts in the current episode.
    pub attempt: u32,
    /// When the next dial is due, while backing off.
    pub next_retry_at_ms: Option<UnixMillis>,
    /// Round-trip time of the last answered ping.
    pub rtt_ms: Option<u64>,
    /// When the last ping was answered.
    pub last_pong_ms: Option<UnixMillis>,
    /// The WhatsApp Web version in use, and where it came from.
    pub version: Option<String>,
    /// Where the version came from.
    pub version_source: Option<VersionSource>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_events_flatten_the_state_tag() {
        let e = EngineEvent::State {
            at_ms: UnixMillis(5),
            state: ConnectionState::Online {
                since_ms: UnixMillis(5),
            },
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"event": "state", "atMs": 5, "state": "online", "sinceMs": 5})
        );
        let p = ConnectionState::Paused {
            reason: PausedReason::TempBanned {
                until_ms: Some(UnixMillis(9)),
            },
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"state": "paused", "reason": {"kind": "temp_banned", "untilMs": 9}})
        );
        let b = ConnectionState::Backoff {
            attempt: 2,
            until_ms: UnixMillis(7),
            cause: Cause::ServerClosed,
        };
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            serde_json::json!({"state": "backoff", "attempt": 2, "untilMs": 7, "cause": "server_closed"})
        );
    }

    #[test]
    fn qr_events_carry_the_exact_text() {
        let e = EngineEvent::Qr {
            qr: "https://wa.me/x".into(),
            expires_at_ms: UnixMillis(60_000),
            index: 1,
            total: 6,
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["event"], "qr");
        assert_eq!(v["qr"], "https://wa.me/x");
        assert_eq!(v["expiresAtMs"], 60_000);
    }

    #[test]
    fn disconnects_carry_typed_causes_and_end_states() {
        let d = Disconnect {
            at_ms: UnixMillis(1),
            cause: Cause::Replaced,
            title: "Taken over".into(),
            code: Some(440),
            decision: DecisionKind::Stop,
            stop: Some(EndState::Replaced),
            advice: "a".into(),
            attempt: 0,
            delay_ms: None,
            online_for_ms: 3,
            notify: true,
        };
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["cause"], "replaced");
        assert_eq!(v["decision"], "stop");
        assert_eq!(v["stop"], serde_json::json!({"kind": "replaced"}));
        assert_eq!(v["onlineForMs"], 3);
        assert_eq!(v["atMs"], 1);
    }
}
