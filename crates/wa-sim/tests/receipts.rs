//! Receipts and the other direction, with the raw wa-core messaging client: retry receipts on
//! demand (with `<keys>` from the second on) and the resends they ask for, read receipts, a
//! contact sending to the linked account, and offline delivery in order after a login.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::peer::{pn, text_message, Peer};
use support::world::{contact, fanout, shown, world};
use support::*;
use wa_core::binary::{Jid, Node, Server};
use wa_sim::Chat;

const ADA: &str = "15551110001";

#[tokio::test(start_paused = true)]
async fn a_device_told_to_fail_sends_a_retry_receipt_and_takes_the_resend() {
    let sim = world(vec![contact(ADA, 0)]);
    let mut peer = Peer::online(&sim, None).await;
    let to = pn(ADA);
    let devices = fanout(&mut peer, &to).await;
    sim.fail_decrypt(ADA, 0, 1).unwrap();
    let stanza = peer.direct("3EB0DD01", &to, &devices, "retry me").await;
    assert_eq!(peer.send_for_ack(&stanza).await.attr_str("error"), None);
    let retry = loop {
        let r = peer.next("receipt").await;
        peer.ack(&r).await;
        if r.attr_str("type") == Some("retry") {
            break r;
        }
    };
    assert_eq!(
        retry.attr("from").unwrap().to_string(),
        format!("{ADA}@s.whatsapp.net")
    );
    let inner = retry.child("retry").unwrap();
    assert_eq!(
        (inner.attr_str("count"), inner.attr_str("id")),
        (Some("1"), Some("3EB0DD01"))
    );
    assert_eq!(
        retry
            .child("registration")
            .and_then(Node::bytes)
            .map(<[u8]>::len),
        Some(4)
    );
    assert_eq!(shown(&sim, ADA, 0, "3EB0DD01").0, 0);

    // The resend: that device only, a bare <enc count=1>, same id.
    let enc = peer
        .encrypt(&Jid::new(ADA, Server::Pn), &text_message("retry me"))
        .await;
    let resend = Node::new("message")
        .with_attr("id", "3EB0DD01")
        .with_attr("to", Jid::new(ADA, Server::Pn))
        .with_attr("type", "text")
        .with_attr("device_fanout", "false")
        .with_children(vec![
            enc.with_attr("count", "1"),
            // Still a pkmsg (Ada has not answered), so with the device identity.
            Node::new("device-identity").with_bytes(peer.device_identity.clone()),
        ]);
    let ack = peer.send_for_ack(&resend).await;
    assert_eq!(ack.attr_str("error"), None, "{:?}", sim.messages().refused);
    assert_eq!(
        shown(&sim, ADA, 0, "3EB0DD01"),
        (1, 0, vec!["retry me".into()])
    );
}

#[tokio::test(start_paused = true)]
async fn read_receipts_come_back_when_the_contact_reads() {
    let sim = world(vec![contact(ADA, 0)]);
    let mut peer = Peer::online(&sim, None).await;
    let to = pn(ADA);
    let devices = fanout(&mut peer, &to).await;
    let stanza = peer.direct("3EB0EE01", &to, &devices, "read me").await;
    assert_eq!(peer.send_for_ack(&stanza).await.attr_str("error"), None);
    assert_eq!(sim.read(ADA, 0, None), vec!["3EB0EE01".to_owned()]);
    assert!(sim.read(ADA, 0, None).is_empty(), "read once");
    let read = loop {
        let r = peer.next("receipt").await;
        peer.ack(&r).await;
        if r.attr_str("type") == Some("read") {
            break r;
        }
    };
    assert_eq!(read.attr_str("id"), Some("3EB0EE01"));
    assert_eq!(
        read.attr("from").unwrap().to_string(),
        format!("{ADA}@s.whatsapp.net")
    );
}

#[tokio::test(start_paused = true)]
async fn a_contact_sends_to_the_linked_account_and_sees_the_receipts() {
    let sim = world(vec![contact(ADA, 0)]);
    let mut peer = Peer::online(&sim, None).await;
    let id = sim
        .contact_send(ADA, 0, &Chat::Direct(sim.linked_number()), "hi from Ada")
        .unwrap();
    let message = peer.next("message").await;
    assert_eq!(message.attr_str("id"), Some(id.as_str()));
    let from = message.attr("from").unwrap().to_string();
    assert_eq!(from, format!("{ADA}@s.whatsapp.net"));
    let enc = message.child("enc").unwrap();
    assert_eq!(enc.attr_str("type"), Some("pkmsg"));
    let plain = peer.decrypt(&from, enc);
    assert_eq!(plain.conversation.as_deref(), Some("hi from Ada"));
    // The linked account's phone got it too.
    assert_eq!(shown(&sim, &sim.linked_number(), 0, &id).0, 1);
    peer.receipt(&message, None).await;
    peer.receipt(&message, Some("read")).await;
    // A ping round trip makes sure the receipts were handled.
    let _ = peer.query(iq("p", "get", "w:p", vec![])).await;
    let sent = sim.sent(ADA, 0);
    let me = peer.jid.to_string();
    assert!(sent[0].delivered.contains(&me), "{sent:?}");
    assert!(sent[0].read.contains(&me), "{sent:?}");
}

#[tokio::test(start_paused = true)]
async fn what_arrives_while_offline_is_delivered_in_order_after_login() {
    let sim = world(vec![contact(ADA, 0)]);
    let mut peer = Peer::online(&sim, None).await;
    let jid = peer.jid.to_string();
    peer.client.close();
    while sim
        .state()
        .connections
        .iter()
        .any(|c| c.device.as_deref() == Some(&jid))
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let me = sim.linked_number();
    let ids: Vec<String> = (1..=3)
        .map(|n| {
            sim.contact_send(ADA, 0, &Chat::Direct(me.clone()), &format!("n{n}"))
                .unwrap()
        })
        .collect();
    let queued = sim.messages().offline_queued;
    assert_eq!(
        queued,
        vec![wa_sim::Queued {
            device: jid.clone(),
            count: 3
        }]
    );
    let mut peer = peer.reconnect(&sim).await;
    let queued = peer.go_active().await;
    let got: Vec<&str> = queued.iter().map(|n| n.attr_str("id").unwrap()).collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let mut texts = Vec::new();
    for message in &queued {
        assert_eq!(message.attr_str("offline"), Some("1"));
        let from = message.attr("from").unwrap().to_string();
        texts.push(
            peer.decrypt(&from, message.child("enc").unwrap())
                .conversation
                .unwrap(),
        );
        peer.receipt(message, None).await;
    }
    assert_eq!(texts, ["n1", "n2", "n3"]);
    assert!(sim.messages().offline_queued.is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_second_retry_receipt_carries_keys_for_a_new_session() {
    use wa_core::signal::{PreKeyBundle, PublicKey, SessionRecord};
    let sim = world(vec![contact(ADA, 0)]);
    let mut peer = Peer::online(&sim, None).await;
    let to = pn(ADA);
    let devices = fanout(&mut peer, &to).await;
    sim.fail_decrypt(ADA, 0, 2).unwrap();
    let stanza = peer.direct("3EB0KK01", &to, &devices, "third time").await;
    assert_eq!(peer.send_for_ack(&stanza).await.attr_str("error"), None);
    let mut retries = Vec::new();
    for attempt in 1..=2 {
        let retry = loop {
            let r = peer.next("receipt").await;
            peer.ack(&r).await;
            if r.attr_str("type") == Some("retry") {
                break r;
            }
        };
        let count = retry
            .child("retry")
            .unwrap()
            .attr_str("count")
            .unwrap()
            .to_owned();
        assert_eq!(count, attempt.to_string());
        retries.push(retry.clone());
        if attempt == 2 {
            break;
        }
        let enc = peer.encrypt(&to, &text_message("third time")).await;
        let resend = Node::new("message")
            .with_attr("id", "3EB0KK01")
            .with_attr("to", to.clone())
            .with_attr("type", "text")
            .with_attr("device_fanout", "false")
            .with_children(vec![
                enc.with_attr("count", count),
                Node::new("device-identity").with_bytes(peer.device_identity.clone()),
            ]);
        assert_eq!(peer.send_for_ack(&resend).await.attr_str("error"), None);
    }
    assert!(
        retries[0].child("keys").is_none(),
        "no keys on the first retry"
    );
    let keys = retries[1].child("keys").expect("keys on the second");
    let b = |n: &Node, t: &str| n.child(t).and_then(Node::bytes).unwrap().to_vec();
    let id3 = |n: &Node| {
        let v = b(n, "id");
        u32::from_be_bytes([0, v[0], v[1], v[2]])
    };
    let skey = keys.child("skey").unwrap();
    let key = keys.child("key").unwrap();
    let bundle = PreKeyBundle {
        registration_id: u32::from_be_bytes(b(&retries[1], "registration").try_into().unwrap()),
        identity_key: PublicKey::from_slice(&b(keys, "identity")).unwrap(),
        signed_pre_key_id: id3(skey),
        signed_pre_key: PublicKey::from_slice(&b(skey, "value")).unwrap(),
        signed_pre_key_signature: b(skey, "signature").try_into().unwrap(),
        pre_key: Some((id3(key), PublicKey::from_slice(&b(key, "value")).unwrap())),
    };
    let session = SessionRecord::new()
        .initiate(&peer.local, &bundle, None, &mut rand_core::OsRng)
        .expect("the receipt's keys verify");
    peer.sessions.insert(to.to_string(), session);
    let enc = peer.encrypt(&to, &text_message("third time")).await;
    assert_eq!(enc.attr_str("type"), Some("pkmsg"));
    let resend = Node::new("message")
        .with_attr("id", "3EB0KK01")
        .with_attr("to", to.clone())
        .with_attr("type", "text")
        .with_attr("device_fanout", "false")
        .with_children(vec![
            enc.with_attr("count", "2"),
            Node::new("device-identity").with_bytes(peer.device_identity.clone()),
        ]);
    assert_eq!(peer.send_for_ack(&resend).await.attr_str("error"), None);
    let seen = sim
        .received(ADA, 0)
        .into_iter()
        .find(|s| s.id == "3EB0KK01")
        .unwrap();
    assert_eq!((seen.shown, seen.failed), (1, 2));
}
