//! Why a sender-key (group) operation failed. Every variant leaves the caller's record as it
//! was: the functions that can fail compute on borrowed state and build the new record last.

use crate::signal::crypto::BadPadding;
use crate::signal::{KeyError, SignatureError};

/// What was wrong with bytes that did not parse as a sender-key wire message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedReason {
    /// The input ended inside a field (or before the version byte / the signature).
    #[error("truncated")]
    Truncated,
    /// A varint ran past 10 bytes or past `u64`.
    #[error("varint too long")]
    VarintTooLong,
    /// A varint field holds a value that does not fit its 32-bit field.
    #[error("value does not fit in 32 bits")]
    ValueTooLarge,
    /// A wire type protobuf does not define (or a group, which these messages never use).
    #[error("unsupported wire type {0}")]
    WireType(u8),
    /// A field number of zero is invalid protobuf.
    #[error("field number 0")]
    FieldZero,
    /// A known field came with a different wire type than its declaration.
    #[error("field {0} has the wrong wire type")]
    FieldType(u32),
    /// The version byte's high nibble is not 3 (libsignal protocol version 3).
    #[error("unsupported version byte {0:#04x}")]
    Version(u8),
    /// A field every sender of this message sets is missing.
    #[error("missing field {0}")]
    Missing(&'static str),
    /// A bytes field has the wrong size.
    #[error("field {field} must be {expected} bytes, got {actual}")]
    Length {
        /// The field's name in proto/signal_wire.proto.
        field: &'static str,
        /// The size the protocol fixes.
        expected: usize,
        /// The size that arrived.
        actual: usize,
    },
    /// The signing key is not a 05-prefixed Curve25519 key.
    #[error("signing key: {0}")]
    Key(KeyError),
}

/// A sender-key record read back from storage was not one this code wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The bytes are not the record protobuf.
    #[error("sender-key record does not decode: {0}")]
    Decode(#[from] prost::DecodeError),
    /// Written by a newer (or unknown) format.
    #[error("sender-key record format version {0} is not supported")]
    Version(u32),
    /// A field is out of its bounds (a key of the wrong size, too many states or keys).
    #[error("sender-key record: {0}")]
    Invalid(&'static str),
}

/// A group encrypt, decrypt or distribution-message step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    /// The bytes are not a well-formed message; `offset` is where reading stopped.
    #[error("malformed {what} at byte {offset}: {reason}")]
    Malformed {
        /// Which message was being read.
        what: &'static str,
        /// Byte offset in the whole input, version byte included.
        offset: usize,
        /// What was wrong there.
        reason: MalformedReason,
    },
    /// No state in the record has this key id: the sender's distribution message never
    /// arrived, or it was evicted by newer ones. (`None` when encrypting with an empty record.)
    #[error("no sender key state for key id {key_id:?}")]
    NoSenderKeyState {
        /// The key id the message names.
        key_id: Option<u32>,
    },
    /// The message is not signed by the state's signing key.
    #[error("sender-key message signature: {0}")]
    BadSignature(#[source] SignatureError),
    /// The iteration is behind the chain and its key is not among the skipped ones: a replay,
    /// or a message older than the skipped-key window.
    #[error("iteration {iteration} is a duplicate or too old (chain at {chain_iteration})")]
    DuplicateOrOld {
        /// The message's iteration.
        iteration: u32,
        /// The next iteration the chain would derive.
        chain_iteration: u32,
    },
    /// The iteration is more than [`super::MAX_FORWARD_JUMP`] ahead of the chain; deriving that
    /// far would let a sender make us spin, and libsignal-node refuses it too.
    #[error("iteration {iteration} is too far ahead of the chain at {chain_iteration}")]
    TooFarInFuture {
        /// The message's iteration.
        iteration: u32,
        /// The next iteration the chain would derive.
        chain_iteration: u32,
    },
    /// The signature checked out but the ciphertext did not decrypt: a sender bug.
    #[error("sender-key ciphertext does not decrypt")]
    BadCiphertext(#[source] BadPadding),
    /// The current state was received from someone else, so we cannot sign with it.
    #[error("the sender key state has no private signing key")]
    NotOwnSenderKey,
    /// The chain reached iteration 2^32 - 1; a new sender key is needed.
    #[error("the sender key chain is exhausted")]
    ChainExhausted,
}

impl GroupError {
    pub(crate) fn malformed(what: &'static str, offset: usize, reason: MalformedReason) -> Self {
        Self::Malformed {
            what,
            offset,
            reason,
        }
    }
}
