//! Requests from the handle that wait for the connection to get somewhere: a phone number to
//! link by code once the server offers pairing, and a logout to answer once the session is
//! archived. A newer request of the same kind supersedes the older one, whose caller is told.

use tokio::sync::oneshot;
use wa_core::pair::code::PhoneNumber;

use crate::{CommandError, LogoutOutcome};

/// Where the answer to a pairing-code request goes.
pub(crate) type CodeReply = oneshot::Sender<Result<String, CommandError>>;
/// Where the answer to a logout goes.
pub(crate) type LogoutReply = oneshot::Sender<Result<LogoutOutcome, CommandError>>;

/// A phone number waiting for the server to offer pairing.
pub(crate) struct PendingPhone {
    pub phone: PhoneNumber,
    pub reply: CodeReply,
}

/// A logout waiting for its session to be archived.
struct PendingLogout {
    unlinked_on_server: bool,
    reply: LogoutReply,
}

#[derive(Default)]
pub(crate) struct Pending {
    phone: Option<PendingPhone>,
    logout: Option<PendingLogout>,
}

impl Pending {
    /// Holds a phone number until pairing is offered.
    pub fn wait_for_pairing(&mut self, pending: PendingPhone) {
        if let Some(old) = self.phone.replace(pending) {
            // The newer number wins; the older caller learns it was not used.
            let _ = old.reply.send(Err(CommandError::Superseded));
        }
    }

    /// The phone number to link now that pairing is offered, if one waits.
    pub fn take_phone(&mut self) -> Option<PendingPhone> {
        self.phone.take()
    }

    /// Holds a logout until the session is archived.
    pub fn wait_for_archive(&mut self, reply: LogoutReply) {
        let pending = PendingLogout {
            unlinked_on_server: false,
            reply,
        };
        if let Some(old) = self.logout.replace(pending) {
            let _ = old.reply.send(Err(CommandError::Superseded));
        }
    }

    /// The server answered the unlink request of the waiting logout.
    pub fn unlinked(&mut self, unlinked: bool) {
        if let Some(pending) = &mut self.logout {
            pending.unlinked_on_server = unlinked;
        }
    }

    /// The connection stopped: answers a waiting logout. `removed` is the server's own
    /// "device removed", which confirms the unlink even when it overtook the IQ's answer.
    pub fn stopped(&mut self, removed: bool, archive: Option<String>) {
        if let Some(pending) = self.logout.take() {
            let _ = pending.reply.send(Ok(LogoutOutcome {
                unlinked_on_server: pending.unlinked_on_server || removed,
                archive,
            }));
        }
    }

    /// The engine is ending: a waiting pairing request will never run.
    pub fn engine_stopped(&mut self) {
        if let Some(pending) = self.phone.take() {
            let _ = pending.reply.send(Err(CommandError::Stopped));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(digits: &str) -> PhoneNumber {
        PhoneNumber::parse(digits).unwrap()
    }

    #[test]
    fn a_newer_phone_number_supersedes_the_waiting_one() {
        let mut p = Pending::default();
        let (a, mut a_rx) = oneshot::channel();
        let (b, mut b_rx) = oneshot::channel();
        p.wait_for_pairing(PendingPhone {
            phone: phone("15551234567"),
            reply: a,
        });
        p.wait_for_pairing(PendingPhone {
            phone: phone("15557654321"),
            reply: b,
        });
        assert_eq!(a_rx.try_recv().unwrap(), Err(CommandError::Superseded));
        assert_eq!(p.take_phone().unwrap().phone.as_str(), "15557654321");
        assert!(p.take_phone().is_none());
        assert!(
            b_rx.try_recv().is_err(),
            "the taken one is not answered here"
        );
    }

    #[test]
    fn a_logout_is_answered_when_the_connection_stops() {
        let mut p = Pending::default();
        let (tx, mut rx) = oneshot::channel();
        p.wait_for_archive(tx);
        p.unlinked(false);
        p.stopped(true, Some("archive".into()));
        assert_eq!(
            rx.try_recv().unwrap(),
            Ok(LogoutOutcome {
                unlinked_on_server: true,
                archive: Some("archive".into())
            })
        );
        let (tx, mut rx) = oneshot::channel();
        p.wait_for_archive(tx);
        p.unlinked(true);
        p.stopped(false, None);
        assert!(rx.try_recv().unwrap().unwrap().unlinked_on_server);
    }

    #[test]
    fn a_waiting_phone_number_learns_the_engine_stopped() {
        let mut p = Pending::default();
        let (tx, mut rx) = oneshot::channel();
        p.wait_for_pairing(PendingPhone {
            phone: phone("15551234567"),
            reply: tx,
        });
        p.engine_stopped();
        assert_eq!(rx.try_recv().unwrap(), Err(CommandError::Stopped));
    }
}
