//! What the handle asks of the supervisor, and what each request does in each state: one
//! match, so a command's behaviour while idle, while dialling and during a session sits in one
//! place.
//!
//! Nothing here waits on the network: a request that needs an IQ (a pairing code, the unlink
//! of a logout) runs as one of the connection's tasks and reports back through `TaskDone`, so
//! the session loop keeps seeing shutdown, keepalive reports and the QR deadline meanwhile.

use std::time::Duration;

use tokio::sync::oneshot;
use wa_core::disconnect::{Cause, ClassifyContext, CloseReason};
use wa_core::pair::code::PhoneNumber;

use crate::connection::{Conn, Phase, TaskDone};
use crate::events::{ConnectionState, EngineEvent};
use crate::stanzas::RemoveCompanionDevice;
use crate::supervisor::Supervisor;
use crate::{CommandError, LogoutOutcome};

/// The longest a logout waits for the server to confirm the unlink.
const UNLINK_TIMEOUT: Duration = Duration::from_secs(10);

/// A request from the handle.
pub(crate) enum Command {
    ReconnectNow,
    NewQr,
    PairWithPhone {
        phone: PhoneNumber,
        reply: oneshot::Sender<Result<String, CommandError>>,
    },
    Logout {
        reply: oneshot::Sender<Result<LogoutOutcome, CommandError>>,
    },
    /// Send, prepare, transmit, list groups: only during a logged-in session.
    Messaging(crate::messaging::Request),
    Shutdown,
}

/// A phone number waiting for the server to offer pairing.
pub(crate) struct PendingPhone {
    pub phone: PhoneNumber,
    pub reply: oneshot::Sender<Result<String, CommandError>>,
}

/// A logout waiting for its session to be archived.
pub(crate) struct PendingLogout {
    pub unlinked_on_server: bool,
    pub reply: oneshot::Sender<Result<LogoutOutcome, CommandError>>,
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

impl Supervisor {
    /// The one decision about a command, per state. `None` is the handle dropped.
    pub(crate) fn on_command(&mut self, cmd: Option<Command>, at: Where<'_>) -> Then {
        let Some(cmd) = cmd else {
            return self.on_shutdown(at);
        };
        match cmd {
            Command::Shutdown => self.on_shutdown(at),
            Command::Messaging(request) => {
                match at {
                    Where::Session(conn) => self.on_messaging(conn, request),
                    Where::Idle | Where::Dialing => {
                        request.refuse(crate::messaging::SendError::NotConnected)
                    }
                }
                Then::Stay
            }
            Command::ReconnectNow => match at {
                Where::Idle => {
                    self.user_retry();
                    Then::Dial
                }
                Where::Dialing => Then::Stay,
                Where::Session(_) => {
                    self.user_retry();
                    Then::Close(CloseReason::LocalRestart)
                }
            },
            Command::NewQr => match at {
                Where::Idle if self.has_account() => {
                    tracing::info!("new QR requested, but the device is linked; ignored");
                    Then::Stay
                }
                Where::Idle => {
                    self.user_retry();
                    Then::Dial
                }
                Where::Dialing | Where::Session(_) => Then::Stay,
            },
            Command::PairWithPhone { phone, reply } => {
                let pending = PendingPhone { phone, reply };
                match at {
                    Where::Idle if self.has_account() => {
                        let _ = pending.reply.send(Err(CommandError::AlreadyPaired));
                        Then::Stay
                    }
                    Where::Idle => {
                        self.set_pending_phone(pending);
                        self.user_retry();
                        Then::Dial
                    }
                    Where::Dialing => {
                        self.set_pending_phone(pending);
                        Then::Stay
                    }
                    Where::Session(conn) if conn.creds.account.is_some() => {
                        let _ = pending.reply.send(Err(CommandError::AlreadyPaired));
                        Then::Stay
                    }
                    Where::Session(conn) => {
                        if matches!(conn.phase, Phase::Pairing(_)) {
                            self.spawn_phone_pairing(conn, pending);
                        } else {
                            self.set_pending_phone(pending);
                        }
                        Then::Stay
                    }
                }
            }
            Command::Logout { reply } => match at {
                Where::Idle => {
                    self.logout_offline(reply);
                    Then::Stay
                }
                Where::Dialing => {
                    self.set_pending_logout(PendingLogout {
                        unlinked_on_server: false,
                        reply,
                    });
                    Then::Close(CloseReason::LocalLogout)
                }
                Where::Session(conn) => match &conn.creds.account {
                    Some(account) => {
                        let handle = conn.handle.clone();
                        let own = account.jid.clone();
                        let timeout = self.config.iq_timeout.min(UNLINK_TIMEOUT);
                        // Held here, not in the task: the server may end the stream (device
                        // removed) before the task reports, and the caller is answered then.
                        self.set_pending_logout(PendingLogout {
                            unlinked_on_server: false,
                            reply,
                        });
                        conn.tasks.spawn(async move {
                            let request = RemoveCompanionDevice { own: &own };
                            let unlinked = match handle.query_with_timeout(&request, timeout).await
                            {
                                Ok(()) => true,
                                Err(e) => {
                                    tracing::warn!(error = %e, "unlink not confirmed by the server");
                                    false
                                }
                            };
                            TaskDone::Unlinked { unlinked }
                        });
                        Then::Stay
                    }
                    None => {
                        self.set_pending_logout(PendingLogout {
                            unlinked_on_server: false,
                            reply,
                        });
                        Then::Close(CloseReason::LocalLogout)
                    }
                },
            },
        }
    }

    fn on_shutdown(&mut self, at: Where<'_>) -> Then {
        match at {
            Where::Idle => {
                self.set_state(ConnectionState::Closed);
                Then::Exit
            }
            Where::Dialing | Where::Session(_) => Then::Close(CloseReason::LocalShutdown),
        }
    }

    /// The user asked to try again: a fresh attempt count and a fresh episode.
    fn user_retry(&mut self) {
        self.retry.on_user_retry();
        self.classify_ctx = ClassifyContext::default();
    }

    /// A logout with no connection: archive here; the server learns when the phone checks.
    fn logout_offline(&mut self, reply: oneshot::Sender<Result<LogoutOutcome, CommandError>>) {
        let archive = self.archive(Cause::UserLogout.key());
        self.emit(EngineEvent::LoggedOut {
            cause: Cause::UserLogout,
            archive: archive.clone(),
        });
        self.update_health(|h| h.jid = None);
        let _ = reply.send(Ok(LogoutOutcome {
            unlinked_on_server: false,
            archive,
        }));
        self.set_state(ConnectionState::LoggedOut);
    }

    fn set_pending_phone(&mut self, pending: PendingPhone) {
        if let Some(old) = self.pending_phone.replace(pending) {
            // The newer number wins; the older caller learns it was not used.
            let _ = old.reply.send(Err(CommandError::Superseded));
        }
    }

    fn set_pending_logout(&mut self, pending: PendingLogout) {
        if let Some(old) = self.pending_logout.replace(pending) {
            let _ = old.reply.send(Err(CommandError::Superseded));
        }
    }

    /// The unlink IQ of a session logout came back: now close and archive.
    pub(crate) fn on_unlinked(&mut self, unlinked: bool) -> CloseReason {
        if let Some(pending) = &mut self.pending_logout {
            pending.unlinked_on_server = unlinked;
        }
        CloseReason::LocalLogout
    }
}
