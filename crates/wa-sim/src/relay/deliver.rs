//! Getting a stanza to a device: a simulated device decrypts it at once and answers with a
//! receipt; a real client gets it on its connection when it is online and active, or later
//! from its offline queue, in order.

use wa_core::binary::{Jid, Node};

use crate::peer::{self, Incoming, Outcome};
use crate::shared::book::server_id;
use crate::shared::registry::{now_ms, now_unix, Phase};
use crate::shared::world::{Addressing, DeviceAddr, DuplicateBehaviour, World};
use crate::shared::{ConnCommand, Shared};
use wa_core::signal::DJB_TYPE;

/// The connection a real device is logged in and active on.
fn active_conn(shared: &Shared, device: &DeviceAddr) -> Option<u64> {
    let jid = Jid::with_device(
        device.pn.clone(),
        device.device,
        wa_core::binary::Server::Pn,
    )
    .to_string();
    let registry = crate::shared::faults::lock(&shared.registry);
    registry
        .open
        .values()
        .find(|c| {
            c.info.phase == Phase::LoggedIn
                && c.info.active
                && c.info.device.as_deref() == Some(&jid)
        })
        .map(|c| c.info.id)
}

/// Sends `node` to a real device now, or queues it until it logs in and goes active.
pub(crate) fn to_real(shared: &Shared, world: &mut World, device: &DeviceAddr, node: Node) {
    if let Some(conn) = active_conn(shared, device) {
        if shared.command(conn, ConnCommand::Send(Box::new(node.clone()))) {
            return;
        }
    }
    tracing::debug!(device = %device, stanza = %node, "queued for offline delivery");
    world
        .offline
        .entry(device.clone())
        .or_default()
        .push_back(node);
}

/// Stanzas queued for `device`, oldest first, each marked `offline` as the server does.
pub(crate) fn take_offline(world: &mut World, device: &DeviceAddr) -> Vec<Node> {
    world
        .offline
        .remove(device)
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.with_attr("offline", "1"))
        .collect()
}

/// One copy reaching a simulated device.
pub(crate) struct SimCopy<'a> {
    /// Message id.
    pub(crate) id: &'a str,
    /// The sender.
    pub(crate) sender: &'a DeviceAddr,
    /// The sender as it appears on the wire.
    pub(crate) sender_wire: &'a Jid,
    /// The chat: the recipient user (1:1) or the group, as on the wire.
    pub(crate) chat: &'a Jid,
    /// The group id for group messages.
    pub(crate) group: Option<&'a str>,
    /// The namespace of the chat.
    pub(crate) addressing: Addressing,
    /// Pairwise `<enc>`.
    pub(crate) pairwise: Option<(&'a str, &'a [u8])>,
    /// `skmsg`.
    pub(crate) skmsg: Option<&'a [u8]>,
}

/// What a simulated device answers the sender with.
pub(crate) enum Answer {
    /// A delivery receipt.
    Delivered,
    /// A retry receipt with this count.
    Retry(u32),
}

/// Decrypts a copy on a simulated device, logs what it showed or refused, and says how it
/// answers. `None` when the device does not exist.
pub(crate) fn to_sim(world: &mut World, target: &DeviceAddr, copy: &SimCopy<'_>) -> Option<Answer> {
    let account = world.accounts.get_mut(&target.pn)?;
    let duplicates = account.duplicates;
    let device = account.devices.get_mut(&target.device)?;
    let outcome = peer::receive(
        device,
        &Incoming {
            sender: copy.sender,
            group: copy.group,
            pairwise: copy.pairwise,
            skmsg: copy.skmsg,
        },
    );
    let seen = device.log.entry(
        copy.id,
        &copy.sender_wire.to_string(),
        &copy.chat.to_string(),
    );
    let answer = match outcome {
        Outcome::Shown(text) => {
            seen.shown += 1;
            seen.texts.push(text);
            seen.shown_at_ms.push(now_ms());
            Answer::Delivered
        }
        Outcome::Nothing => Answer::Delivered,
        Outcome::Duplicate => {
            seen.refused += 1;
            match duplicates {
                DuplicateBehaviour::Ignore => Answer::Delivered,
                DuplicateBehaviour::Retry => {
                    seen.failed += 1;
                    Answer::Retry(0)
                }
            }
        }
        Outcome::Failed(why) => {
            tracing::info!(device = %target, id = copy.id, %why, "simulated device could not decrypt");
            seen.failed += 1;
            Answer::Retry(0)
        }
    };
    Some(match answer {
        Answer::Retry(_) => {
            let count = device.retry_counts.entry(copy.id.to_owned()).or_insert(0);
            *count += 1;
            Answer::Retry(*count)
        }
        other => other,
    })
}

/// The receipt a device sends for a message (messaging.md §3.1, §3.3), as the server hands it
/// to the sender: `from` the receiving device (or the group, with `participant`).
pub(crate) fn receipt_node(
    world: &mut World,
    receiver: &DeviceAddr,
    sender: &DeviceAddr,
    copy: &SimCopy<'_>,
    answer: &Answer,
) -> Node {
    let receiver_wire = world.wire_jid(receiver, copy.addressing);
    let mut node = Node::new("receipt").with_attr("id", copy.id.to_owned());
    node = match copy.group {
        Some(_) => node
            .with_attr("from", copy.chat.clone())
            .with_attr("participant", receiver_wire),
        None => node.with_attr("from", receiver_wire),
    };
    node = node.with_attr("t", now_unix().to_string());
    if copy.group.is_none() && receiver.pn == sender.pn {
        node = node
            .with_attr("type", "sender")
            .with_attr("recipient", copy.chat.clone());
    }
    match answer {
        Answer::Delivered => node,
        Answer::Retry(count) => {
            let keys = retry_keys(world, receiver, *count);
            let registration = world
                .accounts
                .get(&receiver.pn)
                .and_then(|a| a.devices.get(&receiver.device))
                .map_or(0, |d| d.identity.registration_id);
            let mut children = vec![
                Node::new("retry")
                    .with_attr("count", count.to_string())
                    .with_attr("id", copy.id.to_owned())
                    .with_attr("t", now_unix().to_string())
                    .with_attr("v", "1"),
                Node::new("registration").with_bytes(registration.to_be_bytes().to_vec()),
            ];
            children.extend(keys);
            replace_attr(node, "type", "retry").with_children(children)
        }
    }
}

fn replace_attr(mut node: Node, key: &'static str, value: &'static str) -> Node {
    node.attrs.retain(|a| a.key != key);
    node.with_attr(key, value)
}

/// `<keys>` of a retry receipt from the second retry on (messaging.md §0 item 6): a fresh
/// one-time prekey goes straight to the sender, never to the server.
fn retry_keys(world: &mut World, receiver: &DeviceAddr, count: u32) -> Option<Node> {
    if count < 2 {
        return None;
    }
    let device = world
        .accounts
        .get_mut(&receiver.pn)?
        .devices
        .get_mut(&receiver.device)?;
    let key = device.fresh_pre_key();
    device.served.insert(key.id, key.clone());
    let id3 = |id: u32| id.to_be_bytes()[1..].to_vec();
    Some(Node::new("keys").with_children(vec![
        Node::new("type").with_bytes(vec![DJB_TYPE]),
        Node::new("identity").with_bytes(device.identity.key_pair.public.as_bytes().to_vec()),
        Node::new("key").with_children(vec![
            Node::new("id").with_bytes(id3(key.id)),
            Node::new("value").with_bytes(key.key_pair.public.as_bytes().to_vec()),
        ]),
        Node::new("skey").with_children(vec![
            Node::new("id").with_bytes(id3(device.signed.id)),
            Node::new("value").with_bytes(device.signed.key_pair.public.as_bytes().to_vec()),
            Node::new("signature").with_bytes(device.signed.signature.to_vec()),
        ]),
    ]))
}

/// A server-made id for a notification.
pub(crate) fn notification_id() -> String {
    server_id()
}
