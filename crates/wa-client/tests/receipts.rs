//! Receipts for what we sent, recorded in batches and acked only once recorded: a group's
//! burst of delivery receipts all reach the caller as events, each is acked in time (the
//! server recycles a stream whose stanzas go unacked), and a retry receipt, which is not
//! batched, is still answered. Against wa-sim, with tokio's clock paused.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::chat::*;
use wa_client::{EngineEvent, ReceiptKind, Recipient};
use wa_core::binary::{Jid, Server};
use wa_sim::Addressing;

#[tokio::test(start_paused = true)]
async fn a_groups_burst_of_delivery_receipts_is_recorded_acked_and_published() {
    let members: Vec<String> = (1..=20).map(|i| format!("155511400{i:02}")).collect();
    let sim = world(members.iter().map(|m| contact(m, 0)).collect());
    let mut h = online(sim, "receipt-batch").await;
    let mut participants = members.clone();
    participants.push(h.sim.linked_number());
    let group = h
        .sim
        .create_group("Twenty", &participants, Addressing::Pn)
        .unwrap();
    let conn = linked_conn(&h.sim);
    let missed = h.sim.state().counters.acks_missed;

    let sent = h
        .engine
        .send(text(
            "3EB0RB00000000000000001",
            Recipient::Group(Jid::new(group, Server::Group)),
            "all at once",
        ))
        .await
        .unwrap();
    assert!(acked(&sent.outcome), "{:?}", sent.outcome);
    // One delivery receipt from every member's phone, each published once.
    let mut from = BTreeSet::new();
    while from.len() < members.len() {
        let event = h
            .wait_for("a delivery receipt", |e| {
                matches!(
                    e,
                    EngineEvent::Receipt {
                        kind: ReceiptKind::Delivered,
                        ..
                    }
                )
            })
            .await;
        if let EngineEvent::Receipt { ids, device, .. } = event {
            assert_eq!(ids, std::slice::from_ref(&sent.prepared.id));
            assert!(from.insert(device.clone()), "{device} published twice");
        }
    }

    // Well past the server's ack deadline: every receipt was acked, the stream is the same.
    tokio::time::sleep(Duration::from_secs(30)).await;
    let state = h.sim.state();
    assert_eq!(state.counters.acks_missed, missed);
    assert!(state.connections.iter().any(|c| c.id == conn));

    // A retry receipt among the delivery receipts is answered for that member alone.
    h.sim.fail_decrypt(&members[0], 0, 1).unwrap();
    let next = h
        .engine
        .send(text(
            "3EB0RB00000000000000002",
            Recipient::Group(Jid::new(h.sim.groups()[0].id.clone(), Server::Group)),
            "second",
        ))
        .await
        .unwrap();
    assert!(acked(&next.outcome));
    settle().await;
    // The failing member asked again and got it; the others showed it once.
    assert_eq!(seen(&h.sim, &members[0], 0, &next.prepared.id).0, 1);
    for m in &members[1..] {
        assert_eq!(seen(&h.sim, m, 0, &next.prepared.id).0, 1, "{m}");
    }
    assert_eq!(seen(&h.sim, &members[0], 0, &sent.prepared.id).0, 1);
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_same_bytes_twice_in_a_row_show_once_and_the_copys_retry_is_refused() {
    // Baileys answers a byte-identical copy with a retry receipt; it comes right after the
    // same device's delivery receipt, which must be recorded before the retry is decided
    // (the batcher is flushed first; under tokio's paused clock the batch has usually been
    // committed by then anyway, so this guards the outcome rather than the race).
    let sim = world(vec![wa_sim::ContactSpec {
        duplicates: wa_sim::DuplicateBehaviour::Retry,
        ..contact(ADA, 0)
    }]);
    let h = online(sim, "receipt-flush").await;
    let prepared = h
        .engine
        .prepare(text("3EB0RB00000000000000003", user(ADA), "only once"))
        .await
        .unwrap();
    for _ in 0..2 {
        let outcome = h
            .engine
            .transmit(&prepared.id, &prepared.stanza)
            .await
            .unwrap();
        assert!(acked(&outcome), "{outcome:?}");
    }
    settle().await;
    let (shown, refused, _) = seen(&h.sim, ADA, 0, &prepared.id);
    assert_eq!(
        (shown, refused),
        (1, 1),
        "shown once, the copy refused, no resend"
    );
    h.engine.shutdown().await;
}
