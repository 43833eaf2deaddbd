//! `herald-cli send --batch` as a process against a real simulator on 127.0.0.1: a file of
//! lines with bad ones among them, stdin answered line by line as it is written, and the exit
//! codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::time::Duration;

use common::{data_dir, pair, run, Cli, Sim, PHONE};
use serde_json::Value;
use wa_sim::{Addressing, ContactSpec};

const ADA: &str = "15551110001";

fn args(sim: &Sim, batch: &str) -> Vec<String> {
    let mut all: Vec<String> = ["send", "--batch", batch, "--json"]
        .iter()
        .map(|a| a.to_string())
        .collect();
    all.extend(sim.server_args());
    all
}

fn events(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn a_batch_answers_every_line_and_exits_with_the_worst_outcome() {
    let sim = Sim::start();
    sim.sim
        .add_contact(&ContactSpec {
            pn: Some(ADA.into()),
            companions: 2,
            ..ContactSpec::default()
        })
        .unwrap();
    let group = sim
        .sim
        .create_group("Book club", &[ADA.into(), PHONE.into()], Addressing::Pn)
        .unwrap();
    let dir = data_dir();
    // Not linked yet: bad input, nothing sent.
    let file = dir.path().join("batch.jsonl");
    std::fs::write(&file, "{\"to\":\"+15551110001\",\"text\":\"x\"}\n").unwrap();
    let path = file.to_str().unwrap();
    let a = args(&sim, path);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, _, err) = run(&a, dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not linked"), "{err}");

    let mut connect = pair(&sim, dir.path());
    connect.signal("TERM");
    assert_eq!(connect.wait_exit(Duration::from_secs(10)).code(), Some(0));

    // A file: two texts go, a bad line and a number without WhatsApp do not; exit 1.
    let lines = [
        format!(r#"{{"to":"+{ADA}","text":"one"}}"#),
        "not json".to_owned(),
        r#"{"to":"+15559990000","text":"anyone?"}"#.to_owned(),
        String::new(),
        format!(r#"{{"to":"{group}@g.us","text":"two"}}"#),
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let (code, out, err) = run(&a, dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not sent"), "{err}");
    let ev = events(&out);
    let kinds: Vec<(&str, u64)> = ev
        .iter()
        .filter(|e| e["event"] != "done")
        .map(|e| (e["event"].as_str().unwrap(), e["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [("sent", 1), ("invalid", 2), ("notSent", 3), ("sent", 5)]
    );
    assert!(ev[2]["error"].as_str().unwrap().contains("not on WhatsApp"));
    assert_eq!(ev[0]["to"], format!("{ADA}@s.whatsapp.net"));
    assert_eq!(ev[3]["to"], format!("{group}@g.us"));
    let done = ev.last().unwrap();
    assert_eq!(done["event"], "done");
    assert_eq!(
        (done["sent"].as_u64(), done["invalid"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(done["notSent"], 1);
    for device in 0..3 {
        let seen = sim.sim.received(ADA, device);
        for (i, text) in [(0, "one"), (3, "two")] {
            let id = ev[i]["id"].as_str().unwrap();
            let entry = seen.iter().find(|s| s.id == id).unwrap();
            assert_eq!(entry.texts, [text], "device {device}");
        }
    }

    // Only a bad line: exit 2.
    std::fs::write(&file, "{\"to\":\"+15551110001\"}\n").unwrap();
    let (code, out, err) = run(&a, dir.path());
    assert_eq!(code, 2, "{err}");
    assert_eq!(events(&out)[0]["event"], "invalid");
    // A file that is not there: exit 2 before connecting.
    let missing = dir.path().join("missing.jsonl");
    let b = args(&sim, missing.to_str().unwrap());
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    let (code, _, err) = run(&b, dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot read"), "{err}");

    // Stdin: each line is answered before the next is written; end of input ends it, exit 0.
    let (mut cli, mut stdin) =
        Cli::spawn_with_stdin(&["send", "--batch", "-", "--json"], dir.path(), &sim);
    let mut ids = Vec::new();
    for i in 1..=3 {
        writeln!(
            stdin,
            r#"{{"to":"{ADA}@s.whatsapp.net","text":"stream {i}"}}"#
        )
        .unwrap();
        stdin.flush().unwrap();
        let sent = cli.wait_json("the line's ack", |v| v["event"] == "sent");
        assert_eq!(sent["line"], i);
        ids.push(sent["id"].as_str().unwrap().to_owned());
    }
    drop(stdin);
    let done = cli.wait_json("the totals", |v| v["event"] == "done");
    assert_eq!(done["sent"], 3);
    assert_eq!(cli.wait_exit(Duration::from_secs(15)).code(), Some(0));
    let phone = sim.sim.received(ADA, 0);
    for (i, id) in ids.iter().enumerate() {
        let entry = phone.iter().find(|s| &s.id == id).unwrap();
        assert_eq!(entry.texts, [format!("stream {}", i + 1)]);
    }
}
