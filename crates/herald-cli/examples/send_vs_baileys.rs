//! Sending, whole processes: `herald-cli send --batch -` next to a Baileys client, both linked
//! in turn as companions of the account on one simulator on 127.0.0.1 in the same run. Each
//! runs three phases, every message waited for until the server's ack before the next:
//! 1. `--count` texts to a contact with 3 devices (its phone and 2 companions);
//! 2. `--count` texts to a 50-member group (50 contacts with one device each, and us);
//! 3. one text to each of `--contacts` new contacts with 3 devices (999 new sessions for 333),
//!    after which the process's memory holds about 1,000 established sessions.
//!
//! Herald goes first, is unlinked (`herald-cli logout`), then Baileys links, so each sends with
//! the account's phone as its only other device. Each sends to its own set of new contacts in
//! phase 3. CPU is each client process's own (user + system from `/proc/PID/stat` over the
//! phase), never the simulator's (this process decrypts every copy on every simulated device);
//! memory is `VmRSS` / `VmHWM` from `/proc/PID/status` and `Pss` from `smaps_rollup`.
//!
//! ```sh
//! (cd conformance && npm ci)
//! cargo build --release -p herald-cli --bins --examples
//! target/release/examples/send_vs_baileys [--count 200] [--contacts 333] [--work DIR]
//! ```
//!
//! `--work DIR` puts both clients' state there (e.g. a tmpfs, to see what the disk's flushes
//! cost: Herald commits every state change durably, Baileys' file store does not flush).
//!
//! Linux only (it reads `/proc`). The Baileys side is `conformance/bench-baileys-send.mjs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "bench/mod.rs"]
mod bench;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bench::{cpu_seconds, memory_kb, node_version, ticks_per_second, Client, Memory, Result};
use serde_json::json;
use wa_sim::{Addressing, ContactSpec, Phase, SimConfig, Simulator};

/// A step that takes longer than this is a failure, not a slow result.
const STEP: Duration = Duration::from_secs(30);
/// Quiet time after login, so the post-login work (prekey upload, queries) is not measured.
const SETTLE: Duration = Duration::from_secs(3);

const CONTACT: &str = "15552000000";

struct Options {
    count: usize,
    contacts: usize,
    herald: PathBuf,
    script: PathBuf,
    /// Where both clients keep their state (the system's temporary folder by default).
    work: Option<PathBuf>,
}

fn options() -> Result<Options> {
    let exe = std::env::current_exe()?;
    // target/release/examples/send_vs_baileys -> target/release/herald-cli
    let release = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot find the target folder")?;
    let mut o = Options {
        count: 200,
        contacts: 333,
        herald: release.join("herald-cli"),
        script: Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../conformance/bench-baileys-send.mjs"),
        work: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--count" => o.count = value.parse()?,
            "--contacts" => o.contacts = value.parse()?,
            "--herald" => o.herald = value.into(),
            "--script" => o.script = value.into(),
            "--work" => o.work = Some(value.into()),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    if o.count == 0 || o.contacts == 0 {
        return Err("--count and --contacts must be at least 1".into());
    }
    Ok(o)
}

/// One phase: `count` texts, the i-th to `to[i % to.len()]`.
struct PhasePlan {
    name: &'static str,
    to: Vec<String>,
    count: usize,
}

/// What a phase cost one client.
struct PhaseResult {
    wall: Duration,
    cpu: f64,
    /// This process's CPU over the phase: the simulator's work for the client's messages.
    sim_cpu: f64,
}

/// One client's figures.
struct Side {
    baseline: Memory,
    phases: Vec<PhaseResult>,
    after: Memory,
    /// What the client measured itself, when it does (Baileys: `process.cpuUsage`).
    own_cpu: Vec<f64>,
}

/// Writes lines into a child's stdin from a thread of its own, so a full pipe never blocks
/// the reading of the child's answers; closing it ends the child's input.
struct Feeder {
    tx: Option<mpsc::Sender<String>>,
    thread: Option<JoinHandle<()>>,
}

impl Feeder {
    fn new(mut stdin: ChildStdin) -> Feeder {
        let (tx, rx) = mpsc::channel::<String>();
        let thread = std::thread::spawn(move || {
            for line in rx {
                if writeln!(stdin, "{line}")
                    .and_then(|()| stdin.flush())
                    .is_err()
                {
                    break;
                }
            }
        });
        Feeder {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    fn send(&self, line: String) -> Result<()> {
        self.tx
            .as_ref()
            .ok_or("input closed")?
            .send(line)
            .map_err(|_| "the writer ended".into())
    }

    fn close(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn spec(pn: String, companions: u16) -> ContactSpec {
    ContactSpec {
        pn: Some(pn),
        companions,
        ..ContactSpec::default()
    }
}

fn user_jid(pn: &str) -> String {
    format!("{pn}@s.whatsapp.net")
}

/// The logged-in device JIDs.
fn logged_in(sim: &Simulator) -> Vec<String> {
    sim.state()
        .connections
        .iter()
        .filter(|c| c.phase == Phase::LoggedIn)
        .filter_map(|c| c.device.clone())
        .collect()
}

fn wait_logged_in(sim: &Simulator, jid: &str) -> Result<()> {
    let deadline = Instant::now() + STEP;
    while !logged_in(sim).iter().any(|d| d == jid) {
        if Instant::now() > deadline {
            return Err(format!("{jid} did not log in").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn herald_command(o: &Options, data: &Path, url: &str, root: &str, args: &[&str]) -> Command {
    let mut command = Command::new(&o.herald);
    command
        .args(args)
        .args(["--server", url, "--trust-root", root])
        .arg("--data-dir")
        .arg(data)
        .env("HERALD_KEYCHAIN", "off")
        // BENCH_HERALD_LOG=debug shows herald-cli's log on stderr.
        .env(
            "RUST_LOG",
            std::env::var("BENCH_HERALD_LOG").unwrap_or_else(|_| "warn".into()),
        );
    command
}

fn terminate(client: &mut Client) -> Result<Option<i32>> {
    Command::new("kill")
        .args(["-TERM", &client.pid().to_string()])
        .status()?;
    client.finish(STEP)
}

/// The simulator both clients link to, and where they keep their state.
struct Bench<'a> {
    sim: &'a Simulator,
    rt: &'a tokio::runtime::Runtime,
    url: String,
    root: String,
    work: &'a Path,
    o: &'a Options,
}

fn run_herald(env: &Bench<'_>, plans: &[PhasePlan]) -> Result<Side> {
    let Bench {
        sim,
        rt,
        ref url,
        ref root,
        work,
        o,
    } = *env;
    let data = work.join("herald");
    // Link by QR with `connect`, then leave it: the batch is a process of its own.
    let command = herald_command(o, &data, url, root, &["connect", "--json"]);
    let mut connect = Client::spawn("herald-cli connect", command, false)?;
    let (_, qr) = connect.wait("QR", STEP, |v| v["event"] == "qr")?;
    {
        let _guard = rt.enter();
        sim.scan(qr["qr"].as_str().ok_or("no qr text")?)?;
    }
    let (_, paired) = connect.wait("paired", STEP, |v| v["event"] == "paired")?;
    let jid = paired["jid"].as_str().ok_or("no jid")?.to_owned();
    connect.wait("online", STEP, |v| {
        v["event"] == "state" && v["state"] == "online"
    })?;
    if terminate(&mut connect)? != Some(0) {
        return Err("herald-cli connect did not stop cleanly".into());
    }

    let command = herald_command(o, &data, url, root, &["send", "--batch", "-", "--json"]);
    let mut client = Client::spawn("herald-cli send --batch", command, true)?;
    let mut feeder = Feeder::new(client.stdin.take().ok_or("no stdin")?);
    wait_logged_in(sim, &jid)?;
    eprintln!("herald-cli linked as {jid} (pid {})", client.pid());
    std::thread::sleep(SETTLE);
    let ticks = ticks_per_second();
    let baseline = memory_kb(client.pid())?;
    let mut phases = Vec::new();
    let mut line = 0u64;
    for plan in plans {
        eprintln!("herald-cli: {} ({} messages)…", plan.name, plan.count);
        let cpu0 = cpu_seconds(client.pid(), ticks)?;
        let sim0 = cpu_seconds(std::process::id(), ticks)?;
        let t0 = Instant::now();
        for i in 0..plan.count {
            let to = &plan.to[i % plan.to.len()];
            feeder.send(json!({ "to": to, "text": format!("{} {i}", plan.name) }).to_string())?;
        }
        let mut last = t0;
        let mut gaps = Vec::with_capacity(plan.count);
        for _ in 0..plan.count {
            line += 1;
            let (at, v) = client.wait("a message's answer", STEP, |v| v["line"].is_u64())?;
            if v["event"] != "sent" || v["line"] != line {
                return Err(format!("herald-cli: line {line}: {v}").into());
            }
            gaps.push(at.duration_since(last));
            last = at;
        }
        let tenth = (plan.count / 10).max(1);
        let mean_ms = |d: &[Duration]| {
            d.iter().map(Duration::as_secs_f64).sum::<f64>() * 1000.0 / d.len() as f64
        };
        eprintln!(
            "herald-cli {}: first tenth {:.1} ms per message, last tenth {:.1} ms",
            plan.name,
            mean_ms(&gaps[..tenth]),
            mean_ms(&gaps[gaps.len() - tenth..]),
        );
        phases.push(PhaseResult {
            wall: last.duration_since(t0),
            cpu: cpu_seconds(client.pid(), ticks)? - cpu0,
            sim_cpu: cpu_seconds(std::process::id(), ticks)? - sim0,
        });
    }
    let after = memory_kb(client.pid())?;
    feeder.close();
    client.wait("the totals", STEP, |v| v["event"] == "done")?;
    if client.finish(STEP)? != Some(0) {
        return Err("herald-cli send --batch did not exit 0".into());
    }
    // Unlinked, so Baileys' sends have the same own devices to cover (the phone alone).
    let command = herald_command(o, &data, url, root, &["logout", "--json"]);
    let mut logout = Client::spawn("herald-cli logout", command, false)?;
    if logout.finish(STEP)? != Some(0) {
        return Err("herald-cli logout failed".into());
    }
    Ok(Side {
        baseline,
        phases,
        after,
        own_cpu: Vec::new(),
    })
}

fn run_baileys(env: &Bench<'_>, plans: &[PhasePlan]) -> Result<Side> {
    let Bench {
        sim, rt, work, o, ..
    } = *env;
    let before: Vec<String> = logged_in(sim);
    let mut command = Command::new("node");
    command
        .arg(&o.script)
        .env("SIM_URL", &env.url)
        .env("SIM_ROOT", &env.root)
        .env("AUTH_DIR", work.join("baileys"));
    let mut client = Client::spawn("baileys", command, true)?;
    let mut feeder = Feeder::new(client.stdin.take().ok_or("no stdin")?);
    let (_, qr) = client.wait("QR", STEP, |v| v["event"] == "qr")?;
    {
        let _guard = rt.enter();
        sim.scan(qr["qr"].as_str().ok_or("no qr text")?)?;
    }
    client.wait("open", STEP, |v| v["event"] == "open")?;
    let deadline = Instant::now() + STEP;
    let jid = loop {
        if let Some(d) = logged_in(sim).into_iter().find(|d| !before.contains(d)) {
            break d;
        }
        if Instant::now() > deadline {
            return Err("Baileys did not log in".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!("baileys linked as {jid} (pid {})", client.pid());
    std::thread::sleep(SETTLE);
    let ticks = ticks_per_second();
    let baseline = memory_kb(client.pid())?;
    let mut phases = Vec::new();
    let mut own_cpu = Vec::new();
    for plan in plans {
        eprintln!("baileys: {} ({} messages)…", plan.name, plan.count);
        let cpu0 = cpu_seconds(client.pid(), ticks)?;
        let sim0 = cpu_seconds(std::process::id(), ticks)?;
        let t0 = Instant::now();
        feeder
            .send(json!({ "phase": plan.name, "to": plan.to, "count": plan.count }).to_string())?;
        let within = STEP + Duration::from_secs(plan.count as u64);
        let (at, v) = client.wait("the phase's end", within, |v| {
            v["event"] == "phase" || v["event"] == "error" || v["event"] == "close"
        })?;
        if v["event"] != "phase" {
            return Err(format!("baileys: {v}").into());
        }
        phases.push(PhaseResult {
            wall: at.duration_since(t0),
            cpu: cpu_seconds(client.pid(), ticks)? - cpu0,
            sim_cpu: cpu_seconds(std::process::id(), ticks)? - sim0,
        });
        let ms = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        own_cpu.push((ms("cpuUserMs") + ms("cpuSystemMs")) / 1000.0);
    }
    let after = memory_kb(client.pid())?;
    feeder.close();
    if client.finish(STEP)? != Some(0) {
        return Err("the Baileys client did not exit 0".into());
    }
    Ok(Side {
        baseline,
        phases,
        after,
        own_cpu,
    })
}

/// Every message reached every device of its chat exactly once, and nothing was refused.
fn check_delivery(
    sim: &Simulator,
    o: &Options,
    members: &[String],
    many: &[&[String]],
) -> Result<()> {
    let view = sim.messages();
    if !view.refused.is_empty() {
        return Err(format!(
            "the relay refused {} messages: {:?}",
            view.refused.len(),
            view.refused.first()
        )
        .into());
    }
    let shown_once = |pn: &str, device: u16, prefix: &str| {
        sim.received(pn, device)
            .iter()
            .filter(|s| s.texts.first().is_some_and(|t| t.starts_with(prefix)) && s.shown == 1)
            .count()
    };
    for device in 0..3 {
        let n = shown_once(CONTACT, device, "contact ");
        if n != 2 * o.count {
            return Err(
                format!("the contact's device {device} shows {n} of {}", 2 * o.count).into(),
            );
        }
    }
    for m in [&members[0], &members[members.len() - 1]] {
        let n = shown_once(m, 0, "group ");
        if n != 2 * o.count {
            return Err(format!("member {m} shows {n} of {}", 2 * o.count).into());
        }
    }
    for set in many {
        for pn in set.iter() {
            for device in 0..3 {
                if shown_once(pn, device, "sessions ") != 1 {
                    return Err(
                        format!("{pn} device {device} did not show its message once").into(),
                    );
                }
            }
        }
    }
    Ok(())
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
    let members: Vec<String> = (1..=50).map(|i| format!("1555201{i:04}")).collect();
    let herald_many: Vec<String> = (1..=o.contacts).map(|i| format!("155521{i:05}")).collect();
    let baileys_many: Vec<String> = (1..=o.contacts).map(|i| format!("155522{i:05}")).collect();
    let mut contacts = vec![spec(CONTACT.to_owned(), 2)];
    contacts.extend(members.iter().map(|m| spec(m.clone(), 0)));
    contacts.extend(herald_many.iter().map(|m| spec(m.clone(), 2)));
    contacts.extend(baileys_many.iter().map(|m| spec(m.clone(), 2)));

    let mut folder = tempfile::Builder::new();
    folder.prefix("send-vs-baileys-");
    let work = match &o.work {
        Some(parent) => folder.tempdir_in(parent)?,
        None => folder.tempdir()?,
    };
    // The simulator on one thread of its own; the clients get the other core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let sim = Simulator::new(SimConfig {
        contacts,
        ..SimConfig::default()
    })?;
    let (listener, addr) = rt.block_on(wa_sim::server::bind(0))?;
    rt.spawn(wa_sim::server::serve(sim.clone(), listener));
    let env = Bench {
        sim: &sim,
        rt: &rt,
        url: format!("ws://{addr}/ws/chat"),
        root: sim.root_pub_hex()?,
        work: work.path(),
        o: &o,
    };
    let mut in_group = members.clone();
    in_group.push(sim.linked_number());
    let group = {
        let _guard = rt.enter();
        sim.create_group("Fifty", &in_group, Addressing::Pn)?
    };
    let plans = |many: &[String]| {
        vec![
            PhasePlan {
                name: "contact",
                to: vec![user_jid(CONTACT)],
                count: o.count,
            },
            PhasePlan {
                name: "group",
                to: vec![format!("{group}@g.us")],
                count: o.count,
            },
            PhasePlan {
                name: "sessions",
                to: many.iter().map(|p| user_jid(p)).collect(),
                count: many.len(),
            },
        ]
    };

    let herald = run_herald(&env, &plans(&herald_many))?;
    let baileys = run_baileys(&env, &plans(&baileys_many))?;
    check_delivery(&sim, &o, &members, &[&herald_many, &baileys_many])?;
    for (i, own) in baileys.own_cpu.iter().enumerate() {
        eprintln!(
            "baileys phase {}: process.cpuUsage {:.2} s, /proc {:.2} s",
            i + 1,
            own,
            baileys.phases[i].cpu
        );
    }
    for (name, side) in [("herald-cli", &herald), ("baileys", &baileys)] {
        for (plan, p) in plans(&[]).iter().zip(&side.phases) {
            eprintln!(
                "{name} {}: simulator CPU {:.2} s over {:.2} s",
                plan.name,
                p.sim_cpu,
                p.wall.as_secs_f64()
            );
        }
    }
    print_table(&o, &herald, &baileys);
    Ok(())
}

fn print_table(o: &Options, h: &Side, b: &Side) {
    let mb = |kb: u64| kb as f64 / 1024.0;
    let rate = |p: &PhaseResult, n: usize| n as f64 / p.wall.as_secs_f64();
    let per = |p: &PhaseResult, n: usize| p.cpu * 1000.0 / n as f64;
    let (n, c) = (o.count, o.contacts);
    println!(
        "| | herald-cli send --batch | Baileys 7.0.0-rc14 (node {}) |",
        node_version()
    );
    println!("|---|---:|---:|");
    let rows: [(&str, usize); 3] = [
        ("to a contact with 3 devices", n),
        ("to a 50-member group", n),
        ("to new 3-device contacts, one each", c),
    ];
    for (i, (what, count)) in rows.iter().enumerate() {
        println!(
            "| {what}: acked per second ({count} in a row) | {:.0}/s ({:.1} s) | {:.0}/s ({:.1} s) |",
            rate(&h.phases[i], *count),
            h.phases[i].wall.as_secs_f64(),
            rate(&b.phases[i], *count),
            b.phases[i].wall.as_secs_f64(),
        );
        println!(
            "| {what}: CPU per message | {:.2} ms | {:.2} ms |",
            per(&h.phases[i], *count),
            per(&b.phases[i], *count),
        );
    }
    println!(
        "| RSS / PSS, linked, before the first send | {:.1} / {:.1} MB | {:.1} / {:.1} MB |",
        mb(h.baseline.rss),
        mb(h.baseline.pss),
        mb(b.baseline.rss),
        mb(b.baseline.pss),
    );
    println!(
        "| RSS / PSS with about {} sessions (peak RSS) | {:.1} / {:.1} MB ({:.1}) | {:.1} / {:.1} MB ({:.1}) |",
        3 * c + 54,
        mb(h.after.rss),
        mb(h.after.pss),
        mb(h.after.hwm),
        mb(b.after.rss),
        mb(b.after.pss),
        mb(b.after.hwm),
    );
}
