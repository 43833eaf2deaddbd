//! The linked account's phone syncs history to a companion that just linked (messaging.md
//! §8): once the companion has uploaded its prekeys, the phone sends it a `category="peer"`
//! protocol message with a `HistorySyncNotification` whose initial bootstrap is inline. The
//! history carries what a sender needs: every account's LID mapping, for every contact a 1:1
//! conversation with the privacy token that contact issued to the linked account (issued now
//! if it had none, as a contact one has chatted with has), and the account's NCT salt. It
//! carries no messages.

use std::io::Write as _;

use prost::Message as _;
use rand_core::{OsRng, RngCore as _};
use wa_core::binary::{Jid, Node, Server};
use wa_core::proto::e2e::{history_sync_notification, protocol_message};
use wa_core::proto::history::{history_sync, Conversation, HistorySync, PhoneNumberToLidMapping};
use wa_core::proto::{HistorySyncNotification, Message, ProtocolMessage};

use crate::peer;
use crate::relay::deliver::to_real;
use crate::relay::outgoing::{bundle_for, put_device, take_device, SendError};
use crate::shared::faults::lock;
use crate::shared::registry::now_unix;
use crate::shared::state::StateData;
use crate::shared::world::{derive, DeviceAddr, Sent, World};
use crate::shared::Shared;

/// The history chunk the phone sends, made from the world as it is.
fn bootstrap(world: &mut World, linked: &str) -> HistorySync {
    let t = now_unix();
    let mut mappings = Vec::new();
    let mut conversations = Vec::new();
    for account in world.accounts.values_mut() {
        mappings.push(PhoneNumberToLidMapping {
            pn_jid: Some(Jid::new(account.pn.clone(), Server::Pn).to_string()),
            lid_jid: Some(Jid::new(account.lid.clone(), Server::Lid).to_string()),
        });
        if account.pn == linked {
            continue;
        }
        let token = account
            .issued_token
            .get_or_insert_with(|| {
                let mut token = vec![0u8; 24];
                OsRng.fill_bytes(&mut token);
                token
            })
            .clone();
        conversations.push(Conversation {
            id: Some(account.user_jid(account.addressing).to_string()),
            tc_token: Some(token),
            tc_token_timestamp: Some(t),
            tc_token_sender_timestamp: None,
        });
    }
    HistorySync {
        sync_type: Some(history_sync::HistorySyncType::InitialBootstrap as i32),
        conversations,
        chunk_order: Some(0),
        progress: Some(100),
        phone_number_to_lid_mappings: mappings,
        nct_salt: Some(derive(&world.seed, &[b"nct salt"]).to_vec()),
    }
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}

/// The phone sends the history-sync notification to the linked account's real device `to`;
/// returns the message id.
pub(crate) fn send(
    shared: &Shared,
    store: &mut StateData,
    world: &mut World,
    to: &DeviceAddr,
) -> Result<String, SendError> {
    let linked = store.phone.number.clone();
    let phone = DeviceAddr::new(linked.clone(), 0);
    let sync = bootstrap(world, &linked);
    let message = Message {
        protocol_message: Some(ProtocolMessage {
            r#type: Some(protocol_message::Type::HistorySyncNotification as i32),
            history_sync_notification: Some(HistorySyncNotification {
                sync_type: Some(
                    history_sync_notification::HistorySyncType::InitialBootstrap as i32,
                ),
                chunk_order: Some(0),
                progress: Some(100),
                initial_hist_bootstrap_inline_payload: Some(deflate(&sync.encode_to_vec())),
                ..HistorySyncNotification::default()
            }),
        }),
        ..Message::default()
    };
    let id = wa_core::ids::new_message_id(&mut OsRng, now_unix(), &linked);
    let mut device = take_device(world, &phone)?;
    let encrypted = peer::encrypt_for(&mut device, to, || bundle_for(world, store, to), &message)
        .map_err(|source| SendError::Encrypt {
            device: to.to_string(),
            source,
        });
    if encrypted.is_ok() {
        device.log.sent.insert(
            id.clone(),
            Sent {
                id: id.clone(),
                chat: Jid::new(linked.clone(), Server::Pn).to_string(),
                ..Sent::default()
            },
        );
    }
    put_device(world, &phone, device);
    let (kind, bytes) = encrypted?;
    let node = Node::new("message")
        .with_attr("from", Jid::new(linked, Server::Pn))
        .with_attr("id", id.clone())
        .with_attr("t", now_unix().to_string())
        .with_attr("type", "text")
        .with_attr("category", "peer")
        .with_children(vec![Node::new("enc")
            .with_attr("v", "2")
            .with_attr("type", kind)
            .with_bytes(bytes)]);
    to_real(shared, world, to, node);
    Ok(id)
}

/// After a real device's prekey upload: a companion of the linked account gets its history
/// once, when the simulator is configured to send it.
pub(crate) fn after_pre_key_upload(shared: &Shared, device_jid: &str) {
    if !shared.config.history_sync {
        return;
    }
    let Ok(jid) = device_jid.parse::<Jid>() else {
        return;
    };
    let to = DeviceAddr::new(jid.user, jid.device);
    let mut store = lock(&shared.store);
    let mut world = lock(&shared.world);
    if to.pn != store.data.phone.number || !world.history_synced.insert(to.clone()) {
        return;
    }
    match send(shared, &mut store.data, &mut world, &to) {
        Ok(id) => tracing::info!(device = %to, id, "phone sent the history sync"),
        Err(e) => tracing::warn!(device = %to, error = %e, "phone could not send the history sync"),
    }
    if let Err(e) = store.save() {
        tracing::error!(error = %e, "could not persist used prekeys");
    }
}
