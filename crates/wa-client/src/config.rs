//! Everything the engine can be told. `Default` gives the real WhatsApp values (protocol.md
//! §1, §7, §8.5) and the DESIGN.md policies; tests and the simulator change the server URL and
//! the trusted root key.

use std::path::PathBuf;
use std::time::Duration;

use wa_core::backoff::BackoffPolicy;
use wa_core::noise::WA_ROOT_PUBLIC_KEY;
use wa_core::pair::qr::CompanionWebClientType;
use wa_core::payload::{AppVersion, ClientConfig};
use wa_core::signal::PublicKey;

use crate::store::KeySource;

/// The WhatsApp Web chat endpoint.
pub const DEFAULT_SERVER_URL: &str = "wss://web.whatsapp.com/ws/chat";
/// The `Origin` header WhatsApp Web sends.
pub const DEFAULT_ORIGIN: &str = "https://web.whatsapp.com";
/// Where the current WhatsApp Web version is published (`client_revision`).
pub const DEFAULT_SW_JS_URL: &str = "https://web.whatsapp.com/sw.js";

/// The engine's configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Folder of the session store and the one-process lock.
    pub data_dir: PathBuf,
    /// WebSocket URL of the chat server.
    pub server_url: String,
    /// `Origin` header of the WebSocket upgrade.
    pub origin: String,
    /// The key the server's certificate chain must be signed under.
    pub trusted_root: PublicKey,
    /// Dial (TCP, TLS, WebSocket upgrade) plus the Noise handshake, together.
    pub connect_timeout: Duration,
    /// How long an IQ waits for its answer.
    pub iq_timeout: Duration,
    /// Keepalive pings and the dead-socket rule.
    pub keepalive: KeepaliveConfig,
    /// Reconnect delays, attempts before pausing, and when the counter resets.
    pub backoff: BackoffPolicy,
    /// How long each QR code is shown.
    pub qr: QrTiming,
    /// How long a pairing code waits for the phone before the pairing ends as expired.
    pub pair_code_timeout: Duration,
    /// Which WhatsApp Web version to claim and where to learn the current one.
    pub version: VersionConfig,
    /// Platform, device properties and locale of the `ClientPayload`. Its `app_version` is
    /// replaced by the resolved version on every dial.
    pub client: ClientConfig,
    /// The last field of the QR string: what kind of companion we are.
    pub client_type: CompanionWebClientType,
    /// `companion_platform_display` of a pairing-code request; must name a known browser.
    pub platform_display: String,
    /// Presence sent after login.
    pub presence: Presence,
    /// Prekey upkeep.
    pub prekeys: PrekeyConfig,
    /// Capacity of the event stream; see `EngineHandle::subscribe` for what a slow
    /// subscriber loses.
    pub event_capacity: usize,
    /// Name written into the lock file so a second process can say who holds the session.
    pub program_name: String,
    /// Where the session store's encryption key comes from. The default uses no keychain
    /// (tests and tools); the app sets [`KeySource::with_keychain`].
    pub store_key: KeySource,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("herald-data"),
            server_url: DEFAULT_SERVER_URL.to_owned(),
            origin: DEFAULT_ORIGIN.to_owned(),
            trusted_root: WA_ROOT_PUBLIC_KEY,
            connect_timeout: Duration::from_secs(20),
            iq_timeout: Duration::from_secs(60),
            keepalive: KeepaliveConfig::default(),
            backoff: BackoffPolicy::default(),
            qr: QrTiming::default(),
            pair_code_timeout: Duration::from_secs(180),
            version: VersionConfig::default(),
            client: ClientConfig::default(),
            client_type: CompanionWebClientType::OtherWebClient,
            platform_display: "Chrome (Linux)".to_owned(),
            presence: Presence::Unavailable,
            prekeys: PrekeyConfig::default(),
            event_capacity: 1024,
            program_name: default_program_name(),
            store_key: KeySource::default(),
        }
    }
}

fn default_program_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "herald".to_owned())
}

/// Keepalive numbers (protocol.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepaliveConfig {
    /// Silence after which a ping goes out: nothing at all received for this long.
    pub silence_before_ping: Duration,
    /// How long a ping may go unanswered, with nothing else received, before the socket is
    /// declared dead.
    pub response_deadline: Duration,
    /// WhatsApp Web's dead-socket rule: something sent and nothing at all received for this
    /// long means the socket is dead. `None` turns the rule off.
    pub dead_socket_after: Option<Duration>,
}

impl Default for KeepaliveConfig {
    fn default() -> Self {
        Self {
            silence_before_ping: Duration::from_secs(20),
            response_deadline: Duration::from_secs(10),
            dead_socket_after: Some(Duration::from_secs(20)),
        }
    }
}

/// QR rotation (protocol.md §5.1): the first code for 60 s, each next one for 20 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrTiming {
    /// How long the first code is shown.
    pub first: Duration,
    /// How long each following code is shown.
    pub rest: Duration,
}

impl Default for QrTiming {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(60),
            rest: Duration::from_secs(20),
        }
    }
}

/// The WhatsApp Web version to claim (protocol.md §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionConfig {
    /// Use exactly this version, never fetch.
    pub override_version: Option<AppVersion>,
    /// Where to fetch `client_revision` from; `None` disables fetching (cache and fallback
    /// only).
    pub sw_js_url: Option<String>,
    /// How long a fetched version is trusted.
    pub cache_for: Duration,
    /// How long a fetch may take before the cached or compiled-in version is used.
    pub fetch_timeout: Duration,
    /// The version compiled in, used when nothing better is known.
    pub fallback: AppVersion,
}

impl Default for VersionConfig {
    fn default() -> Self {
        Self {
            override_version: None,
            sw_js_url: Some(DEFAULT_SW_JS_URL.to_owned()),
            cache_for: Duration::from_secs(24 * 3600),
            fetch_timeout: Duration::from_secs(10),
            fallback: AppVersion::DEFAULT,
        }
    }
}

/// The presence announced after login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Presence {
    /// `unavailable`: the phone keeps getting its notifications (the default).
    #[default]
    Unavailable,
    /// `available`: we look online, and the phone stops notifying.
    Available,
}

/// Prekey upkeep (protocol.md §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrekeyConfig {
    /// Keys uploaded when the server has none.
    pub initial_upload: u32,
    /// Refill when the server has fewer than this.
    pub refill_below: u32,
    /// Keys uploaded in a refill.
    pub refill_batch: u32,
}

impl Default for PrekeyConfig {
    fn default() -> Self {
        Self {
            initial_upload: 812,
            refill_below: 5,
            refill_batch: 50,
        }
    }
}
