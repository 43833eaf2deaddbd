//! Benchmark: messages sent and acked per second, CPU time per message, and memory with
//! about 1,000 established Signal sessions.
//!
//! Starts wa-sim on 127.0.0.1 in this process (its world: a contact with 3 devices, a group of
//! 50 contacts with one device each, and 333 more contacts with 3 devices), pairs the engine
//! over the real `WebSocketTransport`, then:
//! 1. sends N texts in a row to the 3-device contact, each waited for until its ack;
//! 2. sends N texts in a row to the 50-member group;
//! 3. sends one text to each of the 333 contacts (999 new sessions plus the others).
//!
//! CPU time is the whole process's (engine and simulator: every message is also decrypted by
//! each simulated device), from `/proc/self/stat`; memory is `VmRSS`/`VmHWM` from
//! `/proc/self/status`, likewise for both.
//!
//! `cargo run --release -p wa-client --example send_throughput -- [N]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use wa_client::{
    ConnectionState, Engine, EngineConfig, EngineDeps, EngineEvent, Outcome, OutgoingMessage,
    Recipient, SwJsFetcher, SystemClock, WebSocketTransport,
};
use wa_core::binary::{Jid, Server};
use wa_sim::{Addressing, ContactSpec, SimConfig, Simulator};

/// Process CPU time (user + system), from `/proc/self/stat` in clock ticks of 10 ms.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 of the file (utime, stime) are 11 and 12 after the command name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn spec(pn: String, companions: u16) -> ContactSpec {
    ContactSpec {
        pn: Some(pn),
        companions,
        ..ContactSpec::default()
    }
}

async fn run(
    engine: &wa_client::EngineHandle,
    label: &str,
    to: impl Fn(usize) -> Recipient,
    n: usize,
) {
    let (t, c) = (Instant::now(), cpu());
    for i in 0..n {
        let sent = engine
            .send(OutgoingMessage {
                id: format!("3EB0{label}{i:014}"),
                to: to(i),
                text: format!("message {i}"),
            })
            .await
            .unwrap();
        assert!(
            matches!(sent.outcome, Outcome::Acked { .. }),
            "{label} {i}: {:?}",
            sent.outcome
        );
    }
    let (wall, used) = (t.elapsed(), cpu().saturating_sub(c));
    println!(
        "{label}: {n} messages acked in {:.2} s = {:.0}/s; CPU {:.2} ms per message (engine + simulator)",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        used.as_secs_f64() * 1000.0 / n as f64
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let contact = "15552000000".to_owned();
    let members: Vec<String> = (1..=50).map(|i| format!("1555201{i:04}")).collect();
    let many: Vec<String> = (1..=333).map(|i| format!("1555202{i:04}")).collect();
    let mut contacts = vec![spec(contact.clone(), 2)];
    contacts.extend(members.iter().map(|m| spec(m.clone(), 0)));
    contacts.extend(many.iter().map(|m| spec(m.clone(), 2)));
    let sim = Simulator::new(SimConfig {
        contacts,
        ..SimConfig::default()
    })?;
    let (listener, addr) = wa_sim::server::bind(0).await?;
    tokio::spawn(wa_sim::server::serve(sim.clone(), listener));

    let dir = std::env::temp_dir().join(format!("wa-client-send-bench-{}", std::process::id()));
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
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut group_members = members.clone();
    group_members.push(sim.linked_number());
    let group = sim.create_group("Fifty", &group_members, Addressing::Pn)?;
    println!(
        "baseline: VmRSS {} kB (engine + simulator with its world)",
        status_kb("VmRSS:")
    );

    let user = |pn: &str| Recipient::User(Jid::new(pn, Server::Pn));
    run(&engine, "A", |_| user(&contact), n).await;
    let group_jid = Jid::new(group.clone(), Server::Group);
    run(&engine, "G", |_| Recipient::Group(group_jid.clone()), n).await;
    let before = status_kb("VmRSS:");
    run(&engine, "M", |i| user(&many[i]), many.len()).await;
    println!(
        "after sessions with 1,000+ devices: VmRSS {} kB (+{} kB for {} new sessions), VmHWM {} kB",
        status_kb("VmRSS:"),
        status_kb("VmRSS:").saturating_sub(before),
        many.len() * 3,
        status_kb("VmHWM:")
    );
    engine.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
