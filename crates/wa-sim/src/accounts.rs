//! Making the world's accounts: the linked account (its phone, device 0, a Signal peer under
//! the account key), contacts with their phones and companion devices, and devices added or
//! removed later, announced with the `devices` notification (messaging.md §6.2).

use std::collections::BTreeSet;
use std::time::Duration;

use prost::Message as _;
use rand_core::OsRng;
use rand_core::RngCore as _;
use serde::Serialize;
use wa_core::binary::{Jid, Node, Server};
use wa_core::pair::adv::{device_signature_parts, ACCOUNT_SIGNATURE_PREFIX};
use wa_core::proto::{
    AdvDeviceIdentity, AdvEncryptionType, AdvKeyIndexList, AdvSignedDeviceIdentity,
    AdvSignedKeyIndexList,
};
use wa_core::signal::{xeddsa, KeyPair};

use crate::relay::deliver::{notification_id, to_real};
use crate::relay::rules::{devices_of, key_index_of, phash};
use crate::shared::config::ContactSpec;
use crate::shared::registry::now_unix;
use crate::shared::state::StateData;
pub use crate::shared::world::WorldError;
use crate::shared::world::{Account, Addressing, Autopilot, DeviceAddr, SimDevice, World};
use crate::shared::Shared;

/// A contact as the control API shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    /// Phone number.
    pub pn: String,
    /// LID user.
    pub lid: String,
    /// Display name.
    pub name: String,
    /// `pn` or `lid`.
    pub addressing: Addressing,
    /// Device numbers, simulated and real.
    pub devices: Vec<u16>,
    /// Whether this is the linked account.
    pub linked: bool,
    /// Whether first messages need its token.
    pub token_required: bool,
    /// The account key (the phone's identity), hex.
    pub identity_hex: String,
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The linked account, from the persisted phone.
pub(crate) fn linked_account(world: &World, data: &StateData) -> Option<Account> {
    let key = data.phone.identity.key_pair("phone identity").ok()?;
    let mut devices = std::collections::BTreeMap::new();
    let seed = world.device_seed(&data.phone.number, 0);
    devices.insert(0, SimDevice::new(0, key.clone(), 0, seed));
    Some(Account {
        pn: data.phone.number.clone(),
        lid: data.phone.lid.clone(),
        name: "Me".to_owned(),
        addressing: Addressing::Pn,
        account_key: key,
        devices,
        duplicates: Default::default(),
        token_required: false,
        issued_token: None,
        autopilot: Autopilot::default(),
        next_device: 1,
        replies_sent: 0,
        received: 0,
    })
}

/// Adds a contact; returns its phone number.
pub(crate) fn add_contact(world: &mut World, spec: &ContactSpec) -> Result<String, WorldError> {
    let pn = match &spec.pn {
        Some(pn) => pn.trim_start_matches('+').to_owned(),
        None => loop {
            world.next_contact += 1;
            let pn = format!("1555100{:04}", world.next_contact);
            if !world.accounts.contains_key(&pn) {
                break pn;
            }
        },
    };
    let lid = spec
        .lid
        .clone()
        .unwrap_or_else(|| format!("2{:0>14}", pn.chars().rev().take(14).collect::<String>()));
    if !digits(&pn) || !digits(&lid) {
        return Err(WorldError::BadContact(format!(
            "phone number {pn:?} and LID {lid:?} must be digits"
        )));
    }
    if world.accounts.contains_key(&pn) || world.lid_to_pn.contains_key(&lid) {
        return Err(WorldError::BadContact(format!(
            "{pn} (LID {lid}) exists already"
        )));
    }
    let account_key = world.account_key(&pn);
    let mut devices = std::collections::BTreeMap::new();
    devices.insert(
        0,
        SimDevice::new(0, account_key.clone(), 0, world.device_seed(&pn, 0)),
    );
    for n in 1..=spec.companions {
        devices.insert(n, companion(&account_key, n, world.device_seed(&pn, n)));
    }
    let name = spec
        .name
        .clone()
        .unwrap_or_else(|| format!("Contact {}", world.accounts.len()));
    world.lid_to_pn.insert(lid.clone(), pn.clone());
    world.accounts.insert(
        pn.clone(),
        Account {
            pn: pn.clone(),
            lid,
            name,
            addressing: spec.addressing,
            account_key,
            devices,
            duplicates: spec.duplicates,
            token_required: spec.token_required,
            issued_token: None,
            autopilot: Autopilot {
                read_after: spec.read_after_ms.map(Duration::from_millis),
                reply_every: spec.reply_every,
                replies: spec.replies.clone(),
            },
            next_device: spec.companions + 1,
            replies_sent: 0,
            received: 0,
        },
    );
    Ok(pn)
}

fn sign_parts(key: &wa_core::signal::PrivateKey, parts: &[&[u8]]) -> [u8; 64] {
    let mut random = [0u8; 64];
    OsRng.fill_bytes(&mut random);
    xeddsa::sign_parts(key, parts, &random)
}

/// A simulated companion: its own identity, vouched for by the account key under key index
/// `n`, and countersigned, as a real companion's `<device-identity>` is after pairing.
fn companion(account_key: &KeyPair, n: u16, seed: [u8; 32]) -> SimDevice {
    let identity = KeyPair::from_private_bytes(crate::shared::world::derive(&seed, &[b"identity"]));
    let mut device = SimDevice::new(n, identity, u32::from(n), seed);
    let identity = device.identity.key_pair.clone();
    let details = AdvDeviceIdentity {
        raw_id: Some(OsRng.next_u32()),
        timestamp: Some(now_unix()),
        key_index: Some(u32::from(n)),
        account_type: Some(AdvEncryptionType::E2ee as i32),
        device_type: Some(AdvEncryptionType::E2ee as i32),
    }
    .encode_to_vec();
    let account_signature = sign_parts(
        &account_key.private,
        &[
            &ACCOUNT_SIGNATURE_PREFIX,
            &details,
            identity.public.as_bytes(),
        ],
    );
    let device_signature = sign_parts(
        &identity.private,
        &device_signature_parts(&details, &identity.public, &account_key.public),
    );
    device.device_identity = Some(
        AdvSignedDeviceIdentity {
            details: Some(details),
            account_signature_key: Some(account_key.public.as_bytes().to_vec()),
            account_signature: Some(account_signature.to_vec()),
            device_signature: Some(device_signature.to_vec()),
        }
        .encode_to_vec(),
    );
    device
}

/// Every account as the control API shows it.
pub(crate) fn contacts(world: &World, data: &StateData) -> Vec<ContactView> {
    world
        .accounts
        .values()
        .map(|a| ContactView {
            pn: a.pn.clone(),
            lid: a.lid.clone(),
            name: a.name.clone(),
            addressing: a.addressing,
            devices: devices_of(world, data, &a.pn).into_iter().collect(),
            linked: a.pn == data.phone.number,
            token_required: a.token_required,
            identity_hex: hex::encode(a.account_key.public.as_bytes()),
        })
        .collect()
}

/// `<key-index-list>`: the account key's signed list of valid key indexes (the protocol's
/// `ADVSignedKeyIndexList`), which clients need before they trust a companion.
pub(crate) fn key_index_list(world: &World, data: &StateData, pn: &str) -> Option<Node> {
    let account = world.accounts.get(pn)?;
    let indexes: BTreeSet<u32> = devices_of(world, data, pn)
        .into_iter()
        .filter(|&d| d != 0)
        .map(|d| key_index_of(world, data, &DeviceAddr::new(pn.to_owned(), d)))
        .collect();
    let ts = now_unix();
    let details = AdvKeyIndexList {
        raw_id: Some(1),
        timestamp: Some(ts),
        current_index: indexes.iter().next_back().copied(),
        valid_indexes: indexes.into_iter().collect(),
        account_type: None,
    }
    .encode_to_vec();
    let signature = xeddsa::sign_with_rng(&account.account_key.private, &details, &mut OsRng);
    let signed = AdvSignedKeyIndexList {
        details: Some(details),
        account_signature: Some(signature.to_vec()),
        account_signature_key: None,
    };
    Some(
        Node::new("key-index-list")
            .with_attr("ts", ts.to_string())
            .with_bytes(signed.encode_to_vec()),
    )
}

/// Adds a simulated companion device to an account; returns its number.
pub(crate) fn add_device(
    shared: &Shared,
    data: &StateData,
    world: &mut World,
    pn: &str,
) -> Result<u16, WorldError> {
    let taken = devices_of(world, data, pn);
    let world_seed = world.seed;
    let account = world
        .accounts
        .get_mut(pn)
        .ok_or_else(|| WorldError::NoAccount(pn.to_owned()))?;
    let mut n = account.next_device.max(1);
    while taken.contains(&n) {
        n += 1;
    }
    account.next_device = n + 1;
    let seed = crate::shared::world::device_seed(&world_seed, pn, n);
    let device = companion(&account.account_key, n, seed);
    account.devices.insert(n, device);
    notify_devices(shared, data, world, pn, "add", n);
    Ok(n)
}

/// Removes a simulated device (not the phone) from an account.
pub(crate) fn remove_device(
    shared: &Shared,
    data: &StateData,
    world: &mut World,
    pn: &str,
    device: u16,
) -> Result<(), WorldError> {
    let account = world
        .accounts
        .get_mut(pn)
        .ok_or_else(|| WorldError::NoAccount(pn.to_owned()))?;
    if device == 0 || account.devices.remove(&device).is_none() {
        return Err(WorldError::NoDevice(format!("{pn}:{device}")));
    }
    notify_devices(shared, data, world, pn, "remove", device);
    Ok(())
}

/// `<notification type="devices">` to every real client: the account's device set changed,
/// with its new hash.
fn notify_devices(
    shared: &Shared,
    data: &StateData,
    world: &mut World,
    pn: &str,
    change: &'static str,
    device: u16,
) {
    let Some(account) = world.accounts.get(pn) else {
        return;
    };
    let addressing = account.addressing;
    let set: BTreeSet<DeviceAddr> = devices_of(world, data, pn)
        .into_iter()
        .map(|d| DeviceAddr::new(pn.to_owned(), d))
        .collect();
    let hash = phash(world, &set, addressing);
    let changed = DeviceAddr::new(pn.to_owned(), device);
    let mut device_node =
        Node::new("device").with_attr("jid", world.wire_jid(&changed, Addressing::Pn));
    if change == "add" {
        device_node =
            device_node.with_attr("key-index", key_index_of(world, data, &changed).to_string());
    }
    let mut children = vec![Node::new(change)
        .with_attr("device_hash", hash)
        .with_children(vec![device_node])];
    children.extend(key_index_list(world, data, pn));
    let user = Jid::new(pn.to_owned(), Server::Pn);
    let lid = Jid::new(account.lid.clone(), Server::Lid);
    let node = |id: String| {
        Node::new("notification")
            .with_attr("from", user.clone())
            .with_attr("id", id)
            .with_attr("lid", lid.clone())
            .with_attr("t", now_unix().to_string())
            .with_attr("type", "devices")
            .with_children(children.clone())
    };
    for real in real_devices(world, data, Some(pn)) {
        to_real(shared, world, &real, node(notification_id()));
    }
}

/// Every real (client) device in the world, optionally without one account's.
pub(crate) fn real_devices(
    world: &World,
    data: &StateData,
    except: Option<&str>,
) -> Vec<DeviceAddr> {
    data.devices
        .values()
        .filter(|d| except != Some(d.user()))
        .filter(|d| {
            !world
                .accounts
                .get(d.user())
                .is_some_and(|a| a.devices.contains_key(&d.device))
        })
        .map(|d| DeviceAddr::new(d.user().to_owned(), d.device))
        .collect()
}
