//! The scheduler in the service with the real engine, against a simulator on 127.0.0.1,
//! through an outage and an unlink: a send due while the server is down waits and goes after
//! the link is back if it is still inside its catch-up window, else it is recorded `missed`;
//! after the phone unlinks this device a due send is held, the outbox kept, and it goes once
//! the device is linked again. The runner's wall clock is a stepped one, so an hour of
//! downtime takes no time; everything else runs on the real clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use herald_core::schedule::clock::{Clock, SteppedClock};
use herald_core::schedule::outbox::SendState;
use herald_core::schedule::runner::RunnerConfig;
use herald_core::scheduler::{engine_sender, SchedulerSetup};
use herald_core::service::{ServerTarget, Service, ServiceEvent};
use jiff::{SignedDuration, Timestamp};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use wa_client::EngineEvent;
use wa_sim::{ContactSpec, KickKind, Simulator};

const ADA: &str = "4915123456789";

fn serve(sim: &Simulator, listener: tokio::net::TcpListener) -> JoinHandle<()> {
    let sim = sim.clone();
    tokio::spawn(async move {
        let _ = wa_sim::server::serve(sim, listener).await;
    })
}

/// The server goes away: no listener, no connection.
fn take_down(sim: &Simulator, serving: JoinHandle<()>) {
    serving.abort();
    sim.drop_connections(None);
}

/// The server is back on the same address.
async fn bring_back(sim: &Simulator, addr: SocketAddr) -> JoinHandle<()> {
    let (listener, _) = wa_sim::server::bind(addr.port()).await.unwrap();
    serve(sim, listener)
}

async fn state(rx: &mut broadcast::Receiver<ServiceEvent>, what: &str, want: fn(&str) -> bool) {
    support::next(rx, 30, what, |e| match e {
        ServiceEvent::Connection(v) if want(v.state) => Some(()),
        _ => None,
    })
    .await;
}

async fn link(sim: &Simulator, rx: &mut broadcast::Receiver<ServiceEvent>) {
    let qr = support::next(rx, 30, "a QR code", |e| match e {
        ServiceEvent::Engine(EngineEvent::Qr { qr, .. }) => Some(qr.clone()),
        _ => None,
    })
    .await;
    sim.scan(&qr).unwrap();
    state(rx, "online", |s| s == "online").await;
}

/// The states of a schedule's sends once none is pending or sending (up to 30 s).
async fn settled(service: &Service, id: i64) -> Vec<SendState> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let log = service.schedule_sends(id, 10).unwrap();
        let busy = log
            .iter()
            .any(|s| matches!(s.state, SendState::Pending | SendState::Sending));
        if !log.is_empty() && !busy {
            return log.iter().map(|s| s.state).collect();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "schedule {id} did not settle: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn went_out(states: &[SendState]) -> bool {
    matches!(
        states,
        [SendState::Sent | SendState::Delivered | SendState::Read]
    )
}

/// How many times Ada's phone showed `text`.
fn shown(sim: &Simulator, text: &str) -> u32 {
    sim.received(ADA, 0)
        .iter()
        .filter(|s| s.texts.iter().any(|t| t == text))
        .map(|s| s.shown)
        .sum()
}

#[tokio::test]
async fn an_outage_holds_due_sends_and_an_unlink_keeps_the_outbox_until_relinked() {
    let sim = Simulator::new(wa_sim::SimConfig {
        contacts: vec![ContactSpec {
            pn: Some(ADA.into()),
            ..ContactSpec::default()
        }],
        ..wa_sim::SimConfig::default()
    })
    .unwrap();
    let (listener, addr) = wa_sim::server::bind(0).await.unwrap();
    let server = ServerTarget {
        url: format!("ws://{addr}/ws/chat"),
        trusted_root: *sim.root_public_key().unwrap().as_bytes(),
    };
    let mut serving = serve(&sim, listener);
    let dir = tempfile::tempdir().unwrap();
    let clock = SteppedClock::starting_at(Timestamp::now());
    let mut runner = RunnerConfig::default();
    runner.gate.min_gap = Duration::ZERO;
    runner.gate.max_gap = Duration::ZERO;
    // The sends here all go to Ada, one after another: no spacing per chat either.
    runner.gate.per_chat = Duration::ZERO;
    let setup = SchedulerSetup {
        sender: Some(engine_sender()),
        runner,
        clock: Arc::new(clock.clone()),
    };
    let options = support::options(dir.path(), server, "runner-outage-test");
    let service = Service::start_with(options, setup).unwrap();
    let mut events = service.subscribe();
    link(&sim, &mut events).await;

    // Two one-shots due in ten minutes: one with the default window (6 h for a one-shot),
    // one that may be at most 30 minutes late.
    let within =
        |minutes: u32| serde_json::json!({ "catchUp": "within", "catchUpMinutes": minutes });
    let lenient = service
        .create_schedule(&support::one_shot(
            &format!("+{ADA}"),
            "late but sent",
            600,
            serde_json::Value::Null,
        ))
        .unwrap();
    let strict = service
        .create_schedule(&support::one_shot(
            &format!("+{ADA}"),
            "too late to send",
            600,
            within(30),
        ))
        .unwrap();

    // The server goes down; an hour passes (a stepped wall clock) while nothing can connect.
    take_down(&sim, serving);
    state(&mut events, "the link lost", |s| s != "online").await;
    clock.jump(SignedDuration::from_hours(1));
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in [lenient.id, strict.id] {
        let log = service.schedule_sends(id, 10).unwrap();
        assert!(
            log.iter().all(|s| s.state == SendState::Pending),
            "nothing goes while offline: {log:?}"
        );
    }
    assert_eq!(shown(&sim, "late but sent"), 0);

    // Back: the one 50 minutes late inside its 6 h goes, the other is missed, and shown so.
    serving = bring_back(&sim, addr).await;
    service.reconnect_now().await;
    state(&mut events, "online again", |s| s == "online").await;
    assert!(went_out(&settled(&service, lenient.id).await));
    assert_eq!(settled(&service, strict.id).await, [SendState::Missed]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(shown(&sim, "late but sent"), 1);
    assert_eq!(shown(&sim, "too late to send"), 0);

    // The phone unlinks this device. A send due meanwhile is held with the outbox kept...
    sim.kick(KickKind::DeviceRemoved, None);
    state(&mut events, "logged out", |s| s == "logged_out").await;
    let held = service
        .create_schedule(&support::one_shot_from(
            clock.now(),
            &format!("+{ADA}"),
            "after relinking",
            2,
            serde_json::Value::Null,
        ))
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let log = service.schedule_sends(held.id, 10).unwrap();
    assert!(
        matches!(log.as_slice(), [s] if s.state == SendState::Pending),
        "held while unlinked: {log:?}"
    );

    // ...and goes, once, when the device is linked again.
    service.start_pairing().await;
    link(&sim, &mut events).await;
    assert!(went_out(&settled(&service, held.id).await));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(shown(&sim, "after relinking"), 1);
    // Nothing earlier went again.
    assert_eq!(shown(&sim, "late but sent"), 1);

    service.shutdown().await;
    serving.abort();
}
