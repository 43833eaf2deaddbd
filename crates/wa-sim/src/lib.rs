//! A strict WhatsApp server simulator with a simulated phone.
//!
//! It speaks the server side of the real protocol (protocol.md §1–§8): the Noise responder
//! with its own root, intermediate and leaf certificates; strict ClientPayload checks; pairing
//! by QR (six refs, each scannable only in its window) and by pairing code, with a simulated
//! phone that signs the companion's ADV identity and checks its `pair-device-sign`; login,
//! pings, prekeys, passive/active, presence, `remove-companion-device`; and ack enforcement.
//! Every fault a client must survive can be injected: each stream error and failure reason, a
//! stall, a dropped socket, delayed replies, a minimum app version.
//!
//! Tests drive it through [`Simulator`] and connect with [`Simulator::connect_in_memory`]
//! (a [`MemoryLink`], which works with tokio's paused clock); demo mode and other processes use
//! the `wa-sim serve` binary, which serves the same thing over a WebSocket on 127.0.0.1 with
//! an HTTP control API under `/admin/`.

mod acks;
mod certs;
mod config;
mod conn;
mod control;
mod error;
mod events;
mod faults;
mod iq;
mod link;
mod login;
mod pairing;
mod pairing_code;
mod phone;
mod prekeys;
mod registry;
pub mod server;
mod state;

pub use acks::ACKED_TAGS;
pub use config::SimConfig;
pub use control::{DeviceView, FaultView, Simulator, StateView};
pub use error::SimError;
pub use events::{init_tracing, SimEvent};
pub use faults::{FailureSpec, KickKind, UnknownFailure, UnknownKick};
pub use link::MemoryLink;
pub use phone::{CodeRefused, CodeReport, ScanRefused, ScanReport};
pub use prekeys::UploadError;
pub use registry::{ConnInfo, Counters, PastConn, Phase};
pub use state::{DeviceRecord, STATE_FILE};
