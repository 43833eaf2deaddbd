//! Benchmark: stream error 515 → online again, over a real WebSocket on loopback.
//!
//! Starts wa-sim on 127.0.0.1 in this process, pairs the engine through the real
//! `WebSocketTransport`, then kicks it with `<stream:error code="515"/>` N times and measures
//! the time from the kick to the engine's `Online` state (dial, Noise handshake with
//! certificate check, login payload, `<success>`). Also prints the transport test's side
//! effect: that the `Origin` header and binary-only messages are accepted by the simulator.
//!
//! `cargo run --release -p wa-client --example reconnect_latency -- [N]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use wa_client::{
    ConnectionState, Engine, EngineConfig, EngineDeps, EngineEvent, SwJsFetcher, SystemClock,
    WebSocketTransport,
};
use wa_sim::{KickKind, SimConfig, Simulator};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let sim = Simulator::new(SimConfig::default())?;
    let (listener, addr) = wa_sim::server::bind(0).await?;
    tokio::spawn(wa_sim::server::serve(sim.clone(), listener));

    let dir = std::env::temp_dir().join(format!("wa-client-bench-{}", std::process::id()));
    let mut config = EngineConfig {
        data_dir: dir.clone(),
        server_url: format!("ws://{addr}/ws/chat"),
        trusted_root: sim.root_public_key()?,
        ..EngineConfig::default()
    };
    config.version.sw_js_url = None;
    let deps = EngineDeps {
        transport: Arc::new(WebSocketTransport::new()?),
        clock: Arc::new(SystemClock),
        version_fetcher: Arc::new(SwJsFetcher::new()?),
    };
    let engine = Engine::start_with(config, deps)?;
    let mut events = engine.subscribe();
    let mut state = engine.state();
    loop {
        if let EngineEvent::Qr { qr, .. } = events.recv().await? {
            sim.scan(&qr).map_err(|e| format!("scan: {e:?}"))?;
            break;
        }
    }
    state
        .wait_for(|s| matches!(s, ConnectionState::Online { .. }))
        .await?;
    // Let the post-login upkeep (812 prekeys) finish so it does not overlap the first kick.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        sim.kick(KickKind::RestartRequired, None);
        state
            .wait_for(|s| !matches!(s, ConnectionState::Online { .. }))
            .await?;
        state
            .wait_for(|s| matches!(s, ConnectionState::Online { .. }))
            .await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "515 -> online over ws://127.0.0.1 ({n} runs): median {:.2} ms, p95 {:.2} ms, min {:.2} ms, max {:.2} ms",
        ms(samples[n / 2]),
        ms(samples[n * 95 / 100]),
        ms(samples[0]),
        ms(samples[n - 1])
    );
    engine.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
