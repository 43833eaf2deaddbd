//! What the handle asks of the supervisor, and what each request does in each state: one
//! match, so a command's behaviour while idle, while dialling and during a session sits in one
//! place.
//!
//! Nothing here waits on the network: a request that needs an IQ (a pairing code, the unlink
//! of a logout) runs as one of the connection's tasks and reports back through `TaskDone`, so
//! the session loop keeps seeing shutdown, keepalive reports and the QR deadline meanwhile.

use std::time::Duration;

use wa_core::disconnect::{Cause, CloseReason};
use wa_core::pair::code::PhoneNumber;

use crate::conn::{Conn, Phase, TaskDone};
use crate::ctx::Ctx;
use crate::episode::Episode;
use crate::events::{ConnectionState, EngineEvent};
use crate::linking;
use crate::pending::{CodeReply, LogoutReply, Pending, PendingPhone};
use crate::stanzas::RemoveCompanionDevice;
use crate::{CommandError, LogoutOutcome};

/// The longest a logout waits for the server to confirm the unlink.
const UNLINK_TIMEOUT: Duration = Duration::from_secs(10);

/// A request from the handle.
pub(crate) enum Command {
    ReconnectNow,
    NewQr,
    PairWithPhone {
        phone: PhoneNumber,
        reply: CodeReply,
    },
    Logout {
        reply: LogoutReply,
    },
    /// Send, prepare, transmit, list groups: only during a logged-in session.
    Messaging(crate::messaging::Request),
    Shutdown,
}

/// Where the supervisor is when a command arrives.
pub(crate) enum Where<'a> {
    /// No socket: backing off or stopped.
    Idle,
    /// Dialling and running the handshake.
    Dialing,
    /// A connection is up.
    Session(&'a mut Conn),
}

/// What the supervisor does next.
pub(crate) enum Then {
    /// Carry on where it is.
    Stay,
    /// Dial (only from `Idle`).
    Dial,
    /// End the connection (or the dial) for this reason.
    Close(CloseReason),
    /// Stop the engine (only from `Idle`; elsewhere shutdown closes the connection first).
    Exit,
}

/// What a command may change: the episode (a user's retry starts a new one) and the requests
/// waiting for the connection.
pub(crate) struct Desk<'a> {
    pub ctx: &'a Ctx,
    pub episode: &'a mut Episode,
    pub pending: &'a mut Pending,
}

/// The one decision about a command, per state. `None` is the handle dropped.
pub(crate) fn on_command(desk: Desk<'_>, cmd: Option<Command>, at: Where<'_>) -> Then {
    let Desk {
        ctx,
        episode,
        pending,
    } = desk;
    let Some(cmd) = cmd else {
        return on_shutdown(ctx, at);
    };
    match cmd {
        Command::Shutdown => on_shutdown(ctx, at),
        Command::Messaging(request) => {
            match at {
                Where::Session(conn) => {
                    let link = crate::messaging::LinkParts {
                        handle: conn.handle(),
                        creds: conn.creds(),
                        online: conn.is_online(),
                        caches: conn.messaging_caches(),
                    };
                    if let Some(task) = crate::messaging::on_request(ctx, link, request) {
                        conn.spawn(async move {
                            task.await;
                            TaskDone::Messaging
                        });
                    }
                }
                Where::Idle | Where::Dialing => {
                    request.refuse(crate::messaging::SendError::NotConnected)
                }
            }
            Then::Stay
        }
        Command::ReconnectNow => match at {
            Where::Idle => {
                episode.on_user_retry();
                Then::Dial
            }
            Where::Dialing => Then::Stay,
            Where::Session(_) => {
                episode.on_user_retry();
                Then::Close(CloseReason::LocalRestart)
            }
        },
        Command::NewQr => match at {
            Where::Idle if ctx.has_account() => {
                tracing::info!("new QR requested, but the device is linked; ignored");
                Then::Stay
            }
            Where::Idle => {
                episode.on_user_retry();
                Then::Dial
            }
            Where::Dialing | Where::Session(_) => Then::Stay,
        },
        Command::PairWithPhone { phone, reply } => {
            let request = PendingPhone { phone, reply };
            match at {
                Where::Idle if ctx.has_account() => {
                    let _ = request.reply.send(Err(CommandError::AlreadyPaired));
                    Then::Stay
                }
                Where::Idle => {
                    pending.wait_for_pairing(request);
                    episode.on_user_retry();
                    Then::Dial
                }
                Where::Dialing => {
                    pending.wait_for_pairing(request);
                    Then::Stay
                }
                Where::Session(conn) if conn.account().is_some() => {
                    let _ = request.reply.send(Err(CommandError::AlreadyPaired));
                    Then::Stay
                }
                Where::Session(conn) => {
                    if matches!(conn.phase(), Phase::Pairing(_)) {
                        linking::spawn_phone_pairing(ctx, conn, request);
                    } else {
                        pending.wait_for_pairing(request);
                    }
                    Then::Stay
                }
            }
        }
        Command::Logout { reply } => match at {
            Where::Idle => {
                logout_offline(ctx, reply);
                Then::Stay
            }
            Where::Dialing => {
                pending.wait_for_archive(reply);
                Then::Close(CloseReason::LocalLogout)
            }
            Where::Session(conn) => {
                // Held here, not in the task: the server may end the stream (device removed)
                // before the task reports, and the caller is answered then.
                pending.wait_for_archive(reply);
                match conn.account().map(|a| a.jid.clone()) {
                    Some(own) => {
                        spawn_unlink(ctx, conn, own);
                        Then::Stay
                    }
                    None => Then::Close(CloseReason::LocalLogout),
                }
            }
        },
    }
}

fn on_shutdown(ctx: &Ctx, at: Where<'_>) -> Then {
    match at {
        Where::Idle => {
            ctx.out().set_state(ConnectionState::Closed);
            Then::Exit
        }
        Where::Dialing | Where::Session(_) => Then::Close(CloseReason::LocalShutdown),
    }
}

/// Asks the server to remove this device; [`on_unlinked`] closes when it answers.
fn spawn_unlink(ctx: &Ctx, conn: &mut Conn, own: wa_core::binary::Jid) {
    let handle = conn.handle().clone();
    let timeout = ctx.config().iq_timeout.min(UNLINK_TIMEOUT);
    conn.spawn(async move {
        let request = RemoveCompanionDevice { own: &own };
        let unlinked = match handle.query_with_timeout(&request, timeout).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "unlink not confirmed by the server");
                false
            }
        };
        TaskDone::Unlinked { unlinked }
    });
}

/// A logout with no connection: archive here; the server learns when the phone checks.
fn logout_offline(ctx: &Ctx, reply: LogoutReply) {
    let archive = ctx.archive(Cause::UserLogout.key());
    ctx.out().emit(EngineEvent::LoggedOut {
        cause: Cause::UserLogout,
        archive: archive.clone(),
    });
    let _ = reply.send(Ok(LogoutOutcome {
        unlinked_on_server: false,
        archive,
    }));
    ctx.out().set_state(ConnectionState::LoggedOut);
}

/// The unlink IQ of a session logout came back: now close and archive.
pub(crate) fn on_unlinked(pending: &mut Pending, unlinked: bool) -> CloseReason {
    pending.unlinked(unlinked);
    CloseReason::LocalLogout
}
