//! What the server decides right after the handshake, from the ClientPayload (protocol.md §3,
//! §6.1, §8.1): pair a new companion, log a known device in, or send `<failure>`.

use wa_core::binary::{Jid, Node, Server};
use wa_core::payload::{validate_client_payload, AppVersion, PayloadKind, Registration};
use wa_core::signal::PublicKey;

use crate::shared::faults::{failure, is_outdated, lock};
use crate::shared::registry::now_unix;
use crate::shared::state::DeviceRecord;
use crate::shared::Shared;

/// The decision.
pub(crate) enum Admission {
    /// Send this `<failure>` and close.
    Refused {
        failure: Node,
        reason: u16,
        why: String,
    },
    /// A valid registration: start pairing.
    Register(Box<Registration>),
    /// A known device with its own Noise key: send `<success>`.
    Login(Box<DeviceRecord>),
}

/// Writes an error and its sources on one line, so a client developer sees the whole reason.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Decides about a handshake's ClientPayload. Also returns the claimed app version.
pub(crate) fn admit(
    shared: &Shared,
    client_static: &PublicKey,
    payload: &[u8],
) -> (Admission, Option<AppVersion>) {
    let location = shared.config.location.as_str();
    let refuse = |reason: u16, why: String| Admission::Refused {
        failure: failure(reason, location),
        reason,
        why,
    };
    if let Some(spec) = shared.faults.take_fail_next_login() {
        let version = validate_client_payload(payload).ok().map(|v| v.app_version);
        return (
            Admission::Refused {
                failure: spec.node(location),
                reason: spec.reason,
                why: "fail-next-login fault".to_owned(),
            },
            version,
        );
    }
    let validated = match validate_client_payload(payload) {
        Ok(v) => v,
        // What the real server answers to a malformed payload is unverified; 400 is its
        // generic refusal.
        Err(e) => {
            return (
                refuse(400, format!("ClientPayload refused: {}", error_chain(&e))),
                None,
            )
        }
    };
    let version = validated.app_version;
    if let Some(min) = shared.faults.min_version() {
        if is_outdated(&version, &min) {
            return (
                refuse(
                    405,
                    format!("app version {version} is older than the minimum {min}"),
                ),
                Some(version),
            );
        }
    }
    let admission = match validated.kind {
        PayloadKind::Registration(registration) => Admission::Register(registration),
        PayloadKind::Login { username, device } => match find_device(shared, username, device) {
            Err(why) => refuse(401, why),
            Ok(record) if record.noise_pub() != Some(*client_static) => refuse(
                401,
                format!(
                    "device {} logged in with a Noise key other than the one it registered",
                    record.jid
                ),
            ),
            Ok(record) => Admission::Login(Box::new(record)),
        },
    };
    (admission, Some(version))
}

fn find_device(shared: &Shared, username: u64, device: u32) -> Result<DeviceRecord, String> {
    let store = lock(&shared.store);
    let user = username.to_string();
    let key = u16::try_from(device)
        .ok()
        .map(|d| Jid::with_device(user.clone(), d, Server::Pn).to_string());
    if let Some(record) = key.and_then(|k| store.data.devices.get(&k)) {
        return Ok(record.clone());
    }
    let known = store.data.phone.number == user || lock(&shared.world).accounts.contains_key(&user);
    if !known {
        return Err(format!(
            "username {username} is not an account of this server ({} or a contact)",
            store.data.phone.number
        ));
    }
    Err(format!("device {username}:{device} is not paired here"))
}

/// `<success>` with the attributes the real server sends (protocol.md §6.1, example K).
pub(crate) fn success_node(shared: &Shared, device: &DeviceRecord) -> Node {
    let mut node = Node::new("success")
        .with_attr("t", now_unix().to_string())
        .with_attr("props", "27")
        .with_attr("location", shared.config.location.clone());
    match device.lid.parse::<Jid>() {
        Ok(lid) => node = node.with_attr("lid", lid),
        Err(e) => tracing::error!(lid = %device.lid, error = %e, "stored LID does not parse"),
    }
    node.with_attr("abprops", "10")
        .with_attr("creation", device.paired_at.to_string())
        .with_attr("companion_enc_static", device.companion_enc_static.clone())
}
