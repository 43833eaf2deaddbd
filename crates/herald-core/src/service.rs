//! The service: one engine, the app database, and what the shells need from them.
//!
//! A background task (`pump.rs`) turns engine events into history rows, timeline transitions,
//! a presented connection view, health snapshots and alerts, and republishes them as
//! [`ServiceEvent`]s in order. Commands (reconnect, pair, logout, settings) are thin calls on
//! the engine. Changing a setting that the engine reads restarts the engine with the new
//! configuration; the session itself is kept. The scheduler runs inside (`scheduler.rs`);
//! its commands are in `schedules.rs`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use serde::Serialize;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use wa_client::{Engine, EngineConfig, EngineHandle, StartError};

use crate::db::{self, DbError};
use crate::health::HealthView;
use crate::history::{self, DisconnectRecord};
use crate::presentation::ConnectionView;
use crate::pump::{health_view, lock, present, spawn_pump, Shared};
pub use crate::pump::{AlertView, ServiceEvent};
use crate::scheduler::{Scheduler, SchedulerSetup};
use crate::settings::{self, InvalidSetting, Settings};
use crate::timeline;

/// Where the engine connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTarget {
    pub url: String,
    /// The root key the server's certificates must chain to (hex of 32 bytes).
    pub trusted_root: [u8; 32],
}

/// How to start the service.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// The data folder: `herald.db` (history, settings) and `session/` (the engine's store).
    pub data_dir: PathBuf,
    /// `None`: the real WhatsApp.
    pub server: Option<ServerTarget>,
    /// Whether to fetch the current WhatsApp Web version from the network.
    pub fetch_version: bool,
    /// Named in the session lock, so a second process can say who holds the session.
    pub program_name: String,
    /// The OS keychain service that holds the session store's key (`None`: no keychain; the
    /// key then comes from `HERALD_STORE_KEY(_FILE)` or the flagged key file).
    pub keychain: Option<String>,
}

pub use crate::store_keys::{store_keys, KEYCHAIN_SERVICE};

/// Why the service could not start or a command failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Command(#[from] wa_client::CommandError),
    #[error(transparent)]
    InvalidSetting(#[from] InvalidSetting),
    #[error(transparent)]
    Schedule(#[from] crate::schedule::store::StoreError),
    #[error(transparent)]
    Draft(#[from] crate::schedule::draft::DraftError),
    #[error(transparent)]
    Messaging(#[from] wa_client::SendError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The running service. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    options: ServiceOptions,
    db: Mutex<Connection>,
    events: broadcast::Sender<ServiceEvent>,
    running: tokio::sync::Mutex<Running>,
    shared: Arc<Mutex<Shared>>,
    pub(crate) scheduler: Scheduler,
    /// Gives memory back after bursts of work (`crate::memory`).
    release: JoinHandle<()>,
}

struct Running {
    engine: Arc<EngineHandle>,
    pump: JoinHandle<()>,
}

/// Capacity of the service event stream; a lagging subscriber re-reads the current view.
const EVENT_CAPACITY: usize = 512;
/// How long shutdown waits for the pump to forward the engine's last events.
const PUMP_DRAIN: Duration = Duration::from_secs(1);

impl Service {
    /// Opens the database and starts the engine and the scheduler, which sends through the
    /// engine (see [`Service::start_with`] for another sender, or none).
    pub fn start(options: ServiceOptions) -> Result<Service, ServiceError> {
        Service::start_with(
            options,
            SchedulerSetup {
                sender: Some(crate::scheduler::engine_sender()),
                ..SchedulerSetup::default()
            },
        )
    }

    /// Opens the database, starts the engine and the scheduler (its runner only when
    /// `scheduler` has a sender). Call inside a tokio runtime.
    pub fn start_with(
        options: ServiceOptions,
        scheduler: SchedulerSetup,
    ) -> Result<Service, ServiceError> {
        std::fs::create_dir_all(&options.data_dir).map_err(|source| ServiceError::Write {
            path: options.data_dir.clone(),
            source,
        })?;
        let conn = db::open(&options.data_dir.join("herald.db"))?;
        let settings = settings::load(&conn)?;
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let shared = Arc::new(Mutex::new(Shared::default()));
        let engine = Arc::new(Engine::start(engine_config(&options, &settings))?);
        let scheduler = Scheduler::start(
            scheduler,
            &db_path(&options),
            engine.clone(),
            events.clone(),
            shared.clone(),
        );
        let pump = spawn_pump(
            engine.clone(),
            events.clone(),
            shared.clone(),
            db_path(&options),
            scheduler.link.clone(),
        );
        Ok(Service {
            inner: Arc::new(Inner {
                options,
                db: Mutex::new(conn),
                events,
                running: tokio::sync::Mutex::new(Running { engine, pump }),
                shared,
                scheduler,
                release: {
                    // Starting is a burst of work too: give back what it left once idle.
                    crate::memory::note_work();
                    tokio::spawn(crate::memory::release_task(
                        crate::schedule::recipient::forget_compiled_rules,
                    ))
                },
            }),
        })
    }

    pub(crate) fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        lock(&self.inner.db)
    }

    pub(crate) fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        lock(&self.inner.shared)
    }

    pub(crate) fn inner_scheduler(&self) -> &Scheduler {
        &self.inner.scheduler
    }

    pub(crate) fn emit(&self, event: ServiceEvent) {
        let _ = self.inner.events.send(event);
    }

    /// Subscribes to the service's events.
    pub fn subscribe(&self) -> broadcast::Receiver<ServiceEvent> {
        self.inner.events.subscribe()
    }

    /// The connection as presented now.
    pub async fn connection(&self) -> ConnectionView {
        let state = self.engine().await.state().borrow().clone();
        let mut shared = lock(&self.inner.shared);
        present(&mut shared, &state)
    }

    /// The health snapshot now.
    pub async fn health(&self) -> Result<HealthView, ServiceError> {
        let engine = self.engine().await;
        let h = engine.health();
        let scheduler = lock(&self.inner.shared).scheduler;
        let conn = lock(&self.inner.db);
        Ok(health_view(&conn, &h, engine.store_key(), scheduler)?)
    }

    /// One page of the history, newest first.
    pub fn history(
        &self,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<DisconnectRecord>, ServiceError> {
        Ok(history::page(
            &lock(&self.inner.db),
            before_id,
            limit.clamp(1, 500),
        )?)
    }

    /// The timeline of the last `window` up to `now`, with the disconnect times in it.
    pub fn timeline(
        &self,
        now: wa_client::UnixMillis,
        window: Duration,
    ) -> Result<TimelineView, ServiceError> {
        let from = now.saturating_sub(window);
        let conn = lock(&self.inner.db);
        let transitions = history::transitions_since(&conn, from)?;
        let spans = timeline::spans(&transitions, from, now);
        let disconnects = history::times_since(&conn, from)?;
        Ok(TimelineView {
            from_ms: from,
            to_ms: now,
            uptime: timeline::uptime(&spans),
            spans,
            disconnects,
        })
    }
    /// Writes a support bundle (see [`crate::support_bundle`]) with the live health, on a
    /// blocking thread: reading the session may wait on the keychain.
    pub async fn support_bundle(
        &self,
        out: PathBuf,
        program: String,
        now: wa_client::UnixMillis,
    ) -> Result<crate::support_bundle::BundleSummary, crate::support_bundle::BundleError> {
        let live_health = self.health().await.ok();
        let request = crate::support_bundle::BundleRequest {
            data_dir: self.inner.options.data_dir.clone(),
            program,
            now,
            live_health,
        };
        tokio::task::spawn_blocking(move || crate::support_bundle::write(&request, &out))
            .await
            .map_err(|e| crate::support_bundle::BundleError::Io {
                path: PathBuf::from("support bundle"),
                source: std::io::Error::other(e),
            })?
    }

    /// Writes the whole history as CSV into `dir`; returns the file and the row count.
    pub fn export_history(
        &self,
        dir: &Path,
        stamp: &str,
    ) -> Result<(PathBuf, usize), ServiceError> {
        let rows = history::page(&lock(&self.inner.db), None, u32::MAX)?;
        let path = dir.join(format!("herald-history-{stamp}.csv"));
        let write = |source| ServiceError::Write {
            path: path.clone(),
            source,
        };
        let file = std::fs::File::create(&path).map_err(write)?;
        crate::export::write_csv(std::io::BufWriter::new(file), &rows)
            .map_err(|e| write(std::io::Error::other(e)))?;
        Ok((path, rows.len()))
    }

    /// Dial again now (also leaves Paused, Replaced).
    pub async fn reconnect_now(&self) {
        lock(&self.inner.shared).alerts.on_user_action();
        self.engine().await.reconnect_now();
    }

    /// Fresh QR codes (after they expired, or after a logout).
    pub async fn start_pairing(&self) {
        lock(&self.inner.shared).alerts.on_user_action();
        self.engine().await.new_qr();
    }

    /// Pairing by phone number; returns the code to type on the phone.
    pub async fn pair_with_phone(&self, phone: &str) -> Result<String, ServiceError> {
        lock(&self.inner.shared).alerts.on_user_action();
        Ok(self.engine().await.pair_with_phone(phone).await?)
    }

    /// Unlinks this computer and archives the session.
    pub async fn logout(&self) -> Result<wa_client::LogoutOutcome, ServiceError> {
        Ok(self.engine().await.logout().await?)
    }

    /// The saved settings.
    pub fn settings(&self) -> Result<Settings, ServiceError> {
        Ok(settings::load(&lock(&self.inner.db))?)
    }

    /// Validates and saves settings; restarts the engine when the connection reads them.
    pub async fn set_settings(&self, new: Settings) -> Result<Settings, ServiceError> {
        let old = self.settings()?;
        settings::save(&lock(&self.inner.db), &new)??;
        let mut running = self.inner.running.lock().await;
        let connection_settings = |s: &Settings| Settings {
            start_at_login: false,
            ..s.clone()
        };
        if connection_settings(&old) != connection_settings(&new) {
            running.engine.shutdown().await;
            running.pump.abort();
            let engine = Arc::new(Engine::start(engine_config(&self.inner.options, &new))?);
            let pump = spawn_pump(
                engine.clone(),
                self.inner.events.clone(),
                self.inner.shared.clone(),
                db_path(&self.inner.options),
                self.inner.scheduler.link.clone(),
            );
            self.inner.scheduler.engine.send_replace(engine.clone());
            *running = Running { engine, pump };
            tracing::info!("settings changed; the connection restarted with them");
        }
        Ok(new)
    }

    /// The engine, for the shells' advanced uses (the demo's simulator scan reads its QR).
    pub async fn engine(&self) -> Arc<EngineHandle> {
        self.inner.running.lock().await.engine.clone()
    }

    /// Stops the engine cleanly. Subscribers get every event up to the engine's `closed`
    /// state before the stream ends.
    pub async fn shutdown(&self) {
        let mut running = self.inner.running.lock().await;
        self.inner.release.abort();
        self.inner.scheduler.stop();
        running.engine.shutdown().await;
        // The pump forwards the engine's last events and ends after `closed`; a pump stuck on
        // a slow database is not worth holding the exit for.
        if !running.pump.is_finished()
            && tokio::time::timeout(PUMP_DRAIN, &mut running.pump)
                .await
                .is_err()
        {
            running.pump.abort();
        }
    }
}

/// The timeline as the History screen draws it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineView {
    pub from_ms: wa_client::UnixMillis,
    pub to_ms: wa_client::UnixMillis,
    pub spans: Vec<timeline::Span>,
    pub uptime: Option<f64>,
    pub disconnects: Vec<wa_client::UnixMillis>,
}

fn db_path(options: &ServiceOptions) -> PathBuf {
    options.data_dir.join("herald.db")
}

/// The engine configuration for these options and settings.
pub fn engine_config(options: &ServiceOptions, s: &Settings) -> EngineConfig {
    let mut c = EngineConfig {
        data_dir: options.data_dir.join("session"),
        program_name: options.program_name.clone(),
        store_key: store_keys(options.keychain.as_deref()),
        ..EngineConfig::default()
    };
    if let Some(server) = &options.server {
        c.server_url = server.url.clone();
        c.trusted_root = wa_core::signal::PublicKey::from_bytes(server.trusted_root);
    }
    if !options.fetch_version {
        c.version.sw_js_url = None;
    }
    c.keepalive.silence_before_ping = Duration::from_secs(u64::from(s.ping_after_silence_secs));
    c.connect_timeout = Duration::from_secs(u64::from(s.connect_timeout_secs));
    c.iq_timeout = Duration::from_secs(u64::from(s.query_timeout_secs));
    c.version.override_version = s.version_override();
    c.presence = match s.presence {
        settings::Presence::Available => wa_client::Presence::Available,
        settings::Presence::Unavailable => wa_client::Presence::Unavailable,
    };
    c
}
