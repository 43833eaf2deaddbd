//! "Checked on WhatsApp before saving", against a simulator on 127.0.0.1: before linking and
//! while offline a number cannot be checked and a schedule to it is still saved; online, a
//! number with WhatsApp is confirmed with its user, one without is refused on the `to` field
//! and nothing is saved.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use herald_core::number_check::{NumberCheck, Unchecked};
use herald_core::schedule::draft::ScheduleDraft;
use herald_core::scheduler::SchedulerSetup;
use herald_core::service::{ServerTarget, Service, ServiceError, ServiceEvent};

/// A contact of the simulated world (Ada of the demo).
const ADA: &str = "4915123456789";
/// A valid German mobile number nobody in the simulated world has.
const NOBODY: &str = "+49 151 23456780";

fn draft(to: &str) -> ScheduleDraft {
    support::one_shot(to, "Hallo", 2 * 3600, serde_json::Value::Null)
}

#[tokio::test]
async fn numbers_are_checked_on_whatsapp_and_an_unknown_one_is_refused() {
    let sim_dir = tempfile::tempdir().unwrap();
    let sim = wa_sim::Simulator::new(wa_sim::SimConfig {
        state_dir: Some(sim_dir.path().to_path_buf()),
        contacts: vec![wa_sim::ContactSpec {
            pn: Some(ADA.into()),
            ..wa_sim::ContactSpec::default()
        }],
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
    let options = support::options(dir.path(), server, "number-check-test");
    let service = Service::start_with(options, SchedulerSetup::default()).unwrap();
    let mut events = service.subscribe();
    assert!(service.scheduler_status().checks_numbers);

    // Not linked yet: nothing to ask with, and saying so is not a refusal.
    let qr = support::next(&mut events, 30, "a QR code", |e| match e {
        ServiceEvent::Engine(wa_client::EngineEvent::Qr { qr, .. }) => Some(qr.clone()),
        _ => None,
    })
    .await;
    let before = service.check_number(NOBODY, None).await.unwrap();
    assert!(
        matches!(
            before,
            NumberCheck::Unchecked {
                reason: Unchecked::NotLinked | Unchecked::Offline,
                ..
            }
        ),
        "{before:?}"
    );

    sim.scan(&qr).unwrap();
    support::next(&mut events, 30, "online", |e| match e {
        ServiceEvent::Connection(v) if v.state == "online" => Some(String::new()),
        _ => None,
    })
    .await;

    // A number on WhatsApp, typed the national way, comes back with its user.
    assert_eq!(
        service
            .check_number("0151 23456789", Some("DE"))
            .await
            .unwrap(),
        NumberCheck::OnWhatsApp {
            phone: format!("+{ADA}"),
            jid: format!("{ADA}@s.whatsapp.net"),
        }
    );
    // One without WhatsApp is said so …
    assert_eq!(
        service.check_number(NOBODY, None).await.unwrap(),
        NumberCheck::NotOnWhatsApp {
            phone: "+4915123456780".into()
        }
    );
    // … and a schedule to it is refused on the `to` field, with nothing saved.
    match service.create_schedule_checked(&draft(NOBODY)).await {
        Err(ServiceError::Draft(e)) => {
            assert_eq!(e.field, "to");
            assert!(e.message.contains("is not on WhatsApp"), "{}", e.message);
        }
        other => panic!("not refused: {other:?}"),
    }
    assert!(service.schedules().unwrap().is_empty());
    // A group needs no check; a number that is not one is refused as the form's field.
    assert_eq!(
        service
            .check_number("120363012345678901@g.us", None)
            .await
            .unwrap(),
        NumberCheck::NotANumber
    );
    assert!(matches!(
        service.check_number("+12", None).await,
        Err(ServiceError::Draft(e)) if e.field == "to"
    ));
    let saved = service
        .create_schedule_checked(&draft(&format!("+{ADA}")))
        .await
        .unwrap();
    assert_eq!(saved.to, format!("+{ADA}"));

    // Offline: the number cannot be checked now, and the schedule is saved anyway (it is
    // checked when its message goes).
    sim_task.abort();
    sim.drop_connections(None);
    let mut state = service.engine().await.state();
    tokio::time::timeout(
        Duration::from_secs(30),
        state.wait_for(|s| !matches!(s, wa_client::ConnectionState::Online { .. })),
    )
    .await
    .unwrap()
    .unwrap();
    let offline = service.check_number(NOBODY, None).await.unwrap();
    assert!(
        matches!(
            offline,
            NumberCheck::Unchecked {
                reason: Unchecked::Offline,
                ..
            }
        ),
        "{offline:?}"
    );
    service
        .create_schedule_checked(&draft(NOBODY))
        .await
        .unwrap();
    assert_eq!(service.schedules().unwrap().len(), 2);
    service.shutdown().await;
}
