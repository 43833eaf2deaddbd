//! Linking over HTTP: the current QR code as PNG, SVG or text while the engine shows one, and
//! pairing by phone number. Each QR answer carries its expiry (`X-Qr-Expires-At`, and
//! `Cache-Control: no-store`: a cached code is a dead one).

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use herald_core::service::ServiceError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wa_client::{CommandError, ConnectionState, UnixMillis};

use super::error::{ApiError, ErrorBody};
use super::extract::Body;
use super::state::AppState;
use super::views::ts;

/// The header with the QR code's expiry.
pub const EXPIRES_HEADER: &str = "x-qr-expires-at";
/// How long to wait for the engine to issue a pairing code.
const PAIR_CODE_WAIT: Duration = Duration::from_secs(30);

/// The QR text while pairing, or why there is none.
async fn current_qr(app: &AppState) -> Result<(String, UnixMillis), ApiError> {
    let engine = app.service().engine().await;
    let state = engine.state().borrow().clone();
    if let ConnectionState::Pairing {
        qr, expires_at_ms, ..
    } = state
    {
        return Ok((qr, expires_at_ms));
    }
    let linked = engine.health().jid.is_some();
    match state {
        ConnectionState::PairingCode { .. } => Err(ApiError::new(
            StatusCode::CONFLICT,
            "pairing_by_code",
            "pairing by phone number is in progress; there is no QR code",
            "Type the pairing code on the phone, or wait for it to expire.",
        )),
        _ if linked => Err(already_linked()),
        ConnectionState::QrExpired | ConnectionState::LoggedOut => {
            // Asking for the code is asking for a fresh one: the old ones are dead.
            app.service().start_pairing().await;
            Err(not_ready(
                "the last QR codes expired; fresh ones are being made",
            ))
        }
        _ => Err(not_ready(
            "no QR code yet: the connection to WhatsApp is not up",
        )),
    }
}

fn already_linked() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "already_linked",
        "this Herald is already linked to a phone",
        "POST /logout first to link another phone.",
    )
}

fn not_ready(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "qr_not_ready",
        message,
        "Ask again in a few seconds.",
    )
    .retry_after(Duration::from_secs(2))
}

fn qr_response(content_type: &'static str, body: Vec<u8>, expires: UnixMillis) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&ts(expires).to_string()) {
        h.insert(EXPIRES_HEADER, v);
    }
    r
}

/// The QR code to scan, as a PNG.
#[utoipa::path(
    get,
    path = "/qr",
    tag = "pairing",
    responses(
        (status = 200, description = "The QR code; X-Qr-Expires-At says until when", content_type = "image/png", body = String),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 409, description = "Already linked, or pairing by code", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
        (status = 503, description = "No QR code yet; see Retry-After", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn png(State(app): State<AppState>) -> Result<Response, ApiError> {
    let (qr, expires) = current_qr(&app).await?;
    let image =
        super::qr_png::render(&qr).map_err(|e| ApiError::internal("drawing the QR code", &e))?;
    Ok(qr_response("image/png", image, expires))
}

/// The QR code to scan, as SVG.
#[utoipa::path(
    get,
    path = "/qr.svg",
    tag = "pairing",
    responses(
        (status = 200, description = "The QR code; X-Qr-Expires-At says until when", content_type = "image/svg+xml", body = String),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 409, description = "Already linked, or pairing by code", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
        (status = 503, description = "No QR code yet; see Retry-After", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn svg(State(app): State<AppState>) -> Result<Response, ApiError> {
    let (qr, expires) = current_qr(&app).await?;
    let image =
        herald_core::qr::svg(&qr).map_err(|e| ApiError::internal("drawing the QR code", &e))?;
    Ok(qr_response("image/svg+xml", image.into_bytes(), expires))
}

/// The QR code's text (what the code encodes), for rendering elsewhere.
#[utoipa::path(
    get,
    path = "/qr.txt",
    tag = "pairing",
    responses(
        (status = 200, description = "The text; X-Qr-Expires-At says until when", content_type = "text/plain", body = String),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 409, description = "Already linked, or pairing by code", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
        (status = 503, description = "No QR code yet; see Retry-After", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn text(State(app): State<AppState>) -> Result<Response, ApiError> {
    let (qr, expires) = current_qr(&app).await?;
    Ok(qr_response(
        "text/plain; charset=utf-8",
        qr.into_bytes(),
        expires,
    ))
}

/// Pairing by phone number.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairCodeRequest {
    /// The account's full international number, e.g. `+15551234567`.
    #[schema(min_length = 1)]
    pub phone: String,
}

/// The code to type on the phone.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PairCode {
    /// The 8 characters, e.g. `ABCD1234`.
    pub code: String,
    /// As the phone shows it, `ABCD-1234`.
    pub formatted: String,
}

/// Link by phone number: returns the code to type on the phone (Linked devices → Link with
/// phone number).
#[utoipa::path(
    post,
    path = "/pair-code",
    tag = "pairing",
    request_body = PairCodeRequest,
    responses(
        (status = 200, description = "The code to type on the phone", body = PairCode),
        (status = 400, description = "Not a phone number, or a malformed body", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 409, description = "Already linked", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
        (status = 503, description = "The connection to WhatsApp is not up; see Retry-After", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn pair_code(
    State(app): State<AppState>,
    Body(request): Body<PairCodeRequest>,
) -> Result<Json<PairCode>, ApiError> {
    if app.service().engine().await.health().jid.is_some() {
        return Err(already_linked());
    }
    let asked = tokio::time::timeout(
        PAIR_CODE_WAIT,
        app.service().pair_with_phone(&request.phone),
    )
    .await
    .map_err(|_| unavailable("WhatsApp did not issue a code in time"))?;
    let formatted = asked.map_err(pair_error)?;
    Ok(Json(PairCode {
        code: formatted.chars().filter(|c| *c != '-').collect(),
        formatted,
    }))
}

fn unavailable(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "pairing_unavailable",
        message,
        "Check /health: the connection must be up to ask for a code. Try again shortly.",
    )
    .retry_after(Duration::from_secs(5))
}

fn pair_error(e: ServiceError) -> ApiError {
    match e {
        ServiceError::Command(CommandError::InvalidPhone(source)) => ApiError::bad_request(
            "invalid_phone",
            format!("that is not a phone number: {source}"),
        ),
        ServiceError::Command(CommandError::AlreadyPaired) => already_linked(),
        ServiceError::Command(
            CommandError::PairingEnded | CommandError::Superseded | CommandError::Interrupted,
        ) => ApiError::new(
            StatusCode::CONFLICT,
            "pairing_ended",
            "the pairing ended before the code was issued",
            "Ask for a new code.",
        ),
        ServiceError::Command(CommandError::Failed(source)) => {
            unavailable(&format!("WhatsApp did not issue a code: {source}"))
        }
        ServiceError::Command(CommandError::Stopped) => unavailable("the engine is stopping"),
        other => ApiError::internal("asking for a pairing code", &other),
    }
}
