//! A simulated device sends: a 1:1 text (to every device of the recipient, and as a
//! `deviceSentMessage` to its own other devices) or a group text (sender key, with the
//! distribution message pairwise to devices that lack it). Sessions start from the bundles the
//! server holds, exactly as a client would fetch them.

use std::collections::BTreeSet;

use wa_core::binary::{Jid, Node, Server};
use wa_core::signal::{PreKeyBundle, PublicKey, SignalError};

use super::deliver::{to_real, to_sim, Answer, SimCopy};
use super::rules::devices_of;
use crate::peer;
use crate::shared::registry::now_unix;
use crate::shared::state::StateData;
use crate::shared::world::{Addressing, DeviceAddr, Sent, SimDevice, World};
use crate::shared::Shared;

/// Why a simulated device could not send.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No such account or simulated device.
    #[error("{0} is not a simulated device")]
    NoSuchDevice(String),
    /// The chat does not exist.
    #[error("no chat {0}")]
    NoSuchChat(String),
    /// The device is not a member of the group.
    #[error("{0} is not a member of group {1}")]
    NotMember(String, String),
    /// Encryption failed for one device.
    #[error("could not encrypt for {device}")]
    Encrypt {
        /// The device.
        device: String,
        /// What failed.
        #[source]
        source: SignalError,
    },
    /// The group cipher failed.
    #[error("group encryption failed")]
    Group(#[source] wa_core::signal::group::GroupError),
}

/// Where a simulated device sends.
#[derive(Debug, Clone)]
pub enum Chat {
    /// An account, by phone number.
    Direct(String),
    /// A group, by id.
    Group(String),
}

/// The bundle the server would serve for `target`, taking one one-time prekey.
pub(crate) fn bundle_for(
    world: &mut World,
    store: &mut StateData,
    target: &DeviceAddr,
) -> Option<PreKeyBundle> {
    if let Some(device) = world
        .accounts
        .get_mut(&target.pn)
        .and_then(|a| a.devices.get_mut(&target.device))
    {
        let one_time = device.serve_pre_key();
        let mut bundle =
            PreKeyBundle::from_local(&device.identity, &device.signed, one_time.as_ref());
        if device.bad_signature {
            // One flipped bit: the bundle looks whole, and only the signature check finds it.
            bundle.signed_pre_key_signature[0] ^= 0x01;
        }
        return Some(bundle);
    }
    let jid = Jid::with_device(target.pn.clone(), target.device, Server::Pn).to_string();
    let record = store.devices.get_mut(&jid)?;
    let key = |hex_text: &str| {
        hex::decode(hex_text)
            .ok()
            .and_then(|b| PublicKey::from_slice(&b).ok())
    };
    let signature: [u8; 64] = hex::decode(&record.signed_pre_key.signature_hex)
        .ok()?
        .try_into()
        .ok()?;
    let one_time = record
        .pre_keys
        .iter_mut()
        .find(|(_, k)| !k.used)
        .and_then(|(id, k)| {
            k.used = true;
            key(&k.public_hex).map(|public| (*id, public))
        });
    Some(PreKeyBundle {
        registration_id: record.registration_id,
        identity_key: record.identity_pub()?,
        signed_pre_key_id: record.signed_pre_key.id,
        signed_pre_key: key(&record.signed_pre_key.public_hex)?,
        signed_pre_key_signature: signature,
        pre_key: one_time,
    })
}

pub(crate) fn take_device(world: &mut World, from: &DeviceAddr) -> Result<SimDevice, SendError> {
    world
        .accounts
        .get_mut(&from.pn)
        .and_then(|a| a.devices.remove(&from.device))
        .ok_or_else(|| SendError::NoSuchDevice(from.to_string()))
}

pub(crate) fn put_device(world: &mut World, from: &DeviceAddr, device: SimDevice) {
    if let Some(account) = world.accounts.get_mut(&from.pn) {
        account.devices.insert(from.device, device);
    }
}

/// Sends `text` from the simulated device `from` to `chat`; returns the message id.
pub(crate) fn send(
    shared: &Shared,
    store: &mut StateData,
    world: &mut World,
    from: &DeviceAddr,
    chat: &Chat,
    text: &str,
) -> Result<String, SendError> {
    let id = wa_core::ids::new_message_id(&mut rand_core::OsRng, now_unix(), &from.pn);
    let mut device = take_device(world, from)?;
    let result = match chat {
        Chat::Direct(to) => send_direct(shared, store, world, from, &mut device, to, text, &id),
        Chat::Group(group) => send_group(shared, store, world, from, &mut device, group, text, &id),
    };
    put_device(world, from, device);
    result.map(|()| id)
}

#[allow(clippy::too_many_arguments)]
fn send_direct(
    shared: &Shared,
    store: &mut StateData,
    world: &mut World,
    from: &DeviceAddr,
    device: &mut SimDevice,
    to: &str,
    text: &str,
    id: &str,
) -> Result<(), SendError> {
    let recipient = world
        .accounts
        .get(to)
        .ok_or_else(|| SendError::NoSuchChat(to.to_owned()))?;
    // A LID-addressed contact writes from its LID, whatever namespace the other side's chats
    // use (as a LID-migrated account does on WhatsApp).
    let sender_on_lid = world
        .accounts
        .get(&from.pn)
        .is_some_and(|a| a.addressing == Addressing::Lid);
    let addressing = if sender_on_lid {
        Addressing::Lid
    } else {
        recipient.addressing
    };
    let chat = recipient.user_jid(addressing);
    let mut targets: BTreeSet<DeviceAddr> = devices_of(world, store, to)
        .into_iter()
        .map(|d| DeviceAddr::new(to.to_owned(), d))
        .collect();
    targets.extend(
        devices_of(world, store, &from.pn)
            .into_iter()
            .map(|d| DeviceAddr::new(from.pn.clone(), d)),
    );
    targets.remove(from);
    let message = peer::text_message(text);
    let own_copy = peer::device_sent(&chat.to_string(), &message);
    let sender_wire = world.wire_jid(from, addressing);
    record_sent(device, id, &chat.to_string(), text);
    for target in targets {
        let plain = if target.pn == from.pn {
            &own_copy
        } else {
            &message
        };
        let (kind, bytes) =
            peer::encrypt_for(device, &target, || bundle_for(world, store, &target), plain)
                .map_err(|source| SendError::Encrypt {
                    device: target.to_string(),
                    source,
                })?;
        deliver(
            shared,
            world,
            device,
            from,
            &Delivery {
                id,
                target: &target,
                sender_wire: &sender_wire,
                chat: &chat,
                group: None,
                addressing,
                pairwise: Some((kind, &bytes)),
                skmsg: None,
                count: None,
            },
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn send_group(
    shared: &Shared,
    store: &mut StateData,
    world: &mut World,
    from: &DeviceAddr,
    device: &mut SimDevice,
    group_id: &str,
    text: &str,
    id: &str,
) -> Result<(), SendError> {
    let group = world
        .groups
        .get(group_id)
        .ok_or_else(|| SendError::NoSuchChat(group_id.to_owned()))?;
    if !group.participants.contains_key(&from.pn) {
        return Err(SendError::NotMember(from.pn.clone(), group_id.to_owned()));
    }
    let addressing = group.addressing;
    let members: Vec<String> = group.participants.keys().cloned().collect();
    let chat = World::group_jid(group_id);
    let mut targets: BTreeSet<DeviceAddr> = members
        .iter()
        .flat_map(|pn| {
            devices_of(world, store, pn)
                .into_iter()
                .map(move |d| DeviceAddr::new(pn.clone(), d))
        })
        .collect();
    targets.remove(from);
    let message = peer::text_message(text);
    let (skmsg, skdm) =
        peer::group_encrypt(device, &chat.to_string(), &message).map_err(SendError::Group)?;
    let skdm_plain = peer::skdm_message(&chat.to_string(), &skdm);
    let sender_wire = world.wire_jid(from, addressing);
    record_sent(device, id, &chat.to_string(), text);
    for target in targets {
        let holders = device
            .sender_key_holders
            .entry(group_id.to_owned())
            .or_default();
        let needs_key = !holders.contains(&target);
        let pairwise = if needs_key {
            let encrypted = peer::encrypt_for(
                device,
                &target,
                || bundle_for(world, store, &target),
                &skdm_plain,
            )
            .map_err(|source| SendError::Encrypt {
                device: target.to_string(),
                source,
            })?;
            device
                .sender_key_holders
                .entry(group_id.to_owned())
                .or_default()
                .insert(target.clone());
            Some(encrypted)
        } else {
            None
        };
        deliver(
            shared,
            world,
            device,
            from,
            &Delivery {
                id,
                target: &target,
                sender_wire: &sender_wire,
                chat: &chat,
                group: Some(group_id),
                addressing,
                pairwise: pairwise.as_ref().map(|(k, b)| (*k, b.as_slice())),
                skmsg: Some(&skmsg),
                count: None,
            },
        );
    }
    Ok(())
}

/// One copy from a simulated sender to one device.
pub(crate) struct Delivery<'a> {
    pub(crate) id: &'a str,
    pub(crate) target: &'a DeviceAddr,
    pub(crate) sender_wire: &'a Jid,
    pub(crate) chat: &'a Jid,
    pub(crate) group: Option<&'a str>,
    pub(crate) addressing: Addressing,
    pub(crate) pairwise: Option<(&'a str, &'a [u8])>,
    pub(crate) skmsg: Option<&'a [u8]>,
    /// The retry count of a resend.
    pub(crate) count: Option<u32>,
}

/// Hands one copy to a simulated or real device; a simulated receiver's receipt is recorded on
/// the (simulated) sender at once.
pub(crate) fn deliver(
    shared: &Shared,
    world: &mut World,
    sender_device: &mut SimDevice,
    from: &DeviceAddr,
    d: &Delivery<'_>,
) {
    let copy = SimCopy {
        id: d.id,
        sender: from,
        sender_wire: d.sender_wire,
        chat: d.chat,
        group: d.group,
        addressing: d.addressing,
        pairwise: d.pairwise,
        skmsg: d.skmsg,
    };
    if let Some(answer) = to_sim(world, d.target, &copy) {
        if let Some(sent) = sender_device.log.sent.get_mut(d.id) {
            let name = world.wire_jid(d.target, d.addressing).to_string();
            match answer {
                Answer::Delivered => sent.delivered.insert(name),
                Answer::Retry(_) => sent.retries.insert(name),
            };
        }
        return;
    }
    let name = world.accounts.get(&from.pn).map(|a| a.name.clone());
    let mut node = Node::new("message").with_attr("id", d.id.to_owned());
    node = match d.group {
        Some(_) => node
            .with_attr("from", d.chat.clone())
            .with_attr("participant", d.sender_wire.clone())
            .with_attr("addressing_mode", d.addressing.as_str()),
        None if d.target.pn == from.pn => node
            .with_attr("from", d.sender_wire.clone())
            .with_attr("recipient", d.chat.clone()),
        None => node.with_attr("from", d.sender_wire.clone()),
    };
    node = node
        .with_attr("t", now_unix().to_string())
        .with_attr("type", "text");
    if let Some(name) = name {
        node = node.with_attr("notify", name);
    }
    let mut children = Vec::new();
    if let Some((kind, bytes)) = d.pairwise {
        let mut enc = Node::new("enc")
            .with_attr("v", "2")
            .with_attr("type", kind.to_owned());
        if let Some(count) = d.count {
            enc = enc.with_attr("count", count.to_string());
        }
        children.push(enc.with_bytes(bytes.to_vec()));
        if kind == "pkmsg" {
            if let Some(identity) = &sender_device.device_identity {
                children.push(Node::new("device-identity").with_bytes(identity.clone()));
            }
        }
    }
    if let Some(skmsg) = d.skmsg {
        children.push(
            Node::new("enc")
                .with_attr("v", "2")
                .with_attr("type", "skmsg")
                .with_bytes(skmsg.to_vec()),
        );
    }
    to_real(shared, world, d.target, node.with_children(children));
}

/// Puts a message the simulated device is sending in its sent log, where receipts find it.
fn record_sent(device: &mut SimDevice, id: &str, chat: &str, text: &str) {
    device.log.sent.insert(
        id.to_owned(),
        Sent {
            id: id.to_owned(),
            chat: chat.to_owned(),
            text: text.to_owned(),
            ..Sent::default()
        },
    );
}
