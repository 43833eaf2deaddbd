#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use support::*;
use wa_client::{ConnectionState, DecisionKind, EngineEvent};

#[tokio::test(start_paused = true)]
async fn pair_then_515_then_online_and_again_without_a_qr() {
    let mut h = Harness::start("pair");
    h.pair().await;
    assert!(h.engine.health().jid.is_some());
    // The post-login upkeep uploads the first 812 prekeys.
    h.wait_for("prekeys", |e| {
        matches!(e, EngineEvent::PrekeysUploaded { count: 812 })
    })
    .await;
    h.engine.shutdown().await;
    assert_eq!(h.state(), ConnectionState::Closed);

    // A new engine on the same folder logs in with the stored credentials: no QR.
    let sim = h.sim.clone();
    let mut h2 = Harness::start_with(sim, h.dir.clone(), |_| {});
    let online = h2
        .wait_for("online or qr", |e| {
            matches!(e, EngineEvent::Qr { .. })
                || matches!(
                    e,
                    EngineEvent::State {
                        state: ConnectionState::Online { .. },
                        ..
                    }
                )
        })
        .await;
    assert!(
        matches!(online, EngineEvent::State { .. }),
        "asked for a QR again: {online:?}"
    );
    h2.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn qr_codes_rotate_then_expire_without_counting_an_attempt() {
    let mut h = Harness::start("qr");
    let start = tokio::time::Instant::now();
    let mut shown = Vec::new();
    for _ in 0..6 {
        match h
            .wait_for("qr", |e| matches!(e, EngineEvent::Qr { .. }))
            .await
        {
            EngineEvent::Qr { index, total, .. } => {
                shown.push((index, total, start.elapsed().as_secs()))
            }
            _ => unreachable!(),
        }
    }
    assert_eq!(
        shown,
        vec![
            (1, 6, 0),
            (2, 6, 60),
            (3, 6, 80),
            (4, 6, 100),
            (5, 6, 120),
            (6, 6, 140)
        ]
    );
    let d = h.wait_disconnect().await;
    assert_eq!(d.cause, "qr_expired");
    assert_eq!(d.decision, DecisionKind::Stop);
    assert_eq!(d.delay_ms, None);
    h.wait_state("qr_expired").await;
    assert_eq!(start.elapsed().as_secs(), 160);
    assert_eq!(h.engine.health().attempt, 0);
    assert!(d.advice.contains("new code"), "{}", d.advice);

    // "Get a new code": a fresh registration, fresh refs.
    h.engine.new_qr();
    let qr = h.wait_qr().await;
    h.sim.scan(&qr).unwrap();
    h.wait_state("online").await;
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn companion_reg_refresh_rotates_the_secret_and_reshows_the_qr() {
    let sim = wa_sim::Simulator::new(wa_sim::SimConfig {
        refresh_on_scan: true,
        ..Default::default()
    })
    .unwrap();
    let mut h = Harness::start_with(sim, tempdir("refresh"), |_| {});
    let first = h.wait_qr().await;
    h.sim.scan(&first).unwrap();
    let second = h.wait_qr().await;
    assert_ne!(first, second, "the QR must carry the new ADV secret");
    let same_ref = |q: &str| q.split(',').next().map(str::to_owned);
    assert_eq!(same_ref(&first), same_ref(&second));
    h.sim.scan(&second).unwrap();
    h.wait_for("paired", |e| matches!(e, EngineEvent::Paired { .. }))
        .await;
    h.wait_state("online").await;
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn pairing_by_phone_number() {
    let mut h = Harness::start("code");
    h.wait_qr().await;
    let phone = h.sim.phone_jid();
    let phone = phone.split('@').next().unwrap().to_owned();
    let code = h
        .engine
        .pair_with_phone(&format!("+{phone}"))
        .await
        .unwrap();
    assert_eq!(code.len(), 9);
    assert!(matches!(h.state(), ConnectionState::PairingCode { .. }));
    h.sim.enter_pairing_code(&code).unwrap();
    h.wait_for("paired", |e| matches!(e, EngineEvent::Paired { .. }))
        .await;
    h.wait_state("online").await;
    assert_eq!(
        h.engine.pair_with_phone("+15551234567").await,
        Err(wa_client::CommandError::AlreadyPaired)
    );
    h.engine.shutdown().await;
}

/// The pairing screen's own placeholder, `+1 555 123 4567`, must work once the QR codes have
/// expired too, not only while they are shown: the number is read the same way in every state.
#[tokio::test(start_paused = true)]
async fn a_spaced_phone_number_links_after_the_qr_codes_expired() {
    let mut h = Harness::start("code-idle");
    h.wait_state("qr_expired").await;
    let phone = h.sim.phone_jid();
    let digits = phone.split('@').next().unwrap().to_owned();
    let spaced = format!("+{} {} {}", &digits[..1], &digits[1..4], &digits[4..]);
    assert!(spaced.contains(' '));
    let code = h.engine.pair_with_phone(&spaced).await.unwrap();
    assert_eq!(code.len(), 9);
    assert!(matches!(h.state(), ConnectionState::PairingCode { .. }));
    h.sim.enter_pairing_code(&code).unwrap();
    h.wait_state("online").await;
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_phone_number_that_is_not_one_is_refused_in_every_state() {
    let mut h = Harness::start("code-bad");
    h.wait_qr().await;
    assert!(matches!(
        h.engine.pair_with_phone("12ab").await,
        Err(wa_client::CommandError::InvalidPhone(_))
    ));
    h.wait_state("qr_expired").await;
    assert!(matches!(
        h.engine.pair_with_phone("12ab").await,
        Err(wa_client::CommandError::InvalidPhone(_))
    ));
    // Refused before anything was dialled: still waiting for the user.
    assert_eq!(h.state(), ConnectionState::QrExpired);
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_second_engine_on_the_same_folder_is_refused_by_name() {
    let h = Harness::start("lock");
    let (deps, _) = deps(&h.sim, h.fetched.clone());
    let mut cfg = config(&h.sim, &h.dir);
    cfg.program_name = "herald-cli".into();
    match wa_client::Engine::start_with(cfg, deps) {
        Err(wa_client::StartError::Locked {
            holder: Some(holder),
            ..
        }) => {
            assert_eq!(holder.pid, std::process::id());
        }
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("second engine started"),
    }
    h.engine.shutdown().await;
}
