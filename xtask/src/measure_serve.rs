//! `cargo xtask measure-serve`: whole-process figures of `herald-cli serve`, release build,
//! linked to a `wa-sim` on 127.0.0.1: idle memory with 1,000 schedules, then `GET /health`
//! at a fixed rate for 60 s under wrk (Debian's package) with its latency percentiles and the
//! daemon's CPU and memory. Linux only (it reads `/proc`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::daemon::{create_key, http, start_serve, start_sim};
use crate::step::sh;

const SCHEDULES: usize = 1000;
const IDLE: Duration = Duration::from_secs(30);
/// wrk connections, each pausing `PAUSE_MS` between requests: about 1,000 requests/s in all
/// (each request also takes its own latency, so 12 × 100/s lands near 1,000).
const CONNECTIONS: u32 = 12;
const PAUSE_MS: u32 = 10;
const LOAD_SECS: u32 = 60;
/// Mappings listed with the idle figures.
const TOP_MAPPINGS: usize = 6;

pub fn run(args: &[String]) -> Result<(), String> {
    if !cfg!(target_os = "linux") {
        return Err("measure-serve reads /proc: Linux only".into());
    }
    let load = match args {
        [] => true,
        [flag] if flag == "--no-load" => false,
        other => return Err(format!("measure-serve: unknown arguments {other:?}")),
    };
    crate::setup::ensure(crate::setup::Mode::Quiet)?;
    let root = crate::root();
    sh(Command::new(crate::cargo()).current_dir(&root).args([
        "build",
        "--release",
        "-p",
        "herald-cli",
        "-p",
        "wa-sim",
    ]))?;
    let release = target_dir(&root).join("release");
    let work = target_dir(&root).join("xtask").join("measure-serve");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;

    let sim = start_sim(&release.join("wa-sim"), &work.join("sim"))?;
    let cli = release.join("herald-cli");
    let data = work.join("data");
    let key = create_key(&cli, &data)?;
    let daemon = start_serve(&cli, &data, &sim, &[], &work.join("serve.log"))?;
    daemon.pair(&sim, &key)?;
    let pid = daemon.process.pid();

    let headers = [
        ("X-API-Key", key.as_str()),
        ("Content-Type", "application/json"),
    ];
    std::thread::sleep(IDLE);
    let empty = memory(pid)?;
    println!(
        "serve, linked, no schedule yet, after {} s idle: RSS {:.1} MB, PSS {:.1} MB",
        IDLE.as_secs(),
        mb(empty.rss_kb),
        mb(empty.pss_kb)
    );
    for i in 0..SCHEDULES {
        // Spread over the week so the outbox holds 1,000 waiting sends, none due soon.
        let body = format!(
            r#"{{"to":"+447911{:06}","text":"reminder {i}","at":"2099-01-{:02}T{:02}:{:02}","repeat":{{"unit":"week"}}}}"#,
            100_000 + i,
            1 + i % 28,
            i % 24,
            i % 60
        );
        let (status, answer) = http(&daemon.addr, "POST", "/schedules", &headers, &body)?;
        if status != 201 {
            return Err(format!("schedule {i}: {status} {answer}"));
        }
    }
    std::thread::sleep(IDLE);
    let idle = memory(pid)?;
    println!(
        "serve, linked, {SCHEDULES} schedules, after {} s idle: RSS {:.1} MB, PSS {:.1} MB",
        IDLE.as_secs(),
        mb(idle.rss_kb),
        mb(idle.pss_kb)
    );
    crate::smaps::print_top(pid, TOP_MAPPINGS);
    // The first request after the idle release reads back the code it runs.
    let asked = std::time::Instant::now();
    let (_, reported) = http(&daemon.addr, "GET", "/health/memory", &headers, "")?;
    println!(
        "  first request after idling, GET /health/memory in {:.1} ms: {reported}",
        asked.elapsed().as_secs_f64() * 1000.0
    );
    if !load {
        return Ok(());
    }

    let script = work.join("pace.lua");
    std::fs::write(
        &script,
        format!("function delay()\n  return {PAUSE_MS}\nend\n"),
    )
    .map_err(|e| e.to_string())?;
    let cpu_before = cpu_ticks(pid)?;
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{LOAD_SECS}s"),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(format!("http://{}/health", daemon.addr))
        .output()
        .map_err(|e| format!("cannot run wrk (apt-get install wrk): {e}"))?;
    let cpu_after = cpu_ticks(pid)?;
    let report = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("wrk failed: {report}"));
    }
    let loaded = memory(pid)?;
    println!("{report}");
    let secs = f64::from(LOAD_SECS);
    // Linux counts CPU time in USER_HZ ticks, 100 per second on every architecture it runs on.
    let cpu_secs = (cpu_after - cpu_before) as f64 / 100.0;
    println!(
        "serve during {LOAD_SECS} s of GET /health: CPU {cpu_secs:.2} s ({:.1} % of one core), \
         RSS after {:.1} MB, peak RSS {:.1} MB",
        100.0 * cpu_secs / secs,
        mb(loaded.rss_kb),
        mb(loaded.peak_kb)
    );
    Ok(())
}

struct Memory {
    rss_kb: u64,
    pss_kb: u64,
    peak_kb: u64,
}

fn kb_field(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn memory(pid: u32) -> Result<Memory, String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    Ok(Memory {
        rss_kb: kb_field(&status, "VmRSS:"),
        peak_kb: kb_field(&status, "VmHWM:"),
        pss_kb: kb_field(&rollup, "Pss:"),
    })
}

/// utime + stime of the whole process.
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or("bad stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After the name: state is field 3 of stat(5), so utime (14) and stime (15) are 11 and 12.
    Ok(field(11) + field(12))
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}
