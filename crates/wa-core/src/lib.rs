//! The WhatsApp Web multi-device protocol, pure.
//!
//! Everything the client and the simulator say on the wire goes through this crate: the binary
//! node codec, the Noise handshake and transport cipher, the protobuf messages, XEdDSA and the
//! pairing crypto. It knows nothing of tokio, sockets, clocks or files, so every function here
//! is deterministic given its inputs and can be tested without I/O.

pub mod backoff;
pub mod binary;
pub mod disconnect;
pub mod history;
pub mod ids;
pub mod noise;
pub mod pair;
pub mod payload;
pub mod plaintext;
pub mod proto;
pub mod signal;
pub mod stanza;
