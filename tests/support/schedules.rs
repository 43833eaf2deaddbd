//! Filling and saving the Schedules screen's form over WebDriver, shared by the suites that
//! make schedules.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;

use super::driver::*;

/// Opens the compose form and fills it as a person would: the number and the text typed, the
/// date, time and zone set (WebKit's date pickers take no keystrokes over WebDriver) for
/// `secs` from now in UTC, and the repeat chosen.
pub async fn compose(client: &fantoccini::Client, to: &str, text: &str, secs: i64, repeat: &str) {
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
pub async fn save(client: &fantoccini::Client) {
    // The button's own click, from the page: a pointer click at its centre can land on the
    // passing note over the window while the page scrolls to the button.
    eval(
        client,
        "document.getElementById('compose-save').click(); return null",
    )
    .await;
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
pub async fn due_in(client: &fantoccini::Client, secs: i64) {
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
pub async fn wait_outcome(client: &fantoccini::Client, states: &[&str], secs: u64) -> String {
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
pub async fn hide_toast(client: &fantoccini::Client) {
    eval(
        client,
        "document.getElementById('toast').hidden = true; return null",
    )
    .await;
}

/// Waits until the list shows `n` schedules.
pub async fn wait_list(client: &fantoccini::Client, n: usize) {
    wait_eval(
        client,
        "return document.querySelectorAll('#schedule-list > li').length",
        10,
        json!(n),
    )
    .await;
}

/// Waits until the form's WhatsApp check of the number shows `want` (`status: text`, or
/// `hidden`); on a timeout the failure says what it showed instead.
pub async fn wait_number_check(client: &fantoccini::Client, want: &str) {
    wait_eval(
        client,
        "const c = document.getElementById('c-check'); \
         return c.hidden ? 'hidden' : `${c.dataset.status}: ${c.textContent}`",
        20,
        json!(want),
    )
    .await;
}
