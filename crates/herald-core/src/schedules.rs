//! The service's schedule commands, for the desktop app and the HTTP API: list, read,
//! create, edit, pause, resume, duplicate, delete, send now, preview and each schedule's log.
//!
//! Each writes the database in one transaction, wakes the runner and tells the screens. The
//! JSON shapes are in `schedule::view`; what a form sends is `schedule::draft`.

use rusqlite::Connection;

use crate::pump::ServiceEvent;
use crate::schedule::draft::ScheduleDraft;
use crate::schedule::edit;
use crate::schedule::hooks::ScheduleChange;
use crate::schedule::outbox::{self, RandomIds, SendState};
use crate::schedule::planner;
use crate::schedule::recipient::{self, Country};
use crate::schedule::store::{self, ScheduleId, StoreError};
use crate::schedule::view::{OccurrenceView, ScheduleView, SchedulerState, SendView};
use crate::service::{Service, ServiceError};

/// The most occurrences a preview lists.
pub const MAX_PREVIEW: usize = 50;

/// The scheduler as the Schedules screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulerStatus {
    pub state: SchedulerState,
    /// Whether a number is checked on WhatsApp before a schedule is saved (while online;
    /// see `number_check`).
    pub checks_numbers: bool,
    /// Whether the account's groups can be listed to choose from (from the engine, while
    /// online).
    pub lists_groups: bool,
}

impl Service {
    fn ids(&self) -> RandomIds {
        let own_user = self
            .shared()
            .ctx
            .account
            .as_deref()
            .map(|phone| phone.trim_start_matches('+').to_owned())
            .unwrap_or_default();
        RandomIds { own_user }
    }

    fn changed(&self, id: Option<ScheduleId>) {
        self.inner_scheduler().changed();
        self.emit(ServiceEvent::Schedules(ScheduleChange {
            schedule_id: id,
            runner: None,
        }));
    }

    /// Every schedule (cancelled and done ones too), newest first.
    pub fn schedules(&self) -> Result<Vec<ScheduleView>, ServiceError> {
        let conn = self.db();
        let mut all = store::list(&conn)?;
        all.reverse();
        all.iter()
            .map(|s| view(&conn, s))
            .collect::<Result<_, StoreError>>()
            .map_err(Into::into)
    }

    /// One schedule.
    pub fn schedule(&self, id: ScheduleId) -> Result<ScheduleView, ServiceError> {
        let conn = self.db();
        Ok(view(&conn, &store::get(&conn, id)?)?)
    }

    /// Checks and saves a new schedule; nothing is saved when any field is wrong.
    pub fn create_schedule(&self, draft: &ScheduleDraft) -> Result<ScheduleView, ServiceError> {
        let now = self.inner_scheduler().now();
        let checked = draft.check(now)?;
        let id = {
            let conn = self.db();
            store::add_with(
                &conn,
                &checked.schedule,
                checked.skip_if_replied,
                &mut self.ids(),
                now,
            )?
            .0
        };
        self.changed(Some(id));
        self.schedule(id)
    }

    /// Replaces a schedule's recipient, text, timing and conditions.
    pub fn edit_schedule(
        &self,
        id: ScheduleId,
        draft: &ScheduleDraft,
    ) -> Result<ScheduleView, ServiceError> {
        let now = self.inner_scheduler().now();
        let checked = draft.check(now)?;
        edit::edit(
            &self.db(),
            id,
            &checked.schedule,
            checked.skip_if_replied,
            &mut self.ids(),
            now,
        )?;
        self.changed(Some(id));
        self.schedule(id)
    }

    pub fn pause_schedule(&self, id: ScheduleId) -> Result<ScheduleView, ServiceError> {
        let now = self.inner_scheduler().now();
        store::pause(&self.db(), id, now)?;
        self.changed(Some(id));
        self.schedule(id)
    }

    pub fn resume_schedule(&self, id: ScheduleId) -> Result<ScheduleView, ServiceError> {
        let now = self.inner_scheduler().now();
        store::resume(&self.db(), id, &mut self.ids(), now)?;
        self.changed(Some(id));
        self.schedule(id)
    }

    /// A new active schedule like `id`.
    pub fn duplicate_schedule(&self, id: ScheduleId) -> Result<ScheduleView, ServiceError> {
        let now = self.inner_scheduler().now();
        let (copy, _) = edit::duplicate(&self.db(), id, &mut self.ids(), now)?;
        self.changed(Some(copy));
        self.schedule(copy)
    }

    /// Removes a schedule and its log.
    pub fn delete_schedule(&self, id: ScheduleId) -> Result<(), ServiceError> {
        edit::delete(&self.db(), id)?;
        self.changed(Some(id));
        Ok(())
    }

    /// Sends the schedule's message now (through the gate). Refused while nothing can send.
    pub fn send_now(&self, id: ScheduleId) -> Result<SendView, ServiceError> {
        if self.scheduler_status().state != SchedulerState::Running {
            return Err(StoreError::NoSender.into());
        }
        let now = self.inner_scheduler().now();
        let conn = self.db();
        let send = edit::send_now(&conn, id, &mut self.ids(), now)?;
        let schedule = store::get(&conn, id)?;
        let record = outbox::get(&conn, send)?.ok_or(StoreError::NotFound(id))?;
        drop(conn);
        self.changed(Some(id));
        Ok(SendView::of(&schedule.timing, &record))
    }

    /// The next `count` sends of a draft's timing, with DST shifts flagged; saves nothing.
    pub fn preview(
        &self,
        draft: &ScheduleDraft,
        count: usize,
    ) -> Result<Vec<OccurrenceView>, ServiceError> {
        let timing = draft.timing()?;
        let now = self.inner_scheduler().now();
        Ok(planner::preview(&timing, now, count.clamp(1, MAX_PREVIEW))
            .iter()
            .map(|o| OccurrenceView::of(&timing, o))
            .collect())
    }

    /// A schedule's sends, newest first.
    pub fn schedule_sends(
        &self,
        id: ScheduleId,
        limit: usize,
    ) -> Result<Vec<SendView>, ServiceError> {
        let conn = self.db();
        let schedule = store::get(&conn, id)?;
        Ok(outbox::history(&conn, Some(id), limit.clamp(1, 500))?
            .iter()
            .map(|r| SendView::of(&schedule.timing, r))
            .collect())
    }

    pub fn scheduler_status(&self) -> SchedulerStatus {
        SchedulerStatus {
            state: self.shared().scheduler,
            checks_numbers: true,
            lists_groups: true,
        }
    }

    /// The countries a phone number can be typed in, for the country selector.
    pub fn phone_countries(&self) -> Vec<Country> {
        recipient::countries()
    }
}

fn view(conn: &Connection, s: &store::Schedule) -> Result<ScheduleView, StoreError> {
    let next = store::next_send(conn, s.id)?;
    let last = outbox::history(conn, Some(s.id), 8)?
        .into_iter()
        .map(|r| r.state)
        .find(|state| {
            matches!(
                state,
                SendState::Sent
                    | SendState::Delivered
                    | SendState::Read
                    | SendState::Failed
                    | SendState::Missed
                    | SendState::InDoubt
            )
        });
    Ok(ScheduleView::of(s, next.as_ref(), last))
}

/// The soonest send waiting, for the tray.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NextSend {
    pub schedule_id: ScheduleId,
    pub to: String,
    pub at_ms: i64,
}

/// The zones a schedule can be in, and this computer's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeZones {
    /// Every IANA name in the bundled database, sorted.
    pub zones: Vec<String>,
    /// The system's zone, when it has an IANA name.
    pub system: Option<String>,
}

impl Service {
    /// The soonest waiting send of any schedule (the outbox's next-due index, one row).
    pub fn next_send(&self) -> Result<Option<NextSend>, ServiceError> {
        let conn = self.db();
        let row: Option<(i64, i64)> = rusqlite::OptionalExtension::optional(conn.query_row(
            "SELECT schedule_id, next_try_ms FROM sends WHERE state IN ('pending', 'in_doubt') \
             ORDER BY next_try_ms LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ))
        .map_err(StoreError::from)?;
        let Some((schedule_id, at_ms)) = row else {
            return Ok(None);
        };
        let schedule = store::get(&conn, schedule_id)?;
        Ok(Some(NextSend {
            schedule_id,
            to: schedule.recipient.to_string(),
            at_ms,
        }))
    }

    /// The zones of jiff's bundled database (the same on every OS).
    pub fn time_zones(&self) -> TimeZones {
        let mut zones: Vec<String> = jiff::tz::db()
            .available()
            .map(|name| name.to_string())
            // The old aliases ("US/Eastern", "EST5EDT") are kept readable, not offered.
            .filter(|name| (name.contains('/') && !name.starts_with("Etc/")) || name == "UTC")
            .collect();
        zones.sort();
        zones.dedup();
        let system = jiff::tz::TimeZone::try_system()
            .ok()
            .and_then(|z| z.iana_name().map(str::to_owned));
        TimeZones { zones, system }
    }
}

/// One of the account's groups, to pick as a recipient.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    /// `…@g.us`.
    pub jid: String,
    pub subject: String,
    pub members: usize,
}

impl Service {
    /// The account's groups, asked of WhatsApp (needs the link online).
    pub async fn account_groups(&self) -> Result<Vec<GroupView>, ServiceError> {
        let mut groups: Vec<GroupView> = self
            .engine()
            .await
            .groups()
            .await?
            .into_iter()
            .map(|g| GroupView {
                jid: g.jid.to_string(),
                subject: g.subject,
                members: g.participants.len(),
            })
            .collect();
        groups.sort_by_key(|g| g.subject.to_lowercase());
        Ok(groups)
    }
}
