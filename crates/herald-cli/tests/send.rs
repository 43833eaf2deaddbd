//! `herald-cli send` and `groups` as processes against a real simulator on 127.0.0.1, and the
//! `message`/`receipt` events of `connect --json`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{data_dir, pair, run, Sim, PHONE};
use serde_json::Value;
use wa_sim::{Addressing, Chat, ContactSpec};

const ADA: &str = "15551110001";

fn with_server(sim: &Sim, args: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend(sim.server_args());
    all
}

#[test]
fn send_prints_the_ack_and_exits_by_outcome_and_connect_prints_messages_and_receipts() {
    let sim = Sim::start();
    sim.sim
        .add_contact(&ContactSpec {
            pn: Some(ADA.into()),
            companions: 1,
            ..ContactSpec::default()
        })
        .unwrap();
    let dir = data_dir();
    let mut connect = pair(&sim, dir.path());
    let id = sim
        .sim
        .contact_send(ADA, 0, &Chat::Direct(PHONE.into()), "hello herald")
        .unwrap();
    let message = connect.wait_json("her message", |v| v["event"] == "message");
    assert_eq!(message["id"], id.as_str());
    assert_eq!(message["text"], "hello herald");
    assert_eq!(message["chat"], format!("{ADA}@s.whatsapp.net"));
    assert!(message["t"].as_u64().unwrap() > 1_700_000_000_000);
    connect.signal("TERM");
    assert_eq!(connect.wait_exit(Duration::from_secs(10)).code(), Some(0));

    let args = with_server(&sim, &["send", &format!("+{ADA}"), "hi ada", "--json"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run(&args, dir.path());
    assert_eq!(code, 0, "stderr: {err}");
    let sent: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(sent["event"], "sent");
    assert_eq!(sent["to"], format!("{ADA}@s.whatsapp.net"));
    let sent_id = sent["id"].as_str().unwrap().to_owned();
    assert!(sent_id.starts_with("3EB0"));
    assert!(sent["t"].as_u64().unwrap() > 1_700_000_000_000);
    for device in 0..2 {
        let seen = sim.sim.received(ADA, device);
        let entry = seen.iter().find(|s| s.id == sent_id).unwrap();
        assert_eq!(entry.texts, ["hi ada"]);
    }

    // Bad input changes nothing: exit 2.
    let args = with_server(&sim, &["send", "not-a-number", "x"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = run(&args, dir.path());
    assert_eq!(code, 2, "{err}");
    // A number without WhatsApp: not sent, exit 1.
    let args = with_server(&sim, &["send", "+15559990000", "anyone?"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = run(&args, dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not on WhatsApp"), "{err}");

    // A read receipt reaches `connect --json`.
    let mut connect = common::Cli::spawn(&["connect", "--json"], dir.path(), Some(&sim));
    connect.wait_online();
    sim.sim.read(ADA, 0, Some(std::slice::from_ref(&sent_id)));
    let receipt = connect.wait_json("the read receipt", |v| {
        v["event"] == "receipt" && v["kind"] == "read"
    });
    assert_eq!(receipt["ids"][0], sent_id.as_str());
    assert!(receipt["device"].as_str().unwrap().starts_with(ADA));
    connect.signal("TERM");
    connect.wait_exit(Duration::from_secs(10));
}

#[test]
fn groups_lists_the_accounts_groups_with_members() {
    let sim = Sim::start();
    sim.sim
        .add_contact(&ContactSpec {
            pn: Some(ADA.into()),
            ..ContactSpec::default()
        })
        .unwrap();
    let group = sim
        .sim
        .create_group("Book club", &[ADA.into(), PHONE.into()], Addressing::Pn)
        .unwrap();
    let dir = data_dir();
    let mut connect = pair(&sim, dir.path());
    connect.signal("TERM");
    connect.wait_exit(Duration::from_secs(10));
    let args = with_server(&sim, &["groups", "--json"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run(&args, dir.path());
    assert_eq!(code, 0, "{err}");
    let groups: Value = serde_json::from_str(out.trim()).unwrap();
    let g = &groups[0];
    assert_eq!(g["jid"], format!("{group}@g.us"));
    assert_eq!(g["subject"], "Book club");
    assert_eq!(g["participants"].as_array().unwrap().len(), 2);

    // And a text to it is acked.
    let args = with_server(
        &sim,
        &["send", &format!("{group}@g.us"), "chapter 3", "--json"],
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run(&args, dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(r#""event":"sent""#));
}
