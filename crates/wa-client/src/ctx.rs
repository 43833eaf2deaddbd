//! What a handler of the connection may use: the configuration, the clock, the session store
//! and the publisher. Handlers get `&Ctx` (shared, read-only), never the supervisor: they change
//! the connection they are given and report through the publisher, and cannot reach the retry
//! count or another handler's state.

use std::sync::{Arc, Mutex};

use crate::clock::UnixMillis;
use crate::config::EngineConfig;
use crate::mutex::lock;
use crate::publisher::Publisher;
use crate::store::{Store, StoreError};
use crate::transport::Transport;
use crate::version::VersionFetcher;
use crate::EngineDeps;

pub(crate) struct Ctx {
    config: EngineConfig,
    deps: EngineDeps,
    store: Arc<Mutex<Store>>,
    out: Publisher,
}

impl Ctx {
    pub fn new(config: EngineConfig, deps: EngineDeps, store: Store, out: Publisher) -> Self {
        Self {
            config,
            deps,
            store: Arc::new(Mutex::new(store)),
            out,
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn out(&self) -> &Publisher {
        &self.out
    }

    pub fn now(&self) -> UnixMillis {
        self.deps.clock.now()
    }

    pub fn now_ms(&self) -> u64 {
        self.deps.clock.now_ms()
    }

    pub fn clock(&self) -> &dyn crate::clock::Clock {
        self.deps.clock.as_ref()
    }

    /// The clock, for a task that outlives this borrow.
    pub fn shared_clock(&self) -> Arc<dyn crate::clock::Clock> {
        self.deps.clock.clone()
    }

    pub fn transport(&self) -> Arc<dyn Transport> {
        self.deps.transport.clone()
    }

    pub fn version_fetcher(&self) -> &dyn VersionFetcher {
        self.deps.version_fetcher.as_ref()
    }

    /// The store, shared with a connection's tasks.
    pub fn store(&self) -> &Arc<Mutex<Store>> {
        &self.store
    }

    /// Runs `f` on the store under its lock.
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut lock(&self.store))
    }

    /// Whether the store holds a linked account.
    pub fn has_account(&self) -> bool {
        self.with_store(|s| s.load_credentials())
            .ok()
            .flatten()
            .is_some_and(|c| c.account.is_some())
    }

    /// Archives the session (kept, timestamped) and says where it went, if there was one.
    pub fn archive(&self, reason: &str) -> Option<String> {
        let now = self.now_ms();
        match self.with_store(|s| s.archive_session(reason, now)) {
            Ok(path) => path.map(|p| p.to_string_lossy().into_owned()),
            Err(e) => {
                tracing::error!(error = %e, "could not archive the session");
                None
            }
        }
    }

    /// Stores a new ADV secret.
    pub fn save_adv_secret(&self, secret: &[u8; 32]) -> Result<(), StoreError> {
        self.with_store(|s| s.set_adv_secret(secret))
    }
}
