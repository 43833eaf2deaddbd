//! The send pipeline: resolve the chat, its devices and our own, build missing sessions,
//! encrypt per device (a group's text once under our sender key, its key pairwise to the
//! devices that lack it), and commit the encoded stanza in the transaction that advances the
//! Signal state; then transmit those bytes and read the server's ack into an [`Outcome`].
//!
//! A transmit of bytes already sent is how a lost ack is settled (messaging.md §7): the
//! devices that got the first copy refuse the second as a Signal duplicate, and nothing is
//! ever encrypted twice for one device.

use prost::Message as _;
use rand::rngs::OsRng;
use wa_core::binary::{self, Jid, Node, Server};
use wa_core::ids::participant_hash_of;
use wa_core::plaintext::pad;
use wa_core::proto::{DeviceSentMessage, Message, SenderKeyDistributionMessage};
use wa_core::signal::group::SenderKeyMessage;
use wa_core::stanza::message::{DirectMessage, GroupMessage};
use wa_core::stanza::server_ack::MessageAck;

use super::context::{address, Ctx};
use super::devices::{bundles_for_missing, devices_of, forget_devices, group_info, resolve_chat};
use super::fanout::encrypt_for;
use super::types::{rejection, Outcome, OutgoingMessage, Prepared, SendError};
use crate::clock::UnixMillis;
use crate::socket::IqError;
use crate::store::SentMessage;

/// Tokens older than this many 7-day buckets are expired (messaging.md §4.1).
const TOKEN_BUCKET_SECS: u64 = 604_800;
const TOKEN_BUCKETS: u64 = 4;

fn text_message(text: &str) -> Message {
    Message {
        conversation: Some(text.to_owned()),
        ..Default::default()
    }
}

fn encode(node: &Node) -> Result<Vec<u8>, SendError> {
    binary::encode(node).map_err(|e| SendError::Stanza(e.to_string()))
}

/// Whether a token received at `t` is still valid at `now` (unix seconds).
pub(crate) fn token_valid(t: u64, now: u64) -> bool {
    let cutoff = (now / TOKEN_BUCKET_SECS).saturating_sub(TOKEN_BUCKETS - 1) * TOKEN_BUCKET_SECS;
    t >= cutoff
}

/// The padded plaintexts of a 1:1 message: the message for the contact's devices, and the
/// device-sent copy naming the chat for our own.
pub(crate) fn direct_plaintexts(chat: &Jid, plain: Message) -> (Vec<u8>, Vec<u8>) {
    let for_peer = pad(&plain.encode_to_vec(), &mut OsRng);
    let for_own = pad(
        &Message {
            device_sent_message: Some(Box::new(DeviceSentMessage {
                destination_jid: Some(chat.to_string()),
                message: Some(Box::new(plain)),
                phash: None,
            })),
            ..Default::default()
        }
        .encode_to_vec(),
        &mut OsRng,
    );
    (for_peer, for_own)
}

/// The devices of a 1:1 chat: the contact's, then our own but this one.
pub(crate) async fn direct_devices(ctx: &Ctx, chat: &Jid) -> Result<Vec<Jid>, SendError> {
    let own_user = ctx.me.device_in(&chat.server)?.to_non_ad();
    let recipient_devices = devices_of(ctx, std::slice::from_ref(chat)).await?;
    if recipient_devices.is_empty() {
        return Err(SendError::NoDevices(chat.to_string()));
    }
    let own_devices = devices_of(ctx, std::slice::from_ref(&own_user))
        .await?
        .into_iter()
        .filter(|d| d.device != ctx.me.pn.device);
    Ok(recipient_devices.into_iter().chain(own_devices).collect())
}

/// Encrypts and commits a message; nothing leaves.
pub(crate) async fn prepare(ctx: &Ctx, message: &OutgoingMessage) -> Result<Prepared, SendError> {
    let chat = resolve_chat(ctx, &message.to).await?;
    if chat.server == Server::Group {
        prepare_group(ctx, message, chat).await
    } else {
        prepare_direct(ctx, message, chat).await
    }
}

async fn prepare_direct(
    ctx: &Ctx,
    message: &OutgoingMessage,
    chat: Jid,
) -> Result<Prepared, SendError> {
    // Every JID in the stanza in the chat's namespace (a mixed one is refused with 400).
    let own_user = ctx.me.device_in(&chat.server)?.to_non_ad();
    let all = direct_devices(ctx, &chat).await?;
    let bundles = bundles_for_missing(ctx, &all).await?;

    let plain = text_message(&message.text);
    let plain_bytes = plain.encode_to_vec();
    let (for_peer, for_own) = direct_plaintexts(&chat, plain);
    let me = ctx.me.clone();
    let now_s = ctx.now_ms() / 1000;
    let chat_text = chat.to_string();
    let own_user_text = own_user.user.clone();
    let mut store = ctx.store();
    store.signal_transaction(ctx.now_ms(), |tx| {
        let fanout = encrypt_for(tx, &me, &all, &bundles, |d| {
            if d.user == own_user_text {
                &for_own
            } else {
                &for_peer
            }
        })?;
        if !fanout
            .ciphertexts
            .iter()
            .any(|c| c.device.user == chat.user)
        {
            return Err(SendError::NoUsableDevice {
                chat: chat_text.clone(),
                skipped: fanout.refused,
            });
        }
        let token = tx
            .privacy_token(&chat_text)?
            .filter(|(_, t)| token_valid(*t, now_s))
            .map(|(token, _)| token);
        let node = DirectMessage {
            id: &message.id,
            to: &chat,
            devices: &fanout.ciphertexts,
            device_identity: &me.device_identity,
            tc_token: token.as_deref(),
        }
        .to_node();
        let stanza = encode(&node)?;
        let devices: Vec<String> = fanout
            .ciphertexts
            .iter()
            .map(|c| address(&c.device))
            .collect();
        tx.put_sent(
            &SentMessage {
                id: message.id.clone(),
                chat: chat_text.clone(),
                plaintext: plain_bytes.clone(),
                stanza: stanza.clone(),
                distribution: None,
            },
            &devices,
        )?;
        Ok(Prepared {
            id: message.id.clone(),
            chat: chat.clone(),
            stanza,
            skipped: fanout.refused,
        })
    })
}

/// The devices a group message goes to, as the group is now.
pub(crate) struct GroupDevices {
    /// The group's metadata (from the cache, or asked).
    pub info: wa_core::stanza::group::GroupInfo,
    /// Our sending device, in the group's namespace.
    pub me_device: Jid,
    /// Every member device (ours too) but the sending one, hosted ones left out.
    pub devices: Vec<Jid>,
}

impl GroupDevices {
    /// Whether the group names members by LID.
    pub fn lid_addressing(&self) -> bool {
        self.info.lid_addressing
    }

    /// The phash of the member devices plus ours (messaging.md §1.6).
    pub fn phash(&self) -> String {
        let mut set = self.devices.clone();
        set.push(self.me_device.clone());
        participant_hash_of(&set)
    }
}

pub(crate) async fn group_devices(ctx: &Ctx, group: &Jid) -> Result<GroupDevices, SendError> {
    let info = group_info(ctx, group).await?;
    let namespace = if info.lid_addressing {
        Server::Lid
    } else {
        Server::Pn
    };
    let me_device = ctx.me.device_in(&namespace)?;
    let own_user = me_device.to_non_ad();
    let mut users: Vec<Jid> = info
        .participants
        .iter()
        .map(|p| p.jid.to_non_ad())
        .collect();
    if !users.contains(&own_user) {
        users.push(own_user.clone());
    }
    let devices: Vec<Jid> = devices_of(ctx, &users)
        .await?
        .into_iter()
        // Hosted devices are not in group end-to-end encryption (messaging.md §1.2).
        .filter(|d| !matches!(d.server, Server::Hosted | Server::HostedLid))
        .filter(|d| !(d.user == own_user.user && d.device == me_device.device))
        .collect();
    Ok(GroupDevices {
        info,
        me_device,
        devices,
    })
}

/// The padded pairwise plaintext that carries our sender key of `group`.
pub(crate) fn distribution_plaintext(group: &str, skdm: Vec<u8>) -> Vec<u8> {
    pad(
        &Message {
            sender_key_distribution_message: Some(SenderKeyDistributionMessage {
                group_id: Some(group.to_owned()),
                axolotl_sender_key_distribution_message: Some(skdm),
            }),
            ..Default::default()
        }
        .encode_to_vec(),
        &mut OsRng,
    )
}

async fn prepare_group(
    ctx: &Ctx,
    message: &OutgoingMessage,
    group: Jid,
) -> Result<Prepared, SendError> {
    let target = group_devices(ctx, &group).await?;
    let own_user = target.me_device.user.clone();
    let group_text = group.to_string();
    let own_addr = address(&target.me_device);
    let holders = {
        let mut store = ctx.store();
        store.signal_transaction(ctx.now_ms(), |tx| tx.sender_key_holders(&group_text))?
    };
    // Our own devices get the key on every send (WA Web never memoizes them, §1.4).
    let need_key: Vec<Jid> = target
        .devices
        .iter()
        .filter(|d| d.user == own_user || !holders.contains(&address(d)))
        .cloned()
        .collect();
    let bundles = bundles_for_missing(ctx, &need_key).await?;
    let plain_bytes = text_message(&message.text).encode_to_vec();
    let padded = pad(&plain_bytes, &mut OsRng);
    let phash = target.phash();
    let me = ctx.me.clone();
    let mut store = ctx.store();
    store.signal_transaction(ctx.now_ms(), |tx| {
        let skdm = tx
            .own_distribution_message(&group_text, &own_addr, &mut OsRng)?
            .encode();
        let distribution = distribution_plaintext(&group_text, skdm.clone());
        let fanout = encrypt_for(tx, &me, &need_key, &bundles, |_| &distribution)?;
        let skmsg = tx.group_encrypt(&group_text, &own_addr, &padded, &mut OsRng)?;
        let node = GroupMessage {
            id: &message.id,
            group: &group,
            lid_addressing: target.lid_addressing(),
            phash: &phash,
            distribution: &fanout.ciphertexts,
            sender_key_message: &skmsg,
            device_identity: &me.device_identity,
        }
        .to_node();
        let stanza = encode(&node)?;
        // Every device that can read the skmsg: those given the key now and the holders; a
        // device whose bundle was refused is not one.
        let addressed: Vec<String> = target
            .devices
            .iter()
            .filter(|d| !fanout.refused.iter().any(|s| &s.device == *d))
            .map(address)
            .collect();
        tx.put_sent(
            &SentMessage {
                id: message.id.clone(),
                chat: group_text.clone(),
                plaintext: plain_bytes.clone(),
                stanza: stanza.clone(),
                distribution: Some(skdm),
            },
            &addressed,
        )?;
        Ok(Prepared {
            id: message.id.clone(),
            chat: group.clone(),
            stanza,
            skipped: fanout.refused,
        })
    })
}

/// Writes a prepared stanza and waits for the server's ack. The bytes the engine committed
/// last for this id are the ones sent (the same as the caller's, unless a resend had to add a
/// device); a refusal because the device list changed (409) is repaired once: the devices
/// that had the message keep their identical ciphertexts, a device added since gets a fresh
/// encryption of its own, a removed one is dropped.
pub(crate) async fn transmit(ctx: &Ctx, id: &str, stanza: &[u8]) -> Result<Outcome, SendError> {
    let stored = ctx
        .store()
        .signal_transaction(ctx.now_ms(), |tx| tx.sent(id))?;
    let bytes = match &stored {
        Some(sent) if sent.stanza != stanza => sent.stanza.as_slice(),
        _ => stanza,
    };
    let node = binary::decode(bytes).map_err(|e| SendError::Stanza(e.to_string()))?;
    if node.tag != "message" || node.attr_str("id") != Some(id) {
        return Err(SendError::Stanza(format!(
            "the stored stanza is not message {id}"
        )));
    }
    let outcome = write_once(ctx, id, &node).await?;
    let group = node
        .attr_jid("to")
        .is_some_and(|to| to.server == Server::Group);
    match (outcome, stored) {
        (Outcome::Rejected { code: 409, .. }, Some(sent)) if !group => {
            let repaired = super::resend::repair_direct(ctx, &sent, &node).await?;
            write_once(ctx, id, &repaired).await
        }
        (rejected @ Outcome::Rejected { code: 409, .. }, Some(sent)) => {
            match super::resend::repair_group(ctx, &sent, &node).await? {
                Some(repaired) => write_once(ctx, id, &repaired).await,
                None => Ok(rejected),
            }
        }
        (outcome, _) => Ok(outcome),
    }
}

/// One write and the wait for its ack.
async fn write_once(ctx: &Ctx, id: &str, node: &Node) -> Result<Outcome, SendError> {
    let chat = node.attr_jid("to").cloned();
    let answer = match ctx
        .handle
        .iq_with_timeout(node.clone(), ctx.ack_timeout)
        .await
    {
        Ok(answer) => answer,
        Err(IqError::ConnectionLost { .. } | IqError::Timeout { .. }) => {
            tracing::warn!(id, "no ack for a sent message; in doubt");
            return Ok(Outcome::InDoubt);
        }
        Err(e) => return Err(e.into()),
    };
    let ack = MessageAck::parse(&answer).map_err(|e| SendError::Stanza(e.to_string()))?;
    if ack.phash.is_some() || ack.refresh_lid {
        if let Some(chat) = &chat {
            // Our view of the devices is stale: ask again before the next send.
            tracing::info!(id, chat = %chat, "device list changed (phash); refreshing");
            if chat.server == Server::Group {
                ctx.caches().groups.remove(&chat.to_string());
            }
            let own = ctx.me.device_in(&chat.server).map(|d| d.to_non_ad()).ok();
            let mut users = vec![chat.clone()];
            users.extend(own);
            forget_devices(ctx, &users);
        }
    }
    if let Some(code) = ack.error {
        let (retryable, advice) = rejection(code);
        tracing::warn!(id, code, "message refused by the server");
        return Ok(Outcome::Rejected {
            code,
            retryable,
            advice: advice.to_owned(),
        });
    }
    let t = ack
        .t
        .map(|s| UnixMillis(s.saturating_mul(1000)))
        .unwrap_or_else(|| ctx.clock.now());
    note_acked(ctx, id, node)?;
    Ok(Outcome::Acked { t })
}

/// After the ack: the message is sent, and in a group every device given our key holds it
/// — if that key is still our current one (a resend of a message made before the key was
/// replaced hands out the old one).
fn note_acked(ctx: &Ctx, id: &str, node: &Node) -> Result<(), SendError> {
    let group = node
        .attr_jid("to")
        .filter(|j| j.server == Server::Group)
        .map(ToString::to_string);
    let skmsg_key = node
        .children_by_tag("enc")
        .find(|e| e.attr_str("type") == Some("skmsg"))
        .and_then(Node::bytes)
        .and_then(|b| SenderKeyMessage::parse(b).ok())
        .map(|m| m.key_id);
    let own = if node.attr_str("addressing_mode") == Some("lid") {
        ctx.me.lid.as_ref().map(address)
    } else {
        Some(address(&ctx.me.pn))
    };
    let holders: Vec<String> = node
        .child("participants")
        .map(|p| {
            p.children_by_tag("to")
                .filter_map(|t| t.attr_jid("jid"))
                .filter(|j| !ctx.me.is_own(j))
                .map(address)
                .collect()
        })
        .unwrap_or_default();
    let mut store = ctx.store();
    store.signal_transaction(ctx.now_ms(), |tx| {
        tx.mark_acked(id)?;
        if let (Some(group), Some(own)) = (&group, &own) {
            let current = tx.sender_key(group, own)?.current().map(|s| s.key_id());
            if current.is_some() && current == skmsg_key {
                tx.add_sender_key_holders(group, &holders)?;
            }
        }
        Ok::<_, SendError>(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_live_four_weekly_buckets() {
        let week = TOKEN_BUCKET_SECS;
        let now = 100 * week + 5;
        assert!(token_valid(now, now));
        assert!(token_valid(97 * week, now));
        assert!(!token_valid(97 * week - 1, now));
        assert!(token_valid(0, 2 * week));
    }
}
