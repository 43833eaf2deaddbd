//! Who a message goes to, device by device: phone numbers resolved with a contact query,
//! device lists from usync (cached for the connection, dropped on a `devices` notification or
//! a phash mismatch), group members from `w:g2` (cached, dropped on `w:gp2`), and the sessions
//! a device without one gets from its prekey bundle.

use std::time::Duration;

use wa_core::binary::{Jid, Server};
use wa_core::pair::code::PhoneNumber;
use wa_core::stanza::bundle::{BundleQuery, DeviceBundle};
use wa_core::stanza::group::{GroupInfo, GroupInfoQuery};
use wa_core::stanza::usync::{ContactQuery, ContactResult, DevicesQuery};

use super::context::{address, Ctx};
use super::types::{Recipient, SendError};
use crate::socket::IqError;
use crate::store::{SignalStoreError, StoreError};

/// The chat a recipient is: a user (a phone number resolved first) or a group.
pub(crate) async fn resolve_chat(ctx: &Ctx, to: &Recipient) -> Result<Jid, SendError> {
    match to {
        Recipient::User(jid) | Recipient::Group(jid) => Ok(jid.to_non_ad()),
        Recipient::Phone(phone) => {
            let user = Jid::new(phone.as_str(), Server::Pn);
            let known = ctx
                .store()
                .signal_transaction(ctx.now_ms(), |tx| tx.lid_of(&user.to_string()))?;
            if known.is_some() {
                // Asked before and on WhatsApp: no need to ask again.
                return Ok(user);
            }
            match ask_contact::<SendError>(ctx, phone, None).await? {
                // A number goes out as its phone-number user: 1:1 chats use the LID
                // namespace only when the account is LID-migrated (messaging.md §6.1), and
                // Herald holds no such flag, so a LID in the answer is only remembered.
                Some(found) if found.on_whatsapp => Ok(user),
                _ => Err(SendError::NotOnWhatsApp(phone.as_str().to_owned())),
            }
        }
    }
}

/// Asks WhatsApp about one number with the contact query (within `timeout`, else the
/// configured IQ timeout) and remembers the LID the answer carries. `None`: the server did
/// not list the number at all.
pub(crate) async fn ask_contact<E>(
    ctx: &Ctx,
    phone: &PhoneNumber,
    timeout: Option<Duration>,
) -> Result<Option<ContactResult>, E>
where
    E: From<IqError> + From<SignalStoreError> + From<StoreError>,
{
    let query = ContactQuery {
        sid: ctx.sid(),
        phones: vec![format!("+{}", phone.as_str())],
    };
    let answer = match timeout {
        Some(t) => ctx.handle.query_with_timeout(&query, t).await?,
        None => ctx.handle.query(&query).await?,
    };
    // One number asked, one user answered; should a server list more, the one that has
    // WhatsApp is the answer.
    let found = answer
        .iter()
        .find(|c| c.on_whatsapp)
        .or(answer.first())
        .cloned();
    if let Some(found) = found.as_ref().filter(|c| c.on_whatsapp) {
        // The LID comes in `<lid>`, or as the answer's own JID from a server that answers
        // in the LID namespace; either way it is the LID of the number asked.
        let lid = found
            .lid
            .as_ref()
            .or((found.jid.server == Server::Lid).then_some(&found.jid));
        if let Some(lid) = lid {
            remember_lid::<E>(ctx, &Jid::new(phone.as_str(), Server::Pn), lid)?;
        }
    }
    Ok(found)
}

fn remember_lid<E>(ctx: &Ctx, pn: &Jid, lid: &Jid) -> Result<(), E>
where
    E: From<SignalStoreError> + From<StoreError>,
{
    let (pn, lid) = (pn.to_non_ad().to_string(), lid.to_non_ad().to_string());
    ctx.store()
        .signal_transaction(ctx.now_ms(), |tx| tx.put_lid(&pn, &lid).map_err(E::from))?;
    Ok(())
}

/// Every device of `users` (bare JIDs), from the cache or one usync for those not cached.
pub(crate) async fn devices_of(ctx: &Ctx, users: &[Jid]) -> Result<Vec<Jid>, SendError> {
    let missing: Vec<Jid> = {
        let caches = ctx.caches();
        users
            .iter()
            .filter(|u| !caches.devices.contains_key(&u.to_string()))
            .cloned()
            .collect()
    };
    if !missing.is_empty() {
        let answer = ctx
            .handle
            .query(&DevicesQuery {
                sid: ctx.sid(),
                users: missing.clone(),
            })
            .await?;
        for user in &answer {
            if let (Server::Pn, Some(lid)) = (&user.user.server, &user.lid) {
                remember_lid::<SendError>(ctx, &user.user, lid)?;
            }
        }
        let mut caches = ctx.caches();
        for user in answer {
            caches.devices.insert(user.user.to_string(), user.devices);
        }
        // A user the server did not list has no devices; cache that too.
        for user in missing {
            caches.devices.entry(user.to_string()).or_default();
        }
    }
    let caches = ctx.caches();
    Ok(users
        .iter()
        .flat_map(|u| {
            caches
                .devices
                .get(&u.to_string())
                .cloned()
                .unwrap_or_default()
        })
        .collect())
}

/// Forgets the cached devices of `users`.
pub(crate) fn forget_devices(ctx: &Ctx, users: &[Jid]) {
    let mut caches = ctx.caches();
    for u in users {
        caches.devices.remove(&u.to_non_ad().to_string());
    }
}

/// A group's metadata, cached.
pub(crate) async fn group_info(ctx: &Ctx, group: &Jid) -> Result<GroupInfo, SendError> {
    if let Some(info) = ctx.caches().groups.get(&group.to_string()) {
        return Ok(info.clone());
    }
    let info = match ctx
        .handle
        .query(&GroupInfoQuery {
            group: group.clone(),
        })
        .await
    {
        Ok(info) => info,
        Err(IqError::ServerError { code: 404, .. }) => {
            return Err(SendError::Group {
                group: group.to_string(),
                reason: "not found",
            })
        }
        Err(IqError::ServerError { code: 403, .. }) => {
            return Err(SendError::Group {
                group: group.to_string(),
                reason: "this account is not a member",
            })
        }
        Err(e) => return Err(e.into()),
    };
    for p in &info.participants {
        if let Some(other) = &p.other {
            match (&p.jid.server, &other.server) {
                (Server::Lid, Server::Pn) => remember_lid::<SendError>(ctx, other, &p.jid)?,
                (Server::Pn, Server::Lid) => remember_lid::<SendError>(ctx, &p.jid, other)?,
                _ => {}
            }
        }
    }
    ctx.caches().groups.insert(group.to_string(), info.clone());
    Ok(info)
}

/// The devices among `devices` with no session yet, and the bundles the server has for them.
pub(crate) async fn bundles_for_missing(
    ctx: &Ctx,
    devices: &[Jid],
) -> Result<Vec<DeviceBundle>, SendError> {
    let missing: Vec<Jid> = {
        let mut store = ctx.store();
        store.signal_transaction(ctx.now_ms(), |tx| {
            let mut missing = Vec::new();
            for d in devices {
                if !tx.session(&address(d))?.is_some_and(|s| s.has_current()) {
                    missing.push(d.clone());
                }
            }
            Ok::<_, SendError>(missing)
        })?
    };
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    Ok(ctx
        .handle
        .query(&BundleQuery {
            devices: missing,
            rebuild: false,
        })
        .await?)
}
