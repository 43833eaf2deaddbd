//! The scheduler's runner on paused time against a fake engine and a fake phone: offline
//! windows, a suspend over a backlog, logout and re-link, a crash mid-send, the gate, a change
//! written by another process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_core::db;
use herald_core::schedule::clock::{Clock, SteppedClock};
use herald_core::schedule::outbox::{self, RandomIds, SendRecord, SendState};
use herald_core::schedule::recipient::Recipient;
use herald_core::schedule::runner::{Link, Runner, RunnerConfig, RunnerHandle};
use herald_core::schedule::sender::{Outcome, Outgoing, Rejection, Sender};
use herald_core::schedule::store::{self, NewSchedule, ScheduleId};
use herald_core::schedule::timing::{CatchUp, End, Repeat, Timing};
use jiff::civil::DateTime;
use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the fake engine and the contacts' phones saw.
#[derive(Default)]
struct PhoneState {
    /// How many times a message was encrypted.
    prepared: u32,
    /// Every transmit: message id, bytes, when.
    transmits: Vec<(String, Vec<u8>, Timestamp)>,
    /// Transmits that reached the server (duplicates included).
    arrived: u32,
    /// What each phone shows: message id → times shown (a copy it already has is refused as
    /// a Signal duplicate, so this is at most 1).
    shown: HashMap<String, u32>,
    /// The next transmit arrives but its ack never comes (the process dies waiting).
    hang_after_next: bool,
    /// The next outcomes to return instead of an ack.
    script: Vec<Outcome>,
    /// Refuse preparing for this recipient.
    refuse_to: Option<String>,
    /// How long encrypting and the server's ack take (0 unless a test slows them down, to
    /// crash in the middle).
    prepare_takes: Duration,
    ack_takes: Duration,
}

#[derive(Clone)]
struct FakeEngine {
    state: Arc<Mutex<PhoneState>>,
    clock: SteppedClock,
}

impl Sender for FakeEngine {
    async fn prepare(&self, m: Outgoing<'_>) -> Result<Vec<u8>, Rejection> {
        let takes = self.state.lock().unwrap().prepare_takes;
        if !takes.is_zero() {
            tokio::time::sleep(takes).await;
        }
        let mut s = self.state.lock().unwrap();
        if s.refuse_to.as_deref() == Some(m.to.value()) {
            return Err(Rejection {
                code: "not-on-whatsapp".into(),
                retryable: false,
                advice: "This number does not use WhatsApp.".into(),
            });
        }
        s.prepared += 1;
        // A counter in the "ciphertext": a second encryption would give other bytes.
        Ok(format!("{}|{}|{}|enc{}", m.message_id, m.to, m.text, s.prepared).into_bytes())
    }

    async fn transmit(&self, message_id: &str, stanza: &[u8]) -> Outcome {
        let hang = {
            let mut s = self.state.lock().unwrap();
            s.arrived += 1;
            s.transmits
                .push((message_id.to_owned(), stanza.to_vec(), self.clock.now()));
            let shown = s.shown.entry(message_id.to_owned()).or_insert(0);
            *shown = (*shown + 1).min(1);
            if !s.script.is_empty() {
                return s.script.remove(0);
            }
            (std::mem::take(&mut s.hang_after_next), s.ack_takes)
        };
        if hang.0 {
            std::future::pending::<()>().await;
        }
        if !hang.1.is_zero() {
            tokio::time::sleep(hang.1).await;
        }
        Outcome::Acked {
            at: self.clock.now(),
        }
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    path: PathBuf,
    clock: SteppedClock,
    link: watch::Sender<Link>,
    engine: FakeEngine,
    task: Option<JoinHandle<()>>,
    handle: Option<RunnerHandle>,
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

impl Harness {
    fn new(start: &str, link: Link) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.db");
        db::open(&path).unwrap();
        let clock = SteppedClock::starting_at(ts(start));
        let (link, _) = watch::channel(link);
        let engine = FakeEngine {
            state: Arc::default(),
            clock: clock.clone(),
        };
        let mut h = Harness {
            _dir: dir,
            path,
            clock,
            link,
            engine,
            task: None,
            handle: None,
        };
        h.start_runner();
        h
    }

    fn config() -> RunnerConfig {
        let mut config = RunnerConfig::default();
        config.gate.seed = Some(42);
        config
    }

    fn start_runner(&mut self) {
        let conn = db::open(&self.path).unwrap();
        let (runner, handle) = Runner::new(
            conn,
            self.engine.clone(),
            self.clock.clone(),
            self.link.subscribe(),
            Box::new(RandomIds::default()),
            Self::config(),
        )
        .unwrap();
        self.task = Some(tokio::spawn(runner.run()));
        self.handle = Some(handle);
    }

    /// The process dies: the task is gone mid-whatever, the database stays.
    async fn crash(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Another connection, as `herald-cli schedule add` would use.
    fn other(&self) -> Connection {
        db::open(&self.path).unwrap()
    }

    fn add(&self, to: &str, local: &str, repeat: Repeat, catch_up: CatchUp) -> ScheduleId {
        let start: DateTime = local.parse().unwrap();
        let new = NewSchedule {
            recipient: Recipient::parse(to).unwrap(),
            text: format!("hello {to} at {local}"),
            timing: Timing::new("UTC", start, repeat, End::Never).unwrap(),
            catch_up,
        };
        let (id, _) = store::add(
            &self.other(),
            &new,
            &mut RandomIds::default(),
            self.clock.now(),
        )
        .unwrap();
        if let Some(h) = &self.handle {
            h.changed();
        }
        id
    }

    fn sends(&self, schedule: ScheduleId) -> Vec<SendRecord> {
        let mut rows = outbox::history(&self.other(), Some(schedule), 1000).unwrap();
        rows.reverse();
        rows
    }

    fn states(&self, schedule: ScheduleId) -> Vec<SendState> {
        self.sends(schedule).iter().map(|s| s.state).collect()
    }

    fn transmits(&self) -> usize {
        self.engine.state.lock().unwrap().transmits.len()
    }

    fn set_link(&self, link: Link) {
        self.link.send_replace(link);
    }
}

async fn advance(d: Duration) {
    tokio::time::sleep(d).await;
}

const MIN: Duration = Duration::from_secs(60);
const A: &str = "+4915123456781";
const B: &str = "+4915123456782";
const C: &str = "+4915123456783";

#[tokio::test(start_paused = true)]
async fn due_while_offline_goes_after_reconnect_inside_the_window_else_missed() {
    let h = Harness::new("2026-05-01T08:00:00Z", Link::Offline);
    let soon = h.add(A, "2026-05-01T09:00:00", Repeat::Once, CatchUp::Default);
    advance(120 * MIN).await;
    assert_eq!(h.transmits(), 0, "nothing goes while offline");
    assert_eq!(h.states(soon), [SendState::Pending]);
    h.set_link(Link::Online);
    advance(MIN).await;
    assert_eq!(h.states(soon), [SendState::Sent]);
    assert_eq!(h.transmits(), 1);

    // Offline again, past a one-shot's default 6 h window: recorded as missed, not sent.
    h.set_link(Link::Offline);
    let late = h.add(B, "2026-05-01T11:00:00", Repeat::Once, CatchUp::Default);
    advance(7 * 60 * MIN).await;
    h.set_link(Link::Online);
    advance(MIN).await;
    assert_eq!(h.states(late), [SendState::Missed]);
    assert_eq!(h.transmits(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_suspend_over_a_backlog_sends_at_most_one_per_schedule() {
    let h = Harness::new("2026-05-01T00:30:00Z", Link::Online);
    // Daily schedules due every hour of the night, to three chats.
    let hourly: Vec<ScheduleId> = (1..=8)
        .map(|hour| {
            let to = [A, B, C][hour % 3];
            let local = format!("2026-05-01T{hour:02}:00:00");
            h.add(to, &local, Repeat::Days { every: 1 }, CatchUp::Default)
        })
        .collect();
    // And three schedules whose daily backlog grows over a long sleep, sent however late.
    let always: Vec<ScheduleId> = [A, B, C]
        .iter()
        .map(|to| {
            h.add(
                to,
                "2026-04-20T00:45:00",
                Repeat::Days { every: 1 },
                CatchUp::Always,
            )
        })
        .collect();
    advance(MIN).await;
    let before = h.transmits();
    assert_eq!(before, 0);
    // The laptop sleeps: the wall clock moves 8 h (and 3 days) while the monotonic one stands.
    h.clock.jump(SignedDuration::from_hours(8 + 72));
    advance(3 * MIN).await;
    // Now 2026-05-04 08:31: the 08:00 schedule is inside its 1 h window, the others are not.
    for (i, id) in hourly.iter().enumerate() {
        let states = h.states(*id);
        let sent = states.iter().filter(|s| **s == SendState::Sent).count();
        let missed = states.iter().filter(|s| **s == SendState::Missed).count();
        let pending = states.iter().filter(|s| **s == SendState::Pending).count();
        assert_eq!(pending, 1, "the next day is planned: {states:?}");
        if i == 7 {
            assert_eq!((sent, missed), (1, 3), "schedule {i}: {states:?}");
        } else {
            assert_eq!((sent, missed), (0, 4), "schedule {i}: {states:?}");
        }
    }
    for id in &always {
        let states = h.states(*id);
        let sent = states.iter().filter(|s| **s == SendState::Sent).count();
        let missed = states.iter().filter(|s| **s == SendState::Missed).count();
        assert_eq!(sent, 1, "one catch-up: {states:?}");
        // 1, 2, 3 and 4 May at 00:45 came due during the sleep.
        assert_eq!(missed, 3, "the rest recorded as missed: {states:?}");
    }
    assert_eq!(h.transmits(), 4);
}

#[tokio::test(start_paused = true)]
async fn logged_out_keeps_the_outbox_and_resumes_after_relinking() {
    let h = Harness::new("2026-05-01T08:59:00Z", Link::Online);
    let first = h.add(A, "2026-05-01T09:00:00", Repeat::Once, CatchUp::Default);
    let second = h.add(B, "2026-05-01T09:10:00", Repeat::Once, CatchUp::Default);
    let third = h.add(C, "2026-05-01T09:20:00", Repeat::Once, CatchUp::Default);
    advance(2 * MIN).await;
    assert_eq!(h.states(first), [SendState::Sent]);
    h.set_link(Link::LoggedOut);
    advance(30 * MIN).await;
    assert_eq!(h.transmits(), 1);
    assert_eq!(h.states(second), [SendState::Pending]);
    assert_eq!(h.states(third), [SendState::Pending]);
    h.set_link(Link::Replaced);
    advance(10 * MIN).await;
    assert_eq!(h.transmits(), 1);
    // Linked again.
    h.set_link(Link::Online);
    advance(2 * MIN).await;
    assert_eq!(h.states(second), [SendState::Sent]);
    assert_eq!(h.states(third), [SendState::Sent]);
}

#[tokio::test(start_paused = true)]
async fn a_crash_mid_send_resends_the_stored_bytes_once() {
    let mut h = Harness::new("2026-05-01T08:59:00Z", Link::Online);
    let id = h.add(A, "2026-05-01T09:00:00", Repeat::Once, CatchUp::Default);
    h.engine.state.lock().unwrap().hang_after_next = true;
    advance(2 * MIN).await;
    // The bytes left, the ack never came; the process dies.
    assert_eq!(h.transmits(), 1);
    h.crash().await;
    let row = &h.sends(id)[0];
    assert_eq!(row.state, SendState::Sending);
    let stored = row
        .stanza
        .clone()
        .expect("bytes committed before they left");
    // Restart: `sending` becomes `in_doubt` and the same bytes go again.
    h.start_runner();
    assert_eq!(h.sends(id)[0].state, SendState::InDoubt);
    advance(MIN).await;
    {
        let s = h.engine.state.lock().unwrap();
        assert_eq!(s.prepared, 1, "never encrypted anew");
        assert_eq!(s.transmits.len(), 2);
        assert_eq!(s.transmits[0].1, stored);
        assert_eq!(s.transmits[1].1, stored);
        assert_eq!(s.transmits[0].0, s.transmits[1].0, "one message id");
        assert_eq!(s.shown.values().copied().collect::<Vec<_>>(), [1]);
    }
    let row = &h.sends(id)[0];
    assert_eq!(row.state, SendState::Sent);
    assert_eq!(row.attempts, 2);
}

#[tokio::test(start_paused = true)]
async fn lost_ack_then_receipt_and_rejection_with_advice() {
    let h = Harness::new("2026-05-01T08:59:00Z", Link::Online);
    h.engine.state.lock().unwrap().script = vec![Outcome::InDoubt];
    let doubt = h.add(A, "2026-05-01T09:00:00", Repeat::Once, CatchUp::Default);
    advance(2 * MIN).await;
    // The retry of the same bytes was acked.
    let rows = h.sends(doubt);
    assert_eq!(rows[0].state, SendState::Sent);
    {
        let s = h.engine.state.lock().unwrap();
        assert_eq!(s.transmits.len(), 2);
        assert_eq!(s.transmits[0].1, s.transmits[1].1);
    }
    // A delivery receipt, then a read receipt; a late delivery does not go back.
    let conn = h.other();
    let mid = &rows[0].message_id;
    assert!(outbox::on_receipt(&conn, mid, false, h.clock.now()).unwrap());
    assert!(outbox::on_receipt(&conn, mid, true, h.clock.now()).unwrap());
    assert!(!outbox::on_receipt(&conn, mid, false, h.clock.now()).unwrap());
    assert_eq!(h.states(doubt), [SendState::Read]);

    h.engine.state.lock().unwrap().refuse_to = Some(B.into());
    let refused = h.add(B, "2026-05-01T09:10:00", Repeat::Once, CatchUp::Default);
    advance(10 * MIN).await;
    let row = &h.sends(refused)[0];
    assert_eq!(row.state, SendState::Failed);
    assert_eq!(row.error_code.as_deref(), Some("not-on-whatsapp"));
    assert_eq!(
        row.advice.as_deref(),
        Some("This number does not use WhatsApp.")
    );
}

#[tokio::test(start_paused = true)]
async fn the_gate_spaces_sends_and_pauses_on_a_rate_limit() {
    let h = Harness::new("2026-05-01T08:59:00Z", Link::Online);
    h.engine.state.lock().unwrap().script = vec![Outcome::RateLimited {
        code: "rate-overlimit".into(),
        retry_after: Duration::from_secs(600),
    }];
    let ids: Vec<ScheduleId> = [A, B, C, A]
        .iter()
        .map(|to| h.add(to, "2026-05-01T09:00:00", Repeat::Once, CatchUp::Always))
        .collect();
    advance(30 * MIN).await;
    for id in &ids {
        assert_eq!(h.states(*id), [SendState::Sent]);
    }
    let s = h.engine.state.lock().unwrap();
    let times: Vec<Timestamp> = s.transmits.iter().map(|t| t.2).collect();
    assert_eq!(times.len(), 5, "four sends and the rate-limited try");
    // The rate limit held everything for 10 minutes.
    assert!(times[1].duration_since(times[0]) >= SignedDuration::from_secs(600));
    for pair in times.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(gap >= SignedDuration::from_secs(4), "gap {gap:?}");
    }
    // The two sends to A are at least the per-chat minimum apart.
    let a_times: Vec<Timestamp> = s
        .transmits
        .iter()
        .filter(|t| String::from_utf8_lossy(&t.1).contains(A))
        .map(|t| t.2)
        .collect();
    let last_two = &a_times[a_times.len() - 2..];
    assert!(last_two[1].duration_since(last_two[0]) >= SignedDuration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn a_schedule_written_by_another_process_is_seen_at_once() {
    let h = Harness::new("2026-05-01T08:59:00Z", Link::Online);
    advance(10 * 1000 * Duration::from_millis(1)).await;
    // Written through another connection, without nudging the runner: only the database
    // tells it. Due 5 s from now, while the runner is in a 30 s sleep.
    let start: DateTime = "2026-05-01T08:59:15".parse().unwrap();
    let new = NewSchedule {
        recipient: Recipient::parse(A).unwrap(),
        text: "from another process".into(),
        timing: Timing::new("UTC", start, Repeat::Once, End::Never).unwrap(),
        catch_up: CatchUp::Default,
    };
    store::add(&h.other(), &new, &mut RandomIds::default(), h.clock.now()).unwrap();
    advance(MIN).await;
    let s = h.engine.state.lock().unwrap();
    assert_eq!(s.transmits.len(), 1);
    let late = s.transmits[0].2.duration_since(ts("2026-05-01T08:59:15Z"));
    assert!(late < SignedDuration::from_secs(1), "late by {late:?}");
}

#[tokio::test(start_paused = true)]
async fn fifty_kills_at_random_moments_during_200_sends_show_each_once() {
    use rand::{Rng, SeedableRng};
    let mut h = Harness::new("2026-05-01T08:00:00Z", Link::Online);
    {
        let mut s = h.engine.state.lock().unwrap();
        s.prepare_takes = Duration::from_millis(2000);
        s.ack_takes = Duration::from_millis(2000);
    }
    let contacts = [A, B, C, "+4915123456784", "+4915123456785"];
    let mut schedules = Vec::new();
    for i in 0..200 {
        let to = contacts[i % contacts.len()];
        let local = format!("2026-05-01T08:{:02}:00", 1 + i / 4);
        schedules.push(h.add(to, &local, Repeat::Once, CatchUp::Always));
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(50);
    let mut kills = 0;
    let (mut mid_send, mut mid_prepare) = (0, 0);
    while kills < 50 {
        advance(Duration::from_millis(rng.gen_range(200..12_000))).await;
        h.crash().await;
        kills += 1;
        let caught: Vec<SendRecord> = outbox::history(&h.other(), None, 1000)
            .unwrap()
            .into_iter()
            .filter(|r| r.state == SendState::Sending)
            .collect();
        mid_send += caught.iter().filter(|r| r.stanza.is_some()).count();
        mid_prepare += caught.iter().filter(|r| r.stanza.is_none()).count();
        h.start_runner();
    }
    // Let the last runner finish the rest.
    for _ in 0..200 {
        if schedules
            .iter()
            .all(|id| h.states(*id) == [SendState::Sent])
        {
            break;
        }
        advance(MIN).await;
    }
    let s = h.engine.state.lock().unwrap();
    let mut ids_per_schedule = Vec::new();
    for id in &schedules {
        let rows = h.sends(*id);
        assert_eq!(rows.len(), 1, "one occurrence, one row");
        assert_eq!(rows[0].state, SendState::Sent, "schedule {id}");
        ids_per_schedule.push(rows[0].message_id.clone());
        // Every transmit of this occurrence carried its one message id.
        assert_eq!(s.shown.get(&rows[0].message_id), Some(&1), "shown once");
    }
    assert_eq!(
        s.shown.len(),
        200,
        "nothing else arrived, nothing is missing"
    );
    // A message id that arrived more than once arrived as the same bytes each time.
    let mut bytes_of: HashMap<&str, &[u8]> = HashMap::new();
    for (id, bytes, _) in &s.transmits {
        let first = bytes_of.entry(id.as_str()).or_insert(bytes.as_slice());
        assert_eq!(*first, bytes.as_slice(), "one ciphertext per occurrence");
    }
    let distinct: std::collections::HashSet<&String> = ids_per_schedule.iter().collect();
    assert_eq!(distinct.len(), 200);
    eprintln!(
        "200 sends, 50 kills ({mid_send} after the bytes left, {mid_prepare} while encrypting): \
         {} arrivals at the server, {} encryptions",
        s.arrived, s.prepared
    );
    // The kills did land in both dangerous places.
    assert!(
        mid_send > 0 && mid_prepare > 0,
        "{mid_send} / {mid_prepare}"
    );
    assert_eq!(
        s.arrived as usize,
        200 + mid_send,
        "each cut-off ack costs one resend"
    );
    // An encryption cut off by a kill never returned bytes, so nothing left; the next
    // start encrypted that occurrence (same id) once, to completion.
    assert_eq!(s.prepared, 200, "one finished encryption per occurrence");
}

#[tokio::test(start_paused = true)]
async fn the_gate_remembers_a_chat_across_a_restart() {
    let mut h = Harness::new("2026-05-01T08:59:50Z", Link::Online);
    let first = h.add(A, "2026-05-01T09:00:00", Repeat::Once, CatchUp::Default);
    advance(Duration::from_secs(15)).await;
    assert_eq!(h.states(first), [SendState::Sent]);
    // The app is restarted five seconds after that send, and the same chat is due again soon.
    h.crash().await;
    h.start_runner();
    let second = h.add(A, "2026-05-01T09:00:10", Repeat::Once, CatchUp::Default);
    advance(Duration::from_secs(60)).await;
    assert_eq!(h.states(second), [SendState::Sent]);
    let at = h.engine.state.lock().unwrap().transmits[1].2;
    // Not at 09:00:10: 30 s after the last send to that chat, as before the restart.
    assert!(at >= ts("2026-05-01T09:00:30Z"), "sent at {at}");
    assert!(at < ts("2026-05-01T09:00:32Z"), "sent at {at}");
}

#[tokio::test(start_paused = true)]
async fn a_reply_since_skips_the_send_when_asked() {
    let h = Harness::new("2026-05-01T08:00:00Z", Link::Online);
    let start: DateTime = "2026-05-01T09:00:00".parse().unwrap();
    let new = |to: &str| NewSchedule {
        recipient: Recipient::parse(to).unwrap(),
        text: "Did you see my last message?".into(),
        timing: Timing::new("UTC", start, Repeat::Once, End::Never).unwrap(),
        catch_up: CatchUp::Default,
    };
    let conn = h.other();
    let now = h.clock.now();
    let (asked, _) = store::add_with(&conn, &new(A), true, &mut RandomIds::default(), now).unwrap();
    let (not_asked, _) =
        store::add_with(&conn, &new(B), false, &mut RandomIds::default(), now).unwrap();
    let (quiet, _) = store::add_with(&conn, &new(C), true, &mut RandomIds::default(), now).unwrap();
    // A and B write back after the schedules were made; C does not, and an old message from C
    // (before the schedule) does not count.
    let wrote = ts("2026-05-01T08:30:00Z");
    herald_core::schedule::inbound::record(&conn, "4915123456781@s.whatsapp.net", wrote).unwrap();
    herald_core::schedule::inbound::record(&conn, "4915123456782@s.whatsapp.net", wrote).unwrap();
    herald_core::schedule::inbound::record(
        &conn,
        "4915123456783@s.whatsapp.net",
        ts("2026-04-30T08:30:00Z"),
    )
    .unwrap();
    advance(2 * 60 * MIN).await;
    let skipped = &h.sends(asked)[0];
    assert_eq!(skipped.state, SendState::Cancelled);
    assert_eq!(skipped.error_code.as_deref(), Some("replied"));
    assert_eq!(h.states(not_asked), [SendState::Sent]);
    assert_eq!(h.states(quiet), [SendState::Sent]);
    assert_eq!(h.transmits(), 2);
}
