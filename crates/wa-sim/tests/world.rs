//! Groups (fan-out with the sender key, phash, membership changes and their notifications),
//! device changes with the `devices` notification, and privacy tokens with ack 463, with the
//! raw wa-core messaging client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::peer::{pn, Peer};
use support::*;
use wa_core::binary::{Jid, Node, Server};
use wa_core::ids::participant_hash;
use wa_core::plaintext::decode_padded;
use wa_core::proto::{Message, SenderKeyDistributionMessage as SkdmProto};
use wa_core::signal::group::{SenderKeyDistributionMessage, SenderKeyRecord};
use wa_sim::{Addressing, Chat, ContactSpec, SimConfig, Simulator};

const ADA: &str = "15551110001";
const BOB: &str = "15551110002";

fn world() -> Simulator {
    let contact = |pn: &str, companions: u16, token_required: bool| ContactSpec {
        pn: Some(pn.to_owned()),
        companions,
        token_required,
        ..ContactSpec::default()
    };
    sim_with(SimConfig {
        contacts: vec![contact(ADA, 1, false), contact(BOB, 0, true)],
        ..SimConfig::default()
    })
}

trait ToGroup {
    fn pipe_to_group(self) -> Self;
}

impl ToGroup for Node {
    /// Keeps only the last `to` (the group): `iq()` addresses the server.
    fn pipe_to_group(mut self) -> Self {
        let last = self.attrs.iter().rposition(|a| a.key == "to");
        let mut i = 0;
        self.attrs.retain(|a| {
            i += 1;
            a.key != "to" || Some(i - 1) == last
        });
        self
    }
}

fn shown(sim: &Simulator, pn: &str, device: u16, id: &str) -> u32 {
    sim.received(pn, device)
        .into_iter()
        .find(|s| s.id == id)
        .map_or(0, |s| s.shown)
}

fn hash(devices: &[Jid]) -> String {
    let names: Vec<String> = devices
        .iter()
        .map(|j| format!("{}.0:{}@{}", j.user, j.device, j.server))
        .collect();
    participant_hash(&names)
}

/// A group message: SKDM pairwise to `with_key`, the text as skmsg, and `phash`.
async fn group_message(
    peer: &mut Peer,
    id: &str,
    group: &Jid,
    with_key: &[Jid],
    text: &str,
    phash: Option<String>,
) -> Node {
    let skdm = peer.sender_key(&group.to_string());
    let carrier = Message {
        sender_key_distribution_message: Some(SkdmProto {
            group_id: Some(group.to_string()),
            axolotl_sender_key_distribution_message: Some(skdm.encode()),
        }),
        ..Message::default()
    };
    let mut tos = Vec::new();
    for device in with_key {
        let enc = peer.encrypt(device, &carrier).await;
        tos.push(
            Node::new("to")
                .with_attr("jid", device.clone())
                .with_children(vec![enc]),
        );
    }
    let skmsg = peer.group_encrypt(&group.to_string(), text);
    let skmsg = Node::new("enc")
        .with_attr("v", "2")
        .with_attr("type", "skmsg")
        .with_bytes(skmsg);
    let mut node = if tos.is_empty() {
        Node::new("message")
            .with_attr("id", id.to_owned())
            .with_attr("to", group.clone())
            .with_attr("type", "text")
            .with_children(vec![skmsg])
    } else {
        peer.stanza(id, group, tos, vec![skmsg])
    };
    if let Some(phash) = phash {
        node = node.with_attr("phash", phash);
    }
    node
}

#[tokio::test(start_paused = true)]
async fn group_messages_fan_out_with_the_sender_key_and_follow_membership() {
    let sim = world();
    let me = sim.linked_number();
    let group_id = sim
        .create_group(
            "Book club",
            &[me.clone(), ADA.into(), BOB.into()],
            Addressing::Pn,
        )
        .unwrap();
    let group = Jid::new(group_id.clone(), Server::Group);
    let mut peer = Peer::online(&sim, None).await;

    // Metadata lists the three members.
    let meta = peer
        .query(
            iq(
                "g1",
                "get",
                "w:g2",
                vec![Node::new("query").with_attr("request", "interactive")],
            )
            .with_attr("to", group.clone())
            .pipe_to_group(),
        )
        .await;
    let g = meta.child("group").expect("group");
    assert_eq!(g.attr_str("subject"), Some("Book club"));
    assert_eq!(g.attr_str("addressing_mode"), Some("pn"));
    assert_eq!(g.children_by_tag("participant").count(), 3);
    // The participating list has it too.
    let list = peer
        .query(iq("g2", "get", "w:g2", vec![Node::new("participating")]))
        .await;
    assert_eq!(list.child("groups").unwrap().children().len(), 1);

    let members = [pn(&me), pn(ADA), pn(BOB)];
    let all: Vec<Jid> = peer
        .devices(&members)
        .await
        .into_iter()
        .map(|(j, _)| j)
        .collect();
    let others: Vec<Jid> = all.iter().filter(|j| **j != peer.jid).cloned().collect();
    assert_eq!(others.len(), 4, "{others:?}");

    // A wrong phash is refused; the right one (every device, ours included) goes through.
    let wrong = group_message(
        &mut peer,
        "3EB0GG01",
        &group,
        &others,
        "hi all",
        Some("2:AAAAAAAA".into()),
    )
    .await;
    let ack = peer.send_for_ack(&wrong).await;
    assert_eq!(ack.attr_str("error"), Some("409"));
    assert!(ack.attr_str("phash").is_some());
    peer.sender_keys.clear();
    peer.sessions.clear();
    let right = group_message(
        &mut peer,
        "3EB0GG02",
        &group,
        &others,
        "hi all",
        Some(hash(&all)),
    )
    .await;
    let ack = peer.send_for_ack(&right).await;
    assert_eq!(ack.attr_str("error"), None, "{:?}", sim.messages().refused);
    for (pn, device) in [(me.as_str(), 0), (ADA, 0), (ADA, 1), (BOB, 0)] {
        assert_eq!(shown(&sim, pn, device, "3EB0GG02"), 1, "{pn}:{device}");
    }
    let mut receipts = 0;
    while receipts < 4 {
        let r = peer.next("receipt").await;
        assert_eq!(r.attr("from").unwrap().to_string(), group.to_string());
        assert!(r.attr("participant").is_some());
        peer.ack(&r).await;
        receipts += 1;
    }

    // Everyone holds the key now: a skmsg alone reaches every device.
    let next = group_message(&mut peer, "3EB0GG03", &group, &[], "second", None).await;
    assert_eq!(peer.send_for_ack(&next).await.attr_str("error"), None);
    assert_eq!(shown(&sim, BOB, 0, "3EB0GG03"), 1);

    // Bob leaves: we are told, and a copy for Bob's device is now an extra device.
    sim.group_remove(&group_id, BOB).unwrap();
    let note = peer.next("notification").await;
    assert_eq!(note.attr_str("type"), Some("w:gp2"));
    let removed = note.child("remove").unwrap().child("participant").unwrap();
    assert_eq!(
        removed.attr("jid").unwrap().to_string(),
        format!("{BOB}@s.whatsapp.net")
    );
    peer.ack(&note).await;
    let stale = group_message(
        &mut peer,
        "3EB0GG04",
        &group,
        &[Jid::new(BOB, Server::Pn)],
        "x",
        None,
    )
    .await;
    assert_eq!(
        peer.send_for_ack(&stale).await.attr_str("error"),
        Some("409")
    );
    sim.group_add(&group_id, BOB).unwrap();
    let note = peer.next("notification").await;
    assert!(note.child("add").is_some());
    peer.ack(&note).await;

    // A group we are not in, and a group message without its skmsg.
    let theirs = sim
        .create_group("Not ours", &[ADA.into(), BOB.into()], Addressing::Pn)
        .unwrap();
    let theirs = Jid::new(theirs, Server::Group);
    let outsider = group_message(&mut peer, "3EB0GG05", &theirs, &[], "x", None).await;
    assert_eq!(
        peer.send_for_ack(&outsider).await.attr_str("error"),
        Some("403")
    );
    let bare = Node::new("message")
        .with_attr("id", "3EB0GG06")
        .with_attr("to", group.clone())
        .with_attr("type", "text");
    assert_eq!(
        peer.send_for_ack(&bare).await.attr_str("error"),
        Some("400")
    );
    let codes: Vec<u16> = sim.messages().refused.iter().map(|r| r.code).collect();
    assert_eq!(codes, [409, 409, 403, 400]);
}

#[tokio::test(start_paused = true)]
async fn a_contact_sends_to_a_group_with_its_sender_key() {
    let sim = world();
    let me = sim.linked_number();
    let group_id = sim
        .create_group("Trip", &[ADA.into(), me.clone()], Addressing::Pn)
        .unwrap();
    let mut peer = Peer::online(&sim, None).await;
    let id = sim
        .contact_send(ADA, 0, &Chat::Group(group_id.clone()), "see you at 8")
        .unwrap();
    let message = peer.next("message").await;
    assert_eq!(
        message.attr("from").unwrap().to_string(),
        format!("{group_id}@g.us")
    );
    let participant = message.attr("participant").unwrap().to_string();
    assert_eq!(participant, format!("{ADA}@s.whatsapp.net"));
    let encs: Vec<&Node> = message.children_by_tag("enc").collect();
    assert_eq!(encs.len(), 2, "the SKDM pairwise, then the skmsg");
    let carrier = peer.decrypt(&participant, encs[0]);
    let skdm = carrier.sender_key_distribution_message.unwrap();
    let skdm = SenderKeyDistributionMessage::parse(
        skdm.axolotl_sender_key_distribution_message
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    let record = SenderKeyRecord::new().process_distribution(&skdm);
    let plain = record.decrypt(encs[1].bytes().unwrap()).unwrap();
    let text = decode_padded(&plain.plaintext).unwrap().conversation;
    assert_eq!(text.as_deref(), Some("see you at 8"));
    // Ada's companion and our phone got it as well.
    assert_eq!(shown(&sim, ADA, 1, &id), 1);
    assert_eq!(shown(&sim, &me, 0, &id), 1);
}

#[tokio::test(start_paused = true)]
async fn adding_and_removing_a_device_is_announced_with_the_new_hash() {
    let sim = world();
    let mut peer = Peer::online(&sim, None).await;
    let device = sim.add_device(ADA).unwrap();
    assert_eq!(device, 2);
    let note = peer.next("notification").await;
    assert_eq!(note.attr_str("type"), Some("devices"));
    let add = note.child("add").expect("add");
    let listed = add.child("device").unwrap();
    assert_eq!(
        listed.attr("jid").unwrap().to_string(),
        format!("{ADA}:2@s.whatsapp.net")
    );
    let now: Vec<Jid> = peer
        .devices(&[pn(ADA)])
        .await
        .into_iter()
        .map(|(j, _)| j)
        .collect();
    assert_eq!(now.len(), 3);
    assert_eq!(add.attr_str("device_hash"), Some(hash(&now).as_str()));
    peer.ack(&note).await;

    // A message built from the old list misses the new device.
    let own = peer.devices(&[pn(&sim.linked_number())]).await;
    let mut old: Vec<Jid> = now.iter().filter(|j| j.device != 2).cloned().collect();
    old.extend(own.into_iter().map(|(j, _)| j).filter(|j| *j != peer.jid));
    let stanza = peer.direct("3EB0HH01", &pn(ADA), &old, "x").await;
    assert_eq!(
        peer.send_for_ack(&stanza).await.attr_str("error"),
        Some("409")
    );

    sim.remove_device(ADA, 2).unwrap();
    let note = peer.next("notification").await;
    assert!(note.child("remove").is_some());
    let after: Vec<Jid> = now.into_iter().filter(|j| j.device != 2).collect();
    assert_eq!(
        note.child("remove").unwrap().attr_str("device_hash"),
        Some(hash(&after).as_str())
    );
    peer.ack(&note).await;
    assert!(sim.remove_device(ADA, 0).is_err(), "the phone stays");
}

#[tokio::test(start_paused = true)]
async fn a_contact_that_demands_a_token_refuses_a_first_message_without_it() {
    let sim = world();
    let mut peer = Peer::online(&sim, None).await;
    let to = pn(BOB);
    let mut devices: Vec<Jid> = peer
        .devices(&[to.clone(), pn(&sim.linked_number())])
        .await
        .into_iter()
        .map(|(j, _)| j)
        .collect();
    devices.retain(|j| *j != peer.jid);
    let stanza = peer.direct("3EB0TT01", &to, &devices, "hello").await;
    assert_eq!(
        peer.send_for_ack(&stanza).await.attr_str("error"),
        Some("463")
    );

    let token = sim.issue_privacy_token(BOB).unwrap();
    let note = peer.next("notification").await;
    assert_eq!(note.attr_str("type"), Some("privacy_token"));
    let got = note
        .child("tokens")
        .and_then(|t| t.child("token"))
        .and_then(Node::bytes)
        .unwrap();
    assert_eq!(got, token.as_slice());
    peer.ack(&note).await;

    peer.sessions.clear();
    let mut with_token = peer.direct("3EB0TT02", &to, &devices, "hello").await;
    if let wa_core::binary::Content::Nodes(children) = &mut with_token.content {
        children.push(Node::new("tctoken").with_bytes(token));
    }
    let ack = peer.send_for_ack(&with_token).await;
    assert_eq!(ack.attr_str("error"), None, "{:?}", sim.messages().refused);
    assert_eq!(shown(&sim, BOB, 0, "3EB0TT02"), 1);
}

#[test]
fn contacts_keep_their_keys_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("wa-sim-world-{}", std::process::id()));
    let config = || SimConfig {
        state_dir: Some(dir.clone()),
        contacts: vec![ContactSpec {
            pn: Some(ADA.into()),
            ..ContactSpec::default()
        }],
        ..SimConfig::default()
    };
    let keys = |sim: &Simulator| -> Vec<String> {
        sim.contacts().into_iter().map(|c| c.identity_hex).collect()
    };
    let first = keys(&Simulator::new(config()).unwrap());
    let again = keys(&Simulator::new(config()).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(first, again);
    assert_eq!(first.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_lid_group_takes_lid_devices_and_refuses_phone_numbers() {
    let sim = world();
    let me = sim.linked_number();
    let group_id = sim
        .create_group("LID club", &[me.clone(), ADA.into()], Addressing::Lid)
        .unwrap();
    let group = Jid::new(group_id, Server::Group);
    let mut peer = Peer::online(&sim, None).await;
    let lid_of = |pn: &str| {
        sim.contacts()
            .into_iter()
            .find(|c| c.pn == pn)
            .map(|c| Jid::new(c.lid, Server::Lid))
            .unwrap()
    };
    let own_lid = Jid::with_device(lid_of(&me).user, peer.jid.device, Server::Lid);
    let members = [lid_of(&me), lid_of(ADA)];
    let others: Vec<Jid> = peer
        .devices(&members)
        .await
        .into_iter()
        .map(|(j, _)| j)
        .filter(|j| *j != own_lid)
        .collect();
    assert!(others.iter().all(|j| j.server == Server::Lid), "{others:?}");
    assert_eq!(others.len(), 3, "our phone, Ada's phone and companion");
    let pn_devices = [Jid::new(ADA, Server::Pn)];
    let mixed = group_message(&mut peer, "3EB0LL01", &group, &pn_devices, "x", None).await;
    assert_eq!(
        peer.send_for_ack(&mixed).await.attr_str("error"),
        Some("400")
    );
    peer.sender_keys.clear();
    let mut all = others.clone();
    all.push(own_lid);
    let good = group_message(
        &mut peer,
        "3EB0LL02",
        &group,
        &others,
        "in lid",
        Some(hash(&all)),
    )
    .await;
    let ack = peer.send_for_ack(&good).await;
    assert_eq!(ack.attr_str("error"), None, "{:?}", sim.messages().refused);
    assert_eq!(shown(&sim, ADA, 1, "3EB0LL02"), 1);
    let r = peer.next("receipt").await;
    assert_eq!(
        r.attr_jid("participant").map(|j| j.server.clone()),
        Some(Server::Lid)
    );
}
