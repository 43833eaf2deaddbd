//! Records to and from bytes for the store (`proto/signal_records.proto`). Each record starts
//! with a format version; [`RECORD_VERSION`] is the only one so far, and a reader refuses
//! versions it does not know rather than guess.
//!
//! Key pairs are stored with their public half, so loading a record with 40 archived states does
//! not redo 40 scalar multiplications; the bytes are our own, written by `serialize`.

use std::collections::VecDeque;
use std::sync::Arc;

use prost::Message as _;

use super::chain::ChainKey;
use super::error::RecordError;
use super::keys::{KeyPair, PrivateKey, PublicKey};
use super::prekey::{PreKeyRecord, SignedPreKeyRecord};
use super::record::{SessionRecord, MAX_ARCHIVED_STATES};
use super::state::{
    PendingPreKey, ReceiverChain, SenderChain, SessionState, MAX_RECEIVER_CHAINS, MAX_SKIPPED_KEYS,
};
use crate::proto::signal_records as pb;

/// The format version `serialize` writes.
pub const RECORD_VERSION: u32 = 1;

fn check_version(version: Option<u32>) -> Result<(), RecordError> {
    match version {
        Some(RECORD_VERSION) => Ok(()),
        Some(other) => Err(RecordError::UnknownVersion(other)),
        None => Err(RecordError::Missing("version")),
    }
}

fn need<T>(value: Option<T>, field: &'static str) -> Result<T, RecordError> {
    value.ok_or(RecordError::Missing(field))
}

fn array<const N: usize>(
    bytes: Option<Vec<u8>>,
    field: &'static str,
) -> Result<[u8; N], RecordError> {
    need(bytes, field)?
        .as_slice()
        .try_into()
        .map_err(|_| RecordError::Invalid { field })
}

fn public(bytes: Option<Vec<u8>>, field: &'static str) -> Result<PublicKey, RecordError> {
    array::<32>(bytes, field).map(PublicKey::from_bytes)
}

fn key_pair(
    public_bytes: Option<Vec<u8>>,
    private_bytes: Option<Vec<u8>>,
    field: &'static str,
) -> Result<KeyPair, RecordError> {
    Ok(KeyPair {
        private: PrivateKey::from_bytes(array::<32>(private_bytes, field)?),
        public: public(public_bytes, field)?,
    })
}

fn state_to_data(state: &SessionState) -> pb::SessionStateData {
    pb::SessionStateData {
        local_identity: Some(state.local_identity.as_bytes().to_vec()),
        remote_identity: Some(state.remote_identity.as_bytes().to_vec()),
        local_registration_id: Some(state.local_registration_id),
        remote_registration_id: Some(state.remote_registration_id),
        root_key: Some(state.root_key.to_vec()),
        base_key: Some(state.base_key.as_bytes().to_vec()),
        sender: Some(pb::SenderChainData {
            ratchet_public: Some(state.sender.ratchet.public.as_bytes().to_vec()),
            ratchet_private: Some(state.sender.ratchet.private.to_bytes().to_vec()),
            chain_key: Some(state.sender.chain.key.to_vec()),
            index: Some(state.sender.chain.index),
        }),
        previous_counter: Some(state.previous_counter),
        receivers: state
            .receivers
            .iter()
            .map(|r| pb::ReceiverChainData {
                ratchet_key: Some(r.ratchet_key.as_bytes().to_vec()),
                chain_key: Some(r.chain.key.to_vec()),
                index: Some(r.chain.index),
                skipped: r
                    .skipped
                    .iter()
                    .map(|(counter, seed)| pb::SkippedKeyData {
                        counter: Some(*counter),
                        seed: Some(seed.to_vec()),
                    })
                    .collect(),
            })
            .collect(),
        pending: state.pending.as_ref().map(|p| pb::PendingPreKeyData {
            pre_key_id: p.pre_key_id,
            signed_pre_key_id: Some(p.signed_pre_key_id),
            base_key: Some(p.base_key.as_bytes().to_vec()),
        }),
    }
}

fn receiver_from_data(data: pb::ReceiverChainData) -> Result<ReceiverChain, RecordError> {
    if data.skipped.len() > MAX_SKIPPED_KEYS {
        return Err(RecordError::Invalid { field: "skipped" });
    }
    let skipped = data
        .skipped
        .into_iter()
        .map(|k| {
            Ok((
                need(k.counter, "skipped.counter")?,
                array::<32>(k.seed, "skipped.seed")?,
            ))
        })
        .collect::<Result<VecDeque<_>, RecordError>>()?;
    // Lookups binary-search the skipped keys, so they must be strictly ascending.
    if skipped
        .iter()
        .zip(skipped.iter().skip(1))
        .any(|(a, b)| a.0 >= b.0)
    {
        return Err(RecordError::Invalid { field: "skipped" });
    }
    Ok(ReceiverChain {
        ratchet_key: public(data.ratchet_key, "receivers.ratchetKey")?,
        chain: ChainKey::new(
            array::<32>(data.chain_key, "receivers.chainKey")?,
            need(data.index, "receivers.index")?,
        ),
        skipped,
    })
}

fn state_from_data(data: pb::SessionStateData) -> Result<SessionState, RecordError> {
    let sender = need(data.sender, "sender")?;
    if data.receivers.len() > MAX_RECEIVER_CHAINS {
        return Err(RecordError::Invalid { field: "receivers" });
    }
    let pending = match data.pending {
        Some(p) => Some(PendingPreKey {
            pre_key_id: p.pre_key_id,
            signed_pre_key_id: need(p.signed_pre_key_id, "pending.signedPreKeyId")?,
            base_key: public(p.base_key, "pending.baseKey")?,
        }),
        None => None,
    };
    Ok(SessionState {
        local_identity: public(data.local_identity, "localIdentity")?,
        remote_identity: public(data.remote_identity, "remoteIdentity")?,
        local_registration_id: need(data.local_registration_id, "localRegistrationId")?,
        remote_registration_id: need(data.remote_registration_id, "remoteRegistrationId")?,
        root_key: array::<32>(data.root_key, "rootKey")?,
        base_key: public(data.base_key, "baseKey")?,
        sender: SenderChain {
            ratchet: key_pair(
                sender.ratchet_public,
                sender.ratchet_private,
                "sender.ratchet",
            )?,
            chain: ChainKey::new(
                array::<32>(sender.chain_key, "sender.chainKey")?,
                need(sender.index, "sender.index")?,
            ),
        },
        previous_counter: need(data.previous_counter, "previousCounter")?,
        receivers: data
            .receivers
            .into_iter()
            .map(receiver_from_data)
            .collect::<Result<_, _>>()?,
        pending,
    })
}

impl SessionRecord {
    /// The record's bytes for the store.
    pub fn serialize(&self) -> Vec<u8> {
        pb::SessionRecordData {
            version: Some(RECORD_VERSION),
            current: self.current.as_ref().map(state_to_data),
            archived: self.archived.iter().map(|s| state_to_data(s)).collect(),
        }
        .encode_to_vec()
    }

    /// Reads a record written by [`serialize`](Self::serialize).
    pub fn deserialize(bytes: &[u8]) -> Result<Self, RecordError> {
        let data = pb::SessionRecordData::decode(bytes).map_err(RecordError::Decode)?;
        check_version(data.version)?;
        if data.archived.len() > MAX_ARCHIVED_STATES {
            return Err(RecordError::Invalid { field: "archived" });
        }
        Ok(Self {
            current: data.current.map(state_from_data).transpose()?,
            archived: data
                .archived
                .into_iter()
                .map(|s| state_from_data(s).map(Arc::new))
                .collect::<Result<_, _>>()?,
        })
    }
}

impl PreKeyRecord {
    /// The record's bytes for the store.
    pub fn serialize(&self) -> Vec<u8> {
        pb::PreKeyRecordData {
            version: Some(RECORD_VERSION),
            id: Some(self.id),
            public_key: Some(self.key_pair.public.as_bytes().to_vec()),
            private_key: Some(self.key_pair.private.to_bytes().to_vec()),
        }
        .encode_to_vec()
    }

    /// Reads a record written by [`serialize`](Self::serialize).
    pub fn deserialize(bytes: &[u8]) -> Result<Self, RecordError> {
        let data = pb::PreKeyRecordData::decode(bytes).map_err(RecordError::Decode)?;
        check_version(data.version)?;
        Ok(Self {
            id: need(data.id, "id")?,
            key_pair: key_pair(data.public_key, data.private_key, "keyPair")?,
        })
    }
}

impl SignedPreKeyRecord {
    /// The record's bytes for the store.
    pub fn serialize(&self) -> Vec<u8> {
        pb::SignedPreKeyRecordData {
            version: Some(RECORD_VERSION),
            id: Some(self.id),
            public_key: Some(self.key_pair.public.as_bytes().to_vec()),
            private_key: Some(self.key_pair.private.to_bytes().to_vec()),
            signature: Some(self.signature.to_vec()),
        }
        .encode_to_vec()
    }

    /// Reads a record written by [`serialize`](Self::serialize).
    pub fn deserialize(bytes: &[u8]) -> Result<Self, RecordError> {
        let data = pb::SignedPreKeyRecordData::decode(bytes).map_err(RecordError::Decode)?;
        check_version(data.version)?;
        Ok(Self {
            id: need(data.id, "id")?,
            key_pair: key_pair(data.public_key, data.private_key, "keyPair")?,
            signature: array::<64>(data.signature, "signature")?,
        })
    }
}
