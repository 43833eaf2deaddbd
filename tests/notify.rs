//! Desktop notifications reach a notification server on the session bus with the right app
//! name, summary and body — asserted against a fake server on a private bus.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

#[test]
fn notifications_reach_the_server_and_fail_cleanly_without_one() {
    let (_bus, address) = support::session_bus();
    // This binary has this single test, so no other thread reads the variable meanwhile.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);

    // No server on the bus: an error, at once, not a hang.
    let started = Instant::now();
    let err = herald_app::notify::post_blocking("Herald", "nobody is listening").unwrap_err();
    assert!(
        err.to_string().contains("Notifications"),
        "the error names the missing service: {err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    let (_server, mut lines) = support::fake_notification_server(&address);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(herald_app::notify::post(
            "WhatsApp link lost".into(),
            "Herald was unlinked from your phone; scan again to reconnect.".into(),
        ))
        .expect("posted");

    let line = lines.next().expect("a Notify call").expect("readable");
    let call: serde_json::Value = serde_json::from_str(&line).expect("json");
    assert_eq!(call["app_name"], "Herald");
    assert_eq!(call["summary"], "WhatsApp link lost");
    assert_eq!(
        call["body"],
        "Herald was unlinked from your phone; scan again to reconnect."
    );
    assert_eq!(call["timeout"], 10_000);
}
