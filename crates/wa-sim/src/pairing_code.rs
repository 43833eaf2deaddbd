//! The server's side of linking by phone number (protocol.md §5.4): answer `companion_hello`
//! with a pairing ref, and open `companion_finish` with the phone's state to derive the ADV
//! secret that keys `pair-success`.

use rand_core::{OsRng, RngCore as _};
use wa_core::binary::Node;
use wa_core::pair::qr::CompanionWebClientType;
use wa_core::stanza::link_code::{CompanionFinish, CompanionHello, CompanionHelloResult};

use crate::iq;
use crate::login::error_chain;
use crate::pairing::{self, PairingSession};
use crate::shared::book::{CodeEntry, PendingPair};
use crate::shared::faults::lock;
use crate::shared::Shared;

/// Browsers the server accepts at the start of `companion_platform_display` (whatsmeow
/// issues #449/#450: anything else is refused).
const KNOWN_BROWSERS: [&str; 7] = [
    "Chrome", "Edge", "Firefox", "IE", "Opera", "Safari", "Electron",
];

/// A refused step: the iq error to send and the reason to log.
pub(crate) struct Refusal {
    pub(crate) reply: Node,
    pub(crate) why: String,
}

fn refusal(id: &str, code: u16, text: &'static str, why: String) -> Refusal {
    Refusal {
        reply: iq::error(id, code, text),
        why,
    }
}

/// `stage="companion_hello"`: checks it and remembers the wrapped key for the phone.
pub(crate) fn companion_hello(
    shared: &Shared,
    conn: u64,
    session: &PairingSession,
    node: &Node,
) -> Result<Node, Refusal> {
    let id = node.attr("id").map(ToString::to_string).unwrap_or_default();
    let hello = CompanionHello::parse(node)
        .map_err(|e| refusal(&id, 400, "bad-request", format!("companion_hello: {e}")))?;
    let number = lock(&shared.store).data.phone.number.clone();
    if hello.phone.user != number {
        return Err(refusal(
            &id,
            404,
            "item-not-found",
            format!(
                "companion_hello names {}, not this server's phone {number}",
                hello.phone
            ),
        ));
    }
    if hello.companion_server_auth_key_pub != *session.noise_pub.as_bytes() {
        return Err(refusal(
            &id,
            401,
            "not-authorized",
            "companion_server_auth_key_pub is not the connection's Noise static key".to_owned(),
        ));
    }
    let platform_ok = hello.platform_id.chars().count() == 1
        && hello
            .platform_id
            .chars()
            .next()
            .and_then(CompanionWebClientType::from_char)
            .is_some_and(|t| t != CompanionWebClientType::Unknown);
    if !platform_ok {
        return Err(refusal(
            &id,
            400,
            "bad-request",
            format!(
                "companion_platform_id {:?} is not a known client type",
                hello.platform_id
            ),
        ));
    }
    let display = &hello.platform_display;
    let browser = display.split(" (").next().unwrap_or("");
    if !KNOWN_BROWSERS.contains(&browser) || !display.ends_with(')') {
        return Err(refusal(
            &id,
            400,
            "bad-request",
            format!("companion_platform_display {display:?} is not \"Browser (OS)\" with a known browser"),
        ));
    }
    let mut pairing_ref = [0u8; 16];
    OsRng.fill_bytes(&mut pairing_ref);
    let pairing_ref = hex::encode_upper(pairing_ref).into_bytes();
    lock(&shared.book).codes.insert(
        conn,
        CodeEntry {
            conn,
            wrapped_companion_ephemeral_pub: hello.wrapped_companion_ephemeral_pub,
            pairing_ref: pairing_ref.clone(),
            primary: None,
        },
    );
    tracing::info!(
        conn,
        "companion_hello accepted; waiting for the code on the phone"
    );
    Ok(CompanionHelloResult {
        id: hello.id,
        pairing_ref,
    }
    .to_node())
}

/// `stage="companion_finish"`: the phone opens the key bundle, derives the ADV secret and
/// issues the identity. Returns the iq result and the `pair-success` to send after it.
pub(crate) fn companion_finish(
    shared: &Shared,
    conn: u64,
    session: &PairingSession,
    node: &Node,
) -> Result<(Node, Box<PendingPair>), Refusal> {
    let id = node.attr("id").map(ToString::to_string).unwrap_or_default();
    let finish = CompanionFinish::parse(node)
        .map_err(|e| refusal(&id, 400, "bad-request", format!("companion_finish: {e}")))?;
    if finish.companion_identity_public != *session.registration.identity.as_bytes() {
        return Err(refusal(
            &id,
            401,
            "not-authorized",
            "companion_identity_public is not the registration's identity key".to_owned(),
        ));
    }
    let phone_key = shared
        .phone_key()
        .map_err(|e| refusal(&id, 500, "internal-error", e.to_string()))?;
    let adv_secret = {
        let book = lock(&shared.book);
        let entry = book
            .codes
            .get(&conn)
            .filter(|c| c.pairing_ref == finish.pairing_ref)
            .ok_or_else(|| {
                refusal(
                    &id,
                    404,
                    "item-not-found",
                    "companion_finish names no pending pairing ref of this connection".to_owned(),
                )
            })?;
        let primary = entry.primary.as_ref().ok_or_else(|| {
            refusal(
                &id,
                400,
                "bad-request",
                "companion_finish before the code was entered on the phone".to_owned(),
            )
        })?;
        primary
            .on_companion_finish(
                &phone_key.private,
                &finish.wrapped_key_bundle,
                &finish.companion_identity_public,
            )
            .map_err(|e| {
                refusal(
                    &id,
                    401,
                    "not-authorized",
                    format!("key bundle refused (wrong code?): {}", error_chain(&e)),
                )
            })?
    };
    lock(&shared.book).forget(conn);
    let pending = pairing::issue(
        shared,
        &session.registration,
        &session.noise_pub,
        &adv_secret,
        None,
    )
    .map_err(|why| refusal(&id, 500, "internal-error", why))?;
    Ok((iq::result(&finish.id), Box::new(pending)))
}
