//! Editing a stored schedule over HTTP: a PATCH names only what changes, so the stored
//! values fill the rest and the scheduler's own edit call (`herald_core::schedule::edit`)
//! writes it, in one transaction, with the store's encoding. A refused edit changes nothing.

use jiff::Timestamp;
use rusqlite::Connection;

use herald_core::schedule::edit as core_edit;
use herald_core::schedule::outbox::MessageIds;
use herald_core::schedule::recipient::Recipient;
use herald_core::schedule::store::{self, NewSchedule, Schedule, ScheduleId, Status, StoreError};
use herald_core::schedule::timing::{CatchUp, Timing};

/// What to change; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub recipient: Option<Recipient>,
    pub text: Option<String>,
    pub timing: Option<Timing>,
    pub catch_up: Option<CatchUp>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self == &Changes::default()
    }
}

/// Applies `changes` to an active or paused schedule and returns it as stored now.
pub fn edit(
    conn: &Connection,
    id: ScheduleId,
    changes: &Changes,
    ids: &mut dyn MessageIds,
    now: Timestamp,
) -> Result<Schedule, StoreError> {
    let old = store::get(conn, id)?;
    // The API edits what is still to come; a done or cancelled schedule is only read.
    if !matches!(old.status, Status::Active | Status::Paused) {
        return Err(StoreError::WrongStatus {
            id,
            status: old.status,
        });
    }
    let new = NewSchedule {
        recipient: changes.recipient.clone().unwrap_or(old.recipient),
        text: changes.text.clone().unwrap_or(old.text),
        timing: changes.timing.clone().unwrap_or(old.timing),
        catch_up: changes.catch_up.unwrap_or(old.catch_up),
    };
    core_edit::edit(conn, id, &new, old.skip_if_replied, ids, now)?;
    store::get(conn, id)
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use herald_core::schedule::outbox::{self, RandomIds, SendState};
    use herald_core::schedule::store::NewSchedule;
    use herald_core::schedule::timing::{End, Repeat};

    fn at(h: i8) -> Timestamp {
        date(2030, 1, 10)
            .at(h, 0, 0, 0)
            .in_tz("UTC")
            .unwrap()
            .timestamp()
    }

    fn once(day: i8, hour: i8) -> Timing {
        Timing::new(
            "UTC",
            date(2030, 1, day).at(hour, 0, 0, 0),
            Repeat::Once,
            End::Never,
        )
        .unwrap()
    }

    fn setup() -> (Connection, ScheduleId, RandomIds) {
        let conn = herald_core::db::open_in_memory().unwrap();
        let mut ids = RandomIds {
            own_user: String::new(),
        };
        let new = NewSchedule {
            recipient: Recipient::parse("+4915123456789").unwrap(),
            text: "first".into(),
            timing: once(11, 9),
            catch_up: CatchUp::Default,
        };
        let (id, _) = store::add(&conn, &new, &mut ids, at(8)).unwrap();
        (conn, id, ids)
    }

    fn open_sends(conn: &Connection, id: ScheduleId) -> Vec<(i64, SendState)> {
        outbox::history(conn, Some(id), 10)
            .unwrap()
            .into_iter()
            .map(|s| (s.due_ms, s.state))
            .collect()
    }

    #[test]
    fn text_and_recipient_change_the_row_and_keep_the_waiting_send() {
        let (conn, id, mut ids) = setup();
        let before = open_sends(&conn, id);
        let changes = Changes {
            text: Some("second".into()),
            recipient: Some(Recipient::parse("+447911123456").unwrap()),
            ..Changes::default()
        };
        let s = edit(&conn, id, &changes, &mut ids, at(8)).unwrap();
        assert_eq!(s.text, "second");
        assert_eq!(s.recipient.value(), "+447911123456");
        assert_eq!(
            open_sends(&conn, id),
            before,
            "the same occurrence, the same id"
        );
    }

    #[test]
    fn a_new_timing_replaces_the_waiting_occurrence() {
        let (conn, id, mut ids) = setup();
        let changes = Changes {
            timing: Some(once(12, 10)),
            ..Changes::default()
        };
        edit(&conn, id, &changes, &mut ids, at(8)).unwrap();
        let sends = open_sends(&conn, id);
        assert_eq!(sends.len(), 1);
        let want = date(2030, 1, 12)
            .at(10, 0, 0, 0)
            .in_tz("UTC")
            .unwrap()
            .timestamp();
        assert_eq!(sends[0], (want.as_millisecond(), SendState::Pending));
    }

    #[test]
    fn refused_edits_change_nothing() {
        let (conn, id, mut ids) = setup();
        let before = (store::get(&conn, id).unwrap(), open_sends(&conn, id));
        let cases = [
            Changes {
                timing: Some(once(9, 9)),
                ..Changes::default()
            },
            Changes {
                text: Some("  ".into()),
                timing: Some(once(12, 10)),
                ..Changes::default()
            },
        ];
        for changes in cases {
            assert!(
                edit(&conn, id, &changes, &mut ids, at(8)).is_err(),
                "{changes:?}"
            );
            assert_eq!(
                (store::get(&conn, id).unwrap(), open_sends(&conn, id)),
                before
            );
        }
        assert!(matches!(
            edit(&conn, 999, &Changes::default(), &mut ids, at(8)),
            Err(StoreError::NotFound(999))
        ));
        store::cancel(&conn, id, at(8)).unwrap();
        assert!(matches!(
            edit(&conn, id, &Changes::default(), &mut ids, at(8)),
            Err(StoreError::WrongStatus { .. })
        ));
    }

    #[test]
    fn a_paused_schedule_is_retimed_without_planning() {
        let (conn, id, mut ids) = setup();
        store::pause(&conn, id, at(8)).unwrap();
        let changes = Changes {
            timing: Some(once(12, 10)),
            ..Changes::default()
        };
        edit(&conn, id, &changes, &mut ids, at(8)).unwrap();
        assert!(open_sends(&conn, id).is_empty(), "resume plans it");
        store::resume(&conn, id, &mut ids, at(8)).unwrap();
        assert_eq!(open_sends(&conn, id).len(), 1);
    }
}
