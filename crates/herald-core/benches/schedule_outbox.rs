//! The scheduler at scale: 100,000 pending occurrences in the app database. Measures the
//! runner's start (open, migrate check, crash recovery, first next-due lookup), the next-due
//! lookup alone, and the process's resident memory before and after the start.
//!
//! `cargo bench -p herald-core --bench schedule_outbox`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::Criterion;
use herald_core::db;
use herald_core::schedule::clock::SystemClock;
use herald_core::schedule::outbox::{self, RandomIds};
use herald_core::schedule::recipient::Recipient;
use herald_core::schedule::runner::{Link, Runner, RunnerConfig};
use herald_core::schedule::sender::{Outcome, Outgoing, Rejection, Sender};
use herald_core::schedule::store::{self, NewSchedule};
use herald_core::schedule::timing::{CatchUp, End, Repeat, Timing};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};

const PENDING: usize = 100_000;

struct NoSender;

impl Sender for NoSender {
    async fn prepare(&self, _: Outgoing<'_>) -> Result<Vec<u8>, Rejection> {
        Ok(Vec::new())
    }
    async fn transmit(&self, _: &str, _: &[u8]) -> Outcome {
        Outcome::InDoubt
    }
}

/// A database with `PENDING` schedules, each with its next occurrence pending.
fn fill(path: &Path) {
    let conn = db::open(path).unwrap();
    let now = Timestamp::now();
    let mut ids = RandomIds::default();
    let zones = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"];
    for i in 0..PENDING {
        let start = date(2030, 1, 1)
            .at(0, 0, 0, 0)
            .checked_add(SignedDuration::from_mins(i as i64 * 7))
            .unwrap();
        let repeat = match i % 3 {
            0 => Repeat::Once,
            1 => Repeat::Days { every: 1 },
            _ => Repeat::Months {
                every: 1,
                on: herald_core::schedule::timing::MonthDay::StartDay,
            },
        };
        let new = NewSchedule {
            recipient: Recipient::Phone(format!("+49151{:08}", i)),
            text: format!("message {i}"),
            timing: Timing::new(zones[i % zones.len()], start, repeat, End::Never).unwrap(),
            catch_up: CatchUp::Default,
        };
        store::add(&conn, &new, &mut ids, now).unwrap();
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn start(path: &Path, rt: &tokio::runtime::Runtime) -> Option<Timestamp> {
    let _guard = rt.enter();
    let conn = db::open(path).unwrap();
    let (_link_tx, link) = tokio::sync::watch::channel(Link::Offline);
    let (runner, _handle) = Runner::new(
        conn,
        NoSender,
        SystemClock,
        link,
        Box::new(RandomIds::default()),
        RunnerConfig::default(),
    )
    .unwrap();
    drop(runner);
    let conn = db::open(path).unwrap();
    outbox::next_try(&conn).unwrap()
}

fn benches(c: &mut Criterion, path: &Path, rt: &tokio::runtime::Runtime) {
    let conn = db::open(path).unwrap();
    c.bench_function("next_due_lookup_100k_pending", |b| {
        b.iter(|| outbox::next_try(&conn).unwrap())
    });
    let now = Timestamp::now();
    c.bench_function("ready_query_100k_pending", |b| {
        b.iter(|| outbox::ready(&conn, now, 32).unwrap())
    });
    c.bench_function("runner_start_100k_pending", |b| b.iter(|| start(path, rt)));
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("herald.db");
    let t = Instant::now();
    fill(&path);
    eprintln!(
        "filled {PENDING} schedules in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let before = rss_kib();
    let t = Instant::now();
    let next = start(&path, &rt);
    let first = t.elapsed();
    let after = rss_kib();
    eprintln!(
        "first start with {PENDING} pending: {:.1} ms (next due {next:?}); RSS {before} KiB -> {after} KiB",
        first.as_secs_f64() * 1000.0
    );
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    benches(&mut c, &path, &rt);
    c.final_summary();
}
