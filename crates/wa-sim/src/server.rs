//! The listener on 127.0.0.1: the WebSocket at `/ws/chat` and the HTTP control API under
//! `/admin/`, whose handlers are thin wrappers over [`Simulator`]'s methods.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use wa_core::payload::AppVersion;

use crate::control::Simulator;
use crate::link::{CloseKind, ServerSide, PIPE_CAPACITY};
use crate::shared::error::SimError;
use crate::shared::events::SimEvent;
use crate::shared::faults::{FailureSpec, KickKind};

/// The WebSocket read limit (the reference clients use 16 MiB).
const MAX_MESSAGE: usize = 16 << 20;

/// Binds 127.0.0.1:`port` (0 picks a free port).
pub async fn bind(port: u16) -> Result<(TcpListener, SocketAddr), SimError> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| SimError::Bind { port, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| SimError::Bind { port, source })?;
    Ok((listener, addr))
}

/// Serves the WebSocket and the control API until the process ends.
pub async fn serve(sim: Simulator, listener: TcpListener) -> Result<(), SimError> {
    let app = Router::new()
        .route("/ws/chat", get(ws_chat))
        .route("/admin/scan", post(scan))
        .route("/admin/pair-code", post(pair_code))
        .route("/admin/companion-reg-refresh", post(companion_reg_refresh))
        .route("/admin/kick", post(kick))
        .route("/admin/fail-next-login", post(fail_next_login))
        .route("/admin/stall", post(stall))
        .route("/admin/unstall", post(unstall))
        .route("/admin/drop", post(drop_connections))
        .route("/admin/delay", post(delay))
        .route("/admin/min-version", post(min_version))
        .route("/admin/state", get(state))
        .merge(crate::server_world::routes())
        .with_state(sim);
    // TCP_NODELAY on every accepted socket, as WhatsApp's servers answer at once: with
    // Nagle's algorithm on, a receipt written right after an ack waits for the client's
    // delayed ACK (up to 40 ms), which is the simulator's latency, not the client's.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, app).await.map_err(SimError::Serve)
}

type Params = Query<HashMap<String, String>>;

fn bad_request(message: String) -> Response {
    tracing::warn!(%message, "control request refused");
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "ok": false, "error": message })),
    )
        .into_response()
}

fn conn_param(params: &HashMap<String, String>) -> Result<Option<u64>, String> {
    params
        .get("conn")
        .map(|c| c.parse().map_err(|_| format!("conn={c} is not a number")))
        .transpose()
}

async fn ws_chat(State(sim): State<Simulator>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(MAX_MESSAGE)
        .on_upgrade(move |socket| bridge(sim, socket))
}

/// Carries WebSocket binary messages to and from the connection task.
async fn bridge(sim: Simulator, mut socket: WebSocket) {
    let (to_server, inbound) = mpsc::channel(PIPE_CAPACITY);
    let (outbound, mut from_server) = mpsc::channel(PIPE_CAPACITY);
    let (on_close, mut closed) = oneshot::channel();
    let side = ServerSide {
        inbound,
        outbound,
        on_close: Some(on_close),
    };
    tokio::spawn(crate::conn::run(sim.shared.clone(), side, "ws"));
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Binary(bytes))) => {
                    if to_server.send(bytes.to_vec()).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Text(_))) => {
                    tracing::warn!("text WebSocket message ignored (the protocol is binary only)");
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            outgoing = from_server.recv() => match outgoing {
                Some(bytes) => {
                    if socket.send(Message::Binary(bytes.into())).await.is_err() {
                        break;
                    }
                }
                None => {
                    let kind = (&mut closed).await.unwrap_or(CloseKind::Graceful);
                    if kind == CloseKind::Graceful {
                        let _ = socket.send(Message::Close(None)).await;
                    }
                    // Dropping the socket closes TCP; for Abort that is all the client sees.
                    break;
                }
            },
        }
    }
}

async fn scan(State(sim): State<Simulator>, Query(p): Params, body: String) -> Response {
    let mut events = sim.subscribe();
    let scanned = match p.get("account") {
        Some(account) => sim.scan_as(&body, account),
        None => sim.scan(&body),
    };
    let report = match scanned {
        Ok(report) => report,
        Err(refused) => {
            let message = crate::login::error_chain(&refused);
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "ok": false, "refused": message })),
            )
                .into_response();
        }
    };
    if report.refresh_requested {
        return Json(json!({ "ok": true, "report": report, "outcome": "refresh_requested" }))
            .into_response();
    }
    // Wait for the companion's pair-device-sign, so the caller learns the outcome.
    let conn = report.conn;
    let outcome = tokio::time::timeout(sim.config().scan_wait, async {
        loop {
            match events.recv().await {
                Ok(SimEvent::Paired { conn: c, jid }) if c == conn => return json!({"paired": jid}),
                Ok(SimEvent::PairingRejected { conn: c, reason }) if c == conn => {
                    return json!({ "rejected": reason })
                }
                Ok(SimEvent::Closed { conn: c, outcome }) if c == conn => {
                    return json!({ "closed": outcome })
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return json!({ "closed": "simulator stopped" }),
            }
        }
    })
    .await
    .unwrap_or_else(|_| json!({ "pending": "no pair-device-sign yet" }));
    let ok = outcome.get("paired").is_some();
    Json(json!({ "ok": ok, "report": report, "outcome": outcome })).into_response()
}

async fn pair_code(State(sim): State<Simulator>, Query(p): Params, body: String) -> Response {
    let code = p.get("code").cloned().unwrap_or(body);
    match sim.enter_pairing_code(&code) {
        Ok(report) => Json(json!({ "ok": true, "report": report })).into_response(),
        Err(e) => bad_request(crate::login::error_chain(&e)),
    }
}

async fn companion_reg_refresh(State(sim): State<Simulator>, Query(p): Params) -> Response {
    match conn_param(&p) {
        Ok(conn) => {
            Json(json!({ "ok": true, "sent": sim.companion_reg_refresh(conn) })).into_response()
        }
        Err(e) => bad_request(e),
    }
}

async fn kick(State(sim): State<Simulator>, Query(p): Params) -> Response {
    let kind = match p.get("kind").map(|k| k.parse::<KickKind>()) {
        Some(Ok(kind)) => kind,
        Some(Err(e)) => return bad_request(e.to_string()),
        None => return bad_request("kind is required".to_owned()),
    };
    match conn_param(&p) {
        Ok(conn) => Json(json!({ "ok": true, "kicked": sim.kick(kind, conn) })).into_response(),
        Err(e) => bad_request(e),
    }
}

async fn fail_next_login(State(sim): State<Simulator>, Query(p): Params) -> Response {
    match p.get("reason").map(|r| r.parse::<FailureSpec>()) {
        Some(Ok(spec)) => {
            sim.fail_next_login(spec);
            Json(json!({ "ok": true, "reason": spec.reason })).into_response()
        }
        Some(Err(e)) => bad_request(e.to_string()),
        None => bad_request("reason is required".to_owned()),
    }
}

async fn stall(State(sim): State<Simulator>) -> Json<serde_json::Value> {
    sim.stall();
    Json(json!({ "ok": true }))
}

async fn unstall(State(sim): State<Simulator>) -> Json<serde_json::Value> {
    sim.unstall();
    Json(json!({ "ok": true }))
}

async fn drop_connections(State(sim): State<Simulator>, Query(p): Params) -> Response {
    match conn_param(&p) {
        Ok(conn) => {
            Json(json!({ "ok": true, "dropped": sim.drop_connections(conn) })).into_response()
        }
        Err(e) => bad_request(e),
    }
}

async fn delay(State(sim): State<Simulator>, Query(p): Params) -> Response {
    match p.get("ms").map(|m| m.parse::<u64>()) {
        Some(Ok(ms)) => {
            sim.set_delay(Duration::from_millis(ms));
            Json(json!({ "ok": true, "delay_ms": ms })).into_response()
        }
        _ => bad_request("ms must be a number of milliseconds".to_owned()),
    }
}

async fn min_version(State(sim): State<Simulator>, Query(p): Params) -> Response {
    match p.get("v").map(String::as_str) {
        None | Some("" | "none") => {
            sim.set_min_version(None);
            Json(json!({ "ok": true, "min_version": null })).into_response()
        }
        Some(v) => match v.parse::<AppVersion>() {
            Ok(version) => {
                sim.set_min_version(Some(version));
                Json(json!({ "ok": true, "min_version": version.to_string() })).into_response()
            }
            Err(e) => bad_request(e.to_string()),
        },
    }
}

async fn state(State(sim): State<Simulator>) -> Json<crate::control::StateView> {
    Json(sim.state())
}
