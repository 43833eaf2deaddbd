//! The phone's history sync after linking (messaging.md §8): answered with `peer_msg` and
//! `hist_sync`, and mined for the LID mappings and privacy tokens a sender needs. Against
//! wa-sim's world, with tokio's clock paused.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use support::chat::*;
use wa_client::store::{SignalStoreError, Store};
use wa_core::binary;
use wa_sim::{ContactSpec, SimConfig, Simulator};

fn synced_world() -> Simulator {
    Simulator::new(SimConfig {
        contacts: vec![
            ContactSpec {
                // Its first message from us needs the token it issued (else ack 463).
                token_required: true,
                ..contact(ADA, 1)
            },
            contact(BOB, 0),
        ],
        history_sync: true,
        ..SimConfig::default()
    })
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_history_sync_is_answered_and_its_token_and_mapping_are_used_by_the_next_send() {
    let sim = synced_world();
    let linked = sim.linked_number();
    let h = online(sim, "histsync").await;
    settle().await;

    // The phone's history message got both receipts.
    let phone_sent = h.sim.sent(&linked, 0);
    assert_eq!(phone_sent.len(), 1, "{phone_sent:?}");
    let acknowledged: Vec<&str> = phone_sent[0]
        .acknowledged
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(acknowledged, ["hist_sync", "peer_msg"]);

    // By number: the mapping from the history says she is on WhatsApp, so no lookup; her
    // token from the history goes with the first message, which she accepts only with it.
    let lookups = h.sim.state().counters.contact_lookups;
    let sent = h
        .engine
        .send(text(
            "3EB0HS00000000000000001",
            format!("+{ADA}").parse().unwrap(),
            "first words",
        ))
        .await
        .unwrap();
    assert!(acked(&sent.outcome), "{:?}", sent.outcome);
    assert_eq!(h.sim.state().counters.contact_lookups, lookups);
    let stanza = binary::decode(&sent.prepared.stanza).unwrap();
    assert!(stanza.child("tctoken").and_then(|t| t.bytes()).is_some());
    settle().await;
    for d in 0..2 {
        assert_eq!(seen(&h.sim, ADA, d, &sent.prepared.id).0, 1, "ada {d}");
    }

    // A number the history did not name is still looked up.
    let unknown = h
        .engine
        .send(text(
            "3EB0HS00000000000000002",
            "+15559990001".parse().unwrap(),
            "anyone?",
        ))
        .await;
    assert!(unknown.is_err());
    assert_eq!(h.sim.state().counters.contact_lookups, lookups + 1);

    // The salt and the other contact's mapping are in the store too.
    let dir = h.dir.clone();
    h.engine.shutdown().await;
    let mut store = Store::open(&dir).unwrap();
    let (salt, bob_lid) = store
        .signal_transaction(0, |tx| {
            Ok::<_, SignalStoreError>((
                tx.nct_salt()?,
                tx.lid_of(&format!("{BOB}@s.whatsapp.net"))?,
            ))
        })
        .unwrap();
    assert_eq!(salt.map(|s| s.len()), Some(32));
    assert!(bob_lid.is_some_and(|l| l.ends_with("@lid")));
}

#[tokio::test(start_paused = true)]
async fn without_the_history_a_contact_that_needs_its_token_refuses_the_first_message() {
    // The control: the same world without history sync.
    let sim = Simulator::new(SimConfig {
        contacts: vec![ContactSpec {
            token_required: true,
            ..contact(ADA, 1)
        }],
        ..SimConfig::default()
    })
    .unwrap();
    let h = online(sim, "nohist").await;
    let sent = h
        .engine
        .send(text("3EB0HS00000000000000003", user(ADA), "first words"))
        .await
        .unwrap();
    assert!(
        matches!(sent.outcome, wa_client::Outcome::Rejected { code: 463, .. }),
        "{:?}",
        sent.outcome
    );
    h.engine.shutdown().await;
}
