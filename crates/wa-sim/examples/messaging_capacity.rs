//! Messaging capacity: a `wa-sim serve --contacts 50 --contact-devices 2` process (50 contacts
//! with a phone and two companions each, every one a Signal peer), a 50-member group, and one
//! raw wa-core client relaying MESSAGES messages (default 1,000: nine in ten 1:1 to the
//! contacts in turn, one in ten to the group). Every copy is decrypted by a simulated device,
//! which answers with a receipt. Prints the simulator's CPU time (/proc/PID/stat) and peak RSS
//! (VmHWM), and fails if any message was refused or not shown exactly once.
//!
//! `cargo run --release -p wa-sim --example messaging_capacity -- [MESSAGES]`; the simulator
//! binary is `$WA_SIM`, or `wa-sim` next to the examples directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use prost::Message as _;
use rand_core::OsRng;
use support::net::{connect_ws, http, SimProcess};
use support::peer::{pn, Peer};
use support::{login, Keys};
use wa_core::binary::{Jid, Node, Server};
use wa_core::pair::adv::verify_pair_success_identity;
use wa_core::proto::{Message, SenderKeyDistributionMessage as SkdmProto};
use wa_core::stanza::pair::{iq_result, PairDevice, PairDeviceSign, PairSuccess};

fn sim_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("WA_SIM") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(|examples| examples.parent())
        .map(|dir| dir.join("wa-sim"))
        .expect("target dir")
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / 100.0
}

fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Pairs a device over the WebSocket and keeps its `<device-identity>`.
async fn pair(sim: &SimProcess) -> (Keys, Jid, Vec<u8>) {
    let keys = Keys::generate();
    let mut client = connect_ws(&sim.url).await;
    client
        .handshake(&keys.noise, &sim.root, &keys.registration())
        .await;
    let pd = PairDevice::parse(&client.recv().await).expect("pair-device");
    client.send_node(&iq_result(&pd.id)).await;
    let qr = keys.qr(&pd.refs[0]);
    let admin = sim.admin.clone();
    let scan = tokio::spawn(async move { http("POST", &format!("{admin}/scan"), &qr).await });
    let success = PairSuccess::parse(&client.recv().await).expect("pair-success");
    let paired = verify_pair_success_identity(
        &success.device_identity,
        &keys.adv_secret,
        &keys.identity,
        &mut OsRng,
    )
    .expect("identity");
    let sign = PairDeviceSign {
        id: success.id.clone(),
        key_index: paired.key_index,
        device_identity: paired.reply_bytes(),
    };
    client.send_node(&sign.to_node()).await;
    let _ = client.until_closed().await;
    let _ = scan.await;
    (keys, success.jid, paired.account.encode_to_vec())
}

#[tokio::main]
async fn main() {
    let messages: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000);
    let state = std::env::temp_dir().join(format!("wa-sim-msgcap-{}", std::process::id()));
    let sim = SimProcess::start_with(
        &sim_binary(),
        &state,
        &["--contacts", "50", "--contact-devices", "2"],
    );
    let pid = sim.pid();
    let (keys, jid, identity) = pair(&sim).await;
    let mut client = connect_ws(&sim.url).await;
    client.handshake(&keys.noise, &sim.root, &login(&jid)).await;
    let mut peer = Peer::logged_in(client, keys, jid, identity).await;
    peer.upload_prekeys(1, 50).await;
    let _ = peer.go_active().await;

    let (_, world) = http("GET", &format!("{}/contacts", sim.admin), "").await;
    let contacts: Vec<String> = world["contacts"]
        .as_array()
        .expect("contacts")
        .iter()
        .filter(|c| c["linked"] == false)
        .map(|c| c["pn"].as_str().expect("pn").to_owned())
        .collect();
    assert_eq!(contacts.len(), 50);
    let me = peer.user();
    let mut members = vec![me.clone()];
    members.extend(contacts.iter().cloned());
    let body = serde_json::json!({ "subject": "Fifty", "participants": members }).to_string();
    let (_, group) = http("POST", &format!("{}/groups", sim.admin), &body).await;
    let group_jid = Jid::new(group["id"].as_str().expect("group id"), Server::Group);

    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    let mut device_lists = std::collections::HashMap::new();
    let mut copies = 0usize;
    let mut refused = 0usize;
    for n in 0..messages {
        let id = format!("3EB0{n:018X}");
        let ack = if n % 10 == 9 {
            let members: Vec<Jid> = members.iter().map(|m| pn(m)).collect();
            let all: Vec<Jid> = match device_lists.get("group") {
                Some(list) => Vec::clone(list),
                None => {
                    let list: Vec<Jid> = peer
                        .devices(&members)
                        .await
                        .into_iter()
                        .map(|(j, _)| j)
                        .filter(|j| *j != peer.jid)
                        .collect();
                    device_lists.insert("group".to_owned(), list.clone());
                    list
                }
            };
            // The distribution message pairwise only on the first group message.
            let first = !peer.sender_keys.contains_key(&group_jid.to_string());
            let skdm = peer.sender_key(&group_jid.to_string());
            let mut tos = Vec::new();
            if first {
                let carrier = Message {
                    sender_key_distribution_message: Some(SkdmProto {
                        group_id: Some(group_jid.to_string()),
                        axolotl_sender_key_distribution_message: Some(skdm.encode()),
                    }),
                    ..Message::default()
                };
                for device in &all {
                    let enc = peer.encrypt(device, &carrier).await;
                    tos.push(
                        Node::new("to")
                            .with_attr("jid", device.clone())
                            .with_children(vec![enc]),
                    );
                }
            }
            let skmsg = peer.group_encrypt(&group_jid.to_string(), &format!("group {n}"));
            let skmsg = Node::new("enc")
                .with_attr("v", "2")
                .with_attr("type", "skmsg")
                .with_bytes(skmsg);
            let stanza = if tos.is_empty() {
                Node::new("message")
                    .with_attr("id", id.clone())
                    .with_attr("to", group_jid.clone())
                    .with_attr("type", "text")
                    .with_children(vec![skmsg])
            } else {
                peer.stanza(&id, &group_jid, tos, vec![skmsg])
            };
            copies += all.len();
            peer.send_and_settle(&stanza).await
        } else {
            let to = pn(&contacts[n % contacts.len()]);
            let devices: Vec<Jid> = match device_lists.get(&to.user) {
                Some(list) => Vec::clone(list),
                None => {
                    let list: Vec<Jid> = peer
                        .devices(&[to.clone(), pn(&me)])
                        .await
                        .into_iter()
                        .map(|(j, _)| j)
                        .filter(|j| *j != peer.jid)
                        .collect();
                    device_lists.insert(to.user.clone(), list.clone());
                    list
                }
            };
            copies += devices.len();
            let stanza = peer
                .direct(&id, &to, &devices, &format!("message {n}"))
                .await;
            peer.send_and_settle(&stanza).await
        };
        if ack.attr_str("error").is_some() {
            refused += 1;
        }
    }
    let receipts = peer.drain(Duration::from_millis(500)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_before;
    let hwm = status_kib(pid, "VmHWM:");
    let (_, view) = http("GET", &format!("{}/messages", sim.admin), "").await;
    let mut shown = 0u64;
    let mut not_once = 0u64;
    for device in view["devices"].as_array().expect("devices") {
        for seen in device["received"].as_array().expect("received") {
            shown += seen["shown"].as_u64().unwrap_or(0);
            if seen["shown"] != 1 || seen["refused"] != 0 {
                not_once += 1;
            }
        }
    }
    println!(
        "{messages} messages relayed in {elapsed:.1} s ({copies} device copies, {shown} shown, {refused} refused, {not_once} not shown exactly once, {receipts} late receipts acked)"
    );
    println!(
        "simulator CPU: {cpu:.2} s while relaying ({:.1} ms per message), {:.2} s in total; peak RSS (VmHWM) {hwm} KiB",
        1000.0 * cpu / messages as f64,
        cpu_seconds(pid)
    );
    drop(sim);
    let _ = std::fs::remove_dir_all(&state);
    if refused > 0 || not_once > 0 || shown as usize != copies {
        eprintln!("refusals: {}", view["refused"]);
        std::process::exit(1);
    }
}
