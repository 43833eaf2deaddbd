//! `kill -9` at random moments while a store-backed Signal session sends and receives: after
//! every restart the session still talks to its peer, nothing is decrypted twice and nothing
//! sent is lost.
//!
//! The parent re-runs this test binary as a child that owns the store: the `store_peer`
//! example (our side: responder, one-time prekeys, the ratchet in SQLite, an outbox), compiled
//! into this binary as a module; its top comment describes the line protocol and how it
//! commits before it speaks. The parent is the peer, a wa-core session kept in memory, so it
//! outlives every kill. The peer acknowledges each message it read, as the server acks a
//! message; a message still unacknowledged when the child dies is in doubt and is printed
//! again after the restart, the same bytes (the peer refuses the copy as a duplicate).
//! `conformance/signal-crash.test.mjs` runs the same child against libsignal-node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rand::rngs::{OsRng, StdRng};
use rand::{Rng, SeedableRng};
use wa_client::store::Store;
use wa_core::signal::{
    CiphertextMessage, KeyPair, LocalIdentity, PreKeyBundle, SessionRecord, SignalError,
    SignalPublicKey,
};

#[path = "../examples/store_peer.rs"]
mod store_peer;

const CHILD_ENV: &str = "WA_CLIENT_SIGNAL_CRASH_DIR";

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wa-client-signal-crash-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running child and the lines it prints.
struct Child {
    process: std::process::Child,
    stdin: std::process::ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Child {
    fn spawn(dir: &PathBuf) -> Child {
        let exe = std::env::current_exe().unwrap();
        let mut process = Command::new(exe)
            .args([
                "signal_crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "-q",
            ])
            .env(CHILD_ENV, dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = process.stdin.take().unwrap();
        let stdout = process.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest prints its own lines too; ours are the protocol words.
                let word = line.split(' ').next().unwrap_or_default();
                let ours = matches!(
                    word,
                    "bundle" | "msg" | "ready" | "ok" | "dup" | "nosession" | "acked"
                );
                if ours && tx.send(line).is_err() {
                    break;
                }
            }
        });
        Child {
            process,
            stdin,
            lines,
        }
    }

    /// The next protocol line, or `None` once the child is gone.
    fn line(&self) -> Option<String> {
        self.lines.recv_timeout(Duration::from_secs(30)).ok()
    }

    fn send(&mut self, line: &str) -> bool {
        writeln!(self.stdin, "{line}").is_ok() && self.stdin.flush().is_ok()
    }
}

/// The peer, in the parent: its session and what it has seen.
struct Peer {
    us: LocalIdentity,
    session: SessionRecord,
    rng: StdRng,
    /// Our messages not yet acknowledged by the child, with their exact bytes.
    unacked: Vec<(String, &'static str, Vec<u8>)>,
    next_text: u32,
    /// Texts the child acknowledged with `ok` (each at most once).
    delivered: HashSet<String>,
    /// Child messages decrypted, by outbox number.
    received: HashMap<u64, String>,
    /// Whether the peer has started its session from the child's bundle.
    started: bool,
    /// Peer messages the child had committed but died before acknowledging.
    committed_unacknowledged: u32,
    /// In-doubt child messages printed again after a restart that the peer had already read.
    replays_refused: u32,
}

impl Peer {
    /// Reads one of the child's messages; returns its outbox number for the ack.
    fn on_child_message(&mut self, line: &str) -> u64 {
        let mut parts = line.splitn(3, ' ');
        let (_, n, hex_bytes) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
        let n: u64 = n.parse().unwrap();
        let bytes = hex::decode(hex_bytes).unwrap();
        match self.session.decrypt_message(&bytes, &mut self.rng) {
            Ok(d) => {
                self.session = d.record;
                let text = String::from_utf8(d.plaintext).unwrap();
                assert!(
                    self.received.insert(n, text).is_none(),
                    "outbox message {n} decrypted twice"
                );
            }
            Err(SignalError::DuplicateMessage { .. }) => {
                assert!(
                    self.received.contains_key(&n),
                    "duplicate of a message never read"
                );
                self.replays_refused += 1;
            }
            Err(e) => panic!(
                "the peer cannot read outbox message {n} (read before: {}): {e}",
                self.received.contains_key(&n)
            ),
        }
        n
    }

    fn new_message(&mut self) -> (String, &'static str, Vec<u8>) {
        let text = format!("peer message {}", self.next_text);
        self.next_text += 1;
        let (session, message) = self.session.encrypt(text.as_bytes()).unwrap();
        self.session = session;
        let kind = match message {
            CiphertextMessage::PreKey(_) => "pkmsg",
            CiphertextMessage::Whisper(_) => "msg",
        };
        (text, kind, message.serialized().to_vec())
    }
}

fn parse_bundle(line: &str) -> PreKeyBundle {
    let v: serde_json::Value = serde_json::from_str(line.trim_start_matches("bundle ")).unwrap();
    let key = |k: &str| {
        let bytes = hex::decode(v[k].as_str().unwrap()).unwrap();
        SignalPublicKey::from_slice(&bytes).unwrap().public_key()
    };
    PreKeyBundle {
        registration_id: v["registration_id"].as_u64().unwrap() as u32,
        identity_key: key("identity"),
        signed_pre_key_id: v["signed_pre_key_id"].as_u64().unwrap() as u32,
        signed_pre_key: key("signed_pre_key"),
        signed_pre_key_signature: hex::decode(v["signature"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
        pre_key: Some((v["pre_key_id"].as_u64().unwrap() as u32, key("pre_key"))),
    }
}

/// One child's life: start, replay, then a stream of sends both ways until it is killed
/// (`kill_after` set) or the script ends.
fn round(dir: &PathBuf, peer: &mut Peer, kill_after: Option<Duration>, steps: usize) -> bool {
    let mut child = Child::spawn(dir);
    let killer = kill_after.map(|after| {
        let pid = child.process.id();
        std::thread::spawn(move || {
            std::thread::sleep(after);
            // SIGKILL, by pid: the child cannot clean up.
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        })
    });
    let mut alive = true;
    let mut to_ack = Vec::new();
    // Startup: bundle, outbox, ready.
    loop {
        let Some(line) = child.line() else {
            alive = false;
            break;
        };
        if let Some(rest) = line.strip_prefix("bundle ") {
            if !peer.started {
                let bundle = parse_bundle(&format!("bundle {rest}"));
                peer.session = SessionRecord::new()
                    .initiate(&peer.us, &bundle, None, &mut peer.rng)
                    .unwrap();
                peer.started = true;
            }
        } else if line.starts_with("msg ") {
            to_ack.push(peer.on_child_message(&line));
        } else if line == "ready" {
            break;
        }
    }
    for n in to_ack {
        if !alive || !ack(&mut child, n) {
            alive = false;
        }
    }
    let mut step = 0;
    while alive && step < steps {
        step += 1;
        let peer_turn = peer.delivered.is_empty() || step % 3 != 0;
        if peer_turn {
            // Unacknowledged messages go again first, byte for byte.
            if peer.unacked.is_empty() {
                let m = peer.new_message();
                peer.unacked.push(m);
            }
            let (text, kind, bytes) = peer.unacked[0].clone();
            if !child.send(&format!("recv {kind} {}", hex::encode(&bytes))) {
                alive = false;
                break;
            }
            match child.line() {
                Some(answer) if answer == "dup" || answer.starts_with("ok ") => {
                    if let Some(got) = answer.strip_prefix("ok ") {
                        assert_eq!(got, text);
                        assert!(
                            peer.delivered.insert(text.clone()),
                            "{text} decrypted twice"
                        );
                    } else {
                        // Decrypted and committed by a child killed before it could say so.
                        peer.delivered.insert(text.clone());
                        peer.committed_unacknowledged += 1;
                    }
                    peer.unacked.remove(0);
                }
                Some(other) => panic!("unexpected answer {other}"),
                None => alive = false,
            }
        } else {
            let text = format!("herald message {step}");
            if !child.send(&format!("send {text}")) {
                alive = false;
                break;
            }
            match child.line() {
                Some(line) if line.starts_with("msg ") => {
                    let n = peer.on_child_message(&line);
                    alive = ack(&mut child, n);
                }
                Some(line) if line == "nosession" => {}
                Some(other) => panic!("unexpected answer {other}"),
                None => alive = false,
            }
        }
    }
    drop(child.stdin);
    let _ = child.process.wait();
    if let Some(k) = killer {
        k.join().unwrap();
    }
    alive
}

/// Acknowledges outbox message `n`; false once the child is gone.
fn ack(child: &mut Child, n: u64) -> bool {
    if !child.send(&format!("ack {n}")) {
        return false;
    }
    match child.line() {
        Some(line) if line == "acked" => true,
        Some(other) => panic!("unexpected answer {other}"),
        None => false,
    }
}

#[test]
fn random_kill_9s_never_break_the_session() {
    let dir = tempdir();
    let mut peer = Peer {
        us: LocalIdentity {
            key_pair: KeyPair::generate(&mut OsRng),
            registration_id: 77,
        },
        session: SessionRecord::new(),
        rng: StdRng::from_entropy(),
        unacked: Vec::new(),
        next_text: 0,
        delivered: HashSet::new(),
        received: HashMap::new(),
        started: false,
        committed_unacknowledged: 0,
        replays_refused: 0,
    };
    let mut rng = rand::thread_rng();
    let mut killed_mid_round = 0;
    const ROUNDS: u32 = 50;
    for _ in 0..ROUNDS {
        let after = Duration::from_millis(rng.gen_range(5..250));
        if !round(&dir, &mut peer, Some(after), 10_000) {
            killed_mid_round += 1;
        }
        let store = Store::open(&dir).unwrap();
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }
    assert!(
        killed_mid_round > ROUNDS / 2,
        "the kills must land while work is going on"
    );
    // A last life without a kill: the session still works both ways.
    let delivered_before = peer.delivered.len();
    let received_before = peer.received.len();
    assert!(round(&dir, &mut peer, None, 30));
    assert!(peer.delivered.len() >= delivered_before + 10);
    assert!(peer.received.len() >= received_before + 5);
    assert!(peer.unacked.is_empty());
    // Every message the child acknowledged came from the peer, each once; the texts the peer
    // never saw acknowledged are exactly the unacked ones (none left).
    assert_eq!(peer.delivered.len() as u32, peer.next_text);
    eprintln!(
        "{ROUNDS} kill -9s ({killed_mid_round} mid-work): peer sent {}, child sent {}; \
         {} committed but unacknowledged at a kill, {} in-doubt resends refused as duplicates",
        peer.next_text,
        peer.received.len(),
        peer.committed_unacknowledged,
        peer.replays_refused
    );
}

/// The child: our side of the session on the store in `CHILD_ENV`, the `store_peer` example's
/// code run inside this test binary (so `cargo test --test signal_crash` needs nothing else).
#[test]
#[ignore = "run by random_kill_9s_never_break_the_session"]
fn signal_crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    store_peer::serve(dir.as_ref());
}
