//! The scheduler inside the service: started with the service, fed by the engine's link to a
//! simulator on 127.0.0.1, sending through the sender it was given; and, without one, keeping
//! schedules and saying that nothing sends.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_core::schedule::draft::ScheduleDraft;
use herald_core::schedule::outbox::SendState;
use herald_core::schedule::runner::{RunnerConfig, RunnerEvent};
use herald_core::schedule::sender::{DynSender, Outcome, Outgoing, Rejection, Sender};
use herald_core::schedule::view::SchedulerState;
use herald_core::scheduler::{CurrentEngine, SchedulerSetup};
use herald_core::service::{ServerTarget, Service, ServiceError, ServiceEvent};
use jiff::Timestamp;
use wa_client::ConnectionState;

/// The engine's send path as a fake: it records what it was asked to send and acks it, or
/// refuses one number.
#[derive(Clone, Default)]
struct FakeSender {
    sent: Arc<Mutex<Vec<(String, String)>>>,
}

const REFUSED: &str = "+4915123456799";

impl Sender for FakeSender {
    async fn prepare(&self, m: Outgoing<'_>) -> Result<Vec<u8>, Rejection> {
        if m.to.value() == REFUSED {
            return Err(Rejection {
                code: "not-on-whatsapp".into(),
                retryable: false,
                advice: "This number does not use WhatsApp.".into(),
            });
        }
        Ok(format!("{}|{}", m.to, m.text).into_bytes())
    }

    async fn transmit(&self, message_id: &str, stanza: &[u8]) -> Outcome {
        self.sent.lock().unwrap().push((
            message_id.to_owned(),
            String::from_utf8_lossy(stanza).into_owned(),
        ));
        Outcome::Acked {
            at: Timestamp::now(),
        }
    }
}

fn draft(to: &str, text: &str, secs: i64) -> ScheduleDraft {
    support::one_shot(to, text, secs, serde_json::Value::Null)
}

#[tokio::test]
async fn without_a_sender_schedules_are_kept_and_nothing_pretends_to_send() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 9: the engine stays offline.
    let server = ServerTarget {
        url: "ws://127.0.0.1:9/ws/chat".into(),
        trusted_root: [7; 32],
    };
    // No sender given: nothing can send.
    let service = Service::start_with(
        support::options(dir.path(), server, "service-scheduler-test"),
        SchedulerSetup::default(),
    )
    .unwrap();
    let mut events = service.subscribe();
    assert_eq!(service.scheduler_status().state, SchedulerState::NoSender);

    let made = service
        .create_schedule(&draft("+49 151 2345 6789", "Hallo", 3600))
        .unwrap();
    assert_eq!(made.to, "+4915123456789");
    assert!(made.next.is_some());
    support::next(&mut events, 5, "a schedules event", |e| match e {
        ServiceEvent::Schedules(c) if c.schedule_id == Some(made.id) => Some(()),
        _ => None,
    })
    .await;
    let health = service.health().await.unwrap();
    assert_eq!(health.scheduler, SchedulerState::NoSender);
    assert_eq!((health.scheduled_messages, health.active_jobs), (1, 1));
    let json = serde_json::to_value(&health).unwrap();
    assert_eq!(json["scheduledMessages"], 1);
    assert_eq!(json["activeJobs"], 1);
    assert_eq!(json["scheduler"], "noSender");

    // "Send now" is refused rather than faked, and nothing was added.
    assert!(matches!(
        service.send_now(made.id),
        Err(ServiceError::Schedule(
            herald_core::schedule::store::StoreError::NoSender
        ))
    ));
    assert_eq!(service.schedule_sends(made.id, 10).unwrap().len(), 1);

    // Bad input saves nothing.
    for bad in [
        draft("+1 555", "x", 3600),
        draft("+49 151 2345 6789", "x", -3600),
        ScheduleDraft {
            date: "2026-02-31".into(),
            ..draft("+49 151 2345 6789", "x", 3600)
        },
        ScheduleDraft {
            zone: "Mars/Olympus".into(),
            ..draft("+49 151 2345 6789", "x", 3600)
        },
    ] {
        assert!(matches!(
            service.create_schedule(&bad),
            Err(ServiceError::Draft(_))
        ));
    }
    assert_eq!(service.schedules().unwrap().len(), 1);

    // Edit, pause, resume, duplicate, delete.
    let mut changed = draft("+49 151 2345 6789", "Hallo again", 7200);
    changed.repeat = "days".into();
    let edited = service.edit_schedule(made.id, &changed).unwrap();
    assert_eq!(edited.text, "Hallo again");
    assert!(
        edited.timing.starts_with("Every day at "),
        "{}",
        edited.timing
    );
    let paused = service.pause_schedule(made.id).unwrap();
    assert_eq!(paused.next, None);
    let resumed = service.resume_schedule(made.id).unwrap();
    assert!(resumed.next.is_some());
    let copy = service.duplicate_schedule(made.id).unwrap();
    assert_ne!(copy.id, made.id);
    service.delete_schedule(made.id).unwrap();
    let left: Vec<i64> = service.schedules().unwrap().iter().map(|s| s.id).collect();
    assert_eq!(left, [copy.id]);
    let preview = service.preview(&changed, 5).unwrap();
    assert_eq!(preview.len(), 5);
    service.shutdown().await;
}

#[tokio::test]
async fn online_it_sends_through_the_given_sender_and_reports_each_send() {
    let sim_dir = tempfile::tempdir().unwrap();
    let sim = wa_sim::Simulator::new(wa_sim::SimConfig {
        state_dir: Some(sim_dir.path().to_path_buf()),
        ..wa_sim::SimConfig::default()
    })
    .unwrap();
    let (listener, addr) = wa_sim::server::bind(0).await.unwrap();
    let server = ServerTarget {
        url: format!("ws://{addr}/ws/chat"),
        trusted_root: *sim.root_public_key().unwrap().as_bytes(),
    };
    let serving = sim.clone();
    let sim_task = tokio::spawn(async move {
        let _ = wa_sim::server::serve(serving, listener).await;
    });

    let dir = tempfile::tempdir().unwrap();
    let fake = FakeSender::default();
    let given = fake.clone();
    let mut runner = RunnerConfig::default();
    runner.gate.min_gap = Duration::ZERO;
    runner.gate.max_gap = Duration::ZERO;
    let setup = SchedulerSetup {
        sender: Some(Box::new(move |_engine: CurrentEngine| {
            Arc::new(given) as Arc<dyn DynSender>
        })),
        runner,
        ..SchedulerSetup::default()
    };
    let service = Service::start_with(
        support::options(dir.path(), server, "service-scheduler-test"),
        setup,
    )
    .unwrap();
    let mut events = service.subscribe();
    assert_eq!(service.scheduler_status().state, SchedulerState::Running);

    // Due while not linked yet: held.
    let early = service
        .create_schedule(&draft("+4915123456781", "first", 1))
        .unwrap();
    let qr = support::next(&mut events, 20, "a QR code", |e| match e {
        ServiceEvent::Engine(wa_client::EngineEvent::Qr { qr, .. }) => Some(qr.clone()),
        _ => None,
    })
    .await;
    assert!(
        fake.sent.lock().unwrap().is_empty(),
        "nothing goes before linking"
    );
    sim.scan(&qr).unwrap();
    support::next(&mut events, 30, "online", |e| match e {
        ServiceEvent::Connection(v) if v.state == "online" => Some(()),
        _ => None,
    })
    .await;

    // Once online the held one goes, and one made now goes when due.
    let later = service
        .create_schedule(&draft("+4915123456782", "second", 1))
        .unwrap();
    let refused = service
        .create_schedule(&draft(REFUSED, "third", 1))
        .unwrap();
    let mut sent = Vec::new();
    let mut alert = None;
    while sent.len() < 2 || alert.is_none() {
        let e = support::next(&mut events, 20, "sends", |e| match e {
            ServiceEvent::Schedules(c) => c.runner.clone().map(Ok),
            ServiceEvent::Alert(a) => Some(Err(a.clone())),
            _ => None,
        })
        .await;
        match e {
            Ok(RunnerEvent::Send {
                schedule_id,
                state: SendState::Sent,
                ..
            }) => sent.push(schedule_id),
            Ok(RunnerEvent::Send {
                schedule_id,
                state: SendState::Failed,
                advice,
                ..
            }) => {
                assert_eq!(schedule_id, refused.id);
                assert_eq!(
                    advice.as_deref(),
                    Some("This number does not use WhatsApp.")
                );
            }
            Ok(_) => {}
            Err(a) => {
                assert_eq!(a.summary, "A scheduled message failed");
                assert!(a.body.contains(REFUSED), "{}", a.body);
                alert = Some(a);
            }
        }
    }
    sent.sort_unstable();
    assert_eq!(sent, [early.id, later.id]);
    let texts: Vec<String> = fake
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|(_, s)| s.clone())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    let log = service.schedule_sends(early.id, 10).unwrap();
    assert_eq!(log[0].state, SendState::Sent);
    assert_eq!(log[0].message_id, fake.sent.lock().unwrap()[0].0);
    let health = service.health().await.unwrap();
    assert_eq!(health.scheduler, SchedulerState::Running);
    assert_eq!(health.scheduled_messages, 0);

    // Replaced by another client: "send now" is queued (the runner holds it until the link is
    // back; the paused-time runner tests show the holding).
    sim.kick(wa_sim::KickKind::Replaced, None);
    support::next(&mut events, 20, "replaced", |e| match e {
        ServiceEvent::Engine(wa_client::EngineEvent::State {
            state: ConnectionState::Replaced,
            ..
        }) => Some(()),
        _ => None,
    })
    .await;
    let again = service.send_now(early.id).unwrap();
    assert_eq!((again.state, again.seq), (SendState::Pending, 0));
    service.shutdown().await;
    sim_task.abort();
}
