//! The runner: one task that sends what is due, once.
//!
//! It sleeps until the next due send (the outbox's index, not a scan), a change, or a link
//! change — but never longer than `max_sleep`, because on Linux the monotonic clock stops
//! while the machine is suspended: each wake reads the wall clock again, so a suspend or a
//! clock jump is noticed within one wake, and whatever came due meanwhile is judged by the
//! catch-up policy. Sends go only while online; logged out or replaced, it holds everything
//! (the outbox is kept) until the link is back. Nothing per schedule is kept in memory.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;
use serde::Serialize;
use tokio::sync::{broadcast, watch, Notify};
use tokio::time::{sleep_until, Instant};

use super::catch_up::{self, Fate};
use super::clock::Clock;
use super::gate::{Gate, GateConfig};
use super::gate_log;
use super::inbound;
use super::outbox::{self, MessageIds, SendRecord, SendState};
use super::sender::{Outcome, Outgoing, Sender};
use super::store::{self, Status, StoreError};

/// The link as the runner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Not connected (yet, or between reconnects): due sends wait.
    Offline,
    Online,
    /// The phone unlinked this device: hold everything until it is linked again.
    LoggedOut,
    /// Another client took the session: hold everything.
    Replaced,
}

/// The runner's knobs.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    pub gate: GateConfig,
    /// The longest single sleep, so a suspend or clock change is seen within this.
    pub max_sleep: Duration,
    /// How often the database is checked for another process's writes.
    pub poll_changes: Duration,
    /// When an in-doubt send is retried (the same bytes).
    pub in_doubt_retry: Duration,
    /// When a send refused as retryable is tried again.
    pub retry_after: Duration,
    /// Refusals after which a retryable send is marked failed.
    pub max_attempts: u32,
    /// A wall-clock step larger than this against the monotonic clock is logged as a jump.
    pub jump_threshold: Duration,
}

impl Default for RunnerConfig {
    fn default() -> RunnerConfig {
        RunnerConfig {
            gate: GateConfig::default(),
            max_sleep: Duration::from_secs(30),
            poll_changes: Duration::from_millis(500),
            in_doubt_retry: Duration::from_secs(30),
            retry_after: Duration::from_secs(60),
            max_attempts: 5,
            jump_threshold: Duration::from_secs(5),
        }
    }
}

/// What the runner did to a send, for screens and notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RunnerEvent {
    /// A send changed state (sent, failed, in doubt, skipped, retried later).
    #[serde(rename_all = "camelCase")]
    Send {
        schedule_id: i64,
        send_id: i64,
        state: SendState,
        error_code: Option<String>,
        advice: Option<String>,
    },
    /// Occurrences of a schedule were too late for its catch-up window.
    #[serde(rename_all = "camelCase")]
    Missed { schedule_id: i64, count: usize },
}

/// Wakes a runner after a change made through its own process (the UI, the HTTP API).
#[derive(Debug, Clone, Default)]
pub struct RunnerHandle {
    notify: Arc<Notify>,
}

impl RunnerHandle {
    pub fn changed(&self) {
        self.notify.notify_one();
    }
}

/// The scheduler's send loop. Build it with [`Runner::new`], then `run` it on a task.
pub struct Runner<S, C> {
    conn: Connection,
    sender: S,
    clock: C,
    link: watch::Receiver<Link>,
    notify: Arc<Notify>,
    ids: Box<dyn MessageIds + Send>,
    gate: Gate,
    config: RunnerConfig,
    data_version: i64,
    events: Option<broadcast::Sender<RunnerEvent>>,
}

/// Why the runner stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("scheduler store: {0}")]
    Store(#[from] StoreError),
    #[error("scheduler database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl<S: Sender, C: Clock> Runner<S, C> {
    /// A runner on its own connection to the app database. Sends caught mid-send by a crash
    /// become `in_doubt` here, before anything else runs.
    pub fn new(
        conn: Connection,
        sender: S,
        clock: C,
        link: watch::Receiver<Link>,
        ids: Box<dyn MessageIds + Send>,
        config: RunnerConfig,
    ) -> Result<(Runner<S, C>, RunnerHandle), RunnerError> {
        let recovered = outbox::recover(&conn, clock.now())?;
        if recovered > 0 {
            tracing::warn!(
                sends = recovered,
                "sends caught mid-send are in doubt; resending their stored bytes"
            );
        }
        let data_version = data_version(&conn)?;
        let handle = RunnerHandle::default();
        let mut gate = Gate::new(config.gate.clone());
        remember_gate(&conn, &mut gate, clock.now())?;
        let runner = Runner {
            conn,
            sender,
            clock,
            link,
            notify: handle.notify.clone(),
            ids,
            gate,
            config,
            data_version,
            events: None,
        };
        Ok((runner, handle))
    }

    /// Reports every change it makes to a send on `events`.
    pub fn with_events(mut self, events: broadcast::Sender<RunnerEvent>) -> Runner<S, C> {
        self.events = Some(events);
        self
    }

    fn emit(&self, event: RunnerEvent) {
        if let Some(events) = &self.events {
            // Nobody listening is fine: the outbox is the record.
            let _ = events.send(event);
        }
    }

    /// Reports a send's state as stored now.
    fn emit_send(&self, send_id: i64) -> Result<(), RunnerError> {
        if self.events.is_none() {
            return Ok(());
        }
        if let Some(s) = outbox::get(&self.conn, send_id)? {
            self.emit(RunnerEvent::Send {
                schedule_id: s.schedule_id,
                send_id: s.id,
                state: s.state,
                error_code: s.error_code,
                advice: s.advice,
            });
        }
        Ok(())
    }

    /// Runs until the link's sender is dropped.
    pub async fn run(mut self) {
        let mut last = (self.clock.now(), Instant::now());
        loop {
            let (now, mono) = (self.clock.now(), Instant::now());
            self.notice_jump(last, (now, mono));
            last = (now, mono);
            let link = *self.link.borrow();
            let wake = match self.step(link, now, mono).await {
                Ok(wake) => wake,
                Err(e) => {
                    // A busy or failing disk: keep the outbox as it is and look again later.
                    tracing::error!(error = %e, "scheduler step failed");
                    Some(mono + self.config.max_sleep)
                }
            };
            let Some(wake) = wake else { continue };
            if !self.sleep(wake).await {
                return;
            }
        }
    }

    /// One pass: judge what came due, send one if the gate allows. Returns when to wake, or
    /// `None` to run again at once.
    async fn step(
        &mut self,
        link: Link,
        now: Timestamp,
        mono: Instant,
    ) -> Result<Option<Instant>, RunnerError> {
        let mut wake = mono + self.config.max_sleep;
        if link != Link::Online {
            return Ok(Some(wake));
        }
        self.judge_due(now)?;
        let ready = outbox::ready(&self.conn, now, 32)?;
        let mut first_open: Option<Instant> = None;
        for send in ready {
            let schedule = match store::get(&self.conn, send.schedule_id) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(send = send.id, error = %e, "send's schedule is unreadable");
                    outbox::mark_failed(
                        &self.conn,
                        send.id,
                        "schedule-unreadable",
                        "The schedule could not be read; recreate it.",
                        now,
                    )?;
                    continue;
                }
            };
            let chat = schedule.recipient.chat_jid();
            let open = self.gate.ready_at(&chat, mono);
            if open <= mono {
                self.send_one(&send, &schedule, &chat, now, mono).await?;
                return Ok(None);
            }
            first_open = Some(first_open.map_or(open, |f: Instant| f.min(open)));
        }
        if let Some(open) = first_open {
            wake = wake.min(open);
        }
        // Rows already due are the ready ones above, held by the gate; only a later one sets
        // the alarm (else the loop would spin on a gated row).
        if let Some(next) = outbox::next_try(&self.conn)? {
            if next > now {
                let until = Duration::try_from(next.duration_since(now)).unwrap_or_default();
                wake = wake.min(mono + until);
            }
        }
        Ok(Some(wake))
    }

    /// Applies the catch-up policy to every due send not judged yet, and plans each one's
    /// schedule forward.
    fn judge_due(&mut self, now: Timestamp) -> Result<(), RunnerError> {
        loop {
            let due = outbox::due_unjudged(&self.conn, now, 64)?;
            if due.is_empty() {
                return Ok(());
            }
            for send in due {
                self.judge_one(&send, now)?;
            }
        }
    }

    fn judge_one(&mut self, send: &SendRecord, now: Timestamp) -> Result<(), RunnerError> {
        let tx = self.conn.unchecked_transaction()?;
        let schedule = match store::get(&tx, send.schedule_id) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(send = send.id, error = %e, "send's schedule is unreadable");
                outbox::mark_failed(
                    &tx,
                    send.id,
                    "schedule-unreadable",
                    "The schedule could not be read; recreate it.",
                    now,
                )?;
                tx.commit()?;
                return Ok(());
            }
        };
        if schedule.status != Status::Active {
            // Paused or cancelled by another process between our reads.
            outbox::cancel_unsent(&tx, schedule.id, now)?;
            tx.commit()?;
            return Ok(());
        }
        let due = outbox::ms_to_ts(send.due_ms)?;
        let judgement = catch_up::judge(&schedule.timing, schedule.catch_up, due, now);
        let lateness = catch_up::lateness(due, now);
        match judgement.stored {
            Fate::Send => outbox::clear(&tx, send.id, now)?,
            Fate::Missed => {
                outbox::mark_missed(&tx, send.id, now)?;
            }
        }
        let mut missed = usize::from(judgement.stored == Fate::Missed);
        for (occurrence, fate) in &judgement.later {
            let (state, cleared) = match fate {
                Fate::Send => (SendState::Pending, true),
                Fate::Missed => (SendState::Missed, false),
            };
            missed += usize::from(*fate == Fate::Missed);
            outbox::insert_occurrence(
                &tx,
                schedule.id,
                occurrence,
                state,
                cleared,
                self.ids.as_mut(),
                now,
            )?;
        }
        store::plan_next(&tx, &schedule, now, self.ids.as_mut(), now)?;
        tx.commit()?;
        if missed > 0 {
            self.emit(RunnerEvent::Missed {
                schedule_id: schedule.id,
                count: missed,
            });
        }
        if missed > 0 || lateness > SignedDuration::from_mins(1) {
            tracing::info!(
                schedule = schedule.id,
                missed,
                late_s = lateness.as_secs(),
                caught_up = judgement.later.iter().any(|(_, f)| *f == Fate::Send)
                    || judgement.stored == Fate::Send,
                "late occurrences judged"
            );
        }
        Ok(())
    }

    /// Sends one cleared row: claim it, prepare (or reuse) its bytes, commit them, transmit.
    async fn send_one(
        &mut self,
        send: &SendRecord,
        schedule: &store::Schedule,
        chat: &str,
        now: Timestamp,
        mono: Instant,
    ) -> Result<(), RunnerError> {
        let others = if may_skip(send, schedule) {
            // Only the sender is borrowed across the wait: the runner itself is not `Sync`.
            self.sender.other_chats(&schedule.recipient).await
        } else {
            Vec::new()
        };
        if self.replied_since(send, schedule, chat, &others)? {
            outbox::mark_skipped(&self.conn, send.id, now)?;
            tracing::info!(schedule = schedule.id, "skipped: the recipient wrote since");
            return self.emit_send(send.id);
        }
        if !outbox::claim(&self.conn, send.id, now)? {
            return Ok(());
        }
        self.gate.record(chat, mono);
        gate_log::record(&self.conn, chat, now)?;
        let stanza = match &send.stanza {
            // Once bytes exist, only those bytes are ever sent (same id, same ciphertext).
            Some(bytes) => bytes.clone(),
            // No bytes yet, even in doubt: the crash came before they were committed, so they
            // never left and encrypting now is the first time anything goes out.
            None => {
                let message = Outgoing {
                    message_id: &send.message_id,
                    to: &schedule.recipient,
                    text: &schedule.text,
                };
                match self.sender.prepare(message).await {
                    Ok(bytes) => {
                        outbox::store_stanza(&self.conn, send.id, &bytes)?;
                        bytes
                    }
                    Err(rejection) => {
                        let now = self.clock.now();
                        self.refused(send, &rejection, now)?;
                        return self.emit_send(send.id);
                    }
                }
            }
        };
        let outcome = self.sender.transmit(&send.message_id, &stanza).await;
        let now = self.clock.now();
        match outcome {
            Outcome::Acked { at } => {
                outbox::mark_sent(&self.conn, send.id, at)?;
                tracing::info!(
                    schedule = schedule.id,
                    message_id = %send.message_id,
                    late_ms = catch_up::lateness(outbox::ms_to_ts(send.due_ms)?, at).as_millis(),
                    "scheduled message sent"
                );
            }
            Outcome::InDoubt => {
                let retry = add(now, self.config.in_doubt_retry);
                outbox::mark_in_doubt(&self.conn, send.id, retry, now)?;
                tracing::warn!(message_id = %send.message_id, "no ack; the same bytes go again");
            }
            Outcome::Rejected(rejection) => self.refused(send, &rejection, now)?,
            Outcome::RateLimited { code, retry_after } => {
                self.gate.pause_until(Instant::now() + retry_after);
                outbox::retry_later(&self.conn, send.id, add(now, retry_after), &code, now)?;
                tracing::warn!(%code, delay_ms = retry_after.as_millis() as u64, "rate limited; gate paused");
            }
        }
        self.emit_send(send.id)
    }

    /// Whether the schedule skips this send because its chat wrote since. Only a send that
    /// never went anywhere can be skipped; one with bytes may already be on their phone.
    /// A reply from the recipient's LID chat counts for a phone-number schedule and the
    /// reverse: `others` are its chats in the other namespace, from the engine's LID ↔
    /// phone-number pairs.
    fn replied_since(
        &self,
        send: &SendRecord,
        schedule: &store::Schedule,
        chat: &str,
        others: &[String],
    ) -> Result<bool, RunnerError> {
        if !may_skip(send, schedule) {
            return Ok(false);
        }
        let chats = inbound::same_person(chat, others);
        Ok(inbound::skips(
            true,
            inbound::last_of(&self.conn, &chats)?,
            schedule.changed_ms,
            inbound::last_sent(&self.conn, schedule.id)?,
        ))
    }

    fn refused(
        &mut self,
        send: &SendRecord,
        rejection: &super::sender::Rejection,
        now: Timestamp,
    ) -> Result<(), RunnerError> {
        if rejection.retryable && send.attempts + 1 < self.config.max_attempts {
            let retry = add(now, self.config.retry_after);
            outbox::retry_later(&self.conn, send.id, retry, &rejection.code, now)?;
        } else {
            outbox::mark_failed(&self.conn, send.id, &rejection.code, &rejection.advice, now)?;
            tracing::warn!(code = %rejection.code, message_id = %send.message_id, "scheduled send failed");
        }
        Ok(())
    }

    /// Sleeps until `wake`, a nudge, a link change or another process's write. False when
    /// the link's sender is gone (shut down).
    async fn sleep(&mut self, wake: Instant) -> bool {
        loop {
            let poll = Instant::now() + self.config.poll_changes;
            tokio::select! {
                () = sleep_until(wake.min(poll)) => {
                    if Instant::now() >= wake {
                        return true;
                    }
                    match data_version(&self.conn) {
                        Ok(v) if v != self.data_version => {
                            self.data_version = v;
                            return true;
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "cannot poll the database"),
                    }
                }
                () = self.notify.notified() => return true,
                changed = self.link.changed() => return changed.is_ok(),
            }
        }
    }

    fn notice_jump(
        &self,
        (wall0, mono0): (Timestamp, Instant),
        (wall1, mono1): (Timestamp, Instant),
    ) {
        let wall = wall1.duration_since(wall0);
        let mono = SignedDuration::try_from(mono1 - mono0).unwrap_or(SignedDuration::MAX);
        let step = (wall - mono).abs();
        if step
            > SignedDuration::try_from(self.config.jump_threshold).unwrap_or(SignedDuration::MAX)
        {
            tracing::info!(
                step_s = (wall - mono).as_secs(),
                "wall clock jumped (suspend or clock change); re-planning"
            );
        }
    }
}

/// Seeds the gate with the sends of the last hour, as recorded in the database, so a restart
/// keeps the per-chat spacing and the hourly cap. Their wall-clock ages are mapped onto the
/// monotonic clock as of now.
fn remember_gate(conn: &Connection, gate: &mut Gate, now: Timestamp) -> Result<(), RunnerError> {
    let mono = Instant::now();
    for (chat, at_ms) in gate_log::recent(conn, now)? {
        let age = Duration::from_millis(u64::try_from(now.as_millisecond() - at_ms).unwrap_or(0));
        let at = mono.checked_sub(age).unwrap_or(mono);
        gate.record(&chat, at);
    }
    Ok(())
}

/// Another connection's commits change this; ours do not. Reading it costs no disk I/O in
/// WAL mode (it is in the shared-memory index), which is why polling it every half second is
/// cheaper and more portable than a file watcher — and it catches every writer, whichever
/// process or tool.
fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}

fn add(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(t)
}

/// Whether a send may still be skipped for a reply: the schedule asks for it, and the send
/// never went anywhere (one with bytes may already be on their phone).
fn may_skip(send: &SendRecord, schedule: &store::Schedule) -> bool {
    schedule.skip_if_replied && send.stanza.is_none() && send.attempts == 0
}
