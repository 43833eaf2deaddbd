//! `POST /restart` (reconnect now) and `POST /logout` (unlink this device).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::state::AppState;
use super::views::Accepted;

/// Tear the connection down and dial again now; also leaves `paused` and `replaced`. The
/// reconnect shows in `GET /history` and on `GET /events`.
#[utoipa::path(
    post,
    path = "/restart",
    tag = "connection",
    responses(
        (status = 202, description = "The engine is reconnecting", body = Accepted),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn restart(State(app): State<AppState>) -> (StatusCode, Json<Accepted>) {
    app.service().reconnect_now().await;
    tracing::info!("reconnect asked for over HTTP");
    (
        StatusCode::ACCEPTED,
        Json(Accepted {
            accepted: true,
            message: "reconnecting now; follow it on GET /events or GET /health".into(),
        }),
    )
}

/// What the logout did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedOut {
    /// Whether WhatsApp confirmed the unlink (false when offline: the phone drops this device
    /// when it notices).
    pub unlinked_on_server: bool,
    /// Whether a session was archived (it is kept, timestamped, in the data folder).
    pub archived: bool,
}

/// Unlink this device from the phone. The session is archived, not deleted; a new QR code
/// follows on `GET /qr`.
#[utoipa::path(
    post,
    path = "/logout",
    tag = "connection",
    responses(
        (status = 200, description = "Unlinked", body = LoggedOut),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
        (status = 503, description = "The engine is stopping", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn logout(State(app): State<AppState>) -> Result<Json<LoggedOut>, ApiError> {
    let outcome = app.service().logout().await.map_err(|e| {
        tracing::warn!(error = %crate::error::chain(&e), "logout over HTTP failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "logout_failed",
            format!("the logout did not complete: {}", crate::error::chain(&e)),
            "Try again; `herald-cli logout` does the same with the daemon stopped.",
        )
    })?;
    tracing::info!(
        unlinked_on_server = outcome.unlinked_on_server,
        "logged out over HTTP"
    );
    Ok(Json(LoggedOut {
        unlinked_on_server: outcome.unlinked_on_server,
        archived: outcome.archive.is_some(),
    }))
}
