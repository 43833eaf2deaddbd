//! The `status` of `GET /health`: the engine's states folded into the seven words the old
//! service's clients already read, and whether the daemon is ready (connected).

use serde::Serialize;
use utoipa::ToSchema;
use wa_client::ConnectionState;

/// The connection in one word, as the old service's `/health` said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Logged in: messages go out.
    Connected,
    /// Dialling or logging in.
    Connecting,
    /// Waiting for the phone: a QR code or a pairing code is up, or they expired.
    Pairing,
    /// Between reconnects (backing off), or shut down.
    Disconnected,
    /// The phone unlinked this device; pair again.
    LoggedOut,
    /// Another client took over the session; nothing reconnects by itself.
    Replaced,
    /// Stopped retrying until someone acts (or a ban ends).
    Paused,
}

impl Status {
    pub fn of(state: &ConnectionState) -> Status {
        match state {
            ConnectionState::Online { .. } => Status::Connected,
            ConnectionState::Idle
            | ConnectionState::Connecting { .. }
            | ConnectionState::LoggingIn => Status::Connecting,
            ConnectionState::Pairing { .. }
            | ConnectionState::PairingCode { .. }
            | ConnectionState::QrExpired => Status::Pairing,
            ConnectionState::Backoff { .. } | ConnectionState::Closed => Status::Disconnected,
            ConnectionState::Paused { .. } => Status::Paused,
            ConnectionState::LoggedOut => Status::LoggedOut,
            ConnectionState::Replaced => Status::Replaced,
        }
    }

    /// Readiness: only a connected daemon can send.
    pub fn ready(self) -> bool {
        self == Status::Connected
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wa_client::{PausedReason, UnixMillis};
    use wa_core::disconnect::Cause;

    #[test]
    fn every_state_has_its_word() {
        let t = UnixMillis(1);
        let table = [
            (ConnectionState::Idle, "connecting"),
            (ConnectionState::Connecting { attempt: 2 }, "connecting"),
            (ConnectionState::LoggingIn, "connecting"),
            (
                ConnectionState::Pairing {
                    qr: "q".into(),
                    expires_at_ms: t,
                    index: 1,
                    total: 6,
                },
                "pairing",
            ),
            (
                ConnectionState::PairingCode {
                    code: "ABCD-EFGH".into(),
                    expires_at_ms: t,
                },
                "pairing",
            ),
            (ConnectionState::QrExpired, "pairing"),
            (ConnectionState::Online { since_ms: t }, "connected"),
            (
                ConnectionState::Backoff {
                    attempt: 1,
                    until_ms: t,
                    cause: Cause::ServerClosed,
                },
                "disconnected",
            ),
            (
                ConnectionState::Paused {
                    reason: PausedReason::TempBanned { until_ms: None },
                },
                "paused",
            ),
            (ConnectionState::LoggedOut, "logged_out"),
            (ConnectionState::Replaced, "replaced"),
            (ConnectionState::Closed, "disconnected"),
        ];
        for (state, word) in table {
            let s = Status::of(&state);
            assert_eq!(serde_json::to_value(s).unwrap(), word, "{state:?}");
            assert_eq!(s.ready(), word == "connected");
        }
    }
}
