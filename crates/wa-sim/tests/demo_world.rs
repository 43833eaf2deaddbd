//! Demo mode's world: named contacts and a group whose phones confirm at once, read after a
//! human-like delay and now and then reply.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::peer::{pn, Peer};
use support::*;
use wa_sim::SimConfig;

#[tokio::test(start_paused = true)]
async fn a_demo_contact_confirms_at_once_reads_later_and_replies() {
    let sim = sim_with(SimConfig::default().demo_world(Duration::from_secs(3)));
    let names: Vec<String> = sim.contacts().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["Me", "Ada", "Grace", "Linus"]);
    let groups = sim.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].participants.len(), 4, "the three contacts and us");

    let mut peer = Peer::online(&sim, None).await;
    let ada = pn("4915123456789");
    let me = pn(&sim.linked_number());
    for (n, id) in ["3EB0DE01", "3EB0DE02"].into_iter().enumerate() {
        let mut devices: Vec<_> = peer
            .devices(&[ada.clone(), me.clone()])
            .await
            .into_iter()
            .map(|(j, _)| j)
            .collect();
        devices.retain(|j| *j != peer.jid);
        let stanza = peer
            .direct(id, &ada, &devices, &format!("message {n}"))
            .await;
        let sent_at = tokio::time::Instant::now();
        assert_eq!(peer.send_for_ack(&stanza).await.attr_str("error"), None);
        // Delivered at once, read after the delay.
        let mut delivered = false;
        loop {
            let r = peer.next("receipt").await;
            peer.ack(&r).await;
            if r.attr("from").unwrap().to_string() != ada.to_string() {
                continue;
            }
            match r.attr_str("type") {
                None => {
                    assert!(sent_at.elapsed() < Duration::from_secs(1));
                    delivered = true;
                }
                Some("read") => {
                    assert!(delivered);
                    assert!(sent_at.elapsed() >= Duration::from_secs(3));
                    break;
                }
                Some(_) => {}
            }
        }
    }
    // Ada answers every second message.
    let reply = peer.next("message").await;
    assert_eq!(reply.attr("from").unwrap().to_string(), ada.to_string());
    let from = reply.attr("from").unwrap().to_string();
    let text = peer
        .decrypt(&from, reply.child("enc").unwrap())
        .conversation;
    assert_eq!(text.as_deref(), Some("Thanks!"));
}
