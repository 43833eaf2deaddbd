//! `GET /health` (liveness), `GET /health/ready` (readiness) and `GET /health/memory`.
//!
//! Liveness answers 200 whenever the process works, whatever the connection's state: a
//! platform that restarts a machine on a failing check must not restart it for a logout or a
//! replaced session, which no restart fixes. Readiness is the check for "can it send now".

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use rusqlite::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth;
use super::error::{ApiError, ErrorBody};
use super::state::AppState;
use super::status::Status;
use super::views::{ts, Disconnect};

/// The old service's four fields, and with a key the details.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: Status,
    /// When this answer was made.
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: Timestamp,
    /// Scheduled sends not settled yet: waiting, going out, or in doubt.
    pub scheduled_messages: u64,
    /// The sends being worked on right now (going out, or in doubt and being settled).
    pub active_jobs: Vec<ActiveJob>,
    /// Only with a valid API key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<HealthDetail>,
}

/// A send in progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActiveJob {
    pub schedule_id: i64,
    pub send_id: i64,
    /// `sending` or `in_doubt`.
    pub state: String,
}

/// What a key holder also sees.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthDetail {
    /// The engine's state, e.g. `online`, `backoff`, `pairing`.
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub state_since: Timestamp,
    /// The linked number, `+` and digits.
    pub account: Option<String>,
    pub last_disconnect: Option<Disconnect>,
    /// Failed dials in the current episode.
    pub attempt: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_retry_at: Option<Timestamp>,
    /// Round trip of the last answered keepalive ping.
    pub keepalive_rtt_ms: Option<u64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_pong_at: Option<Timestamp>,
    /// The WhatsApp Web version in use.
    pub whatsapp_web_version: Option<String>,
    /// `override`, `fetched`, `cached` or `fallback`.
    pub version_source: Option<String>,
    /// Disconnects recorded so far.
    pub disconnects: u64,
    pub uptime_secs: u64,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
}

/// Readiness.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ready {
    pub ready: bool,
    pub status: Status,
}

/// Memory and disk.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    /// Resident memory of this process (null where the platform does not tell).
    pub rss_bytes: Option<u64>,
    /// Heap in use as the allocator counts it (glibc); null where it does not tell.
    pub heap_bytes: Option<u64>,
    /// The app database with its write-ahead log.
    pub database_bytes: u64,
    /// The session store folder.
    pub session_bytes: u64,
}

/// Liveness, and with a key the connection's details.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    responses(
        (status = 200, description = "The process works (whatever the connection's state)", body = Health),
        (status = 401, description = "A key was sent and it is wrong or revoked", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
    ),
    security((), ("api_key" = []), ("bearer" = [])),
)]
pub async fn health(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Json<Health>, ApiError> {
    let with_key = auth::check(&app, &headers, peer)?.is_some();
    let engine = app.service().engine().await;
    let state = engine.state().borrow().clone();
    let (scheduled_messages, active_jobs) = app.with_db("reading the outbox", jobs)?;
    let detail = if with_key {
        let h = app
            .service()
            .health()
            .await
            .map_err(|e| ApiError::internal("reading the health", &e))?;
        Some(HealthDetail {
            state: h.state,
            state_since: ts(h.state_since_ms),
            account: h.account.map(|a| a.phone),
            last_disconnect: h.last_disconnect.as_ref().map(Disconnect::from),
            attempt: h.attempt,
            next_retry_at: h.next_retry_at_ms.map(ts),
            keepalive_rtt_ms: h.rtt_ms,
            last_pong_at: h.last_pong_ms.map(ts),
            whatsapp_web_version: h.version,
            version_source: h.version_source,
            disconnects: h.disconnects,
            uptime_secs: app.uptime_secs(),
            started_at: app.started_at(),
        })
    } else {
        None
    };
    Ok(Json(Health {
        status: Status::of(&state),
        timestamp: Timestamp::now(),
        scheduled_messages,
        active_jobs,
        detail,
    }))
}

/// The outbox's unsettled sends and the ones in progress (read-only).
fn jobs(conn: &Connection) -> rusqlite::Result<(u64, Vec<ActiveJob>)> {
    let waiting: i64 = conn.query_row(
        "SELECT count(*) FROM sends WHERE state IN ('pending', 'sending', 'in_doubt')",
        [],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT schedule_id, id, state FROM sends WHERE state IN ('sending', 'in_doubt') \
         ORDER BY next_try_ms LIMIT 100",
    )?;
    let active = stmt
        .query_map([], |r| {
            Ok(ActiveJob {
                schedule_id: r.get(0)?,
                send_id: r.get(1)?,
                state: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((u64::try_from(waiting).unwrap_or(0), active))
}

/// Readiness: 200 only while connected.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    responses(
        (status = 200, description = "Connected: scheduled messages can go out", body = Ready),
        (status = 503, description = "Not connected; `status` says why", body = Ready),
    ),
    security(()),
)]
pub async fn ready(State(app): State<AppState>) -> Response {
    let state = app.service().engine().await.state().borrow().clone();
    let status = Status::of(&state);
    let code = if status.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(Ready {
            ready: status.ready(),
            status,
        }),
    )
        .into_response()
}

/// Memory of the process and size of its data.
#[utoipa::path(
    get,
    path = "/health/memory",
    tag = "health",
    responses(
        (status = 200, description = "Memory and disk use", body = Memory),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn memory(State(app): State<AppState>) -> Json<Memory> {
    let dir = app.data_dir();
    let database_bytes = ["herald.db", "herald.db-wal", "herald.db-shm"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum();
    Json(Memory {
        rss_bytes: herald_core::health::process_memory(),
        heap_bytes: herald_core::memory::heap_in_use(),
        database_bytes,
        session_bytes: folder_size(&dir.join(herald_core::offline::SESSION_DIR)),
    })
}

fn folder_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some(if meta.is_dir() {
                folder_size(&e.path())
            } else {
                meta.len()
            })
        })
        .sum()
}
