//! The keepalive policy, as tables: what [`decide`] says at each point of the cycle.

use super::*;

const S: fn(u64) -> Duration = Duration::from_secs;

fn config() -> KeepaliveConfig {
    KeepaliveConfig::default()
}

#[test]
fn defaults_give_the_thirty_second_bound() {
    let c = config();
    assert_eq!(silence_interval(&c) + c.response_deadline, S(30));
}

#[tokio::test(start_paused = true)]
async fn decisions_follow_silence_and_the_ping_deadline() {
    let t0 = Instant::now();
    let at = |s: u64| t0 + S(s);
    let ms = |m: u64| t0 + Duration::from_millis(m);
    let link = |received: Instant, ping: Option<Instant>, unanswered: Option<Instant>| Link {
        last_received: received,
        ping_sent: ping,
        first_unanswered_send: unanswered,
    };
    // (link, now, expected)
    let table = [
        // Quiet for less than the interval: wait until it has been 20 s.
        (link(at(0), None, None), at(0), Action::WaitUntil(at(20))),
        (
            link(at(0), None, None),
            ms(19_999),
            Action::WaitUntil(at(20)),
        ),
        // 20 s of silence: ping.
        (link(at(0), None, None), at(20), Action::Ping),
        (link(at(0), None, None), at(45), Action::Ping),
        // Traffic moves the next ping out: no ping while things arrive.
        (link(at(15), None, None), at(20), Action::WaitUntil(at(35))),
        // A ping out and nothing since: its deadline decides.
        (
            link(at(0), Some(at(20)), Some(at(20))),
            at(25),
            Action::WaitUntil(at(30)),
        ),
        (
            link(at(0), Some(at(20)), Some(at(20))),
            ms(29_999),
            Action::WaitUntil(at(30)),
        ),
        (
            link(at(0), Some(at(20)), Some(at(20))),
            at(30),
            Action::Dead,
        ),
        // Something (the pong or anything else) arrived after the ping: alive; no second ping
        // while the first is still awaited.
        (
            link(at(22), Some(at(20)), None),
            at(25),
            Action::WaitUntil(at(30)),
        ),
        // Its deadline passed (no answer, but the link is alive): silence decides again.
        (
            link(at(22), Some(at(20)), None),
            at(30),
            Action::WaitUntil(at(42)),
        ),
        (link(at(22), Some(at(20)), None), at(42), Action::Ping),
        // WhatsApp Web's rule: a request unanswered and nothing received for 20 s.
        (
            link(at(0), None, Some(at(5))),
            at(10),
            Action::WaitUntil(at(20)),
        ),
        (
            link(at(0), None, Some(at(1))),
            at(19),
            Action::WaitUntil(at(20)),
        ),
        (link(at(0), None, Some(at(1))), at(20), Action::Ping),
        (link(at(0), None, Some(at(1))), at(21), Action::Dead),
        // A request just before the ping: the earlier of the two deadlines wakes the task.
        (
            link(at(0), Some(at(20)), Some(at(19))),
            at(25),
            Action::WaitUntil(at(30)),
        ),
    ];
    for (i, (l, now, want)) in table.into_iter().enumerate() {
        assert_eq!(
            decide(&l, now, &config()),
            want,
            "row {i}: {l:?} at {:?}",
            now - t0
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_rule_can_be_switched_off_and_the_interval_set() {
    let t0 = Instant::now();
    let c = KeepaliveConfig {
        dead_socket_after: None,
        silence_before_ping: S(60),
        ..config()
    };
    let l = Link {
        last_received: t0,
        ping_sent: None,
        first_unanswered_send: Some(t0),
    };
    assert_eq!(decide(&l, t0 + S(59), &c), Action::WaitUntil(t0 + S(60)));
    assert_eq!(decide(&l, t0 + S(60), &c), Action::Ping);
}

/// A stall that starts at any moment of the cycle, simulated on the policy alone: the link is
/// declared dead within interval + deadline of the stall's start, with one ping in the stall.
#[tokio::test(start_paused = true)]
async fn every_phase_of_the_cycle_is_caught_within_thirty_seconds() {
    let c = config();
    let t0 = Instant::now();
    let rtt = Duration::from_millis(300);
    for offset_ms in (0..40_000u64).step_by(250) {
        let stall = t0 + Duration::from_millis(offset_ms);
        let mut l = Link {
            last_received: t0,
            ping_sent: None,
            first_unanswered_send: None,
        };
        let mut now = t0;
        let mut pings_in_stall = 0;
        let dead_at = loop {
            // An answer to an outstanding ping arrives rtt later, unless the stall began.
            if let Some(sent) = l.ping_sent {
                if sent + rtt <= now && sent + rtt < stall && l.last_received < sent + rtt {
                    l.last_received = sent + rtt;
                    l.ping_sent = None;
                    l.first_unanswered_send = None;
                }
            }
            match decide(&l, now, &c) {
                Action::Dead => break now,
                Action::Ping => {
                    if now >= stall {
                        pings_in_stall += 1;
                    }
                    l.ping_sent = Some(now);
                    l.first_unanswered_send = l.first_unanswered_send.or(Some(now));
                }
                Action::WaitUntil(at) => {
                    // Wake for the pong if it comes first.
                    let pong = l.ping_sent.map(|s| s + rtt).filter(|p| *p > now);
                    now = pong.map_or(at, |p| p.min(at));
                }
            }
        };
        let took = dead_at - stall.min(dead_at);
        assert!(
            took <= S(30),
            "stall at +{offset_ms} ms caught after {took:?}"
        );
        assert!(
            pings_in_stall <= 1,
            "stall at +{offset_ms} ms: {pings_in_stall} pings"
        );
    }
}
