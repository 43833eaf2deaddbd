//! Sending and receiving against wa-sim's world, with tokio's clock paused: every simulated
//! device is a real Signal peer, and the simulator's per-device log says what each one showed
//! and refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use support::chat::*;
use support::*;
use wa_client::{EngineEvent, Outcome, Recipient, SendError};
use wa_core::binary::{self, Jid, Server};
use wa_sim::{Addressing, Chat, ContactSpec, DuplicateBehaviour};

#[tokio::test(start_paused = true)]
async fn a_text_reaches_the_contacts_three_devices_and_our_two_others_pkmsg_then_msg() {
    let sim = world(vec![contact(ADA, 2)]);
    let linked = sim.linked_number();
    let mut h = online(sim, "fanout").await;
    // The account's second companion, besides its phone.
    let extra = h.sim.add_device(&linked).unwrap();
    settle().await;

    let sent = h
        .engine
        .send(text("3EB0AAAA0000000000000001", user(ADA), "hello ada"))
        .await
        .unwrap();
    assert!(acked(&sent.outcome), "{:?}", sent.outcome);
    let types = enc_types(&sent.prepared.stanza);
    assert_eq!(types.len(), 5, "{types:?}");
    assert!(types.iter().all(|(_, t)| t == "pkmsg"), "{types:?}");
    settle().await;
    for device in 0..3 {
        let (shown, refused, texts) = seen(&h.sim, ADA, device, &sent.prepared.id);
        assert_eq!((shown, refused), (1, 0), "ada device {device}");
        assert_eq!(texts, ["hello ada"]);
    }
    for device in [0, extra] {
        let (shown, _, texts) = seen(&h.sim, &linked, device, &sent.prepared.id);
        assert_eq!(shown, 1, "own device {device}");
        assert_eq!(texts, ["hello ada"]);
    }
    // Delivery receipts come back from the contact's devices.
    h.wait_for("a delivery receipt", |e| {
        matches!(
            e,
            EngineEvent::Receipt {
                kind: wa_client::ReceiptKind::Delivered,
                ..
            }
        )
    })
    .await;

    // Ada's phone answers: Herald decrypts her pkmsg and shows it.
    let reply = h
        .sim
        .contact_send(ADA, 0, &Chat::Direct(linked.clone()), "hi herald")
        .unwrap();
    let got = h
        .wait_for("ada's message", |e| {
            matches!(e, EngineEvent::Message { .. })
        })
        .await;
    let EngineEvent::Message {
        id,
        chat,
        sender,
        text: body,
        ..
    } = got
    else {
        unreachable!()
    };
    assert_eq!(id, reply);
    assert_eq!(body, "hi herald");
    assert_eq!(chat, format!("{ADA}@s.whatsapp.net"));
    assert_eq!(sender, format!("{ADA}@s.whatsapp.net"));
    // Her phone got our delivery receipt.
    settle().await;
    let receipts = h.sim.sent(ADA, 0);
    let mine = receipts.iter().find(|s| s.id == reply).unwrap();
    assert!(!mine.delivered.is_empty(), "{mine:?}");

    // Now the session with her phone is answered: msg; her companions still pkmsg.
    let second = h
        .engine
        .send(text("3EB0AAAA0000000000000002", user(ADA), "again"))
        .await
        .unwrap();
    assert!(acked(&second.outcome));
    let types = enc_types(&second.prepared.stanza);
    let phone = types
        .iter()
        .find(|(jid, _)| jid == &format!("{ADA}@s.whatsapp.net"))
        .unwrap();
    assert_eq!(phone.1, "msg", "{types:?}");
    assert!(types.iter().filter(|(_, t)| t == "pkmsg").count() >= 2);
    settle().await;
    assert_eq!(seen(&h.sim, ADA, 0, &second.prepared.id).0, 1);
    h.engine.shutdown().await;
}

/// The server relays at once but answers late; the ack never comes in time, so the outcome
/// is in doubt; the same bytes go again after a reconnect. With `receipts_arrive`, the answers
/// come before the reconnect (so Herald has the delivery receipts); without, they are lost with
/// the connection.
async fn in_doubt_then_resent(duplicates: DuplicateBehaviour, receipts_arrive: bool) {
    let sim = world(vec![ContactSpec {
        duplicates,
        ..contact(ADA, 1)
    }]);
    let mut h = Harness::start_with(sim, tempdir("indoubt"), |c| {
        c.iq_timeout = Duration::from_secs(10);
    });
    h.pair().await;
    let prepared = h
        .engine
        .prepare(text("3EB0BBBB0000000000000001", user(ADA), "exactly once"))
        .await
        .unwrap();
    let late = if receipts_arrive { 15 } else { 120 };
    h.sim.set_delay(Duration::from_secs(late));
    let outcome = h
        .engine
        .transmit(&prepared.id, &prepared.stanza)
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::InDoubt);
    if receipts_arrive {
        h.wait_for("the late delivery receipt", |e| {
            matches!(e, EngineEvent::Receipt { ids, kind: wa_client::ReceiptKind::Delivered, .. } if ids.contains(&prepared.id))
        })
        .await;
    }
    h.sim.set_delay(Duration::ZERO);
    h.sim.drop_connections(None);
    h.wait_state("online").await;
    // Settled by sending the very same bytes again.
    let again = h
        .engine
        .transmit(&prepared.id, &prepared.stanza)
        .await
        .unwrap();
    assert!(acked(&again), "{again:?}");
    settle().await;
    for device in 0..2 {
        let (shown, refused, texts) = seen(&h.sim, ADA, device, &prepared.id);
        assert_eq!(shown, 1, "device {device} showed it once");
        assert_eq!(refused, 1, "device {device} refused the copy");
        assert_eq!(texts, ["exactly once"]);
    }
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn in_doubt_then_the_identical_bytes_are_refused_as_a_duplicate_whatsmeow_style() {
    // Even with every receipt lost, a whatsmeow-style device ignores the replayed ciphertext.
    in_doubt_then_resent(DuplicateBehaviour::Ignore, false).await;
}

#[tokio::test(start_paused = true)]
async fn in_doubt_then_the_identical_bytes_are_refused_as_a_duplicate_baileys_style() {
    // Baileys answers a duplicate with a retry receipt; that device already confirmed
    // delivery, so the retry is refused and the message still shows once.
    in_doubt_then_resent(DuplicateBehaviour::Retry, true).await;
}

#[tokio::test(start_paused = true)]
async fn a_retry_receipt_gets_that_device_alone_the_same_id() {
    let sim = world(vec![contact(ADA, 2)]);
    let mut h = online(sim, "retry").await;
    h.sim.fail_decrypt(ADA, 1, 1).unwrap();
    let sent = h
        .engine
        .send(text("3EB0CCCC0000000000000001", user(ADA), "second try"))
        .await
        .unwrap();
    assert!(acked(&sent.outcome));
    h.wait_for("the retry receipt", |e| {
        matches!(
            e,
            EngineEvent::Receipt {
                kind: wa_client::ReceiptKind::Retry,
                ..
            }
        )
    })
    .await;
    settle().await;
    let (shown, _, texts) = seen(&h.sim, ADA, 1, &sent.prepared.id);
    assert_eq!(shown, 1, "the failing device got it again, once");
    assert_eq!(texts, ["second try"]);
    for device in [0, 2] {
        assert_eq!(seen(&h.sim, ADA, device, &sent.prepared.id).0, 1);
    }
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_device_added_between_two_sends_gets_the_next_one() {
    let sim = world(vec![contact(ADA, 0)]);
    let h = online(sim, "devadd").await;
    let first = h
        .engine
        .send(text("3EB0DDDD0000000000000001", user(ADA), "one"))
        .await
        .unwrap();
    assert!(acked(&first.outcome));
    let added = h.sim.add_device(ADA).unwrap();
    settle().await;
    let second = h
        .engine
        .send(text("3EB0DDDD0000000000000002", user(ADA), "two"))
        .await
        .unwrap();
    assert!(acked(&second.outcome), "{:?}", second.outcome);
    settle().await;
    assert_eq!(seen(&h.sim, ADA, added, &second.prepared.id).0, 1);
    assert_eq!(seen(&h.sim, ADA, added, &first.prepared.id).0, 0);
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn lid_and_pn_contacts_each_in_their_own_namespace() {
    let lid_contact = ContactSpec {
        addressing: Addressing::Lid,
        ..contact(BOB, 1)
    };
    let sim = world(vec![contact(ADA, 1), lid_contact]);
    let lid = sim
        .contacts()
        .into_iter()
        .find(|c| c.pn == BOB)
        .unwrap()
        .lid;
    let h = online(sim, "lidpn").await;
    let to_pn = h
        .engine
        .send(text("3EB0EEEE0000000000000001", user(ADA), "pn"))
        .await
        .unwrap();
    assert!(acked(&to_pn.outcome));
    let lid_jid: Jid = if lid.contains('@') {
        lid.parse().unwrap()
    } else {
        Jid::new(lid, Server::Lid)
    };
    let to_lid = h
        .engine
        .send(text(
            "3EB0EEEE0000000000000002",
            Recipient::User(lid_jid),
            "lid",
        ))
        .await
        .unwrap();
    assert!(acked(&to_lid.outcome), "{:?}", to_lid.outcome);
    assert!(enc_types(&to_lid.prepared.stanza)
        .iter()
        .all(|(jid, _)| jid.ends_with("@lid")));
    settle().await;
    assert_eq!(seen(&h.sim, ADA, 1, &to_pn.prepared.id).0, 1);
    assert_eq!(seen(&h.sim, BOB, 1, &to_lid.prepared.id).0, 1);
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_thousand_messages_in_a_row_arrive_in_order_none_twice() {
    let sim = world(vec![contact(ADA, 0)]);
    let h = online(sim, "thousand").await;
    let mut ids = Vec::new();
    for n in 0..1000u32 {
        let id = format!("3EB0F{n:017}");
        let sent = h
            .engine
            .send(text(&id, user(ADA), &format!("message {n}")))
            .await
            .unwrap();
        assert!(acked(&sent.outcome), "{n}: {:?}", sent.outcome);
        ids.push(id);
    }
    settle().await;
    let received = h.sim.received(ADA, 0);
    let got: Vec<&str> = received.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(received.iter().all(|s| s.shown == 1 && s.refused == 0));
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_group_of_five_then_one_removed_and_one_added() {
    let members = [
        "15551120001",
        "15551120002",
        "15551120003",
        "15551120004",
        "15551120005",
    ];
    let newcomer = "15551120006";
    let mut contacts: Vec<ContactSpec> = members.iter().map(|m| contact(m, 1)).collect();
    contacts.push(contact(newcomer, 0));
    let sim = world(contacts);
    let h = online(sim, "group").await;
    let mut participants: Vec<String> = members.iter().map(|m| m.to_string()).collect();
    participants.push(h.sim.linked_number());
    let group = h
        .sim
        .create_group("Team", &participants, Addressing::Pn)
        .unwrap();
    let group_jid: Jid = if group.contains('@') {
        group.parse().unwrap()
    } else {
        Jid::new(group.clone(), Server::Group)
    };
    let first = h
        .engine
        .send(text(
            "3EB0GGGG0000000000000001",
            Recipient::Group(group_jid.clone()),
            "hi team",
        ))
        .await
        .unwrap();
    assert!(acked(&first.outcome), "{:?}", first.outcome);
    settle().await;
    for m in members {
        for device in 0..2 {
            let (shown, _, texts) = seen(&h.sim, m, device, &first.prepared.id);
            assert_eq!(shown, 1, "{m}:{device}");
            assert_eq!(texts, ["hi team"]);
        }
    }
    let groups = h.engine.groups().await.unwrap();
    assert!(groups
        .iter()
        .any(|g| g.subject == "Team" && g.participants.len() == 6));

    h.sim.group_remove(&group, members[4]).unwrap();
    h.sim.group_add(&group, newcomer).unwrap();
    settle().await;
    let second = h
        .engine
        .send(text(
            "3EB0GGGG0000000000000002",
            Recipient::Group(group_jid),
            "after",
        ))
        .await
        .unwrap();
    assert!(acked(&second.outcome), "{:?}", second.outcome);
    settle().await;
    for m in &members[..4] {
        assert_eq!(seen(&h.sim, m, 0, &second.prepared.id).0, 1, "{m}");
    }
    assert_eq!(seen(&h.sim, members[4], 0, &second.prepared.id).0, 0);
    assert_eq!(seen(&h.sim, newcomer, 0, &second.prepared.id).0, 1);
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_phone_number_off_whatsapp_is_refused_before_anything_is_sent() {
    let sim = world(vec![contact(ADA, 0)]);
    let h = online(sim, "notonwa").await;
    let err = h
        .engine
        .send(text(
            "3EB0HHHH0000000000000001",
            "+15559990000".parse().unwrap(),
            "anyone?",
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::NotOnWhatsApp(_)), "{err}");
    let ok = h
        .engine
        .send(text(
            "3EB0HHHH0000000000000002",
            format!("+{ADA}").parse().unwrap(),
            "by number",
        ))
        .await
        .unwrap();
    assert!(acked(&ok.outcome));
    // A number goes out in the phone-number namespace: the account is not LID-migrated.
    let stanza = binary::decode(&ok.prepared.stanza).unwrap();
    assert_eq!(
        stanza.attr("to").map(|j| j.to_string()),
        Some(format!("{ADA}@s.whatsapp.net"))
    );
    let devices = enc_types(&ok.prepared.stanza);
    assert!(!devices.is_empty());
    assert!(
        devices
            .iter()
            .all(|(jid, _)| jid.ends_with("@s.whatsapp.net")),
        "{devices:?}"
    );
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_contacts_pkmsg_then_msg_are_read_and_garbage_gets_a_retry_receipt_on_a_live_link() {
    let sim = world(vec![contact(ADA, 0)]);
    let linked = sim.linked_number();
    let mut h = online(sim, "receive").await;
    let me = Chat::Direct(linked.clone());
    let mut texts = Vec::new();
    for body in ["first, a pkmsg", "then a msg"] {
        let id = h.sim.contact_send(ADA, 0, &me, body).unwrap();
        let got = h
            .wait_for(
                "ada's message",
                |e| matches!(e, EngineEvent::Message { id: i, .. } if *i == id),
            )
            .await;
        if let EngineEvent::Message { text, .. } = got {
            texts.push(text);
        }
    }
    assert_eq!(texts, ["first, a pkmsg", "then a msg"]);
    let first_id = h.sim.sent(ADA, 0)[0].id.clone();

    // The same id again from her phone, with bytes that are no Signal message at all.
    let conn = linked_conn(&h.sim);
    let garbage = wa_core::binary::Node::new("message")
        .with_attr("from", Jid::new(ADA, Server::Pn))
        .with_attr("id", first_id.clone())
        .with_attr("t", "1764000000")
        .with_attr("type", "text")
        .with_children(vec![wa_core::binary::Node::new("enc")
            .with_attr("v", "2")
            .with_attr("type", "msg")
            .with_bytes(vec![0x33, 0xde, 0xad, 0xbe, 0xef])]);
    assert!(h.sim.send_stanza(conn, garbage));
    settle().await;
    let log = h.sim.sent(ADA, 0);
    let entry = log.iter().find(|s| s.id == first_id).unwrap();
    assert!(
        !entry.retries.is_empty(),
        "no retry receipt reached her phone: {entry:?}"
    );
    // The link is still the same one, and still works both ways.
    assert!(matches!(
        h.state(),
        wa_client::ConnectionState::Online { .. }
    ));
    assert!(h.sim.state().connections.iter().any(|c| c.id == conn));
    let sent = h
        .engine
        .send(text("3EB0IIII0000000000000001", user(ADA), "still here"))
        .await
        .unwrap();
    assert!(acked(&sent.outcome));
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_device_added_after_prepare_gets_its_own_encryption_and_the_others_the_same_bytes() {
    let sim = world(vec![contact(ADA, 1)]);
    let h = online(sim, "repair").await;
    let prepared = h
        .engine
        .prepare(text("3EB0JJJJ0000000000000001", user(ADA), "late joiner"))
        .await
        .unwrap();
    let before = enc_types(&prepared.stanza);
    let added = h.sim.add_device(ADA).unwrap();
    settle().await;
    let outcome = h
        .engine
        .transmit(&prepared.id, &prepared.stanza)
        .await
        .unwrap();
    assert!(acked(&outcome), "{outcome:?}");
    settle().await;
    for device in [0, 1, added] {
        let (shown, refused, texts) = seen(&h.sim, ADA, device, &prepared.id);
        assert_eq!((shown, refused), (1, 0), "device {device}");
        assert_eq!(texts, ["late joiner"]);
    }
    // Sent again (an in-doubt settle): every device, the new one too, refuses the copy.
    let again = h
        .engine
        .transmit(&prepared.id, &prepared.stanza)
        .await
        .unwrap();
    assert!(acked(&again));
    settle().await;
    for device in [0, 1, added] {
        let (shown, refused, _) = seen(&h.sim, ADA, device, &prepared.id);
        assert_eq!((shown, refused), (1, 1), "device {device}");
    }
    // Prepared for her two devices and our phone; the repair added the third of hers.
    assert_eq!(before.len(), 3);
    h.engine.shutdown().await;
}
