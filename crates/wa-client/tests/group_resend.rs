//! A group message resent after the group's members changed: the devices that had it get the
//! identical bytes, a member added since gets the sender key the stored skmsg was made under,
//! a member removed since gets nothing. Against wa-sim's world, with tokio's clock paused.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use support::chat::*;
use support::*;
use wa_client::{Outcome, Recipient};
use wa_core::binary::{Jid, Server};
use wa_sim::Addressing;

const MEMBERS: [&str; 3] = ["15551130001", "15551130002", "15551130003"];
const NEWCOMER: &str = "15551130004";

fn group_jid(id: &str) -> Jid {
    if id.contains('@') {
        id.parse().unwrap()
    } else {
        Jid::new(id, Server::Group)
    }
}

#[tokio::test(start_paused = true)]
async fn an_in_doubt_group_message_resent_after_one_left_and_one_joined() {
    let mut contacts: Vec<_> = MEMBERS.iter().map(|m| contact(m, 1)).collect();
    contacts.push(contact(NEWCOMER, 1));
    let sim = world(contacts);
    let mut h = Harness::start_with(sim, tempdir("group-resend"), |c| {
        c.iq_timeout = Duration::from_secs(10);
    });
    h.pair().await;
    let mut participants: Vec<String> = MEMBERS.iter().map(|m| m.to_string()).collect();
    participants.push(h.sim.linked_number());
    let group = h
        .sim
        .create_group("Crew", &participants, Addressing::Pn)
        .unwrap();
    let to = Recipient::Group(group_jid(&group));

    // Relayed at once, answered too late: in doubt, and every member then has it.
    let prepared = h
        .engine
        .prepare(text("3EB0GR00000000000000001", to, "crew call"))
        .await
        .unwrap();
    h.sim.set_delay(Duration::from_secs(120));
    let first = h
        .engine
        .transmit(&prepared.id, &prepared.stanza)
        .await
        .unwrap();
    assert_eq!(first, Outcome::InDoubt);
    h.sim.set_delay(Duration::ZERO);
    h.sim.drop_connections(None);
    h.wait_state("online").await;

    // Meanwhile the third member left and a newcomer joined.
    h.sim.group_remove(&group, MEMBERS[2]).unwrap();
    h.sim.group_add(&group, NEWCOMER).unwrap();
    settle().await;

    // The same bytes again: refused for the old member list, repaired, accepted.
    let again = h
        .engine
        .transmit(&prepared.id, &prepared.stanza)
        .await
        .unwrap();
    assert!(acked(&again), "{again:?}");
    let refusals: Vec<u16> = h
        .sim
        .messages()
        .refused
        .iter()
        .filter(|r| r.id == prepared.id)
        .map(|r| r.code)
        .collect();
    assert_eq!(
        refusals,
        [409],
        "the old bytes were refused once, then repaired"
    );
    settle().await;
    for m in &MEMBERS[..2] {
        for d in 0..2 {
            let (shown, refused, texts) = seen(&h.sim, m, d, &prepared.id);
            assert_eq!(
                (shown, refused),
                (1, 1),
                "{m}:{d} showed it once, refused the copy"
            );
            assert_eq!(texts, ["crew call"]);
        }
    }
    for d in 0..2 {
        // It had the first copy while it was a member; the resend gave it nothing.
        assert_eq!(
            seen(&h.sim, MEMBERS[2], d, &prepared.id),
            (1, 0, vec!["crew call".into()])
        );
        // The newcomer read the stored skmsg with the key it was made under.
        assert_eq!(
            seen(&h.sim, NEWCOMER, d, &prepared.id),
            (1, 0, vec!["crew call".into()]),
            "newcomer {d}"
        );
    }
    assert_eq!(seen(&h.sim, &h.sim.linked_number(), 0, &prepared.id).0, 1);

    // Settling once more sends the repaired bytes: everyone refuses them, nobody shows twice.
    let settled = h
        .engine
        .transmit(&prepared.id, &prepared.stanza)
        .await
        .unwrap();
    assert!(acked(&settled), "{settled:?}");
    settle().await;
    for m in [MEMBERS[0], MEMBERS[1], NEWCOMER] {
        assert_eq!(seen(&h.sim, m, 0, &prepared.id).0, 1, "{m}");
    }
    assert_eq!(seen(&h.sim, MEMBERS[2], 0, &prepared.id).1, 0);

    // The next message is under a new key (a member left), and reaches the members now.
    let next = h
        .engine
        .send(text(
            "3EB0GR00000000000000002",
            Recipient::Group(group_jid(&group)),
            "next",
        ))
        .await
        .unwrap();
    assert!(acked(&next.outcome), "{:?}", next.outcome);
    settle().await;
    for m in [MEMBERS[0], MEMBERS[1], NEWCOMER] {
        for d in 0..2 {
            assert_eq!(seen(&h.sim, m, d, &next.prepared.id).0, 1, "{m}:{d}");
        }
    }
    assert_eq!(seen(&h.sim, MEMBERS[2], 0, &next.prepared.id).0, 0);
    h.engine.shutdown().await;
}
