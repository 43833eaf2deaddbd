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
//! It is also a world to message in (messaging.md): contacts whose phones and companions are
//! real Signal peers on wa-core, usync, prekey bundles, a `<message>` relay as strict as the
//! server (exact device sets, device identities, namespaces, group phash, privacy tokens),
//! delivery to simulated devices (which decrypt at once and answer with receipts) and to real
//! clients (live or from their offline queue), groups, and device changes. The wire contract is
//! in this crate's README.
//!
//! Tests drive it through [`Simulator`] and connect with [`Simulator::connect_in_memory`]
//! (a [`MemoryLink`], which works with tokio's paused clock); demo mode and other processes use
//! the `wa-sim serve` binary, which serves the same thing over a WebSocket on 127.0.0.1 with
//! an HTTP control API under `/admin/`.

mod accounts;
mod acks;
mod conn;
mod control;
mod control_world;
mod groups;
mod history;
mod iq;
mod iq_reply;
mod link;
mod login;
mod pairing;
mod pairing_code;
mod peer;
mod phone;
mod prekeys;
mod relay;
pub mod server;
mod server_world;
mod shared;
mod usync;

pub use accounts::{ContactView, WorldError};
pub use acks::ACKED_TAGS;
pub use control::{DeviceView, FaultView, Simulator, StateView};
pub use control_world::{DeviceMessages, MessagesView, Queued};
pub use link::MemoryLink;
pub use phone::{CodeRefused, CodeReport, ScanRefused, ScanReport};
pub use prekeys::UploadError;
pub use relay::outgoing::{Chat, SendError};
pub use shared::config::{ContactSpec, GroupSpec, SimConfig};
pub use shared::error::SimError;
pub use shared::events::{init_tracing, SimEvent};
pub use shared::faults::{FailureSpec, KickKind, UnknownFailure, UnknownKick};
pub use shared::registry::{ConnInfo, Counters, PastConn, Phase};
pub use shared::state::{DeviceRecord, STATE_FILE};
pub use shared::world::{Addressing, DuplicateBehaviour, Group, Refusal, Seen, Sent};
