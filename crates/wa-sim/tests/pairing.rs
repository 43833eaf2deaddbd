//! Pairing by QR and by code, against the raw client, with a paused clock for the windows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use prost::Message as _;
use rand_core::OsRng;
use support::*;
use wa_core::binary::Node;
use wa_core::pair::adv::verify_pair_success_identity;
use wa_core::pair::code::CompanionLinking;
use wa_core::stanza::link_code::{
    CompanionFinish, CompanionHello, CompanionHelloResult, PrimaryHello,
};
use wa_core::stanza::pair::{CompanionRegRefresh, PairDeviceSign, PairSuccess};
use wa_sim::{ScanRefused, SimConfig};

#[tokio::test(start_paused = true)]
async fn qr_pairing_persists_the_device_then_sends_515_and_login_succeeds() {
    let sim = sim();
    let (keys, jid) = pair(&sim).await;
    assert_eq!(jid.user, "15550000001");
    assert!(jid.device >= 1);
    let devices = sim.devices();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].jid, jid.to_string());
    assert_eq!(devices[0].os, "Herald");

    let (mut client, success) = login_client(&sim, &keys, &jid).await;
    assert_eq!(success.tag, "success", "{success}");
    for attr in [
        "t",
        "props",
        "location",
        "lid",
        "abprops",
        "creation",
        "companion_enc_static",
    ] {
        assert!(
            success.attr(attr).is_some(),
            "success has {attr}: {success}"
        );
    }
    let lid = success.attr_jid("lid").expect("lid is a JID");
    assert_eq!(lid.device, jid.device);
    client.close();
}

#[tokio::test(start_paused = true)]
async fn each_ref_is_scannable_only_in_its_window() {
    let sim = sim();
    let keys = Keys::generate();
    let (mut client, pd) = register(&sim, &keys).await;
    assert_eq!(pd.refs.len(), 6);
    assert!(pd.refs.iter().all(|r| r.starts_with("2@")));

    // Ref #1 is shown only after the first 60 s.
    assert!(matches!(
        sim.scan(&keys.qr(&pd.refs[1])),
        Err(ScanRefused::NotYetValid { index: 1, .. })
    ));
    tokio::time::advance(Duration::from_secs(61)).await;
    assert!(matches!(
        sim.scan(&keys.qr(&pd.refs[0])),
        Err(ScanRefused::Expired { index: 0, .. })
    ));
    // Ref #2's window is 80..100 s.
    tokio::time::advance(Duration::from_secs(20)).await;
    assert!(matches!(
        sim.scan(&keys.qr(&pd.refs[1])),
        Err(ScanRefused::Expired { index: 1, .. })
    ));
    let report = sim
        .scan(&keys.qr(&pd.refs[2]))
        .expect("ref #2 inside its window");
    assert_eq!(report.ref_index, 2);
    assert!(report.checks.len() >= 5, "{:?}", report.checks);
    let jid = sign_pair_success(&mut client, &keys).await;
    assert_eq!(client.until_closed().await[0].attr_str("code"), Some("515"));
    assert_eq!(sim.devices()[0].jid, jid.to_string());
}

#[tokio::test(start_paused = true)]
async fn scans_with_wrong_data_are_refused() {
    let sim = sim();
    let keys = Keys::generate();
    let (_client, pd) = register(&sim, &keys).await;
    assert!(matches!(
        sim.scan(&keys.qr("2@never-issued")),
        Err(ScanRefused::UnknownRef(_))
    ));
    let mut other = keys.clone();
    other.noise = Keys::generate().noise;
    assert!(matches!(
        sim.scan(&other.qr(&pd.refs[0])),
        Err(ScanRefused::NoiseKeyMismatch)
    ));
    let mut other = keys.clone();
    other.identity = Keys::generate().identity;
    assert!(matches!(
        sim.scan(&other.qr(&pd.refs[0])),
        Err(ScanRefused::IdentityKeyMismatch)
    ));
    // The 4-field form without the client type is no longer accepted.
    let four = keys.qr(&pd.refs[0]);
    let four = &four[..four.rfind(',').expect("comma")];
    assert!(matches!(sim.scan(four), Err(ScanRefused::BadQr(_))));
    assert!(sim.devices().is_empty());
    assert!(sim.state().counters.rejections >= 4);
}

#[tokio::test(start_paused = true)]
async fn the_registering_connection_closes_after_the_last_window() {
    let sim = sim();
    let keys = Keys::generate();
    let (mut client, pd) = register(&sim, &keys).await;
    tokio::time::advance(Duration::from_secs(159)).await;
    tokio::task::yield_now().await;
    assert_eq!(
        sim.state().connections.len(),
        1,
        "still open inside the last window"
    );
    let nodes = client.until_closed().await;
    assert!(nodes.is_empty(), "closed without a stanza: {nodes:?}");
    let past = sim.state().past_connections;
    assert_eq!(
        past.last().map(|p| p.outcome.as_str()),
        Some("pairing refs exhausted")
    );
    assert!(
        sim.scan(&keys.qr(&pd.refs[5])).is_err(),
        "refs die with the connection"
    );
}

#[tokio::test(start_paused = true)]
async fn a_pair_device_sign_that_kept_the_account_key_is_refused() {
    let sim = sim();
    let keys = Keys::generate();
    let (mut client, pd) = register(&sim, &keys).await;
    sim.scan(&keys.qr(&pd.refs[0])).expect("scan");
    let success = PairSuccess::parse(&client.recv().await).expect("pair-success");
    let paired = verify_pair_success_identity(
        &success.device_identity,
        &keys.adv_secret,
        &keys.identity,
        &mut OsRng,
    )
    .expect("verifies");
    // The account identity still carries accountSignatureKey; the reply must not.
    let sign = PairDeviceSign {
        id: success.id,
        key_index: paired.key_index,
        device_identity: paired.account.encode_to_vec(),
    };
    client.send_node(&sign.to_node()).await;
    assert!(
        client.until_closed().await.is_empty(),
        "no 515 for a bad signature"
    );
    assert!(sim.devices().is_empty());
    let outcome = sim.state().past_connections[0].outcome.clone();
    assert!(outcome.contains("accountSignatureKey"), "{outcome}");
}

#[tokio::test(start_paused = true)]
async fn a_wrong_key_index_is_refused() {
    let sim = sim();
    let keys = Keys::generate();
    let (mut client, pd) = register(&sim, &keys).await;
    sim.scan(&keys.qr(&pd.refs[0])).expect("scan");
    let success = PairSuccess::parse(&client.recv().await).expect("pair-success");
    let paired = verify_pair_success_identity(
        &success.device_identity,
        &keys.adv_secret,
        &keys.identity,
        &mut OsRng,
    )
    .expect("verifies");
    let sign = PairDeviceSign {
        id: success.id,
        key_index: paired.key_index + 1,
        device_identity: paired.reply_bytes(),
    };
    client.send_node(&sign.to_node()).await;
    assert!(client.until_closed().await.is_empty());
    assert!(sim.devices().is_empty());
}

#[tokio::test(start_paused = true)]
async fn companion_reg_refresh_requires_a_rotated_adv_secret() {
    let sim = sim_with(SimConfig {
        refresh_on_scan: true,
        ..SimConfig::default()
    });
    let mut keys = Keys::generate();
    let (mut client, pd) = register(&sim, &keys).await;
    let first = sim.scan(&keys.qr(&pd.refs[0])).expect("first scan");
    assert!(first.refresh_requested);
    let refresh = client.recv().await;
    let parsed = CompanionRegRefresh::parse(&refresh).expect("companion_reg_refresh");
    // Ack it, as a companion must.
    client
        .send_node(
            &Node::new("ack")
                .with_attr("id", parsed.id.clone())
                .with_attr("class", "notification")
                .with_attr("to", parsed.from.clone()),
        )
        .await;
    assert!(matches!(
        sim.scan(&keys.qr(&pd.refs[0])),
        Err(ScanRefused::StaleAdvSecret)
    ));
    keys.adv_secret = Keys::generate().adv_secret;
    let second = sim.scan(&keys.qr(&pd.refs[0])).expect("re-rendered QR");
    assert!(!second.refresh_requested);
    sign_pair_success(&mut client, &keys).await;
    assert_eq!(client.until_closed().await[0].attr_str("code"), Some("515"));
    assert_eq!(sim.devices().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn injected_companion_reg_refresh_reaches_a_pairing_connection() {
    let sim = sim();
    let keys = Keys::generate();
    let (mut client, _pd) = register(&sim, &keys).await;
    assert_eq!(sim.companion_reg_refresh(None), 1);
    let node = client.recv().await;
    assert!(CompanionRegRefresh::parse(&node).is_ok(), "{node}");
    // Not acked: the stream is recycled after the ack deadline.
    let rest = client.until_closed().await;
    assert!(rest[0].child("ack").is_some(), "{rest:?}");
}

#[tokio::test(start_paused = true)]
async fn pairing_code_flow_pairs_through_both_sides() {
    let iterations = 8;
    let sim = sim_with(SimConfig {
        pbkdf2_iterations: iterations,
        ..SimConfig::default()
    });
    let keys = Keys::generate();
    let (mut client, _pd) = register(&sim, &keys).await;
    let (linking, wrapped) = CompanionLinking::start(&mut OsRng, iterations);
    let phone: wa_core::binary::Jid = sim.phone_jid().parse().expect("phone jid");
    let hello = CompanionHello {
        id: "code-1".into(),
        phone: phone.clone(),
        show_push_notification: true,
        wrapped_companion_ephemeral_pub: wrapped,
        companion_server_auth_key_pub: *keys.noise.public.as_bytes(),
        platform_id: "1".into(),
        platform_display: "Chrome (Linux)".into(),
    };
    client.send_node(&hello.to_node()).await;
    let result = CompanionHelloResult::parse(&client.recv().await).expect("hello result");

    sim.enter_pairing_code(&linking.code().display())
        .expect("phone takes the code");
    let primary = PrimaryHello::parse(&client.recv().await).expect("primary_hello");
    assert_eq!(primary.pairing_ref, result.pairing_ref);
    client
        .send_node(
            &Node::new("ack")
                .with_attr("id", primary.id.clone())
                .with_attr("class", "notification")
                .with_attr("to", primary.from.clone()),
        )
        .await;
    let finish = linking
        .finish(
            &mut OsRng,
            &keys.identity.private,
            &primary.wrapped_primary_ephemeral_pub,
            &primary.primary_identity_pub,
        )
        .expect("companion finish");
    let finish_iq = CompanionFinish {
        id: "code-2".into(),
        phone,
        wrapped_key_bundle: finish.wrapped_key_bundle,
        companion_identity_public: *keys.identity.public.as_bytes(),
        pairing_ref: primary.pairing_ref.clone(),
    };
    client.send_node(&finish_iq.to_node()).await;
    let ack = client.recv().await;
    assert_eq!(ack.attr_str("type"), Some("result"), "{ack}");
    // The pair-success HMAC is keyed with the secret both sides derived.
    let mut derived = keys.clone();
    derived.adv_secret = finish.adv_secret;
    sign_pair_success(&mut client, &derived).await;
    assert_eq!(client.until_closed().await[0].attr_str("code"), Some("515"));
    assert_eq!(sim.devices().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_companion_hello_with_an_unknown_browser_is_refused() {
    let sim = sim_with(SimConfig {
        pbkdf2_iterations: 4,
        ..SimConfig::default()
    });
    let keys = Keys::generate();
    let (mut client, _pd) = register(&sim, &keys).await;
    let (_linking, wrapped) = CompanionLinking::start(&mut OsRng, 4);
    let hello = CompanionHello {
        id: "code-1".into(),
        phone: sim.phone_jid().parse().expect("jid"),
        show_push_notification: true,
        wrapped_companion_ephemeral_pub: wrapped,
        companion_server_auth_key_pub: *keys.noise.public.as_bytes(),
        platform_id: "1".into(),
        platform_display: "Herald".into(),
    };
    client.send_node(&hello.to_node()).await;
    let reply = client.recv().await;
    assert_eq!(reply.attr_str("type"), Some("error"), "{reply}");
    assert!(
        sim.enter_pairing_code("ABCD-EFGH").is_err(),
        "nothing pending"
    );
}
