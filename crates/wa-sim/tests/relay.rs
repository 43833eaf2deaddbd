//! The world and the relay, with a raw messaging client on wa-core: usync, bundles served
//! once, every 1:1 relay rejection, delivery to simulated devices with their receipts, both
//! duplicate behaviours, and a simulated companion's device identity.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::peer::{pn, wa_sim_attr_jid, Peer};
use support::world::{contact, fanout, shown, world};
use support::*;
use wa_core::binary::{Jid, Node, Server};
use wa_sim::{Addressing, Chat, ContactSpec, DuplicateBehaviour};

const ADA: &str = "15551110001";
const BOB: &str = "15551110002";

#[tokio::test(start_paused = true)]
async fn usync_lists_devices_with_key_indexes_lids_and_existence() {
    let sim = world(vec![contact(ADA, 2)]);
    let mut peer = Peer::online(&sim, None).await;
    let devices = peer.devices(&[pn(ADA)]).await;
    let names: Vec<(String, Option<String>)> = devices
        .iter()
        .map(|(j, k)| (j.to_string(), k.clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            (format!("{ADA}@s.whatsapp.net"), None),
            (format!("{ADA}:1@s.whatsapp.net"), Some("1".into())),
            (format!("{ADA}:2@s.whatsapp.net"), Some("2".into())),
        ]
    );
    // LID mapping and existence in one query.
    let node = iq(
        "u2",
        "get",
        "usync",
        vec![Node::new("usync")
            .with_attr("sid", "u2")
            .with_attr("mode", "query")
            .with_attr("context", "interactive")
            .with_children(vec![
                Node::new("query").with_children(vec![Node::new("contact"), Node::new("lid")]),
                Node::new("list").with_children(vec![
                    Node::new("user").with_children(vec![
                        Node::new("contact").with_bytes(format!("+{ADA}").into_bytes())
                    ]),
                    Node::new("user").with_children(vec![
                        Node::new("contact").with_bytes(b"+19990000000".to_vec())
                    ]),
                ]),
            ])],
    );
    let answer = peer.query(node).await;
    let users: Vec<&Node> = answer
        .child("usync")
        .and_then(|u| u.child("list"))
        .unwrap()
        .children_by_tag("user")
        .collect();
    assert_eq!(
        users[0].child("contact").unwrap().attr_str("type"),
        Some("in")
    );
    let lid = wa_sim_attr_jid(users[0].child("lid").unwrap(), "val");
    assert_eq!(lid.server, Server::Lid);
    assert_eq!(
        users[1].child("contact").unwrap().attr_str("type"),
        Some("out")
    );
    assert!(users[1].child("lid").unwrap().child("error").is_some());
}

#[tokio::test(start_paused = true)]
async fn a_one_time_prekey_is_served_once_and_unknown_devices_get_an_error() {
    let sim = world(vec![contact(ADA, 0)]);
    let mut peer = Peer::online(&sim, None).await;
    let mut ids = Vec::new();
    for _ in 0..21 {
        let bundle = peer.bundle(&pn(ADA)).await.expect("bundle");
        bundle.verify_signature().expect("signed prekey verifies");
        ids.push(bundle.pre_key.map(|(id, _)| id));
    }
    let served: std::collections::BTreeSet<u32> = ids.iter().flatten().copied().collect();
    assert_eq!(
        served.len(),
        20,
        "each of the 20 one-time prekeys once: {ids:?}"
    );
    assert_eq!(ids[20], None, "then bundles come without one");
    let unknown = Jid::with_device(ADA, 7, Server::Pn);
    assert!(peer.bundle(&unknown).await.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_direct_message_reaches_every_device_and_each_confirms() {
    let sim = world(vec![contact(ADA, 1)]);
    let mut peer = Peer::online(&sim, None).await;
    let to = pn(ADA);
    let devices = fanout(&mut peer, &to).await;
    assert_eq!(
        devices.len(),
        3,
        "Ada's phone and companion, and our phone: {devices:?}"
    );
    let stanza = peer.direct("3EB0AA01", &to, &devices, "hello Ada").await;
    let ack = peer.send_for_ack(&stanza).await;
    assert_eq!(ack.attr_str("error"), None, "{ack}");
    for device in [0, 1] {
        assert_eq!(
            shown(&sim, ADA, device, "3EB0AA01"),
            (1, 0, vec!["hello Ada".into()])
        );
    }
    // Our own phone got the deviceSentMessage and shows the same text.
    let me = sim.linked_number();
    assert_eq!(shown(&sim, &me, 0, "3EB0AA01").0, 1);
    // A delivery receipt per device comes back; our phone's is type=sender.
    let mut receipts = Vec::new();
    for _ in 0..3 {
        let r = peer.next("receipt").await;
        assert_eq!(r.attr_str("id"), Some("3EB0AA01"));
        receipts.push((
            r.attr("from").unwrap().to_string(),
            r.attr_str("type").map(str::to_owned),
        ));
        peer.ack(&r).await;
    }
    receipts.sort();
    assert_eq!(
        receipts,
        vec![
            (format!("{me}@s.whatsapp.net"), Some("sender".into())),
            (format!("{ADA}:1@s.whatsapp.net"), None),
            (format!("{ADA}@s.whatsapp.net"), None),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_relay_refuses_a_wrong_device_set_a_missing_identity_mixed_namespaces_and_strangers() {
    let sim = world(vec![
        contact(ADA, 1),
        ContactSpec {
            pn: Some(BOB.into()),
            addressing: Addressing::Lid,
            ..ContactSpec::default()
        },
    ]);
    let mut peer = Peer::online(&sim, None).await;
    let to = pn(ADA);
    let devices = fanout(&mut peer, &to).await;

    // A missing device.
    let stanza = peer.direct("3EB0BB01", &to, &devices[..2], "x").await;
    let ack = peer.send_for_ack(&stanza).await;
    assert_eq!(ack.attr_str("error"), Some("409"));
    assert!(ack.attr_str("phash").is_some_and(|p| p.starts_with("2:")));

    // An extra device.
    let mut extra = devices.clone();
    extra.push(Jid::with_device(ADA, 9, Server::Pn));
    let stanza = peer.direct("3EB0BB02", &to, &extra[..3], "x").await;
    let tampered = {
        let mut s = stanza.clone();
        if let wa_core::binary::Content::Nodes(children) = &mut s.content {
            if let wa_core::binary::Content::Nodes(tos) = &mut children[0].content {
                let mut fake = tos[0].clone();
                fake.attrs.retain(|a| a.key != "jid");
                tos.push(fake.with_attr("jid", Jid::with_device(ADA, 9, Server::Pn)));
            }
        }
        s
    };
    let ack = peer.send_for_ack(&tampered).await;
    assert_eq!(ack.attr_str("error"), Some("409"));

    // A pkmsg without <device-identity>, then with one that does not verify.
    let fresh = world(vec![contact(ADA, 0)]);
    let mut other = Peer::online(&fresh, None).await;
    let devices2 = fanout(&mut other, &to).await;
    let stanza = other.direct("3EB0BB03", &to, &devices2, "x").await;
    let mut without = stanza.clone();
    if let wa_core::binary::Content::Nodes(children) = &mut without.content {
        children.retain(|c| c.tag != "device-identity");
    }
    let ack = other.send_for_ack(&without).await;
    assert_eq!(ack.attr_str("error"), Some("400"));
    let mut bad = stanza.clone();
    if let wa_core::binary::Content::Nodes(children) = &mut bad.content {
        for c in children.iter_mut().filter(|c| c.tag == "device-identity") {
            let mut bytes = c.bytes().unwrap().to_vec();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            *c = Node::new("device-identity").with_bytes(bytes);
        }
    }
    let ack = other.send_for_ack(&bad).await;
    assert_eq!(ack.attr_str("error"), Some("400"));
    // The good one goes through: the refusals changed nothing.
    let ack = other.send_for_ack(&stanza).await;
    assert_eq!(ack.attr_str("error"), None, "{ack}");
    assert_eq!(shown(&fresh, ADA, 0, "3EB0BB03").0, 1);

    // Bob is addressed by LID: a PN message is refused, and so is a LID `to` with PN devices.
    let bob = pn(BOB);
    let stanza = peer
        .direct(
            "3EB0BB04",
            &bob,
            &[Jid::with_device(BOB, 0, Server::Pn)],
            "x",
        )
        .await;
    let ack = peer.send_for_ack(&stanza).await;
    assert_eq!(ack.attr_str("error"), Some("400"));
    let bob_lid = sim
        .contacts()
        .into_iter()
        .find(|c| c.pn == BOB)
        .unwrap()
        .lid;
    let mut mixed = stanza.clone();
    mixed.attrs.retain(|a| a.key != "to");
    let mixed = mixed.with_attr("to", Jid::new(bob_lid, Server::Lid));
    let ack = peer.send_for_ack(&mixed).await;
    assert_eq!(ack.attr_str("error"), Some("400"));

    // Someone not on WhatsApp.
    let stanza = peer.stanza("3EB0BB05", &pn("19990000000"), vec![], vec![]);
    let ack = peer.send_for_ack(&stanza).await;
    assert_eq!(ack.attr_str("error"), Some("404"));

    let reasons: Vec<(String, u16)> = sim
        .messages()
        .refused
        .into_iter()
        .map(|r| (r.id, r.code))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("3EB0BB01".into(), 409),
            ("3EB0BB02".into(), 409),
            ("3EB0BB04".into(), 400),
            ("3EB0BB04".into(), 400),
            ("3EB0BB05".into(), 404),
        ]
    );
    assert!(shown(&sim, ADA, 0, "3EB0BB01").0 == 0 && shown(&sim, ADA, 0, "3EB0BB02").0 == 0);
}

#[tokio::test(start_paused = true)]
async fn a_byte_identical_replay_is_refused_and_a_re_encrypted_copy_is_shown_twice() {
    let sim = world(vec![
        contact(ADA, 0),
        ContactSpec {
            pn: Some(BOB.into()),
            duplicates: DuplicateBehaviour::Retry,
            ..ContactSpec::default()
        },
    ]);
    let mut peer = Peer::online(&sim, None).await;
    let me = sim.linked_number();
    for (who, id) in [(ADA, "3EB0CC01"), (BOB, "3EB0CC02")] {
        let to = pn(who);
        let devices = fanout(&mut peer, &to).await;
        let stanza = peer.direct(id, &to, &devices, "once").await;
        assert_eq!(peer.send_for_ack(&stanza).await.attr_str("error"), None);
        // The same bytes again (a reconnect's resend): the server relays it, the sessions
        // refuse it.
        assert_eq!(peer.send_for_ack(&stanza).await.attr_str("error"), None);
        assert_eq!(shown(&sim, who, 0, id), (1, 1, vec!["once".into()]));
        assert_eq!(shown(&sim, &me, 0, id).0, 1);
    }
    // whatsmeow-like Ada confirms the duplicate again; Baileys-like Bob asks for a retry.
    let mut from_ada = Vec::new();
    let mut from_bob = Vec::new();
    for _ in 0..8 {
        let r = peer.next("receipt").await;
        peer.ack(&r).await;
        let from = r.attr("from").unwrap().to_string();
        let kind = r.attr_str("type").unwrap_or("delivered").to_owned();
        if from.starts_with(ADA) {
            from_ada.push(kind);
        } else if from.starts_with(BOB) {
            from_bob.push(kind);
        }
    }
    assert_eq!(from_ada, vec!["delivered", "delivered"]);
    assert_eq!(from_bob, vec!["delivered", "retry"]);

    // A copy encrypted anew under the same id decrypts and is shown a second time.
    let to = pn(ADA);
    let devices = fanout(&mut peer, &to).await;
    let again = peer.direct("3EB0CC01", &to, &devices, "once").await;
    assert_eq!(peer.send_for_ack(&again).await.attr_str("error"), None);
    assert_eq!(
        shown(&sim, ADA, 0, "3EB0CC01"),
        (2, 1, vec!["once".into(), "once".into()])
    );
}

#[tokio::test(start_paused = true)]
async fn a_contact_companion_proves_its_identity_on_a_pkmsg() {
    use prost::Message as _;
    use wa_core::pair::adv::verify_account_signature;
    use wa_core::proto::{AdvDeviceIdentity, AdvSignedDeviceIdentity};
    let sim = world(vec![contact(ADA, 1)]);
    let mut peer = Peer::online(&sim, None).await;
    let id = sim
        .contact_send(
            ADA,
            1,
            &Chat::Direct(sim.linked_number()),
            "from the laptop",
        )
        .unwrap();
    let message = peer.next("message").await;
    assert_eq!(message.attr_str("id"), Some(id.as_str()));
    let from = message.attr("from").unwrap().to_string();
    assert_eq!(from, format!("{ADA}:1@s.whatsapp.net"));
    let bytes = message
        .child("device-identity")
        .and_then(Node::bytes)
        .unwrap();
    let signed = AdvSignedDeviceIdentity::decode(bytes).unwrap();
    let device = AdvDeviceIdentity::decode(signed.details.as_deref().unwrap()).unwrap();
    assert_eq!(device.key_index(), 1);
    let companion = peer
        .bundle(&Jid::with_device(ADA, 1, Server::Pn))
        .await
        .unwrap();
    let phone = peer.bundle(&pn(ADA)).await.unwrap();
    let signer = verify_account_signature(&signed, &device, &companion.identity_key).unwrap();
    assert_eq!(
        signer, phone.identity_key,
        "the account key is the phone's identity"
    );
    let plain = peer.decrypt(&from, message.child("enc").unwrap());
    assert_eq!(plain.conversation.as_deref(), Some("from the laptop"));
}
