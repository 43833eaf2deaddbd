//! A sender-key record to and from bytes, for the store (proto/sender_key_record.proto).
//!
//! Reading checks every bound the code relies on (key sizes, at most [`MAX_STATES`] states and
//! [`MAX_SKIPPED_KEYS`] skipped keys each), so a damaged row is a typed error, never a panic or
//! an oversized state.

use prost::Message as _;

use super::chain::ChainKey;
use super::error::RecordError;
use super::state::{SenderKeyRecord, SenderKeyState, SkippedKey, MAX_SKIPPED_KEYS, MAX_STATES};
use crate::signal::{PrivateKey, PublicKey};

/// The messages of proto/sender_key_record.proto, declared with prost's derive rather than
/// generated, so the storage format is visible here next to the code that checks it. Field
/// numbers and types must stay those of the .proto file.
mod blob {
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct SenderKeyRecordBlob {
        #[prost(uint32, optional, tag = "1")]
        pub(super) version: Option<u32>,
        #[prost(message, repeated, tag = "2")]
        pub(super) states: Vec<SenderKeyStateBlob>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct SenderKeyStateBlob {
        #[prost(uint32, optional, tag = "1")]
        pub(super) key_id: Option<u32>,
        #[prost(uint32, optional, tag = "2")]
        pub(super) iteration: Option<u32>,
        #[prost(bytes = "vec", optional, tag = "3")]
        pub(super) chain_seed: Option<Vec<u8>>,
        #[prost(bytes = "vec", optional, tag = "4")]
        pub(super) signing_public: Option<Vec<u8>>,
        #[prost(bytes = "vec", optional, tag = "5")]
        pub(super) signing_private: Option<Vec<u8>>,
        #[prost(message, repeated, tag = "6")]
        pub(super) skipped: Vec<SkippedMessageKey>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct SkippedMessageKey {
        #[prost(uint32, optional, tag = "1")]
        pub(super) iteration: Option<u32>,
        #[prost(bytes = "vec", optional, tag = "2")]
        pub(super) seed: Option<Vec<u8>>,
    }
}

/// The layout [`SenderKeyRecord::serialize`] writes.
pub const RECORD_VERSION: u32 = 1;

fn array32(bytes: Option<Vec<u8>>, what: &'static str) -> Result<[u8; 32], RecordError> {
    bytes
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or(RecordError::Invalid(what))
}

impl SenderKeyRecord {
    /// The record as bytes (stable: the store keeps them across versions of this program).
    pub fn serialize(&self) -> Vec<u8> {
        let states = self
            .states
            .iter()
            .map(|s| blob::SenderKeyStateBlob {
                key_id: Some(s.key_id),
                iteration: Some(s.chain.iteration),
                chain_seed: Some(s.chain.seed.to_vec()),
                signing_public: Some(s.signing_public.as_bytes().to_vec()),
                signing_private: s.signing_private.as_ref().map(|k| k.to_bytes().to_vec()),
                skipped: s
                    .skipped
                    .iter()
                    .map(|k| blob::SkippedMessageKey {
                        iteration: Some(k.iteration),
                        seed: Some(k.seed.to_vec()),
                    })
                    .collect(),
            })
            .collect();
        blob::SenderKeyRecordBlob {
            version: Some(RECORD_VERSION),
            states,
        }
        .encode_to_vec()
    }

    /// Reads bytes written by [`SenderKeyRecord::serialize`].
    pub fn deserialize(bytes: &[u8]) -> Result<Self, RecordError> {
        let blob = blob::SenderKeyRecordBlob::decode(bytes)?;
        match blob.version {
            Some(RECORD_VERSION) => {}
            other => return Err(RecordError::Version(other.unwrap_or(0))),
        }
        if blob.states.len() > MAX_STATES {
            return Err(RecordError::Invalid("more states than a record keeps"));
        }
        let states = blob
            .states
            .into_iter()
            .map(|s| {
                if s.skipped.len() > MAX_SKIPPED_KEYS {
                    return Err(RecordError::Invalid("more skipped keys than a state keeps"));
                }
                let skipped = s
                    .skipped
                    .into_iter()
                    .map(|k| {
                        Ok(SkippedKey {
                            iteration: k
                                .iteration
                                .ok_or(RecordError::Invalid("skipped key iteration"))?,
                            seed: array32(k.seed, "skipped key seed")?,
                        })
                    })
                    .collect::<Result<_, RecordError>>()?;
                Ok(SenderKeyState {
                    key_id: s.key_id.ok_or(RecordError::Invalid("key id"))?,
                    chain: ChainKey {
                        iteration: s.iteration.ok_or(RecordError::Invalid("iteration"))?,
                        seed: array32(s.chain_seed, "chain seed")?,
                    },
                    signing_public: PublicKey::from_bytes(array32(
                        s.signing_public,
                        "signing public key",
                    )?),
                    signing_private: match s.signing_private {
                        None => None,
                        Some(b) => Some(PrivateKey::from_bytes(array32(
                            Some(b),
                            "signing private key",
                        )?)),
                    },
                    skipped,
                })
            })
            .collect::<Result<_, RecordError>>()?;
        Ok(Self { states })
    }
}
