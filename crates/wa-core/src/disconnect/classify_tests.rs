//! One row per way a connection ends (protocol.md §8), checked against the policy column.

use super::*;
use crate::disconnect::{
    Cause, CloseReason, Decision, EndState, Failure, FailureReason, StreamError,
};

const BACKOFF: Decision = Decision::Backoff { at_least_secs: 0 };

fn fail(reason: u16) -> CloseReason {
    CloseReason::Failure(Failure {
        reason: FailureReason::from_code(reason),
        ban_code: None,
        expire_secs: None,
        location: Some("frc".into()),
        message: None,
    })
}

fn se(e: StreamError) -> CloseReason {
    CloseReason::StreamError(e)
}

#[test]
#[rustfmt::skip]
fn every_close_has_its_policy() {
    use Cause as C;
    use EndState as E;
    let stop = |end| Decision::Stop { end };
    // (reason, cause, code, decision, archive, notify)
    let table: Vec<(CloseReason, Cause, Option<u16>, Decision, bool, bool)> = vec![
        (se(StreamError::RestartRequired), C::RestartRequired, Some(515), Decision::ReconnectNow, false, false),
        (se(StreamError::DeviceRemoved { code: 401 }), C::DeviceRemoved, Some(401), stop(E::LoggedOut), true, true),
        (se(StreamError::DeviceRemoved { code: 516 }), C::DeviceRemoved, Some(516), stop(E::LoggedOut), true, true),
        (se(StreamError::Replaced { code: None }), C::Replaced, Some(440), stop(E::Replaced), false, true),
        (se(StreamError::Replaced { code: Some(409) }), C::Replaced, Some(409), stop(E::Replaced), false, true),
        (se(StreamError::ServiceUnavailable), C::ServerRestarting, Some(503), BACKOFF, false, false),
        (se(StreamError::RateLimited), C::RateLimited, Some(429), Decision::Backoff { at_least_secs: 60 }, false, false),
        (se(StreamError::XmlNotWellFormed), C::XmlNotWellFormed, None, BACKOFF, false, false),
        (se(StreamError::AckOwed { id: None, class: Some("receipt".into()) }), C::AckOwed, None, BACKOFF, false, false),
        (se(StreamError::Other { code: Some(999), text: "x".into() }), C::StreamError, Some(999), BACKOFF, false, false),
        (fail(400), C::BadRequest, Some(400), stop(E::NeedsAttention), false, true),
        (fail(401), C::LoggedOut, Some(401), stop(E::LoggedOut), true, true),
        (fail(402), C::TempBanned, Some(402), stop(E::TempBanned { expire_secs: None }), false, true),
        (fail(403), C::MainDeviceGone, Some(403), stop(E::LoggedOut), true, true),
        (fail(405), C::ClientOutdated, Some(405), Decision::ReconnectNow, false, false),
        (fail(406), C::Banned, Some(406), stop(E::LoggedOut), true, true),
        (fail(409), C::BadUserAgent, Some(409), stop(E::NeedsAttention), false, true),
        (fail(415), C::NotFound, Some(415), stop(E::NeedsAttention), false, true),
        (fail(418), C::ClientUnknown, Some(418), stop(E::NeedsAttention), false, true),
        (fail(501), C::Experimental, Some(501), stop(E::NeedsAttention), false, true),
        (fail(500), C::ServerError, Some(500), BACKOFF, false, false),
        (fail(503), C::ServiceUnavailable, Some(503), BACKOFF, false, false),
        (fail(499), C::UnknownFailure, Some(499), stop(E::NeedsAttention), false, true),
        (CloseReason::ServerClosed, C::ServerClosed, None, BACKOFF, false, false),
        (CloseReason::Network { detail: "reset".into() }, C::Network, None, BACKOFF, false, false),
        (CloseReason::ConnectTimeout, C::ConnectTimeout, None, BACKOFF, false, false),
        (CloseReason::Handshake { detail: "bad hello".into() }, C::HandshakeFailed, None, BACKOFF, false, false),
        (CloseReason::Certificate { detail: "wrong root".into() }, C::CertificateRejected, None, stop(E::NeedsAttention), false, true),
        (CloseReason::FrameCorrupt { detail: "tag".into() }, C::FrameCorrupt, None, BACKOFF, false, false),
        (CloseReason::KeepAliveTimeout, C::KeepaliveTimeout, None, BACKOFF, false, false),
        (CloseReason::DeadSocket, C::DeadSocket, None, BACKOFF, false, false),
        (CloseReason::QrExhausted, C::QrExpired, None, stop(E::QrExpired), false, false),
        (CloseReason::LocalStore { detail: "disk full".into() }, C::LocalStore, None, stop(E::NeedsAttention), false, true),
        (CloseReason::LocalShutdown, C::Shutdown, None, stop(E::Closed), false, false),
        (CloseReason::LocalLogout, C::UserLogout, None, stop(E::LoggedOut), true, false),
        (CloseReason::LocalRestart, C::UserRestart, None, Decision::ReconnectNow, false, false),
    ];
    for (reason, cause, code, decision, archive, notify) in table {
        let v = classify(&reason, ClassifyContext::default());
        assert_eq!(v.cause, cause, "{reason:?}");
        assert_eq!(v.code, code, "{reason:?}");
        assert_eq!(v.decision, decision, "{reason:?}");
        assert_eq!(v.archive_session, archive, "{reason:?}");
        assert_eq!(v.notify, notify, "{reason:?}");
        assert!(v.advice.ends_with('.'), "advice is one sentence: {:?}", v.advice);
        assert!(!v.advice.contains('\n'));
    }
}

#[test]
fn client_outdated_refreshes_once_then_stops() {
    let first = classify(
        &fail(405),
        ClassifyContext {
            version_refreshed: false,
        },
    );
    assert!(first.refresh_version);
    assert_eq!(first.decision, Decision::ReconnectNow);
    assert_eq!(
        first.advice,
        "WhatsApp rejected this app version; Herald fetched the current one and will retry."
    );
    let second = classify(
        &fail(405),
        ClassifyContext {
            version_refreshed: true,
        },
    );
    assert!(!second.refresh_version);
    assert_eq!(
        second.decision,
        Decision::Stop {
            end: EndState::ClientOutdated
        }
    );
    assert!(second.notify);
}

#[test]
fn replaced_says_who_took_over() {
    let v = classify(
        &se(StreamError::Replaced { code: None }),
        ClassifyContext::default(),
    );
    assert!(v
        .advice
        .starts_with("Another WhatsApp Web or Desktop took over this session"));
}

#[test]
fn a_ban_carries_its_reason_and_expiry() {
    let v = classify(
        &CloseReason::Failure(Failure {
            reason: FailureReason::TempBanned,
            ban_code: Some(104),
            expire_secs: Some(7200),
            location: None,
            message: None,
        }),
        ClassifyContext::default(),
    );
    assert_eq!(
        v.decision,
        Decision::Stop {
            end: EndState::TempBanned {
                expire_secs: Some(7200)
            }
        }
    );
    assert_eq!(
        v.advice,
        "WhatsApp temporarily banned this account for sending the same message to too many \
         people; it ends in about 2 h. Herald stays off until then."
    );
}

#[test]
#[rustfmt::skip]
fn keys_are_unique() {
    let all = [
        Cause::RestartRequired, Cause::DeviceRemoved, Cause::Replaced, Cause::ServerRestarting,
        Cause::RateLimited, Cause::XmlNotWellFormed, Cause::AckOwed, Cause::StreamError,
        Cause::BadRequest, Cause::LoggedOut, Cause::TempBanned, Cause::MainDeviceGone,
        Cause::ClientOutdated, Cause::Banned, Cause::BadUserAgent, Cause::NotFound,
        Cause::ClientUnknown, Cause::Experimental, Cause::ServerError, Cause::ServiceUnavailable,
        Cause::UnknownFailure, Cause::ServerClosed, Cause::Network, Cause::ConnectTimeout,
        Cause::HandshakeFailed, Cause::CertificateRejected, Cause::FrameCorrupt, Cause::KeepaliveTimeout,
        Cause::DeadSocket, Cause::QrExpired, Cause::Shutdown, Cause::UserLogout,
        Cause::UserRestart, Cause::LocalStore,
    ];
    let keys: std::collections::HashSet<_> = all.iter().map(|c| c.key()).collect();
    assert_eq!(keys.len(), all.len());
    assert!(all.iter().all(|c| !c.title().is_empty()));
    for c in all {
        // The stored key and the JSON form are one name.
        assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(c.key()));
        assert_eq!(serde_json::from_value::<Cause>(serde_json::json!(c.key())).unwrap(), c);
    }
}

#[test]
fn every_failure_number_round_trips() {
    for code in 0..=u16::MAX {
        assert_eq!(FailureReason::from_code(code).code(), code);
    }
    assert_eq!(FailureReason::from_code(401), FailureReason::LoggedOut);
    assert_eq!(FailureReason::from_code(499), FailureReason::Unknown(499));
}

#[test]
fn decisions_and_end_states_serialize_with_snake_case_tags() {
    use serde_json::json;
    let cases = [
        (Decision::ReconnectNow, json!({"kind": "reconnect_now"})),
        (
            Decision::Backoff { at_least_secs: 60 },
            json!({"kind": "backoff", "atLeastSecs": 60}),
        ),
        (
            Decision::Stop {
                end: EndState::RetriesExhausted,
            },
            json!({"kind": "stop", "end": {"kind": "retries_exhausted"}}),
        ),
        (
            Decision::Stop {
                end: EndState::TempBanned {
                    expire_secs: Some(9),
                },
            },
            json!({"kind": "stop", "end": {"kind": "temp_banned", "expireSecs": 9}}),
        ),
    ];
    for (decision, expected) in cases {
        assert_eq!(serde_json::to_value(decision).unwrap(), expected);
        assert_eq!(
            serde_json::from_value::<Decision>(expected).unwrap(),
            decision
        );
    }
}
