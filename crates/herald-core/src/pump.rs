//! The event pump: one task per engine that turns its events, in order, into history rows,
//! timeline transitions, the presented connection view (with its QR drawing cached while the
//! QR text stays the same), health snapshots and alerts, and republishes them as
//! [`ServiceEvent`]s.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use serde::Serialize;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use wa_client::{ConnectionState, EngineEvent, EngineHandle};

use crate::alerts::{Alert, AlertPolicy};
use crate::db;
use crate::db::DbError;
use crate::health::{process_memory, Account, HealthView};
use crate::history::{self, DisconnectRecord};
use crate::presentation::{self, ConnectionView, Context};
use crate::schedule::runner::Link;
use crate::schedule::view::SchedulerState;

/// Everything the shells learn from the service, in order.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum ServiceEvent {
    /// The connection as presented (state, label, detail, QR …) changed.
    Connection(ConnectionView),
    /// A fresh health snapshot.
    Health(HealthView),
    /// A disconnect was recorded.
    History(DisconnectRecord),
    /// Something the user must know now: post a desktop notification.
    Alert(AlertView),
    /// The engine's raw event, for `herald-cli --json`.
    Engine(EngineEvent),
    /// Schedules or their sends changed (here or in another process).
    Schedules(crate::schedule::hooks::ScheduleChange),
}

/// A notification to post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertView {
    pub summary: String,
    pub body: String,
}

impl From<Alert> for AlertView {
    fn from(a: Alert) -> Self {
        Self {
            summary: a.summary,
            body: a.body,
        }
    }
}

/// What the pump and the commands both read.
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) ctx: Context,
    /// The last presented view; its QR drawing is reused while the QR text is the same.
    pub(crate) view: Option<ConnectionView>,
    pub(crate) alerts: AlertPolicy,
    /// Whether the scheduler sends, for the health snapshot.
    pub(crate) scheduler: SchedulerState,
    /// The last health published, so a schedule change can republish it with new counts.
    pub(crate) last_health: Option<HealthView>,
}

pub(crate) fn present(shared: &mut Shared, state: &ConnectionState) -> ConnectionView {
    if let ConnectionState::Pairing { qr, .. } = state {
        let drawn = shared
            .view
            .as_ref()
            .and_then(|v| v.qr.as_ref())
            .filter(|q| &q.text == qr);
        shared.ctx.qr_svg = match drawn {
            Some(q) => Some(q.svg.clone()),
            None => match crate::qr::svg(qr) {
                Ok(svg) => Some(svg),
                Err(e) => {
                    tracing::error!(error = %e, "the QR code could not be drawn");
                    None
                }
            },
        };
    }
    let view = presentation::present(state, &shared.ctx);
    shared.view = Some(view.clone());
    view
}

pub(crate) fn health_view(
    conn: &Connection,
    h: &wa_client::Health,
    store_key: &wa_client::store::KeyStatus,
    scheduler: SchedulerState,
) -> Result<HealthView, DbError> {
    let last = history::page(conn, None, 1)?.into_iter().next();
    let (scheduled_messages, active_jobs) = crate::health::schedule_counts(conn)?;
    Ok(HealthView {
        state: h.state.clone(),
        state_since_ms: h.state_since_ms,
        account: h.jid.as_deref().and_then(Account::from_jid),
        last_disconnect: last,
        attempt: h.attempt,
        next_retry_at_ms: h.next_retry_at_ms,
        rtt_ms: h.rtt_ms,
        last_pong_ms: h.last_pong_ms,
        version: h.version.clone(),
        version_source: h
            .version_source
            .and_then(|s| serde_json::to_value(s).ok())
            .and_then(|v| v.as_str().map(str::to_owned)),
        memory_bytes: process_memory(),
        disconnects: history::count(conn)?,
        store_key: store_key.clone(),
        scheduled_messages,
        active_jobs,
        scheduler,
    })
}

pub(crate) fn spawn_pump(
    engine: Arc<EngineHandle>,
    events: broadcast::Sender<ServiceEvent>,
    shared: Arc<Mutex<Shared>>,
    db_path: PathBuf,
    link: watch::Sender<Link>,
) -> JoinHandle<()> {
    let mut rx = engine.subscribe();
    tokio::spawn(async move {
        // The pump writes through its own connection (WAL lets readers go on meanwhile).
        let conn = match db::open(&db_path) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "history is off: the database cannot be opened");
                return;
            }
        };
        {
            let state = engine.state().borrow().clone();
            link.send_replace(crate::schedule::hooks::link_of(&state));
            let mut s = lock(&shared);
            s.ctx.account = engine
                .health()
                .jid
                .as_deref()
                .and_then(Account::from_jid)
                .map(|a| a.phone);
            let view = present(&mut s, &state);
            let _ = events.send(ServiceEvent::Connection(view));
        }
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "service fell behind the engine; re-reading state"
                    );
                    let state = engine.state().borrow().clone();
                    link.send_replace(crate::schedule::hooks::link_of(&state));
                    let view = present(&mut lock(&shared), &state);
                    let _ = events.send(ServiceEvent::Connection(view));
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let _ = events.send(ServiceEvent::Engine(event.clone()));
            handle(&event, &engine, &events, &shared, &conn, &link);
            if let EngineEvent::State {
                state: ConnectionState::Closed,
                ..
            } = event
            {
                // The engine's last word: nothing follows it.
                break;
            }
        }
    })
}

fn handle(
    event: &EngineEvent,
    engine: &EngineHandle,
    events: &broadcast::Sender<ServiceEvent>,
    shared: &Arc<Mutex<Shared>>,
    conn: &Connection,
    link: &watch::Sender<Link>,
) {
    let mut publish_health = false;
    match event {
        EngineEvent::State { at_ms, state } => {
            // The runner sends only while online, and holds everything logged out or
            // replaced; a reconnect wakes it at once.
            let new = crate::schedule::hooks::link_of(state);
            link.send_if_modified(|l| std::mem::replace(l, new) != new);
            let online = matches!(state, ConnectionState::Online { .. });
            let offline = !matches!(
                state,
                ConnectionState::Online { .. } | ConnectionState::LoggingIn
            );
            if online || offline {
                if let Err(e) = history::log_state(conn, *at_ms, online) {
                    tracing::warn!(error = %e, "timeline transition not recorded");
                }
            }
            let mut s = lock(shared);
            s.ctx.since_ms = Some(*at_ms);
            if online {
                s.alerts.on_online();
                s.ctx.last_advice = None;
            }
            if let ConnectionState::Paused {
                reason: wa_client::PausedReason::RetriesExhausted { attempts },
            } = state
            {
                if let Some(alert) = s.alerts.on_paused(*attempts) {
                    let _ = events.send(ServiceEvent::Alert(alert.into()));
                }
            }
            if matches!(state, ConnectionState::LoggedOut) {
                s.ctx.account = None;
            }
            let view = present(&mut s, state);
            drop(s);
            let _ = events.send(ServiceEvent::Connection(view));
            publish_health = true;
        }
        EngineEvent::Paired { jid, .. } => {
            lock(shared).ctx.account = Account::from_jid(jid).map(|a| a.phone);
        }
        EngineEvent::Disconnected(d) => {
            let record = history::DisconnectRecord {
                id: 0,
                at_ms: d.at_ms,
                cause: d.cause.key().to_owned(),
                title: d.title.clone(),
                code: d.code,
                decision: history::decision_key(d.decision, d.stop),
                advice: d.advice.clone(),
                attempt: (d.attempt > 0).then_some(d.attempt),
                delay_ms: d.delay_ms,
                online_for_ms: (d.online_for_ms > 0).then_some(d.online_for_ms),
            };
            match history::append(conn, &record) {
                Ok(saved) => {
                    let _ = events.send(ServiceEvent::History(saved));
                }
                Err(e) => tracing::warn!(error = %e, "disconnect not recorded"),
            }
            let mut s = lock(shared);
            s.ctx.last_advice = Some(d.advice.clone());
            if let Some(alert) = s.alerts.on_disconnect(d) {
                let _ = events.send(ServiceEvent::Alert(alert.into()));
            }
            publish_health = true;
        }
        EngineEvent::Pong { .. }
        | EngineEvent::KeepAliveTimeout { .. }
        | EngineEvent::KeepAliveRestored { .. }
        | EngineEvent::Version { .. }
        | EngineEvent::LoggedOut { .. } => publish_health = true,
        // Messages and receipts reach subscribers as they are; the health view has no
        // field for them.
        EngineEvent::Qr { .. }
        | EngineEvent::PairCode { .. }
        | EngineEvent::PrekeysUploaded { .. } => {}
        // For "skip if they have written to me since": when each chat last wrote.
        EngineEvent::Message { chat, t, .. } => {
            if let Some(at) = timestamp(*t) {
                crate::schedule::hooks::on_message(conn, chat, at);
            }
        }
        // Scheduled sends move on to delivered and read (and an in-doubt one is settled).
        EngineEvent::Receipt { ids, kind, t, .. } => {
            let read = match kind {
                wa_client::ReceiptKind::Delivered => Some(false),
                wa_client::ReceiptKind::Read | wa_client::ReceiptKind::Played => Some(true),
                wa_client::ReceiptKind::Retry => None,
            };
            if let (Some(read), Some(at)) = (read, timestamp(*t)) {
                match crate::schedule::hooks::on_receipt(conn, ids, read, at) {
                    Ok(changed) => {
                        for schedule_id in changed {
                            let _ = events.send(ServiceEvent::Schedules(
                                crate::schedule::hooks::ScheduleChange {
                                    schedule_id: Some(schedule_id),
                                    runner: None,
                                },
                            ));
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "receipt not recorded on its send"),
                }
            }
        }
    }
    if publish_health {
        let scheduler = lock(shared).scheduler;
        match health_view(conn, &engine.health(), engine.store_key(), scheduler) {
            Ok(h) => {
                lock(shared).last_health = Some(h.clone());
                let _ = events.send(ServiceEvent::Health(h));
            }
            Err(e) => tracing::warn!(error = %e, "health snapshot failed"),
        }
    }
}

/// The workspace's one way to take a mutex (see its docs for why a poisoned one is used).
pub(crate) use wa_client::mutex::lock;

fn timestamp(t: wa_client::UnixMillis) -> Option<jiff::Timestamp> {
    i64::try_from(t.as_millis())
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
}
