use super::*;
use crate::clock::TokioClock;
use crate::events::{DecisionKind, PausedReason, VersionSource};
use wa_core::disconnect::{Cause, EndState};

fn disconnect(cause: Cause, code: Option<u16>) -> Disconnect {
    Disconnect {
        at_ms: UnixMillis(3),
        cause,
        title: cause.title().to_owned(),
        code,
        decision: DecisionKind::Stop,
        stop: Some(EndState::Replaced),
        advice: "advice".into(),
        attempt: 0,
        delay_ms: None,
        online_for_ms: 0,
        notify: true,
    }
}

/// What an event should change in health.
type Change = Box<dyn Fn(&mut Health)>;

#[test]
fn each_event_changes_only_its_part_of_health() {
    let backoff = ConnectionState::Backoff {
        attempt: 2,
        until_ms: UnixMillis(90),
        cause: Cause::ServerClosed,
    };
    let cases: Vec<(EngineEvent, Change)> = vec![
        (
            EngineEvent::State {
                at_ms: UnixMillis(10),
                state: backoff,
            },
            Box::new(|h| {
                h.state = "backoff".into();
                h.state_since_ms = UnixMillis(10);
                h.next_retry_at_ms = Some(UnixMillis(90));
            }),
        ),
        (
            EngineEvent::State {
                at_ms: UnixMillis(11),
                state: ConnectionState::Paused {
                    reason: PausedReason::NeedsAttention,
                },
            },
            Box::new(|h| {
                h.state = "paused".into();
                h.state_since_ms = UnixMillis(11);
                h.next_retry_at_ms = None;
            }),
        ),
        (
            EngineEvent::Disconnected(disconnect(Cause::Replaced, Some(440))),
            Box::new(|h| {
                h.last_cause = Some(Cause::Replaced);
                h.last_code = Some(440);
                h.last_advice = Some("advice".into());
            }),
        ),
        (
            EngineEvent::Pong {
                at_ms: UnixMillis(12),
                rtt_ms: 40,
            },
            Box::new(|h| {
                h.rtt_ms = Some(40);
                h.last_pong_ms = Some(UnixMillis(12));
            }),
        ),
        (
            EngineEvent::Version {
                version: "2.3000.1".into(),
                source: VersionSource::Fetched,
            },
            Box::new(|h| {
                h.version = Some("2.3000.1".into());
                h.version_source = Some(VersionSource::Fetched);
            }),
        ),
        (
            EngineEvent::Paired {
                jid: "1@s.whatsapp.net".into(),
                lid: None,
                platform: None,
                business_name: None,
            },
            Box::new(|h| h.jid = Some("1@s.whatsapp.net".into())),
        ),
        (
            EngineEvent::LoggedOut {
                cause: Cause::UserLogout,
                archive: None,
            },
            Box::new(|h| h.jid = None),
        ),
        (EngineEvent::PrekeysUploaded { count: 5 }, Box::new(|_| {})),
        (
            EngineEvent::KeepAliveTimeout {
                failures: 1,
                last_pong_ms: None,
            },
            Box::new(|_| {}),
        ),
    ];
    let start = Health {
        state: "online".into(),
        jid: Some("old@s.whatsapp.net".into()),
        next_retry_at_ms: Some(UnixMillis(1)),
        attempt: 4,
        ..Health::default()
    };
    for (event, expect) in cases {
        let mut got = start.clone();
        note(&mut got, &event);
        let mut want = start.clone();
        expect(&mut want);
        assert_eq!(got, want, "{event:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_state_reaches_the_watch_and_health_before_its_event() {
    let (outbox, readers) = Outbox::new(Arc::new(TokioClock::starting_at(1_000)), 8);
    let mut events = readers.events.subscribe();
    let watch = readers.state.clone();
    outbox.set_state(ConnectionState::LoggingIn);
    assert_eq!(*watch.borrow(), ConnectionState::LoggingIn);
    assert_eq!(readers.health.snapshot().state, "logging_in");
    match events.recv().await.unwrap() {
        EngineEvent::State { state, at_ms } => {
            assert_eq!(state, ConnectionState::LoggingIn);
            assert_eq!(at_ms, UnixMillis(1_000));
        }
        other => panic!("expected a state event, got {other:?}"),
    }
    assert_eq!(outbox.state(), ConnectionState::LoggingIn);

    outbox.disconnected(disconnect(Cause::ServerClosed, None), 3);
    assert!(matches!(
        events.recv().await.unwrap(),
        EngineEvent::Disconnected(_)
    ));
    let h = readers.health.snapshot();
    assert_eq!((h.attempt, h.last_cause), (3, Some(Cause::ServerClosed)));
}
