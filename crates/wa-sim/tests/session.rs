//! After login: pings, prekeys, passive/active, presence, remove-companion-device, ack
//! enforcement and every fault, with the raw client and a paused clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use rand_core::OsRng;
use support::*;
use tokio::time::Instant;
use wa_core::binary::{Jid, Node, Server};
use wa_core::disconnect::parse::stream_error;
use wa_core::disconnect::StreamError;
use wa_core::signal::{xeddsa, KeyPair, DJB_TYPE};
use wa_sim::{KickKind, Simulator};

async fn online(sim: &Simulator) -> (Keys, Jid, RawClient) {
    let (keys, jid) = pair(sim).await;
    let (client, success) = login_client(sim, &keys, &jid).await;
    assert_eq!(success.tag, "success");
    (keys, jid, client)
}

fn upload(keys: &Keys, ids: &[u32], sign_with: &KeyPair) -> Node {
    let spk = KeyPair::generate(&mut OsRng);
    let sig = xeddsa::sign_with_rng(
        &sign_with.private,
        &[&[DJB_TYPE][..], spk.public.as_bytes()].concat(),
        &mut OsRng,
    );
    let list = ids
        .iter()
        .map(|id| {
            Node::new("key").with_children(vec![
                Node::new("id").with_bytes(id.to_be_bytes()[1..].to_vec()),
                Node::new("value")
                    .with_bytes(KeyPair::generate(&mut OsRng).public.as_bytes().to_vec()),
            ])
        })
        .collect();
    iq(
        "up",
        "set",
        "encrypt",
        vec![
            Node::new("registration").with_bytes(keys.registration_id.to_be_bytes().to_vec()),
            Node::new("type").with_bytes(vec![DJB_TYPE]),
            Node::new("identity").with_bytes(keys.identity.public.as_bytes().to_vec()),
            Node::new("list").with_children(list),
            Node::new("skey").with_children(vec![
                Node::new("id").with_bytes(vec![0, 0, 2]),
                Node::new("value").with_bytes(spk.public.as_bytes().to_vec()),
                Node::new("signature").with_bytes(sig.to_vec()),
            ]),
        ],
    )
}

async fn count(client: &mut RawClient) -> String {
    client
        .send_node(&iq("c", "get", "encrypt", vec![Node::new("count")]))
        .await;
    let reply = client.recv().await;
    reply
        .child("count")
        .and_then(|c| c.attr_str("value"))
        .unwrap_or("")
        .to_owned()
}

#[tokio::test(start_paused = true)]
async fn pings_with_and_without_a_child_are_answered_and_counted() {
    let sim = sim();
    let (_keys, _jid, mut client) = online(&sim).await;
    client.send_node(&iq("p1", "get", "w:p", vec![])).await;
    let pong = client.recv().await;
    assert_eq!(
        (pong.attr_str("id"), pong.attr_str("type")),
        (Some("p1"), Some("result"))
    );
    assert!(pong.attr_str("t").is_some());
    client
        .send_node(&iq("p2", "get", "w:p", vec![Node::new("ping")]))
        .await;
    assert_eq!(client.recv().await.attr_str("id"), Some("p2"));
    let state = sim.state();
    assert_eq!(state.connections[0].pings, 2);
    assert!(state.connections[0].last_ping_at_ms.is_some());
    assert_eq!(state.counters.pings, 2);
}

#[tokio::test(start_paused = true)]
async fn prekey_uploads_are_checked_and_ids_never_reused() {
    let sim = sim();
    let (keys, _jid, mut client) = online(&sim).await;
    assert_eq!(count(&mut client).await, "0");
    client
        .send_node(&upload(&keys, &[1, 2, 3], &keys.identity))
        .await;
    assert_eq!(client.recv().await.attr_str("type"), Some("result"));
    assert_eq!(count(&mut client).await, "3");
    // An id uploaded before, a bad signature, a duplicate in one upload: all refused.
    for bad in [
        upload(&keys, &[3, 4], &keys.identity),
        upload(&keys, &[10], &KeyPair::generate(&mut OsRng)),
        upload(&keys, &[11, 11], &keys.identity),
        upload(&keys, &[], &keys.identity),
    ] {
        client.send_node(&bad).await;
        let reply = client.recv().await;
        assert_eq!(reply.attr_str("type"), Some("error"), "{reply}");
    }
    assert_eq!(count(&mut client).await, "3");
    client
        .send_node(&iq("d", "get", "encrypt", vec![Node::new("digest")]))
        .await;
    let digest = client.recv().await;
    let list = digest
        .child("digest")
        .and_then(|d| d.child("list"))
        .expect("digest list");
    assert_eq!(list.children().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn active_ends_offline_delivery_and_presence_is_recorded() {
    let sim = sim();
    let (_keys, _jid, mut client) = online(&sim).await;
    client
        .send_node(&iq("a", "set", "passive", vec![Node::new("active")]))
        .await;
    assert_eq!(client.recv().await.attr_str("type"), Some("result"));
    let ib = client.recv().await;
    assert_eq!(ib.tag, "ib");
    assert_eq!(
        ib.child("offline").and_then(|o| o.attr_str("count")),
        Some("0")
    );
    client
        .send_node(
            &Node::new("presence")
                .with_attr("type", "available")
                .with_attr("name", "Ann"),
        )
        .await;
    client.send_node(&iq("p", "get", "w:p", vec![])).await;
    client.recv().await;
    let info = &sim.state().connections[0];
    assert!(info.active);
    assert_eq!(info.presence.as_deref(), Some("available"));
    client
        .send_node(&iq("u", "get", "nothing-like-this", vec![]))
        .await;
    assert_eq!(client.recv().await.attr_str("type"), Some("error"));
}

#[tokio::test(start_paused = true)]
async fn remove_companion_device_unlinks_and_the_next_login_fails() {
    let sim = sim();
    let (keys, jid, mut client) = online(&sim).await;
    let remove = Node::new("remove-companion-device")
        .with_attr("jid", jid.clone())
        .with_attr("reason", "user_initiated");
    client.send_node(&iq("r", "set", "md", vec![remove])).await;
    assert_eq!(client.recv().await.attr_str("type"), Some("result"));
    let rest = client.until_closed().await;
    assert_eq!(
        stream_error(&rest[0]).expect("stream error"),
        StreamError::DeviceRemoved { code: 401 }
    );
    assert!(sim.devices().is_empty());
    let (_again, failure) = login_client(&sim, &keys, &jid).await;
    assert_eq!(failure.tag, "failure");
    assert_eq!(failure.attr_str("reason"), Some("401"));
}

#[tokio::test(start_paused = true)]
async fn an_unacked_notification_recycles_the_stream_after_the_deadline() {
    let sim = sim();
    let (_keys, _jid, mut client) = online(&sim).await;
    let conn = sim.state().connections[0].id;
    let notification = Node::new("notification")
        .with_attr("id", "n-1")
        .with_attr("from", Jid::server_jid(Server::Pn))
        .with_attr("type", "test")
        .with_attr("t", "1");
    let start = Instant::now();
    assert!(sim.send_stanza(conn, notification));
    assert_eq!(client.recv().await.attr_str("id"), Some("n-1"));
    let rest = client.until_closed().await;
    let elapsed = start.elapsed();
    assert_eq!(
        stream_error(&rest[0]).expect("stream error"),
        StreamError::AckOwed {
            id: Some("n-1".into()),
            class: Some("notification".into())
        }
    );
    assert!(elapsed >= Duration::from_secs(10), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(11), "{elapsed:?}");
    assert_eq!(sim.state().counters.acks_missed, 1);
}

#[tokio::test(start_paused = true)]
async fn a_timely_ack_keeps_the_stream_and_a_wrong_one_does_not_count() {
    let sim = sim();
    let (_keys, _jid, mut client) = online(&sim).await;
    let conn = sim.state().connections[0].id;
    let server = Jid::server_jid(Server::Pn);
    for (id, ack_to) in [("n-1", Some(server.clone())), ("n-2", None)] {
        let n = Node::new("receipt")
            .with_attr("id", id)
            .with_attr("from", server.clone());
        sim.send_stanza(conn, n);
        client.recv().await;
        let mut ack = Node::new("ack")
            .with_attr("id", id)
            .with_attr("class", "receipt");
        if let Some(to) = ack_to {
            ack = ack.with_attr("to", to);
        }
        client.send_node(&ack).await;
    }
    tokio::time::advance(Duration::from_secs(5)).await;
    client.send_node(&iq("p", "get", "w:p", vec![])).await;
    assert_eq!(client.recv().await.attr_str("id"), Some("p"));
    assert_eq!(
        sim.state().connections[0].acks_owed,
        1,
        "the ack without `to` settles nothing"
    );
    let rest = client.until_closed().await;
    assert!(rest[0].child("ack").is_some());
}

#[tokio::test(start_paused = true)]
async fn every_kick_kind_sends_its_stream_error() {
    let sim = sim();
    let (keys, jid) = pair(&sim).await;
    for (kind, expected) in [
        (KickKind::RestartRequired, StreamError::RestartRequired),
        (
            KickKind::ServiceUnavailable,
            StreamError::ServiceUnavailable,
        ),
        (KickKind::Replaced, StreamError::Replaced { code: None }),
        (KickKind::XmlNotWellFormed, StreamError::XmlNotWellFormed),
        (
            KickKind::Ack,
            StreamError::AckOwed {
                id: Some("sim-kick".into()),
                class: Some("message".into()),
            },
        ),
        (
            KickKind::DeviceRemoved,
            StreamError::DeviceRemoved { code: 401 },
        ),
    ] {
        let (mut client, _) = login_client(&sim, &keys, &jid).await;
        assert_eq!(sim.kick(kind, None), 1);
        let nodes = client.until_closed().await;
        assert_eq!(stream_error(&nodes[0]).expect("stream error"), expected);
    }
    assert!(
        sim.devices().is_empty(),
        "device_removed unlinks the device"
    );
}

#[tokio::test(start_paused = true)]
async fn stall_answers_nothing_until_unstalled_and_drop_closes_silently() {
    let sim = sim();
    let (_keys, _jid, mut client) = online(&sim).await;
    sim.stall();
    client.send_node(&iq("p", "get", "w:p", vec![])).await;
    let waited = tokio::time::timeout(Duration::from_secs(20), client.recv_frame()).await;
    assert!(waited.is_err(), "no answer while stalled");
    assert_eq!(sim.state().connections.len(), 1, "socket stays open");
    sim.unstall();
    assert_eq!(client.recv().await.attr_str("id"), Some("p"));
    assert_eq!(sim.drop_connections(None), 1);
    assert!(
        client.until_closed().await.is_empty(),
        "no stream error on drop"
    );
}

#[tokio::test(start_paused = true)]
async fn delay_holds_every_reply_back() {
    let sim = sim();
    let (_keys, _jid, mut client) = online(&sim).await;
    sim.set_delay(Duration::from_millis(1500));
    let start = Instant::now();
    client.send_node(&iq("p", "get", "w:p", vec![])).await;
    assert_eq!(client.recv().await.attr_str("id"), Some("p"));
    assert!(start.elapsed() >= Duration::from_millis(1500));
}

#[tokio::test(start_paused = true)]
async fn iqs_before_pairing_finished_are_not_authorized_but_pings_are_answered() {
    let sim = sim();
    let keys = Keys::generate();
    let (mut client, _pd) = register(&sim, &keys).await;
    client
        .send_node(&iq("p", "get", "w:p", vec![Node::new("ping")]))
        .await;
    assert_eq!(client.recv().await.attr_str("type"), Some("result"));
    client
        .send_node(&iq("c", "get", "encrypt", vec![Node::new("count")]))
        .await;
    let reply = client.recv().await;
    assert_eq!(reply.attr_str("type"), Some("error"));
    assert_eq!(
        reply.child("error").and_then(|e| e.attr_str("code")),
        Some("401")
    );
}
