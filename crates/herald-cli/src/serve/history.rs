//! `GET /history`: the disconnects, newest first, a page at a time.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::QueryOf;
use super::state::AppState;
use super::views::Disconnect;

/// Paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Rows at most, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Only rows older than this id (the last `id` of the previous page).
    pub before: Option<i64>,
}

/// The reconnect history, newest first.
#[utoipa::path(
    get,
    path = "/history",
    tag = "connection",
    params(HistoryQuery),
    responses(
        (status = 200, description = "Disconnects, newest first", body = Vec<Disconnect>),
        (status = 400, description = "A bad query", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn history(
    State(app): State<AppState>,
    QueryOf(q): QueryOf<HistoryQuery>,
) -> Result<Json<Vec<Disconnect>>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be 1 to 500, got {limit}"),
        ));
    }
    let rows = app
        .service()
        .history(q.before, limit)
        .map_err(|e| ApiError::internal("reading the history", &e))?;
    Ok(Json(rows.iter().map(Disconnect::from).collect()))
}
