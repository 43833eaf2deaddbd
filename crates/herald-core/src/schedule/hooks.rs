//! What the service's event pump does for the scheduler, apart from the running task: the
//! link the runner sends on, from the engine's state; incoming message times; receipts that
//! move scheduled sends on; and the change event screens re-read on. A leaf: the pump and the
//! scheduler both use it, and it uses neither.

use std::collections::HashSet;

use jiff::Timestamp;
use rusqlite::Connection;
use serde::Serialize;
use wa_client::ConnectionState;

use super::inbound;
use super::outbox;
use super::runner::{Link, RunnerEvent};
use super::store::StoreError;

/// What changed among the schedules; screens re-read what they show of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleChange {
    /// The schedule, when known; `None`: anything may have changed (another process wrote).
    pub schedule_id: Option<i64>,
    /// What the runner did, when it was the runner.
    pub runner: Option<RunnerEvent>,
}

/// The link as the runner needs it, from the engine's state.
pub fn link_of(state: &ConnectionState) -> Link {
    match state {
        ConnectionState::Online { .. } => Link::Online,
        ConnectionState::Replaced => Link::Replaced,
        // No session: nothing can go until the phone links this computer again.
        ConnectionState::LoggedOut
        | ConnectionState::Pairing { .. }
        | ConnectionState::PairingCode { .. }
        | ConnectionState::QrExpired => Link::LoggedOut,
        ConnectionState::Idle
        | ConnectionState::Connecting { .. }
        | ConnectionState::LoggingIn
        | ConnectionState::Backoff { .. }
        | ConnectionState::Paused { .. }
        | ConnectionState::Closed => Link::Offline,
    }
}

/// The engine's incoming message from `chat` at `at` (its sender's time): recorded for the
/// "skip if they have written to me since" condition. The pump's `Message` arm calls this.
pub fn on_message(conn: &Connection, chat: &str, at: Timestamp) {
    if let Err(e) = inbound::record(conn, chat, at) {
        tracing::warn!(error = %e, "incoming message time not recorded");
    }
}

/// A delivery or read receipt for message ids: the scheduled sends among them move on (sent
/// → delivered → read; an in-doubt one is settled). Returns the schedules whose sends
/// changed. The pump's `Receipt` arm calls this.
pub fn on_receipt(
    conn: &Connection,
    ids: &[String],
    read: bool,
    at: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    let mut changed = HashSet::new();
    for id in ids {
        if outbox::on_receipt(conn, id, read, at)? {
            if let Some(send) = outbox::by_message_id(conn, id)? {
                changed.insert(send.schedule_id);
            }
        }
    }
    let mut changed: Vec<i64> = changed.into_iter().collect();
    changed.sort_unstable();
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wa_client::UnixMillis;

    #[test]
    fn link_from_every_state() {
        use wa_core::disconnect::Cause;
        let cases = [
            (
                ConnectionState::Online {
                    since_ms: UnixMillis(1),
                },
                Link::Online,
            ),
            (ConnectionState::Replaced, Link::Replaced),
            (ConnectionState::LoggedOut, Link::LoggedOut),
            (ConnectionState::QrExpired, Link::LoggedOut),
            (
                ConnectionState::PairingCode {
                    code: "ABCD-EFGH".into(),
                    expires_at_ms: UnixMillis(1),
                },
                Link::LoggedOut,
            ),
            (ConnectionState::Idle, Link::Offline),
            (ConnectionState::Connecting { attempt: 1 }, Link::Offline),
            (ConnectionState::LoggingIn, Link::Offline),
            (
                ConnectionState::Backoff {
                    attempt: 2,
                    until_ms: UnixMillis(1),
                    cause: Cause::Network,
                },
                Link::Offline,
            ),
            (ConnectionState::Closed, Link::Offline),
        ];
        for (state, want) in cases {
            assert_eq!(link_of(&state), want, "{state:?}");
        }
    }

    #[test]
    fn receipts_move_scheduled_sends_on_and_messages_are_timed() {
        use crate::schedule::outbox::{self, RandomIds, SendState};
        use crate::schedule::recipient::Recipient;
        use crate::schedule::store::{self, NewSchedule};
        use crate::schedule::timing::{CatchUp, End, Repeat, Timing};
        let conn = crate::db::open_in_memory().unwrap();
        let now: Timestamp = "2026-05-01T08:00:00Z".parse().unwrap();
        let new = NewSchedule {
            recipient: Recipient::parse("+4915123456789").unwrap(),
            text: "hi".into(),
            timing: Timing::new(
                "UTC",
                "2026-05-01T09:00:00".parse().unwrap(),
                Repeat::Once,
                End::Never,
            )
            .unwrap(),
            catch_up: CatchUp::Default,
        };
        let (id, _) = store::add(&conn, &new, &mut RandomIds::default(), now).unwrap();
        let send = outbox::history(&conn, Some(id), 1).unwrap()[0].clone();
        outbox::clear(&conn, send.id, now).unwrap();
        outbox::claim(&conn, send.id, now).unwrap();
        outbox::mark_sent(&conn, send.id, now).unwrap();
        let ids = vec![send.message_id.clone(), "3EB0NOTOURS".to_owned()];
        assert_eq!(on_receipt(&conn, &ids, false, now).unwrap(), [id]);
        assert_eq!(
            outbox::get(&conn, send.id).unwrap().unwrap().state,
            SendState::Delivered
        );
        assert_eq!(on_receipt(&conn, &ids, true, now).unwrap(), [id]);
        // A late "delivered" after "read" changes nothing.
        assert!(on_receipt(&conn, &ids, false, now).unwrap().is_empty());
        assert_eq!(
            outbox::get(&conn, send.id).unwrap().unwrap().state,
            SendState::Read
        );
        on_message(&conn, "4915123456789@s.whatsapp.net", now);
        assert_eq!(
            inbound::last(&conn, "4915123456789@s.whatsapp.net").unwrap(),
            Some(now.as_millisecond())
        );
    }
}
