//! The simulator's shared state: what every connection, the phone and the control API read
//! and change. It imports nothing from the rest of the simulator, so every other module can
//! depend on it and nothing here depends back on them.

pub(crate) mod book;
pub(crate) mod certs;
pub mod config;
pub mod error;
pub mod events;
pub mod faults;
pub mod registry;
pub mod state;
pub mod world;

use std::sync::{Mutex, Weak};

use wa_core::binary::Node;
use wa_core::signal::KeyPair;

use self::book::{PairingBook, PendingPair};
use self::certs::ServerIdentity;
use self::config::SimConfig;
use self::error::SimError;
use self::events::EventBus;
use self::faults::{lock, Faults, KickKind};
use self::registry::{now_unix, Registry};
use self::state::Store;
use self::world::World;

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

/// Everything the connections share.
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) store: Mutex<Store>,
    pub(crate) faults: Faults,
    pub(crate) registry: Mutex<Registry>,
    pub(crate) events: EventBus,
    pub(crate) book: Mutex<PairingBook>,
    pub(crate) identity: Mutex<ServerIdentity>,
    /// Accounts, devices, groups, queues. Lock order: `store` before `world` before
    /// `registry`, never the other way round.
    pub(crate) world: Mutex<World>,
    /// This value itself, for tasks that outlive the call that starts them (demo replies).
    pub(crate) this: Weak<Shared>,
}

impl Shared {
    /// The leaf key and chain for a handshake starting now, reissued first if they are about
    /// to expire.
    pub(crate) fn server_identity(&self) -> ServerIdentity {
        let now = now_unix();
        let mut identity = lock(&self.identity);
        let renew_at = identity
            .not_after
            .saturating_sub(self.config.cert_renew_before.as_secs());
        if now >= renew_at {
            let mut store = lock(&self.store);
            let c = &self.config;
            if certs::renew_if_needed(
                &mut store.data,
                now,
                c.cert_renew_before,
                c.intermediate_lifetime,
                c.leaf_lifetime,
            ) {
                if let Err(e) = store.save() {
                    tracing::error!(error = %e, "could not persist renewed certificates");
                }
            }
            match certs::server_identity(&store.data) {
                Ok(fresh) => *identity = fresh,
                Err(e) => tracing::error!(error = %e, "could not rebuild the certificate chain"),
            }
        }
        identity.clone()
    }

    /// The simulated phone's account key pair.
    pub(crate) fn phone_key(&self) -> Result<KeyPair, SimError> {
        lock(&self.store)
            .data
            .phone
            .identity
            .key_pair("phone identity")
    }

    /// Sends a command to one open connection; false if it is gone.
    pub(crate) fn command(&self, conn: u64, command: ConnCommand) -> bool {
        lock(&self.registry)
            .open
            .get(&conn)
            .is_some_and(|c| c.commands.send(command).is_ok())
    }

    /// Sends a command to the chosen connection, or to every open one.
    pub(crate) fn command_all(
        &self,
        conn: Option<u64>,
        command: impl Fn() -> ConnCommand,
    ) -> usize {
        let registry = lock(&self.registry);
        registry
            .open
            .values()
            .filter(|c| conn.is_none_or(|id| id == c.info.id))
            .filter(|c| c.commands.send(command()).is_ok())
            .count()
    }
}
