//! Receipts (messaging.md §3): a real client's delivery, read and retry receipts go to the
//! sending device (recorded on a simulated sender, which answers a retry by encrypting the
//! message again for that device); simulated devices send read receipts on request.

use wa_core::binary::{Jid, Node, Server};
use wa_core::signal::{PreKeyBundle, PublicKey, SessionRecord};

use super::deliver::to_real;
use super::outgoing::{deliver, Delivery};
use crate::peer;
use crate::shared::faults::lock;
use crate::shared::registry::now_unix;
use crate::shared::world::{attr_jid, DeviceAddr, World};
use crate::shared::Shared;

/// What a receipt says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Delivered,
    Read,
    Retry,
    /// `peer_msg` and `hist_sync`: our own device handled a protocol message.
    Acknowledged,
    /// Others the simulator has no use for.
    Other,
}

fn kind_of(node: &Node) -> Kind {
    match node.attr_str("type") {
        None | Some("inactive" | "sender") => Kind::Delivered,
        Some("read" | "read-self") => Kind::Read,
        Some("retry") => Kind::Retry,
        Some("peer_msg" | "hist_sync") => Kind::Acknowledged,
        Some(_) => Kind::Other,
    }
}

fn ids_of(node: &Node) -> Vec<String> {
    let mut ids: Vec<String> = node.attr_str("id").map(str::to_owned).into_iter().collect();
    if let Some(list) = node.child("list") {
        ids.extend(
            list.children_by_tag("item")
                .filter_map(|i| i.attr_str("id"))
                .map(str::to_owned),
        );
    }
    ids
}

/// Handles a `<receipt>` from the real device `receiver_jid` (its PN device JID).
pub(crate) fn on_receipt(shared: &Shared, receiver_jid: &str, node: &Node) {
    let Some(to) = attr_jid(node, "to") else {
        tracing::warn!(stanza = %node, "receipt without to; ignored");
        return;
    };
    let Some(receiver) = receiver_jid
        .parse::<Jid>()
        .ok()
        .map(|j| DeviceAddr::new(j.user, j.device))
    else {
        return;
    };
    let kind = kind_of(node);
    if kind == Kind::Other {
        return;
    }
    let mut store = lock(&shared.store);
    let mut world = lock(&shared.world);
    let (target_jid, group) = match to.server {
        Server::Group => match attr_jid(node, "participant") {
            Some(p) => (p, Some(to.clone())),
            None => {
                tracing::warn!(stanza = %node, "group receipt without participant; ignored");
                return;
            }
        },
        _ => (to.clone(), None),
    };
    let Some((target, addressing)) = world.device_addr(&target_jid) else {
        tracing::warn!(stanza = %node, "receipt for an unknown device; ignored");
        return;
    };
    let receiver_wire = world.wire_jid(&receiver, addressing);
    let ids = ids_of(node);
    let is_sim = world
        .accounts
        .get(&target.pn)
        .is_some_and(|a| a.devices.contains_key(&target.device));
    if !is_sim {
        let mut forward =
            Node::new("receipt").with_attr("id", ids.first().cloned().unwrap_or_default());
        forward = match &group {
            Some(g) => forward
                .with_attr("from", g.clone())
                .with_attr("participant", receiver_wire),
            None => forward.with_attr("from", receiver_wire),
        };
        forward = forward.with_attr("t", now_unix().to_string());
        for key in ["type", "recipient"] {
            if let Some(v) = node.attr_str(key) {
                forward = forward.with_attr(key, v.to_owned());
            }
        }
        if let Some(children) = Some(node.children().to_vec()).filter(|c| !c.is_empty()) {
            forward = forward.with_children(children);
        }
        to_real(shared, &mut world, &target, forward);
        return;
    }
    let name = receiver_wire.to_string();
    for id in &ids {
        let Some(sent) = world
            .accounts
            .get_mut(&target.pn)
            .and_then(|a| a.devices.get_mut(&target.device))
            .and_then(|d| d.log.sent.get_mut(id))
        else {
            tracing::info!(id = %id, device = %target, "receipt for a message the device did not send");
            continue;
        };
        match kind {
            Kind::Delivered => {
                sent.delivered.insert(name.clone());
            }
            Kind::Read => {
                sent.delivered.insert(name.clone());
                sent.read.insert(name.clone());
            }
            Kind::Retry => {
                sent.retries.insert(name.clone());
                let (text, chat) = (sent.text.clone(), sent.chat.clone());
                resend(
                    shared,
                    &mut store.data,
                    &mut world,
                    &target,
                    &receiver,
                    node,
                    id,
                    &text,
                    &chat,
                );
            }
            Kind::Acknowledged => {
                if let Some(kind) = node.attr_str("type") {
                    sent.acknowledged.insert(kind.to_owned());
                }
            }
            Kind::Other => {}
        }
    }
}

/// Answers a retry receipt as whatsmeow does (messaging.md §3.4): a new session from the
/// receipt's `<keys>` when it has them, then the message again for that device only, with
/// `count`.
#[allow(clippy::too_many_arguments)]
fn resend(
    shared: &Shared,
    store: &mut crate::shared::state::StateData,
    world: &mut World,
    sender: &DeviceAddr,
    receiver: &DeviceAddr,
    receipt: &Node,
    id: &str,
    text: &str,
    chat: &str,
) {
    let count = receipt
        .child("retry")
        .and_then(|r| r.attr_str("count"))
        .and_then(|c| c.parse::<u32>().ok())
        .unwrap_or(1);
    let Some(mut device) = world
        .accounts
        .get_mut(&sender.pn)
        .and_then(|a| a.devices.remove(&sender.device))
    else {
        return;
    };
    if let Some(bundle) = bundle_from_receipt(receipt) {
        match SessionRecord::new().initiate(&device.identity, &bundle, None, &mut rand_core::OsRng)
        {
            Ok(record) => {
                device.sessions.insert(receiver.clone(), record);
            }
            Err(e) => tracing::warn!(error = %e, "retry receipt keys do not verify"),
        }
    }
    let chat_jid: Jid = chat
        .parse()
        .unwrap_or_else(|_| Jid::new(chat.to_owned(), Server::Pn));
    let group = (chat_jid.server == Server::Group).then(|| chat_jid.user.clone());
    let addressing = match &group {
        Some(g) => world
            .groups
            .get(g)
            .map(|g| g.addressing)
            .unwrap_or_default(),
        None => world
            .account_by_user(&chat_jid)
            .map(|(_, a)| a)
            .unwrap_or_default(),
    };
    let message = peer::text_message(text);
    let plain = if group.is_none() && receiver.pn == sender.pn {
        peer::device_sent(chat, &message)
    } else {
        message
    };
    let encrypted = peer::encrypt_for(
        &mut device,
        receiver,
        || super::outgoing::bundle_for(world, store, receiver),
        &plain,
    );
    match encrypted {
        Ok((kind, bytes)) => {
            let sender_wire = world.wire_jid(sender, addressing);
            deliver(
                shared,
                world,
                &mut device,
                sender,
                &Delivery {
                    id,
                    target: receiver,
                    sender_wire: &sender_wire,
                    chat: &chat_jid,
                    group: group.as_deref(),
                    addressing,
                    pairwise: Some((kind, &bytes)),
                    skmsg: None,
                    count: Some(count),
                },
            );
        }
        Err(e) => tracing::warn!(error = %e, "could not answer a retry receipt"),
    }
    if let Some(account) = world.accounts.get_mut(&sender.pn) {
        account.devices.insert(sender.device, device);
    }
}

/// The bundle a retry receipt's `<registration>` and `<keys>` describe.
fn bundle_from_receipt(receipt: &Node) -> Option<PreKeyBundle> {
    let keys = receipt.child("keys")?;
    let bytes = |n: &Node, tag: &str| n.child(tag).and_then(Node::bytes).map(<[u8]>::to_vec);
    let id3 = |n: &Node| {
        let b = bytes(n, "id")?;
        let [a, b2, c]: [u8; 3] = b.try_into().ok()?;
        Some(u32::from_be_bytes([0, a, b2, c]))
    };
    let registration: [u8; 4] = bytes(receipt, "registration")?.try_into().ok()?;
    let identity = PublicKey::from_slice(&bytes(keys, "identity")?).ok()?;
    let skey = keys.child("skey")?;
    let one = keys.child("key");
    Some(PreKeyBundle {
        registration_id: u32::from_be_bytes(registration),
        identity_key: identity,
        signed_pre_key_id: id3(skey)?,
        signed_pre_key: PublicKey::from_slice(&bytes(skey, "value")?).ok()?,
        signed_pre_key_signature: bytes(skey, "signature")?.try_into().ok()?,
        pre_key: one
            .and_then(|k| Some((id3(k)?, PublicKey::from_slice(&bytes(k, "value")?).ok()?))),
    })
}

/// The simulated device `reader` reads what it was shown and has not read yet (or only
/// `only`): read receipts go to the senders. Returns the ids read.
pub(crate) fn read(
    shared: &Shared,
    world: &mut World,
    reader: &DeviceAddr,
    only: Option<&[String]>,
) -> Vec<String> {
    let Some(device) = world
        .accounts
        .get_mut(&reader.pn)
        .and_then(|a| a.devices.get_mut(&reader.device))
    else {
        return Vec::new();
    };
    let mut receipts = Vec::new();
    for seen in &mut device.log.seen {
        let wanted = only.is_none_or(|ids| ids.contains(&seen.id));
        if seen.shown == 0 || seen.read || !wanted {
            continue;
        }
        seen.read = true;
        receipts.push((seen.id.clone(), seen.from.clone(), seen.chat.clone()));
    }
    let mut ids = Vec::new();
    for (id, from, chat) in receipts {
        let (Ok(from), Ok(chat)) = (from.parse::<Jid>(), chat.parse::<Jid>()) else {
            continue;
        };
        let Some((sender, addressing)) = world.device_addr(&from) else {
            continue;
        };
        let reader_wire = world.wire_jid(reader, addressing);
        ids.push(id.clone());
        let sim_sender = world
            .accounts
            .get_mut(&sender.pn)
            .and_then(|a| a.devices.get_mut(&sender.device));
        if let Some(sender_device) = sim_sender {
            if let Some(sent) = sender_device.log.sent.get_mut(&id) {
                sent.read.insert(reader_wire.to_string());
            }
            continue;
        }
        let mut node = Node::new("receipt").with_attr("id", id);
        node = if chat.server == Server::Group {
            node.with_attr("from", chat)
                .with_attr("participant", reader_wire)
        } else {
            node.with_attr("from", reader_wire)
        };
        let node = node
            .with_attr("t", now_unix().to_string())
            .with_attr("type", "read");
        to_real(shared, world, &sender, node);
    }
    ids
}
