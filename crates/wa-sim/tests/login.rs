//! Admission after the handshake: strict ClientPayload checks, the login rules, failures and
//! the handshake itself, with the raw client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::*;
use wa_core::binary::Node;
use wa_core::disconnect::parse::{failure, stream_error};
use wa_core::disconnect::StreamError;
use wa_core::payload::AppVersion;
use wa_core::proto::ClientPayload;
use wa_sim::{FailureSpec, SimConfig, Simulator};

/// Handshakes with `payload` and returns the `<failure>` reason the server answers.
async fn failure_for(
    sim: &Simulator,
    noise: &wa_core::signal::KeyPair,
    payload: &ClientPayload,
) -> u16 {
    let mut client = RawClient::new(sim.connect_in_memory());
    client
        .handshake(noise, &sim.root_public_key().expect("root"), payload)
        .await;
    let nodes = client.until_closed().await;
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    failure(&nodes[0]).expect("a <failure>").reason
}

#[tokio::test(start_paused = true)]
async fn a_bad_build_hash_is_refused() {
    let sim = sim();
    let keys = Keys::generate();
    let mut payload = keys.registration();
    if let Some(data) = payload.device_pairing_data.as_mut() {
        data.build_hash = Some(vec![0; 16]);
    }
    assert_eq!(failure_for(&sim, &keys.noise, &payload).await, 400);
    let outcome = sim.state().past_connections[0].outcome.clone();
    assert!(outcome.contains("buildHash"), "{outcome}");
}

#[tokio::test(start_paused = true)]
async fn a_bad_signed_prekey_signature_is_refused() {
    let sim = sim();
    let keys = Keys::generate();
    let mut payload = keys.registration();
    if let Some(data) = payload.device_pairing_data.as_mut() {
        if let Some(sig) = data.e_skey_sig.as_mut() {
            sig[10] ^= 0x40;
        }
    }
    assert_eq!(failure_for(&sim, &keys.noise, &payload).await, 400);
    let outcome = sim.state().past_connections[0].outcome.clone();
    assert!(outcome.contains("signature"), "{outcome}");
}

#[tokio::test(start_paused = true)]
async fn wrong_key_sizes_are_refused() {
    let sim = sim();
    let keys = Keys::generate();
    let mut payload = keys.registration();
    if let Some(data) = payload.device_pairing_data.as_mut() {
        data.e_ident = Some(vec![5; 33]);
    }
    assert_eq!(failure_for(&sim, &keys.noise, &payload).await, 400);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_device_gets_401() {
    let sim = sim();
    let keys = Keys::generate();
    let jid = "15550000001:7@s.whatsapp.net".parse().expect("jid");
    assert_eq!(failure_for(&sim, &keys.noise, &login(&jid)).await, 401);
    let other_account = "15559999999:1@s.whatsapp.net".parse().expect("jid");
    assert_eq!(
        failure_for(&sim, &keys.noise, &login(&other_account)).await,
        401
    );
}

#[tokio::test(start_paused = true)]
async fn a_paired_device_with_another_noise_key_gets_401() {
    let sim = sim();
    let (_keys, jid) = pair(&sim).await;
    let stranger = Keys::generate();
    assert_eq!(failure_for(&sim, &stranger.noise, &login(&jid)).await, 401);
    let outcome = sim
        .state()
        .past_connections
        .last()
        .expect("past")
        .outcome
        .clone();
    assert!(outcome.contains("Noise key"), "{outcome}");
}

#[tokio::test(start_paused = true)]
async fn an_old_app_version_gets_405() {
    let sim = sim();
    let (keys, jid) = pair(&sim).await;
    let current = AppVersion::DEFAULT;
    sim.set_min_version(Some(AppVersion {
        tertiary: current.tertiary + 1,
        ..current
    }));
    assert_eq!(failure_for(&sim, &keys.noise, &login(&jid)).await, 405);
    // Registrations are gated too.
    let fresh = Keys::generate();
    assert_eq!(
        failure_for(&sim, &fresh.noise, &fresh.registration()).await,
        405
    );
    sim.set_min_version(Some(current));
    let (_client, success) = login_client(&sim, &keys, &jid).await;
    assert_eq!(success.tag, "success");
}

#[tokio::test(start_paused = true)]
async fn fail_next_login_sends_the_real_attributes_once() {
    let sim = sim();
    let (keys, jid) = pair(&sim).await;
    for (reason, check) in [
        ("402", Some(("code", "101"))),
        (
            "403",
            Some(("logout_message_header", "Your account is locked")),
        ),
        ("405", None),
        ("503", None),
    ] {
        sim.fail_next_login(reason.parse::<FailureSpec>().expect("spec"));
        let mut client = RawClient::new(sim.connect_in_memory());
        client
            .handshake(
                &keys.noise,
                &sim.root_public_key().expect("root"),
                &login(&jid),
            )
            .await;
        let nodes = client.until_closed().await;
        assert_eq!(nodes[0].attr_str("reason"), Some(reason));
        assert_eq!(nodes[0].attr_str("location"), Some("sim"));
        if let Some((attr, value)) = check {
            assert_eq!(nodes[0].attr_str(attr), Some(value), "{}", nodes[0]);
        }
        if reason == "402" {
            assert_eq!(nodes[0].attr_str("expire"), Some("3600"));
        }
    }
    let (_client, success) = login_client(&sim, &keys, &jid).await;
    assert_eq!(success.tag, "success", "the fault applies once");
}

#[tokio::test(start_paused = true)]
async fn a_tampered_frame_closes_the_connection() {
    let sim = sim();
    let (keys, jid) = pair(&sim).await;
    let (mut client, _success) = login_client(&sim, &keys, &jid).await;
    client
        .send_tampered(&iq("t-1", "get", "w:p", vec![Node::new("ping")]))
        .await;
    let nodes = client.until_closed().await;
    assert!(nodes.is_empty(), "no answer to a tampered frame: {nodes:?}");
    let outcome = sim
        .state()
        .past_connections
        .last()
        .expect("past")
        .outcome
        .clone();
    assert!(outcome.contains("tampered"), "{outcome}");
}

#[tokio::test(start_paused = true)]
async fn a_bad_intro_header_fails_the_handshake() {
    let sim = sim();
    let mut client = RawClient::new(sim.connect_in_memory());
    client
        .send_bytes(b"XX\x06\x03\x00\x00\x01\x00".to_vec())
        .await;
    assert!(client.recv_frame().await.is_none());
    let outcome = sim.state().past_connections[0].outcome.clone();
    assert!(outcome.contains("framing"), "{outcome}");
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_finishes_the_handshake_is_closed() {
    let sim = sim_with(SimConfig::default());
    let mut client = RawClient::new(sim.connect_in_memory());
    assert!(client.recv_frame().await.is_none());
    assert_eq!(
        sim.state().past_connections[0].outcome,
        "handshake timed out"
    );
}

#[tokio::test(start_paused = true)]
async fn a_second_login_replaces_the_first() {
    let sim = sim();
    let (keys, jid) = pair(&sim).await;
    let (mut first, _) = login_client(&sim, &keys, &jid).await;
    let (_second, success) = login_client(&sim, &keys, &jid).await;
    assert_eq!(success.tag, "success");
    let nodes = first.until_closed().await;
    assert_eq!(
        stream_error(&nodes[0]).expect("stream error"),
        StreamError::Replaced { code: None }
    );
}

#[tokio::test(start_paused = true)]
async fn a_malformed_node_gets_xml_not_well_formed() {
    let sim = sim();
    let (keys, jid) = pair(&sim).await;
    let (mut client, _) = login_client(&sim, &keys, &jid).await;
    client.send_raw_plaintext(&[0x00, 0xf8, 0x00]).await;
    let nodes = client.until_closed().await;
    assert_eq!(
        stream_error(&nodes[0]).expect("stream error"),
        StreamError::XmlNotWellFormed
    );
}
