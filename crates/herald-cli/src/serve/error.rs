//! Errors as the API answers them: a status code and `{"code", "message", "advice"}`, the
//! same three fields the desktop app shows. Every rejection axum makes on its own (bad JSON,
//! wrong content type, a body over the limit, a bad path or query) is turned into one too, so
//! a client never has to parse plain-text errors.

use std::time::Duration;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// A stable key to branch on, e.g. `unauthorized`, `invalid_phone`, `in_the_past`.
    pub code: String,
    /// What went wrong, in a sentence.
    pub message: String,
    /// What to do about it.
    pub advice: String,
}

/// A failed request.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// For 429 and 503: when to try again.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        advice: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                advice: advice.into(),
            },
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, wait: Duration) -> ApiError {
        self.retry_after = Some(wait);
        self
    }

    /// 400: the request itself is wrong; nothing was changed.
    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            code,
            message,
            "Fix the request and send it again; nothing was changed.",
        )
    }

    /// 404 for a resource that does not exist.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            message,
            "Check the id; GET /schedules lists them.",
        )
    }

    /// 500, for a failure inside Herald (the database). Logged; the message stays general.
    pub fn internal(what: &str, e: &dyn std::error::Error) -> ApiError {
        tracing::error!(error = %crate::error::chain(e), "{what}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("{what} failed inside Herald"),
            "Try again; if it keeps failing, `herald-cli support-bundle` collects the logs.",
        )
    }

    pub fn unauthorized(message: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            message,
            "Send a key made with `herald-cli api-key create` as `X-API-Key: KEY` or \
             `Authorization: Bearer KEY`.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(wait) = self.retry_after {
            // Whole seconds, rounded up: a client that waits that long is let through.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"herald\""),
            );
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not_json",
                "the body must be JSON, sent with `Content-Type: application/json`",
                "Set the Content-Type header; nothing was changed.",
            ),
            JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
                "malformed_json",
                format!("the body is not JSON: {}", source_text(&e)),
            ),
            JsonRejection::JsonDataError(e) => {
                ApiError::bad_request("invalid_body", source_text(&e))
            }
            JsonRejection::BytesRejection(_) => too_large(),
            other => ApiError::bad_request("invalid_body", other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::bad_request("invalid_path", format!("bad path: {}", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::bad_request("invalid_query", r.body_text())
    }
}

/// 413 for a body over the limit.
pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!(
            "the body is larger than {} KiB",
            super::router::MAX_BODY_BYTES / 1024
        ),
        "Send a smaller body; a message text is at most 65,536 characters.",
    )
}

/// serde's own sentence (it names the field and what was expected), without axum's prefix.
fn source_text(e: &dyn std::error::Error) -> String {
    let mut deepest = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        deepest = s.to_string();
        source = s.source();
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        let r = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "x", "m", "a")
            .retry_after(Duration::from_millis(1500))
            .into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let r = ApiError::unauthorized("no key").into_response();
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
        assert!(!r.headers().contains_key(header::RETRY_AFTER));
    }
}
