//! Keepalive against the simulator, with tokio's clock paused: a silent stall is caught within
//! interval + deadline (30 s) of its start at every phase of the ping cycle, and an idle link
//! costs one ping per 20 s.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use support::*;
use tokio::time::Instant;
use wa_client::EngineEvent;

/// Online, with one keepalive cycle done: the last pong is the start of the next cycle.
async fn online_after_a_pong(tag: &str) -> (Harness, Instant) {
    let mut h = Harness::start(tag);
    h.pair().await;
    h.wait_for("pong", |e| matches!(e, EngineEvent::Pong { .. }))
        .await;
    (h, Instant::now())
}

#[tokio::test(start_paused = true)]
async fn a_stall_at_any_phase_is_caught_within_thirty_seconds() {
    // From just after a pong to just before the next ping, and the instant of the ping.
    let phases_ms = [
        0, 1, 2_500, 5_000, 7_500, 10_000, 12_500, 15_000, 17_500, 19_999, 20_000,
    ];
    let mut slowest = Duration::ZERO;
    for phase_ms in phases_ms {
        let (mut h, pong) = online_after_a_pong(&format!("ka-phase-{phase_ms}")).await;
        tokio::time::sleep_until(pong + Duration::from_millis(phase_ms)).await;
        h.sim.stall();
        let stalled = Instant::now();
        let mut timeouts = 0;
        let d = loop {
            match h
                .wait_for("the stall's end", |e| {
                    matches!(
                        e,
                        EngineEvent::Disconnected(_) | EngineEvent::KeepAliveTimeout { .. }
                    )
                })
                .await
            {
                EngineEvent::Disconnected(d) => break d,
                _ => timeouts += 1,
            }
        };
        let took = stalled.elapsed();
        assert_eq!(
            d.cause,
            wa_core::disconnect::Cause::DeadSocket,
            "phase {phase_ms} ms"
        );
        assert!(
            took <= Duration::from_secs(30),
            "phase {phase_ms} ms: caught after {took:?}"
        );
        slowest = slowest.max(took);
        // One ping into the stall, not a series.
        assert_eq!(timeouts, 1, "phase {phase_ms} ms");
        h.sim.unstall();
        h.wait_state("online").await;
        h.engine.shutdown().await;
    }
    eprintln!(
        "slowest detection over {} phases: {slowest:?}",
        phases_ms.len()
    );
}

#[tokio::test(start_paused = true)]
async fn an_idle_link_costs_one_ping_per_twenty_seconds() {
    let (mut h, first) = online_after_a_pong("ka-idle").await;
    let pings_before = h.sim.state().counters.pings;
    let mut last = first;
    for _ in 0..5 {
        h.wait_for("pong", |e| matches!(e, EngineEvent::Pong { .. }))
            .await;
        let gap = last.elapsed();
        assert!(
            gap >= Duration::from_secs(20) && gap <= Duration::from_secs(21),
            "{gap:?} between pings"
        );
        last = Instant::now();
    }
    let span = first.elapsed();
    let pings = h.sim.state().counters.pings - pings_before;
    assert_eq!(pings, 5, "{pings} pings in {span:?}");
    h.engine.shutdown().await;
}
