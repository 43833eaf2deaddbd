//! The world's HTTP control API under `/admin/` (JSON in and out, camelCase), thin wrappers
//! over [`Simulator`]'s methods. A refused request gets `400 {"ok":false,"error":…}`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::control::Simulator;
use crate::relay::outgoing::Chat;
use crate::shared::config::ContactSpec;
use crate::shared::world::Addressing;

pub(crate) fn routes() -> Router<Simulator> {
    Router::new()
        .route("/admin/contacts", get(contacts).post(add_contact))
        .route("/admin/messages", get(messages))
        .route("/admin/read", post(read))
        .route("/admin/fail-decrypt", post(fail_decrypt))
        .route("/admin/drain-prekeys", post(drain_pre_keys))
        .route("/admin/bundle-signature", post(bundle_signature))
        .route("/admin/history-sync", post(history_sync))
        .route("/admin/contact-send", post(contact_send))
        .route("/admin/groups", get(groups).post(create_group))
        .route("/admin/group-add", post(group_add))
        .route("/admin/group-remove", post(group_remove))
        .route("/admin/devices", post(add_device))
        .route("/admin/device-remove", post(remove_device))
        .route("/admin/privacy-token", post(privacy_token))
}

/// A JSON body; a body that is not JSON of the expected shape is answered like any other
/// refusal, `400 {"ok":false,"error":…}`, naming what was wrong.
struct Body<T>(T);

impl<S, T> FromRequest<S> for Body<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(refused(&rejection)),
        }
    }
}

fn refused(e: &dyn std::error::Error) -> Response {
    let message = crate::login::error_chain(e);
    tracing::warn!(%message, "control request refused");
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "ok": false, "error": message })),
    )
        .into_response()
}

async fn contacts(State(sim): State<Simulator>) -> Response {
    Json(json!({ "ok": true, "contacts": sim.contacts() })).into_response()
}

async fn add_contact(State(sim): State<Simulator>, Body(spec): Body<ContactSpec>) -> Response {
    match sim.add_contact(&spec) {
        Ok(pn) => Json(json!({ "ok": true, "pn": pn })).into_response(),
        Err(e) => refused(&e),
    }
}

async fn messages(State(sim): State<Simulator>) -> Response {
    Json(sim.messages()).into_response()
}

/// A simulated device: an account and a device number (0, the phone, by default).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeviceBody {
    pn: String,
    #[serde(default)]
    device: u16,
    #[serde(default)]
    ids: Option<Vec<String>>,
    #[serde(default)]
    count: Option<u32>,
    #[serde(default)]
    broken: Option<bool>,
}

async fn read(State(sim): State<Simulator>, Body(b): Body<DeviceBody>) -> Response {
    let read = sim.read(&b.pn, b.device, b.ids.as_deref());
    Json(json!({ "ok": true, "read": read })).into_response()
}

async fn fail_decrypt(State(sim): State<Simulator>, Body(b): Body<DeviceBody>) -> Response {
    let count = b.count.unwrap_or(1);
    match sim.fail_decrypt(&b.pn, b.device, count) {
        Ok(()) => Json(json!({ "ok": true, "failNext": count })).into_response(),
        Err(e) => refused(&e),
    }
}

async fn drain_pre_keys(State(sim): State<Simulator>, Body(b): Body<DeviceBody>) -> Response {
    match sim.drain_pre_keys(&b.pn, b.device) {
        Ok(dropped) => Json(json!({ "ok": true, "dropped": dropped })).into_response(),
        Err(e) => refused(&e),
    }
}

async fn bundle_signature(State(sim): State<Simulator>, Body(b): Body<DeviceBody>) -> Response {
    let broken = b.broken.unwrap_or(true);
    match sim.break_bundle_signature(&b.pn, b.device, broken) {
        Ok(()) => Json(json!({ "ok": true, "broken": broken })).into_response(),
        Err(e) => refused(&e),
    }
}

/// A real device of the linked account, by number.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LinkedDeviceBody {
    device: u16,
}

async fn history_sync(State(sim): State<Simulator>, Body(b): Body<LinkedDeviceBody>) -> Response {
    match sim.send_history_sync(b.device) {
        Ok(id) => Json(json!({ "ok": true, "id": id })).into_response(),
        Err(e) => refused(&e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SendBody {
    /// The sending account.
    from: String,
    #[serde(default)]
    device: u16,
    /// A 1:1 recipient (default: the linked account).
    #[serde(default)]
    to: Option<String>,
    /// A group id instead.
    #[serde(default)]
    group: Option<String>,
    text: String,
}

async fn contact_send(State(sim): State<Simulator>, Body(b): Body<SendBody>) -> Response {
    let chat = match (b.group, b.to) {
        (Some(group), _) => Chat::Group(group),
        (None, Some(to)) => Chat::Direct(to),
        (None, None) => Chat::Direct(sim.linked_number()),
    };
    match sim.contact_send(&b.from, b.device, &chat, &b.text) {
        Ok(id) => Json(json!({ "ok": true, "id": id })).into_response(),
        Err(e) => refused(&e),
    }
}

async fn groups(State(sim): State<Simulator>) -> Response {
    Json(json!({ "ok": true, "groups": sim.groups() })).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GroupBody {
    subject: String,
    participants: Vec<String>,
    #[serde(default)]
    addressing: Addressing,
}

async fn create_group(State(sim): State<Simulator>, Body(b): Body<GroupBody>) -> Response {
    match sim.create_group(&b.subject, &b.participants, b.addressing) {
        Ok(id) => Json(json!({ "ok": true, "id": id })).into_response(),
        Err(e) => refused(&e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MemberBody {
    group: String,
    member: String,
}

async fn group_add(State(sim): State<Simulator>, Body(b): Body<MemberBody>) -> Response {
    match sim.group_add(&b.group, &b.member) {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => refused(&e),
    }
}

async fn group_remove(State(sim): State<Simulator>, Body(b): Body<MemberBody>) -> Response {
    match sim.group_remove(&b.group, &b.member) {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => refused(&e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AccountBody {
    pn: String,
    #[serde(default)]
    device: Option<u16>,
}

async fn add_device(State(sim): State<Simulator>, Body(b): Body<AccountBody>) -> Response {
    match sim.add_device(&b.pn) {
        Ok(device) => Json(json!({ "ok": true, "device": device })).into_response(),
        Err(e) => refused(&e),
    }
}

async fn remove_device(State(sim): State<Simulator>, Body(b): Body<AccountBody>) -> Response {
    match sim.remove_device(&b.pn, b.device.unwrap_or(0)) {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => refused(&e),
    }
}

async fn privacy_token(State(sim): State<Simulator>, Body(b): Body<AccountBody>) -> Response {
    match sim.issue_privacy_token(&b.pn) {
        Ok(token) => Json(json!({ "ok": true, "tokenHex": hex::encode(token) })).into_response(),
        Err(e) => refused(&e),
    }
}
