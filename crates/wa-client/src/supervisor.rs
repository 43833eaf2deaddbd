//! The supervisor: one task, the only owner of the socket, and the connection state machine.
//!
//! It dials (`connection.rs`), lets the connection run until it ends, asks wa-core's
//! classifier what the end means, and then reconnects at once, backs off, or stops in a named
//! state until the user acts. What it tells the world goes through the outbox (`outbox.rs`),
//! which updates the `watch` of the state, then the health snapshot, then sends the event, in
//! that order. Handlers never see the supervisor: they get the shared [`Ctx`] and the part
//! of its state they may change (the [`Episode`], the [`Pending`] requests).

use std::time::Duration;

use tokio::sync::mpsc;
use wa_core::backoff::Next;
use wa_core::disconnect::{classify, Cause, Decision, EndState, Verdict};

use crate::commands::{self, Command, Desk, Then, Where};
use crate::connection::{self, Ended, Lent};
use crate::ctx::Ctx;
use crate::episode::Episode;
use crate::events::{ConnectionState, Disconnect, EngineEvent, PausedReason};
use crate::lock::SessionLock;
use crate::pending::Pending;

/// What the supervisor does after handling a close.
enum Flow {
    Dial,
    Exit,
}

pub(crate) struct Supervisor {
    ctx: Ctx,
    commands: mpsc::Receiver<Command>,
    episode: Episode,
    pending: Pending,
    /// Held for the engine's life: one process per data folder.
    _lock: SessionLock,
}

impl Supervisor {
    pub(crate) fn new(ctx: Ctx, lock: SessionLock, commands: mpsc::Receiver<Command>) -> Self {
        Self {
            ctx,
            commands,
            episode: Episode::default(),
            pending: Pending::default(),
            _lock: lock,
        }
    }

    pub(crate) async fn run(mut self) {
        loop {
            let ended = connection::connect_once(Lent {
                ctx: &self.ctx,
                episode: &mut self.episode,
                pending: &mut self.pending,
                commands: &mut self.commands,
            })
            .await;
            match self.after_close(ended).await {
                Flow::Dial => continue,
                Flow::Exit => break,
            }
        }
        self.pending.engine_stopped();
        if self.ctx.out().state() != ConnectionState::Closed {
            self.ctx.out().set_state(ConnectionState::Closed);
        }
        tracing::info!("engine stopped");
    }

    /// Classifies the close and acts on it.
    async fn after_close(&mut self, ended: Ended) -> Flow {
        let verdict = classify(&ended.reason, self.episode.classify_context());
        let online_ms = u64::try_from(ended.online_for.as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            cause = verdict.cause.key(),
            code = verdict.code,
            online_ms,
            "disconnected"
        );
        self.episode.on_verdict(&verdict);
        let archive = if verdict.archive_session {
            self.ctx.archive(verdict.cause.key())
        } else {
            None
        };
        let policy = self.ctx.config().backoff;
        match verdict.decision {
            Decision::ReconnectNow => {
                self.episode.on_immediate(&policy, ended.online_for);
                self.record(&verdict, 0, Some(0), online_ms);
                Flow::Dial
            }
            Decision::Backoff { at_least_secs } => {
                let next = self.episode.on_backoff(
                    &policy,
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
                        self.ctx.out().set_state(ConnectionState::Backoff {
                            attempt,
                            until_ms: self.ctx.now().saturating_add(delay),
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
        let d = Disconnect::from_verdict(verdict, self.ctx.now(), attempt, delay_ms, online_ms);
        self.ctx.out().disconnected(d, self.episode.failures());
    }

    fn stop_in(&mut self, end: EndState, verdict: &Verdict, archive: Option<String>) {
        let out = self.ctx.out();
        let state = match end {
            EndState::LoggedOut => {
                out.emit(EngineEvent::LoggedOut {
                    cause: verdict.cause,
                    archive: archive.clone(),
                });
                ConnectionState::LoggedOut
            }
            EndState::Replaced => ConnectionState::Replaced,
            EndState::TempBanned { expire_secs } => ConnectionState::Paused {
                reason: PausedReason::TempBanned {
                    until_ms: expire_secs
                        .map(|s| self.ctx.now().saturating_add(Duration::from_secs(s))),
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
                    attempts: self.ctx.config().backoff.max_attempts,
                },
            },
            EndState::QrExpired => ConnectionState::QrExpired,
            EndState::Closed => ConnectionState::Closed,
        };
        self.pending
            .stopped(verdict.cause == Cause::DeviceRemoved, archive);
        out.set_state(state);
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
        let desk = Desk {
            ctx: &self.ctx,
            episode: &mut self.episode,
            pending: &mut self.pending,
        };
        match commands::on_command(desk, cmd, Where::Idle) {
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
