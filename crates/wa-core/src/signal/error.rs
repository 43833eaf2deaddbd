//! Why a pairwise Signal operation failed.
//!
//! Every error here leaves the caller's [`SessionRecord`](super::SessionRecord) as it was: the
//! cipher works on a copy and only hands back a new record on success. The variants are the
//! distinctions a caller acts on: a duplicate is acknowledged and dropped, a bad MAC or a missing
//! session asks the sender for a retry, an unknown prekey or a changed identity rebuilds the
//! session, malformed bytes are refused with the offset where parsing stopped.

use super::crypto::BadPadding;
use super::keys::{KeyError, PublicKey};
use super::xeddsa::SignatureError;

/// What went wrong while reading a wire message or a stored record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// The bytes ended before the message or field was complete.
    #[error("truncated")]
    Truncated,
    /// A varint ran over 10 bytes or over the field's width.
    #[error("bad varint")]
    BadVarint,
    /// A field had a wire type that protobuf does not define or that the field cannot have.
    #[error("unexpected wire type {0}")]
    WireType(u8),
    /// A field the message needs was absent.
    #[error("missing field {0}")]
    MissingField(&'static str),
    /// A key field was not a 33-byte `05`-prefixed Curve25519 key.
    #[error("bad key: {0}")]
    Key(KeyError),
    /// A protobuf field number of zero.
    #[error("field number zero")]
    FieldZero,
}

/// A pairwise Signal failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    /// The message's 8-byte MAC does not match: altered in transit, or made for another session.
    #[error("bad MAC")]
    BadMac,
    /// This message's key was already used: the message was decrypted before.
    #[error("duplicate message (counter {counter})")]
    DuplicateMessage {
        /// The message's counter on its chain.
        counter: u32,
    },
    /// A prekey message names a one-time prekey we do not hold (already consumed, or never ours).
    #[error("unknown one-time prekey id {0}")]
    UnknownPreKey(u32),
    /// A prekey message names a signed prekey we do not hold.
    #[error("unknown signed prekey id {0}")]
    UnknownSignedPreKey(u32),
    /// There is no session to encrypt with or to decrypt this message in.
    #[error("no session")]
    NoSession,
    /// The peer's identity key is not the one we know for that address.
    #[error("untrusted identity: expected {expected:?}, got {received:?}")]
    UntrustedIdentity {
        /// The identity stored for the address.
        expected: PublicKey,
        /// The identity the bundle or message carries.
        received: PublicKey,
    },
    /// The message's counter is further ahead of its chain than the forward-jump limit allows.
    #[error("message {counter} is too far in the future (chain at {chain_index})")]
    TooFarInFuture {
        /// The message's counter.
        counter: u32,
        /// The next counter the chain expected.
        chain_index: u32,
    },
    /// The bytes are not a well-formed message or record.
    #[error("malformed at byte {offset}: {what}")]
    Malformed {
        /// Where in the input parsing stopped.
        offset: usize,
        /// What was wrong there.
        what: Malformed,
    },
    /// The version byte names a protocol version other than 3.
    #[error("unsupported message version byte {0:#04x}")]
    UnsupportedVersion(u8),
    /// A bundle's signed prekey signature does not verify against its identity key.
    #[error("signed prekey signature: {0}")]
    BadSignature(#[source] SignatureError),
    /// The MAC was right but the body did not decrypt: the sender encrypted it wrongly.
    #[error("ciphertext: {0}")]
    BadCiphertext(#[source] BadPadding),
}

impl SignalError {
    pub(crate) fn malformed(offset: usize, what: Malformed) -> Self {
        Self::Malformed { offset, what }
    }
}

/// Why a stored record could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The bytes are not the record's protobuf.
    #[error("record does not decode: {0}")]
    Decode(#[source] prost::DecodeError),
    /// The record was written by a format version this code does not know.
    #[error("record format version {0} is not supported")]
    UnknownVersion(u32),
    /// A field the record needs is absent.
    #[error("record lacks {0}")]
    Missing(&'static str),
    /// A stored key or secret has the wrong size or shape.
    #[error("record field {field} is invalid")]
    Invalid {
        /// Which field.
        field: &'static str,
    },
}
