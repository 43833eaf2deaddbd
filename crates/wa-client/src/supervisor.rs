//! The supervisor: one task, the only owner of the socket, and the connection state machine.
//!
//! It dials (`connection.rs`), lets the connection run until it ends, asks wa-core's
//! classifier what the end means, and then reconnects at once, backs off, or stops in a named
//! state until the user acts. Every change goes to the `watch` of the state, the ordered event
//! stream and the health snapshot, in that order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};
use wa_core::backoff::{Next, RetryState};
use wa_core::disconnect::{classify, ClassifyContext, CloseReason, Decision, EndState, Verdict};
use wa_core::payload::AppVersion;

use crate::clock::UnixMillis;
use crate::commands::{Command, PendingLogout, PendingPhone, Then, Where};
use crate::config::EngineConfig;
use crate::events::{
    ConnectionState, Disconnect, EngineEvent, Health, PausedReason, VersionSource,
};
use crate::lock::SessionLock;
use crate::store::Store;
use crate::{CommandError, EngineDeps, LogoutOutcome};

/// How one connection ended.
pub(crate) struct Ended {
    pub reason: CloseReason,
    /// Time spent online (zero if it never logged in).
    pub online_for: Duration,
}

/// What the supervisor does after handling a close.
enum Flow {
    Dial,
    Exit,
}

pub(crate) struct Supervisor {
    pub(crate) config: EngineConfig,
    pub(crate) deps: EngineDeps,
    pub(crate) store: Arc<Mutex<Store>>,
    _lock: SessionLock,
    pub(crate) commands: mpsc::Receiver<Command>,
    state: watch::Sender<ConnectionState>,
    events: broadcast::Sender<EngineEvent>,
    health: Arc<Mutex<Health>>,
    pub(crate) retry: RetryState,
    pub(crate) classify_ctx: ClassifyContext,
    pub(crate) version: Option<(AppVersion, VersionSource)>,
    pub(crate) refresh_version: bool,
    /// A phone number to link by code as soon as the server offers pairing.
    pub(crate) pending_phone: Option<PendingPhone>,
    /// A logout to answer once the session is archived.
    pub(crate) pending_logout: Option<PendingLogout>,
}

impl Supervisor {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        config: EngineConfig,
        deps: EngineDeps,
        store: Store,
        lock: SessionLock,
        commands: mpsc::Receiver<Command>,
        state: watch::Sender<ConnectionState>,
        events: broadcast::Sender<EngineEvent>,
        health: Arc<Mutex<Health>>,
    ) -> Self {
        Self {
            config,
            deps,
            store: Arc::new(Mutex::new(store)),
            _lock: lock,
            commands,
            state,
            events,
            health,
            retry: RetryState::default(),
            classify_ctx: ClassifyContext::default(),
            version: None,
            refresh_version: false,
            pending_phone: None,
            pending_logout: None,
        }
    }

    pub(crate) async fn run(mut self) {
        loop {
            let ended = self.connect_once().await;
            match self.after_close(ended).await {
                Flow::Dial => continue,
                Flow::Exit => break,
            }
        }
        if let Some(pending) = self.pending_phone.take() {
            let _ = pending.reply.send(Err(CommandError::Stopped));
        }
        if *self.state.borrow() != ConnectionState::Closed {
            self.set_state(ConnectionState::Closed);
        }
        tracing::info!("engine stopped");
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.deps.clock.now_ms()
    }

    pub(crate) fn now(&self) -> UnixMillis {
        self.deps.clock.now()
    }

    /// Publishes a state: the watch first (always current), then the event, then health.
    pub(crate) fn set_state(&self, state: ConnectionState) {
        let at_ms = self.now();
        tracing::info!(state = state.name(), "connection state");
        if let Ok(mut h) = self.health.lock() {
            h.state = state.name().to_owned();
            h.state_since_ms = at_ms;
            if !matches!(state, ConnectionState::Backoff { .. }) {
                h.next_retry_at_ms = None;
            }
            if let ConnectionState::Backoff { until_ms, .. } = state {
                h.next_retry_at_ms = Some(until_ms);
            }
        }
        self.state.send_replace(state.clone());
        self.emit(EngineEvent::State { at_ms, state });
    }

    /// The event stream's sender, for tasks that report on their own (messaging).
    pub(crate) fn event_sender(&self) -> broadcast::Sender<EngineEvent> {
        self.events.clone()
    }

    pub(crate) fn emit(&self, event: EngineEvent) {
        // No subscriber is fine: the state watch and health still hold the truth.
        let _ = self.events.send(event);
    }

    pub(crate) fn update_health(&self, f: impl FnOnce(&mut Health)) {
        if let Ok(mut h) = self.health.lock() {
            f(&mut h);
        }
    }

    pub(crate) fn health_snapshot(&self) -> Health {
        self.health.lock().map(|h| h.clone()).unwrap_or_default()
    }

    pub(crate) fn has_account(&self) -> bool {
        self.store
            .lock()
            .ok()
            .and_then(|s| s.load_credentials().ok().flatten())
            .is_some_and(|c| c.account.is_some())
    }

    pub(crate) fn archive(&self, reason: &str) -> Option<String> {
        let now = self.now_ms();
        let result = self
            .store
            .lock()
            .map_err(|_| "store lock poisoned".to_owned())
            .and_then(|mut s| s.archive_session(reason, now).map_err(|e| e.to_string()));
        match result {
            Ok(path) => path.map(|p| p.to_string_lossy().into_owned()),
            Err(e) => {
                tracing::error!(error = %e, "could not archive the session");
                None
            }
        }
    }

    /// Classifies the close and acts on it.
    async fn after_close(&mut self, ended: Ended) -> Flow {
        let verdict = classify(&ended.reason, self.classify_ctx);
        let online_ms = u64::try_from(ended.online_for.as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            cause = verdict.cause.key(),
            code = verdict.code,
            online_ms,
            "disconnected"
        );
        if verdict.refresh_version {
            self.refresh_version = true;
            self.classify_ctx.version_refreshed = true;
        }
        let archive = if verdict.archive_session {
            self.archive(verdict.cause.key())
        } else {
            None
        };
        match verdict.decision {
            Decision::ReconnectNow => {
                self.retry
                    .on_immediate(&self.config.backoff, ended.online_for);
                self.record(&verdict, 0, Some(0), online_ms);
                Flow::Dial
            }
            Decision::Backoff { at_least_secs } => {
                let next = self.retry.on_backoff(
                    &self.config.backoff,
                    ended.online_for,
                    Duration::from_secs(u64::from(at_least_secs)),
                    rand::random(),
                );
                match next {
                    Next::Retry { attempt, delay } => {
                        let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
                        self.record(&verdict, attempt, Some(delay_ms), online_ms);
                        tracing::info!(
                            attempt,
                            delay_ms,
                            cause = verdict.cause.key(),
                            "backing off"
                        );
                        self.set_state(ConnectionState::Backoff {
                            attempt,
                            until_ms: self.now().saturating_add(delay),
                            cause: verdict.cause,
                        });
                        self.wait_backoff(delay).await
                    }
                    Next::Pause { attempts } => {
                        // The classifier said "back off" but the policy has no attempt left:
                        // this close is where Herald stops, and its row says so.
                        let stop = Verdict {
                            decision: Decision::Stop {
                                end: EndState::RetriesExhausted,
                            },
                            ..verdict
                        };
                        self.record(&stop, attempts, None, online_ms);
                        self.stop_in(EndState::RetriesExhausted, &stop, archive);
                        self.wait_for_user().await
                    }
                }
            }
            Decision::Stop { end } => {
                self.record(&verdict, 0, None, online_ms);
                self.stop_in(end, &verdict, archive);
                // Closed is where a shutdown ends: there is nobody left to wait for.
                if end == EndState::Closed {
                    return Flow::Exit;
                }
                self.wait_for_user().await
            }
        }
    }

    fn record(&self, verdict: &Verdict, attempt: u32, delay_ms: Option<u64>, online_ms: u64) {
        let d = Disconnect::from_verdict(verdict, self.now(), attempt, delay_ms, online_ms);
        self.update_health(|h| {
            h.last_cause = Some(d.cause);
            h.last_code = d.code;
            h.last_advice = Some(d.advice.clone());
            h.attempt = self.retry.failures;
        });
        self.emit(EngineEvent::Disconnected(d));
    }

    fn stop_in(&mut self, end: EndState, verdict: &Verdict, archive: Option<String>) {
        let state = match end {
            EndState::LoggedOut => {
                self.emit(EngineEvent::LoggedOut {
                    cause: verdict.cause,
                    archive: archive.clone(),
                });
                self.update_health(|h| h.jid = None);
                ConnectionState::LoggedOut
            }
            EndState::Replaced => ConnectionState::Replaced,
            EndState::TempBanned { expire_secs } => ConnectionState::Paused {
                reason: PausedReason::TempBanned {
                    until_ms: expire_secs
                        .map(|s| self.now().saturating_add(Duration::from_secs(s))),
                },
            },
            EndState::ClientOutdated => ConnectionState::Paused {
                reason: PausedReason::ClientOutdated,
            },
            EndState::NeedsAttention => ConnectionState::Paused {
                reason: PausedReason::NeedsAttention,
            },
            EndState::RetriesExhausted => ConnectionState::Paused {
                reason: PausedReason::RetriesExhausted {
                    attempts: self.config.backoff.max_attempts,
                },
            },
            EndState::QrExpired => ConnectionState::QrExpired,
            EndState::Closed => ConnectionState::Closed,
        };
        if let Some(pending) = self.pending_logout.take() {
            // The server removing this device is the unlink confirmed, even when its stream
            // error overtook the answer to our request.
            let removed = verdict.cause == wa_core::disconnect::Cause::DeviceRemoved;
            let _ = pending.reply.send(Ok(LogoutOutcome {
                unlinked_on_server: pending.unlinked_on_server || removed,
                archive,
            }));
        }
        self.set_state(state);
    }

    /// Waits out a backoff delay; commands still work.
    async fn wait_backoff(&mut self, delay: Duration) -> Flow {
        let until = tokio::time::Instant::now() + delay;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => return Flow::Dial,
                cmd = self.commands.recv() => {
                    if let Some(flow) = self.idle_command(cmd) {
                        return flow;
                    }
                }
            }
        }
    }

    /// Stays in a stopped state until a command says otherwise.
    async fn wait_for_user(&mut self) -> Flow {
        loop {
            let cmd = self.commands.recv().await;
            if let Some(flow) = self.idle_command(cmd) {
                return flow;
            }
        }
    }

    /// A command while no socket is open; `Some` ends the wait.
    fn idle_command(&mut self, cmd: Option<Command>) -> Option<Flow> {
        match self.on_command(cmd, Where::Idle) {
            Then::Stay => None,
            Then::Dial => Some(Flow::Dial),
            Then::Exit => Some(Flow::Exit),
            Then::Close(reason) => {
                // Nothing is open to close while idle; the command path never asks it.
                tracing::warn!(?reason, "close requested while idle; ignored");
                None
            }
        }
    }
}
