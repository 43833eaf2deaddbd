//! The scheduler's sender over the real engine, against wa-sim in memory with tokio's clock
//! paused: prepare hands back the committed bytes, transmit sends them, and transmitting the
//! same bytes again is refused by the recipient's devices as a duplicate — shown once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use herald_core::schedule::engine_sender::EngineSender;
use herald_core::schedule::recipient::Recipient;
use herald_core::schedule::sender::{Outcome, Outgoing, Sender};
use wa_client::transport::BoxFuture;
use wa_client::{
    Clock, EngineConfig, EngineDeps, EngineEvent, Link, MemoryTransport, SystemClock, TokioClock,
    VersionError, VersionFetcher,
};
use wa_core::payload::AppVersion;
use wa_sim::{ContactSpec, SimConfig, Simulator};

const ADA: &str = "15551110001";

struct Fixed;

impl VersionFetcher for Fixed {
    fn fetch<'a>(&'a self, _url: &'a str) -> BoxFuture<'a, Result<AppVersion, VersionError>> {
        Box::pin(async { Ok(AppVersion::DEFAULT) })
    }
}

async fn wait(
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
    pred: impl Fn(&EngineEvent) -> bool,
) -> EngineEvent {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(600), events.recv())
            .await
            .expect("event in time")
            .expect("event stream");
        if pred(&e) {
            return e;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn prepared_bytes_go_out_once_and_a_resend_of_them_shows_nothing_twice() {
    let sim = Simulator::new(SimConfig {
        contacts: vec![ContactSpec {
            pn: Some(ADA.into()),
            companions: 1,
            ..ContactSpec::default()
        }],
        ..SimConfig::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = sim.clone();
    let transport = MemoryTransport::new(move || {
        let link = s.connect_in_memory();
        async move { Ok(Link::from_channels(link.to_server, link.from_server)) }
    });
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(SystemClock.now_ms()));
    let mut config = EngineConfig {
        data_dir: dir.path().to_path_buf(),
        server_url: "memory://wa-sim".into(),
        trusted_root: sim.root_public_key().unwrap(),
        ..EngineConfig::default()
    };
    config.version.sw_js_url = Some("memory://sw.js".into());
    let engine = wa_client::Engine::start_with(
        config,
        EngineDeps {
            transport: Arc::new(transport),
            clock,
            version_fetcher: Arc::new(Fixed),
        },
    )
    .unwrap();
    let mut events = engine.subscribe();
    let qr = match wait(&mut events, |e| matches!(e, EngineEvent::Qr { .. })).await {
        EngineEvent::Qr { qr, .. } => qr,
        _ => unreachable!(),
    };
    sim.scan(&qr).unwrap();
    wait(&mut events, |e| matches!(e, EngineEvent::Paired { .. })).await;
    wait(
        &mut events,
        |e| matches!(e, EngineEvent::State { state, .. } if state.name() == "online"),
    )
    .await;

    let engine = Arc::new(engine);
    let sender = EngineSender::new(engine.clone());
    // Built directly: the simulator's numbers are not real ones, which `parse` checks.
    let to = Recipient::Phone(format!("+{ADA}"));
    let id = "3EB0SCHED000000000000001";
    let stanza = sender
        .prepare(Outgoing {
            message_id: id,
            to: &to,
            text: "on time, once",
        })
        .await
        .unwrap();
    assert!(matches!(
        sender.transmit(id, &stanza).await,
        Outcome::Acked { .. }
    ));
    // What the outbox does after a lost ack: the stored bytes again.
    assert!(matches!(
        sender.transmit(id, &stanza).await,
        Outcome::Acked { .. }
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    for device in 0..2 {
        let seen = sim.received(ADA, device);
        let entry = seen.iter().find(|s| s.id == id).unwrap();
        assert_eq!(entry.shown, 1, "device {device}");
        assert_eq!(entry.refused, 1, "device {device}");
        assert_eq!(entry.texts, ["on time, once"]);
    }

    // A bad recipient is refused before anything is encrypted.
    let nobody = Recipient::Phone("+15559990000".into());
    let refused = sender
        .prepare(Outgoing {
            message_id: "3EB0SCHED000000000000002",
            to: &nobody,
            text: "x",
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, "not-on-whatsapp");
    assert!(!refused.retryable);
    engine.shutdown().await;
}
