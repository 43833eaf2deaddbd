//! The server's side of pairing (protocol.md §5): the refs a registering connection gets and
//! the windows they can be scanned in, the identity the phone issues, and the check of the
//! companion's `pair-device-sign` before the device is persisted.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand_core::{OsRng, RngCore as _};
use tokio::time::Instant;
use wa_core::binary::{Jid, Node, Server};
use wa_core::pair::phone::issue_device_identity;
use wa_core::payload::Registration;
use wa_core::proto::{AdvDeviceIdentity, AdvEncryptionType};
use wa_core::signal::PublicKey;
use wa_core::stanza::pair::{PairDevice, PairSuccess};

use crate::shared::book::{server_id, PendingPair, RefEntry};
use crate::shared::events::SimEvent;
use crate::shared::faults::lock;
use crate::shared::registry::now_unix;
use crate::shared::state::{DeviceRecord, StoredSignedPreKey};
use crate::shared::Shared;

/// A registering connection's pairing state.
pub(crate) struct PairingSession {
    pub(crate) registration: Arc<Registration>,
    pub(crate) noise_pub: PublicKey,
    pub(crate) pair_device_id: String,
    pub(crate) pair_device_acked: bool,
    /// When the connection is closed if nothing was scanned.
    pub(crate) close_at: Instant,
    pub(crate) pending: Option<PendingPair>,
}

/// Starts pairing on `conn`: issues the refs with their windows and returns the session and
/// the `pair-device` iq.
pub(crate) fn start(
    shared: &Shared,
    conn: u64,
    registration: Registration,
    noise_pub: PublicKey,
) -> (PairingSession, Node) {
    let config = &shared.config;
    let registration = Arc::new(registration);
    let now = Instant::now();
    let refs: Vec<String> = (0..config.ref_count)
        .map(|_| {
            let mut b = [0u8; 24];
            OsRng.fill_bytes(&mut b);
            format!("2@{}", STANDARD.encode(b))
        })
        .collect();
    {
        let mut book = lock(&shared.book);
        for (index, pairing_ref) in refs.iter().enumerate() {
            let (from, until) = config.ref_window(index);
            book.refs.insert(
                pairing_ref.clone(),
                RefEntry {
                    conn,
                    index,
                    valid_from: now + from,
                    valid_until: now + until,
                    noise_pub,
                    registration: registration.clone(),
                },
            );
        }
    }
    let pair_device = PairDevice {
        id: server_id(),
        refs: refs.clone(),
    };
    shared.events.emit(SimEvent::PairDeviceSent { conn, refs });
    let session = PairingSession {
        registration,
        noise_pub,
        pair_device_id: pair_device.id.clone(),
        pair_device_acked: false,
        close_at: now + config.pairing_close_after(),
        pending: None,
    };
    (session, pair_device.to_node())
}

/// The phone vouches for the companion: allocates its device id and key index, signs its ADV
/// identity with the account key under `adv_secret`, and prepares `pair-success`.
pub(crate) fn issue(
    shared: &Shared,
    registration: &Registration,
    noise_pub: &PublicKey,
    adv_secret: &[u8; 32],
    contact: Option<&str>,
) -> Result<PendingPair, String> {
    let mut account = shared.phone_key().map_err(|e| e.to_string())?;
    let (device_id, key_index, number, lid) = {
        let mut store = lock(&shared.store);
        let other = contact.filter(|pn| *pn != store.data.phone.number);
        if let Some(pn) = other {
            // The contact's own phone links this companion to the contact's account.
            let mut world = lock(&shared.world);
            let taken = crate::relay::rules::devices_of(&world, &store.data, pn);
            let found = world
                .accounts
                .get_mut(pn)
                .ok_or_else(|| format!("no account {pn}"))?;
            let mut n = found.next_device.max(1);
            while taken.contains(&n) {
                n += 1;
            }
            found.next_device = n + 1;
            account = found.account_key.clone();
            (n, u32::from(n), found.pn.clone(), found.lid.clone())
        } else {
            let data = &mut store.data;
            let device_id = data.next_device;
            data.next_device = data
                .next_device
                .checked_add(1)
                .ok_or("device ids exhausted")?;
            let key_index = data.next_key_index;
            data.next_key_index = data.next_key_index.wrapping_add(1);
            let ids = (
                device_id,
                key_index,
                data.phone.number.clone(),
                data.phone.lid.clone(),
            );
            store.save().map_err(|e| e.to_string())?;
            ids
        }
    };
    let now = now_unix();
    let device = AdvDeviceIdentity {
        raw_id: Some(OsRng.next_u32()),
        timestamp: Some(now),
        key_index: Some(key_index),
        account_type: Some(AdvEncryptionType::E2ee as i32),
        device_type: Some(AdvEncryptionType::E2ee as i32),
    };
    let issued = issue_device_identity(
        &account,
        &registration.identity,
        adv_secret,
        &device,
        &mut OsRng,
    );
    let jid = Jid::with_device(number, device_id, Server::Pn);
    let lid_jid = Jid::with_device(lid, device_id, Server::Lid);
    let mut enc_static = [0u8; 32];
    OsRng.fill_bytes(&mut enc_static);
    let record = DeviceRecord {
        device: device_id,
        jid: jid.to_string(),
        lid: lid_jid.to_string(),
        noise_pub_hex: hex::encode(noise_pub.as_bytes()),
        identity_pub_hex: hex::encode(registration.identity.as_bytes()),
        registration_id: registration.registration_id,
        signed_pre_key: StoredSignedPreKey {
            id: registration.signed_pre_key_id,
            public_hex: hex::encode(registration.signed_pre_key.as_bytes()),
            signature_hex: hex::encode(registration.signed_pre_key_signature),
        },
        key_index,
        os: registration.device_props.os.clone().unwrap_or_default(),
        paired_at: now,
        companion_enc_static: STANDARD.encode(enc_static),
        pre_keys: BTreeMap::new(),
    };
    let iq_id = server_id();
    let success = PairSuccess {
        id: iq_id.clone(),
        device_identity: issued.device_identity.clone(),
        jid,
        lid: Some(lid_jid),
        platform: Some(shared.config.phone_platform.clone()),
        business_name: None,
        client_props: None,
    };
    Ok(PendingPair {
        iq_id,
        issued,
        device: record,
        success,
    })
}

/// Persists a device whose `pair-device-sign` checked out.
pub(crate) fn persist(shared: &Shared, device: DeviceRecord) -> Result<(), String> {
    let mut store = lock(&shared.store);
    store.data.devices.insert(device.jid.clone(), device);
    store.save().map_err(|e| e.to_string())
}
