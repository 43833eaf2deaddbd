//! The `<message>` relay: checks what a real client sends as strictly as the server
//! (`rules`), answers with the server ack (with `error` when refused), and fans the accepted
//! copies out to every device (`deliver`): simulated devices decrypt at once and answer with
//! receipts, real clients get `<message from=…>` now or from their offline queue.

mod autopilot;
pub(crate) mod deliver;
pub(crate) mod outgoing;
pub(crate) mod receipts;
pub(crate) mod rules;

use std::collections::BTreeSet;

use wa_core::binary::{Jid, Node, Server};

use self::deliver::{receipt_node, to_real, to_sim, SimCopy};
use self::rules::{
    check_device_set, devices_of, enc_of, participant_copies, phash, verify_device_identity,
    Refused, BAD_REQUEST, DEVICE_MISMATCH, FORBIDDEN, NOT_FOUND, TOKEN_REQUIRED,
};
use crate::shared::events::SimEvent;
use crate::shared::faults::lock;
use crate::shared::registry::now_unix;
use crate::shared::state::StateData;
use crate::shared::world::{attr_jid, Addressing, DeviceAddr, Refusal, World};
use crate::shared::Shared;

/// One accepted copy for one device.
struct Copy {
    to: DeviceAddr,
    pairwise: Option<(String, Vec<u8>)>,
}

/// What an accepted message turns into.
struct Plan {
    id: String,
    /// The chat as on the wire: the recipient user, or the group.
    chat: Jid,
    group: Option<String>,
    addressing: Addressing,
    copies: Vec<Copy>,
    skmsg: Option<Vec<u8>>,
    /// Attributes copied onto every delivered stanza.
    message_type: String,
    device_identity: Option<Vec<u8>>,
    /// `count` of a retry resend, copied onto the delivered `<enc>`.
    retry_count: Option<String>,
    /// The server's phash for an accepted message whose device set differs from its own.
    ack_phash: Option<String>,
}

/// The ack for a `<message>`: `<ack class="message" id from=TO t [error] [phash]>`.
fn ack(id: &str, to: Option<&Jid>, error: Option<(u16, Option<String>)>) -> Node {
    let mut node = Node::new("ack")
        .with_attr("class", "message")
        .with_attr("id", id.to_owned());
    if let Some(to) = to {
        node = node.with_attr("from", to.clone());
    }
    node = node.with_attr("t", now_unix().to_string());
    if let Some((code, phash)) = error {
        node = node.with_attr("error", code.to_string());
        if let Some(phash) = phash {
            node = node.with_attr("phash", phash);
        }
    }
    node
}

/// Handles a `<message>` from the real device `sender_jid` (its PN device JID); returns the
/// ack to send back on its connection. Deliveries go out on the other connections (and on
/// this one for receipts) through their command channels.
pub(crate) fn on_message(shared: &Shared, conn: u64, sender_jid: &str, node: &Node) -> Node {
    let id = node.attr_str("id").unwrap_or("").to_owned();
    let to = attr_jid(node, "to");
    let store = lock(&shared.store);
    let mut world = lock(&shared.world);
    let Some(sender) = sender_jid
        .parse::<Jid>()
        .ok()
        .map(|j| DeviceAddr::new(j.user, j.device))
    else {
        return ack(&id, to.as_ref(), Some((BAD_REQUEST, None)));
    };
    let planned = if id.is_empty() {
        Err(Refused {
            code: BAD_REQUEST,
            reason: "<message> without id".to_owned(),
        })
    } else {
        match &to {
            None => Err(Refused {
                code: BAD_REQUEST,
                reason: "<message> without to".to_owned(),
            }),
            Some(to) => plan(&world, &store.data, &sender, to, node, &id),
        }
    };
    let plan = match planned {
        Ok(plan) => plan,
        Err(refused) => {
            let expected_phash = match refused.code {
                DEVICE_MISMATCH => to
                    .as_ref()
                    .and_then(|to| server_phash(&world, &store.data, &sender, to)),
                _ => None,
            };
            tracing::warn!(conn, id = %id, code = refused.code, reason = %refused.reason, "message refused");
            lock(&shared.registry).count(crate::shared::registry::Count::Rejection);
            world.refusals.push(Refusal {
                id: id.clone(),
                from: sender_jid.to_owned(),
                code: refused.code,
                reason: refused.reason.clone(),
            });
            shared.events.emit(SimEvent::MessageRefused {
                id: id.clone(),
                code: refused.code,
                reason: refused.reason,
            });
            return ack(&id, to.as_ref(), Some((refused.code, expected_phash)));
        }
    };
    drop(store);
    let delivered = plan.copies.len();
    fan_out(shared, &mut world, &sender, &plan);
    tracing::info!(conn, id = %plan.id, chat = %plan.chat, devices = delivered, "message relayed");
    shared.events.emit(SimEvent::MessageRelayed {
        id: plan.id.clone(),
        devices: delivered,
    });
    let mut answer = ack(&plan.id, to.as_ref(), None);
    if let Some(phash) = &plan.ack_phash {
        answer = answer.with_attr("phash", phash.clone());
    }
    answer
}

/// The phash the server holds for the chat, sent back with a device-set refusal.
fn server_phash(world: &World, store: &StateData, sender: &DeviceAddr, to: &Jid) -> Option<String> {
    if to.server == Server::Group {
        let group = world.groups.get(&to.user)?;
        let mut set = group_universe(
            world,
            store,
            &group.participants.keys().cloned().collect::<Vec<_>>(),
        );
        set.insert(sender.clone());
        return Some(phash(world, &set, group.addressing));
    }
    let (recipient, addressing) = world.account_by_user(to)?;
    let set = direct_expected(world, store, &recipient.pn, sender);
    Some(phash(world, &set, addressing))
}

fn all_devices(world: &World, store: &StateData, pn: &str) -> BTreeSet<DeviceAddr> {
    devices_of(world, store, pn)
        .into_iter()
        .map(|d| DeviceAddr::new(pn.to_owned(), d))
        .collect()
}

/// A 1:1 message goes to every device of the recipient and every other device of the sender.
fn direct_expected(
    world: &World,
    store: &StateData,
    recipient: &str,
    sender: &DeviceAddr,
) -> BTreeSet<DeviceAddr> {
    let mut set = all_devices(world, store, recipient);
    set.extend(all_devices(world, store, &sender.pn));
    set.remove(sender);
    set
}

fn group_universe(world: &World, store: &StateData, members: &[String]) -> BTreeSet<DeviceAddr> {
    members
        .iter()
        .flat_map(|pn| all_devices(world, store, pn))
        .collect()
}

fn require_identity(
    world: &World,
    store: &StateData,
    sender: &DeviceAddr,
    copies: &[Copy],
    node: &Node,
) -> Result<Option<Vec<u8>>, Refused> {
    let any_pkmsg = copies
        .iter()
        .any(|c| matches!(&c.pairwise, Some((kind, _)) if kind == "pkmsg"));
    let given = node.child("device-identity").and_then(Node::bytes);
    if !any_pkmsg {
        return Ok(given.map(<[u8]>::to_vec));
    }
    let Some(bytes) = given else {
        return Err(Refused {
            code: BAD_REQUEST,
            reason: "a pkmsg without <device-identity>".to_owned(),
        });
    };
    let jid = Jid::with_device(sender.pn.clone(), sender.device, Server::Pn).to_string();
    let record = store.devices.get(&jid);
    let account = world.accounts.get(&sender.pn);
    let (Some(record), Some(account)) = (record, account) else {
        return Err(Refused {
            code: BAD_REQUEST,
            reason: format!("sender {jid} is not a paired companion"),
        });
    };
    let identity = record.identity_pub().ok_or_else(|| Refused {
        code: BAD_REQUEST,
        reason: "the sender's stored identity is damaged".to_owned(),
    })?;
    verify_device_identity(
        bytes,
        &account.account_key.public,
        &identity,
        record.key_index,
    )
    .map_err(|reason| Refused {
        code: BAD_REQUEST,
        reason,
    })?;
    Ok(Some(bytes.to_vec()))
}

/// The copies of a message: from `<participants>`, or one bare `<enc>` (retry resends).
fn copies_of(
    world: &World,
    node: &Node,
    addressing: Addressing,
    bare_target: Option<DeviceAddr>,
) -> Result<Vec<Copy>, Refused> {
    if let Some(participants) = node.child("participants") {
        return Ok(participant_copies(world, participants, addressing)?
            .into_iter()
            .map(|(to, kind, bytes)| Copy {
                to,
                pairwise: Some((kind, bytes)),
            })
            .collect());
    }
    let bare: Vec<&Node> = node
        .children_by_tag("enc")
        .filter(|e| e.attr_str("type") != Some("skmsg"))
        .collect();
    match (bare.as_slice(), bare_target) {
        ([], _) => Ok(Vec::new()),
        ([enc], Some(to)) => {
            let (kind, bytes) = enc_of(enc, &["pkmsg", "msg"])?;
            Ok(vec![Copy {
                to,
                pairwise: Some((kind, bytes)),
            }])
        }
        ([_], None) => Err(Refused {
            code: BAD_REQUEST,
            reason: "a bare <enc> needs a device in to (or participant in a group)".to_owned(),
        }),
        _ => Err(Refused {
            code: BAD_REQUEST,
            reason: "more than one bare <enc>".to_owned(),
        }),
    }
}

fn plan(
    world: &World,
    store: &StateData,
    sender: &DeviceAddr,
    to: &Jid,
    node: &Node,
    id: &str,
) -> Result<Plan, Refused> {
    let message_type = node.attr_str("type").unwrap_or("text").to_owned();
    if to.server == Server::Group {
        return plan_group(world, store, sender, to, node, id, message_type);
    }
    let Some((recipient, addressing)) = world.account_by_user(to) else {
        return Err(Refused {
            code: NOT_FOUND,
            reason: format!("{to} is not on WhatsApp"),
        });
    };
    if addressing != recipient.addressing {
        return Err(Refused {
            code: BAD_REQUEST,
            reason: format!(
                "{} is addressed by {}, the message used {}",
                recipient.pn,
                recipient.addressing.as_str(),
                addressing.as_str()
            ),
        });
    }
    let expected = direct_expected(world, store, &recipient.pn, sender);
    let retry = to.device != 0 || node.attr_str("device_fanout") == Some("false");
    let chat = world
        .accounts
        .get(&recipient.pn)
        .map(|a| a.user_jid(addressing))
        .unwrap_or_else(|| to.to_non_ad());
    let target = DeviceAddr::new(recipient.pn.clone(), to.device);
    let copies = copies_of(world, node, addressing, Some(target))?;
    if copies.is_empty() {
        return Err(Refused {
            code: BAD_REQUEST,
            reason: "<message> without <participants> or <enc>".to_owned(),
        });
    }
    let named: BTreeSet<DeviceAddr> = copies.iter().map(|c| c.to.clone()).collect();
    // A sender that has no session with a device and gets a bundle it must refuse (a bad
    // signed-prekey signature) cannot encrypt for it: whatsmeow logs it and sends to the
    // others (send.go encryptMessageForDevices), and its DM is accepted; DMs carry no phash,
    // the server answers one on the ack when the sets differ and whatsmeow compares it
    // (messaging.md §5). This simulator refuses any other missing device (409) to catch stale
    // device lists, so only those devices may be left out, and the ack says so with a phash.
    let unreachable: BTreeSet<DeviceAddr> = expected
        .iter()
        .filter(|d| !named.contains(*d) && bundle_broken(world, d))
        .cloned()
        .collect();
    let reachable: BTreeSet<DeviceAddr> = expected.difference(&unreachable).cloned().collect();
    // A retry goes to the one device that asked; it must still be one of the chat's.
    check_device_set(world, &named, &reachable, !retry, addressing)?;
    let ack_phash =
        (!retry && !unreachable.is_empty()).then(|| phash(world, &expected, addressing));
    let device_identity = require_identity(world, store, sender, &copies, node)?;
    if !retry && recipient.token_required && recipient.pn != sender.pn {
        let token = node.child("tctoken").and_then(Node::bytes);
        if token.is_none() || token != recipient.issued_token.as_deref() {
            return Err(Refused {
                code: TOKEN_REQUIRED,
                reason: format!(
                    "{} accepts first messages only with its privacy token",
                    recipient.pn
                ),
            });
        }
    }
    Ok(Plan {
        id: id.to_owned(),
        chat,
        group: None,
        addressing,
        copies,
        skmsg: None,
        message_type,
        device_identity,
        retry_count: retry_count(node),
        ack_phash,
    })
}

/// Whether the server serves this device's bundle broken (a simulated device told so).
fn bundle_broken(world: &World, device: &DeviceAddr) -> bool {
    world
        .accounts
        .get(&device.pn)
        .and_then(|a| a.devices.get(&device.device))
        .is_some_and(|d| d.bad_signature)
}

fn retry_count(node: &Node) -> Option<String> {
    node.children()
        .iter()
        .chain(
            node.child("participants")
                .map(Node::children)
                .unwrap_or_default(),
        )
        .flat_map(|n| std::iter::once(n).chain(n.children_by_tag("enc")))
        .find_map(|e| e.attr_str("count"))
        .map(str::to_owned)
}

#[allow(clippy::too_many_arguments)]
fn plan_group(
    world: &World,
    store: &StateData,
    sender: &DeviceAddr,
    to: &Jid,
    node: &Node,
    id: &str,
    message_type: String,
) -> Result<Plan, Refused> {
    let Some(group) = world.groups.get(&to.user) else {
        return Err(Refused {
            code: NOT_FOUND,
            reason: format!("group {to} does not exist"),
        });
    };
    if !group.participants.contains_key(&sender.pn) {
        return Err(Refused {
            code: FORBIDDEN,
            reason: format!("{} is not a participant of {to}", sender.pn),
        });
    }
    let addressing = group.addressing;
    let members: Vec<String> = group.participants.keys().cloned().collect();
    let mut universe = group_universe(world, store, &members);
    universe.remove(sender);
    let retry_target = match attr_jid(node, "participant") {
        Some(p) => match world.device_addr(&p) {
            Some((device, _)) => Some(device),
            None => {
                return Err(Refused {
                    code: DEVICE_MISMATCH,
                    reason: format!("participant {p} is no device of any account"),
                })
            }
        },
        None => None,
    };
    let copies = copies_of(world, node, addressing, retry_target.clone())?;
    let named: BTreeSet<DeviceAddr> = copies.iter().map(|c| c.to.clone()).collect();
    check_device_set(world, &named, &universe, false, addressing)?;
    let skmsg = node
        .children_by_tag("enc")
        .find(|e| e.attr_str("type") == Some("skmsg"))
        .map(|e| enc_of(e, &["skmsg"]))
        .transpose()?
        .map(|(_, bytes)| bytes);
    if skmsg.is_none() && retry_target.is_none() {
        return Err(Refused {
            code: BAD_REQUEST,
            reason: "a group message without <enc type=\"skmsg\">".to_owned(),
        });
    }
    if let Some(given) = node.attr_str("phash") {
        let mut hashed = universe.clone();
        hashed.insert(sender.clone());
        let expected = phash(world, &hashed, addressing);
        if given != expected {
            return Err(Refused {
                code: DEVICE_MISMATCH,
                reason: format!("phash {given} does not match the group's {expected}"),
            });
        }
    }
    let device_identity = require_identity(world, store, sender, &copies, node)?;
    // Every member device gets the skmsg; those named in <participants> also their pairwise
    // copy. A retry goes only to the device that asked.
    let mut all: Vec<Copy> = Vec::new();
    let targets: Vec<DeviceAddr> = match &retry_target {
        Some(t) => vec![t.clone()],
        None => universe.into_iter().collect(),
    };
    let mut by_device: std::collections::BTreeMap<DeviceAddr, (String, Vec<u8>)> = copies
        .into_iter()
        .filter_map(|c| c.pairwise.map(|p| (c.to, p)))
        .collect();
    for target in targets {
        let pairwise = by_device.remove(&target);
        all.push(Copy {
            to: target,
            pairwise,
        });
    }
    Ok(Plan {
        id: id.to_owned(),
        chat: World::group_jid(&group.id),
        group: Some(group.id.clone()),
        addressing,
        copies: all,
        skmsg: if retry_target.is_some() { None } else { skmsg },
        message_type,
        device_identity,
        retry_count: retry_count(node),
        ack_phash: None,
    })
}

/// Delivers every copy of an accepted message.
fn fan_out(shared: &Shared, world: &mut World, sender: &DeviceAddr, plan: &Plan) {
    let sender_wire = world.wire_jid(sender, plan.addressing);
    let notify = world.accounts.get(&sender.pn).map(|a| a.name.clone());
    for copy in &plan.copies {
        let sim = SimCopy {
            id: &plan.id,
            sender,
            sender_wire: &sender_wire,
            chat: &plan.chat,
            group: plan.group.as_deref(),
            addressing: plan.addressing,
            pairwise: copy
                .pairwise
                .as_ref()
                .map(|(k, b)| (k.as_str(), b.as_slice())),
            skmsg: plan.skmsg.as_deref(),
        };
        if let Some(answer) = to_sim(world, &copy.to, &sim) {
            let receipt = receipt_node(world, &copy.to, sender, &sim, &answer);
            to_real(shared, world, sender, receipt);
            autopilot::after_delivery(shared, world, &copy.to, &sim);
            continue;
        }
        let stanza = message_stanza(plan, copy, sender, &sender_wire, notify.as_deref());
        to_real(shared, world, &copy.to, stanza);
    }
}

/// The `<message>` a real recipient device gets.
fn message_stanza(
    plan: &Plan,
    copy: &Copy,
    sender: &DeviceAddr,
    sender_wire: &Jid,
    notify: Option<&str>,
) -> Node {
    let mut node = Node::new("message").with_attr("id", plan.id.clone());
    node = match &plan.group {
        Some(_) => node
            .with_attr("from", plan.chat.clone())
            .with_attr("participant", sender_wire.clone())
            .with_attr("addressing_mode", plan.addressing.as_str()),
        None => {
            let node = node.with_attr("from", sender_wire.clone());
            if copy.to.pn == sender.pn {
                node.with_attr("recipient", plan.chat.clone())
            } else {
                node
            }
        }
    };
    node = node
        .with_attr("t", now_unix().to_string())
        .with_attr("type", plan.message_type.clone());
    if let Some(name) = notify {
        node = node.with_attr("notify", name.to_owned());
    }
    let mut children = Vec::new();
    if let Some((kind, bytes)) = &copy.pairwise {
        let mut enc = Node::new("enc")
            .with_attr("v", "2")
            .with_attr("type", kind.clone());
        if let Some(count) = &plan.retry_count {
            enc = enc.with_attr("count", count.clone());
        }
        children.push(enc.with_bytes(bytes.clone()));
        if kind == "pkmsg" {
            if let Some(identity) = &plan.device_identity {
                children.push(Node::new("device-identity").with_bytes(identity.clone()));
            }
        }
    }
    if let Some(skmsg) = &plan.skmsg {
        children.push(
            Node::new("enc")
                .with_attr("v", "2")
                .with_attr("type", "skmsg")
                .with_bytes(skmsg.clone()),
        );
    }
    node.with_children(children)
}
