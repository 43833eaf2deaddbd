//! End-to-end in demo mode: the real app against its built-in simulator, driven over
//! WebDriver like a person would, with the notifications and the tray read over D-Bus.
//!
//! Run by `cargo xtask test` on a private Xvfb display and session bus; ignored in a plain
//! `cargo test`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;
use support::driver::*;
use support::schedules::*;
use support::Notifications;

fn bus() -> String {
    std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("xtask provides a private session bus")
}

#[tokio::test]
#[ignore = "needs a display, a session bus and tauri-driver (cargo xtask test runs it)"]
async fn pairing_then_replaced_notifies_and_updates_the_tray() {
    wait_until_no_instance().await;
    let data = scratch("e2e-replaced");
    let notifications = Notifications::start(&bus());
    let _driver = start_driver(&data, &[]);
    let client = session(&["--demo"]).await;

    // An unlinked app opens on pairing.
    wait_displayed(&client, "#view-pairing").await;
    wait_text_by(&client, "qr-countdown", 20, "a QR countdown", |t| {
        t.starts_with("Code 1 of 6")
    })
    .await;
    screenshot(&client, "pairing").await;
    pair(&client).await;
    wait_tray_label("Herald: Online").await;
    // Pairing done: the app takes the user to Schedules, the first screen of a linked Herald.
    wait_displayed(&client, "#view-schedules").await;
    click(&client, ".nav-item[data-view=health]").await;
    wait_text(&client, "state-label", "Online").await;
    // Nothing is scheduled yet, so the card speaks only of the link.
    let detail = text(&client, "state-detail").await;
    assert!(
        !detail.to_lowercase().contains("schedul"),
        "the Connection card promises schedules: {detail}"
    );
    // The switch nobody asked for is said in the one live region for the state; the visible
    // state labels are not live regions too (they would say it twice).
    wait_eval(
        &client,
        "return document.getElementById('announcer').textContent",
        5,
        json!("Online. Showing Schedules."),
    )
    .await;
    let live = eval(
        &client,
        "return ['state-label', 'side-state'].map((id) => { const e = document.getElementById(id); \
         return e.hasAttribute('aria-live') || e.hasAttribute('role'); })",
    )
    .await;
    assert_eq!(live, json!([false, false]), "state labels are not live");
    screenshot(&client, "connection").await;

    click(&client, "[data-fault=replaced]").await;
    wait_text(&client, "state-label", "Replaced").await;
    let detail = text(&client, "state-detail").await;
    assert!(
        detail.starts_with("Another WhatsApp Web or Desktop took over this session"),
        "advice shown: {detail}"
    );
    let call = notifications.expect("WhatsApp session taken over", Duration::from_secs(10));
    assert_eq!(call["app_name"], "Herald");
    assert!(call["body"]
        .as_str()
        .unwrap()
        .starts_with("Another WhatsApp Web or Desktop took over this session"));
    wait_tray_label("Herald: Replaced").await;
    screenshot(&client, "replaced").await;

    // No automatic reconnect: still replaced a while later, and one notification only.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(text(&client, "state-label").await, "Replaced");
    assert!(
        notifications.drain().is_empty(),
        "one notification per episode"
    );
    finish(client).await;
}

#[tokio::test]
#[ignore = "needs a display, a session bus and tauri-driver (cargo xtask test runs it)"]
async fn device_removed_logs_out_notifies_and_shows_pairing_again() {
    wait_until_no_instance().await;
    let data = scratch("e2e-logged-out");
    let notifications = Notifications::start(&bus());
    let _driver = start_driver(&data, &[]);
    let client = session(&["--demo"]).await;
    pair(&client).await;

    click(&client, "[data-fault=logged_out]").await;
    wait_text(&client, "side-state", "Logged out").await;
    let call = notifications.expect("WhatsApp link lost", Duration::from_secs(10));
    assert_eq!(
        call["body"],
        "Herald was unlinked from your phone; scan again to reconnect."
    );
    // The pairing screen is back, offering a new code.
    wait_displayed(&client, "#view-pairing").await;
    wait_displayed(&client, "#new-qr-btn").await;
    click(&client, "#new-qr-btn").await;
    wait_text(&client, "side-state", "Waiting for a scan").await;
    // The old session was archived, not deleted.
    let archive = data.join("demo/session/archive");
    let archived = std::fs::read_dir(&archive).map(|d| d.count()).unwrap_or(0);
    assert!(archived >= 1, "no archive in {}", archive.display());
    finish(client).await;
}

#[tokio::test]
#[ignore = "needs a display, a session bus and tauri-driver (cargo xtask test runs it)"]
async fn a_drop_is_recorded_in_history_and_the_timeline() {
    wait_until_no_instance().await;
    let data = scratch("e2e-drop");
    let _driver = start_driver(&data, &[]);
    let client = session(&["--demo"]).await;
    pair(&client).await;

    click(&client, "[data-fault=drop]").await;
    // Backoff, then online again by itself.
    wait_text_by(&client, "side-state", 15, "Reconnecting", |t| {
        t == "Reconnecting"
    })
    .await;
    wait_text_by(&client, "side-state", 30, "Online again", |t| t == "Online").await;

    click(&client, ".nav-item[data-view=history]").await;
    // Choosing a screen takes the focus to its heading.
    wait_eval(
        &client,
        "return document.activeElement && document.activeElement.id",
        5,
        json!("history-title"),
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows = client
            .find_all(Locator::Css("#history-rows tr[data-cause=server_closed]"))
            .await
            .expect("rows");
        if !rows.is_empty() {
            let cells = rows[0].text().await.expect("row text");
            assert!(cells.contains("Connection closed by the server"), "{cells}");
            assert!(cells.contains("Retry #1"), "{cells}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no history row for the drop"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The timeline shows the gap: an offline stretch between online ones, and a mark.
    let offline = client
        .find_all(Locator::Css("#timeline rect.offline"))
        .await
        .expect("timeline");
    assert!(!offline.is_empty(), "the timeline shows the gap");
    let online = client
        .find_all(Locator::Css("#timeline rect.online"))
        .await
        .expect("timeline");
    assert!(online.len() >= 2, "online before and after the gap");
    // At the default window size nothing is cut off: no page-wide horizontal scroll, and the
    // range toggle, the export button and the advice all end inside the window.
    let fits = eval(
        &client,
        "const w = document.documentElement.clientWidth; \
         const right = (css) => document.querySelector(css).getBoundingClientRect().right; \
         return { width: window.innerWidth, \
                  scrolls: document.documentElement.scrollWidth > w, \
                  cut: ['.seg[data-range=week]', '#export-btn', '#history-rows td.advice', \
                        '#history-rows td.decision .pill'] \
                       .filter((css) => right(css) > w) }",
    )
    .await;
    assert_eq!(
        fits["scrolls"],
        json!(false),
        "the page scrolls sideways: {fits}"
    );
    assert_eq!(
        fits["cut"],
        json!([]),
        "cut off at the window's edge: {fits}"
    );
    screenshot(&client, "history").await;
    finish(client).await;
}

#[tokio::test]
#[ignore = "needs a display, a session bus and tauri-driver (cargo xtask test runs it)"]
async fn settings_survive_a_restart() {
    wait_until_no_instance().await;
    let data = scratch("e2e-settings");
    {
        let _driver = start_driver(&data, &[]);
        let client = session(&["--demo"]).await;
        click(&client, ".nav-item[data-view=settings]").await;
        let min = client
            .find(Locator::Id("s-keepalive-min"))
            .await
            .expect("field");
        wait_text_by(&client, "settings-error", 5, "no error", |t| t.is_empty()).await;
        // A bad value is refused, with the field named, and nothing is saved.
        min.clear().await.expect("clear");
        min.send_keys("400").await.expect("type");
        click(&client, "#settings-form button[type=submit]").await;
        wait_text_by(&client, "settings-error", 10, "an error", |t| {
            t.contains("between 5 and 300")
        })
        .await;

        min.clear().await.expect("clear");
        min.send_keys("60").await.expect("type");
        let version = client.find(Locator::Id("s-version")).await.expect("field");
        version.send_keys("2.3000.1045649367").await.expect("type");
        click(&client, "#settings-form button[type=submit]").await;
        wait_text(&client, "settings-status", "Saved.").await;
        screenshot(&client, "settings").await;
        finish(client).await;
    }
    let _driver = start_driver(&data, &[]);
    let client = session(&["--demo"]).await;
    click(&client, ".nav-item[data-view=settings]").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let min = client
            .find(Locator::Id("s-keepalive-min"))
            .await
            .expect("field")
            .prop("value")
            .await
            .expect("value");
        if min.as_deref() == Some("60") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ping after silence is {min:?} after restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let version = client
        .find(Locator::Id("s-version"))
        .await
        .expect("field")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(version.as_deref(), Some("2.3000.1045649367"));
    finish(client).await;
}

#[tokio::test]
#[ignore = "needs a display, a session bus and tauri-driver (cargo xtask test runs it)"]
async fn the_window_follows_a_dark_desktop_theme() {
    wait_until_no_instance().await;
    let data = scratch("e2e-dark");
    let _driver = start_driver(&data, &[("GTK_THEME", "Adwaita:dark")]);
    let client = session(&["--demo"]).await;
    wait_text(&client, "side-state", "Waiting for a scan").await;
    let dark = client
        .execute(
            "return [matchMedia('(prefers-color-scheme: dark)').matches, \
                     getComputedStyle(document.documentElement).backgroundColor]",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(
        dark,
        serde_json::json!([true, "rgb(15, 20, 19)"]),
        "the dark palette is in use"
    );
    screenshot(&client, "pairing-dark").await;
    pair(&client).await;
    wait_displayed(&client, "#view-schedules").await;
    compose(&client, "+49 151 2345 6789", "Guten Morgen!", 3600, "weeks").await;
    // 02:30 on Europe/Berlin's spring-forward day, yearly: the preview flags the shift.
    eval(
        &client,
        "const f = document.getElementById('compose').elements; f.zone.value = 'Europe/Berlin'; \
         f.date.value = '2027-03-28'; f.time.value = '02:30'; f.repeat.value = 'years'; \
         f.zone.dispatchEvent(new Event('change', { bubbles: true })); return null",
    )
    .await;
    wait_displayed(&client, "#c-preview li[data-dst=gap]").await;
    wait_number_check(&client, "on_whatsapp: On WhatsApp ✓").await;
    eval(
        &client,
        "document.getElementById('c-preview-title').scrollIntoView({ block: 'center' }); return null",
    )
    .await;
    screenshot(&client, "compose-dark").await;
    save(&client).await;
    wait_list(&client, 1).await;
    click(&client, "#schedule-list button[data-action=log]").await;
    wait_displayed(&client, "#log-rows tr").await;
    hide_toast(&client).await;
    screenshot(&client, "schedules-dark").await;
    click(&client, ".nav-item[data-view=health]").await;
    wait_displayed(&client, "#view-health").await;
    screenshot(&client, "connection-dark").await;
    click(&client, "[data-fault=drop]").await;
    wait_text_by(&client, "side-state", 30, "Online again", |t| t == "Online").await;
    click(&client, ".nav-item[data-view=history]").await;
    wait_displayed(&client, "#history-rows tr").await;
    screenshot(&client, "history-dark").await;
    click(&client, ".nav-item[data-view=settings]").await;
    wait_displayed(&client, "#s-keepalive-min").await;
    screenshot(&client, "settings-dark").await;
    finish(client).await;
}
