//! What every handler reads: the service, the daemon's own connection to the app database
//! (schedules, API keys), the bad-key back-off, and when the daemon started.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use herald_core::service::Service;
use rusqlite::Connection;
use tokio::sync::watch;

use super::error::ApiError;
use super::throttle::Throttle;

/// Shared by every request. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    service: Service,
    /// The daemon's own connection: schedule and key calls do not queue behind the service's
    /// event pump, and writes reach the scheduler the same way the `schedule` commands' do.
    db: Mutex<Connection>,
    throttle: Mutex<Throttle>,
    started: Instant,
    started_at: jiff::Timestamp,
    data_dir: PathBuf,
    metrics: bool,
    /// Flips to true when the daemon stops, so endless responses (the event stream) end.
    stopping: watch::Receiver<bool>,
}

/// How to build the state.
pub struct StateParts {
    pub service: Service,
    pub db: Connection,
    pub throttle: Throttle,
    pub data_dir: PathBuf,
    pub metrics: bool,
    pub stopping: watch::Receiver<bool>,
}

impl AppState {
    pub fn new(parts: StateParts) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                service: parts.service,
                db: Mutex::new(parts.db),
                throttle: Mutex::new(parts.throttle),
                started: Instant::now(),
                started_at: jiff::Timestamp::now(),
                data_dir: parts.data_dir,
                metrics: parts.metrics,
                stopping: parts.stopping,
            }),
        }
    }

    pub fn service(&self) -> &Service {
        &self.inner.service
    }

    /// The daemon's database connection. A panic while it was held cannot leave it
    /// half-written (every write is one transaction), so a poisoned lock is taken over.
    pub fn db(&self) -> MutexGuard<'_, Connection> {
        self.inner
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the database; its error becomes a 500 named `what`.
    pub fn with_db<T, E: std::error::Error>(
        &self,
        what: &str,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, ApiError> {
        f(&self.db()).map_err(|e| ApiError::internal(what, &e))
    }

    pub fn throttle(&self) -> MutexGuard<'_, Throttle> {
        self.inner
            .throttle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn uptime_secs(&self) -> u64 {
        self.inner.started.elapsed().as_secs()
    }

    pub fn started_at(&self) -> jiff::Timestamp {
        self.inner.started_at
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.inner.data_dir
    }

    pub fn metrics_enabled(&self) -> bool {
        self.inner.metrics
    }

    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.inner.stopping.clone()
    }
}
