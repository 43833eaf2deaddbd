//! One client connection: the Noise responder, the frame loop, and dispatch by phase
//! (handshake, pairing, logged in). Commands from the control API (kicks, drops, the phone's
//! `pair-success`) arrive on a channel and are handled in the same loop, so a connection's
//! state has exactly one owner.

use std::collections::VecDeque;
use std::sync::Arc;

use rand_core::OsRng;
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, Instant};
use wa_core::binary::{decode, Jid, Node, Server};
use wa_core::noise::{AwaitingClientFinish, FrameDecoder, ReadCipher, Responder};
use wa_core::pair::phone::verify_pair_device_sign;
use wa_core::stanza::pair::{CompanionRegRefresh, CompanionRegRefreshKind, PairDeviceSign};

use crate::acks::{needs_ack, AckBook};
use crate::control::Shared;
use crate::events::SimEvent;
use crate::faults::{ack_owed, lock, restart_required, KickKind};
use crate::iq::{self, LoginSession};
use crate::link::{CloseKind, Out, ServerSide, Writer};
use crate::login::{self, error_chain, Admission};
use crate::pairing::{self, server_id, PairingSession, PendingPair};
use crate::pairing_code;
use crate::registry::{now_unix, Count, Phase};

/// What the control API can ask of a connection.
pub(crate) enum ConnCommand {
    /// Send this stream error and close.
    Kick(KickKind),
    /// Close without a stream error.
    Drop,
    /// The phone scanned our QR: send `pair-success`.
    PairSuccess(Box<PendingPair>),
    /// Send `<notification type="companion_reg_refresh">`.
    CompanionRegRefresh,
    /// Send a stanza (acks enforced as for any other).
    Send(Box<Node>),
}

enum Stage {
    Hello,
    Finish(AwaitingClientFinish),
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
    stalled: watch::Receiver<bool>,
    stalled_since: Option<Instant>,
    backlog: VecDeque<Vec<u8>>,
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
    let stalled = shared.faults.watch_stalled();
    let stalled_since = stalled.borrow().then(Instant::now);
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
        stalled_since,
        stalled,
        backlog: VecDeque::new(),
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
            let stalled = *self.stalled.borrow();
            let ack_deadline = self.acks.next_deadline().filter(|_| !stalled);
            let stage_deadline = self.stage_deadline().filter(|_| !stalled);
            let far = Instant::now() + std::time::Duration::from_secs(86_400);
            let flow = tokio::select! {
                biased;
                command = self.commands.recv(), if self.commands_open => match command {
                    Some(command) => self.on_command(command),
                    None => { self.commands_open = false; Flow::Continue }
                },
                changed = self.stalled.changed() => match changed {
                    Ok(()) => self.on_stall_switch(),
                    Err(_) => Flow::Close("simulator shut down".to_owned()),
                },
                bytes = self.inbound.recv() => match bytes {
                    None => Flow::Close("client closed".to_owned()),
                    Some(bytes) if stalled => { self.backlog.push_back(bytes); Flow::Continue }
                    Some(bytes) => self.on_bytes(&bytes),
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
        let stalled = *self.stalled.borrow_and_update();
        if stalled {
            self.stalled_since.get_or_insert_with(Instant::now);
            return Flow::Continue;
        }
        // A hung server enforces nothing, so deadlines move by the time it was hung.
        if let Some(since) = self.stalled_since.take() {
            let paused = since.elapsed();
            self.acks.postpone(paused);
            if let Stage::Pairing(p) = &mut self.stage {
                p.close_at += paused;
            }
            self.handshake_deadline += paused;
        }
        while let Some(bytes) = self.backlog.pop_front() {
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

    fn on_command(&mut self, command: ConnCommand) -> Flow {
        match command {
            ConnCommand::Drop => {
                tracing::info!(conn = self.id, "fault: dropping the connection");
                self.writer.abort();
                Flow::Close("dropped (fault, no stream error)".to_owned())
            }
            ConnCommand::Kick(kind) if self.has_transport() => {
                if let (KickKind::DeviceRemoved, Stage::LoggedIn(s)) = (kind, &self.stage) {
                    let mut store = lock(&self.shared.store);
                    if store.data.devices.remove(&s.device).is_some() {
                        if let Err(e) = store.save() {
                            tracing::error!(error = %e, "could not persist a device removal");
                        }
                    }
                }
                tracing::info!(conn = self.id, ?kind, "kicked with a stream error");
                self.close_with(
                    kind.stream_error(),
                    format!("kicked: stream error {kind:?}"),
                )
            }
            ConnCommand::Kick(kind) => {
                tracing::info!(
                    conn = self.id,
                    ?kind,
                    "kick before the handshake finished; closing"
                );
                self.writer
                    .send(Out::Close(CloseKind::Graceful), self.delay());
                Flow::Close(format!("kicked during the handshake ({kind:?})"))
            }
            ConnCommand::PairSuccess(pending) => {
                let Stage::Pairing(session) = &mut self.stage else {
                    tracing::warn!(
                        conn = self.id,
                        "pair-success for a connection that is not pairing"
                    );
                    return Flow::Continue;
                };
                let node = pending.success.to_node();
                session.pending = Some(*pending);
                lock(&self.shared.registry).update(self.id, |i| i.phase = Phase::PairSigning);
                self.send(node);
                Flow::Continue
            }
            ConnCommand::CompanionRegRefresh => {
                if matches!(self.stage, Stage::Pairing(_)) {
                    let refresh = CompanionRegRefresh {
                        id: server_id(),
                        from: Jid::server_jid(Server::Pn),
                        kind: CompanionRegRefreshKind::RegRefresh,
                    };
                    self.send(refresh.to_node(now_unix()));
                }
                Flow::Continue
            }
            ConnCommand::Send(node) => {
                if self.has_transport() {
                    self.send(*node);
                }
                Flow::Continue
            }
        }
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

    fn on_bytes(&mut self, bytes: &[u8]) -> Flow {
        if let Err(e) = self.decoder.push(bytes) {
            tracing::warn!(conn = self.id, error = %e, "bad framing from the client");
            return Flow::Close(format!("bad framing: {e}"));
        }
        loop {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => {
                    if let Flow::Close(outcome) = self.on_frame(frame) {
                        return Flow::Close(outcome);
                    }
                }
                Ok(None) => return Flow::Continue,
                Err(e) => {
                    tracing::warn!(conn = self.id, error = %e, "bad framing from the client");
                    return Flow::Close(format!("bad framing: {e}"));
                }
            }
        }
    }

    fn on_frame(&mut self, mut frame: Vec<u8>) -> Flow {
        match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Hello => {
                let identity = self.shared.server_identity();
                let responder = Responder::with_rng(identity.noise_static, &mut OsRng);
                match responder.read_client_hello(&frame, &identity.cert_chain) {
                    Ok((awaiting, hello)) => {
                        self.writer.send(Out::Handshake(hello), self.delay());
                        self.stage = Stage::Finish(awaiting);
                        Flow::Continue
                    }
                    Err(e) => self.handshake_failed("ClientHello", &e),
                }
            }
            Stage::Finish(awaiting) => match awaiting.read_client_finish(&frame) {
                Ok(finished) => {
                    let (write, read) = finished.transport.split();
                    self.writer.send(Out::Cipher(write), self.delay());
                    self.reader = Some(read);
                    lock(&self.shared.registry).count(Count::Handshake);
                    let (admission, version) = login::admit(
                        &self.shared,
                        &finished.client_static,
                        &finished.client_payload,
                    );
                    if let Some(v) = version {
                        lock(&self.shared.registry)
                            .update(self.id, |i| i.app_version = Some(v.to_string()));
                    }
                    self.on_admission(admission, finished.client_static)
                }
                Err(e) => self.handshake_failed("ClientFinish", &e),
            },
            stage @ (Stage::Pairing(_) | Stage::LoggedIn(_)) => {
                self.stage = stage;
                let Some(reader) = self.reader.as_mut() else {
                    return Flow::Close("no transport cipher".to_owned());
                };
                if let Err(e) = reader.decrypt_in_place(&mut frame) {
                    tracing::warn!(conn = self.id, error = %e, "a frame failed to decrypt (tampered, reordered or wrong key); closing");
                    return Flow::Close("frame failed to decrypt (tampered)".to_owned());
                }
                match decode(&frame) {
                    Ok(node) => self.on_node(node),
                    Err(e) => {
                        tracing::warn!(conn = self.id, error = %error_chain(&e), "a frame does not decode as a node");
                        let node = KickKind::XmlNotWellFormed.stream_error();
                        self.close_with(node, format!("stream error xml-not-well-formed: {e}"))
                    }
                }
            }
            Stage::Done => Flow::Close("frame after the end".to_owned()),
        }
    }

    fn handshake_failed(&mut self, step: &'static str, e: &wa_core::noise::NoiseError) -> Flow {
        lock(&self.shared.registry).count(Count::Rejection);
        tracing::warn!(conn = self.id, step, error = %error_chain(e), "Noise handshake failed");
        self.writer
            .send(Out::Close(CloseKind::Graceful), self.delay());
        Flow::Close(format!("handshake failed at {step}: {e}"))
    }

    fn on_admission(
        &mut self,
        admission: Admission,
        client_static: wa_core::signal::PublicKey,
    ) -> Flow {
        match admission {
            Admission::Refused {
                failure,
                reason,
                why,
            } => {
                tracing::warn!(conn = self.id, reason, %why, "login refused with <failure>");
                self.shared.events.emit(SimEvent::FailureSent {
                    conn: self.id,
                    reason,
                    why: why.clone(),
                });
                // The stage stays Done: nothing the client sends now is answered.
                self.close_with(failure, format!("failure {reason}: {why}"))
            }
            Admission::Register(registration) => {
                lock(&self.shared.registry).count(Count::Registration);
                tracing::info!(conn = self.id, os = ?registration.device_props.os, "registration accepted; sending pair-device");
                let (session, pair_device) =
                    pairing::start(&self.shared, self.id, *registration, client_static);
                lock(&self.shared.registry).update(self.id, |i| i.phase = Phase::Pairing);
                self.stage = Stage::Pairing(Box::new(session));
                self.send(pair_device);
                Flow::Continue
            }
            Admission::Login(device) => {
                // A new login takes the session over from any other connection of the device.
                let others = lock(&self.shared.registry).logged_in_as(&device.jid);
                for other in others {
                    tracing::info!(conn = other, device = %device.jid, "replaced by a new login");
                    self.shared
                        .command(other, ConnCommand::Kick(KickKind::Replaced));
                }
                {
                    let mut registry = lock(&self.shared.registry);
                    registry.count(Count::Login);
                    registry.update(self.id, |i| {
                        i.phase = Phase::LoggedIn;
                        i.device = Some(device.jid.clone());
                    });
                }
                tracing::info!(conn = self.id, device = %device.jid, "login accepted");
                self.shared.events.emit(SimEvent::LoggedIn {
                    conn: self.id,
                    jid: device.jid.clone(),
                });
                let success = login::success_node(&self.shared, &device);
                self.stage = Stage::LoggedIn(Box::new(LoginSession {
                    device: device.device,
                    jid: device.jid.clone(),
                    active: false,
                    offline_sent: false,
                }));
                self.send(success);
                Flow::Continue
            }
        }
    }

    fn on_node(&mut self, node: Node) -> Flow {
        tracing::debug!(conn = self.id, stanza = %node, "recv");
        match node.tag.as_ref() {
            "ack" => {
                match self.acks.settle(&node) {
                    Ok(_) => {
                        let owed = self.acks.len();
                        lock(&self.shared.registry).update(self.id, |i| i.acks_owed = owed);
                    }
                    Err(problem) => {
                        tracing::warn!(conn = self.id, %problem, stanza = %node, "ack does not settle anything");
                    }
                }
                Flow::Continue
            }
            "iq" => self.on_iq(node),
            "presence" => {
                let presence = node.attr_str("type").unwrap_or("available").to_owned();
                lock(&self.shared.registry).update(self.id, |i| i.presence = Some(presence));
                Flow::Continue
            }
            _ => {
                tracing::info!(conn = self.id, stanza = %node, "stanza not simulated; ignored");
                Flow::Continue
            }
        }
    }

    fn on_iq(&mut self, node: Node) -> Flow {
        let (Some(id), Some(iq_type)) = (
            node.attr("id").map(ToString::to_string),
            node.attr_str("type").map(str::to_owned),
        ) else {
            lock(&self.shared.registry).count(Count::Rejection);
            tracing::warn!(conn = self.id, stanza = %node, "iq without id or type; ignored");
            return Flow::Continue;
        };
        if iq::is_ping(&node) {
            lock(&self.shared.registry).ping(self.id);
            self.shared
                .events
                .emit(SimEvent::PingAnswered { conn: self.id });
            self.send(iq::pong(&id));
            return Flow::Continue;
        }
        match &mut self.stage {
            Stage::Pairing(_) => self.on_pairing_iq(node, &id, &iq_type),
            Stage::LoggedIn(session) => {
                if iq_type == "result" || iq_type == "error" {
                    tracing::debug!(conn = self.id, stanza = %node, "iq answer ignored");
                    return Flow::Continue;
                }
                let response = iq::handle(&self.shared, self.id, session, &node, &id);
                if let Some(reply) = response.reply {
                    self.send(reply);
                }
                for then in response.then {
                    self.send(then);
                }
                match response.close {
                    Some((stream_error, outcome)) => self.close_with(stream_error, outcome),
                    None => Flow::Continue,
                }
            }
            _ => Flow::Continue,
        }
    }

    fn on_pairing_iq(&mut self, node: Node, id: &str, iq_type: &str) -> Flow {
        let Stage::Pairing(session) = &mut self.stage else {
            return Flow::Continue;
        };
        let pending_id = session.pending.as_ref().map(|p| p.iq_id.clone());
        match iq_type {
            "result" if id == session.pair_device_id => {
                session.pair_device_acked = true;
                Flow::Continue
            }
            "result" if Some(id) == pending_id.as_deref() => self.on_pair_device_sign(&node),
            "error" if Some(id) == pending_id.as_deref() => {
                let why = format!("client refused pair-success: {node}");
                self.pairing_rejected(why)
            }
            "set" if node.child("link_code_companion_reg").is_some() => {
                let stage = node.children()[0].attr_str("stage").unwrap_or("");
                let result = match stage {
                    "companion_hello" => {
                        pairing_code::companion_hello(&self.shared, self.id, session, &node)
                            .map(|reply| (reply, None))
                    }
                    "companion_finish" => {
                        pairing_code::companion_finish(&self.shared, self.id, session, &node)
                            .map(|(reply, pending)| (reply, Some(pending)))
                    }
                    _ => Err(pairing_code::Refusal {
                        reply: iq::error(id, 400, "bad-request"),
                        why: format!("unknown link_code_companion_reg stage {stage:?}"),
                    }),
                };
                match result {
                    Ok((reply, pending)) => {
                        self.send(reply);
                        if let Some(pending) = pending {
                            return self.on_command(ConnCommand::PairSuccess(pending));
                        }
                    }
                    Err(refusal) => {
                        lock(&self.shared.registry).count(Count::Rejection);
                        tracing::warn!(conn = self.id, reason = %refusal.why, "pairing code step refused");
                        self.send(refusal.reply);
                    }
                }
                Flow::Continue
            }
            "get" | "set" => {
                tracing::warn!(conn = self.id, stanza = %node, "iq before pairing finished; not authorized");
                self.send(iq::error(id, 401, "not-authorized"));
                Flow::Continue
            }
            _ => Flow::Continue,
        }
    }

    fn on_pair_device_sign(&mut self, node: &Node) -> Flow {
        let Stage::Pairing(session) = &mut self.stage else {
            return Flow::Continue;
        };
        let Some(pending) = session.pending.take() else {
            return Flow::Continue;
        };
        let sign = match PairDeviceSign::parse(node) {
            Ok(sign) => sign,
            Err(e) => return self.pairing_rejected(format!("pair-device-sign: {e}")),
        };
        if let Err(e) =
            verify_pair_device_sign(&pending.issued, sign.key_index, &sign.device_identity)
        {
            return self.pairing_rejected(format!("pair-device-sign: {}", error_chain(&e)));
        }
        let jid = pending.device.jid.clone();
        if let Err(why) = pairing::persist(&self.shared, pending.device) {
            tracing::error!(conn = self.id, %why, "could not persist the new device");
        }
        lock(&self.shared.registry).count(Count::Pairing);
        tracing::info!(conn = self.id, device = %jid, "device paired; sending 515");
        self.shared.events.emit(SimEvent::Paired {
            conn: self.id,
            jid: jid.clone(),
        });
        self.close_with(
            restart_required(),
            format!("paired as {jid}; stream error 515"),
        )
    }

    fn pairing_rejected(&mut self, why: String) -> Flow {
        lock(&self.shared.registry).count(Count::Rejection);
        tracing::warn!(conn = self.id, reason = %why, "pairing refused; closing");
        self.shared.events.emit(SimEvent::PairingRejected {
            conn: self.id,
            reason: why.clone(),
        });
        // What the real server sends here is unverified; it is closed without a stream error.
        self.writer
            .send(Out::Close(CloseKind::Graceful), self.delay());
        Flow::Close(format!("pairing refused: {why}"))
    }
}
