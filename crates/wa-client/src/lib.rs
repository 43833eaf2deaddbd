//! One WhatsApp account's live connection, on tokio: pairing, login, keepalive, disconnect
//! causes, backoff, and the session store.
//!
//! # Public API
//!
//! ```text
//! Engine::start(config: EngineConfig) -> Result<EngineHandle, StartError>
//! Engine::start_with(config, EngineDeps { transport, clock, version_fetcher })
//!
//! EngineHandle::state()          -> watch::Receiver<ConnectionState>   current state, always
//! EngineHandle::subscribe()      -> broadcast::Receiver<EngineEvent>   ordered, bounded
//! EngineHandle::health()         -> Health                              snapshot
//! EngineHandle::reconnect_now()  tear the socket down and dial at once (also: leave Paused,
//!                                LoggedOut, Replaced; resets the attempt counter)
//! EngineHandle::new_qr()         after QrExpired (or LoggedOut): dial for fresh QR codes
//! EngineHandle::pair_with_phone(phone).await -> Result<String, CommandError>   the XXXX-XXXX code
//! EngineHandle::logout().await   -> Result<LogoutOutcome, CommandError>  unlink + archive
//! EngineHandle::lookup(phone).await -> Result<Contact, LookupError>  is the number on WhatsApp
//! EngineHandle::counterpart(user) -> Option<Jid>   the same user as LID or phone number
//! EngineHandle::shutdown().await clean close; awaits every task
//! ```
//!
//! * [`EngineConfig`]'s `Default` is the real service: `wss://web.whatsapp.com/ws/chat`,
//!   `Origin: https://web.whatsapp.com`, WhatsApp's root key, 20 s connect, 60 s IQs,
//!   keepalive every 20–30 s with a 10 s deadline and the 20 s dead-socket rule, backoff 2, 4,
//!   8, 16, 32, 60 s ±20 % for 10 attempts, QR codes 60 s then 20 s, presence `unavailable`.
//! * [`ConnectionState`] serializes as `{"state":"online","sinceMs":…}`; [`EngineEvent`] as
//!   `{"event":"qr","qr":…}`, `{"event":"state","state":"backoff",…}`,
//!   `{"event":"disconnected","cause":…,"code":…,"decision":…,"advice":…,…}`. Times are unix
//!   milliseconds from the injected [`Clock`]; timers run on `tokio::time`.
//! * One process per data folder: a second `Engine::start` on the same folder (in this process
//!   or another, e.g. `herald-cli` next to the app) fails with [`StartError::Locked`] naming the
//!   holder (pid, program, since).
//! * The event stream is a `tokio::sync::broadcast` channel of `EngineConfig::event_capacity`
//!   (default 1024). A subscriber that falls further behind than that loses the oldest events
//!   and gets `RecvError::Lagged(n)` once; it should then re-read [`EngineHandle::state`] and
//!   [`EngineHandle::health`], which are always current. The engine never waits for a
//!   subscriber.
//! * Secrets at rest (see [`store`]): the session store is one SQLCipher database, encrypted
//!   as a whole under a random 32-byte raw key. [`store::KeySource`] says where the key comes
//!   from, in order: the OS keychain (keyring 4; only when `EngineConfig::store_key` names a
//!   keychain service, as the app does), else a key in `HERALD_STORE_KEY` (64 hex digits) or the
//!   file named by `HERALD_STORE_KEY_FILE`, else an owner-only `store.key` file beside the
//!   database, which [`EngineHandle::store_key`] and the log flag as not protected and which
//!   moves into the keychain once one answers. Keychain calls time out after 1 s, so a locked
//!   keychain is an error, never a hang. A plaintext store from an older build is encrypted in
//!   place on open. The folder and files are also owner-only (0700/0600 on Unix).

pub mod clock;
mod commands;
pub mod config;
mod conn;
mod connection;
mod ctx;
mod episode;
pub mod events;
pub mod keepalive;
mod linking;
pub mod lock;
mod login;
pub mod messaging;
pub mod mutex;
pub mod pairing;
mod pending;
mod prekeys;
mod publisher;
pub mod socket;
mod stanzas;
pub mod store;
mod supervisor;
pub mod transport;
pub mod version;

use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use clock::{Clock, SystemClock, TokioClock, UnixMillis};
pub use config::{EngineConfig, KeepaliveConfig, PrekeyConfig, Presence, QrTiming, VersionConfig};
pub use events::{
    ConnectionState, DecisionKind, Disconnect, EngineEvent, Health, PausedReason, ReceiptKind,
    VersionSource,
};
pub use lock::{LockError, LockHolder};
pub use messaging::{
    Contact, LookupError, Outcome, OutgoingMessage, Prepared, Recipient, SendError, Sent,
    SkipReason, SkippedDevice,
};
pub use transport::{Link, MemoryTransport, Transport, TransportError, WebSocketTransport};
pub use version::{SwJsFetcher, VersionError, VersionFetcher};

use commands::Command;
use ctx::Ctx;
use publisher::{HealthView, Publisher};
use supervisor::Supervisor;

/// What the engine is built on; tests swap these.
#[derive(Clone)]
pub struct EngineDeps {
    /// How to reach the server.
    pub transport: Arc<dyn Transport>,
    /// Wall-clock time for reported times and certificate validity.
    pub clock: Arc<dyn Clock>,
    /// Where the current WhatsApp Web version comes from.
    pub version_fetcher: Arc<dyn VersionFetcher>,
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Another process (or engine) holds this data folder's session.
    #[error("the session in {dir} is in use by {}", holder.as_ref().map(ToString::to_string).unwrap_or_else(|| "another process that is starting".into()))]
    Locked {
        dir: std::path::PathBuf,
        holder: Option<LockHolder>,
    },
    /// The lock file could not be used.
    #[error(transparent)]
    Lock(LockError),
    /// The session store could not be opened.
    #[error("session store: {0}")]
    Store(#[from] store::StoreError),
    /// The real transport could not be set up.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The data folder could not be created.
    #[error("data folder {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<LockError> for StartError {
    fn from(e: LockError) -> Self {
        match e {
            LockError::Held { dir, holder } => StartError::Locked { dir, holder },
            other => StartError::Lock(other),
        }
    }
}

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The engine has shut down.
    #[error("the connection engine has stopped")]
    Stopped,
    /// The account is already linked; unlink first.
    #[error("already linked to a phone")]
    AlreadyPaired,
    /// The phone number is not valid.
    #[error("invalid phone number: {0}")]
    InvalidPhone(#[source] wa_core::pair::code::PhoneNumberError),
    /// The server refused, or the connection failed while doing it.
    #[error(transparent)]
    Failed(#[from] socket::IqError),
    /// The pairing this request was for ended before the server answered.
    #[error("the pairing ended before the code was issued")]
    PairingEnded,
    /// The work was cut short inside the engine (its task ended early).
    #[error("the request was interrupted")]
    Interrupted,
    /// A newer request of the same kind replaced this one before it ran.
    #[error("replaced by a newer request")]
    Superseded,
}

/// What `logout` did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogoutOutcome {
    /// Whether WhatsApp confirmed the unlink (false when offline: the phone still lists us
    /// until it notices).
    pub unlinked_on_server: bool,
    /// Where the archived session was written, if there was one.
    pub archive: Option<String>,
}

/// Starts engines.
pub struct Engine;

impl Engine {
    /// Starts the engine for `config.data_dir` with the real transport, the system clock and the
    /// `sw.js` version fetcher, and begins connecting. Must be called inside a tokio runtime.
    pub fn start(config: EngineConfig) -> Result<EngineHandle, StartError> {
        let deps = EngineDeps {
            transport: Arc::new(WebSocketTransport::new()?),
            clock: Arc::new(SystemClock),
            version_fetcher: Arc::new(SwJsFetcher::new()?),
        };
        Self::start_with(config, deps)
    }

    /// Starts the engine with the given transport, clock and version fetcher.
    ///
    /// Here against the simulator in memory, with tokio's clock paused, as the tests run it:
    /// the engine shows a QR code, the simulated phone scans it, and the engine comes online.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use wa_client::{
    ///     Clock, ConnectionState, Engine, EngineConfig, EngineDeps, Link, MemoryTransport,
    ///     SwJsFetcher, SystemClock, TokioClock,
    /// };
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = tokio::runtime::Builder::new_current_thread()
    ///     .enable_all()
    ///     .start_paused(true)
    ///     .build()?;
    /// runtime.block_on(async {
    ///     let sim = wa_sim::Simulator::new(wa_sim::SimConfig::default())?;
    ///     let server = sim.clone();
    ///     let transport = MemoryTransport::new(move || {
    ///         let link = server.connect_in_memory();
    ///         async move { Ok(Link::from_channels(link.to_server, link.from_server)) }
    ///     });
    ///     let dir = std::env::temp_dir().join(format!("wa-client-doc-{}", std::process::id()));
    ///     let mut config = EngineConfig {
    ///         data_dir: dir.clone(),
    ///         server_url: "memory://wa-sim".into(),
    ///         trusted_root: sim.root_public_key()?,
    ///         ..EngineConfig::default()
    ///     };
    ///     config.version.sw_js_url = None; // the compiled-in version: nothing to fetch
    ///     let deps = EngineDeps {
    ///         transport: Arc::new(transport),
    ///         clock: Arc::new(TokioClock::starting_at(SystemClock.now_ms())),
    ///         version_fetcher: Arc::new(SwJsFetcher::new()?),
    ///     };
    ///     let engine = Engine::start_with(config, deps)?;
    ///
    ///     let mut state = engine.state();
    ///     let shown = state
    ///         .wait_for(|s| matches!(s, ConnectionState::Pairing { .. }))
    ///         .await?
    ///         .clone();
    ///     let ConnectionState::Pairing { qr, .. } = shown else {
    ///         return Err("no QR code".into());
    ///     };
    ///     sim.scan(&qr)?;
    ///     state
    ///         .wait_for(|s| matches!(s, ConnectionState::Online { .. }))
    ///         .await?;
    ///     assert!(engine.health().jid.is_some());
    ///
    ///     engine.shutdown().await;
    ///     std::fs::remove_dir_all(dir)?;
    ///     Ok::<(), Box<dyn std::error::Error>>(())
    /// })
    /// # }
    /// ```
    pub fn start_with(config: EngineConfig, deps: EngineDeps) -> Result<EngineHandle, StartError> {
        store::ensure_private_dir(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let lock = lock::SessionLock::acquire(
            &config.data_dir,
            &config.program_name,
            deps.clock.now_ms(),
        )?;
        let store = store::Store::open_with(&config.data_dir, &config.store_key)?;
        let store_key = store.key_status().clone();
        let (commands_tx, commands_rx) = mpsc::channel(32);
        let (publisher, readers) = Publisher::new(deps.clock.clone(), config.event_capacity);
        let ctx = Ctx::new(config, deps, store, publisher);
        let store = ctx.store().clone();
        let supervisor = Supervisor::new(ctx, lock, commands_rx);
        let task = tokio::spawn(supervisor.run());
        Ok(EngineHandle {
            commands: commands_tx,
            state: readers.state,
            events: readers.events,
            health: readers.health,
            task: Mutex::new(Some(task)),
            store_key,
            store,
        })
    }
}

/// The running engine. Dropping it without [`EngineHandle::shutdown`] also stops the engine
/// (its command channel closes), but does not wait for it.
pub struct EngineHandle {
    commands: mpsc::Sender<Command>,
    state: watch::Receiver<ConnectionState>,
    events: broadcast::Sender<EngineEvent>,
    health: HealthView,
    task: Mutex<Option<JoinHandle<()>>>,
    store_key: store::KeyStatus,
    /// Read here only for the LID ↔ phone-number pairs (`counterpart`).
    store: Arc<Mutex<store::Store>>,
}

impl EngineHandle {
    /// The current state, updated on every change.
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// The ordered event stream from now on. Bounded: see the crate docs for slow subscribers.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    /// Where the session store's key is kept, and whether that protects it.
    pub fn store_key(&self) -> &store::KeyStatus {
        &self.store_key
    }

    /// The same user in the other namespace — `digits@s.whatsapp.net` ↔ `digits@lid` — from
    /// the pairs the store keeps (learned from contact and device queries, lookups and group
    /// metadata); `None` when the pair is not known (yet). Devices and agents are ignored.
    pub fn counterpart(
        &self,
        user: &wa_core::binary::Jid,
    ) -> Result<Option<wa_core::binary::Jid>, store::SignalStoreError> {
        use wa_core::binary::{Jid, Server};
        let user = user.to_non_ad();
        let (found, server) = {
            let mut store = mutex::lock(&self.store);
            match user.server {
                Server::Pn => (
                    store.signal_transaction(0, |tx| tx.lid_of(&user.to_string()))?,
                    Server::Lid,
                ),
                Server::Lid => (
                    store.signal_transaction(0, |tx| tx.pn_of(&user.to_string()))?,
                    Server::Pn,
                ),
                _ => return Ok(None),
            }
        };
        // Stored as bare user JIDs; an unreadable one is as good as unknown.
        Ok(found
            .and_then(|text| text.parse::<Jid>().ok())
            .filter(|jid| jid.server == server))
    }

    /// A snapshot of the connection's health.
    pub fn health(&self) -> Health {
        self.health.snapshot()
    }

    /// Tears the current socket and all its tasks down and dials at once; also leaves
    /// `Backoff`, `Paused`, `Replaced` and `LoggedOut`, starting the attempt count afresh.
    pub fn reconnect_now(&self) {
        let _ = self.commands.try_send(Command::ReconnectNow);
    }

    /// After `QrExpired`: dial again for a fresh set of QR codes.
    pub fn new_qr(&self) {
        let _ = self.commands.try_send(Command::NewQr);
    }

    /// Links by phone number instead of QR: returns the code to type on the phone
    /// (`XXXX-XXXX`). `phone` is the full international number as a person types it: `+`,
    /// spaces, dashes, dots and parentheses are fine (`+1 555 123-4567`).
    pub async fn pair_with_phone(&self, phone: &str) -> Result<String, CommandError> {
        // Read here, once, so the engine gets the same number whatever state it is in.
        let phone = pairing::normalize_phone(phone)?;
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::PairWithPhone { phone, reply })
            .await
            .map_err(|_| CommandError::Stopped)?;
        rx.await.map_err(|_| CommandError::Stopped)?
    }

    /// Unlinks this device (`remove-companion-device` when online), archives the session and
    /// ends in `LoggedOut`.
    pub async fn logout(&self) -> Result<LogoutOutcome, CommandError> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Logout { reply })
            .await
            .map_err(|_| CommandError::Stopped)?;
        rx.await.map_err(|_| CommandError::Stopped)?
    }

    /// Sends a text: prepares it (encrypted, encoded, committed with the Signal state) and
    /// transmits it, waiting for the server's ack. When the outcome is
    /// [`Outcome::InDoubt`], transmit [`Sent::prepared`]'s bytes again to settle it.
    pub async fn send(&self, message: OutgoingMessage) -> Result<Sent, SendError> {
        let (reply, rx) = oneshot::channel();
        self.messaging(messaging::Request::Send { message, reply }, rx)
            .await
    }

    /// Encrypts and encodes a message and commits the stanza with the Signal state that made
    /// it; nothing leaves. The caller may keep the bytes too (the scheduler's outbox does).
    pub async fn prepare(&self, message: OutgoingMessage) -> Result<Prepared, SendError> {
        let (reply, rx) = oneshot::channel();
        self.messaging(messaging::Request::Prepare { message, reply }, rx)
            .await
    }

    /// Writes a prepared stanza — the first time, or again after a lost ack — and waits for
    /// the server's ack. The bytes are sent as they are: a device that has the message
    /// refuses the copy as a Signal duplicate, and nothing is encrypted again.
    pub async fn transmit(&self, id: &str, stanza: &[u8]) -> Result<Outcome, SendError> {
        let (reply, rx) = oneshot::channel();
        let request = messaging::Request::Transmit {
            id: id.to_owned(),
            stanza: stanza.to_vec(),
            reply,
        };
        self.messaging(request, rx).await
    }

    /// The groups the account is in, with their members.
    pub async fn groups(&self) -> Result<Vec<wa_core::stanza::group::GroupInfo>, SendError> {
        let (reply, rx) = oneshot::channel();
        self.messaging(messaging::Request::Groups { reply }, rx)
            .await
    }

    /// Asks WhatsApp whether `phone` (digits of an E.164 number) has an account, with the
    /// contact query a send makes before its first message to a number; the LID in the
    /// answer is remembered. Waits at most [`messaging::LOOKUP_TIMEOUT`] for the answer;
    /// offline it fails at once with [`LookupError::Offline`].
    pub async fn lookup(
        &self,
        phone: &wa_core::pair::code::PhoneNumber,
    ) -> Result<Contact, LookupError> {
        let (reply, rx) = oneshot::channel();
        let request = messaging::Request::Lookup {
            phone: phone.clone(),
            reply,
        };
        self.commands
            .send(Command::Messaging(request))
            .await
            .map_err(|_| LookupError::Stopped)?;
        rx.await.map_err(|_| LookupError::Stopped)?
    }

    async fn messaging<T>(
        &self,
        request: messaging::Request,
        rx: oneshot::Receiver<Result<T, SendError>>,
    ) -> Result<T, SendError> {
        self.commands
            .send(Command::Messaging(request))
            .await
            .map_err(|_| SendError::Stopped)?;
        rx.await.map_err(|_| SendError::Stopped)?
    }

    /// Closes the connection, stops every task and releases the session lock. Returns when
    /// all of it is done. Calling it again is harmless.
    pub async fn shutdown(&self) {
        let _ = self.commands.send(Command::Shutdown).await;
        let task = mutex::lock(&self.task).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
