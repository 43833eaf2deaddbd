//! The schedules and outbox tables: what `add`, `pause`, `resume` and `cancel` write, the
//! state rules of a send, and that the next-due lookup goes through its index.

use jiff::civil::{date, DateTime};
use jiff::Timestamp;
use rusqlite::Connection;

use super::outbox::{self, MessageIds, SendState};
use super::recipient::Recipient;
use super::store::{self, NewSchedule, Status, StoreError};
use super::timing::{CatchUp, End, Repeat, Timing};
use crate::db;

/// Ids that count up, so tests can tell them apart.
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

fn new(start: DateTime, repeat: Repeat) -> NewSchedule {
    NewSchedule {
        recipient: Recipient::parse("+4915123456789").unwrap(),
        text: "hello".into(),
        timing: Timing::new("Europe/Berlin", start, repeat, End::Never).unwrap(),
        catch_up: CatchUp::Default,
    }
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn add_records_the_schedule_and_its_first_occurrence_with_an_id() {
    let conn = db::open_in_memory().unwrap();
    let mut ids = CountingIds(0);
    let now = ts("2026-03-01T00:00:00Z");
    let daily = new(date(2026, 2, 1).at(9, 0, 0, 0), Repeat::Days { every: 1 });
    let (id, first) = store::add(&conn, &daily, &mut ids, now).unwrap();
    // A recurring schedule that started in the past begins at its next occurrence.
    assert_eq!(first.at, ts("2026-03-01T08:00:00Z"));
    assert_eq!(first.seq, 29);
    let stored = store::get(&conn, id).unwrap();
    assert_eq!(stored.timing, daily.timing);
    assert_eq!(stored.recipient, daily.recipient);
    assert_eq!(stored.status, Status::Active);
    let sends = outbox::history(&conn, Some(id), 10).unwrap();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].message_id, "3EB0000000000000000001");
    assert_eq!(sends[0].state, SendState::Pending);
    assert_eq!(sends[0].local, "2026-03-01T09:00:00");
}

#[test]
fn a_one_shot_in_the_past_or_an_empty_text_writes_nothing() {
    let conn = db::open_in_memory().unwrap();
    let mut ids = CountingIds(0);
    let now = ts("2026-03-01T00:00:00Z");
    let past = new(date(2026, 2, 1).at(9, 0, 0, 0), Repeat::Once);
    assert!(matches!(
        store::add(&conn, &past, &mut ids, now),
        Err(StoreError::InThePast { .. })
    ));
    let mut empty = new(date(2026, 4, 1).at(9, 0, 0, 0), Repeat::Once);
    empty.text = " \n".into();
    assert!(matches!(
        store::add(&conn, &empty, &mut ids, now),
        Err(StoreError::EmptyText)
    ));
    empty.text = "x".repeat(store::MAX_TEXT_CHARS + 1);
    assert!(matches!(
        store::add(&conn, &empty, &mut ids, now),
        Err(StoreError::TextTooLong(_))
    ));
    assert_eq!(count(&conn, "schedules"), 0);
    assert_eq!(count(&conn, "sends"), 0);
}

#[test]
fn pause_resume_cancel() {
    let conn = db::open_in_memory().unwrap();
    let mut ids = CountingIds(0);
    let now = ts("2026-03-01T00:00:00Z");
    let daily = new(date(2026, 3, 1).at(9, 0, 0, 0), Repeat::Days { every: 1 });
    let (id, _) = store::add(&conn, &daily, &mut ids, now).unwrap();
    store::pause(&conn, id, now).unwrap();
    assert_eq!(
        count(&conn, "sends"),
        0,
        "the untried occurrence is dropped"
    );
    assert!(matches!(
        store::pause(&conn, id, now),
        Err(StoreError::WrongStatus { .. })
    ));
    // Resumed three days later: from the next occurrence, not the paused ones.
    let later = ts("2026-03-04T10:00:00Z");
    let next = store::resume(&conn, id, &mut ids, later).unwrap().unwrap();
    assert_eq!(next.at, ts("2026-03-05T08:00:00Z"));
    store::cancel(&conn, id, later).unwrap();
    let sends = outbox::history(&conn, Some(id), 10).unwrap();
    assert_eq!(sends[0].state, SendState::Cancelled);
    assert_eq!(store::get(&conn, id).unwrap().status, Status::Cancelled);
    assert!(matches!(
        store::get(&conn, 99),
        Err(StoreError::NotFound(99))
    ));
}

#[test]
fn a_stanza_is_stored_once_and_states_only_move_forward() {
    let conn = db::open_in_memory().unwrap();
    let mut ids = CountingIds(0);
    let now = ts("2026-03-01T00:00:00Z");
    let once = new(date(2026, 3, 1).at(9, 0, 0, 0), Repeat::Once);
    let (id, _) = store::add(&conn, &once, &mut ids, now).unwrap();
    let send = outbox::history(&conn, Some(id), 1).unwrap().remove(0);
    assert!(
        !outbox::store_stanza(&conn, send.id, b"x").unwrap(),
        "not while pending"
    );
    assert!(outbox::claim(&conn, send.id, now).unwrap());
    assert!(!outbox::claim(&conn, send.id, now).unwrap(), "claimed once");
    assert!(outbox::store_stanza(&conn, send.id, b"first").unwrap());
    assert!(
        !outbox::store_stanza(&conn, send.id, b"second").unwrap(),
        "one ciphertext"
    );
    // A crash here: the restart finds it in doubt, with the first bytes.
    assert_eq!(outbox::recover(&conn, now).unwrap(), 1);
    let row = outbox::get(&conn, send.id).unwrap().unwrap();
    assert_eq!(row.state, SendState::InDoubt);
    assert_eq!(row.stanza.as_deref(), Some(&b"first"[..]));
    // A delivery receipt settles it.
    assert!(outbox::on_receipt(&conn, &row.message_id, false, now).unwrap());
    let row = outbox::get(&conn, send.id).unwrap().unwrap();
    assert_eq!(row.state, SendState::Delivered);
    assert!(row.sent_ms.is_some());
    assert!(!outbox::mark_missed(&conn, send.id, now).unwrap());
    assert!(
        !outbox::claim(&conn, send.id, now).unwrap(),
        "never sent again"
    );
}

#[test]
fn the_next_due_lookup_uses_its_index() {
    let conn = db::open_in_memory().unwrap();
    let plan: Vec<String> = conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT next_try_ms FROM sends \
             WHERE state IN ('pending', 'in_doubt') ORDER BY next_try_ms LIMIT 1",
        )
        .unwrap()
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // Walks the partial index in order and stops at the first row: no table scan, no sort.
    assert_eq!(plan, ["SCAN sends USING INDEX sends_next_try"]);
}
