//! One client connection: the Noise responder, the frame loop, and dispatch by phase
//! (handshake, pairing, logged in). Commands from the control API (kicks, drops, the phone's
//! `pair-success`) arrive on a channel and are handled in the same loop, so a connection's
//! state has exactly one owner.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, Instant};
use wa_core::binary::Node;
use wa_core::noise::{AwaitingClientFinish, FrameDecoder, ReadCipher};

use crate::acks::{needs_ack, AckBook};
use crate::iq::LoginSession;
use crate::link::{CloseKind, Out, ServerSide, Writer};
use crate::pairing::PairingSession;
use crate::shared::events::SimEvent;
use crate::shared::faults::{ack_owed, lock};
use crate::shared::registry::Count;
use crate::shared::{ConnCommand, Shared};

mod commands;
mod dispatch;
mod handshake;
mod pairing_iq;

enum Stage {
    Hello,
    Finish(Box<AwaitingClientFinish>),
    Pairing(Box<PairingSession>),
    LoggedIn(Box<LoginSession>),
    Done,
}

enum Flow {
    Continue,
    Close(String),
}

struct Conn {
    shared: Arc<Shared>,
    id: u64,
    inbound: mpsc::Receiver<Vec<u8>>,
    commands: mpsc::UnboundedReceiver<ConnCommand>,
    commands_open: bool,
    writer: Writer,
    decoder: FrameDecoder,
    reader: Option<ReadCipher>,
    stage: Stage,
    acks: AckBook,
    handshake_deadline: Instant,
    /// The simulator-wide stall switch.
    stall_switch: watch::Receiver<bool>,
    stall: Stall,
}

/// Whether this connection answers: a stalled server keeps what arrives, in order, and says
/// nothing until it is unstalled.
enum Stall {
    Answering,
    Stalled {
        since: Instant,
        backlog: VecDeque<Vec<u8>>,
    },
}

impl Stall {
    fn now(stalled: bool) -> Stall {
        if stalled {
            Stall::Stalled {
                since: Instant::now(),
                backlog: VecDeque::new(),
            }
        } else {
            Stall::Answering
        }
    }
}

/// Serves one connection until it ends, then records its outcome.
pub(crate) async fn run(shared: Arc<Shared>, side: ServerSide, transport: &'static str) {
    let (commands_tx, commands) = mpsc::unbounded_channel();
    let id = lock(&shared.registry).open(transport, commands_tx);
    tracing::info!(conn = id, transport, "client connected");
    shared.events.emit(SimEvent::Connected {
        conn: id,
        transport,
    });
    let stall_switch = shared.faults.watch_stalled();
    let stall = Stall::now(*stall_switch.borrow());
    let mut conn = Conn {
        handshake_deadline: Instant::now() + shared.config.handshake_timeout,
        shared: shared.clone(),
        id,
        inbound: side.inbound,
        commands,
        commands_open: true,
        writer: Writer::spawn(side.outbound, side.on_close),
        decoder: FrameDecoder::server(),
        reader: None,
        stage: Stage::Hello,
        acks: AckBook::default(),
        stall_switch,
        stall,
    };
    let outcome = conn.serve().await;
    drop(conn);
    lock(&shared.book).forget(id);
    lock(&shared.registry).close(id, outcome.clone());
    tracing::info!(conn = id, %outcome, "connection closed");
    shared.events.emit(SimEvent::Closed { conn: id, outcome });
}

impl Conn {
    async fn serve(&mut self) -> String {
        loop {
            let stalled = matches!(self.stall, Stall::Stalled { .. });
            let ack_deadline = self.acks.next_deadline().filter(|_| !stalled);
            let stage_deadline = self.stage_deadline().filter(|_| !stalled);
            let far = Instant::now() + std::time::Duration::from_secs(86_400);
            let flow = tokio::select! {
                biased;
                command = self.commands.recv(), if self.commands_open => match command {
                    Some(command) => self.on_command(command),
                    None => { self.commands_open = false; Flow::Continue }
                },
                changed = self.stall_switch.changed() => match changed {
                    Ok(()) => self.on_stall_switch(),
                    Err(_) => Flow::Close("simulator shut down".to_owned()),
                },
                bytes = self.inbound.recv() => match bytes {
                    None => Flow::Close("client closed".to_owned()),
                    Some(bytes) => match &mut self.stall {
                        Stall::Stalled { backlog, .. } => { backlog.push_back(bytes); Flow::Continue }
                        Stall::Answering => self.on_bytes(&bytes),
                    },
                },
                () = sleep_until(ack_deadline.unwrap_or(far)), if ack_deadline.is_some() => {
                    self.on_ack_overdue()
                }
                () = sleep_until(stage_deadline.unwrap_or(far)), if stage_deadline.is_some() => {
                    self.on_stage_deadline()
                }
            };
            if let Flow::Close(outcome) = flow {
                return outcome;
            }
        }
    }

    fn stage_deadline(&self) -> Option<Instant> {
        match &self.stage {
            Stage::Hello | Stage::Finish(_) => Some(self.handshake_deadline),
            Stage::Pairing(p) => Some(p.close_at),
            Stage::LoggedIn(_) | Stage::Done => None,
        }
    }

    fn on_stage_deadline(&mut self) -> Flow {
        match &self.stage {
            Stage::Pairing(_) => {
                tracing::info!(conn = self.id, "every ref expired without a scan; closing");
                self.writer
                    .send(Out::Close(CloseKind::Graceful), self.delay());
                Flow::Close("pairing refs exhausted".to_owned())
            }
            _ => {
                tracing::warn!(
                    conn = self.id,
                    "client did not finish the Noise handshake in time"
                );
                Flow::Close("handshake timed out".to_owned())
            }
        }
    }

    fn on_stall_switch(&mut self) -> Flow {
        let stalled = *self.stall_switch.borrow_and_update();
        let was = std::mem::replace(&mut self.stall, Stall::Answering);
        let (since, mut backlog) = match (was, stalled) {
            (Stall::Stalled { since, backlog }, false) => (since, backlog),
            (Stall::Answering, true) => {
                self.stall = Stall::now(true);
                return Flow::Continue;
            }
            (unchanged, _) => {
                self.stall = unchanged;
                return Flow::Continue;
            }
        };
        // A hung server enforces nothing, so deadlines move by the time it was hung.
        let paused = since.elapsed();
        self.acks.postpone(paused);
        if let Stage::Pairing(p) = &mut self.stage {
            p.close_at += paused;
        }
        self.handshake_deadline += paused;
        while let Some(bytes) = backlog.pop_front() {
            if let Flow::Close(outcome) = self.on_bytes(&bytes) {
                return Flow::Close(outcome);
            }
        }
        Flow::Continue
    }

    fn delay(&self) -> std::time::Duration {
        self.shared.faults.delay()
    }

    /// Sends a node, recording an owed ack for stanzas that need one.
    fn send(&mut self, node: Node) {
        let delay = self.delay();
        if needs_ack(&node.tag) {
            self.acks.owe(
                &node,
                Instant::now(),
                delay + self.shared.config.ack_deadline,
            );
            let owed = self.acks.len();
            lock(&self.shared.registry).update(self.id, |i| i.acks_owed = owed);
        }
        tracing::debug!(conn = self.id, stanza = %node, "send");
        self.writer.send(Out::Node(node), delay);
    }

    /// Sends a `<stream:error>` (or `<failure>`), the stream end, and closes.
    fn close_with(&mut self, node: Node, outcome: String) -> Flow {
        let count = if node.tag == "failure" {
            Count::Failure
        } else {
            Count::StreamError
        };
        lock(&self.shared.registry).count(count);
        self.send(node);
        self.send(Node::new("xmlstreamend"));
        self.writer
            .send(Out::Close(CloseKind::Graceful), self.delay());
        Flow::Close(outcome)
    }

    fn has_transport(&self) -> bool {
        matches!(self.stage, Stage::Pairing(_) | Stage::LoggedIn(_))
    }

    fn on_ack_overdue(&mut self) -> Flow {
        let Some(owed) = self.acks.overdue(Instant::now()).cloned() else {
            return Flow::Continue;
        };
        lock(&self.shared.registry).count(Count::AckMissed);
        tracing::warn!(
            conn = self.id,
            id = %owed.id,
            class = %owed.class,
            deadline_ms = self.shared.config.ack_deadline.as_millis(),
            "client did not ack in time; recycling the stream"
        );
        let outcome = format!(
            "stream error ack: {} {} not acked in time",
            owed.class, owed.id
        );
        self.close_with(ack_owed(&owed.id, &owed.class), outcome)
    }
}
