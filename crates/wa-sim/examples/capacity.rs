//! Capacity: N raw clients (default 200) against a real `wa-sim serve` process over loopback
//! WebSockets, each pinging every second for S seconds (default 60). Fails on any error and
//! prints the simulator's CPU time (/proc/PID/stat) and peak RSS (VmHWM in /proc/PID/status).
//!
//! `cargo run --release -p wa-sim --example capacity -- [CLIENTS] [SECONDS]`; the simulator
//! binary is `$WA_SIM`, or `wa-sim` next to the examples directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::net::{connect_ws, pair_ws, SimProcess};
use support::{iq, login};
use tokio::sync::{Barrier, Semaphore};
use wa_core::binary::Node;

fn sim_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("WA_SIM") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(|examples| examples.parent())
        .map(|dir| dir.join("wa-sim"))
        .expect("target dir")
}

/// utime + stime of `pid` in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command name, which is in parentheses and may contain spaces.
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    let hz = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    ticks as f64 / hz
}

fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let clients: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let seconds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(60);
    let state = std::env::temp_dir().join(format!("wa-sim-capacity-{}", std::process::id()));
    let sim = Arc::new(SimProcess::start(&sim_binary(), &state));
    let pid = sim.pid();
    println!("wa-sim pid {pid}; pairing {clients} devices");

    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(16));
    let mut pairings = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (sim, gate) = (sim.clone(), gate.clone());
        pairings.spawn(async move {
            let _permit = gate.acquire().await.expect("semaphore");
            pair_ws(&sim).await
        });
    }
    let mut devices = Vec::new();
    while let Some(r) = pairings.join_next().await {
        devices.push(r.expect("pairing"));
    }
    println!(
        "paired {} devices in {:.1} s",
        devices.len(),
        started.elapsed().as_secs_f64()
    );

    let cpu_before = cpu_seconds(pid);
    let barrier = Arc::new(Barrier::new(clients + 1));
    let mut sessions = tokio::task::JoinSet::new();
    for (n, (keys, jid)) in devices.into_iter().enumerate() {
        let (sim, barrier) = (sim.clone(), barrier.clone());
        sessions.spawn(async move {
            let mut client = connect_ws(&sim.url).await;
            client.handshake(&keys.noise, &sim.root, &login(&jid)).await;
            let success = client.recv().await;
            if success.tag != "success" {
                return Err(format!("client {n}: {success}"));
            }
            barrier.wait().await;
            let mut worst = Duration::ZERO;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            for i in 0..seconds {
                tick.tick().await;
                let id = format!("{n}.{i}");
                let sent = Instant::now();
                client
                    .send_node(&iq(&id, "get", "w:p", vec![Node::new("ping")]))
                    .await;
                let pong = tokio::time::timeout(Duration::from_secs(5), client.recv())
                    .await
                    .map_err(|_| format!("client {n}: ping {i} unanswered"))?;
                if pong.attr_str("id") != Some(id.as_str())
                    || pong.attr_str("type") != Some("result")
                {
                    return Err(format!("client {n}: unexpected {pong}"));
                }
                worst = worst.max(sent.elapsed());
            }
            client.close();
            Ok::<Duration, String>(worst)
        });
    }
    barrier.wait().await;
    let ping_start = Instant::now();
    let mut errors = Vec::new();
    let mut worst = Duration::ZERO;
    while let Some(r) = sessions.join_next().await {
        match r {
            Ok(Ok(w)) => worst = worst.max(w),
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(format!("task failed: {e}")),
        }
    }
    let elapsed = ping_start.elapsed().as_secs_f64();
    let cpu_after = cpu_seconds(pid);
    let hwm = status_kib(pid, "VmHWM:");
    let rss = status_kib(pid, "VmRSS:");
    let (_, view) = support::net::http("GET", &format!("{}/state", sim.admin), "").await;
    println!(
        "{clients} clients x {seconds} s: {} pings answered, {} errors, slowest pong {} ms",
        view["counters"]["pings"],
        errors.len(),
        worst.as_millis()
    );
    println!(
        "simulator CPU: {:.2} s during the ping phase ({:.1} % of one core over {elapsed:.1} s), {:.2} s in total",
        cpu_after - cpu_before,
        100.0 * (cpu_after - cpu_before) / elapsed,
        cpu_after
    );
    println!("simulator memory: peak RSS (VmHWM) {hwm} KiB, RSS now {rss} KiB");
    drop(sim);
    let _ = std::fs::remove_dir_all(&state);
    if !errors.is_empty() {
        for e in errors.iter().take(10) {
            eprintln!("error: {e}");
        }
        std::process::exit(1);
    }
}
