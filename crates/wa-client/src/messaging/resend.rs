//! A resend when the chat's devices changed since the message was prepared (messaging.md
//! §7): the devices that had the message keep their identical ciphertexts (so any of them
//! that got the first copy refuses this one as a duplicate), a device added since gets a
//! fresh encryption of its own, a removed one is dropped. The new stanza is committed with
//! its one new ratchet step per added device, in place of the old one.
//!
//! In a group the text is the stored `skmsg`, unchanged for everyone; what a device added
//! since needs is the sender key it was made under, which the message stored for this.

use prost::Message as _;
use wa_core::binary::{self, Jid, Node};
use wa_core::proto::Message;
use wa_core::stanza::message::{DeviceCiphertext, DirectMessage, EncKind, GroupMessage};

use super::context::{address, Ctx};
use super::devices::bundles_for_missing;
use super::fanout::encrypt_for;
use super::send::{direct_devices, direct_plaintexts, distribution_plaintext, group_devices};
use super::types::SendError;
use crate::store::SentMessage;

/// The ciphertexts of a stanza's `<participants>`.
fn ciphertexts(node: &Node) -> Vec<DeviceCiphertext> {
    node.child("participants")
        .map(|p| {
            p.children_by_tag("to")
                .filter_map(|to| {
                    let device = to.attr_jid("jid")?.clone();
                    let enc = to.child("enc")?;
                    Some(DeviceCiphertext {
                        device,
                        kind: EncKind::parse(enc.attr_str("type")?),
                        bytes: enc.bytes()?.to_vec(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The stanza again for the chat's current devices.
pub(crate) async fn repair_direct(
    ctx: &Ctx,
    sent: &SentMessage,
    node: &Node,
) -> Result<Node, SendError> {
    let chat: Jid = node
        .attr_jid("to")
        .cloned()
        .ok_or_else(|| SendError::Stanza("the stored stanza has no recipient".into()))?;
    let current = direct_devices(ctx, &chat).await?;
    let had = ciphertexts(node);
    let kept: Vec<DeviceCiphertext> = had
        .iter()
        .filter(|c| current.contains(&c.device))
        .cloned()
        .collect();
    let added: Vec<Jid> = current
        .iter()
        .filter(|d| !had.iter().any(|c| &c.device == *d))
        .cloned()
        .collect();
    tracing::info!(
        id = %sent.id,
        kept = kept.len(),
        added = added.len(),
        dropped = had.len() - kept.len(),
        "device list changed; resending with the same ciphertexts"
    );
    let bundles = bundles_for_missing(ctx, &added).await?;
    let plain = Message::decode(sent.plaintext.as_slice())
        .map_err(|e| SendError::Stanza(format!("stored plaintext: {e}")))?;
    let (for_peer, for_own) = direct_plaintexts(&chat, plain);
    let token = node
        .child("tctoken")
        .and_then(Node::bytes)
        .map(<[u8]>::to_vec);
    let me = ctx.me.clone();
    let mut store = ctx.store();
    store.signal_transaction(ctx.now_ms(), |tx| {
        let fresh = encrypt_for(tx, &me, &added, &bundles, |d| {
            if me.is_own(d) {
                &for_own
            } else {
                &for_peer
            }
        })?;
        let mut devices = kept.clone();
        devices.extend(fresh.ciphertexts);
        let repaired = DirectMessage {
            id: &sent.id,
            to: &chat,
            devices: &devices,
            device_identity: &me.device_identity,
            tc_token: token.as_deref(),
        }
        .to_node();
        let stanza = binary::encode(&repaired).map_err(|e| SendError::Stanza(e.to_string()))?;
        let addressed: Vec<String> = devices.iter().map(|c| address(&c.device)).collect();
        tx.put_sent(
            &SentMessage {
                stanza,
                ..sent.clone()
            },
            &addressed,
        )?;
        Ok(repaired)
    })
}

/// The group stanza again for the group as it is now, or `None` when the message cannot be
/// repaired (it was stored without its distribution message, or has no skmsg): the refusal
/// then stands.
pub(crate) async fn repair_group(
    ctx: &Ctx,
    sent: &SentMessage,
    node: &Node,
) -> Result<Option<Node>, SendError> {
    let group: Jid = node
        .attr_jid("to")
        .cloned()
        .ok_or_else(|| SendError::Stanza("the stored stanza has no group".into()))?;
    let skmsg = node
        .children_by_tag("enc")
        .find(|e| e.attr_str("type") == Some("skmsg"))
        .and_then(Node::bytes)
        .map(<[u8]>::to_vec);
    let (Some(skmsg), Some(skdm)) = (skmsg, sent.distribution.clone()) else {
        tracing::warn!(id = %sent.id, "group members changed, and this message cannot be repaired");
        return Ok(None);
    };
    // The refusal says the members changed: ask the group again.
    ctx.caches().groups.remove(&group.to_string());
    let target = group_devices(ctx, &group).await?;
    let had = ciphertexts(node);
    let addressed = ctx
        .store()
        .signal_transaction(ctx.now_ms(), |tx| tx.sent_devices(&sent.id))?;
    let kept: Vec<DeviceCiphertext> = had
        .into_iter()
        .filter(|c| target.devices.contains(&c.device))
        .collect();
    // A device that was neither given the key with this message nor held it then.
    let added: Vec<Jid> = target
        .devices
        .iter()
        .filter(|d| !addressed.contains(&address(d)))
        .cloned()
        .collect();
    tracing::info!(
        id = %sent.id,
        kept = kept.len(),
        added = added.len(),
        "group members changed; resending the same skmsg"
    );
    let bundles = bundles_for_missing(ctx, &added).await?;
    let group_text = group.to_string();
    let distribution = distribution_plaintext(&group_text, skdm);
    let phash = target.phash();
    let me = ctx.me.clone();
    let mut store = ctx.store();
    store.signal_transaction(ctx.now_ms(), |tx| {
        let fresh = encrypt_for(tx, &me, &added, &bundles, |_| &distribution)?;
        let given: Vec<String> = fresh
            .ciphertexts
            .iter()
            .map(|c| address(&c.device))
            .collect();
        let mut devices = kept.clone();
        devices.extend(fresh.ciphertexts);
        let repaired = GroupMessage {
            id: &sent.id,
            group: &group,
            lid_addressing: target.lid_addressing(),
            phash: &phash,
            distribution: &devices,
            sender_key_message: &skmsg,
            device_identity: &me.device_identity,
        }
        .to_node();
        let stanza = binary::encode(&repaired).map_err(|e| SendError::Stanza(e.to_string()))?;
        tx.put_sent(
            &SentMessage {
                stanza,
                ..sent.clone()
            },
            &given,
        )?;
        Ok(Some(repaired))
    })
}
