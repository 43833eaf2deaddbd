//! What happens in the simulator, as typed events: broadcast to tests (which wait on them
//! instead of sleeping) and logged with `tracing` (as JSON lines with `--json`).

use serde::Serialize;
use tokio::sync::broadcast;

/// One thing that happened, with the connection it happened on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SimEvent {
    /// A client connected.
    Connected {
        /// Connection id.
        conn: u64,
        /// `ws` or `memory`.
        transport: &'static str,
    },
    /// A registration payload was accepted and `pair-device` sent.
    PairDeviceSent {
        /// Connection id.
        conn: u64,
        /// The refs, in order.
        refs: Vec<String>,
    },
    /// The phone scanned a QR code and `pair-success` (or `companion_reg_refresh`) went out.
    Scanned {
        /// Connection id.
        conn: u64,
        /// The scanned ref.
        pairing_ref: String,
    },
    /// A device was paired and persisted; 515 follows.
    Paired {
        /// Connection id.
        conn: u64,
        /// The new device JID.
        jid: String,
    },
    /// The pairing was refused after `pair-success`.
    PairingRejected {
        /// Connection id.
        conn: u64,
        /// Why.
        reason: String,
    },
    /// A login was accepted and `<success>` sent.
    LoggedIn {
        /// Connection id.
        conn: u64,
        /// The device JID.
        jid: String,
    },
    /// `<failure>` was sent instead of `<success>`.
    FailureSent {
        /// Connection id.
        conn: u64,
        /// The reason code.
        reason: u16,
        /// Why, in words.
        why: String,
    },
    /// A ping was answered.
    PingAnswered {
        /// Connection id.
        conn: u64,
    },
    /// A prekey upload was accepted.
    PreKeysUploaded {
        /// Connection id.
        conn: u64,
        /// How many one-time prekeys.
        count: usize,
    },
    /// A `<message>` was accepted and handed to every device.
    MessageRelayed {
        /// The message id.
        id: String,
        /// How many devices it went to.
        devices: usize,
    },
    /// A `<message>` was refused with an ack error.
    MessageRefused {
        /// The message id.
        id: String,
        /// The ack's `error`.
        code: u16,
        /// Why, in words.
        reason: String,
    },
    /// A connection ended.
    Closed {
        /// Connection id.
        conn: u64,
        /// How, in words (e.g. `stream error 515 (paired)`).
        outcome: String,
    },
}

/// The broadcast channel events go out on. Slow subscribers lose the oldest events rather
/// than slowing the simulator down.
#[derive(Debug)]
pub struct EventBus {
    sender: broadcast::Sender<SimEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            sender: broadcast::Sender::new(4096),
        }
    }
}

impl EventBus {
    /// Logs the event and sends it to subscribers.
    pub fn emit(&self, event: SimEvent) {
        match serde_json::to_string(&event) {
            Ok(json) => tracing::debug!(target: "wa_sim::events", event = %json, "sim event"),
            Err(e) => tracing::warn!(error = %e, "event does not serialize"),
        }
        // No subscriber is fine: the log line above is the record.
        let _ = self.sender.send(event);
    }

    /// A new subscriber, seeing events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SimEvent> {
        self.sender.subscribe()
    }
}

/// Sets up `tracing` for the binary: human-readable lines, or JSON lines with `json`, on
/// stderr (stdout carries only the `listening` line). `RUST_LOG` filters, default `info`.
pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless; the first subscriber stays.
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
