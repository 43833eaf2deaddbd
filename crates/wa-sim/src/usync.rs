//! The server side of the lookups a sender makes before it encrypts (protocol.md §9.2, §9.3;
//! messaging.md §6.2): usync (devices with key indexes, the LID mapping, whether a number is
//! on WhatsApp) and prekey bundles, where each one-time prekey is served once.

use wa_core::binary::{Jid, Node, Server};
use wa_core::signal::DJB_TYPE;

use crate::accounts::key_index_list;
use crate::iq_reply::result;
use crate::relay::outgoing::bundle_for;
use crate::relay::rules::{devices_of, key_index_of};
use crate::shared::state::StateData;
use crate::shared::world::{attr_jid, DeviceAddr, World};

/// A user named in a usync `<list>`: a JID, or a phone number in `<contact>`.
enum Wanted {
    Jid(Jid),
    Number(String),
}

/// Answers `<iq xmlns="usync" type="get"><usync …><query>…</query><list>…</list></usync>`.
pub(crate) fn usync(world: &World, data: &StateData, iq: &Node, id: &str) -> Node {
    let Some(usync) = iq.child("usync") else {
        return crate::iq_reply::error(id, 400, "bad-request");
    };
    let query: Vec<String> = usync
        .child("query")
        .map(|q| q.children().iter().map(|c| c.tag.to_string()).collect())
        .unwrap_or_default();
    let wanted: Vec<Wanted> = usync
        .child("list")
        .map(|l| {
            l.children_by_tag("user")
                .filter_map(|u| match attr_jid(u, "jid") {
                    Some(jid) => Some(Wanted::Jid(jid)),
                    None => u
                        .child("contact")
                        .and_then(|c| c.bytes().map(|b| String::from_utf8_lossy(b).into_owned()))
                        .map(Wanted::Number),
                })
                .collect()
        })
        .unwrap_or_default();
    let users = wanted
        .iter()
        .map(|w| user_node(world, data, &query, w))
        .collect();
    let mut answer = Node::new("usync");
    for key in ["sid", "mode", "context"] {
        if let Some(v) = usync.attr_str(key) {
            answer = answer.with_attr(key, v.to_owned());
        }
    }
    let answer = answer
        .with_attr("index", "0")
        .with_attr("last", "true")
        .with_children(vec![
            Node::new("result").with_children(query.iter().map(|q| Node::new(q.clone())).collect()),
            Node::new("list").with_children(users),
        ]);
    result(id).with_children(vec![answer])
}

fn user_node(world: &World, data: &StateData, query: &[String], wanted: &Wanted) -> Node {
    let (jid, account) = match wanted {
        Wanted::Jid(jid) => (jid.to_non_ad(), world.account_by_user(jid)),
        Wanted::Number(text) => {
            let number: String = text
                .split('@')
                .next()
                .unwrap_or("")
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            let jid = Jid::new(number.clone(), Server::Pn);
            let account = world
                .accounts
                .get(&number)
                .map(|a| (a, crate::shared::world::Addressing::Pn));
            (jid, account)
        }
    };
    let mut children = Vec::new();
    for protocol in query {
        match protocol.as_str() {
            "devices" => children.push(match account {
                Some((account, _)) => {
                    let list = devices_of(world, data, &account.pn)
                        .into_iter()
                        .map(|d| {
                            let node = Node::new("device").with_attr("id", d.to_string());
                            if d == 0 {
                                node
                            } else {
                                let index = key_index_of(
                                    world,
                                    data,
                                    &DeviceAddr::new(account.pn.clone(), d),
                                );
                                node.with_attr("key-index", index.to_string())
                            }
                        })
                        .collect();
                    let mut devices = vec![Node::new("device-list").with_children(list)];
                    devices.extend(key_index_list(world, data, &account.pn));
                    Node::new("devices").with_children(devices)
                }
                None => Node::new("devices").with_children(vec![Node::new("error")
                    .with_attr("code", "404")
                    .with_attr("text", "not-found")]),
            }),
            "lid" => children.push(match account {
                Some((account, _)) => {
                    Node::new("lid").with_attr("val", Jid::new(account.lid.clone(), Server::Lid))
                }
                None => Node::new("lid").with_children(vec![Node::new("error")
                    .with_attr("code", "404")
                    .with_attr("text", "missing")]),
            }),
            "contact" => {
                let number = match wanted {
                    Wanted::Number(n) => n.clone(),
                    Wanted::Jid(j) => format!("+{}", j.user),
                };
                let kind = if account.is_some() { "in" } else { "out" };
                children.push(
                    Node::new("contact")
                        .with_attr("type", kind)
                        .with_bytes(number.into_bytes()),
                );
            }
            // Other protocols (status, business, picture, disappearing_mode…) are not
            // simulated: an empty element says "nothing known".
            other => children.push(Node::new(other.to_owned())),
        }
    }
    let mut node = Node::new("user").with_attr("jid", jid);
    if let (Wanted::Number(_), Some((account, _))) = (wanted, account) {
        node = node.with_attr("pn_jid", Jid::new(account.pn.clone(), Server::Pn));
    }
    node.with_children(children)
}

/// Answers `<iq xmlns="encrypt" type="get"><key><user jid=DEVICE/>…</key></iq>` with one
/// bundle per device; each one-time prekey is handed out once, an unknown device gets an error.
pub(crate) fn bundles(world: &mut World, data: &mut StateData, iq: &Node, id: &str) -> Node {
    let Some(key) = iq.child("key") else {
        return crate::iq_reply::error(id, 400, "bad-request");
    };
    let mut users = Vec::new();
    for user in key.children_by_tag("user") {
        let Some(jid) = attr_jid(user, "jid") else {
            continue;
        };
        let known = world
            .device_addr(&jid)
            .filter(|(d, _)| devices_of(world, data, &d.pn).contains(&d.device));
        let bundle = known.and_then(|(device, _)| bundle_for(world, data, &device));
        let node = Node::new("user").with_attr("jid", jid);
        let Some(bundle) = bundle else {
            users.push(node.with_children(vec![Node::new("error")
                .with_attr("code", "404")
                .with_attr("text", "item-not-found")]));
            continue;
        };
        let id3 = |v: u32| v.to_be_bytes()[1..].to_vec();
        let mut children = vec![
            Node::new("registration").with_bytes(bundle.registration_id.to_be_bytes().to_vec()),
            Node::new("type").with_bytes(vec![DJB_TYPE]),
            Node::new("identity").with_bytes(bundle.identity_key.as_bytes().to_vec()),
            Node::new("skey").with_children(vec![
                Node::new("id").with_bytes(id3(bundle.signed_pre_key_id)),
                Node::new("value").with_bytes(bundle.signed_pre_key.as_bytes().to_vec()),
                Node::new("signature").with_bytes(bundle.signed_pre_key_signature.to_vec()),
            ]),
        ];
        if let Some((pre_id, public)) = bundle.pre_key {
            children.push(Node::new("key").with_children(vec![
                Node::new("id").with_bytes(id3(pre_id)),
                Node::new("value").with_bytes(public.as_bytes().to_vec()),
            ]));
        }
        users.push(node.with_children(children));
    }
    result(id).with_children(vec![Node::new("list").with_children(users)])
}
