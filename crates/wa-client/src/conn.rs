//! One live connection: its socket, the device's credentials as this connection knows them,
//! where it is ([`Phase`]), and the tasks it runs. Dropped only through [`Conn::teardown`],
//! which stops every task before the socket closes.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::keepalive::Report;
use crate::messaging::Caches;
use crate::pairing::{FinishError, Finished, IssuedCode, Pairing};
use crate::pending::CodeReply;
use crate::prekeys::PrekeyError;
use crate::socket::{IqError, Socket, SocketHandle};
use crate::store::{Account, Credentials};
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
    /// When the phase gives up waiting, if it waits for anything.
    pub fn deadline(&self) -> Option<Instant> {
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
        reply: CodeReply,
    },
    /// The phone's answer to a pairing code was worked out.
    PhoneAnswered(Result<Finished, FinishError>),
    /// The server confirmed (or not) the end of a code pairing.
    CompanionFinished(Result<(), IqError>),
    /// A messaging request or retry answer finished (it replied on its own).
    Messaging,
}

/// A live connection.
pub(crate) struct Conn {
    socket: Socket,
    handle: SocketHandle,
    creds: Credentials,
    phase: Phase,
    tasks: JoinSet<TaskDone>,
    ka_tx: mpsc::Sender<Report>,
    ka_rx: mpsc::Receiver<Report>,
    online_since: Option<Instant>,
    /// Device lists and group metadata of this connection.
    messaging: Arc<Mutex<Caches>>,
}

/// What the session loop waits on besides commands.
pub(crate) enum Happening {
    Inbound(crate::socket::Inbound),
    Keepalive(Report),
    Deadline,
    Task(Result<TaskDone, tokio::task::JoinError>),
}

impl Conn {
    pub fn new(socket: Socket, creds: Credentials, phase: Phase) -> Self {
        let (ka_tx, ka_rx) = mpsc::channel(16);
        Self {
            handle: socket.handle(),
            socket,
            creds,
            phase,
            tasks: JoinSet::new(),
            ka_tx,
            ka_rx,
            online_since: None,
            messaging: Arc::default(),
        }
    }

    /// The next thing that happens to this connection (cancel-safe: used in `select!`).
    pub async fn next(&mut self) -> Happening {
        let deadline = self.phase.deadline();
        tokio::select! {
            inbound = self.socket.next_inbound() => Happening::Inbound(inbound),
            Some(report) = self.ka_rx.recv() => Happening::Keepalive(report),
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => Happening::Deadline,
            Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => Happening::Task(done),
        }
    }

    pub fn handle(&self) -> &SocketHandle {
        &self.handle
    }

    pub fn creds(&self) -> &Credentials {
        &self.creds
    }

    pub fn account(&self) -> Option<&Account> {
        self.creds.account.as_ref()
    }

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The pairing in progress, if the connection is pairing.
    pub fn pairing_mut(&mut self) -> Option<&mut Pairing> {
        match &mut self.phase {
            Phase::Pairing(p) => Some(p),
            _ => None,
        }
    }

    pub fn start_pairing(&mut self, pairing: Pairing) {
        self.phase = Phase::Pairing(pairing);
    }

    /// The phone linked us (the account is already stored): the server restarts next.
    pub fn paired(&mut self, account: Account) {
        self.creds.account = Some(account);
        self.phase = Phase::Paired;
    }

    /// A new ADV secret (already stored).
    pub fn set_adv_secret(&mut self, secret: [u8; 32]) {
        self.creds.adv_secret = secret;
    }

    /// Logged in: online from now.
    pub fn online(&mut self) {
        self.phase = Phase::Online;
        self.online_since = Some(Instant::now());
    }

    pub fn is_online(&self) -> bool {
        matches!(self.phase, Phase::Online)
    }

    /// How long it has been online (zero if it never logged in).
    pub fn online_for(&self) -> std::time::Duration {
        self.online_since.map(|s| s.elapsed()).unwrap_or_default()
    }

    /// Runs `task` as part of this connection: it reports back to the session loop and is
    /// stopped at teardown.
    pub fn spawn(&mut self, task: impl Future<Output = TaskDone> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// The messaging caches of this connection.
    pub fn messaging_caches(&self) -> Arc<Mutex<Caches>> {
        Arc::clone(&self.messaging)
    }

    /// Where keepalive reports go.
    pub fn keepalive_reports(&self) -> mpsc::Sender<Report> {
        self.ka_tx.clone()
    }

    /// Stops every task of this connection, then the socket, and waits for all of it.
    pub async fn teardown(mut self) {
        self.tasks.shutdown().await;
        drop(self.ka_rx);
        drop(self.handle);
        self.socket.close().await;
    }
}
