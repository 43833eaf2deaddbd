//! `/schedules`: list, create, read, edit (incl. pause and resume), cancel, and the sends of
//! one schedule. They write the app database through the scheduler's store calls, in one
//! transaction each; the running scheduler sees each commit within half a second.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use herald_core::health::Account;
use herald_core::schedule::outbox::{self, RandomIds};
use herald_core::schedule::store::{self, ScheduleId, Status, StoreError};
use jiff::Timestamp;
use rusqlite::Connection;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{Body, PathOf, QueryOf};
use super::schedule_body::{EditScheduleBody, NewScheduleBody, StatusChange};
use super::schedule_edit;
use super::schedule_view::{ScheduleView, SendView};
use super::state::AppState;

/// Store errors as answers: the caller's mistakes are 4xx, the rest 500.
pub(super) fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound(id) => ApiError::not_found(format!("no schedule {id}")),
        StoreError::WrongStatus { .. } => ApiError::new(
            StatusCode::CONFLICT,
            "wrong_status",
            e.to_string(),
            "GET the schedule to see its status; a cancelled or finished one cannot change.",
        ),
        StoreError::InThePast { .. } => ApiError::bad_request("in_the_past", e.to_string()),
        StoreError::NothingAhead => ApiError::bad_request("nothing_ahead", e.to_string()),
        StoreError::EmptyText | StoreError::TextTooLong(_) => {
            ApiError::bad_request("invalid_text", e.to_string())
        }
        other => ApiError::internal("the schedule store", &other),
    }
}

/// Message ids hash in the linked account's number, as WA Web's do.
pub(super) async fn ids(app: &AppState) -> RandomIds {
    let jid = app.service().engine().await.health().jid;
    RandomIds {
        own_user: jid
            .as_deref()
            .and_then(Account::from_jid)
            .map(|a| a.phone.trim_start_matches('+').to_owned())
            .unwrap_or_default(),
    }
}

fn view(conn: &Connection, id: ScheduleId) -> Result<ScheduleView, StoreError> {
    let schedule = store::get(conn, id)?;
    let next = store::next_send(conn, id)?;
    Ok(ScheduleView::new(&schedule, next.as_ref()))
}

/// Every schedule, oldest first, with its next send.
#[utoipa::path(
    get,
    path = "/schedules",
    tag = "schedules",
    responses(
        (status = 200, description = "Every schedule (cancelled and finished ones too)", body = Vec<ScheduleView>),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn list(State(app): State<AppState>) -> Result<Json<Vec<ScheduleView>>, ApiError> {
    let conn = app.db();
    let all = store::list(&conn).map_err(store_error)?;
    let mut out = Vec::with_capacity(all.len());
    for s in &all {
        let next = store::next_send(&conn, s.id).map_err(store_error)?;
        out.push(ScheduleView::new(s, next.as_ref()));
    }
    Ok(Json(out))
}

/// Schedule a message, once or repeating.
#[utoipa::path(
    post,
    path = "/schedules",
    tag = "schedules",
    request_body = NewScheduleBody,
    responses(
        (status = 201, description = "Saved; Location names it", body = ScheduleView),
        (status = 400, description = "Bad input (nothing saved): a bad number, a time in the past, an unknown field …", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn create(
    State(app): State<AppState>,
    Body(body): Body<NewScheduleBody>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let new = body.check(now)?;
    let mut ids = ids(&app).await;
    let conn = app.db();
    let (id, _) = store::add(&conn, &new, &mut ids, now).map_err(store_error)?;
    let created = view(&conn, id).map_err(store_error)?;
    tracing::info!(schedule = id, "schedule created over HTTP");
    let mut r = (StatusCode::CREATED, Json(created)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/schedules/{id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// One schedule.
#[utoipa::path(
    get,
    path = "/schedules/{id}",
    tag = "schedules",
    params(("id" = i64, Path, description = "The schedule's id")),
    responses(
        (status = 200, description = "The schedule", body = ScheduleView),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn get(
    State(app): State<AppState>,
    PathOf(id): PathOf<ScheduleId>,
) -> Result<Json<ScheduleView>, ApiError> {
    Ok(Json(view(&app.db(), id).map_err(store_error)?))
}

/// Change a schedule's recipient, text, timing or catch-up, or pause or resume it.
#[utoipa::path(
    patch,
    path = "/schedules/{id}",
    tag = "schedules",
    params(("id" = i64, Path, description = "The schedule's id")),
    request_body = EditScheduleBody,
    responses(
        (status = 200, description = "The schedule as saved now", body = ScheduleView),
        (status = 400, description = "Bad input (nothing changed)", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 409, description = "Cancelled or finished: it cannot change", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn patch(
    State(app): State<AppState>,
    PathOf(id): PathOf<ScheduleId>,
    Body(body): Body<EditScheduleBody>,
) -> Result<Json<ScheduleView>, ApiError> {
    let now = Timestamp::now();
    let zone = {
        let conn = app.db();
        store::get(&conn, id)
            .map_err(store_error)?
            .timing
            .zone_name()
            .to_owned()
    };
    let asked = body.check(&zone, now)?;
    let mut ids = ids(&app).await;
    let conn = app.db();
    let current = store::get(&conn, id).map_err(store_error)?;
    if !matches!(current.status, Status::Active | Status::Paused) {
        return Err(store_error(StoreError::WrongStatus {
            id,
            status: current.status,
        }));
    }
    if !asked.changes.is_empty() {
        schedule_edit::edit(&conn, id, &asked.changes, &mut ids, now).map_err(store_error)?;
    }
    match (asked.status, current.status) {
        (Some(StatusChange::Paused), Status::Active) => {
            store::pause(&conn, id, now).map_err(store_error)?;
        }
        (Some(StatusChange::Active), Status::Paused) => {
            store::resume(&conn, id, &mut ids, now).map_err(store_error)?;
        }
        // Asking for the status it has is a no-op, not an error.
        _ => {}
    }
    Ok(Json(view(&conn, id).map_err(store_error)?))
}

/// Cancel a schedule for good. It is kept, cancelled, with its sends, for the record.
#[utoipa::path(
    delete,
    path = "/schedules/{id}",
    tag = "schedules",
    params(("id" = i64, Path, description = "The schedule's id")),
    responses(
        (status = 200, description = "Cancelled; its unsent occurrences are cancelled too", body = ScheduleView),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 409, description = "Already cancelled", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn delete(
    State(app): State<AppState>,
    PathOf(id): PathOf<ScheduleId>,
) -> Result<Json<ScheduleView>, ApiError> {
    let conn = app.db();
    store::cancel(&conn, id, Timestamp::now()).map_err(store_error)?;
    tracing::info!(schedule = id, "schedule cancelled over HTTP");
    Ok(Json(view(&conn, id).map_err(store_error)?))
}

/// Paging for the sends.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SendsQuery {
    /// Rows at most, 1 to 1000 (default 100), newest first.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// The sends of one schedule, newest first.
#[utoipa::path(
    get,
    path = "/schedules/{id}/sends",
    tag = "schedules",
    params(("id" = i64, Path, description = "The schedule's id"), SendsQuery),
    responses(
        (status = 200, description = "Its sends, newest first", body = Vec<SendView>),
        (status = 400, description = "A bad id or query", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn sends(
    State(app): State<AppState>,
    PathOf(id): PathOf<ScheduleId>,
    QueryOf(q): QueryOf<SendsQuery>,
) -> Result<Json<Vec<SendView>>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be 1 to 1000, got {limit}"),
        ));
    }
    let conn = app.db();
    store::get(&conn, id).map_err(store_error)?;
    let rows = outbox::history(&conn, Some(id), limit as usize).map_err(store_error)?;
    Ok(Json(rows.iter().map(SendView::from).collect()))
}
