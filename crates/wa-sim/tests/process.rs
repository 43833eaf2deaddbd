//! The `wa-sim serve` binary over real loopback sockets: the listening line, pairing through
//! `POST /admin/scan`, login, pings and the state view, the HTTP faults, persistence of the root
//! and the devices across a restart, and a short capacity run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::net::{connect_ws, http, pair_ws, SimProcess};
use support::{iq, login};
use wa_core::binary::Node;
use wa_core::disconnect::parse::{failure, stream_error};
use wa_core::disconnect::StreamError;

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_wa-sim"))
}

fn state_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wa-sim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn the_binary_pairs_logs_in_answers_pings_and_keeps_its_state() {
    let dir = state_dir("process");
    let sim = SimProcess::start(&binary(), &dir);
    assert!(sim.url.starts_with("ws://127.0.0.1:") && sim.url.ends_with("/ws/chat"));
    assert!(sim.admin.ends_with("/admin"));

    let (keys, jid) = pair_ws(&sim).await;
    let mut client = connect_ws(&sim.url).await;
    client.handshake(&keys.noise, &sim.root, &login(&jid)).await;
    assert_eq!(client.recv().await.tag, "success");
    for n in 0..3 {
        let id = format!("p{n}");
        client
            .send_node(&iq(&id, "get", "w:p", vec![Node::new("ping")]))
            .await;
        assert_eq!(client.recv().await.attr_str("id"), Some(id.as_str()));
    }
    let (status, view) = http("GET", &format!("{}/state", sim.admin), "").await;
    assert_eq!(status, 200);
    assert_eq!(view["root_pub_hex"], sim.root_hex);
    let open = view["connections"].as_array().expect("connections");
    assert_eq!(open.len(), 1, "{view}");
    assert_eq!(open[0]["phase"], "logged_in");
    assert_eq!(open[0]["pings"], 3);
    assert_eq!(view["devices"][0]["jid"], jid.to_string());
    let past = view["past_connections"].as_array().expect("past");
    assert!(past
        .iter()
        .any(|p| p["outcome"].as_str().is_some_and(|o| o.contains("515"))));

    // Faults through HTTP.
    let (status, body) = http("POST", &format!("{}/kick?kind=replaced", sim.admin), "").await;
    assert_eq!((status, &body["kicked"]), (200, &serde_json::json!(1)));
    let nodes = client.until_closed().await;
    assert_eq!(
        stream_error(&nodes[0]).expect("stream error"),
        StreamError::Replaced { code: None }
    );
    let (status, _) = http("POST", &format!("{}/kick?kind=bogus", sim.admin), "").await;
    assert_eq!(status, 400);
    let (status, _) = http(
        "POST",
        &format!("{}/fail-next-login?reason=402", sim.admin),
        "",
    )
    .await;
    assert_eq!(status, 200);
    let mut client = connect_ws(&sim.url).await;
    client.handshake(&keys.noise, &sim.root, &login(&jid)).await;
    let f = failure(&client.recv().await).expect("failure");
    assert_eq!(
        (f.reason.code(), f.ban_code, f.expire_secs),
        (402, Some(101), Some(3600))
    );
    let (status, _) = http(
        "POST",
        &format!("{}/min-version?v=2.3000.99999999999", sim.admin),
        "",
    )
    .await;
    assert_eq!(status, 400, "not a u32 revision");
    let (status, _) = http("POST", &format!("{}/scan", sim.admin), "2@nothing,a,b,c,9").await;
    assert_eq!(status, 400);

    // A restart keeps the root and the device.
    let root = sim.root_hex.clone();
    drop(sim);
    let sim = SimProcess::start(&binary(), &dir);
    assert_eq!(sim.root_hex, root);
    let mut client = connect_ws(&sim.url).await;
    client.handshake(&keys.noise, &sim.root, &login(&jid)).await;
    assert_eq!(client.recv().await.tag, "success");
    // Drop closes the socket without a stream error.
    let (_, body) = http("POST", &format!("{}/drop", sim.admin), "").await;
    assert_eq!(body["dropped"], 1);
    assert!(
        tokio::time::timeout(Duration::from_secs(10), client.until_closed())
            .await
            .expect("closed")
            .is_empty()
    );
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_clients_ping_every_second_without_error() {
    let dir = state_dir("capacity");
    let sim = std::sync::Arc::new(SimProcess::start(&binary(), &dir));
    let mut devices = Vec::new();
    for _ in 0..20 {
        devices.push(pair_ws(&sim).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (n, (keys, jid)) in devices.into_iter().enumerate() {
        let sim = sim.clone();
        tasks.spawn(async move {
            let mut client = connect_ws(&sim.url).await;
            client.handshake(&keys.noise, &sim.root, &login(&jid)).await;
            assert_eq!(client.recv().await.tag, "success");
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            for i in 0..3 {
                tick.tick().await;
                let id = format!("{n}.{i}");
                client.send_node(&iq(&id, "get", "w:p", vec![])).await;
                assert_eq!(client.recv().await.attr_str("id"), Some(id.as_str()));
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("client ran without error");
    }
    let (_, view) = http("GET", &format!("{}/state", sim.admin), "").await;
    assert_eq!(view["counters"]["pings"], 60);
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_world_control_api_speaks_json_and_refuses_bad_bodies_in_json() {
    let dir = state_dir("world-api");
    let sim = SimProcess::start_with(
        &binary(),
        &dir,
        &["--contacts", "2", "--contact-devices", "1"],
    );
    let admin = |path: &str| format!("{}/{path}", sim.admin);
    let (status, body) = http("GET", &admin("contacts"), "").await;
    assert_eq!(status, 200);
    let contacts = body["contacts"].as_array().unwrap();
    assert_eq!(
        contacts.len(),
        3,
        "the linked account and two contacts: {body}"
    );
    let contact = contacts.iter().find(|c| c["linked"] == false).unwrap();
    assert_eq!(contact["devices"], serde_json::json!([0, 1]));
    assert_eq!(contact["addressing"], "pn");
    let pn = contact["pn"].as_str().unwrap().to_owned();

    for bad in ["{not json", r#"{"name": 5}"#, r#"{"unknown": true}"#] {
        let (status, body) = http("POST", &admin("contacts"), bad).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["ok"], false, "{bad}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }
    let (status, body) = http(
        "POST",
        &admin("contacts"),
        r#"{"name":"Zed","addressing":"lid"}"#,
    )
    .await;
    assert_eq!(
        (status, &body["ok"]),
        (200, &serde_json::json!(true)),
        "{body}"
    );
    let (status, _) = http("POST", &admin("contacts"), &format!(r#"{{"pn":"{pn}"}}"#)).await;
    assert_eq!(status, 400, "a taken number");

    // The contact writes to the linked account; its phone (simulated) shows it.
    let send = format!(r#"{{"from":"{pn}","text":"over HTTP"}}"#);
    let (status, body) = http("POST", &admin("contact-send"), &send).await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let (_, view) = http("GET", &admin("messages"), "").await;
    let phone = view["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == "15550000001@s.whatsapp.net")
        .unwrap();
    assert_eq!(phone["received"][0]["id"], id.as_str());
    assert_eq!(phone["received"][0]["shown"], 1);
    assert_eq!(
        phone["received"][0]["texts"],
        serde_json::json!(["over HTTP"])
    );
    let sender = view["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == format!("{pn}@s.whatsapp.net"))
        .unwrap();
    assert_eq!(
        sender["sent"][0]["delivered"].as_array().unwrap().len(),
        2,
        "our phone and the contact's companion"
    );
    let (status, body) = http("POST", &admin("read"), r#"{"pn":"15550000001"}"#).await;
    assert_eq!((status, &body["read"]), (200, &serde_json::json!([id])));
    let (status, _) = http(
        "POST",
        &admin("contact-send"),
        r#"{"from":"19990000000","text":"x"}"#,
    )
    .await;
    assert_eq!(status, 400, "no such contact");

    // The bundle controls: a companion runs out of one-time prekeys, a bundle is broken and
    // mended; an unknown device is refused.
    let device = format!(r#"{{"pn":"{pn}","device":1}}"#);
    let (status, body) = http("POST", &admin("drain-prekeys"), &device).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["dropped"].as_u64().is_some_and(|n| n > 0), "{body}");
    let (_, body) = http("POST", &admin("drain-prekeys"), &device).await;
    assert_eq!(body["dropped"], 0, "nothing left the second time");
    let (status, body) = http("POST", &admin("bundle-signature"), &device).await;
    assert_eq!((status, &body["broken"]), (200, &serde_json::json!(true)));
    let mend = format!(r#"{{"pn":"{pn}","device":1,"broken":false}}"#);
    let (_, body) = http("POST", &admin("bundle-signature"), &mend).await;
    assert_eq!(body["broken"], false);
    let (status, _) = http(
        "POST",
        &admin("bundle-signature"),
        &format!(r#"{{"pn":"{pn}","device":9}}"#),
    )
    .await;
    assert_eq!(status, 400, "no such device");
    // No companion is linked: there is nobody to sync history to.
    let (status, body) = http("POST", &admin("history-sync"), r#"{"device":1}"#).await;
    assert_eq!((status, &body["ok"]), (400, &serde_json::json!(false)));
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}
