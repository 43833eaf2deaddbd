//! Groups (messaging.md §1.1): `w:g2` create, participating and metadata, and members added
//! or removed (by a member's IQ or the control API) with the `w:gp2` notification to every
//! real member device.

use std::collections::BTreeMap;

use rand_core::{OsRng, RngCore as _};
use wa_core::binary::{Jid, Node, Server};

use crate::accounts::WorldError;
use crate::iq_reply::{error, result};
use crate::relay::deliver::{notification_id, to_real};
use crate::relay::rules::devices_of;
use crate::shared::registry::now_unix;
use crate::shared::state::StateData;
use crate::shared::world::{attr_jid, Addressing, DeviceAddr, Group, Role, World};
use crate::shared::Shared;

/// Creates a group; `members[0]` is the creator. Returns its id.
pub(crate) fn create(
    world: &mut World,
    subject: &str,
    members: &[String],
    addressing: Addressing,
) -> Result<String, WorldError> {
    let Some(creator) = members.first() else {
        return Err(WorldError::BadGroup("a group needs a creator".to_owned()));
    };
    if let Some(unknown) = members.iter().find(|m| !world.accounts.contains_key(*m)) {
        return Err(WorldError::BadGroup(format!(
            "{unknown} is not an account here"
        )));
    }
    let id = loop {
        let id = format!("120363{:012}", OsRng.next_u64() % 1_000_000_000_000);
        if !world.groups.contains_key(&id) {
            break id;
        }
    };
    let mut participants = BTreeMap::new();
    for member in members {
        participants.insert(member.clone(), Role::Member);
    }
    participants.insert(creator.clone(), Role::Superadmin);
    world.groups.insert(
        id.clone(),
        Group {
            id: id.clone(),
            subject: subject.to_owned(),
            creator: creator.clone(),
            creation: now_unix(),
            addressing,
            participants,
        },
    );
    Ok(id)
}

/// `<group …>` with its participants, as metadata answers carry it.
pub(crate) fn group_node(world: &World, group: &Group) -> Node {
    let member_jid = |pn: &str| {
        let device = DeviceAddr::new(pn.to_owned(), 0);
        world.wire_jid(&device, group.addressing)
    };
    let participants = group
        .participants
        .iter()
        .map(|(pn, role)| {
            let mut node = Node::new("participant").with_attr("jid", member_jid(pn));
            match role {
                Role::Member => {}
                Role::Admin => node = node.with_attr("type", "admin"),
                Role::Superadmin => node = node.with_attr("type", "superadmin"),
            }
            if let Some(account) = world.accounts.get(pn) {
                node = match group.addressing {
                    Addressing::Lid => {
                        node.with_attr("phone_number", Jid::new(pn.clone(), Server::Pn))
                    }
                    Addressing::Pn => {
                        node.with_attr("lid", Jid::new(account.lid.clone(), Server::Lid))
                    }
                };
            }
            node
        })
        .collect();
    Node::new("group")
        .with_attr("id", group.id.clone())
        .with_attr("subject", group.subject.clone())
        .with_attr("s_t", group.creation.to_string())
        .with_attr("s_o", member_jid(&group.creator))
        .with_attr("creation", group.creation.to_string())
        .with_attr("creator", member_jid(&group.creator))
        .with_attr("size", group.participants.len().to_string())
        .with_attr("addressing_mode", group.addressing.as_str())
        .with_children(participants)
}

/// Answers a `w:g2` IQ from the real device `asker` (phone number `pn`).
pub(crate) fn handle(
    shared: &Shared,
    data: &StateData,
    world: &mut World,
    pn: &str,
    iq: &Node,
    id: &str,
) -> Node {
    let to = attr_jid(iq, "to");
    let first = iq.children().first();
    let tag = first.map(|c| c.tag.as_ref()).unwrap_or("");
    match (iq.attr_str("type"), tag) {
        (Some("get"), "participating") => {
            let groups = world
                .groups
                .values()
                .filter(|g| g.participants.contains_key(pn))
                .map(|g| group_node(world, g))
                .collect();
            result(id).with_children(vec![Node::new("groups").with_children(groups)])
        }
        (Some("set"), "create") => {
            let Some(create) = first else {
                return error(id, 400, "bad-request");
            };
            let subject = create.attr_str("subject").unwrap_or("").to_owned();
            let mut members = vec![pn.to_owned()];
            for p in create.children_by_tag("participant") {
                if let Some((device, _)) = attr_jid(p, "jid").and_then(|j| world.device_addr(&j)) {
                    if !members.contains(&device.pn) {
                        members.push(device.pn);
                    }
                }
            }
            match create_addressed(world, &subject, &members) {
                Ok(group) => {
                    let node = world.groups.get(&group).map(|g| group_node(world, g));
                    result(id).with_children(node.into_iter().collect())
                }
                Err(_) => error(id, 400, "bad-request"),
            }
        }
        (_, "query" | "add" | "remove") => {
            let Some(group_id) = to.filter(|t| t.server == Server::Group).map(|t| t.user) else {
                return error(id, 400, "bad-request");
            };
            let Some(group) = world.groups.get(&group_id) else {
                return error(id, 404, "item-not-found");
            };
            if !group.participants.contains_key(pn) {
                return error(id, 403, "forbidden");
            }
            if tag == "query" {
                let node = group_node(world, group);
                return result(id).with_children(vec![node]);
            }
            let mut changed = Vec::new();
            let named: Vec<String> = first
                .map(|f| {
                    f.children_by_tag("participant")
                        .filter_map(|p| attr_jid(p, "jid"))
                        .filter_map(|j| world.device_addr(&j).map(|(d, _)| d.pn))
                        .collect()
                })
                .unwrap_or_default();
            for member in named {
                let ok = if tag == "add" {
                    add_member(shared, data, world, &group_id, pn, &member).is_ok()
                } else {
                    remove_member(shared, data, world, &group_id, pn, &member).is_ok()
                };
                let jid = world.wire_jid(&DeviceAddr::new(member, 0), Addressing::Pn);
                changed.push(
                    Node::new("participant")
                        .with_attr("jid", jid)
                        .with_attr("error", if ok { "200" } else { "409" }),
                );
            }
            result(id).with_children(vec![Node::new(tag.to_owned()).with_children(changed)])
        }
        _ => error(id, 501, "feature-not-implemented"),
    }
}

fn create_addressed(
    world: &mut World,
    subject: &str,
    members: &[String],
) -> Result<String, WorldError> {
    create(world, subject, members, Addressing::Pn)
}

/// Adds `member` to a group (by `actor`), announcing it with `w:gp2`.
pub(crate) fn add_member(
    shared: &Shared,
    data: &StateData,
    world: &mut World,
    group_id: &str,
    actor: &str,
    member: &str,
) -> Result<(), WorldError> {
    if !world.accounts.contains_key(member) {
        return Err(WorldError::NoAccount(member.to_owned()));
    }
    let group = world
        .groups
        .get_mut(group_id)
        .ok_or_else(|| WorldError::BadGroup(format!("no group {group_id}")))?;
    if group
        .participants
        .insert(member.to_owned(), Role::Member)
        .is_some()
    {
        return Err(WorldError::BadGroup(format!(
            "{member} is a member already"
        )));
    }
    notify(shared, data, world, group_id, actor, "add", member, &[]);
    Ok(())
}

/// Removes `member` from a group (by `actor`); the removed member is told too.
pub(crate) fn remove_member(
    shared: &Shared,
    data: &StateData,
    world: &mut World,
    group_id: &str,
    actor: &str,
    member: &str,
) -> Result<(), WorldError> {
    let group = world
        .groups
        .get_mut(group_id)
        .ok_or_else(|| WorldError::BadGroup(format!("no group {group_id}")))?;
    if group.participants.remove(member).is_none() {
        return Err(WorldError::BadGroup(format!("{member} is not a member")));
    }
    // The members' sender keys reached a device that is gone: simulated senders rotate theirs
    // (messaging.md §1.4).
    let chat = World::group_jid(group_id).to_string();
    for account in world.accounts.values_mut() {
        for device in account.devices.values_mut() {
            device.own_sender_keys.remove(&chat);
            device.sender_key_holders.remove(group_id);
        }
    }
    notify(
        shared,
        data,
        world,
        group_id,
        actor,
        "remove",
        member,
        &[member.to_owned()],
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn notify(
    shared: &Shared,
    data: &StateData,
    world: &mut World,
    group_id: &str,
    actor: &str,
    change: &'static str,
    member: &str,
    also: &[String],
) {
    let Some(group) = world.groups.get(group_id) else {
        return;
    };
    let addressing = group.addressing;
    let mut told: Vec<String> = group.participants.keys().cloned().collect();
    told.extend(also.iter().cloned());
    let actor_jid = world.wire_jid(&DeviceAddr::new(actor.to_owned(), 0), addressing);
    let member_jid = world.wire_jid(&DeviceAddr::new(member.to_owned(), 0), addressing);
    let node = Node::new("notification")
        .with_attr("from", World::group_jid(group_id))
        .with_attr("participant", actor_jid)
        .with_attr("t", now_unix().to_string())
        .with_attr("type", "w:gp2")
        .with_children(vec![Node::new(change)
            .with_children(vec![
                Node::new("participant").with_attr("jid", member_jid)
            ])]);
    for pn in told {
        for device in devices_of(world, data, &pn) {
            let is_sim = world
                .accounts
                .get(&pn)
                .is_some_and(|a| a.devices.contains_key(&device));
            if !is_sim {
                let node = node.clone().with_attr("id", notification_id());
                to_real(shared, world, &DeviceAddr::new(pn.clone(), device), node);
            }
        }
    }
}
