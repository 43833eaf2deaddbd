//! Every fault wa-sim can inject leads to the right state, decision, event and advice.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use support::*;
use wa_client::{ConnectionState, DecisionKind, EngineEvent, PausedReason, VersionSource};
use wa_sim::{FailureSpec, KickKind};

async fn online() -> Harness {
    let mut h = Harness::start("fault");
    h.pair().await;
    h
}

#[tokio::test(start_paused = true)]
async fn stream_515_reconnects_at_once() {
    let mut h = online().await;
    let t = tokio::time::Instant::now();
    h.sim.kick(KickKind::RestartRequired, None);
    let d = h.wait_disconnect().await;
    assert_eq!(
        (d.cause.as_str(), d.code, d.decision),
        ("restart_required", Some(515), DecisionKind::ReconnectNow)
    );
    assert_eq!(d.delay_ms, Some(0));
    h.wait_state("online").await;
    assert!(t.elapsed() < Duration::from_secs(1));
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn stream_503_and_drops_back_off_2_4_8() {
    let mut h = online().await;
    h.sim.kick(KickKind::ServiceUnavailable, None);
    let d = h.wait_disconnect().await;
    assert_eq!(
        (d.cause.as_str(), d.code, d.decision),
        ("server_restarting", Some(503), DecisionKind::Backoff)
    );
    // Each redial fails again, so the delays grow: 2, 4, 8 s (±20 %).
    let mut delays = vec![d.delay_ms.unwrap()];
    for _ in 0..2 {
        h.sim.fail_next_login(FailureSpec { reason: 503 });
        let d = h.wait_disconnect().await;
        assert_eq!(
            (d.cause.as_str(), d.code),
            ("service_unavailable", Some(503))
        );
        delays.push(d.delay_ms.unwrap());
    }
    for (got, nominal) in delays.iter().zip([2_000u64, 4_000, 8_000]) {
        assert!(
            (*got as f64) >= nominal as f64 * 0.8 && (*got as f64) <= nominal as f64 * 1.2,
            "delay {got} ms for nominal {nominal}"
        );
    }
    h.wait_state("online").await;
    // A drop (no stream error) backs off too; the counter continues (not yet 60 s online).
    h.sim.drop_connections(None);
    let d = h.wait_disconnect().await;
    assert_eq!(
        (d.cause.as_str(), d.decision, d.attempt),
        ("server_closed", DecisionKind::Backoff, 4)
    );
    assert!(matches!(
        h.state(),
        ConnectionState::Backoff { attempt: 4, .. }
    ));
    h.wait_state("online").await;
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn replaced_stops_without_reconnecting() {
    let mut h = online().await;
    h.sim.kick(KickKind::Replaced, None);
    let d = h.wait_disconnect().await;
    assert_eq!(
        (d.cause.as_str(), d.code, d.decision),
        ("replaced", Some(440), DecisionKind::Stop)
    );
    assert!(d
        .advice
        .contains("Another WhatsApp Web or Desktop took over this session"));
    assert!(d.notify);
    h.wait_state("replaced").await;
    // Nothing dials again by itself.
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(h.state(), ConnectionState::Replaced);
    assert_eq!(h.sim.state().connections.len(), 0);
    // The user's "reconnect now" does.
    h.engine.reconnect_now();
    h.wait_state("online").await;
    h.engine.shutdown().await;
}

async fn logged_out_by(h: &mut Harness, expect_cause: &str, expect_code: Option<u16>) {
    let d = h.wait_disconnect().await;
    assert_eq!(
        (d.cause.as_str(), d.code, d.decision),
        (expect_cause, expect_code, DecisionKind::Stop)
    );
    assert_eq!(d.stop_state.as_deref(), Some("logged_out"));
    let archive = match h
        .wait_for("logged out", |e| matches!(e, EngineEvent::LoggedOut { .. }))
        .await
    {
        EngineEvent::LoggedOut { archive, .. } => archive.expect("archived"),
        _ => unreachable!(),
    };
    assert!(
        std::path::Path::new(&archive).exists(),
        "archive {archive} kept"
    );
    h.wait_state("logged_out").await;
}

#[tokio::test(start_paused = true)]
async fn device_removed_logs_out_and_archives() {
    let mut h = online().await;
    h.sim.kick(KickKind::DeviceRemoved, None);
    logged_out_by(&mut h, "device_removed", Some(401)).await;
    // Starting over pairs a new device.
    h.engine.new_qr();
    h.pair().await;
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn failures_401_403_406_log_out() {
    for (reason, cause) in [
        (401, "logged_out"),
        (403, "main_device_gone"),
        (406, "banned"),
    ] {
        let mut h = online().await;
        h.sim.fail_next_login(FailureSpec { reason });
        h.sim.kick(KickKind::RestartRequired, None);
        h.wait_disconnect().await; // the 515
        logged_out_by(&mut h, cause, Some(reason)).await;
        h.engine.shutdown().await;
    }
}

#[tokio::test(start_paused = true)]
async fn failure_402_stops_with_the_ban_and_its_expiry() {
    let mut h = online().await;
    h.sim.fail_next_login(FailureSpec { reason: 402 });
    h.sim.kick(KickKind::RestartRequired, None);
    h.wait_disconnect().await;
    let d = h.wait_disconnect().await;
    assert_eq!(
        (d.cause.as_str(), d.code, d.decision),
        ("temp_banned", Some(402), DecisionKind::Stop)
    );
    assert!(d.advice.contains("about 1 h"), "{}", d.advice);
    let now = h.clock.now_ms();
    match h.wait_state("paused").await {
        ConnectionState::Paused {
            reason: PausedReason::TempBanned {
                until_ms: Some(until),
            },
        } => {
            assert!(until >= now + 3_599_000 && until <= now + 3_601_000);
        }
        other => panic!("{other:?}"),
    }
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn failure_405_refreshes_the_version_once_then_pauses() {
    let mut h = online().await;
    let old = *h.fetched.lock().unwrap();
    let newer = wa_core::payload::AppVersion {
        tertiary: old.tertiary + 1,
        ..old
    };
    h.sim.set_min_version(Some(newer));

    // The fetch finds the current version: one retry, then online.
    *h.fetched.lock().unwrap() = newer;
    h.sim.kick(KickKind::RestartRequired, None);
    h.wait_disconnect().await;
    let d = h.wait_disconnect().await;
    assert_eq!(
        (d.cause.as_str(), d.code, d.decision),
        ("client_outdated", Some(405), DecisionKind::ReconnectNow)
    );
    assert_eq!(
        d.advice,
        "WhatsApp rejected this app version; Herald fetched the current one and will retry."
    );
    match h
        .wait_for("version", |e| matches!(e, EngineEvent::Version { .. }))
        .await
    {
        EngineEvent::Version { version, source } => {
            assert_eq!(version, newer.to_string());
            assert_eq!(source, VersionSource::Fetched);
        }
        _ => unreachable!(),
    }
    h.wait_state("online").await;

    // The fetch still finds an outdated one: refresh once, then Paused(ClientOutdated).
    let newest = wa_core::payload::AppVersion {
        tertiary: old.tertiary + 2,
        ..old
    };
    h.sim.set_min_version(Some(newest));
    h.sim.kick(KickKind::RestartRequired, None);
    h.wait_disconnect().await;
    let d = h.wait_disconnect().await;
    assert_eq!(d.decision, DecisionKind::ReconnectNow);
    let d = h.wait_disconnect().await;
    assert_eq!(
        (d.cause.as_str(), d.decision),
        ("client_outdated", DecisionKind::Stop)
    );
    assert_eq!(
        h.wait_state("paused").await,
        ConnectionState::Paused {
            reason: PausedReason::ClientOutdated
        }
    );
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn stall_is_detected_by_the_dead_socket_rule() {
    let mut h = online().await;
    h.sim.stall();
    let stalled = tokio::time::Instant::now();
    // The first ping into the stall goes out within 30 s; 20 s later the socket is dead.
    let d = h.wait_disconnect().await;
    assert_eq!(
        (d.cause.as_str(), d.decision),
        ("dead_socket", DecisionKind::Backoff)
    );
    assert!(
        stalled.elapsed() <= Duration::from_secs(30 + 20 + 1),
        "{:?}",
        stalled.elapsed()
    );
    h.sim.unstall();
    h.wait_state("online").await;
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn ten_failed_attempts_pause_and_only_sixty_seconds_online_reset_the_count() {
    let mut h = online().await;
    h.sim.kick(KickKind::ServiceUnavailable, None);
    let mut last = h.wait_disconnect().await;
    for _ in 0..10 {
        h.sim.fail_next_login(FailureSpec { reason: 503 });
        last = h.wait_disconnect().await;
    }
    assert_eq!(last.delay_ms, None);
    assert_eq!(
        h.wait_state("paused").await,
        ConnectionState::Paused {
            reason: PausedReason::RetriesExhausted { attempts: 10 }
        }
    );
    // The user retries: the count starts afresh.
    h.engine.reconnect_now();
    h.wait_state("online").await;
    h.sim.fail_next_login(FailureSpec { reason: 503 });
    h.sim.kick(KickKind::ServiceUnavailable, None);
    assert_eq!(h.wait_disconnect().await.attempt, 1);
    assert_eq!(h.wait_disconnect().await.attempt, 2);
    h.wait_state("online").await;

    // 30 s online is not enough to forgive the failures…
    tokio::time::sleep(Duration::from_secs(30)).await;
    h.sim.kick(KickKind::ServiceUnavailable, None);
    assert_eq!(h.wait_disconnect().await.attempt, 3);
    h.wait_state("online").await;
    // …61 s is.
    tokio::time::sleep(Duration::from_secs(61)).await;
    h.sim.kick(KickKind::ServiceUnavailable, None);
    let d = h.wait_disconnect().await;
    assert_eq!(d.attempt, 1);
    assert!(d.online_for_ms >= 61_000);
    h.wait_state("online").await;
    h.engine.shutdown().await;
}

/// The attempt after which Herald gives up is a stop, not a retry: its history row says so,
/// and the paused state says why (retries exhausted, not something only the user can fix).
#[tokio::test(start_paused = true)]
async fn the_last_attempt_is_recorded_as_a_stop_with_retries_exhausted() {
    let mut h = online().await;
    h.sim.kick(KickKind::ServiceUnavailable, None);
    let mut last = h.wait_disconnect().await;
    for _ in 0..10 {
        h.sim.fail_next_login(FailureSpec { reason: 503 });
        last = h.wait_disconnect().await;
    }
    assert_eq!(last.decision, DecisionKind::Stop);
    assert_eq!(last.stop_state.as_deref(), Some("retries_exhausted"));
    assert_eq!(last.delay_ms, None);
    assert_eq!(last.attempt, 10);
    assert_eq!(
        h.wait_state("paused").await,
        ConnectionState::Paused {
            reason: PausedReason::RetriesExhausted { attempts: 10 }
        }
    );
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn logout_unlinks_and_archives() {
    let mut h = online().await;
    let out = h.engine.logout().await.unwrap();
    assert!(out.unlinked_on_server);
    let archive = out.archive.expect("archived");
    assert!(std::path::Path::new(&archive).exists());
    h.wait_state("logged_out").await;
    assert!(h.sim.devices().is_empty());
    h.engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn keepalive_pongs_report_rtt() {
    let mut h = online().await;
    match h
        .wait_for("pong", |e| matches!(e, EngineEvent::Pong { .. }))
        .await
    {
        EngineEvent::Pong { .. } => {}
        _ => unreachable!(),
    }
    let health = h.engine.health();
    assert!(health.rtt_ms.is_some() && health.last_pong_ms.is_some());
    assert_eq!(health.state, "online");
    h.engine.shutdown().await;
}
