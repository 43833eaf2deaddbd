//! The one decision about every close (protocol.md §8, "our policy" columns).

use super::{Cause, CloseReason, Decision, EndState, Failure, FailureReason, StreamError, Verdict};

/// Penalty after a rate limit: the next dial waits at least this long whatever the attempt.
const RATE_LIMIT_FLOOR_SECS: u32 = 60;

/// What the classifier needs to know about the episode so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassifyContext {
    /// A 405 already made us refresh the WhatsApp Web version in this episode.
    pub version_refreshed: bool,
}

/// Decides what a close means and what to do.
///
/// ```
/// use wa_core::disconnect::{
///     classify, Cause, ClassifyContext, CloseReason, Decision, EndState, Failure, FailureReason,
///     StreamError,
/// };
///
/// // 515 after pairing: dial again at once, no attempt counted.
/// let v = classify(
///     &CloseReason::StreamError(StreamError::RestartRequired),
///     ClassifyContext::default(),
/// );
/// assert_eq!((v.cause, v.decision), (Cause::RestartRequired, Decision::ReconnectNow));
///
/// // Another client took the session over (440): stop, and tell the user.
/// let v = classify(
///     &CloseReason::StreamError(StreamError::Replaced { code: Some(440) }),
///     ClassifyContext::default(),
/// );
/// assert_eq!(v.decision, Decision::Stop { end: EndState::Replaced });
/// assert!(v.notify);
///
/// // 405: refresh the version once per episode; the second one stops.
/// let outdated = CloseReason::Failure(Failure {
///     reason: FailureReason::ClientOutdated,
///     ban_code: None,
///     expire_secs: None,
///     location: None,
///     message: None,
/// });
/// let first = classify(&outdated, ClassifyContext::default());
/// assert!(first.refresh_version);
/// let again = classify(&outdated, ClassifyContext { version_refreshed: true });
/// assert_eq!(again.decision, Decision::Stop { end: EndState::ClientOutdated });
/// ```
pub fn classify(reason: &CloseReason, ctx: ClassifyContext) -> Verdict {
    match reason {
        CloseReason::StreamError(e) => stream_error(e),
        CloseReason::Failure(f) => failure(f, ctx),
        CloseReason::ServerClosed => backoff(
            Cause::ServerClosed,
            None,
            "WhatsApp closed the connection without a reason; Herald reconnects shortly.",
        ),
        CloseReason::Network { detail } => backoff(
            Cause::Network,
            None,
            &format!("The network failed ({detail}); Herald retries when it is back."),
        ),
        CloseReason::ConnectTimeout => backoff(
            Cause::ConnectTimeout,
            None,
            "WhatsApp did not answer in time; Herald retries shortly.",
        ),
        CloseReason::Handshake { detail } => backoff(
            Cause::HandshakeFailed,
            None,
            &format!("The secure handshake with WhatsApp failed ({detail}); Herald retries."),
        ),
        CloseReason::Certificate { detail } => stop(
            Cause::CertificateRejected,
            None,
            EndState::NeedsAttention,
            true,
            &format!(
                "The server did not prove it is WhatsApp ({detail}); Herald will not send \
                 your session to it. Check your network (a proxy or captive portal?)."
            ),
        ),
        CloseReason::FrameCorrupt { detail } => backoff(
            Cause::FrameCorrupt,
            None,
            &format!("Herald received data it could not read ({detail}) and reconnects."),
        ),
        CloseReason::KeepAliveTimeout => backoff(
            Cause::KeepaliveTimeout,
            None,
            "WhatsApp stopped answering keepalive pings; Herald reconnects.",
        ),
        CloseReason::DeadSocket => backoff(
            Cause::DeadSocket,
            None,
            "The connection went silent; Herald reconnects.",
        ),
        CloseReason::LocalStore { detail } => stop(
            Cause::LocalStore,
            None,
            EndState::NeedsAttention,
            true,
            &format!(
                "Herald could not read or write its session on this computer ({detail}); \
                 check the disk and its permissions, then press Reconnect now."
            ),
        ),
        CloseReason::QrExhausted => stop(
            Cause::QrExpired,
            None,
            EndState::QrExpired,
            false,
            "The QR codes expired before a scan; get a new code to link your phone.",
        ),
        CloseReason::LocalShutdown => stop(
            Cause::Shutdown,
            None,
            EndState::Closed,
            false,
            "Herald closed the connection.",
        ),
        CloseReason::LocalRestart => Verdict {
            cause: Cause::UserRestart,
            code: None,
            decision: Decision::ReconnectNow,
            refresh_version: false,
            archive_session: false,
            notify: false,
            advice: "You asked Herald to reconnect; it reconnected at once.".into(),
        },
        CloseReason::LocalLogout => Verdict {
            archive_session: true,
            ..stop(
                Cause::UserLogout,
                None,
                EndState::LoggedOut,
                false,
                "You unlinked Herald; scan a new QR code to link it again.",
            )
        },
    }
}

fn stream_error(e: &StreamError) -> Verdict {
    match e {
        StreamError::RestartRequired => Verdict {
            cause: Cause::RestartRequired,
            code: Some(515),
            decision: Decision::ReconnectNow,
            refresh_version: false,
            archive_session: false,
            notify: false,
            advice: "WhatsApp asked for a fresh connection; Herald reconnected at once.".into(),
        },
        StreamError::DeviceRemoved { code } => logged_out(
            Cause::DeviceRemoved,
            Some(*code),
            "Herald was unlinked from your phone; scan a new QR code to link it again.",
        ),
        StreamError::Replaced { code } => stop(
            Cause::Replaced,
            Some(code.unwrap_or(440)),
            EndState::Replaced,
            true,
            "Another WhatsApp Web or Desktop took over this session; Herald stays off so the \
             two do not fight over it. Reconnect when the other one is closed.",
        ),
        StreamError::ServiceUnavailable => backoff(
            Cause::ServerRestarting,
            Some(503),
            "WhatsApp's server is restarting; Herald reconnects shortly.",
        ),
        StreamError::RateLimited => Verdict {
            decision: Decision::Backoff {
                at_least_secs: RATE_LIMIT_FLOOR_SECS,
            },
            ..backoff(
                Cause::RateLimited,
                Some(429),
                "WhatsApp asked Herald to slow down; it waits at least a minute before \
                 reconnecting.",
            )
        },
        StreamError::XmlNotWellFormed => backoff(
            Cause::XmlNotWellFormed,
            None,
            "WhatsApp could not read something Herald sent; Herald reconnects (please report \
             this, it is a bug).",
        ),
        StreamError::AckOwed { class, .. } => {
            backoff(
                Cause::AckOwed,
                None,
                &format!(
                "WhatsApp was owed an acknowledgement{}; Herald reconnects and acknowledges it.",
                class.as_deref().map(|c| format!(" for a {c}")).unwrap_or_default()
            ),
            )
        }
        StreamError::Other { code, text } => backoff(
            Cause::StreamError,
            *code,
            &format!("WhatsApp ended the stream ({text}); Herald reconnects."),
        ),
    }
}

fn failure(f: &Failure, ctx: ClassifyContext) -> Verdict {
    use FailureReason as R;
    let code = Some(f.reason.code());
    match f.reason {
        R::LoggedOut => logged_out(
            Cause::LoggedOut,
            code,
            "WhatsApp no longer accepts this link (logged out); scan a new QR code.",
        ),
        R::TempBanned => stop(
            Cause::TempBanned,
            code,
            EndState::TempBanned {
                expire_secs: f.expire_secs,
            },
            true,
            &ban_advice(f),
        ),
        R::MainDeviceGone => logged_out(
            Cause::MainDeviceGone,
            code,
            "Your WhatsApp account is locked on the phone; open WhatsApp on the phone, then \
             link Herald again.",
        ),
        R::ClientOutdated if !ctx.version_refreshed => Verdict {
            cause: Cause::ClientOutdated,
            code,
            decision: Decision::ReconnectNow,
            refresh_version: true,
            archive_session: false,
            notify: false,
            advice: "WhatsApp rejected this app version; Herald fetched the current one and \
                     will retry."
                .into(),
        },
        R::ClientOutdated => stop(
            Cause::ClientOutdated,
            code,
            EndState::ClientOutdated,
            true,
            "WhatsApp still rejects this app version after a refresh; set the current \
             WhatsApp Web version in Settings or update Herald.",
        ),
        R::Banned => logged_out(
            Cause::Banned,
            code,
            "WhatsApp logged this link out (the account may be banned); check WhatsApp on \
             your phone.",
        ),
        R::BadUserAgent => needs_attention(
            Cause::BadUserAgent,
            code,
            "WhatsApp rejected how Herald identifies itself; check the platform settings or \
             update Herald.",
        ),
        R::NotFound => needs_attention(
            Cause::NotFound,
            code,
            "WhatsApp refused the login (not found); update Herald.",
        ),
        R::ClientUnknown => needs_attention(
            Cause::ClientUnknown,
            code,
            "WhatsApp does not recognise this client; update Herald.",
        ),
        R::Experimental => needs_attention(
            Cause::Experimental,
            code,
            "WhatsApp refused the login (experimental); update Herald.",
        ),
        R::ServerError => backoff(
            Cause::ServerError,
            code,
            "WhatsApp had an internal error; Herald retries shortly.",
        ),
        R::ServiceUnavailable => backoff(
            Cause::ServiceUnavailable,
            code,
            "WhatsApp is unavailable right now; Herald retries shortly.",
        ),
        R::BadRequest => needs_attention(
            Cause::BadRequest,
            code,
            "WhatsApp rejected the login request; update Herald.",
        ),
        R::Unknown(number) => needs_attention(
            Cause::UnknownFailure,
            code,
            &format!(
                "WhatsApp refused the login with an unknown reason ({}); Herald stops until \
                 you retry.",
                number
            ),
        ),
    }
}

fn ban_advice(f: &Failure) -> String {
    let why = match f.ban_code {
        Some(101) => " for messaging too many people who do not have you as a contact",
        Some(102) => " because many people blocked you",
        Some(103) => " for creating too many groups",
        Some(104) => " for sending the same message to too many people",
        Some(106) => " for broadcast list use",
        _ => "",
    };
    let until = match f.expire_secs {
        Some(s) if s >= 3600 => format!("; it ends in about {} h", s.div_ceil(3600)),
        Some(s) => format!("; it ends in about {} min", s.div_ceil(60).max(1)),
        None => String::new(),
    };
    format!("WhatsApp temporarily banned this account{why}{until}. Herald stays off until then.")
}

fn backoff(cause: Cause, code: Option<u16>, advice: &str) -> Verdict {
    Verdict {
        cause,
        code,
        decision: Decision::Backoff { at_least_secs: 0 },
        refresh_version: false,
        archive_session: false,
        notify: false,
        advice: advice.into(),
    }
}

fn stop(cause: Cause, code: Option<u16>, end: EndState, notify: bool, advice: &str) -> Verdict {
    Verdict {
        cause,
        code,
        decision: Decision::Stop { end },
        refresh_version: false,
        archive_session: false,
        notify,
        advice: advice.into(),
    }
}

fn needs_attention(cause: Cause, code: Option<u16>, advice: &str) -> Verdict {
    stop(cause, code, EndState::NeedsAttention, true, advice)
}

fn logged_out(cause: Cause, code: Option<u16>, advice: &str) -> Verdict {
    Verdict {
        archive_session: true,
        ..stop(cause, code, EndState::LoggedOut, true, advice)
    }
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
