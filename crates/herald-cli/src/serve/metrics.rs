//! `GET /metrics` (with `--metrics`): Prometheus text format, read fresh at each scrape from
//! the engine and the app database, so nothing is counted twice and a restart of the daemon
//! does not reset the history-backed counters.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use rusqlite::Connection;

use super::error::{ApiError, ErrorBody};
use super::state::AppState;

type Labels = Vec<(String, String)>;

/// Every state the engine can be in, so a dashboard sees zeros rather than gaps.
const STATES: &[&str] = &[
    "idle",
    "connecting",
    "pairing",
    "pairing_code",
    "qr_expired",
    "logging_in",
    "online",
    "backoff",
    "paused",
    "logged_out",
    "replaced",
    "closed",
];

/// The numbers one scrape reports.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Snapshot {
    pub state: String,
    pub rtt_ms: Option<u64>,
    pub uptime_secs: u64,
    pub disconnects_by_cause: Vec<(String, u64)>,
    pub sends_by_state: Vec<(String, u64)>,
}

fn grouped(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<(String, u64)>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
        ))
    })?;
    rows.collect()
}

/// The text exposition of a snapshot.
pub fn render(s: &Snapshot) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::with_prefix("herald");
    let state = Family::<Labels, Gauge>::default();
    for name in STATES {
        state
            .get_or_create(&vec![("state".into(), (*name).into())])
            .set(i64::from(s.state == *name));
    }
    registry.register(
        "connection_state",
        "1 for the engine's current state, 0 for the others",
        state,
    );
    let reconnects = Family::<Labels, Counter>::default();
    for (cause, n) in &s.disconnects_by_cause {
        reconnects
            .get_or_create(&vec![("cause".into(), cause.clone())])
            .inc_by(*n);
    }
    registry.register(
        "reconnects",
        "Disconnects recorded in the history, by cause",
        reconnects,
    );
    let sends = Family::<Labels, Gauge>::default();
    for (state, n) in &s.sends_by_state {
        sends
            .get_or_create(&vec![("state".into(), state.clone())])
            .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
    registry.register(
        "sends",
        "Scheduled sends in the outbox, by state (sent, delivered, failed, in_doubt …)",
        sends,
    );
    if let Some(rtt) = s.rtt_ms {
        let g = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        g.set(rtt as f64 / 1000.0);
        registry.register(
            "keepalive_rtt_seconds",
            "Round trip of the last answered keepalive ping",
            g,
        );
    }
    let up = Gauge::<i64>::default();
    up.set(i64::try_from(s.uptime_secs).unwrap_or(i64::MAX));
    registry.register("uptime_seconds", "Seconds since the daemon started", up);
    let mut out = String::new();
    encode(&mut out, &registry)?;
    Ok(out)
}

/// Prometheus metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    responses(
        (status = 200, description = "OpenMetrics text, which Prometheus reads", content_type = "application/openmetrics-text", body = String),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "Metrics are off (start with --metrics)", body = ErrorBody),
        (status = 429, description = "Too many wrong keys from this address", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn metrics(State(app): State<AppState>) -> Result<Response, ApiError> {
    if !app.metrics_enabled() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "metrics_off",
            "metrics are off",
            "Start the daemon with --metrics to expose them.",
        ));
    }
    let health = app.service().engine().await.health();
    let (disconnects_by_cause, sends_by_state) = app.with_db("reading the metrics", |db| {
        Ok::<_, rusqlite::Error>((
            grouped(
                db,
                "SELECT cause, count(*) FROM disconnects GROUP BY cause ORDER BY cause",
            )?,
            grouped(
                db,
                "SELECT state, count(*) FROM sends GROUP BY state ORDER BY state",
            )?,
        ))
    })?;
    let snapshot = Snapshot {
        state: health.state,
        rtt_ms: health.rtt_ms,
        uptime_secs: app.uptime_secs(),
        disconnects_by_cause,
        sends_by_state,
    };
    let text = render(&snapshot).map_err(|e| ApiError::internal("writing the metrics", &e))?;
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_every_family() {
        let text = render(&Snapshot {
            state: "online".into(),
            rtt_ms: Some(42),
            uptime_secs: 7,
            disconnects_by_cause: vec![("server_restarting".into(), 3)],
            sends_by_state: vec![("delivered".into(), 2)],
        })
        .unwrap();
        for line in [
            "herald_connection_state{state=\"online\"} 1",
            "herald_connection_state{state=\"backoff\"} 0",
            "herald_reconnects_total{cause=\"server_restarting\"} 3",
            "herald_sends{state=\"delivered\"} 2",
            "herald_keepalive_rtt_seconds 0.042",
            "herald_uptime_seconds 7",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
