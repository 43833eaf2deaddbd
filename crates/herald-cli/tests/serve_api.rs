//! `herald-cli serve`'s API as a client sees it: schedules over HTTP (create, read, edit,
//! pause, resume, cancel, sends), bad input refused with a clear 4xx and nothing changed,
//! `POST /messages` honest about sending, the OpenAPI document, and a schedule sent and
//! delivered through the simulator once the engine can send.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/daemon.rs"]
mod daemon;

use common::{data_dir, Sim};
use daemon::Daemon;
use serde_json::{json, Value};

/// A local time in UTC this far ahead, as the API takes it.
fn utc_in(secs: i64) -> String {
    let at = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(secs))
        .unwrap();
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

#[test]
fn schedules_over_http_and_bad_input_changes_nothing() {
    let sim = Sim::start();
    let dir = data_dir();
    let d = Daemon::start(&sim, dir.path(), &[]);
    assert_eq!(d.get("/schedules").json(), json!([]));

    let body = json!({
        "to": "+44 7911 123456",
        "text": "standup",
        "at": "2099-03-02T09:30",
        "zone": "Europe/Berlin",
        "repeat": {"unit": "week", "on": ["mon", "thu"]},
        "count": 4,
        "catchUp": "within",
        "catchUpMinutes": 30
    });
    let made = d.send_json("POST", "/schedules", &body.to_string());
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    let s = made.json();
    let id = s["id"].as_i64().unwrap();
    assert_eq!(
        made.header("location"),
        Some(format!("/schedules/{id}").as_str())
    );
    assert_eq!(s["to"], "+447911123456");
    assert_eq!(s["status"], "active");
    assert_eq!(s["repeat"]["on"], json!(["mon", "thu"]));
    assert_eq!(s["next"]["state"], "pending");
    assert_eq!(
        s["next"]["due"], "2099-03-02T08:30:00Z",
        "09:30 in Berlin is 08:30 UTC"
    );

    // Bad input: a 4xx with a sentence, and nothing saved or changed.
    let snapshot = || {
        (
            d.get("/schedules").json(),
            d.get(&format!("/schedules/{id}/sends")).json(),
        )
    };
    let before = snapshot();
    let good = || body.clone();
    let with = |k: &str, v: Value| {
        let mut b = good();
        b[k] = v;
        b.to_string()
    };
    let cases: Vec<(String, u16, &str)> = vec![
        ("{\"to\": ".into(), 400, "malformed_json"),
        ("[1, 2]".into(), 400, "invalid_body"),
        (with("to", json!(447911123456u64)), 400, "invalid_body"),
        (with("count", json!("four")), 400, "invalid_body"),
        (with("surprise", json!(true)), 400, "invalid_body"),
        (with("to", json!("not a number")), 400, "invalid_recipient"),
        (with("to", json!("+99 12")), 400, "invalid_recipient"),
        (with("text", json!("")), 400, "invalid_text"),
        (
            json!({"to": "+447911123456", "text": "x", "at": "2001-01-01T09:00"}).to_string(),
            400,
            "in_the_past",
        ),
        (with("at", json!("2099-02-30T09:00")), 400, "invalid_time"),
        (with("zone", json!("Atlantis/Capital")), 400, "unknown_zone"),
    ];
    for (raw, status, code) in &cases {
        let a = d.send_json("POST", "/schedules", raw);
        assert_eq!(a.status, *status, "{}", &raw[..raw.len().min(80)]);
        assert_eq!(a.code(), *code, "{}", &raw[..raw.len().min(80)]);
        let err = a.json();
        assert!(err["message"].as_str().unwrap().len() > 5, "{err}");
        assert!(!err["advice"].as_str().unwrap().is_empty(), "{err}");
    }
    // A body over the 1 MiB limit, refused by its length before it is read. (A 65,536
    // character text, the most WhatsApp takes, fits: below.)
    let huge = d.announce_body("/schedules", 2 * 1024 * 1024);
    assert_eq!((huge.status, huge.code().as_str()), (413, "body_too_large"));
    let plain = d.call(
        "POST",
        "/schedules",
        &[("x-api-key", &d.key), ("content-type", "text/plain")],
        Some(&body.to_string()),
    );
    assert_eq!((plain.status, plain.code().as_str()), (415, "not_json"));
    for (raw, code) in [
        (json!({"text": ""}).to_string(), "invalid_text"),
        (json!({"at": "2001-01-01T09:00"}).to_string(), "in_the_past"),
        (json!({"bogus": 1}).to_string(), "invalid_body"),
        (json!({}).to_string(), "empty_edit"),
    ] {
        let a = d.send_json("PATCH", &format!("/schedules/{id}"), &raw);
        assert_eq!((a.status, a.code().as_str()), (400, code), "{raw}");
    }
    assert_eq!(d.get("/schedules/abc").status, 400);
    assert_eq!(d.get("/schedules/9999").status, 404);
    assert_eq!(snapshot(), before, "nothing changed");
    let longest =
        json!({"to": "+447911123456", "text": "ü".repeat(65_536), "at": "2099-01-01T09:00"});
    let kept = d.send_json("POST", "/schedules", &longest.to_string());
    assert_eq!(kept.status, 201, "{}", kept.code());
    let kept_id = kept.json()["id"].as_i64().unwrap();
    let dropped = d.call(
        "DELETE",
        &format!("/schedules/{kept_id}"),
        &[("x-api-key", &d.key)],
        None,
    );
    assert_eq!(dropped.status, 200);

    // Edit, pause, resume, cancel.
    let edited = d.send_json(
        "PATCH",
        &format!("/schedules/{id}"),
        r#"{"text": "standup moved"}"#,
    );
    assert_eq!(edited.status, 200);
    assert_eq!(edited.json()["text"], "standup moved");
    assert_eq!(
        edited.json()["next"],
        before.0[0]["next"],
        "the same waiting send"
    );
    let paused = d.send_json(
        "PATCH",
        &format!("/schedules/{id}"),
        r#"{"status": "paused"}"#,
    );
    assert_eq!(paused.json()["status"], "paused");
    assert_eq!(paused.json()["next"], Value::Null);
    let resumed = d.send_json(
        "PATCH",
        &format!("/schedules/{id}"),
        r#"{"status": "active", "at": "2099-03-03T10:00"}"#,
    );
    assert_eq!(
        resumed.status,
        200,
        "{}",
        String::from_utf8_lossy(&resumed.body)
    );
    assert_eq!(resumed.json()["status"], "active");
    assert_eq!(resumed.json()["next"]["due"], "2099-03-03T09:00:00Z");
    assert_eq!(resumed.json()["zone"], "Europe/Berlin", "the zone is kept");
    let gone = d.call(
        "DELETE",
        &format!("/schedules/{id}"),
        &[("x-api-key", &d.key)],
        None,
    );
    assert_eq!(gone.status, 200);
    assert_eq!(gone.json()["status"], "cancelled");
    let again = d.call(
        "DELETE",
        &format!("/schedules/{id}"),
        &[("x-api-key", &d.key)],
        None,
    );
    assert_eq!((again.status, again.code().as_str()), (409, "wrong_status"));
    let sends = d.get(&format!("/schedules/{id}/sends")).json();
    assert!(
        sends
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "cancelled"),
        "{sends}"
    );

    // The CLI sees what the API wrote: one database.
    let (code, out, _) = common::run(&["schedule", "list", "--json"], dir.path());
    assert_eq!(code, 0);
    let listed: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(listed[0]["status"], "cancelled");
}

#[test]
fn send_now_is_honest_and_the_document_covers_every_route() {
    let sim = Sim::start();
    let dir = data_dir();
    let d = Daemon::start(&sim, dir.path(), &["--metrics"]);
    let bad = d.send_json("POST", "/messages", r#"{"to": "nobody", "text": "hi"}"#);
    assert_eq!(
        (bad.status, bad.code().as_str()),
        (400, "invalid_recipient")
    );
    let a = d.send_json(
        "POST",
        "/messages",
        r#"{"to": "+447911123456", "text": "hi"}"#,
    );
    assert_eq!(a.status, 503, "not linked: it cannot send now");
    assert_eq!(a.code(), "not_connected");
    assert_eq!(d.get("/schedules").json(), json!([]), "nothing was queued");

    let doc = d.get_bare("/openapi.json");
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/health",
        "/health/ready",
        "/health/memory",
        "/metrics",
        "/qr",
        "/qr.svg",
        "/qr.txt",
        "/pair-code",
        "/restart",
        "/logout",
        "/history",
        "/events",
        "/schedules",
        "/schedules/{id}",
        "/schedules/{id}/sends",
        "/messages",
    ] {
        assert!(paths.contains_key(p), "{p} is documented");
    }
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert!(schemes.contains_key("api_key") && schemes.contains_key("bearer"));

    // Every protected route refuses a request without a key.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let public = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
            if public {
                continue;
            }
            let concrete = path.replace("{id}", "1");
            let a = d.call(&method.to_uppercase(), &concrete, &[], None);
            assert_eq!(a.status, 401, "{method} {path}");
        }
    }
    let metrics = d.get("/metrics");
    assert_eq!(metrics.status, 200);
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(text.contains("herald_connection_state{state="), "{text}");
}

/// The real send path end to end: a message sent now over `POST /messages` and a schedule
/// created over HTTP each reach every device of their contact exactly once, with the ids the
/// API gave, and the schedule's send settles as delivered.
#[test]
fn a_message_sent_now_and_a_schedule_reach_every_device_once() {
    let sim = Sim::start();
    // Two contacts: the gate keeps 30 s between two sends to one chat, and 4-12 s between any.
    sim.add_contact("447911123456", 2);
    sim.add_contact("447911123457", 2);
    let dir = data_dir();
    let d = Daemon::start(&sim, dir.path(), &[]);
    d.pair(&sim);
    d.wait_for("/health/ready", "ready", |a| a.status == 200);

    let now = d.send_json(
        "POST",
        "/messages",
        r#"{"to": "+44 7911 123456", "text": "sent now"}"#,
    );
    assert_eq!(now.status, 200, "{}", String::from_utf8_lossy(&now.body));
    let now = now.json();
    assert!(
        ["sent", "delivered", "read"].contains(&now["outcome"].as_str().unwrap()),
        "{now}"
    );
    let now_id = now["messageId"].as_str().unwrap().to_owned();

    let body = json!({"to": "+447911123457", "text": "from the API", "at": utc_in(2)});
    let made = d.send_json("POST", "/schedules", &body.to_string());
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    let id = made.json()["id"].as_i64().unwrap();
    let sends = d
        .wait_for(&format!("/schedules/{id}/sends"), "delivered", |a| {
            ["delivered", "read"].contains(&a.json()[0]["state"].as_str().unwrap_or(""))
        })
        .json();
    assert_eq!(sends.as_array().unwrap().len(), 1, "sent once: {sends}");
    let scheduled_id = sends[0]["messageId"].as_str().unwrap().to_owned();

    // Each contact's phone and both companions showed its message exactly once.
    let view = sim.sim.messages();
    for (pn, id, text) in [
        ("447911123456", &now_id, "sent now"),
        ("447911123457", &scheduled_id, "from the API"),
    ] {
        let devices: Vec<_> = view
            .devices
            .iter()
            .filter(|d| d.device.starts_with(pn))
            .collect();
        assert_eq!(devices.len(), 3, "{devices:?}");
        for device in devices {
            let seen: Vec<_> = device.received.iter().filter(|s| &s.id == id).collect();
            assert_eq!(seen.len(), 1, "{}: {id} {seen:?}", device.device);
            assert_eq!(seen[0].shown, 1, "{}: {id}", device.device);
            assert_eq!(seen[0].texts, vec![text.to_owned()]);
        }
    }
    assert!(view.refused.is_empty(), "{:?}", view.refused);
}
