//! The scheduler at scale: 100,000 pending occurrences in the app database. Measures the
//! runner's start (open, migrate check, crash recovery, first next-due lookup), the next-due
//! lookup alone, and the process's resident memory before and after the start.
//!
//! `cargo bench -p herald-core --bench schedule_outbox`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
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
    lateness(&rt);
}

/// Records how late each transmit is against its occurrence.
#[derive(Clone)]
struct Timed {
    due: Arc<Mutex<HashMap<String, Timestamp>>>,
    late_ms: Arc<Mutex<Vec<f64>>>,
}

impl Sender for Timed {
    async fn prepare(&self, m: Outgoing<'_>) -> Result<Vec<u8>, Rejection> {
        Ok(m.message_id.as_bytes().to_vec())
    }
    async fn transmit(&self, id: &str, _: &[u8]) -> Outcome {
        let now = Timestamp::now();
        if let Some(due) = self.due.lock().unwrap().get(id) {
            let late = now.duration_since(*due).as_secs_f64() * 1000.0;
            self.late_ms.lock().unwrap().push(late);
        }
        Outcome::Acked { at: now }
    }
}

/// 100 sends while online, two due each second, on the real clock with the gate's spacing
/// off (the gate's delays are deliberate; this measures the runner's own timing).
fn lateness(rt: &tokio::runtime::Runtime) {
    const SENDS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("herald.db");
    let conn = db::open(&path).unwrap();
    let zone = jiff::tz::TimeZone::UTC;
    let first = Timestamp::now() + SignedDuration::from_secs(2);
    let mut ids = RandomIds::default();
    let timed = Timed {
        due: Arc::default(),
        late_ms: Arc::default(),
    };
    for i in 0..SENDS {
        let at = first + SignedDuration::from_secs((i / 2) as i64);
        let new = NewSchedule {
            recipient: Recipient::Phone(format!("+49151{:08}", i)),
            text: format!("message {i}"),
            timing: Timing::new("UTC", zone.to_datetime(at), Repeat::Once, End::Never).unwrap(),
            catch_up: CatchUp::Default,
        };
        store::add(&conn, &new, &mut ids, Timestamp::now()).unwrap();
    }
    for send in outbox::history(&conn, None, SENDS).unwrap() {
        let due = Timestamp::from_millisecond(send.due_ms).unwrap();
        timed.due.lock().unwrap().insert(send.message_id, due);
    }
    let mut config = RunnerConfig::default();
    config.gate.min_gap = Duration::ZERO;
    config.gate.max_gap = Duration::ZERO;
    config.gate.per_chat = Duration::ZERO;
    config.gate.hourly_cap = 10_000;
    let late = timed.late_ms.clone();
    let watched = late.clone();
    rt.block_on(async move {
        let (link_tx, link) = tokio::sync::watch::channel(Link::Online);
        let (runner, _handle) = Runner::new(
            db::open(&path).unwrap(),
            timed,
            SystemClock,
            link,
            Box::new(RandomIds::default()),
            config,
        )
        .unwrap();
        let task = tokio::spawn(runner.run());
        let deadline = Instant::now() + Duration::from_secs(SENDS as u64 / 2 + 15);
        while watched.lock().unwrap().len() < SENDS && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        drop(link_tx);
        let _ = task.await;
    });
    let mut late = late.lock().unwrap().clone();
    late.sort_by(f64::total_cmp);
    let pick = |q: f64| late[((late.len() as f64 - 1.0) * q).round() as usize];
    eprintln!(
        "lateness over {} sends while online: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        late.len(),
        pick(0.5),
        pick(0.99),
        late[late.len() - 1]
    );
}
