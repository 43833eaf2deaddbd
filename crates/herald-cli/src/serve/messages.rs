//! `POST /messages`: send a text now.
//!
//! It will go through the scheduler's outbox as a one-shot due now, which gives it the same
//! exactly-once guarantee as every scheduled send (a fixed message id, the stanza committed
//! before the bytes leave, an in-doubt send settled by resending the same bytes). This build's
//! engine has no send path yet, so after checking the input the answer is an honest 503
//! `sending_unavailable`: nothing is queued that would go out later by surprise.

use std::time::Duration;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::Body;
use super::schedule_body::{recipient, text};

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

/// What became of the message.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendOutcome {
    pub message_id: String,
    /// `sent`, `in_doubt` or `failed`.
    pub outcome: String,
    pub schedule_id: i64,
}

/// Send a text message now.
#[utoipa::path(
    post,
    path = "/messages",
    tag = "messages",
    request_body = SendBody,
    responses(
        (status = 200, description = "Sent (or in doubt), with its message id", body = SendOutcome),
        (status = 400, description = "Bad input: not a phone number, an empty text …", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
        (status = 503, description = "This build cannot send yet (`sending_unavailable`): nothing was queued", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn send(Body(body): Body<SendBody>) -> Result<axum::Json<SendOutcome>, ApiError> {
    recipient(&body.to)?;
    text(&body.text)?;
    Err(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "sending_unavailable",
        "this build of Herald cannot send messages yet: the engine has no send path",
        "Nothing was queued or sent; send it again once Herald's engine can send.",
    )
    .retry_after(Duration::from_secs(3600)))
}
