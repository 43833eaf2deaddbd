//! "Skip if they have written to me since" across WhatsApp's two namespaces, against a
//! simulator on 127.0.0.1 with the real engine: a schedule to a phone number is skipped when
//! the contact writes from its LID chat, and a schedule to a LID when the contact writes from
//! its phone-number chat — the engine's LID ↔ phone-number pairs make them one person. A
//! schedule whose contact did not write is sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use herald_core::schedule::draft::ScheduleDraft;
use herald_core::schedule::outbox::SendState;
use herald_core::schedule::runner::RunnerConfig;
use herald_core::scheduler::{engine_sender, SchedulerSetup};
use herald_core::service::{ServerTarget, Service, ServiceEvent};
use jiff::Timestamp;
use wa_client::EngineEvent;
use wa_core::binary::{Jid, Server};
use wa_sim::{Addressing, Chat, ContactSpec};

/// Ada does not write; Grace writes from her phone number; Linus's chats are LID-addressed,
/// so he writes from his LID.
const ADA: &str = "4915123456789";
const GRACE: &str = "4915123456790";
const LINUS: &str = "4915123456791";

/// A one-shot in `secs`, skipped if they write since.
fn draft(to: &str, secs: i64) -> ScheduleDraft {
    let skip = serde_json::json!({ "skipIfReplied": true });
    support::one_shot(to, "Did you see my last message?", secs, skip)
}

/// The state a schedule's only send settles in (anything but pending or sending).
async fn settled(service: &Service, id: i64) -> (SendState, Option<String>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let log = service.schedule_sends(id, 10).unwrap();
        if let [send] = log.as_slice() {
            if !matches!(send.state, SendState::Pending | SendState::Sending) {
                return (send.state, send.error_code.clone());
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "schedule {id} did not settle: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_reply_from_the_other_namespace_skips_the_send() {
    let sim_dir = tempfile::tempdir().unwrap();
    let contact = |pn: &str, addressing| ContactSpec {
        pn: Some(pn.into()),
        addressing,
        ..ContactSpec::default()
    };
    let sim = wa_sim::Simulator::new(wa_sim::SimConfig {
        state_dir: Some(sim_dir.path().to_path_buf()),
        contacts: vec![
            contact(ADA, Addressing::Pn),
            contact(GRACE, Addressing::Pn),
            contact(LINUS, Addressing::Lid),
        ],
        ..wa_sim::SimConfig::default()
    })
    .unwrap();
    let (listener, addr) = wa_sim::server::bind(0).await.unwrap();
    let server = ServerTarget {
        url: format!("ws://{addr}/ws/chat"),
        trusted_root: *sim.root_public_key().unwrap().as_bytes(),
    };
    let serving = sim.clone();
    tokio::spawn(async move {
        let _ = wa_sim::server::serve(serving, listener).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let options = support::options(dir.path(), server, "reply-lid-test");
    let mut runner = RunnerConfig::default();
    runner.gate.min_gap = Duration::ZERO;
    runner.gate.max_gap = Duration::ZERO;
    let setup = SchedulerSetup {
        sender: Some(engine_sender()),
        runner,
        ..SchedulerSetup::default()
    };
    let service = Service::start_with(options, setup).unwrap();
    let mut events = service.subscribe();
    let qr = support::next(&mut events, 30, "a QR code", |e| match e {
        ServiceEvent::Engine(EngineEvent::Qr { qr, .. }) => Some(qr.clone()),
        _ => None,
    })
    .await;
    sim.scan(&qr).unwrap();
    support::next(&mut events, 30, "online", |e| match e {
        ServiceEvent::Connection(v) if v.state == "online" => Some(()),
        _ => None,
    })
    .await;
    let me = Chat::Direct(sim.linked_number());

    // Grace's LID, as the compose form's check learns it; her schedule is by LID.
    service
        .check_number(&format!("+{GRACE}"), None)
        .await
        .unwrap();
    let grace_lid = service
        .engine()
        .await
        .counterpart(&Jid::new(GRACE, Server::Pn))
        .unwrap()
        .expect("the check remembered Grace's LID");
    assert_eq!(grace_lid.server, Server::Lid);

    let by_number = service
        .create_schedule(&draft(&format!("+{LINUS}"), 6))
        .unwrap();
    let by_lid = service
        .create_schedule(&draft(&grace_lid.to_string(), 6))
        .unwrap();
    let quiet = service
        .create_schedule(&draft(&format!("+{ADA}"), 6))
        .unwrap();
    // A message's time is in whole seconds: one written in the second the schedules were
    // made could be from before them. Write in the next second.
    let into_second = Timestamp::now().subsec_nanosecond();
    tokio::time::sleep(Duration::from_nanos(1_000_000_000 - into_second as u64)).await;

    // Linus writes from his LID chat; Grace from her phone-number chat.
    sim.contact_send(LINUS, 0, &me, "on my way").unwrap();
    let chat = support::next(&mut events, 30, "Linus's message", |e| match e {
        ServiceEvent::Engine(EngineEvent::Message { text, chat, .. }) if text == "on my way" => {
            Some(chat.clone())
        }
        _ => None,
    })
    .await;
    assert!(chat.ends_with("@lid"), "Linus wrote from {chat}");
    sim.contact_send(GRACE, 0, &me, "yes, thanks").unwrap();
    let chat = support::next(&mut events, 30, "Grace's message", |e| match e {
        ServiceEvent::Engine(EngineEvent::Message { text, chat, .. }) if text == "yes, thanks" => {
            Some(chat.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(chat, format!("{GRACE}@s.whatsapp.net"));

    let skipped = (SendState::Cancelled, Some("replied".to_owned()));
    assert_eq!(settled(&service, by_number.id).await, skipped, "Linus");
    assert_eq!(settled(&service, by_lid.id).await, skipped, "Grace");
    // Ada's went out; her phone's delivery receipt may already have settled it further.
    let ada = settled(&service, quiet.id).await.0;
    assert!(
        matches!(
            ada,
            SendState::Sent | SendState::Delivered | SendState::Read
        ),
        "Ada: {ada:?}"
    );
    // Nothing went to the two who wrote.
    let to = |pn: &str| {
        sim.received(pn, 0)
            .iter()
            .filter(|s| s.texts.iter().any(|t| t == "Did you see my last message?"))
            .count()
    };
    assert_eq!((to(LINUS), to(GRACE)), (0, 0));
    service.shutdown().await;
}
