//! End-to-end in demo mode, the Schedules screen: made for 10 s ahead to a demo contact and
//! followed through its send, one edited, one deleted with confirmation, a bad number and one
//! without WhatsApp refused on their field; screenshots of the list, the form and the log.
//!
//! Run by `cargo xtask test` on a private Xvfb display and session bus; ignored in a plain
//! `cargo test`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use fantoccini::Locator;
use serde_json::json;
use support::driver::*;
use support::schedules::*;

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
    // A group: the account's groups are asked of WhatsApp; the form says what it found.
    click(&client, "input[name=toKind][value=group]").await;
    wait_displayed(&client, "#c-group").await;
    wait_eval(
        &client,
        "const n = document.getElementById('c-to-note').textContent; \
         const listed = document.getElementById('c-group-pick').options.length > 1; \
         return listed || n.includes('groups')",
        10,
        json!(true),
    )
    .await;
    click(&client, "#compose-cancel").await;

    // A valid number nobody in the demo world has: WhatsApp says so while it is typed, and
    // saving is refused on the number's field with nothing saved.
    compose(&client, "+49 151 2345 6780", "Hello", 600, "once").await;
    wait_number_check(
        &client,
        "not_on_whatsapp: Not on WhatsApp +4915123456780 has no WhatsApp account, so a schedule to it cannot be saved.",
    )
    .await;
    click(&client, "#compose-save").await;
    wait_text_by(&client, "compose-error", 10, "the refusal", |t| {
        t.contains("+4915123456780 is not on WhatsApp")
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
    wait_displayed(&client, "#schedules-empty").await;

    // One for ten seconds ahead, to a demo contact.
    compose(
        &client,
        "+49 151 2345 6789",
        "Hello from Herald, ten seconds on.",
        10,
        "once",
    )
    .await;
    // Ada is on WhatsApp: the form says so before it is saved.
    wait_number_check(&client, "on_whatsapp: On WhatsApp ✓").await;
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
    // Grace, the demo world's second contact.
    compose(&client, "+49 151 2345 6790", "Daily reminder", 7200, "days").await;
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
        "Edit the schedule to +4915123456790",
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
            .starts_with("Delete the schedule to +4915123456790?"),
        "{asked}"
    );

    // The log of the one left.
    click(&client, "#schedule-list button[data-action=log]").await;
    wait_displayed(&client, "#log-rows tr").await;
    let note = text(&client, "scheduler-note").await;
    // The demo app sends through its engine: no "cannot send" note.
    assert!(note.is_empty(), "{note}");
    // Ada, the demo world's first contact (+49 151 23456789), confirms at once and reads
    // after a short delay: watch it go sent → delivered → read.
    wait_outcome(&client, &["sent", "delivered", "read"], 40).await;
    wait_outcome(&client, &["delivered", "read"], 40).await;
    wait_outcome(&client, &["read"], 60).await;
    hide_toast(&client).await;
    screenshot(&client, "schedule-log").await;
    finish(client).await;
}
