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

/// Opens the compose form and fills it as a person would: the number and the text typed, the
/// date, time and zone set (WebKit's date pickers take no keystrokes over WebDriver) for
/// `secs` from now in UTC, and the repeat chosen.
async fn compose(client: &fantoccini::Client, to: &str, text: &str, secs: i64, repeat: &str) {
    click(client, "#new-schedule-btn").await;
    wait_displayed(client, "#compose").await;
    // International form: the country selector is left at "number with +".
    eval(
        client,
        "document.getElementById('c-region').value = ''; return null",
    )
    .await;
    let phone = client.find(Locator::Id("c-phone")).await.expect("phone");
    phone.clear().await.expect("clear");
    phone.send_keys(to).await.expect("type");
    let body = client.find(Locator::Id("c-text")).await.expect("text");
    body.send_keys(text).await.expect("type");
    let at = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(secs))
        .expect("time")
        .to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let js = format!(
        "const f = document.getElementById('compose').elements; \
         f.date.value = '{}'; f.time.value = '{}'; f.zone.value = 'UTC'; f.repeat.value = '{repeat}'; \
         f.zone.dispatchEvent(new Event('change', {{ bubbles: true }})); return null",
        at.strftime("%Y-%m-%d"),
        at.strftime("%H:%M:%S"),
    );
    eval(client, &js).await;
    // The preview of the next sends follows the form.
    let want = if repeat == "once" { 1 } else { 5 };
    wait_eval(
        client,
        "return document.querySelectorAll('#c-preview li:not(.muted)').length",
        10,
        json!(want),
    )
    .await;
}

/// Saves the form and waits until it has closed (the list may update before it does).
async fn save(client: &fantoccini::Client) {
    click(client, "#compose-save").await;
    // Generous: on a loaded machine the window's main thread can be slow to answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while eval(client, "return document.getElementById('compose').hidden").await != json!(true) {
        let error = text(client, "compose-error").await;
        assert!(
            std::time::Instant::now() < deadline,
            "the form did not close: {error:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sets the form's first send to `secs` from now (UTC), as the last thing before saving.
async fn due_in(client: &fantoccini::Client, secs: i64) {
    let at = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(secs))
        .expect("time")
        .to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let js = format!(
        "const f = document.getElementById('compose').elements; f.zone.value = 'UTC'; \
         f.date.value = '{}'; f.time.value = '{}'; return null",
        at.strftime("%Y-%m-%d"),
        at.strftime("%H:%M:%S"),
    );
    eval(client, &js).await;
}

/// Waits until the log shows a send in one of `states`; returns which.
async fn wait_outcome(client: &fantoccini::Client, states: &[&str], secs: u64) -> String {
    let list = serde_json::to_string(states).expect("json");
    let js = format!(
        "const want = {list}; const row = [...document.querySelectorAll('#log-rows tr')] \
         .find((r) => want.includes(r.dataset.state)); return row ? row.dataset.state : null"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(state) = eval(client, &js).await.as_str() {
            return state.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no send reached {states:?} in {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Hides a passing note before a screenshot, so it does not cover the screen's title.
async fn hide_toast(client: &fantoccini::Client) {
    eval(
        client,
        "document.getElementById('toast').hidden = true; return null",
    )
    .await;
}

/// Waits until the list shows `n` schedules.
async fn wait_list(client: &fantoccini::Client, n: usize) {
    wait_eval(
        client,
        "return document.querySelectorAll('#schedule-list > li').length",
        10,
        json!(n),
    )
    .await;
}

#[tokio::test]
#[ignore = "needs a display, a session bus and tauri-driver (cargo xtask test runs it)"]
async fn schedules_are_made_edited_and_deleted_in_the_window() {
    wait_until_no_instance().await;
    let data = scratch("e2e-schedules");
    let _driver = start_driver(&data, &[]);
    let client = session(&["--demo"]).await;
    pair(&client).await;
    wait_displayed(&client, "#view-schedules").await;
    wait_displayed(&client, "#schedules-empty").await;

    // A bad number is refused with the field named, and nothing is saved.
    compose(&client, "+1 555", "Hello", 600, "once").await;
    click(&client, "#compose-save").await;
    wait_text_by(&client, "compose-error", 10, "an error", |t| {
        t.contains("not a valid phone number")
    })
    .await;
    wait_eval(
        &client,
        "return document.activeElement.id + ' ' + document.activeElement.getAttribute('aria-invalid')",
        5,
        json!("c-phone true"),
    )
    .await;
    click(&client, "#compose-cancel").await;

    // One for ten seconds ahead, to a demo contact.
    compose(
        &client,
        "+49 151 2345 6789",
        "Hello from Herald, ten seconds on.",
        10,
        "once",
    )
    .await;
    screenshot(&client, "compose").await;
    due_in(&client, 10).await;
    save(&client).await;
    wait_list(&client, 1).await;
    let first = eval(
        &client,
        "const li = document.querySelector('#schedule-list > li'); \
         return [li.querySelector('.schedule-to').textContent, li.querySelector('.schedule-text').textContent, \
                 li.querySelector('.schedule-next .rel') ? li.querySelector('.schedule-next .rel').textContent : '']",
    )
    .await;
    assert_eq!(first[0], "+4915123456789", "{first}");
    assert_eq!(first[1], "Hello from Herald, ten seconds on.");
    assert!(first[2].as_str().unwrap().starts_with("in "), "{first}");

    // A second, daily one, to edit and then delete.
    compose(&client, "+49 151 2345 6780", "Daily reminder", 7200, "days").await;
    save(&client).await;
    wait_list(&client, 2).await;
    hide_toast(&client).await;
    screenshot(&client, "schedules").await;

    // Edit the daily one (newest first: it is on top).
    click(
        &client,
        "#schedule-list > li:first-child button[data-action=edit]",
    )
    .await;
    wait_text(
        &client,
        "compose-title",
        "Edit the schedule to +4915123456780",
    )
    .await;
    let body = client.find(Locator::Id("c-text")).await.expect("text");
    body.clear().await.expect("clear");
    body.send_keys("Daily reminder, edited")
        .await
        .expect("type");
    wait_eval(
        &client,
        "return document.getElementById('c-text').value",
        5,
        json!("Daily reminder, edited"),
    )
    .await;
    save(&client).await;
    wait_eval(
        &client,
        "return document.querySelector('#schedule-list > li:first-child .schedule-text').textContent",
        10,
        json!("Daily reminder, edited"),
    )
    .await;

    // Delete it, confirming.
    eval(
        &client,
        "window.__asked = null; window.confirm = (m) => { window.__asked = m; return true; }; return null",
    )
    .await;
    click(
        &client,
        "#schedule-list > li:first-child button[data-action=delete]",
    )
    .await;
    wait_list(&client, 1).await;
    let asked = eval(&client, "return window.__asked").await;
    assert!(
        asked
            .as_str()
            .unwrap_or_default()
            .starts_with("Delete the schedule to +4915123456780?"),
        "{asked}"
    );

    // The log of the one left.
    click(&client, "#schedule-list button[data-action=log]").await;
    wait_displayed(&client, "#log-rows tr").await;
    let note = text(&client, "scheduler-note").await;
    if note.is_empty() {
        // Sending is built in. Wait for the send's first outcome.
        let first = wait_outcome(&client, &["sent", "delivered", "read", "failed"], 40).await;
        if first == "failed" {
            // The simulator's demo world has no such contact yet: the failure is shown with
            // its advice (and notified), nothing pretends it went.
            let details = eval(
                &client,
                "return document.querySelector('#log-rows tr[data-state=failed] td.details').textContent",
            )
            .await;
            assert!(
                details
                    .as_str()
                    .unwrap_or_default()
                    .contains("no WhatsApp account"),
                "{details}"
            );
            eprintln!(
                "note: the demo world has no contact +4915123456789; the sent → delivered → read \
                 part needs one"
            );
        } else {
            // Watch it go sent → delivered → read (the demo contact reads it).
            wait_outcome(&client, &["delivered", "read"], 40).await;
            wait_outcome(&client, &["read"], 60).await;
        }
    } else {
        // Without a sender nothing pretends to send: the screen says so, "Send now" is off.
        assert!(note.contains("cannot send messages yet"), "{note}");
        let disabled = eval(
            &client,
            "return document.querySelector('#schedule-list button[data-action=send]').disabled",
        )
        .await;
        assert_eq!(disabled, json!(true));
    }
    hide_toast(&client).await;
    screenshot(&client, "schedule-log").await;
    finish(client).await;
}
