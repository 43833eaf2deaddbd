//! The supervisor: the only owner of the socket, and the connection state machine.

use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::config::EngineConfig;
use crate::events::{ConnectionState, EngineEvent, Health};
use crate::lock::SessionLock;
use crate::store::Store;
use crate::{CommandError, EngineDeps, LogoutOutcome};

/// What the handle asks of the supervisor.
pub(crate) enum Command {
    ReconnectNow,
    NewQr,
    PairWithPhone {
        phone: String,
        reply: oneshot::Sender<Result<String, CommandError>>,
    },
    Logout {
        reply: oneshot::Sender<Result<LogoutOutcome, CommandError>>,
    },
    Shutdown,
}

pub(crate) struct Supervisor {
    config: EngineConfig,
    deps: EngineDeps,
    store: Store,
    _lock: SessionLock,
    commands: mpsc::Receiver<Command>,
    state: watch::Sender<ConnectionState>,
    events: broadcast::Sender<EngineEvent>,
    health: Arc<Mutex<Health>>,
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
            store,
            _lock: lock,
            commands,
            state,
            events,
            health,
        }
    }

    pub(crate) async fn run(mut self) {
        while let Some(cmd) = self.commands.recv().await {
            if let Command::Shutdown = cmd {
                break;
            }
        }
        let _ = self.state.send(ConnectionState::Closed);
    }
}
