//! A 1:1 resend when the recipient's devices changed since the message was prepared
//! (messaging.md §7): the devices that had the message keep their identical ciphertexts (so
//! any of them that got the first copy refuses this one as a duplicate), a device added since
//! gets a fresh encryption of its own, a removed one is dropped. The new stanza is committed
//! with its one new ratchet step per added device, in place of the old one.

use prost::Message as _;
use wa_core::binary::{self, Jid, Node};
use wa_core::proto::Message;
use wa_core::stanza::message::{DeviceCiphertext, DirectMessage, EncKind};

use super::context::{address, Ctx};
use super::devices::bundles_for_missing;
use super::fanout::encrypt_for;
use super::send::{direct_devices, direct_plaintexts};
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
