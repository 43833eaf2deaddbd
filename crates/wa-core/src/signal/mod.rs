//! The Signal protocol pieces WhatsApp builds on: Curve25519 key types, XEdDSA signatures, and
//! the pairwise sessions (X3DH, the double ratchet, their wire messages and stored records), and
//! the sender keys of group messages (`group`).

mod chain;
pub mod crypto;
pub mod error;
pub mod group;
pub mod keys;
pub mod prekey;
mod proto_reader;
pub mod record;
pub mod record_codec;
pub mod session;
pub mod state;
pub mod wire;
mod x3dh;
pub mod xeddsa;

pub use error::{Malformed, RecordError, SignalError};
pub use keys::{KeyError, KeyPair, PrivateKey, PublicKey, SignalPublicKey, DJB_TYPE};
pub use prekey::{LocalIdentity, PreKeyBundle, PreKeyLookup, PreKeyRecord, SignedPreKeyRecord};
pub use record::{SessionRecord, MAX_ARCHIVED_STATES};
pub use record_codec::RECORD_VERSION;
pub use session::{CiphertextMessage, Decrypted};
pub use state::{SessionState, MAX_FORWARD_JUMP, MAX_RECEIVER_CHAINS, MAX_SKIPPED_KEYS};
pub use wire::{PreKeySignalMessage, SignalMessage};
pub use xeddsa::{SignatureError, SIGNATURE_LEN};

#[cfg(test)]
mod session_tests;
