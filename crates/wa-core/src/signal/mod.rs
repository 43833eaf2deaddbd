//! The Signal protocol pieces WhatsApp builds on: Curve25519 key types and XEdDSA signatures.
//! (X3DH, the double ratchet and sender keys come later and live beside these.)

pub mod crypto;
pub mod group;
pub mod keys;
pub mod xeddsa;

pub use keys::{KeyError, KeyPair, PrivateKey, PublicKey, SignalPublicKey, DJB_TYPE};
pub use xeddsa::{SignatureError, SIGNATURE_LEN};
