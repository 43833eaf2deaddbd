//! Scripted faults: stream errors to kick a connection with, failures for the next login, a
//! stalled or slow server, and the minimum app version.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use wa_core::binary::Node;
use wa_core::payload::AppVersion;

/// The `<stream:error>` forms a connection can be kicked with (protocol.md §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KickKind {
    /// `code="515"`: restart required.
    RestartRequired,
    /// `code="503"`: the server is restarting.
    ServiceUnavailable,
    /// `<conflict type="replaced"/>`: another connection took over.
    Replaced,
    /// `code="401"` + `<conflict type="device_removed"/>`: unlinked from the phone. The
    /// device is removed from the state too, so its next login fails with 401.
    DeviceRemoved,
    /// `<xml-not-well-formed/>`.
    XmlNotWellFormed,
    /// `<ack id class/>`: the server claims an ack is owed.
    Ack,
}

/// A kick kind that is not one of the names the control API accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown kick kind {0:?} (515, 503, replaced, device_removed, xml-not-well-formed, ack)")]
pub struct UnknownKick(pub String);

impl FromStr for KickKind {
    type Err = UnknownKick;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "515" => Self::RestartRequired,
            "503" => Self::ServiceUnavailable,
            "replaced" => Self::Replaced,
            "device_removed" => Self::DeviceRemoved,
            "xml-not-well-formed" => Self::XmlNotWellFormed,
            "ack" => Self::Ack,
            other => return Err(UnknownKick(other.to_owned())),
        })
    }
}

impl KickKind {
    /// The `<stream:error>` node.
    pub fn stream_error(self) -> Node {
        let base = Node::new("stream:error");
        match self {
            Self::RestartRequired => restart_required(),
            Self::ServiceUnavailable => base.with_attr("code", "503"),
            Self::Replaced => {
                base.with_children(vec![Node::new("conflict").with_attr("type", "replaced")])
            }
            Self::DeviceRemoved => {
                base.with_attr("code", "401").with_children(vec![
                    Node::new("conflict").with_attr("type", "device_removed")
                ])
            }
            Self::XmlNotWellFormed => base.with_children(vec![Node::new("xml-not-well-formed")]),
            Self::Ack => ack_owed("sim-kick", "message"),
        }
    }
}

/// `<stream:error code="515"/>`.
pub fn restart_required() -> Node {
    Node::new("stream:error").with_attr("code", "515")
}

/// `<stream:error><ack id class/></stream:error>`.
pub fn ack_owed(id: &str, class: &str) -> Node {
    Node::new("stream:error").with_children(vec![Node::new("ack")
        .with_attr("id", id.to_owned())
        .with_attr("class", class.to_owned())])
}

/// The `<failure reason>` values `fail-next-login` can inject (protocol.md §8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FailureSpec {
    /// The reason code.
    pub reason: u16,
}

/// A failure reason the control API does not offer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported failure reason {0:?} (401, 402, 403, 405, 406, 500, 503)")]
pub struct UnknownFailure(pub String);

impl FromStr for FailureSpec {
    type Err = UnknownFailure;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<u16>() {
            Ok(reason @ (401 | 402 | 403 | 405 | 406 | 500 | 503)) => Ok(Self { reason }),
            _ => Err(UnknownFailure(s.to_owned())),
        }
    }
}

impl FailureSpec {
    /// The `<failure>` node with the attributes the real server adds for this reason.
    pub fn node(self, location: &str) -> Node {
        let failure = failure(self.reason, location);
        match self.reason {
            // Temporary ban: code 101 (too many messages to non-contacts), for an hour.
            402 => failure.with_attr("code", "101").with_attr("expire", "3600"),
            // "LOCKED": the primary device is gone; WA Web shows these two texts.
            403 => failure
                .with_attr("logout_message_header", "Your account is locked")
                .with_attr(
                    "logout_message_subtext",
                    "Open WhatsApp on your phone to unlock it",
                ),
            _ => failure,
        }
    }
}

/// `<failure reason location/>`.
pub fn failure(reason: u16, location: &str) -> Node {
    Node::new("failure")
        .with_attr("reason", reason.to_string())
        .with_attr("location", location.to_owned())
}

/// The fault switches, shared by every connection.
#[derive(Debug)]
pub struct Faults {
    stalled: watch::Sender<bool>,
    delay_ms: AtomicU64,
    fail_next_login: Mutex<Option<FailureSpec>>,
    min_version: Mutex<Option<AppVersion>>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            stalled: watch::Sender::new(false),
            delay_ms: AtomicU64::new(0),
            fail_next_login: Mutex::new(None),
            min_version: Mutex::new(None),
        }
    }
}

impl Faults {
    /// Stops (true) or resumes (false) answering on every connection.
    pub fn set_stalled(&self, stalled: bool) {
        self.stalled.send_replace(stalled);
    }

    /// Whether the server answers nothing right now.
    pub fn is_stalled(&self) -> bool {
        *self.stalled.borrow()
    }

    /// Watches the stall switch.
    pub fn watch_stalled(&self) -> watch::Receiver<bool> {
        self.stalled.subscribe()
    }

    /// Delays every reply by `delay`.
    pub fn set_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(ms, Ordering::Relaxed);
    }

    /// The current reply delay.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.load(Ordering::Relaxed))
    }

    /// The next handshake gets this failure instead of `<success>` or pairing.
    pub fn set_fail_next_login(&self, spec: FailureSpec) {
        *lock(&self.fail_next_login) = Some(spec);
    }

    /// Takes the pending failure, if any.
    pub fn take_fail_next_login(&self) -> Option<FailureSpec> {
        lock(&self.fail_next_login).take()
    }

    /// The pending failure, left in place.
    pub fn fail_next_login_peek(&self) -> Option<FailureSpec> {
        *lock(&self.fail_next_login)
    }

    /// Older app versions are refused with 405 from now on.
    pub fn set_min_version(&self, version: Option<AppVersion>) {
        *lock(&self.min_version) = version;
    }

    /// The current minimum app version.
    pub fn min_version(&self) -> Option<AppVersion> {
        *lock(&self.min_version)
    }
}

/// Locks a mutex, taking the data even if a panicking thread poisoned it: every value behind
/// these locks stays consistent between statements.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether `version` is older than `min`.
pub fn is_outdated(version: &AppVersion, min: &AppVersion) -> bool {
    (version.primary, version.secondary, version.tertiary)
        < (min.primary, min.secondary, min.tertiary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kick_kinds_parse_and_build_their_stream_errors() {
        use wa_core::disconnect::{parse::stream_error, StreamError};
        let cases = [
            ("515", StreamError::RestartRequired),
            ("503", StreamError::ServiceUnavailable),
            ("replaced", StreamError::Replaced { code: None }),
            ("device_removed", StreamError::DeviceRemoved { code: 401 }),
            ("xml-not-well-formed", StreamError::XmlNotWellFormed),
            (
                "ack",
                StreamError::AckOwed {
                    id: Some("sim-kick".into()),
                    class: Some("message".into()),
                },
            ),
        ];
        for (name, expected) in cases {
            let kind: KickKind = name.parse().unwrap();
            assert_eq!(stream_error(&kind.stream_error()).unwrap(), expected);
        }
        assert!("516".parse::<KickKind>().is_err());
    }

    #[test]
    fn failures_carry_the_real_attributes() {
        use wa_core::disconnect::parse::failure;
        let f = failure(&"402".parse::<FailureSpec>().unwrap().node("sim")).unwrap();
        assert_eq!(
            (f.reason.code(), f.ban_code, f.expire_secs),
            (402, Some(101), Some(3600))
        );
        assert_eq!(f.location.as_deref(), Some("sim"));
        assert!("404".parse::<FailureSpec>().is_err());
        let min = AppVersion {
            primary: 2,
            secondary: 3000,
            tertiary: 10,
        };
        assert!(is_outdated(&AppVersion { tertiary: 9, ..min }, &min));
        assert!(!is_outdated(&min, &min));
    }
}
