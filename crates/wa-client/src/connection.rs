//! One connection's life, from dial to close.
//!
//! [`connect_once`] dials and runs the Noise handshake under the connect timeout, then runs the
//! session loop until the connection ends. The loop is the only place that reads the socket's
//! inbound stanzas, the handle's commands, keepalive reports and the phase's deadline, so the
//! order of everything that happens to a connection is the order of this loop. Teardown stops
//! every task of the connection and waits for it before the supervisor dials again.

use std::time::Duration;

use prost::Message as _;
use tokio::sync::mpsc;
use tokio::time::Instant;
use wa_core::binary::Node;
use wa_core::disconnect::{parse, CloseReason, StreamError};

use crate::commands::{self, Command, Desk, Then, Where};
use crate::conn::{Conn, Happening, Phase, TaskDone};
use crate::ctx::Ctx;
use crate::episode::Episode;
use crate::events::{ConnectionState, EngineEvent};
use crate::keepalive::Report;
use crate::linking;
use crate::login;
use crate::messaging;
use crate::pending::Pending;
use crate::socket::{HandshakeParams, Inbound, Socket};
use crate::stanzas;
use crate::store::{Credentials, StoreError};
use crate::transport::TransportError;
use crate::version;

/// How one connection ended.
pub(crate) struct Ended {
    pub reason: CloseReason,
    /// Time spent online (zero if it never logged in).
    pub online_for: Duration,
}

/// What the supervisor lends a connection: the context, the episode, the waiting requests and
/// the command channel.
pub(crate) struct Lent<'a> {
    pub ctx: &'a Ctx,
    pub episode: &'a mut Episode,
    pub pending: &'a mut Pending,
    pub commands: &'a mut mpsc::Receiver<Command>,
}

impl Lent<'_> {
    fn desk(&mut self) -> Desk<'_> {
        Desk {
            ctx: self.ctx,
            episode: &mut *self.episode,
            pending: &mut *self.pending,
        }
    }
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

/// Dials once and runs the connection until it ends.
pub(crate) async fn connect_once(mut lent: Lent<'_>) -> Ended {
    let ctx = lent.ctx;
    let ended = |reason| Ended {
        reason,
        online_for: Duration::ZERO,
    };
    ctx.out().set_state(ConnectionState::Connecting {
        attempt: lent.episode.failures() + 1,
    });
    // What fails here is this computer's session, not the server: its own cause.
    let creds = match ensure_credentials(ctx) {
        Ok(c) => c,
        Err(e) => return ended(local_store(&e)),
    };
    resolve_version(ctx, lent.episode).await;
    let payload = match login::client_payload(ctx.config(), lent.episode.version(), &creds) {
        Ok(p) => p.encode_to_vec(),
        Err(e) => return ended(local_store(&e)),
    };
    let started = Instant::now();
    let config = ctx.config();
    let deadline = started + config.connect_timeout;
    let now_unix = ctx.now_ms() / 1000;
    let transport = ctx.transport();
    let (url, origin) = (config.server_url.clone(), config.origin.clone());
    let (root, iq_timeout) = (config.trusted_root, config.iq_timeout);
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
        let cmd = tokio::select! {
            r = &mut dial => match r {
                Ok(s) => break s,
                Err(reason) => return ended(reason),
            },
            _ = tokio::time::sleep_until(deadline) => return ended(CloseReason::ConnectTimeout),
            cmd = lent.commands.recv() => cmd,
        };
        if let Then::Close(reason) = commands::on_command(lent.desk(), cmd, Where::Dialing) {
            return ended(reason);
        }
    };
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "handshake done"
    );
    let phase = if creds.account.is_some() {
        ctx.out().set_state(ConnectionState::LoggingIn);
        Phase::AwaitingSuccess { deadline }
    } else {
        Phase::AwaitingRefs { deadline }
    };
    let mut conn = Conn::new(socket, creds, phase);
    let reason = session(&mut lent, &mut conn).await;
    let online_for = conn.online_for();
    conn.teardown().await;
    Ended { reason, online_for }
}

/// Loads the device, generating and storing keys first if there are none, so the keys in a
/// QR code are always ones that survive a crash.
fn ensure_credentials(ctx: &Ctx) -> Result<Credentials, StoreError> {
    let now = ctx.now_ms();
    ctx.with_store(|store| {
        if let Some(c) = store.load_credentials()? {
            return Ok(c);
        }
        let creds = Credentials::generate(&mut rand::rngs::OsRng, now);
        store.create_credentials(&creds)?;
        tracing::info!("generated and stored new device keys");
        Ok(creds)
    })
}

async fn resolve_version(ctx: &Ctx, episode: &mut Episode) {
    let Some(force) = episode.version_to_resolve() else {
        return;
    };
    let (v, source) = version::resolve(
        &ctx.config().version,
        ctx.store(),
        ctx.version_fetcher(),
        ctx.clock(),
        force,
    )
    .await;
    tracing::info!(version = %v, ?source, "WhatsApp Web version");
    episode.set_version(v, source);
    ctx.out().emit(EngineEvent::Version {
        version: v.to_string(),
        source,
    });
}

/// What woke the session loop.
enum Woke {
    Conn(Happening),
    Command(Option<Command>),
}

async fn session(lent: &mut Lent<'_>, conn: &mut Conn) -> CloseReason {
    let ctx = lent.ctx;
    loop {
        let woke = tokio::select! {
            happening = conn.next() => Woke::Conn(happening),
            cmd = lent.commands.recv() => Woke::Command(cmd),
        };
        let end = match woke {
            Woke::Conn(Happening::Inbound(Inbound::Closed(reason))) => Some(reason),
            Woke::Conn(Happening::Inbound(Inbound::Node(node))) => on_node(lent, conn, node).await,
            Woke::Conn(Happening::Keepalive(report)) => on_keepalive(ctx, report),
            Woke::Conn(Happening::Deadline) => on_deadline(ctx, conn),
            Woke::Conn(Happening::Task(done)) => on_task_done(lent, conn, done),
            Woke::Command(cmd) => {
                match commands::on_command(lent.desk(), cmd, Where::Session(conn)) {
                    Then::Close(reason) => Some(reason),
                    Then::Stay | Then::Dial | Then::Exit => None,
                }
            }
        };
        if let Some(reason) = end {
            return reason;
        }
    }
}

/// What messaging needs of the connection.
fn link(conn: &Conn) -> messaging::LinkParts<'_> {
    messaging::LinkParts {
        handle: conn.handle(),
        creds: conn.creds(),
        online: conn.is_online(),
        caches: conn.messaging_caches(),
    }
}

async fn on_node(lent: &mut Lent<'_>, conn: &mut Conn, node: Node) -> Option<CloseReason> {
    let ctx = lent.ctx;
    match node.tag.as_ref() {
        "success" => {
            login::on_success(ctx, lent.episode, conn, &node);
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
                linking::on_pair_device(ctx, lent.pending, conn, &node).await;
            } else if node.child("pair-success").is_some() {
                linking::on_pair_success(ctx, conn, &node).await;
            } else if node.attr_str("type") == Some("get")
                && node.attr_str("xmlns") == Some("urn:xmpp:ping")
            {
                if let Some(id) = node.attr_str("id") {
                    let _ = conn.handle().send(stanzas::pong_to_server(id)).await;
                }
            } else {
                tracing::debug!(id = node.attr_str("id"), "unhandled iq");
            }
            None
        }
        "notification" => {
            match node.attr_str("type") {
                Some("companion_reg_refresh") => linking::on_reg_refresh(ctx, conn),
                Some("link_code_companion_reg") => linking::on_primary_hello(conn, &node),
                Some("encrypt") => login::on_encrypt_notification(ctx, conn, &node),
                Some("devices" | "w:gp2" | "privacy_token") => {
                    messaging::on_notification(ctx, link(conn), &node)
                }
                other => tracing::debug!(kind = other, "notification"),
            }
            None
        }
        "message" => {
            for answer in messaging::on_message(ctx, link(conn), &node) {
                if conn.handle().send(answer).await.is_err() {
                    break;
                }
            }
            None
        }
        "receipt" => {
            let work = messaging::on_receipt(ctx, link(conn), &node);
            if let Some(ack) = work.ack_now {
                let _ = conn.handle().send(ack).await;
            }
            for task in work.tasks {
                conn.spawn(async move {
                    task.await;
                    TaskDone::Messaging
                });
            }
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

fn on_keepalive(ctx: &Ctx, report: Report) -> Option<CloseReason> {
    match report {
        Report::Pong { rtt } => {
            let rtt_ms = u64::try_from(rtt.as_millis()).unwrap_or(u64::MAX);
            tracing::debug!(rtt_ms, "pong");
            ctx.out().emit(EngineEvent::Pong {
                at_ms: ctx.now(),
                rtt_ms,
            });
            None
        }
        Report::Timeout { failures } => {
            tracing::warn!(failures, "keepalive timeout");
            ctx.out().emit(EngineEvent::KeepAliveTimeout {
                failures,
                last_pong_ms: ctx.out().last_pong(),
            });
            None
        }
        Report::Dead => Some(CloseReason::DeadSocket),
    }
}

fn on_deadline(ctx: &Ctx, conn: &mut Conn) -> Option<CloseReason> {
    match conn.phase() {
        Phase::AwaitingSuccess { .. } | Phase::AwaitingRefs { .. } => {
            Some(CloseReason::ConnectTimeout)
        }
        Phase::Pairing(_) => linking::on_deadline(ctx, conn),
        Phase::Paired | Phase::Online => None,
    }
}

fn on_task_done(
    lent: &mut Lent<'_>,
    conn: &mut Conn,
    done: Result<TaskDone, tokio::task::JoinError>,
) -> Option<CloseReason> {
    let ctx = lent.ctx;
    match done {
        Ok(TaskDone::Unlinked { unlinked }) => {
            return Some(commands::on_unlinked(lent.pending, unlinked));
        }
        Ok(TaskDone::PairCode { result, reply }) => {
            linking::on_pair_code(ctx, conn, result, reply);
        }
        Ok(TaskDone::PhoneAnswered(result)) => linking::on_phone_answered(ctx, conn, result),
        Ok(TaskDone::CompanionFinished(Err(e))) => {
            tracing::warn!(error = %e, "companion_finish not acknowledged");
        }
        Ok(TaskDone::CompanionFinished(Ok(()))) => {}
        Ok(TaskDone::Keepalive) | Ok(TaskDone::Messaging) => {}
        Ok(TaskDone::PostLogin(Ok(n))) | Ok(TaskDone::Prekeys(Ok(n))) => {
            if n > 0 {
                ctx.out().emit(EngineEvent::PrekeysUploaded { count: n });
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
