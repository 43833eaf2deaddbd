//! `POST /messages`: send a text now.
//!
//! It goes through the scheduler's outbox as a one-shot due now, which gives it the same
//! exactly-once guarantee as every scheduled send (a fixed message id, the stanza committed
//! before the bytes leave, an in-doubt send settled by resending the same bytes), and the same
//! gate that spaces sends. The request waits for the server's ack up to a bound; a send still
//! queued then is answered 202 with its schedule, whose log shows how it ends.

use std::time::Duration;

use axum::extract::State;
use herald_core::schedule::outbox::{self, SendState};
use herald_core::schedule::store::{self, NewSchedule};
use herald_core::schedule::timing::{CatchUp, End, Repeat, Timing};
use herald_core::schedule::view::SchedulerState;
use jiff::Timestamp;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::Body;
use super::schedule_body::{recipient, text};
use super::schedules::{ids, store_error};
use super::state::AppState;

/// A message to send now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    /// A phone number with its country code, or a user or group JID.
    #[schema(min_length = 1)]
    pub to: String,
    /// 1 to 65,536 characters.
    #[schema(min_length = 1)]
    pub text: String,
}

/// How long a request waits for the server's ack before it answers 202 (the gate may hold a
/// send up to its spacing after another one).
const WAIT_FOR_ACK: Duration = Duration::from_secs(30);
/// How often the outbox row is read while waiting.
const POLL: Duration = Duration::from_millis(100);

fn internal(message: String) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        message,
        "Nothing was queued; try again.",
    )
}

/// What became of the message.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendOutcome {
    pub message_id: String,
    /// `sent`, `delivered` or `read` (acked); `failed`; `in_doubt` (no ack came: it is
    /// resent with the same bytes); `pending` or `sending` (still queued after the wait).
    pub outcome: String,
    pub schedule_id: i64,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
}

/// Send a text message now.
#[utoipa::path(
    post,
    path = "/messages",
    tag = "messages",
    request_body = SendBody,
    responses(
        (status = 200, description = "Acked by the server, refused, or in doubt, with its message id", body = SendOutcome),
        (status = 202, description = "Queued behind the gate and not acked yet: follow it in /schedules/{id}/sends", body = SendOutcome),
        (status = 400, description = "Bad input: not a phone number, an empty text …", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
        (status = 503, description = "Not connected (`not_connected`) or the scheduler is stopped (`sending_unavailable`): nothing was queued", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn send(
    State(app): State<AppState>,
    Body(body): Body<SendBody>,
) -> Result<(StatusCode, axum::Json<SendOutcome>), ApiError> {
    let recipient = recipient(&body.to)?;
    text(&body.text)?;
    if app.service().scheduler_status().state != SchedulerState::Running {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sending_unavailable",
            "Herald's scheduler is not running, so nothing can be sent now",
            "Nothing was queued. Link Herald (GET /qr) and send it again once /health/ready says connected.",
        )
        .retry_after(Duration::from_secs(30)));
    }
    let link = app.service().connection().await.state;
    if link != "online" {
        // Queued now, it would go out whenever the link is back, which is not what "send now"
        // promises; a schedule is the way to say "when you can".
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_connected",
            format!("Herald is not connected to WhatsApp (state {link}), so it cannot send now"),
            "Nothing was queued. Send it again once /health/ready answers 200, or create a schedule to have it sent when the link is back.",
        )
        .retry_after(Duration::from_secs(10)));
    }
    let now = Timestamp::now();
    // A one-shot one second ahead in UTC: the planner's first send strictly after now.
    let start = (now + jiff::SignedDuration::from_secs(1))
        .in_tz("UTC")
        .map_err(|e| internal(format!("could not time the send: {e}")))?
        .datetime();
    let timing = Timing::new("UTC", start, Repeat::Once, End::Never)
        .map_err(|e| internal(format!("could not time the send: {e}")))?;
    let new = NewSchedule {
        recipient,
        text: body.text,
        timing,
        catch_up: CatchUp::Default,
    };
    let mut id_source = ids(&app).await;
    let schedule_id = {
        let conn = app.db();
        store::add(&conn, &new, &mut id_source, now)
            .map_err(store_error)?
            .0
    };
    tracing::info!(schedule = schedule_id, "message queued over HTTP");
    let deadline = tokio::time::Instant::now() + WAIT_FOR_ACK;
    loop {
        let record = {
            let conn = app.db();
            outbox::history(&conn, Some(schedule_id), 1).map_err(store_error)?
        };
        if let Some(r) = record.into_iter().next() {
            let settled = !matches!(r.state, SendState::Pending | SendState::Sending);
            if settled || tokio::time::Instant::now() >= deadline {
                let status = if settled {
                    StatusCode::OK
                } else {
                    StatusCode::ACCEPTED
                };
                return Ok((
                    status,
                    axum::Json(SendOutcome {
                        message_id: r.message_id,
                        outcome: r.state.as_str().to_owned(),
                        schedule_id,
                        error_code: r.error_code,
                        advice: r.advice,
                    }),
                ));
            }
        } else if tokio::time::Instant::now() >= deadline {
            // `store::add` writes the first occurrence with the schedule, so this means the
            // row was removed meanwhile (the schedule deleted).
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "send_removed",
                format!("schedule {schedule_id} and its send were removed before it went out"),
                "Nothing was sent; send it again.",
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}
