//! Whole-process figures for `herald-cli connect` next to a Baileys client, both linked to one
//! simulator on 127.0.0.1 in the same run: idle memory (RSS, PSS) and CPU time over an idle
//! period, and the time from a `515` kick (through the simulator's control API) to the
//! client's next "online" line on its stdout.
//!
//! ```sh
//! (cd conformance && npm ci)
//! cargo build --release -p herald-cli --bins --examples
//! target/release/examples/vs_baileys [--kicks 50] [--idle-secs 30]
//! ```
//!
//! Linux only (it reads `/proc`). The Baileys side is `conformance/bench-baileys-client.mjs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "bench/mod.rs"]
mod bench;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bench::{
    cpu_seconds, cpu_seconds_precise, memory_kb, node_version, ticks_per_second, Client, Result,
};
use serde_json::Value;
use wa_sim::{KickKind, Phase, SimConfig, Simulator};

/// A step that takes longer than this is a failure, not a slow result.
const STEP: Duration = Duration::from_secs(20);
/// Quiet time between kicks, so each reconnect starts from a settled connection.
const BETWEEN_KICKS: Duration = Duration::from_millis(300);

struct Options {
    kicks: usize,
    idle: Duration,
    herald: PathBuf,
    script: PathBuf,
}

fn options() -> Result<Options> {
    let exe = std::env::current_exe()?;
    // target/release/examples/vs_baileys -> target/release/herald-cli
    let release = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot find the target folder")?;
    let mut o = Options {
        kicks: 50,
        idle: Duration::from_secs(30),
        herald: release.join("herald-cli"),
        script: Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../conformance/bench-baileys-client.mjs"),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--kicks" => o.kicks = value.parse()?,
            "--idle-secs" => o.idle = Duration::from_secs(value.parse()?),
            "--herald" => o.herald = value.into(),
            "--script" => o.script = value.into(),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    if o.kicks == 0 {
        return Err("--kicks must be at least 1".into());
    }
    Ok(o)
}

fn herald_online(v: &Value) -> bool {
    v["event"] == "state" && v["state"] == "online"
}

fn baileys_open(v: &Value) -> bool {
    v["event"] == "open"
}

/// The open, logged-in connection of `jid`.
fn connection_of(sim: &Simulator, jid: &str) -> Option<u64> {
    sim.state()
        .connections
        .iter()
        .find(|c| c.phase == Phase::LoggedIn && c.device.as_deref() == Some(jid))
        .map(|c| c.id)
}

fn logged_in_devices(sim: &Simulator) -> Vec<String> {
    sim.state()
        .connections
        .iter()
        .filter(|c| c.phase == Phase::LoggedIn)
        .filter_map(|c| c.device.clone())
        .collect()
}

/// Kicks `client`'s connection with 515 and returns the time to its next online line.
fn kick_515(sim: &Simulator, rt: &tokio::runtime::Runtime, client: &Client) -> Result<Duration> {
    let jid = client.jid.as_deref().ok_or("client without a jid")?;
    let deadline = Instant::now() + STEP;
    let conn = loop {
        if let Some(c) = connection_of(sim, jid) {
            break c;
        }
        if Instant::now() > deadline {
            return Err(format!("{}: no logged-in connection", client.name).into());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    client.drain();
    let _guard = rt.enter();
    let kicked_at = Instant::now();
    if sim.kick(KickKind::RestartRequired, Some(conn)) != 1 {
        return Err(format!("{}: connection {conn} was not kicked", client.name).into());
    }
    let online = if client.name == "herald-cli" {
        herald_online
    } else {
        baileys_open
    };
    let (at, _) = client.wait("online after 515", STEP, online)?;
    Ok(at.duration_since(kicked_at))
}

struct Stats {
    median: f64,
    p95: f64,
    min: f64,
    max: f64,
}

fn stats(samples: &[Duration]) -> Stats {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    // Nearest rank: the smallest sample with at least q of all samples at or below it.
    let rank = |q: f64| {
        let i = ((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1;
        ms[i]
    };
    Stats {
        median: rank(0.5),
        p95: rank(0.95),
        min: ms[0],
        max: ms[ms.len() - 1],
    }
}

fn main() -> Result<()> {
    let o = options()?;
    if !o.herald.exists() {
        return Err(format!(
            "{} is missing: cargo build --release -p herald-cli --bins",
            o.herald.display()
        )
        .into());
    }
    let work = tempfile::Builder::new().prefix("vs-baileys-").tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let sim = Simulator::new(SimConfig::default())?;
    let (listener, addr) = rt.block_on(wa_sim::server::bind(0))?;
    rt.spawn(wa_sim::server::serve(sim.clone(), listener));
    let url = format!("ws://{addr}/ws/chat");
    let root = sim.root_pub_hex()?;

    // herald-cli: pair by QR, then online after the 515.
    let mut command = Command::new(&o.herald);
    command
        .args(["connect", "--json", "--server", &url, "--trust-root", &root])
        .arg("--data-dir")
        .arg(work.path().join("herald"))
        .env("RUST_LOG", "warn");
    let mut herald = Client::spawn("herald-cli", command, false)?;
    let (_, qr) = herald.wait("QR", STEP, |v| v["event"] == "qr")?;
    {
        let _guard = rt.enter();
        sim.scan(qr["qr"].as_str().ok_or("no qr text")?)?;
    }
    let (_, paired) = herald.wait("paired", STEP, |v| v["event"] == "paired")?;
    herald.jid = paired["jid"].as_str().map(str::to_owned);
    herald.wait("online", STEP, herald_online)?;

    // Baileys: the same, through its own QR.
    let mut command = Command::new("node");
    command
        .arg(&o.script)
        .env("SIM_URL", &url)
        .env("SIM_ROOT", &root)
        .env("AUTH_DIR", work.path().join("baileys"));
    let mut baileys = Client::spawn("baileys", command, false)?;
    let (_, qr) = baileys.wait("QR", STEP, |v| v["event"] == "qr")?;
    {
        let _guard = rt.enter();
        sim.scan(qr["qr"].as_str().ok_or("no qr text")?)?;
    }
    baileys.wait("open", STEP, baileys_open)?;
    let deadline = Instant::now() + STEP;
    baileys.jid = loop {
        let other = logged_in_devices(&sim)
            .into_iter()
            .find(|d| Some(d) != herald.jid.as_ref());
        if other.is_some() || Instant::now() > deadline {
            break other;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!(
        "linked: herald-cli {:?} (pid {}), baileys {:?} (pid {})",
        herald.jid,
        herald.pid(),
        baileys.jid,
        baileys.pid()
    );

    // Let both finish their post-login work (prekeys, queries) before the idle window.
    std::thread::sleep(Duration::from_secs(5));
    let ticks = ticks_per_second();
    let cpu = |c: &Client| cpu_seconds(c.pid(), ticks);
    let precise = |c: &Client| cpu_seconds_precise(c.pid());
    let cpu_before = [precise(&herald)?, precise(&baileys)?];
    eprintln!("idle for {} s…", o.idle.as_secs());
    std::thread::sleep(o.idle);
    let cpu_idle = [
        precise(&herald)? - cpu_before[0],
        precise(&baileys)? - cpu_before[1],
    ];
    let mem_idle = [memory_kb(herald.pid())?, memory_kb(baileys.pid())?];

    eprintln!("{} kicks each…", o.kicks);
    let mut samples = [Vec::new(), Vec::new()];
    let cpu_before_kicks = [cpu(&herald)?, cpu(&baileys)?];
    for _ in 0..o.kicks {
        for (i, client) in [&herald, &baileys].into_iter().enumerate() {
            samples[i].push(kick_515(&sim, &rt, client)?);
            std::thread::sleep(BETWEEN_KICKS);
        }
    }
    let cpu_kicks = [
        cpu(&herald)? - cpu_before_kicks[0],
        cpu(&baileys)? - cpu_before_kicks[1],
    ];
    let mem_after = [memory_kb(herald.pid())?, memory_kb(baileys.pid())?];
    let s = [stats(&samples[0]), stats(&samples[1])];

    let mb = |kb: u64| kb as f64 / 1024.0;
    let idle = o.idle.as_secs();
    let kicks = o.kicks;
    println!(
        "| | herald-cli connect | Baileys 7.0.0-rc14 (node {}) |",
        node_version()
    );
    println!("|---|---:|---:|");
    println!(
        "| RSS after {idle} s idle, logged in | {:.1} MB | {:.1} MB |",
        mb(mem_idle[0].rss),
        mb(mem_idle[1].rss)
    );
    println!(
        "| PSS after {idle} s idle | {:.1} MB | {:.1} MB |",
        mb(mem_idle[0].pss),
        mb(mem_idle[1].pss)
    );
    println!(
        "| CPU time over the {idle} s idle | {:.1} ms | {:.1} ms |",
        cpu_idle[0] * 1000.0,
        cpu_idle[1] * 1000.0
    );
    println!(
        "| 515 → online, median of {kicks} | {:.2} ms | {:.2} ms |",
        s[0].median, s[1].median
    );
    println!(
        "| 515 → online, p95 | {:.2} ms | {:.2} ms |",
        s[0].p95, s[1].p95
    );
    println!(
        "| 515 → online, min – max | {:.2} – {:.2} ms | {:.2} – {:.2} ms |",
        s[0].min, s[0].max, s[1].min, s[1].max
    );
    println!(
        "| CPU time for the {kicks} reconnects | {:.2} s | {:.2} s |",
        cpu_kicks[0], cpu_kicks[1]
    );
    println!(
        "| RSS after the reconnects (peak) | {:.1} MB ({:.1}) | {:.1} MB ({:.1}) |",
        mb(mem_after[0].rss),
        mb(mem_after[0].hwm),
        mb(mem_after[1].rss),
        mb(mem_after[1].hwm)
    );
    Ok(())
}
