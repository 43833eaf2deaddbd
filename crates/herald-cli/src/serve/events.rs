//! `GET /events`: the service's events as Server-Sent Events, in the order they happened.
//!
//! Each SSE event is named after what happened (`state`, `qr`, `paired`, `disconnected`,
//! `pong`, `history`, `alert`, and the scheduler's send and receipt events as the service
//! publishes them) and carries its JSON. The stream opens with the current `state`, so a
//! client knows where it starts; the presented view and health snapshots (`connection`,
//! `health`) are left out as repeats of those. A client that falls behind gets `lagged` with
//! how many it missed, then the current `state` again. The stream ends when the daemon stops.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use herald_core::service::ServiceEvent;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use utoipa::ToSchema;
use wa_client::{Clock, EngineEvent, SystemClock};

use super::error::ErrorBody;
use super::state::AppState;

/// One Server-Sent Event, as the OpenAPI document describes the stream's items.
#[derive(Debug, Serialize, ToSchema)]
pub struct SseEvent {
    /// What happened: `state`, `qr`, `paired`, `disconnected`, `pong`, `history`, `alert`,
    /// `lagged`, …
    pub event: String,
    /// The event's JSON, as text.
    pub data: String,
}

/// Service events not forwarded: repeats of `state` in other shapes.
const LEFT_OUT: &[&str] = &["connection", "health"];
/// Comment lines keep proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The SSE name and the JSON of a service event; `None` for the ones left out.
pub fn frame(event: &ServiceEvent) -> Option<(String, Value)> {
    let value = serde_json::to_value(event).ok()?;
    let kind = value.get("kind")?.as_str()?.to_owned();
    let data = value.get("data").cloned().unwrap_or(Value::Null);
    if LEFT_OUT.contains(&kind.as_str()) {
        return None;
    }
    let name = match (&*kind, data.get("event").and_then(Value::as_str)) {
        ("engine", Some(engine_event)) => engine_event.to_owned(),
        _ => kind,
    };
    Some((name, data))
}

struct Feed {
    app: AppState,
    rx: broadcast::Receiver<ServiceEvent>,
    stopping: watch::Receiver<bool>,
    /// Events to send before reading the stream again.
    queued: Vec<(String, Value)>,
}

async fn current_state(app: &AppState) -> (String, Value) {
    let state = app.service().engine().await.state().borrow().clone();
    let event = EngineEvent::State {
        at_ms: SystemClock.now(),
        state,
    };
    (
        "state".into(),
        serde_json::to_value(event).unwrap_or(Value::Null),
    )
}

async fn next(mut feed: Feed) -> Option<(Result<Event, Infallible>, Feed)> {
    loop {
        if let Some((name, data)) = feed.queued.pop() {
            let event = Event::default().event(name).data(data.to_string());
            return Some((Ok(event), feed));
        }
        if *feed.stopping.borrow() {
            return None;
        }
        tokio::select! {
            changed = feed.stopping.changed() => {
                if changed.is_err() || *feed.stopping.borrow() {
                    return None;
                }
            }
            received = feed.rx.recv() => match received {
                Ok(event) => {
                    if let Some(f) = frame(&event) {
                        feed.queued.push(f);
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    let state = current_state(&feed.app).await;
                    // Popped from the end: `lagged` goes first, then the state.
                    feed.queued.push(state);
                    feed.queued.push(("lagged".into(), json!({ "missed": missed })));
                }
                Err(RecvError::Closed) => return None,
            },
        }
    }
}

/// The event stream.
#[utoipa::path(
    get,
    path = "/events",
    tag = "connection",
    responses(
        (status = 200, description = "Server-Sent Events: `state` first, then each event as it happens", content_type = "text/event-stream", body = SseEvent),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn events(
    State(app): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribed before the current state is read: nothing between the two is lost (at
    // worst a state shows twice).
    let rx = app.service().subscribe();
    let first = current_state(&app).await;
    let feed = Feed {
        stopping: app.stopping(),
        app,
        rx,
        queued: vec![first],
    };
    Sse::new(stream::unfold(feed, next)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::service::AlertView;
    use wa_client::{ConnectionState, UnixMillis};

    #[test]
    fn events_are_named_by_what_happened() {
        let state = ServiceEvent::Engine(EngineEvent::State {
            at_ms: UnixMillis(5),
            state: ConnectionState::Online {
                since_ms: UnixMillis(5),
            },
        });
        let (name, data) = frame(&state).unwrap();
        assert_eq!(name, "state");
        assert_eq!(data["state"], "online");
        let pong = ServiceEvent::Engine(EngineEvent::Pong {
            at_ms: UnixMillis(9),
            rtt_ms: 12,
        });
        assert_eq!(frame(&pong).unwrap().0, "pong");
        let alert = ServiceEvent::Alert(AlertView {
            summary: "s".into(),
            body: "b".into(),
        });
        let (name, data) = frame(&alert).unwrap();
        assert_eq!(
            (name.as_str(), data["summary"].as_str()),
            ("alert", Some("s"))
        );
    }
}
