//! Bundles the server hands out that are not the usual ones: a device with no one-time prekey
//! left, and a device whose bundle carries a broken signed-prekey signature. Against wa-sim's
//! world, with tokio's clock paused.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use support::chat::*;
use wa_client::store::Store;
use wa_client::{EngineEvent, SkipReason};
use wa_core::binary::{self, Jid, Server};
use wa_core::signal::{PreKeySignalMessage, SignalError};
use wa_sim::Chat;

/// The `<enc>` bytes of one `<to jid>` in a committed stanza.
fn enc_bytes(stanza: &[u8], jid: &str) -> Option<Vec<u8>> {
    let node = binary::decode(stanza).unwrap();
    node.child("participants")?
        .children()
        .iter()
        .find(|to| to.attr("jid").map(|j| j.to_string()).as_deref() == Some(jid))
        .and_then(|to| to.child("enc"))
        .and_then(|enc| enc.bytes().map(<[u8]>::to_vec))
}

fn device(pn: &str, device: u16) -> String {
    Jid::with_device(pn, device, Server::Pn).to_string()
}

#[tokio::test(start_paused = true)]
async fn with_no_one_time_prekey_left_the_signed_prekey_alone_starts_the_session() {
    let sim = world(vec![contact(ADA, 1)]);
    let linked = sim.linked_number();
    let mut h = online(sim, "nopk").await;
    assert!(h.sim.drain_pre_keys(ADA, 1).unwrap() > 0);

    let first = h
        .engine
        .send(text("3EB0PK00000000000000001", user(ADA), "signed only"))
        .await
        .unwrap();
    assert!(acked(&first.outcome), "{:?}", first.outcome);
    let drained = enc_bytes(&first.prepared.stanza, &device(ADA, 1)).unwrap();
    let pkmsg = PreKeySignalMessage::parse(&drained).unwrap();
    assert_eq!(
        pkmsg.pre_key_id, None,
        "no one-time prekey was there to use"
    );
    // Her phone still had one-time prekeys: that pkmsg names one.
    let phone = enc_bytes(&first.prepared.stanza, &device(ADA, 0)).unwrap();
    assert!(PreKeySignalMessage::parse(&phone)
        .unwrap()
        .pre_key_id
        .is_some());
    settle().await;
    assert_eq!(
        seen(&h.sim, ADA, 1, &first.prepared.id),
        (1, 0, vec!["signed only".into()])
    );

    // Later messages flow on that session, both ways.
    let second = h
        .engine
        .send(text("3EB0PK00000000000000002", user(ADA), "still pkmsg"))
        .await
        .unwrap();
    assert!(acked(&second.outcome));
    let reply = h
        .sim
        .contact_send(ADA, 1, &Chat::Direct(linked), "answered")
        .unwrap();
    h.wait_for(
        "her companion's reply",
        |e| matches!(e, EngineEvent::Message { id, text, .. } if *id == reply && text == "answered"),
    )
    .await;
    let third = h
        .engine
        .send(text("3EB0PK00000000000000003", user(ADA), "now msg"))
        .await
        .unwrap();
    assert!(acked(&third.outcome));
    let types = enc_types(&third.prepared.stanza);
    let kind = types
        .iter()
        .find(|(jid, _)| *jid == device(ADA, 1))
        .unwrap();
    assert_eq!(kind.1, "msg", "{types:?}");
    settle().await;
    for (id, body) in [
        (&second.prepared.id, "still pkmsg"),
        (&third.prepared.id, "now msg"),
    ] {
        assert_eq!(seen(&h.sim, ADA, 1, id), (1, 0, vec![body.to_owned()]));
    }
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_bad_signed_prekey_signature_is_refused_for_that_device_only() {
    let sim = world(vec![contact(ADA, 2)]);
    let linked = sim.linked_number();
    let h = online(sim, "badsig").await;
    let extra = h.sim.add_device(&linked).unwrap();
    settle().await;
    h.sim.break_bundle_signature(ADA, 2, true).unwrap();

    let sent = h
        .engine
        .send(text("3EB0BS00000000000000001", user(ADA), "not for two"))
        .await
        .unwrap();
    assert!(acked(&sent.outcome), "{:?}", sent.outcome);
    // The refusal is reported, typed, for that device alone.
    let skipped = &sent.prepared.skipped;
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].device.to_string(), device(ADA, 2));
    assert!(
        matches!(
            skipped[0].reason,
            SkipReason::Signal(SignalError::BadSignature(_))
        ),
        "{:?}",
        skipped[0].reason
    );
    let named: Vec<String> = enc_types(&sent.prepared.stanza)
        .into_iter()
        .map(|(jid, _)| jid)
        .collect();
    assert_eq!(named.len(), 4, "{named:?}");
    assert!(!named.contains(&device(ADA, 2)));
    settle().await;
    for d in [0, 1] {
        assert_eq!(seen(&h.sim, ADA, d, &sent.prepared.id).0, 1, "ada {d}");
    }
    assert_eq!(seen(&h.sim, ADA, 2, &sent.prepared.id).0, 0);
    for d in [0, extra] {
        assert_eq!(seen(&h.sim, &linked, d, &sent.prepared.id).0, 1, "own {d}");
    }
    // The relay accepted the message without that device and said nothing was wrong with it.
    assert!(h.sim.messages().refused.is_empty());

    // The bundle is fixed: the next send reaches that device too, with a pkmsg of its own.
    h.sim.break_bundle_signature(ADA, 2, false).unwrap();
    let next = h
        .engine
        .send(text("3EB0BS00000000000000002", user(ADA), "for everyone"))
        .await
        .unwrap();
    assert!(acked(&next.outcome), "{:?}", next.outcome);
    assert!(
        next.prepared.skipped.is_empty(),
        "{:?}",
        next.prepared.skipped
    );
    settle().await;
    for d in [0, 1, 2] {
        assert_eq!(
            seen(&h.sim, ADA, d, &next.prepared.id),
            (1, 0, vec!["for everyone".into()]),
            "ada {d}"
        );
    }
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn no_session_is_stored_for_a_device_whose_bundle_was_refused() {
    let sim = world(vec![contact(ADA, 1)]);
    let h = online(sim, "badsig-store").await;
    h.sim.break_bundle_signature(ADA, 1, true).unwrap();
    let sent = h
        .engine
        .send(text("3EB0BS00000000000000003", user(ADA), "phone only"))
        .await
        .unwrap();
    assert!(acked(&sent.outcome), "{:?}", sent.outcome);
    assert_eq!(sent.prepared.skipped.len(), 1);
    let dir = h.dir.clone();
    h.engine.shutdown().await;
    let mut store = Store::open(&dir).unwrap();
    let (phone, companion) = store
        .signal_transaction(0, |tx| {
            Ok::<_, wa_client::store::SignalStoreError>((
                tx.session(&format!("{ADA}:0@s.whatsapp.net"))?,
                tx.session(&format!("{ADA}:1@s.whatsapp.net"))?,
            ))
        })
        .unwrap();
    assert!(phone.is_some(), "the phone's session is stored");
    assert!(companion.is_none(), "no session from the refused bundle");
}
