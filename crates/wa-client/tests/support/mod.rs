//! The engine against wa-sim in memory, with tokio's clock paused.
#![allow(dead_code)]

pub mod chat;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use wa_client::transport::BoxFuture;
use wa_client::{
    Clock, ConnectionState, EngineConfig, EngineDeps, EngineEvent, EngineHandle, Link,
    MemoryTransport, SystemClock, TokioClock, VersionError, VersionFetcher,
};
use wa_core::payload::AppVersion;
use wa_sim::{SimConfig, Simulator};

/// Longest (virtual) wait for any one event before the test fails.
pub const WAIT: Duration = Duration::from_secs(900);

pub fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wa-client-it-{tag}-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A version fetcher the test can change.
#[derive(Clone)]
pub struct TestFetcher(pub Arc<Mutex<AppVersion>>);

impl VersionFetcher for TestFetcher {
    fn fetch<'a>(&'a self, _url: &'a str) -> BoxFuture<'a, Result<AppVersion, VersionError>> {
        let v = *self.0.lock().unwrap();
        Box::pin(async move { Ok(v) })
    }
}

pub struct Harness {
    pub sim: Simulator,
    pub dir: PathBuf,
    pub engine: EngineHandle,
    pub events: broadcast::Receiver<EngineEvent>,
    pub fetched: Arc<Mutex<AppVersion>>,
    pub clock: Arc<dyn Clock>,
}

pub fn sim() -> Simulator {
    Simulator::new(SimConfig::default()).unwrap()
}

pub fn config(sim: &Simulator, dir: &std::path::Path) -> EngineConfig {
    let mut c = EngineConfig {
        data_dir: dir.to_path_buf(),
        server_url: "memory://wa-sim".into(),
        trusted_root: sim.root_public_key().unwrap(),
        event_capacity: 4096,
        ..EngineConfig::default()
    };
    c.version.sw_js_url = Some("memory://sw.js".into());
    c
}

pub fn deps(sim: &Simulator, fetched: Arc<Mutex<AppVersion>>) -> (EngineDeps, Arc<dyn Clock>) {
    let s = sim.clone();
    let transport = MemoryTransport::new(move || {
        let link = s.connect_in_memory();
        async move { Ok(Link::from_channels(link.to_server, link.from_server)) }
    });
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(SystemClock.now_ms()));
    (
        EngineDeps {
            transport: Arc::new(transport),
            clock: clock.clone(),
            version_fetcher: Arc::new(TestFetcher(fetched)),
        },
        clock,
    )
}

impl Harness {
    pub fn start(tag: &str) -> Harness {
        Self::start_with(sim(), tempdir(tag), |_| {})
    }

    pub fn start_with(
        sim: Simulator,
        dir: PathBuf,
        tweak: impl FnOnce(&mut EngineConfig),
    ) -> Harness {
        let fetched = Arc::new(Mutex::new(AppVersion::DEFAULT));
        let mut cfg = config(&sim, &dir);
        tweak(&mut cfg);
        let (deps, clock) = deps(&sim, fetched.clone());
        let engine = wa_client::Engine::start_with(cfg, deps).unwrap();
        let events = engine.subscribe();
        Harness {
            sim,
            dir,
            engine,
            events,
            fetched,
            clock,
        }
    }

    /// Waits for the first event matching `pred`, returning it.
    pub async fn wait_for(
        &mut self,
        what: &str,
        pred: impl Fn(&EngineEvent) -> bool,
    ) -> EngineEvent {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let next = tokio::time::timeout_at(deadline, self.events.recv()).await;
            match next {
                Err(_) => panic!(
                    "timed out waiting for {what}; state {:?}",
                    *self.engine.state().borrow()
                ),
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => panic!("lagged {n} events"),
                Ok(Err(e)) => panic!("event stream ended waiting for {what}: {e}"),
                Ok(Ok(e)) => {
                    if pred(&e) {
                        return e;
                    }
                }
            }
        }
    }

    pub async fn wait_state(&mut self, name: &str) -> ConnectionState {
        match self
            .wait_for(
                name,
                |e| matches!(e, EngineEvent::State { state, .. } if state.name() == name),
            )
            .await
        {
            EngineEvent::State { state, .. } => state,
            _ => unreachable!(),
        }
    }

    pub async fn wait_qr(&mut self) -> String {
        match self
            .wait_for("qr", |e| matches!(e, EngineEvent::Qr { .. }))
            .await
        {
            EngineEvent::Qr { qr, .. } => qr,
            _ => unreachable!(),
        }
    }

    pub async fn wait_disconnect(&mut self) -> wa_client::Disconnect {
        match self
            .wait_for("disconnected", |e| {
                matches!(e, EngineEvent::Disconnected(_))
            })
            .await
        {
            EngineEvent::Disconnected(d) => d,
            _ => unreachable!(),
        }
    }

    /// Pairs by QR and waits until online after the 515.
    pub async fn pair(&mut self) {
        let qr = self.wait_qr().await;
        self.sim.scan(&qr).expect("scan");
        self.wait_for("paired", |e| matches!(e, EngineEvent::Paired { .. }))
            .await;
        let d = self.wait_disconnect().await;
        assert_eq!(d.cause.key(), "restart_required");
        self.wait_state("online").await;
    }

    pub fn state(&self) -> ConnectionState {
        self.engine.state().borrow().clone()
    }
}
