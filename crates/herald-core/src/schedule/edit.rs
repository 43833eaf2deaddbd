//! Changing schedules after they were made: edit, duplicate, delete, and send one now.
//!
//! Each is one transaction, so a running instance (which watches the outbox) sees all of a
//! change or none of it. Only occurrences that never left this machine are dropped or moved:
//! a send in flight or in doubt keeps its message id and bytes and is still settled.

use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

use super::outbox::{self, MessageIds, SendId, SendState};
use super::planner::{Adjust, Occurrence};
use super::store::{self, Columns, NewSchedule, Schedule, ScheduleId, Status, StoreError};
use super::timing::Repeat;

/// Replaces what a schedule sends, to whom and when. With a new timing, its untried next
/// occurrence is dropped and the new timing's first one after `now` is planned (unless it is
/// paused: then on resume); with the same timing the waiting occurrence stays as it is, with
/// its message id (the runner reads the recipient and the text when it prepares the send). A
/// cancelled schedule cannot be edited; a done one becomes active again. Nothing is written
/// when the new timing has nothing ahead.
pub fn edit(
    conn: &Connection,
    id: ScheduleId,
    new: &NewSchedule,
    skip_if_replied: bool,
    ids: &mut dyn MessageIds,
    now: Timestamp,
) -> Result<Option<Occurrence>, StoreError> {
    let old = store::get(conn, id)?;
    if old.status == Status::Cancelled {
        return Err(StoreError::WrongStatus {
            id,
            status: old.status,
        });
    }
    store::check_text(&new.text)?;
    let retimed = new.timing != old.timing || old.status == Status::Done;
    let first = if retimed {
        Some(store::first_after(&new.timing, now)?)
    } else {
        None
    };
    let paused = old.status == Status::Paused;
    let c = Columns::of(new);
    let tx = conn.unchecked_transaction()?;
    if retimed {
        outbox::drop_untried(&tx, id)?;
    }
    tx.execute(
        "UPDATE schedules SET recipient_kind = ?2, recipient = ?3, text = ?4, zone = ?5, \
         start_local = ?6, repeat = ?7, every = ?8, weekdays = ?9, last_day = ?10, \
         until_date = ?11, max_count = ?12, catch_up = ?13, catch_up_ms = ?14, status = ?15, \
         updated_ms = ?16, edited_ms = ?16, skip_if_replied = ?17 WHERE id = ?1",
        params![
            id,
            new.recipient.kind(),
            new.recipient.value(),
            new.text,
            new.timing.zone_name(),
            c.start,
            c.repeat,
            c.every,
            c.weekdays,
            c.last_day,
            c.until,
            c.count,
            c.catch_up,
            c.catch_up_ms,
            if paused { "paused" } else { "active" },
            now.as_millisecond(),
            skip_if_replied,
        ],
    )?;
    let planned = match first {
        Some(first) if !paused => {
            outbox::insert_occurrence(&tx, id, &first, SendState::Pending, false, ids, now)?;
            Some(first)
        }
        _ => None,
    };
    tx.commit()?;
    Ok(planned)
}

/// What a schedule is, as a new schedule to store again.
pub fn as_new(schedule: &Schedule) -> NewSchedule {
    NewSchedule {
        recipient: schedule.recipient.clone(),
        text: schedule.text.clone(),
        timing: schedule.timing.clone(),
        catch_up: schedule.catch_up,
    }
}

/// A new, active schedule like `id`. A one-shot whose time has passed cannot be copied as it
/// is (`InThePast`): the copy would never send.
pub fn duplicate(
    conn: &Connection,
    id: ScheduleId,
    ids: &mut dyn MessageIds,
    now: Timestamp,
) -> Result<(ScheduleId, Occurrence), StoreError> {
    let original = store::get(conn, id)?;
    store::add_with(conn, &as_new(&original), original.skip_if_replied, ids, now)
}

/// Removes a schedule and its record of sends. Refused while one of its sends is going out
/// (claimed by the runner): that send's fate must be written first.
pub fn delete(conn: &Connection, id: ScheduleId) -> Result<(), StoreError> {
    store::get(conn, id)?;
    let tx = conn.unchecked_transaction()?;
    let sending: Option<i64> = tx
        .query_row(
            "SELECT id FROM sends WHERE schedule_id = ?1 AND state = 'sending' LIMIT 1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    if sending.is_some() {
        return Err(StoreError::SendingNow(id));
    }
    tx.execute("DELETE FROM sends WHERE schedule_id = ?1", params![id])?;
    tx.execute("DELETE FROM schedules WHERE id = ?1", params![id])?;
    tx.commit()?;
    Ok(())
}

/// Sends the schedule's message now, through the same gate as every send. A one-shot's
/// waiting occurrence is moved to now (so it still goes once); otherwise an extra send is
/// added (its place `seq` 0: not one of the rule's occurrences) and the rule goes on as before.
/// Returns the send's row.
pub fn send_now(
    conn: &Connection,
    id: ScheduleId,
    ids: &mut dyn MessageIds,
    now: Timestamp,
) -> Result<SendId, StoreError> {
    let schedule = store::get(conn, id)?;
    if schedule.status == Status::Cancelled {
        return Err(StoreError::WrongStatus {
            id,
            status: schedule.status,
        });
    }
    let now_ms = now.as_millisecond();
    let tx = conn.unchecked_transaction()?;
    if schedule.timing.repeat() == Repeat::Once && schedule.status == Status::Active {
        let waiting: Option<SendId> = tx
            .query_row(
                "SELECT id FROM sends WHERE schedule_id = ?1 AND state = 'pending' \
                 AND stanza IS NULL AND attempts = 0 LIMIT 1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(send) = waiting {
            // Left uncleared: the runner judges it (on time) and then marks the one-shot done.
            tx.execute(
                "UPDATE sends SET due_ms = ?2, next_try_ms = ?2, updated_ms = ?2 WHERE id = ?1",
                params![send, now_ms],
            )?;
            tx.commit()?;
            return Ok(send);
        }
    }
    let offset = schedule.timing.zone().to_offset(now);
    let extra = Occurrence {
        seq: 0,
        local: offset.to_datetime(now),
        at: now,
        offset,
        adjust: Adjust::None,
    };
    // Cleared at once: an extra send is not the rule's, so neither the catch-up judgement nor
    // the planning that follows it applies (and a paused schedule stays paused).
    let send = outbox::insert_occurrence(&tx, id, &extra, SendState::Pending, true, ids, now)?
        .ok_or(StoreError::SendingNow(id))?;
    tx.commit()?;
    Ok(send)
}

#[cfg(test)]
#[path = "edit_tests.rs"]
mod tests;
