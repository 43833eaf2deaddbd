//! IQs of a logged-in device (protocol.md §6–§7): ping (with or without `<ping/>`), prekeys,
//! passive/active, and `remove-companion-device`. Anything else is answered with an error and
//! logged, so a client developer sees what is not simulated.

use wa_core::binary::{Jid, Node, Server};

use crate::prekeys;
use crate::relay::deliver::take_offline;
use crate::shared::events::SimEvent;
use crate::shared::faults::{lock, KickKind};
use crate::shared::registry::{now_unix, Count};
use crate::shared::world::DeviceAddr;
use crate::shared::ConnCommand;
use crate::shared::Shared;

/// A logged-in connection's state.
pub(crate) struct LoginSession {
    /// The device JID, the key of its record in the store.
    pub(crate) jid: String,
    pub(crate) active: bool,
    pub(crate) offline_sent: bool,
}

/// What to send back.
#[derive(Default)]
pub(crate) struct IqResponse {
    pub(crate) reply: Option<Node>,
    /// Sent after the reply.
    pub(crate) then: Vec<Node>,
    /// Close with this stream error and outcome after the reply.
    pub(crate) close: Option<(Node, String)>,
}

impl IqResponse {
    fn reply(node: Node) -> Self {
        Self {
            reply: Some(node),
            ..Self::default()
        }
    }
}

pub(crate) use crate::iq_reply::{error, result, server};

/// A keepalive ping: `xmlns="w:p" type="get"`, no child (whatsmeow) or `<ping/>` (Baileys).
pub(crate) fn is_ping(iq: &Node) -> bool {
    iq.attr_str("xmlns") == Some("w:p")
        && iq.attr_str("type") == Some("get")
        && match iq.children() {
            [] => true,
            [only] => only.tag == "ping",
            _ => false,
        }
}

/// The pong, with the server time the clients use for clock skew.
pub(crate) fn pong(id: &str) -> Node {
    result(id).with_attr("t", now_unix().to_string())
}

/// Answers one `get`/`set` IQ of a logged-in device.
pub(crate) fn handle(
    shared: &Shared,
    conn: u64,
    session: &mut LoginSession,
    iq: &Node,
    id: &str,
) -> IqResponse {
    let xmlns = iq.attr_str("xmlns").unwrap_or("");
    let iq_type = iq.attr_str("type").unwrap_or("");
    let first = iq.children().first().map(|c| c.tag.as_ref()).unwrap_or("");
    match (xmlns, iq_type, first) {
        ("encrypt", "get", "count") => {
            let n = prekeys::count(shared, &session.jid);
            IqResponse::reply(
                result(id)
                    .with_children(vec![Node::new("count").with_attr("value", n.to_string())]),
            )
        }
        ("encrypt", "get", "digest") => match prekeys::digest(shared, &session.jid) {
            Some(digest) => IqResponse::reply(result(id).with_children(vec![digest])),
            None => IqResponse::reply(error(id, 404, "item-not-found")),
        },
        ("encrypt", "set", "rotate") => {
            match prekeys::rotate(shared, &session.jid, &iq.children()[0]) {
                Ok(()) => IqResponse::reply(result(id)),
                Err(e) => refused(shared, conn, id, "signed prekey rotation", &e),
            }
        }
        ("encrypt", "set", _) if iq.child("list").is_some() => {
            let max = shared.config.max_pre_keys_per_upload;
            match prekeys::upload(shared, &session.jid, iq, max) {
                Ok(count) => {
                    tracing::info!(conn, count, "prekeys uploaded");
                    shared
                        .events
                        .emit(SimEvent::PreKeysUploaded { conn, count });
                    crate::history::after_pre_key_upload(shared, &session.jid);
                    IqResponse::reply(result(id))
                }
                Err(e) => refused(shared, conn, id, "prekey upload", &e),
            }
        }
        ("passive", "set", mode @ ("active" | "passive")) => {
            session.active = mode == "active";
            let active = session.active;
            lock(&shared.registry).update(conn, |info| info.active = active);
            tracing::info!(conn, mode, "client switched mode");
            let mut response = IqResponse::reply(result(id));
            // Offline delivery starts when the client goes active: what was queued while it
            // was away, in order, then the end marker with the count.
            if active && !session.offline_sent {
                session.offline_sent = true;
                let queued = match session.jid.parse::<Jid>() {
                    Ok(jid) => {
                        let device = DeviceAddr::new(jid.user, jid.device);
                        take_offline(&mut lock(&shared.world), &device)
                    }
                    Err(_) => Vec::new(),
                };
                let count = queued.len();
                response.then.extend(queued);
                response
                    .then
                    .push(
                        Node::new("ib")
                            .with_attr("from", server())
                            .with_children(vec![
                                Node::new("offline").with_attr("count", count.to_string())
                            ]),
                    );
            }
            response
        }
        ("md", "set", "remove-companion-device") => remove_device(shared, conn, session, iq, id),
        ("usync", "get", _) => {
            let asks_numbers = iq
                .child("usync")
                .and_then(|u| u.child("query"))
                .is_some_and(|q| q.child("contact").is_some());
            if asks_numbers {
                lock(&shared.registry).count(crate::shared::registry::Count::ContactLookup);
            }
            let store = lock(&shared.store);
            let world = lock(&shared.world);
            IqResponse::reply(crate::usync::usync(&world, &store.data, iq, id))
        }
        ("encrypt", "get", "key") => {
            let mut store = lock(&shared.store);
            let mut world = lock(&shared.world);
            let reply = crate::usync::bundles(&mut world, &mut store.data, iq, id);
            if let Err(e) = store.save() {
                tracing::error!(error = %e, "could not persist served prekeys");
            }
            IqResponse::reply(reply)
        }
        ("w:g2", _, _) => {
            let store = lock(&shared.store);
            let mut world = lock(&shared.world);
            let pn = session
                .jid
                .split([':', '@'])
                .next()
                .unwrap_or("")
                .to_owned();
            IqResponse::reply(crate::groups::handle(
                shared,
                &store.data,
                &mut world,
                &pn,
                iq,
                id,
            ))
        }
        // Issuing our privacy token to a contact (messaging.md §4.1): accepted; the contact's
        // own token reaches us with the `privacy_token` notification.
        ("privacy", "set", "tokens") => IqResponse::reply(result(id)),
        _ => {
            tracing::info!(conn, %iq, "iq not simulated; answered 501");
            IqResponse::reply(error(id, 501, "feature-not-implemented"))
        }
    }
}

fn refused(
    shared: &Shared,
    conn: u64,
    id: &str,
    what: &'static str,
    why: &dyn std::error::Error,
) -> IqResponse {
    lock(&shared.registry).count(Count::Rejection);
    tracing::warn!(conn, what, reason = %why, "refused");
    IqResponse::reply(error(id, 400, "bad-request"))
}

fn remove_device(
    shared: &Shared,
    conn: u64,
    session: &LoginSession,
    iq: &Node,
    id: &str,
) -> IqResponse {
    let target = iq.children()[0]
        .attr("jid")
        .map(ToString::to_string)
        .and_then(|t| t.parse::<Jid>().ok());
    let removed = {
        let mut store = lock(&shared.store);
        // A companion removes a device of its own account, never the phone.
        let own_user = session
            .jid
            .split([':', '@'])
            .next()
            .unwrap_or("")
            .to_owned();
        let ours = target
            .as_ref()
            .filter(|j| j.user == own_user && j.device != 0);
        let removed = ours.and_then(|j| {
            let key = Jid::with_device(j.user.clone(), j.device, Server::Pn).to_string();
            store.data.devices.remove(&key)
        });
        if removed.is_some() {
            if let Err(e) = store.save() {
                tracing::error!(error = %e, "could not persist a device removal");
            }
        }
        removed
    };
    let Some(removed) = removed else {
        lock(&shared.registry).count(Count::Rejection);
        tracing::warn!(conn, %iq, "remove-companion-device names no device paired here");
        return IqResponse::reply(error(id, 404, "item-not-found"));
    };
    tracing::info!(conn, device = %removed.jid, "device removed by a companion");
    let others = lock(&shared.registry).logged_in_as(&removed.jid);
    for other in others.into_iter().filter(|&c| c != conn) {
        shared.command(other, ConnCommand::Kick(KickKind::DeviceRemoved));
    }
    let mut response = IqResponse::reply(result(id));
    if removed.jid == session.jid {
        response.close = Some((
            KickKind::DeviceRemoved.stream_error(),
            "stream error 401 device_removed (removed itself)".to_owned(),
        ));
    }
    response
}
