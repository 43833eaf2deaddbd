//! Soak: 1,000 forced reconnects; memory growth stays under 1 MB and the task count is flat.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use support::*;
use wa_client::EngineEvent;
use wa_sim::KickKind;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

async fn reconnect(h: &mut Harness, i: usize) {
    // Alternate the user's "reconnect now" (our teardown) and the server's 515.
    if (i & 1) == 0 {
        h.engine.reconnect_now();
    } else {
        h.sim.kick(KickKind::RestartRequired, None);
    }
    h.wait_for("online", |e| {
        matches!(
            e,
            EngineEvent::State {
                state: wa_client::ConnectionState::Online { .. },
                ..
            }
        )
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_thousand_forced_reconnects_leak_nothing() {
    let mut h = Harness::start("soak");
    h.pair().await;
    let metrics = tokio::runtime::Handle::current().metrics();
    // Warm up: allocator pools, the sim's tables, the store's page cache.
    for i in 0..100 {
        reconnect(&mut h, i).await;
    }
    let tasks_before = metrics.num_alive_tasks();
    let rss_before = rss_bytes();
    let started = std::time::Instant::now();
    for i in 0..1000 {
        reconnect(&mut h, i).await;
    }
    let tasks_after = metrics.num_alive_tasks();
    let rss_after = rss_bytes();
    let growth = rss_after.saturating_sub(rss_before);
    println!(
        "soak: 1000 reconnects in {:?}; RSS {} -> {} kB (+{} kB); alive tasks {} -> {}",
        started.elapsed(),
        rss_before / 1024,
        rss_after / 1024,
        growth / 1024,
        tasks_before,
        tasks_after
    );
    assert!(growth < 1024 * 1024, "RSS grew by {growth} bytes");
    assert!(
        tasks_after <= tasks_before + 2,
        "tasks {tasks_before} -> {tasks_after}"
    );
    h.engine.shutdown().await;
}
