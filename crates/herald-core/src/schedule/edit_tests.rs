//! Editing, duplicating, deleting and sending now: what each writes, and what it must keep.

use jiff::civil::{date, DateTime};
use jiff::Timestamp;
use rusqlite::Connection;

use super::*;
use crate::db;
use crate::schedule::outbox::{self, MessageIds, SendState};
use crate::schedule::recipient::Recipient;
use crate::schedule::store::{self, NewSchedule, Status, StoreError};
use crate::schedule::timing::{CatchUp, End, Repeat, Timing};

struct CountingIds(u32);

impl MessageIds for CountingIds {
    fn next_id(&mut self, _now: Timestamp) -> String {
        self.0 += 1;
        format!("3EB0{:018X}", self.0)
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn new(start: DateTime, repeat: Repeat, text: &str) -> NewSchedule {
    NewSchedule {
        recipient: Recipient::parse("+4915123456789").unwrap(),
        text: text.into(),
        timing: Timing::new("Europe/Berlin", start, repeat, End::Never).unwrap(),
        catch_up: CatchUp::Default,
    }
}

fn states(conn: &Connection, id: i64) -> Vec<(SendState, i64, u32)> {
    let mut all: Vec<_> = outbox::history(conn, Some(id), 100)
        .unwrap()
        .into_iter()
        .map(|s| (s.state, s.due_ms, s.seq))
        .collect();
    all.sort_by_key(|s| s.1);
    all
}

#[test]
fn edit_replaces_the_waiting_occurrence_and_keeps_one_in_flight() {
    let conn = db::open_in_memory().unwrap();
    let mut ids = CountingIds(0);
    let now = ts("2026-03-01T00:00:00Z");
    let daily = new(
        date(2026, 3, 1).at(9, 0, 0, 0),
        Repeat::Days { every: 1 },
        "a",
    );
    let (id, first) = store::add(&conn, &daily, &mut ids, now).unwrap();
    // The first one goes out (claimed, bytes stored) and is in doubt when the user edits.
    let row = outbox::history(&conn, Some(id), 1).unwrap()[0].clone();
    outbox::clear(&conn, row.id, now).unwrap();
    assert!(outbox::claim(&conn, row.id, now).unwrap());
    outbox::store_stanza(&conn, row.id, b"bytes").unwrap();
    outbox::mark_in_doubt(&conn, row.id, now, now).unwrap();
    store::plan_next(
        &conn,
        &store::get(&conn, id).unwrap(),
        first.at,
        &mut ids,
        now,
    )
    .unwrap();

    let later = ts("2026-03-01T09:00:30Z");
    let weekly = new(
        date(2026, 3, 3).at(18, 30, 0, 0),
        Repeat::Weeks {
            every: 1,
            on: crate::schedule::timing::Weekdays::WORKDAYS,
        },
        "b",
    );
    let planned = edit(&conn, id, &weekly, true, &mut ids, later)
        .unwrap()
        .unwrap();
    assert_eq!(planned.at, ts("2026-03-03T17:30:00Z"));
    let stored = store::get(&conn, id).unwrap();
    assert_eq!(stored.text, "b");
    assert_eq!(stored.timing, weekly.timing);
    assert!(stored.skip_if_replied);
    assert_eq!(stored.changed_ms, later.as_millisecond());
    // The in-doubt send keeps its bytes and state; tomorrow's untried one is gone; the new
    // timing's first is waiting.
    assert_eq!(
        states(&conn, id),
        vec![
            (SendState::InDoubt, first.at.as_millisecond(), 1),
            (SendState::Pending, planned.at.as_millisecond(), 1),
        ]
    );
}

#[test]
fn bad_edits_change_nothing() {
    let conn = db::open_in_memory().unwrap();
    let mut ids = CountingIds(0);
    let now = ts("2026-03-01T00:00:00Z");
    let once = new(date(2026, 3, 2).at(9, 0, 0, 0), Repeat::Once, "a");
    let (id, _) = store::add(&conn, &once, &mut ids, now).unwrap();
    let before = (store::get(&conn, id).unwrap(), states(&conn, id));
    let past = new(date(2026, 2, 2).at(9, 0, 0, 0), Repeat::Once, "b");
    assert!(matches!(
        edit(&conn, id, &past, false, &mut ids, now),
        Err(StoreError::InThePast { .. })
    ));
    let empty = new(date(2026, 3, 3).at(9, 0, 0, 0), Repeat::Once, "  ");
    assert!(matches!(
        edit(&conn, id, &empty, false, &mut ids, now),
        Err(StoreError::EmptyText)
    ));
    assert_eq!((store::get(&conn, id).unwrap(), states(&conn, id)), before);
    store::cancel(&conn, id, now).unwrap();
    assert!(matches!(
        edit(&conn, id, &once, false, &mut ids, now),
        Err(StoreError::WrongStatus {
            status: Status::Cancelled,
            ..
        })
    ));
}

#[test]
fn a_paused_schedule_stays_paused_when_edited() {
    let conn = db::open_in_memory().unwrap();
    let mut ids = CountingIds(0);
    let now = ts("2026-03-01T00:00:00Z");
    let daily = new(
        date(2026, 3, 1).at(9, 0, 0, 0),
        Repeat::Days { every: 1 },
        "a",
    );
    let (id, _) = store::add(&conn, &daily, &mut ids, now).unwrap();
    store::pause(&conn, id, now).unwrap();
    let other = new(
        date(2026, 3, 1).at(10, 0, 0, 0),
        Repeat::Days { every: 2 },
        "b",
    );
    assert_eq!(edit(&conn, id, &other, false, &mut ids, now).unwrap(), None);
    assert_eq!(store::get(&conn, id).unwrap().status, Status::Paused);
    assert!(states(&conn, id).is_empty());
    let next = store::resume(&conn, id, &mut ids, now).unwrap().unwrap();
    assert_eq!(next.at, ts("2026-03-01T09:00:00Z"));
}

#[test]
fn duplicate_copies_and_refuses_a_past_one_shot() {
    let conn = db::open_in_memory().unwrap();
    let mut ids = CountingIds(0);
    let now = ts("2026-03-01T00:00:00Z");
    let once = new(date(2026, 3, 2).at(9, 0, 0, 0), Repeat::Once, "a");
    let (id, _) = store::add_with(&conn, &once, true, &mut ids, now).unwrap();
    let (copy, first) = duplicate(&conn, id, &mut ids, now).unwrap();
    assert_ne!(copy, id);
    let (a, b) = (
        store::get(&conn, id).unwrap(),
        store::get(&conn, copy).unwrap(),
    );
    assert_eq!(
        (b.text, b.timing, b.skip_if_replied),
        (a.text, a.timing, true)
    );
    assert_eq!(first.at, ts("2026-03-02T08:00:00Z"));
    // The copy has its own message id.
    let ids_of = |s| {
        outbox::history(&conn, Some(s), 1).unwrap()[0]
            .message_id
            .clone()
    };
    assert_ne!(ids_of(id), ids_of(copy));
    let after = ts("2026-03-03T00:00:00Z");
    assert!(matches!(
        duplicate(&conn, id, &mut ids, after),
        Err(StoreError::InThePast { .. })
    ));
}

#[test]
fn delete_removes_everything_but_not_while_sending() {
    let conn = db::open_in_memory().unwrap();
    let mut ids = CountingIds(0);
    let now = ts("2026-03-01T00:00:00Z");
    let daily = new(
        date(2026, 3, 1).at(9, 0, 0, 0),
        Repeat::Days { every: 1 },
        "a",
    );
    let (id, _) = store::add(&conn, &daily, &mut ids, now).unwrap();
    let row = outbox::history(&conn, Some(id), 1).unwrap()[0].clone();
    outbox::clear(&conn, row.id, now).unwrap();
    assert!(outbox::claim(&conn, row.id, now).unwrap());
    assert!(matches!(delete(&conn, id), Err(StoreError::SendingNow(_))));
    outbox::mark_sent(&conn, row.id, now).unwrap();
    delete(&conn, id).unwrap();
    assert!(matches!(
        store::get(&conn, id),
        Err(StoreError::NotFound(_))
    ));
    assert!(states(&conn, id).is_empty());
    assert!(matches!(delete(&conn, id), Err(StoreError::NotFound(_))));
}

#[test]
fn send_now_moves_a_one_shot_and_adds_to_a_recurring_one() {
    let conn = db::open_in_memory().unwrap();
    let mut ids = CountingIds(0);
    let now = ts("2026-03-01T00:00:00Z");
    let once = new(date(2026, 3, 2).at(9, 0, 0, 0), Repeat::Once, "a");
    let (one, _) = store::add(&conn, &once, &mut ids, now).unwrap();
    let moved = send_now(&conn, one, &mut ids, now).unwrap();
    // Still one send: the waiting one, now due, not yet judged (so the one-shot ends done).
    let rows = outbox::history(&conn, Some(one), 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, moved);
    assert_eq!(rows[0].due_ms, now.as_millisecond());
    assert!(!rows[0].cleared);

    let daily = new(
        date(2026, 3, 1).at(9, 0, 0, 0),
        Repeat::Days { every: 1 },
        "b",
    );
    let (rec, first) = store::add(&conn, &daily, &mut ids, now).unwrap();
    let extra = send_now(&conn, rec, &mut ids, now).unwrap();
    let got = outbox::get(&conn, extra).unwrap().unwrap();
    assert_eq!(
        (got.seq, got.cleared, got.state),
        (0, true, SendState::Pending)
    );
    assert_eq!(
        states(&conn, rec),
        vec![
            (SendState::Pending, now.as_millisecond(), 0),
            (SendState::Pending, first.at.as_millisecond(), 1),
        ]
    );
    store::cancel(&conn, rec, now).unwrap();
    assert!(matches!(
        send_now(&conn, rec, &mut ids, now),
        Err(StoreError::WrongStatus { .. })
    ));
}

#[test]
fn a_text_edit_keeps_the_waiting_occurrence_and_its_message_id() {
    let conn = db::open_in_memory().unwrap();
    let mut ids = CountingIds(0);
    let now = ts("2026-03-01T00:00:00Z");
    let daily = new(
        date(2026, 3, 1).at(9, 0, 0, 0),
        Repeat::Days { every: 1 },
        "a",
    );
    let (id, _) = store::add(&conn, &daily, &mut ids, now).unwrap();
    let waiting = outbox::history(&conn, Some(id), 1).unwrap()[0].clone();

    let reworded = new(
        date(2026, 3, 1).at(9, 0, 0, 0),
        Repeat::Days { every: 1 },
        "b",
    );
    assert_eq!(
        edit(&conn, id, &reworded, false, &mut ids, now).unwrap(),
        None
    );
    let after = outbox::history(&conn, Some(id), 10).unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].id, waiting.id);
    assert_eq!(after[0].message_id, waiting.message_id);
    assert_eq!(store::get(&conn, id).unwrap().text, "b");
}
