//! The `encrypt` namespace (protocol.md §6.2): prekey count, upload and signed-prekey rotation,
//! and the key-bundle digest. Uploads are checked strictly: structure, sizes, the signed
//! prekey's signature, and that no prekey id is ever accepted twice.

use std::collections::BTreeSet;

use wa_core::binary::Node;
use wa_core::signal::{xeddsa, PublicKey, DJB_TYPE};

use crate::shared::faults::lock;
use crate::shared::state::{StoredPreKey, StoredSignedPreKey};
use crate::shared::Shared;

/// Why an upload or rotation is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// A required child is missing or carries no bytes.
    #[error("<{0}> is missing or empty")]
    Missing(&'static str),
    /// A child has the wrong size.
    #[error("<{tag}> is {got} bytes, expected {expected}")]
    Length {
        /// The element.
        tag: &'static str,
        /// Required size.
        expected: usize,
        /// Found size.
        got: usize,
    },
    /// `<type>` is not `05`.
    #[error("<type> is not 05")]
    KeyType,
    /// `<registration>` differs from the registration id the device paired with.
    #[error("registration id {got} differs from the paired {expected}")]
    RegistrationMismatch {
        /// Paired value.
        expected: u32,
        /// Uploaded value.
        got: u32,
    },
    /// `<identity>` differs from the identity key the device paired with.
    #[error("identity key differs from the paired one")]
    IdentityMismatch,
    /// No prekeys in `<list>`.
    #[error("<list> has no <key>")]
    Empty,
    /// More prekeys than one upload may carry.
    #[error("{0} prekeys in one upload, at most {1}")]
    TooMany(usize, usize),
    /// The same id twice in one upload.
    #[error("prekey id {0} appears twice in the upload")]
    DuplicateInUpload(u32),
    /// An id this device uploaded before.
    #[error("prekey id {0} was already uploaded; ids must never be reused")]
    Reused(u32),
    /// The signed prekey's signature does not verify with the identity key.
    #[error("signed prekey signature does not verify")]
    SignedPreKeySignature,
    /// The device was removed meanwhile.
    #[error("device is no longer paired")]
    DeviceGone,
}

fn bytes<'a>(parent: &'a Node, tag: &'static str) -> Result<&'a [u8], UploadError> {
    parent
        .child(tag)
        .and_then(Node::bytes)
        .filter(|b| !b.is_empty())
        .ok_or(UploadError::Missing(tag))
}

fn sized<const N: usize>(parent: &Node, tag: &'static str) -> Result<[u8; N], UploadError> {
    let b = bytes(parent, tag)?;
    b.try_into().map_err(|_| UploadError::Length {
        tag,
        expected: N,
        got: b.len(),
    })
}

fn id24(parent: &Node) -> Result<u32, UploadError> {
    let [a, b, c] = sized::<3>(parent, "id")?;
    Ok(u32::from_be_bytes([0, a, b, c]))
}

/// Reads and verifies `<skey><id/><value/><signature/></skey>` under `identity`.
fn signed_pre_key(skey: &Node, identity: &PublicKey) -> Result<StoredSignedPreKey, UploadError> {
    let id = id24(skey)?;
    let value = sized::<32>(skey, "value")?;
    let signature = sized::<64>(skey, "signature")?;
    xeddsa::verify_parts(identity, &[&[DJB_TYPE], &value], &signature)
        .map_err(|_| UploadError::SignedPreKeySignature)?;
    Ok(StoredSignedPreKey {
        id,
        public_hex: hex::encode(value),
        signature_hex: hex::encode(signature),
    })
}

/// Unused prekeys the server holds for `device`.
pub(crate) fn count(shared: &Shared, device: &str) -> usize {
    lock(&shared.store)
        .data
        .devices
        .get(device)
        .map_or(0, |d| d.available_pre_keys())
}

/// Checks and stores an upload (`<iq xmlns="encrypt" type="set">` with `<registration>`,
/// `<type>`, `<identity>`, `<list>` and `<skey>`). Returns how many prekeys were stored.
pub(crate) fn upload(
    shared: &Shared,
    device: &str,
    iq: &Node,
    max: usize,
) -> Result<usize, UploadError> {
    let registration = u32::from_be_bytes(sized::<4>(iq, "registration")?);
    if sized::<1>(iq, "type")? != [DJB_TYPE] {
        return Err(UploadError::KeyType);
    }
    let identity = PublicKey::from_bytes(sized::<32>(iq, "identity")?);
    let list = iq.child("list").ok_or(UploadError::Missing("list"))?;
    let mut keys = Vec::new();
    let mut seen = BTreeSet::new();
    for key in list.children_by_tag("key") {
        let id = id24(key)?;
        let value = sized::<32>(key, "value")?;
        if !seen.insert(id) {
            return Err(UploadError::DuplicateInUpload(id));
        }
        keys.push((id, value));
    }
    if keys.is_empty() {
        return Err(UploadError::Empty);
    }
    if keys.len() > max {
        return Err(UploadError::TooMany(keys.len(), max));
    }
    let skey = iq.child("skey").ok_or(UploadError::Missing("skey"))?;
    let signed = signed_pre_key(skey, &identity)?;

    let mut store = lock(&shared.store);
    let record = store
        .data
        .devices
        .get_mut(device)
        .ok_or(UploadError::DeviceGone)?;
    if registration != record.registration_id {
        return Err(UploadError::RegistrationMismatch {
            expected: record.registration_id,
            got: registration,
        });
    }
    if record.identity_pub() != Some(identity) {
        return Err(UploadError::IdentityMismatch);
    }
    if let Some((id, _)) = keys.iter().find(|(id, _)| record.pre_keys.contains_key(id)) {
        return Err(UploadError::Reused(*id));
    }
    let stored = keys.len();
    for (id, value) in keys {
        record.pre_keys.insert(
            id,
            StoredPreKey {
                public_hex: hex::encode(value),
                used: false,
            },
        );
    }
    record.signed_pre_key = signed;
    if let Err(e) = store.save() {
        tracing::error!(error = %e, "could not persist uploaded prekeys");
    }
    Ok(stored)
}

/// `<rotate><skey>…</skey></rotate>`: a new signed prekey.
pub(crate) fn rotate(shared: &Shared, device: &str, rotate: &Node) -> Result<(), UploadError> {
    let skey = rotate.child("skey").ok_or(UploadError::Missing("skey"))?;
    let mut store = lock(&shared.store);
    let record = store
        .data
        .devices
        .get_mut(device)
        .ok_or(UploadError::DeviceGone)?;
    let identity = record.identity_pub().ok_or(UploadError::IdentityMismatch)?;
    record.signed_pre_key = signed_pre_key(skey, &identity)?;
    if let Err(e) = store.save() {
        tracing::error!(error = %e, "could not persist the rotated signed prekey");
    }
    Ok(())
}

/// `<digest>`: what the server holds for the device. The real server adds a `<hash>` whose
/// construction is unverified, so none is sent; the reference clients only check that the
/// digest exists.
pub(crate) fn digest(shared: &Shared, device: &str) -> Option<Node> {
    let store = lock(&shared.store);
    let record = store.data.devices.get(device)?;
    let decode = |h: &str| hex::decode(h).unwrap_or_default();
    let spk = &record.signed_pre_key;
    let ids = record
        .pre_keys
        .iter()
        .filter(|(_, k)| !k.used)
        .map(|(id, _)| Node::new("id").with_bytes(id.to_be_bytes()[1..].to_vec()))
        .collect();
    Some(Node::new("digest").with_children(vec![
        Node::new("registration").with_bytes(record.registration_id.to_be_bytes().to_vec()),
        Node::new("type").with_bytes(vec![DJB_TYPE]),
        Node::new("identity").with_bytes(decode(&record.identity_pub_hex)),
        Node::new("skey").with_children(vec![
            Node::new("id").with_bytes(spk.id.to_be_bytes()[1..].to_vec()),
            Node::new("value").with_bytes(decode(&spk.public_hex)),
            Node::new("signature").with_bytes(decode(&spk.signature_hex)),
        ]),
        Node::new("list").with_children(ids),
    ]))
}
