//! Editing a stored schedule: its recipient, text, timing or catch-up policy.
//!
//! The runner reads the recipient and the text when it prepares a send, so changing those
//! touches only the schedule's row. A new timing also replaces the waiting occurrence: the
//! untried one is dropped (its id never left this machine) and the next one after now under
//! the new timing is recorded. A send already in flight or in doubt is left to settle: its
//! bytes may have left. Every change is one transaction; a refused edit changes nothing.
//!
//! The scheduler's store has no edit call in this build, so this one writes the schedule's
//! row itself, with the store's column encoding. When the store gains one, `edit` becomes a
//! call to it with the merged schedule below.

use jiff::Timestamp;
use rusqlite::{params, Connection};

use herald_core::schedule::outbox::{self, MessageIds};
use herald_core::schedule::planner;
use herald_core::schedule::recipient::Recipient;
use herald_core::schedule::store::{self, check_text, Schedule, ScheduleId, Status, StoreError};
use herald_core::schedule::timing::{CatchUp, End, MonthDay, Repeat, Timing};

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
    if !matches!(old.status, Status::Active | Status::Paused) {
        return Err(StoreError::WrongStatus {
            id,
            status: old.status,
        });
    }
    if let Some(text) = &changes.text {
        check_text(text)?;
    }
    let new = Schedule {
        recipient: changes.recipient.clone().unwrap_or(old.recipient.clone()),
        text: changes.text.clone().unwrap_or(old.text.clone()),
        timing: changes.timing.clone().unwrap_or(old.timing.clone()),
        catch_up: changes.catch_up.unwrap_or(old.catch_up),
        ..old.clone()
    };
    let retimed = new.timing != old.timing;
    // Refused before anything is written: a paused schedule must have something left for its
    // resume, an active one right now.
    if retimed && planner::next_after(&new.timing, now).is_none() {
        return Err(match new.timing.repeat() {
            Repeat::Once => StoreError::InThePast {
                local: new.timing.start(),
                zone: new.timing.zone_name().to_owned(),
            },
            _ => StoreError::NothingAhead,
        });
    }
    let tx = conn.unchecked_transaction()?;
    write_row(&tx, &new, now)?;
    if retimed && new.status == Status::Active {
        outbox::drop_untried(&tx, id)?;
        store::plan_next(&tx, &new, now, ids, now)?;
    }
    tx.commit()?;
    store::get(conn, id)
}

fn write_row(conn: &Connection, s: &Schedule, now: Timestamp) -> Result<(), StoreError> {
    // The store's encoding of a repeat (crates/herald-core/src/schedule/store.rs).
    let (repeat, every, weekdays, last_day) = match s.timing.repeat() {
        Repeat::Once => ("once", 1, 0, false),
        Repeat::Days { every } => ("days", every, 0, false),
        Repeat::Weeks { every, on } => ("weeks", every, on.bits(), false),
        Repeat::Months { every, on } => ("months", every, 0, on == MonthDay::LastDay),
        Repeat::Years { every } => ("years", every, 0, false),
    };
    let (until, count) = match s.timing.end() {
        End::Never => (None, None),
        End::Until(d) => (Some(d.to_string()), None),
        End::After(n) => (None, Some(n)),
    };
    let (catch_up, catch_up_ms) = match s.catch_up {
        CatchUp::Default => ("default", None),
        CatchUp::Within(w) => ("within", Some(w.as_millis() as i64)),
        CatchUp::Skip => ("skip", None),
        CatchUp::Always => ("always", None),
    };
    conn.execute(
        "UPDATE schedules SET recipient_kind = ?2, recipient = ?3, text = ?4, zone = ?5, \
         start_local = ?6, repeat = ?7, every = ?8, weekdays = ?9, last_day = ?10, \
         until_date = ?11, max_count = ?12, catch_up = ?13, catch_up_ms = ?14, updated_ms = ?15 \
         WHERE id = ?1",
        params![
            s.id,
            s.recipient.kind(),
            s.recipient.value(),
            s.text,
            s.timing.zone_name(),
            s.timing.start().to_string(),
            repeat,
            every,
            weekdays,
            last_day,
            until,
            count,
            catch_up,
            catch_up_ms,
            now.as_millisecond(),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use herald_core::schedule::outbox::{RandomIds, SendState};
    use herald_core::schedule::store::NewSchedule;

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
