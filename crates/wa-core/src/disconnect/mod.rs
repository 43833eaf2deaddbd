//! Every way a connection ends, and what to do about it: one pure, exhaustive decision.
//!
//! [`CloseReason`] is what happened (parsed from `<stream:error>` and `<failure>` by
//! [`parse`], or observed locally: a dropped socket, a keepalive timeout, QR exhaustion …).
//! [`classify`] maps it to a [`Verdict`]: the [`Cause`] in the protocol's words, the
//! [`Decision`] (reconnect now, back off, or stop in a named end state) and one sentence of
//! advice for the user. Facts and policy columns: protocol.md §8.
//!
//! Adding a variant to [`CloseReason`] or [`Cause`] fails to compile until this module decides
//! about it: there is no wildcard arm over them.

mod classify;
pub mod parse;

pub use classify::{classify, ClassifyContext};

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The server sent `<stream:error>` (then closes).
    StreamError(StreamError),
    /// The server sent `<failure reason=…>` instead of `<success>` right after the handshake.
    Failure(Failure),
    /// The server closed the WebSocket or the TCP connection without a stream error.
    ServerClosed,
    /// The network failed: connection refused or reset, unreachable, name resolution.
    Network { detail: String },
    /// Connecting (TCP, TLS, WebSocket upgrade and the Noise handshake) took too long.
    ConnectTimeout,
    /// The Noise handshake failed (malformed or undecryptable server messages).
    Handshake { detail: String },
    /// The server's certificate chain did not verify.
    Certificate { detail: String },
    /// A transport frame failed to decrypt or decode; the ciphers are out of step for good.
    FrameCorrupt { detail: String },
    /// Pings went unanswered past their deadline.
    KeepAliveTimeout,
    /// We sent something and received nothing at all for the dead-socket interval.
    DeadSocket,
    /// Every QR code of this registration expired without a scan.
    QrExhausted,
    /// This computer could not read or write the session (disk full, permissions, a damaged
    /// store): nothing the server did, and retrying will not fix it.
    LocalStore { detail: String },
    /// We closed it: the app is quitting or restarting the connection.
    LocalShutdown,
    /// The user unlinked Herald from WhatsApp here.
    LocalLogout,
    /// The user asked to reconnect now: the socket is torn down and dialled again at once.
    LocalRestart,
}

/// A `<stream:error>`, by its code and children (protocol.md §8.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamError {
    /// `code="515"`: restart required (after pairing, sometimes later).
    RestartRequired,
    /// `<conflict type="device_removed"/>` (with code 401), or code 516: unlinked from the phone.
    DeviceRemoved { code: u16 },
    /// `<conflict type="replaced"/>`, or code 409: another connection took over this session.
    Replaced { code: Option<u16> },
    /// `code="503"`: the server is restarting.
    ServiceUnavailable,
    /// `code="429"`: too many connections or requests.
    RateLimited,
    /// `<xml-not-well-formed/>`: the server could not parse something we sent.
    XmlNotWellFormed,
    /// `<ack id class/>`: the server is owed an ack and recycles the stream until it gets it.
    AckOwed {
        id: Option<String>,
        class: Option<String>,
    },
    /// Anything else.
    Other { code: Option<u16>, text: String },
}

/// A `<failure>` after the handshake (protocol.md §8.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The `reason` attribute: an HTTP-like status, read once into the reasons we know.
    pub reason: FailureReason,
    /// 402's ban `code` (101 too many non-contacts, 102 blocked by users, 103 too many groups,
    /// 104 same message to many, 106 broadcast list).
    pub ban_code: Option<u16>,
    /// 402's `expire`: seconds until the ban ends.
    pub expire_secs: Option<u64>,
    /// The serving edge (`frc`, `lla`, …); informational, never a cause.
    pub location: Option<String>,
    /// A `message` attribute, when the server adds one.
    pub message: Option<String>,
}

/// The `reason` of a `<failure>` (protocol.md §8.1): the statuses the protocol names, and any
/// other number as it came. Parsed once in [`parse::failure`]; the classifier matches on it
/// without a wildcard over the known ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    /// 400: the login request was malformed.
    BadRequest,
    /// 401: the link is gone (logged out from the phone).
    LoggedOut,
    /// 402: temporarily banned.
    TempBanned,
    /// 403: the main device is gone or locked.
    MainDeviceGone,
    /// 405: this client version is refused.
    ClientOutdated,
    /// 406: banned (logged out for good).
    Banned,
    /// 409: the user agent was refused.
    BadUserAgent,
    /// 415: not found.
    NotFound,
    /// 418: the client is unknown to the server.
    ClientUnknown,
    /// 500: internal server error.
    ServerError,
    /// 501: experimental (refused).
    Experimental,
    /// 503: the service is unavailable.
    ServiceUnavailable,
    /// Any other number.
    Unknown(u16),
}

impl FailureReason {
    /// The reason for a wire number.
    pub fn from_code(code: u16) -> Self {
        match code {
            400 => Self::BadRequest,
            401 => Self::LoggedOut,
            402 => Self::TempBanned,
            403 => Self::MainDeviceGone,
            405 => Self::ClientOutdated,
            406 => Self::Banned,
            409 => Self::BadUserAgent,
            415 => Self::NotFound,
            418 => Self::ClientUnknown,
            500 => Self::ServerError,
            501 => Self::Experimental,
            503 => Self::ServiceUnavailable,
            other => Self::Unknown(other),
        }
    }

    /// The wire number.
    pub fn code(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::LoggedOut => 401,
            Self::TempBanned => 402,
            Self::MainDeviceGone => 403,
            Self::ClientOutdated => 405,
            Self::Banned => 406,
            Self::BadUserAgent => 409,
            Self::NotFound => 415,
            Self::ClientUnknown => 418,
            Self::ServerError => 500,
            Self::Experimental => 501,
            Self::ServiceUnavailable => 503,
            Self::Unknown(code) => code,
        }
    }
}

/// The cause, as recorded in the history and shown to the user. Its serde form is its
/// [`Cause::key`], the variant's name in snake_case (pinned by a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    RestartRequired,
    DeviceRemoved,
    Replaced,
    ServerRestarting,
    RateLimited,
    XmlNotWellFormed,
    AckOwed,
    StreamError,
    BadRequest,
    LoggedOut,
    TempBanned,
    MainDeviceGone,
    ClientOutdated,
    Banned,
    BadUserAgent,
    NotFound,
    ClientUnknown,
    Experimental,
    ServerError,
    ServiceUnavailable,
    UnknownFailure,
    ServerClosed,
    Network,
    ConnectTimeout,
    HandshakeFailed,
    CertificateRejected,
    FrameCorrupt,
    KeepaliveTimeout,
    DeadSocket,
    QrExpired,
    LocalStore,
    Shutdown,
    UserLogout,
    UserRestart,
}

impl Cause {
    /// A stable snake_case key for storage, logs and the UI.
    pub fn key(self) -> &'static str {
        match self {
            Cause::RestartRequired => "restart_required",
            Cause::DeviceRemoved => "device_removed",
            Cause::Replaced => "replaced",
            Cause::ServerRestarting => "server_restarting",
            Cause::RateLimited => "rate_limited",
            Cause::XmlNotWellFormed => "xml_not_well_formed",
            Cause::AckOwed => "ack_owed",
            Cause::StreamError => "stream_error",
            Cause::BadRequest => "bad_request",
            Cause::LoggedOut => "logged_out",
            Cause::TempBanned => "temp_banned",
            Cause::MainDeviceGone => "main_device_gone",
            Cause::ClientOutdated => "client_outdated",
            Cause::Banned => "banned",
            Cause::BadUserAgent => "bad_user_agent",
            Cause::NotFound => "not_found",
            Cause::ClientUnknown => "client_unknown",
            Cause::Experimental => "experimental",
            Cause::ServerError => "server_error",
            Cause::ServiceUnavailable => "service_unavailable",
            Cause::UnknownFailure => "unknown_failure",
            Cause::ServerClosed => "server_closed",
            Cause::Network => "network",
            Cause::ConnectTimeout => "connect_timeout",
            Cause::HandshakeFailed => "handshake_failed",
            Cause::CertificateRejected => "certificate_rejected",
            Cause::FrameCorrupt => "frame_corrupt",
            Cause::KeepaliveTimeout => "keepalive_timeout",
            Cause::DeadSocket => "dead_socket",
            Cause::QrExpired => "qr_expired",
            Cause::LocalStore => "local_store",
            Cause::Shutdown => "shutdown",
            Cause::UserLogout => "user_logout",
            Cause::UserRestart => "user_restart",
        }
    }

    /// The cause in a few words, for tables and notifications.
    pub fn title(self) -> &'static str {
        match self {
            Cause::RestartRequired => "Restart requested by WhatsApp",
            Cause::DeviceRemoved => "Unlinked from the phone",
            Cause::Replaced => "Taken over by another session",
            Cause::ServerRestarting => "WhatsApp server restarting",
            Cause::RateLimited => "Rate limited",
            Cause::XmlNotWellFormed => "WhatsApp could not read a message from Herald",
            Cause::AckOwed => "Unacknowledged message",
            Cause::StreamError => "Stream error",
            Cause::BadRequest => "Rejected by WhatsApp",
            Cause::LoggedOut => "Logged out",
            Cause::TempBanned => "Temporarily banned",
            Cause::MainDeviceGone => "Phone account locked",
            Cause::ClientOutdated => "Client version outdated",
            Cause::Banned => "Account banned",
            Cause::BadUserAgent => "Client identity rejected",
            Cause::NotFound => "Rejected by WhatsApp (not found)",
            Cause::ClientUnknown => "Client unknown to WhatsApp",
            Cause::Experimental => "Rejected by WhatsApp (experimental)",
            Cause::ServerError => "WhatsApp server error",
            Cause::ServiceUnavailable => "WhatsApp unavailable",
            Cause::UnknownFailure => "Login failed",
            Cause::ServerClosed => "Connection closed by the server",
            Cause::Network => "Network error",
            Cause::ConnectTimeout => "Connection timed out",
            Cause::HandshakeFailed => "Secure handshake failed",
            Cause::CertificateRejected => "Server certificate rejected",
            Cause::FrameCorrupt => "Corrupt data received",
            Cause::KeepaliveTimeout => "No answer to keepalive pings",
            Cause::DeadSocket => "Connection went silent",
            Cause::QrExpired => "QR code expired",
            Cause::LocalStore => "Session store failed",
            Cause::Shutdown => "Closed by Herald",
            Cause::UserLogout => "Unlinked in Herald",
            Cause::UserRestart => "Reconnect requested",
        }
    }
}

/// What to do after a close. Serialized as `{"kind":"reconnect_now"}`,
/// `{"kind":"backoff","atLeastSecs":60}` or `{"kind":"stop","end":{"kind":"replaced"}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Decision {
    /// Dial again at once, without counting an attempt (515, a fresh version after 405).
    ReconnectNow,
    /// Dial again after the backoff delay for the next attempt, but not sooner than
    /// `at_least_secs` (a deliberate penalty, e.g. after being rate limited).
    Backoff { at_least_secs: u32 },
    /// Do not reconnect on our own; stay in this end state until the user acts.
    Stop {
        /// Where it rests.
        end: EndState,
    },
}

impl Decision {
    /// A stable key for storage and the UI: `reconnect_now`, `backoff`, or `stop:<end state>`.
    pub fn key(&self) -> String {
        match self {
            Decision::ReconnectNow => "reconnect_now".into(),
            Decision::Backoff { .. } => "backoff".into(),
            Decision::Stop { end } => format!("stop:{}", end.key()),
        }
    }
}

impl EndState {
    /// A stable snake_case key.
    pub fn key(&self) -> &'static str {
        match self {
            EndState::LoggedOut => "logged_out",
            EndState::Replaced => "replaced",
            EndState::TempBanned { .. } => "temp_banned",
            EndState::ClientOutdated => "client_outdated",
            EndState::NeedsAttention => "needs_attention",
            EndState::RetriesExhausted => "retries_exhausted",
            EndState::QrExpired => "qr_expired",
            EndState::Closed => "closed",
        }
    }
}

/// Where a connection rests when it will not reconnect by itself. Serialized as
/// `{"kind": <key>, …}` (`{"kind":"temp_banned","expire_secs":60}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EndState {
    /// The link is gone: credentials are archived and a new pairing is needed.
    LoggedOut,
    /// Another client has the session; reconnecting would start a fight over it.
    Replaced,
    /// Banned until `expire_secs` from now (when the server said).
    #[serde(rename_all = "camelCase")]
    TempBanned { expire_secs: Option<u64> },
    /// The server refuses this app version even after a refresh.
    ClientOutdated,
    /// Something only the user (or an update) can fix.
    NeedsAttention,
    /// The retry policy ran out of attempts: the classifier said "back off" but Herald stops
    /// until the user (or a network change) retries. Never a verdict of [`classify`] itself;
    /// the supervisor records it on the close that used up the last attempt.
    RetriesExhausted,
    /// The pairing codes ran out; the user asks for new ones.
    QrExpired,
    /// We closed it on purpose.
    Closed,
}

/// The verdict on one close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub cause: Cause,
    /// The protocol's number for it where there is one (stream error code, failure reason;
    /// 440 for a replaced stream, the number the Baileys community knows it by).
    pub code: Option<u16>,
    pub decision: Decision,
    /// Refresh the WhatsApp Web version before dialing again (the first 405).
    pub refresh_version: bool,
    /// Archive the session (keep it, timestamped) before anything else.
    pub archive_session: bool,
    /// Tell the user with a desktop notification (once per episode).
    pub notify: bool,
    /// One plain sentence for the user.
    pub advice: String,
}
