//! How a connection state reads to the user: label, one-sentence detail, colour, and what can
//! be done. Pure, so every state has a tested wording.

use serde::Serialize;
use wa_client::{ConnectionState, PausedReason, UnixMillis};

/// The colour family of a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// Linked and online.
    Ok,
    /// On its way (connecting, waiting for a scan, backing off).
    Warn,
    /// Needs the user: logged out, replaced, paused.
    Bad,
    /// At rest: not linked yet, stopped.
    Off,
}

/// The QR code to show while pairing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QrView {
    /// The exact text encoded.
    pub text: String,
    /// The code as an SVG document.
    pub svg: String,
    pub expires_at_ms: UnixMillis,
    /// 1-based position in the rotation, of `total`.
    pub index: u32,
    pub total: u32,
}

/// The connection as the window, the tray and the CLI present it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    /// The state's stable key (the engine's, or `not_linked` before any pairing).
    pub state: &'static str,
    pub label: String,
    pub detail: String,
    pub tone: Tone,
    /// When this state began, where known.
    pub since_ms: Option<UnixMillis>,
    /// The attempt a backoff waits for, and until when.
    pub attempt: Option<u32>,
    pub until_ms: Option<UnixMillis>,
    pub qr: Option<QrView>,
    pub pair_code: Option<String>,
    /// Whether an account is linked (credentials exist).
    pub linked: bool,
    /// Whether "Reconnect now" means something here.
    pub can_reconnect: bool,
    /// The linked phone number, for display.
    pub account: Option<String>,
}

/// What the presentation needs besides the state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The linked phone number (`+15551234567`), if linked.
    pub account: Option<String>,
    /// The advice of the last disconnect, shown where the state is its consequence.
    pub last_advice: Option<String>,
    /// When the current state began.
    pub since_ms: Option<UnixMillis>,
    /// The QR as SVG, rendered by the caller for the state's QR text.
    pub qr_svg: Option<String>,
}

/// Presents `state`.
pub fn present(state: &ConnectionState, ctx: &Context) -> ConnectionView {
    let linked = ctx.account.is_some();
    let advice = |fallback: &str| ctx.last_advice.clone().unwrap_or_else(|| fallback.into());
    let mut v = ConnectionView {
        state: state.name(),
        label: String::new(),
        detail: String::new(),
        tone: Tone::Off,
        since_ms: ctx.since_ms,
        attempt: None,
        until_ms: None,
        qr: None,
        pair_code: None,
        linked,
        can_reconnect: linked,
        account: ctx.account.clone(),
    };
    let (label, detail, tone): (&str, String, Tone) = match state {
        ConnectionState::Idle if !linked => {
            v.state = "not_linked";
            (
                "Not linked yet",
                "Link Herald to your WhatsApp by scanning a QR code with your phone.".into(),
                Tone::Off,
            )
        }
        ConnectionState::Idle => ("Starting", "Herald is getting ready.".into(), Tone::Off),
        ConnectionState::Connecting { attempt } => (
            "Connecting",
            if *attempt > 1 {
                format!("Connecting to WhatsApp (attempt {attempt})…")
            } else {
                "Connecting to WhatsApp…".into()
            },
            Tone::Warn,
        ),
        ConnectionState::Pairing {
            qr,
            expires_at_ms,
            index,
            total,
        } => {
            v.qr = Some(QrView {
                text: qr.clone(),
                svg: ctx.qr_svg.clone().unwrap_or_default(),
                expires_at_ms: *expires_at_ms,
                index: *index,
                total: *total,
            });
            (
                "Waiting for a scan",
                "Scan the QR code with WhatsApp on your phone: Settings → Linked devices → \
                 Link a device."
                    .into(),
                Tone::Warn,
            )
        }
        ConnectionState::PairingCode {
            code,
            expires_at_ms,
        } => {
            v.pair_code = Some(code.clone());
            v.until_ms = Some(*expires_at_ms);
            (
                "Waiting for the code",
                format!("On your phone, choose to link with a phone number and enter {code}."),
                Tone::Warn,
            )
        }
        ConnectionState::QrExpired => {
            v.can_reconnect = false;
            (
                "QR code expired",
                "The codes expired before a scan; get a new code to link your phone.".into(),
                Tone::Off,
            )
        }
        ConnectionState::LoggingIn => ("Logging in", "Logging in to WhatsApp…".into(), Tone::Warn),
        ConnectionState::Online { since_ms } => {
            v.since_ms = Some(*since_ms);
            (
                "Online",
                "Linked and connected; Herald reconnects by itself if the network drops.".into(),
                Tone::Ok,
            )
        }
        ConnectionState::Backoff {
            attempt, until_ms, ..
        } => {
            v.attempt = Some(*attempt);
            v.until_ms = Some(*until_ms);
            (
                "Reconnecting",
                advice("The connection dropped; Herald reconnects shortly."),
                Tone::Warn,
            )
        }
        ConnectionState::Paused { reason } => match reason {
            PausedReason::RetriesExhausted { .. } => (
                "Paused",
                advice("Herald stopped retrying; press Reconnect now when your network is back."),
                Tone::Bad,
            ),
            PausedReason::NeedsAttention => (
                "Paused",
                advice("Retrying cannot fix this; press Reconnect now once it is fixed."),
                Tone::Bad,
            ),
            PausedReason::ClientOutdated => (
                "Client outdated",
                advice("WhatsApp rejects this app version; set the current version in Settings."),
                Tone::Bad,
            ),
            PausedReason::TempBanned { until_ms } => {
                v.until_ms = *until_ms;
                (
                    "Temporarily banned",
                    advice("WhatsApp temporarily banned this account."),
                    Tone::Bad,
                )
            }
        },
        ConnectionState::LoggedOut => {
            v.linked = false;
            v.can_reconnect = false;
            (
                "Logged out",
                "Herald was unlinked from your phone; scan again to reconnect.".into(),
                Tone::Bad,
            )
        }
        ConnectionState::Replaced => (
            "Replaced",
            advice("Another WhatsApp Web or Desktop took over this session."),
            Tone::Bad,
        ),
        ConnectionState::Closed => ("Stopped", "The connection is closed.".into(), Tone::Off),
    };
    v.label = label.into();
    v.detail = detail;
    v.tone = tone;
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linked() -> Context {
        Context {
            account: Some("+15551234567".into()),
            ..Context::default()
        }
    }

    #[test]
    fn every_state_has_wording() {
        let advice = "Another WhatsApp Web or Desktop took over this session; Herald stays off.";
        let with_advice = Context {
            last_advice: Some(advice.into()),
            ..linked()
        };
        let cases: Vec<(ConnectionState, Context, &str, &str, Tone)> = vec![
            (
                ConnectionState::Idle,
                Context::default(),
                "not_linked",
                "Not linked yet",
                Tone::Off,
            ),
            (
                ConnectionState::Idle,
                linked(),
                "idle",
                "Starting",
                Tone::Off,
            ),
            (
                ConnectionState::Connecting { attempt: 1 },
                linked(),
                "connecting",
                "Connecting",
                Tone::Warn,
            ),
            (
                ConnectionState::Pairing {
                    qr: "q".into(),
                    expires_at_ms: UnixMillis(9),
                    index: 1,
                    total: 6,
                },
                Context::default(),
                "pairing",
                "Waiting for a scan",
                Tone::Warn,
            ),
            (
                ConnectionState::PairingCode {
                    code: "ABCD-EFGH".into(),
                    expires_at_ms: UnixMillis(9),
                },
                Context::default(),
                "pairing_code",
                "Waiting for the code",
                Tone::Warn,
            ),
            (
                ConnectionState::QrExpired,
                Context::default(),
                "qr_expired",
                "QR code expired",
                Tone::Off,
            ),
            (
                ConnectionState::LoggingIn,
                linked(),
                "logging_in",
                "Logging in",
                Tone::Warn,
            ),
            (
                ConnectionState::Online {
                    since_ms: UnixMillis(5),
                },
                linked(),
                "online",
                "Online",
                Tone::Ok,
            ),
            (
                ConnectionState::Backoff {
                    attempt: 2,
                    until_ms: UnixMillis(9),
                    cause: wa_core::disconnect::Cause::ServerClosed,
                },
                linked(),
                "backoff",
                "Reconnecting",
                Tone::Warn,
            ),
            (
                ConnectionState::Paused {
                    reason: PausedReason::NeedsAttention,
                },
                linked(),
                "paused",
                "Paused",
                Tone::Bad,
            ),
            (
                ConnectionState::Paused {
                    reason: PausedReason::RetriesExhausted { attempts: 10 },
                },
                linked(),
                "paused",
                "Paused",
                Tone::Bad,
            ),
            (
                ConnectionState::Paused {
                    reason: PausedReason::ClientOutdated,
                },
                linked(),
                "paused",
                "Client outdated",
                Tone::Bad,
            ),
            (
                ConnectionState::Paused {
                    reason: PausedReason::TempBanned {
                        until_ms: Some(UnixMillis(7)),
                    },
                },
                linked(),
                "paused",
                "Temporarily banned",
                Tone::Bad,
            ),
            (
                ConnectionState::LoggedOut,
                linked(),
                "logged_out",
                "Logged out",
                Tone::Bad,
            ),
            (
                ConnectionState::Replaced,
                with_advice.clone(),
                "replaced",
                "Replaced",
                Tone::Bad,
            ),
            (
                ConnectionState::Closed,
                linked(),
                "closed",
                "Stopped",
                Tone::Off,
            ),
        ];
        for (state, ctx, key, label, tone) in cases {
            let v = present(&state, &ctx);
            assert_eq!(
                (v.state, v.label.as_str(), v.tone),
                (key, label, tone),
                "{state:?}"
            );
            assert!(
                v.detail.ends_with('.') || v.detail.ends_with('…'),
                "{:?}",
                v.detail
            );
        }
        assert_eq!(
            present(&ConnectionState::Replaced, &with_advice).detail,
            advice
        );
    }

    #[test]
    fn what_the_user_can_do() {
        let online = present(
            &ConnectionState::Online {
                since_ms: UnixMillis(1),
            },
            &linked(),
        );
        assert!(online.linked && online.can_reconnect);
        assert_eq!(online.since_ms, Some(UnixMillis(1)));
        let out = present(&ConnectionState::LoggedOut, &linked());
        assert!(
            !out.linked && !out.can_reconnect,
            "nothing to reconnect after a logout"
        );
        let qr = present(
            &ConnectionState::Pairing {
                qr: "text".into(),
                expires_at_ms: UnixMillis(60_000),
                index: 2,
                total: 6,
            },
            &Context {
                qr_svg: Some("<svg/>".into()),
                ..Context::default()
            },
        );
        let q = qr.qr.unwrap();
        assert_eq!(
            (q.text.as_str(), q.svg.as_str(), q.index, q.total),
            ("text", "<svg/>", 2, 6)
        );
        let backoff = present(
            &ConnectionState::Backoff {
                attempt: 3,
                until_ms: UnixMillis(42),
                cause: wa_core::disconnect::Cause::Network,
            },
            &linked(),
        );
        assert_eq!(
            (backoff.attempt, backoff.until_ms),
            (Some(3), Some(UnixMillis(42)))
        );
    }
}
