//! The scheduler inside the service: the runner task over the app database, fed with the
//! link's state from the engine's events, sending through the [`Sender`] it was given — or
//! not running at all when there is none, so nothing pretends to send.
//!
//! One more task forwards what the runner does (and what other processes, such as
//! `herald-cli schedule`, write) as [`ServiceEvent::Schedules`] so screens update live, and
//! raises a notification for a failed, missed or in-doubt send.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::Connection;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use wa_client::EngineHandle;

use crate::alerts;
use crate::db;
use crate::pump::{lock, ServiceEvent, Shared};
use crate::schedule::clock::{Clock, SystemClock};
use crate::schedule::engine_sender::EngineSender;
pub use crate::schedule::hooks::{link_of, on_message, on_receipt, ScheduleChange};
use crate::schedule::outbox::RandomIds;
use crate::schedule::runner::{Link, Runner, RunnerConfig, RunnerEvent, RunnerHandle};
use crate::schedule::sender::{DynSender, Outcome, Outgoing, Rejection, Sender};
use crate::schedule::view::SchedulerState;

/// The engine the service runs now; it is replaced when a setting restarts the connection,
/// so a sender asks for it at each send rather than keeping one.
#[derive(Clone)]
pub struct CurrentEngine(watch::Receiver<Arc<EngineHandle>>);

impl CurrentEngine {
    pub fn get(&self) -> Arc<EngineHandle> {
        self.0.borrow().clone()
    }
}

/// Builds the scheduler's sender once the service has its engine.
pub type MakeSender = Box<dyn FnOnce(CurrentEngine) -> Arc<dyn DynSender> + Send>;

/// The engine's own send path (`schedule::engine_sender`), over whichever engine runs now.
pub fn engine_sender() -> MakeSender {
    Box::new(|current| Arc::new(OnCurrent(current)) as Arc<dyn DynSender>)
}

struct OnCurrent(CurrentEngine);

impl Sender for OnCurrent {
    async fn prepare(&self, message: Outgoing<'_>) -> Result<Vec<u8>, Rejection> {
        EngineSender::new(self.0.get()).prepare(message).await
    }

    async fn transmit(&self, message_id: &str, stanza: &[u8]) -> Outcome {
        EngineSender::new(self.0.get())
            .transmit(message_id, stanza)
            .await
    }

    async fn other_chats(&self, to: &crate::schedule::recipient::Recipient) -> Vec<String> {
        EngineSender::new(self.0.get()).other_chats(to).await
    }
}

/// How the service runs its scheduler.
pub struct SchedulerSetup {
    /// The engine's send path. `None`: no runner; schedules are kept and shown, and the
    /// health says sending is not available.
    pub sender: Option<MakeSender>,
    pub runner: RunnerConfig,
    /// The wall clock of the runner and of the schedule commands (tests jump it).
    pub clock: Arc<dyn Clock>,
}

impl Default for SchedulerSetup {
    fn default() -> SchedulerSetup {
        SchedulerSetup {
            sender: None,
            runner: RunnerConfig::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// How often the database is checked for another process's writes, to tell the screens.
const WATCH_EVERY: Duration = Duration::from_secs(1);

pub(crate) struct Scheduler {
    pub(crate) link: watch::Sender<Link>,
    pub(crate) engine: watch::Sender<Arc<EngineHandle>>,
    pub(crate) runner: Option<RunnerHandle>,
    pub(crate) clock: Arc<dyn Clock>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Scheduler {
    /// Starts the runner (when there is a sender) and the forwarding task.
    pub(crate) fn start(
        setup: SchedulerSetup,
        db_path: &Path,
        engine: Arc<EngineHandle>,
        events: broadcast::Sender<ServiceEvent>,
        shared: Arc<Mutex<Shared>>,
    ) -> Scheduler {
        let (link, link_rx) = watch::channel(link_of(&engine.state().borrow()));
        let own_user = own_user(&engine);
        let (engine_tx, engine_rx) = watch::channel(engine);
        let (runner_tx, runner_rx) = broadcast::channel(256);
        let mut tasks = Vec::new();
        let mut handle = None;
        let state = match setup.sender {
            None => {
                tracing::info!("no message sender in this build: schedules are kept, not sent");
                SchedulerState::NoSender
            }
            Some(make) => {
                let sender = make(CurrentEngine(engine_rx));
                let started = db::open(db_path)
                    .map_err(|e| e.to_string())
                    .and_then(|conn| {
                        Runner::new(
                            conn,
                            sender,
                            setup.clock.clone(),
                            link_rx,
                            Box::new(RandomIds { own_user }),
                            setup.runner,
                        )
                        .map_err(|e| e.to_string())
                    });
                match started {
                    Ok((runner, h)) => {
                        handle = Some(h);
                        let runner = runner.with_events(runner_tx.clone());
                        tasks.push(tokio::spawn(runner.run()));
                        SchedulerState::Running
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the scheduler could not start");
                        SchedulerState::Stopped
                    }
                }
            }
        };
        lock(&shared).scheduler = state;
        match db::open(db_path) {
            Ok(conn) => tasks.push(tokio::spawn(forward(conn, runner_rx, events, shared))),
            Err(e) => tracing::warn!(error = %e, "schedule changes will not update the screens"),
        }
        drop(runner_tx);
        Scheduler {
            link,
            engine: engine_tx,
            runner: handle,
            clock: setup.clock,
            tasks: Mutex::new(tasks),
        }
    }

    /// A schedule was changed through this process: the runner looks again at once.
    pub(crate) fn changed(&self) {
        if let Some(h) = &self.runner {
            h.changed();
        }
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Stops the runner and the forwarding task. A send caught in the middle is what a crash
    /// leaves: in doubt at the next start, resent as the same bytes.
    pub(crate) fn stop(&self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

fn own_user(engine: &EngineHandle) -> String {
    engine
        .health()
        .jid
        .as_deref()
        .and_then(crate::health::Account::from_jid)
        .map(|a| a.phone.trim_start_matches('+').to_owned())
        .unwrap_or_default()
}

/// Runner events and other processes' writes → service events and notifications.
async fn forward(
    conn: Connection,
    mut runner: broadcast::Receiver<RunnerEvent>,
    events: broadcast::Sender<ServiceEvent>,
    shared: Arc<Mutex<Shared>>,
) {
    let mut alerts = alerts::SendAlerts::default();
    let mut version = data_version(&conn);
    let mut watch = tokio::time::interval(WATCH_EVERY);
    let mut runner_open = true;
    loop {
        tokio::select! {
            received = runner.recv(), if runner_open => match received {
                Ok(event) => {
                    let schedule_id = match &event {
                        RunnerEvent::Send { schedule_id, .. }
                        | RunnerEvent::Missed { schedule_id, .. } => *schedule_id,
                    };
                    let to = crate::schedule::store::get(&conn, schedule_id)
                        .map(|s| s.recipient.to_string())
                        .unwrap_or_default();
                    if let Some(alert) = alerts.on_runner(&event, &to) {
                        let _ = events.send(ServiceEvent::Alert(alert.into()));
                    }
                    let _ = events.send(ServiceEvent::Schedules(ScheduleChange {
                        schedule_id: Some(schedule_id),
                        runner: Some(event),
                    }));
                    publish_health(&conn, &events, &shared);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = events.send(ServiceEvent::Schedules(ScheduleChange {
                        schedule_id: None,
                        runner: None,
                    }));
                }
                Err(broadcast::error::RecvError::Closed) => runner_open = false,
            },
            _ = watch.tick() => {
                let now = data_version(&conn);
                if now != version {
                    version = now;
                    let _ = events.send(ServiceEvent::Schedules(ScheduleChange {
                        schedule_id: None,
                        runner: None,
                    }));
                }
            }
        }
    }
}

/// The health with the new schedule counts, when the pump has published one already.
fn publish_health(
    conn: &Connection,
    events: &broadcast::Sender<ServiceEvent>,
    shared: &Arc<Mutex<Shared>>,
) {
    let mut s = lock(shared);
    let Some(health) = s.last_health.as_mut() else {
        return;
    };
    match crate::health::schedule_counts(conn) {
        Ok((waiting, active)) => {
            health.scheduled_messages = waiting;
            health.active_jobs = active;
            let _ = events.send(ServiceEvent::Health(health.clone()));
        }
        Err(e) => tracing::warn!(error = %e, "schedule counts unavailable"),
    }
}

fn data_version(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
        .unwrap_or_default()
}
