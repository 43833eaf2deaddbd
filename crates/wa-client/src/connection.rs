//! One connection's life, from dial to close: the supervisor's side that owns the socket.
//!
//! `connect_once` dials and runs the Noise handshake under the connect timeout, then runs the
//! session loop until the connection ends. The loop is the only place that reads the socket's
//! inbound stanzas, the handle's commands, keepalive reports and the phase's deadline, so the
//! order of everything that happens to a connection is the order of this loop. Teardown stops
//! every task of the connection and waits for it before the supervisor dials again.

use std::time::Duration;

use prost::Message as _;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;
use wa_core::binary::Node;
use wa_core::disconnect::{parse, CloseReason, StreamError};

use crate::commands::{Command, Then, Where};
use crate::events::{ConnectionState, EngineEvent};
use crate::keepalive::{self, Report};
use crate::pairing::{IssuedCode, Pairing};
use crate::prekeys::PrekeyError;
use crate::socket::{HandshakeParams, Inbound, IqError, Socket, SocketHandle};
use crate::stanzas;
use crate::store::{Credentials, StoreError};
use crate::supervisor::{Ended, Supervisor};
use crate::transport::TransportError;
use crate::version;
use crate::CommandError;

/// Where a connection is.
pub(crate) enum Phase {
    /// Login payload sent; waiting for `<success>` or `<failure>` until the deadline.
    AwaitingSuccess { deadline: Instant },
    /// Registration payload sent; waiting for `<pair-device>` until the deadline.
    AwaitingRefs { deadline: Instant },
    /// Showing QR codes or a pairing code.
    Pairing(Pairing),
    /// `pair-device-sign` sent; the server restarts the stream (515) next.
    Paired,
    /// Logged in.
    Online,
}

impl Phase {
    fn deadline(&self) -> Option<Instant> {
        match self {
            Phase::AwaitingSuccess { deadline } | Phase::AwaitingRefs { deadline } => {
                Some(*deadline)
            }
            Phase::Pairing(p) => Some(p.deadline()),
            Phase::Paired | Phase::Online => None,
        }
    }
}

/// What a connection's background task reports when it ends.
pub(crate) enum TaskDone {
    Keepalive,
    PostLogin(Result<u32, PrekeyError>),
    Prekeys(Result<u32, PrekeyError>),
    /// A logout's unlink IQ came back (or timed out).
    Unlinked {
        unlinked: bool,
    },
    /// A pairing code was requested from the server.
    PairCode {
        result: Result<IssuedCode, CommandError>,
        reply: oneshot::Sender<Result<String, CommandError>>,
    },
    /// The server confirmed (or not) the end of a code pairing.
    CompanionFinished(Result<(), IqError>),
    /// A messaging request or retry answer finished (it replied on its own).
    Messaging,
}

/// A live connection.
pub(crate) struct Conn {
    pub socket: Socket,
    pub handle: SocketHandle,
    pub creds: Credentials,
    pub phase: Phase,
    pub tasks: JoinSet<TaskDone>,
    pub ka_tx: mpsc::Sender<Report>,
    ka_rx: mpsc::Receiver<Report>,
    pub online_since: Option<Instant>,
    /// Device lists and group metadata of this connection.
    pub messaging: std::sync::Arc<std::sync::Mutex<crate::messaging::Caches>>,
}

impl Conn {
    /// Stops every task of this connection, then the socket, and waits for all of it.
    async fn teardown(mut self) {
        self.tasks.shutdown().await;
        drop(self.ka_rx);
        drop(self.handle);
        self.socket.close().await;
    }
}

enum Event {
    Inbound(Inbound),
    Command(Option<Command>),
    Keepalive(Report),
    Deadline,
    Task(Result<TaskDone, tokio::task::JoinError>),
}

/// A local failure as the classifier sees it, with its whole source chain as the detail.
fn local_store(e: &dyn std::error::Error) -> CloseReason {
    let mut detail = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    CloseReason::LocalStore { detail }
}

fn transport_reason(e: TransportError) -> CloseReason {
    match e {
        TransportError::Certificate(detail) => CloseReason::Certificate { detail },
        TransportError::Network(detail) => CloseReason::Network { detail },
        TransportError::BadUrl { url, detail } => CloseReason::Network {
            detail: format!("{url}: {detail}"),
        },
    }
}

impl Supervisor {
    /// Dials once and runs the connection until it ends.
    pub(crate) async fn connect_once(&mut self) -> Ended {
        let ended = |reason| Ended {
            reason,
            online_for: Duration::ZERO,
        };
        self.set_state(ConnectionState::Connecting {
            attempt: self.retry.failures + 1,
        });
        // What fails here is this computer's session, not the server: its own cause.
        let creds = match self.ensure_credentials() {
            Ok(c) => c,
            Err(e) => return ended(local_store(&e)),
        };
        self.resolve_version().await;
        let payload = match self.client_payload(&creds) {
            Ok(p) => p.encode_to_vec(),
            Err(e) => return ended(local_store(&e)),
        };
        let started = Instant::now();
        let deadline = started + self.config.connect_timeout;
        let now_unix = self.now_ms() / 1000;
        let transport = self.deps.transport.clone();
        let (url, origin) = (self.config.server_url.clone(), self.config.origin.clone());
        let (root, iq_timeout) = (self.config.trusted_root, self.config.iq_timeout);
        let noise_key = creds.noise.clone();
        let dial = async move {
            let link = transport
                .dial(&url, &origin)
                .await
                .map_err(transport_reason)?;
            Socket::handshake(
                link,
                HandshakeParams {
                    noise_key: &noise_key,
                    client_payload: payload,
                    trusted_root: &root,
                    now_unix,
                    iq_timeout,
                },
            )
            .await
        };
        tokio::pin!(dial);
        let socket = loop {
            tokio::select! {
                r = &mut dial => match r {
                    Ok(s) => break s,
                    Err(reason) => return ended(reason),
                },
                _ = tokio::time::sleep_until(deadline) => return ended(CloseReason::ConnectTimeout),
                cmd = self.commands.recv() => {
                    if let Then::Close(reason) = self.on_command(cmd, Where::Dialing) {
                        return ended(reason);
                    }
                }
            }
        };
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "handshake done"
        );
        let phase = if creds.account.is_some() {
            self.set_state(ConnectionState::LoggingIn);
            Phase::AwaitingSuccess { deadline }
        } else {
            Phase::AwaitingRefs { deadline }
        };
        let (ka_tx, ka_rx) = mpsc::channel(16);
        let mut conn = Conn {
            handle: socket.handle(),
            socket,
            creds,
            phase,
            tasks: JoinSet::new(),
            ka_tx,
            ka_rx,
            online_since: None,
            messaging: Default::default(),
        };
        let reason = self.session(&mut conn).await;
        let online_for = conn.online_since.map(|s| s.elapsed()).unwrap_or_default();
        conn.teardown().await;
        Ended { reason, online_for }
    }

    /// Loads the device, generating and storing keys first if there are none, so the keys
    /// in a QR code are always ones that survive a crash.
    fn ensure_credentials(&mut self) -> Result<Credentials, StoreError> {
        let now = self.now_ms();
        // A panic elsewhere cannot leave the store half-written (every write is a
        // transaction), so a poisoned lock still guards a usable store.
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = store.load_credentials()? {
            return Ok(c);
        }
        let creds = Credentials::generate(&mut rand::rngs::OsRng, now);
        store.create_credentials(&creds)?;
        tracing::info!("generated and stored new device keys");
        Ok(creds)
    }

    async fn resolve_version(&mut self) {
        if self.version.is_some() && !self.refresh_version {
            return;
        }
        let force = self.refresh_version;
        self.refresh_version = false;
        let (v, source) = version::resolve(
            &self.config.version,
            &self.store,
            self.deps.version_fetcher.as_ref(),
            self.deps.clock.as_ref(),
            force,
        )
        .await;
        tracing::info!(version = %v, ?source, "WhatsApp Web version");
        self.version = Some((v, source));
        self.update_health(|h| {
            h.version = Some(v.to_string());
            h.version_source = Some(source);
        });
        self.emit(EngineEvent::Version {
            version: v.to_string(),
            source,
        });
    }

    async fn session(&mut self, conn: &mut Conn) -> CloseReason {
        loop {
            let deadline = conn.phase.deadline();
            let event = tokio::select! {
                inbound = conn.socket.next_inbound() => Event::Inbound(inbound),
                cmd = self.commands.recv() => Event::Command(cmd),
                Some(report) = conn.ka_rx.recv() => Event::Keepalive(report),
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => Event::Deadline,
                Some(done) = conn.tasks.join_next(), if !conn.tasks.is_empty() => Event::Task(done),
            };
            let end = match event {
                Event::Inbound(Inbound::Closed(reason)) => Some(reason),
                Event::Inbound(Inbound::Node(node)) => self.on_node(conn, node).await,
                Event::Command(cmd) => match self.on_command(cmd, Where::Session(conn)) {
                    Then::Close(reason) => Some(reason),
                    Then::Stay | Then::Dial | Then::Exit => None,
                },
                Event::Keepalive(report) => self.on_keepalive(report),
                Event::Deadline => self.on_deadline(conn),
                Event::Task(done) => self.on_task_done(conn, done),
            };
            if let Some(reason) = end {
                return reason;
            }
        }
    }

    async fn on_node(&mut self, conn: &mut Conn, node: Node) -> Option<CloseReason> {
        match node.tag.as_ref() {
            "success" => {
                self.on_success(conn, &node);
                None
            }
            "failure" => Some(match parse::failure(&node) {
                Ok(f) => CloseReason::Failure(f),
                Err(e) => CloseReason::StreamError(StreamError::Other {
                    code: None,
                    text: format!("unreadable failure: {e}"),
                }),
            }),
            "stream:error" => Some(match parse::stream_error(&node) {
                Ok(e) => CloseReason::StreamError(e),
                Err(e) => CloseReason::StreamError(StreamError::Other {
                    code: None,
                    text: format!("unreadable stream error: {e}"),
                }),
            }),
            "xmlstreamend" => Some(CloseReason::ServerClosed),
            "iq" => {
                if node.child("pair-device").is_some() {
                    self.on_pair_device(conn, &node).await;
                } else if node.child("pair-success").is_some() {
                    self.on_pair_success(conn, &node).await;
                } else if node.attr_str("type") == Some("get")
                    && node.attr_str("xmlns") == Some("urn:xmpp:ping")
                {
                    if let Some(id) = node.attr_str("id") {
                        let _ = conn.handle.send(stanzas::pong_to_server(id)).await;
                    }
                } else {
                    tracing::debug!(id = node.attr_str("id"), "unhandled iq");
                }
                None
            }
            "notification" => {
                match node.attr_str("type") {
                    Some("companion_reg_refresh") => self.on_reg_refresh(conn, &node),
                    Some("link_code_companion_reg") => self.on_primary_hello(conn, &node).await,
                    Some("encrypt") => self.on_encrypt_notification(conn, &node),
                    Some("devices" | "w:gp2" | "privacy_token") => {
                        self.on_messaging_notification(conn, &node)
                    }
                    other => tracing::debug!(kind = other, "notification"),
                }
                None
            }
            "message" => {
                self.on_message_stanza(conn, &node).await;
                None
            }
            "receipt" => {
                self.on_receipt_stanza(conn, &node);
                None
            }
            "ib" => {
                let children: Vec<&str> = node.children().iter().map(|c| c.tag.as_ref()).collect();
                tracing::debug!(?children, "ib");
                None
            }
            other => {
                tracing::trace!(tag = other, "stanza not handled by the engine");
                None
            }
        }
    }

    fn on_keepalive(&mut self, report: Report) -> Option<CloseReason> {
        match report {
            Report::Pong { rtt } => {
                let at_ms = self.now();
                let rtt_ms = u64::try_from(rtt.as_millis()).unwrap_or(u64::MAX);
                tracing::debug!(rtt_ms, "pong");
                self.update_health(|h| {
                    h.rtt_ms = Some(rtt_ms);
                    h.last_pong_ms = Some(at_ms);
                });
                self.emit(EngineEvent::Pong { at_ms, rtt_ms });
                None
            }
            Report::Timeout { failures } => {
                let last_pong_ms = self.health_snapshot().last_pong_ms;
                tracing::warn!(failures, "keepalive timeout");
                self.emit(EngineEvent::KeepAliveTimeout {
                    failures,
                    last_pong_ms,
                });
                None
            }
            Report::Dead => Some(CloseReason::DeadSocket),
        }
    }

    fn on_deadline(&mut self, conn: &mut Conn) -> Option<CloseReason> {
        match &mut conn.phase {
            Phase::AwaitingSuccess { .. } | Phase::AwaitingRefs { .. } => {
                Some(CloseReason::ConnectTimeout)
            }
            Phase::Pairing(_) => self.on_pairing_deadline(conn),
            Phase::Paired | Phase::Online => None,
        }
    }

    fn on_task_done(
        &mut self,
        conn: &mut Conn,
        done: Result<TaskDone, tokio::task::JoinError>,
    ) -> Option<CloseReason> {
        match done {
            Ok(TaskDone::Unlinked { unlinked }) => {
                return Some(self.on_unlinked(unlinked));
            }
            Ok(TaskDone::PairCode { result, reply }) => {
                self.on_pair_code(conn, result, reply);
            }
            Ok(TaskDone::CompanionFinished(Err(e))) => {
                tracing::warn!(error = %e, "companion_finish not acknowledged");
            }
            Ok(TaskDone::CompanionFinished(Ok(()))) => {}
            Ok(TaskDone::Keepalive) | Ok(TaskDone::Messaging) => {}
            Ok(TaskDone::PostLogin(Ok(n))) | Ok(TaskDone::Prekeys(Ok(n))) => {
                if n > 0 {
                    self.emit(EngineEvent::PrekeysUploaded { count: n });
                }
            }
            Ok(TaskDone::PostLogin(Err(e))) | Ok(TaskDone::Prekeys(Err(e))) => {
                tracing::warn!(error = %e, "post-login upkeep failed");
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => tracing::error!(error = %e, "connection task panicked"),
        }
        None
    }

    pub(crate) fn spawn_keepalive(&self, conn: &mut Conn) {
        let handle = conn.handle.clone();
        let config = self.config.keepalive;
        let reports = conn.ka_tx.clone();
        conn.tasks.spawn(async move {
            keepalive::run(handle, config, reports).await;
            TaskDone::Keepalive
        });
    }
}
