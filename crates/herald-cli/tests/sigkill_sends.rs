//! Exactly once across crashes, as a process: `herald-cli connect` runs the scheduler over a
//! simulator on 127.0.0.1 while 200 scheduled sends to four contacts go out, and is SIGKILLed
//! 50 times at random moments (a seeded RNG; the seed is printed, and `HERALD_KILL_SEED`
//! repeats a run) and started again. At the end every contact's simulated devices — phone
//! and companion — have shown each of its occurrences exactly once and missed none, and the
//! outbox has every send sent (or later) with one message id each, the ids the devices saw.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use herald_core::schedule::outbox::RandomIds;
use herald_core::schedule::recipient::Recipient;
use herald_core::schedule::store::{self, NewSchedule};
use herald_core::schedule::timing::{CatchUp, End, Repeat, Timing};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Four contacts (valid German mobile numbers), each a phone and one companion.
const CONTACTS: [&str; 4] = [
    "4915123450001",
    "4915123450002",
    "4915123450003",
    "4915123450004",
];
const PER_CONTACT: usize = 50;
const KILLS: usize = 50;
/// The gate opened up so 200 sends fit in a test, yet spaced enough that they take most of
/// the 50 runs (the spacing itself is tested on paused time in herald-core).
const CONNECT: [&str; 8] = [
    "connect",
    "--json",
    "--send-gap",
    "40ms-160ms",
    "--chat-gap",
    "0s",
    "--hourly-cap",
    "100000",
];

/// One row of the outbox.
struct SendRow {
    to: String,
    text: String,
    state: String,
    message_id: String,
}

fn outbox(dir: &Path) -> Vec<SendRow> {
    let conn = rusqlite::Connection::open_with_flags(
        dir.join("herald.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut q = conn
        .prepare(
            "SELECT s.recipient, s.text, o.state, o.message_id FROM sends o \
             JOIN schedules s ON s.id = o.schedule_id ORDER BY o.id",
        )
        .unwrap();
    q.query_map([], |r| {
        Ok(SendRow {
            to: r.get(0)?,
            text: r.get(1)?,
            state: r.get(2)?,
            message_id: r.get(3)?,
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn count(rows: &[SendRow], states: &[&str]) -> usize {
    rows.iter()
        .filter(|r| states.contains(&r.state.as_str()))
        .count()
}

/// 200 one-shot schedules, due a moment from now, written as `herald-cli schedule add` does.
fn add_schedules(dir: &Path) {
    let conn = herald_core::db::open(&dir.join("herald.db")).unwrap();
    let now = jiff::Timestamp::now();
    let due = now
        .checked_add(jiff::SignedDuration::from_secs(1))
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .datetime();
    let mut ids = RandomIds {
        own_user: PHONE.into(),
    };
    for n in 0..PER_CONTACT {
        for contact in CONTACTS {
            let new = NewSchedule {
                recipient: Recipient::parse(&format!("+{contact}")).unwrap(),
                text: format!("occurrence {n} for {contact}"),
                timing: Timing::new("UTC", due, Repeat::Once, End::Never).unwrap(),
                catch_up: CatchUp::Always,
            };
            store::add(&conn, &new, &mut ids, now).unwrap();
        }
    }
}

#[test]
fn two_hundred_sends_through_fifty_sigkills_each_show_exactly_once() {
    let seed = std::env::var("HERALD_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    println!("kill moments from seed {seed} (HERALD_KILL_SEED={seed} repeats them)");
    let mut rng = StdRng::seed_from_u64(seed);

    let sim = Sim::start();
    for contact in CONTACTS {
        sim.add_contact(contact, 1);
    }
    let dir = data_dir();
    let mut linking = pair(&sim, dir.path());
    linking.signal("TERM");
    assert!(linking.wait_exit(STEP).success());
    drop(linking);
    add_schedules(dir.path());
    assert_eq!(outbox(dir.path()).len(), CONTACTS.len() * PER_CONTACT);

    let started = Instant::now();
    let mut mid_send = 0;
    let mut progress = Vec::new();
    for _ in 0..KILLS {
        let mut cli = Cli::spawn(&CONNECT, dir.path(), Some(&sim));
        // A random moment of its life: before it is online, while it logs in, between two
        // sends or inside one. The moment is the test's subject, so this is a real wait.
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..=900)));
        cli.signal("KILL");
        cli.wait_exit(STEP);
        let rows = outbox(dir.path());
        // A row still `sending` is one the kill caught between its claim and its ack.
        mid_send += usize::from(count(&rows, &["sending"]) > 0);
        progress.push(count(&rows, &["sent", "delivered", "read"]));
    }
    println!(
        "{KILLS} kills in {:.1} s; {mid_send} caught a send in flight; sent after each: {progress:?}",
        started.elapsed().as_secs_f64()
    );

    // The last run is left to finish.
    let mut cli = Cli::spawn(&CONNECT, dir.path(), Some(&sim));
    cli.wait_online();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = outbox(dir.path());
        if count(&rows, &["sent", "delivered", "read"]) == rows.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not all sent within 60 s: {} of {} (seed {seed})\nstderr:\n{}",
            count(&rows, &["sent", "delivered", "read"]),
            rows.len(),
            cli.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    cli.signal("TERM");
    let status = cli.wait_exit(STEP);
    assert!(status.success(), "{status:?}\nstderr:\n{}", cli.stderr());
    println!(
        "all {} sent {:.1} s after the first start",
        CONTACTS.len() * PER_CONTACT,
        started.elapsed().as_secs_f64()
    );

    // One message id per occurrence, never shared.
    let rows = outbox(dir.path());
    assert_eq!(rows.len(), CONTACTS.len() * PER_CONTACT);
    let ids: BTreeSet<&str> = rows.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids.len(), rows.len(), "a message id used twice");
    let mut wanted: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for r in &rows {
        wanted
            .entry(r.to.trim_start_matches('+').to_owned())
            .or_default()
            .insert(r.message_id.clone(), r.text.clone());
    }

    // What each contact's devices showed: every occurrence once, none missing, nothing else.
    let view = sim.sim.messages();
    for contact in CONTACTS {
        let want = &wanted[contact];
        assert_eq!(want.len(), PER_CONTACT);
        for device in [0u16, 1] {
            let name = if device == 0 {
                format!("{contact}@s.whatsapp.net")
            } else {
                format!("{contact}:{device}@s.whatsapp.net")
            };
            let seen = &view
                .devices
                .iter()
                .find(|d| d.device == name)
                .unwrap_or_else(|| panic!("no simulated device {name}"))
                .received;
            let shown: BTreeMap<&str, (u32, &[String])> = seen
                .iter()
                .filter(|s| ids.contains(s.id.as_str()))
                .map(|s| (s.id.as_str(), (s.shown, s.texts.as_slice())))
                .collect();
            for (id, text) in want {
                match shown.get(id.as_str()) {
                    Some((1, texts)) => {
                        assert_eq!(*texts, std::slice::from_ref(text), "{name} {id}")
                    }
                    Some((n, _)) => panic!("{name} showed {id} {n} times (seed {seed})"),
                    None => panic!("{name} never showed {id} ({text}) (seed {seed})"),
                }
            }
            assert_eq!(
                shown.len(),
                PER_CONTACT,
                "{name} showed another contact's message"
            );
        }
    }
}
