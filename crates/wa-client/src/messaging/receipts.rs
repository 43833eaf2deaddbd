//! Receipts for the messages we sent: delivery and read marks read here and recorded per
//! device in batches (`receipt_batch`), and retry receipts answered for the one device that
//! asked (messaging.md §3.4): same id, the session rebuilt from the receipt's keys when it has
//! them, at most 5 times per device, and never for a device that already confirmed delivery —
//! a second copy would show twice.

use prost::Message as _;
use rand::rngs::OsRng;
use wa_core::binary::{Jid, Server};
use wa_core::plaintext::pad;
use wa_core::proto::{DeviceSentMessage, Message, SenderKeyDistributionMessage};
use wa_core::stanza::bundle::{BundleQuery, DeviceBundle};
use wa_core::stanza::message::RetryResend;
use wa_core::stanza::receipt::{IncomingReceipt, ReceiptKind as WireKind};

use super::context::{address, Ctx};
use super::fanout::encrypt_for;
use super::types::SendError;
use crate::clock::UnixMillis;
use crate::events::{EngineEvent, ReceiptKind};
use crate::store::RetryVerdict;

use super::receipt_batch::Pending;

/// What a receipt asks of the connection.
pub(crate) enum Handled {
    /// Nothing to record (unreadable, or not about delivery): ack it.
    AckOnly,
    /// A delivery, read or played mark to record; acked and published once committed.
    Record(Pending),
    /// A retry receipt: publish and ack it now, answer it in a task.
    Retry(EngineEvent, Box<IncomingReceipt>),
}

/// Reads a receipt and says what to do with it. Nothing is stored here: marks are recorded
/// in batches (`receipt_batch`), before their acks go out.
pub(crate) fn on_receipt(ctx: &Ctx, node: &wa_core::binary::Node) -> Handled {
    let receipt = match IncomingReceipt::parse(node) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "unreadable receipt; acked only");
            return Handled::AckOnly;
        }
    };
    let kind = match &receipt.kind {
        WireKind::Delivered | WireKind::Sender => ReceiptKind::Delivered,
        WireKind::Read => ReceiptKind::Read,
        WireKind::Played => ReceiptKind::Played,
        WireKind::Retry => ReceiptKind::Retry,
        WireKind::Other(other) => {
            tracing::debug!(kind = other, "receipt not about delivery; acked only");
            return Handled::AckOnly;
        }
    };
    let device = receipt.device().clone();
    let event = EngineEvent::Receipt {
        ids: receipt.ids.clone(),
        kind,
        device: device.to_string(),
        t: receipt
            .t
            .map(|s| UnixMillis(s.saturating_mul(1000)))
            .unwrap_or_else(|| ctx.clock.now()),
    };
    if kind == ReceiptKind::Retry {
        return Handled::Retry(event, Box::new(receipt));
    }
    Handled::Record(Pending {
        ids: receipt.ids,
        device: address(&device),
        ack: None,
        event,
    })
}

/// Why a retry receipt was not answered.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NotAnswered {
    AlreadyDelivered,
    TooMany,
    Unknown,
}

/// Answers a retry receipt: the message again for that device alone.
pub(crate) async fn answer_retry(
    ctx: &Ctx,
    receipt: &IncomingReceipt,
) -> Result<Result<(), NotAnswered>, SendError> {
    let Some(retry) = &receipt.retry else {
        return Ok(Err(NotAnswered::Unknown));
    };
    let device = receipt.device().clone();
    let addr = address(&device);
    let id = receipt.id.clone();
    let (verdict, sent) = ctx.store().signal_transaction(ctx.now_ms(), |tx| {
        let verdict = tx.note_retry(&id, &addr)?;
        Ok::<_, SendError>((verdict, tx.sent(&id)?))
    })?;
    let count = match verdict {
        RetryVerdict::Allowed(n) => n,
        RetryVerdict::AlreadyDelivered => {
            tracing::info!(id, device = %device, "retry refused: that device already has the message");
            return Ok(Err(NotAnswered::AlreadyDelivered));
        }
        RetryVerdict::TooMany => {
            tracing::info!(id, device = %device, "retry refused: the device had its retries");
            return Ok(Err(NotAnswered::TooMany));
        }
        RetryVerdict::Unknown => return Ok(Err(NotAnswered::Unknown)),
    };
    let Some(sent) = sent else {
        return Ok(Err(NotAnswered::Unknown));
    };
    let chat: Jid = sent
        .chat
        .parse()
        .map_err(|_| SendError::Stanza(format!("stored chat {:?} is not a JID", sent.chat)))?;
    let original = Message::decode(sent.plaintext.as_slice())
        .map_err(|e| SendError::Stanza(format!("stored plaintext: {e}")))?;
    let is_group = chat.server == Server::Group;

    // The session: from the receipt's keys when it has them (always a fresh pkmsg), else the
    // one we have, else a new bundle.
    let bundles: Vec<DeviceBundle> = match &retry.bundle {
        Some(bundle) => vec![DeviceBundle {
            device: device.clone(),
            bundle: Ok(bundle.clone()),
        }],
        None => {
            let has_session = ctx.store().signal_transaction(ctx.now_ms(), |tx| {
                Ok::<_, SendError>(tx.session(&addr)?.is_some_and(|s| s.has_current()))
            })?;
            if has_session {
                Vec::new()
            } else {
                ctx.handle
                    .query(&BundleQuery {
                        devices: vec![device.clone()],
                        rebuild: true,
                    })
                    .await?
            }
        }
    };
    let me = ctx.me.clone();
    let group_text = chat.to_string();
    let node = ctx.store().signal_transaction(ctx.now_ms(), |tx| {
        let content = if is_group {
            let own_addr = address(&me.device_in(&device.server)?);
            let skdm = tx.own_distribution_message(&group_text, &own_addr, &mut OsRng)?;
            tx.clear_sender_key_holders(&group_text, Some(&addr))?;
            Message {
                sender_key_distribution_message: Some(SenderKeyDistributionMessage {
                    group_id: Some(group_text.clone()),
                    axolotl_sender_key_distribution_message: Some(skdm.encode()),
                }),
                ..original.clone()
            }
        } else if me.is_own(&device) {
            Message {
                device_sent_message: Some(Box::new(DeviceSentMessage {
                    destination_jid: Some(group_text.clone()),
                    message: Some(Box::new(original.clone())),
                    phash: None,
                })),
                ..Default::default()
            }
        } else {
            original.clone()
        };
        let padded = pad(&content.encode_to_vec(), &mut OsRng);
        let fanout = encrypt_for(tx, &me, std::slice::from_ref(&device), &bundles, |_| {
            &padded
        })?;
        let Some(ct) = fanout.ciphertexts.into_iter().next() else {
            return Err(SendError::NoUsableDevice {
                chat: device.to_string(),
                skipped: fanout.refused,
            });
        };
        let own_copy = !is_group && me.is_own(&device);
        Ok(RetryResend {
            id: &id,
            to: if is_group { &chat } else { &device },
            participant: is_group.then_some(&device),
            recipient: own_copy.then_some(&chat),
            kind: ct.kind,
            bytes: &ct.bytes,
            count: retry.count,
            device_identity: &me.device_identity,
        }
        .to_node())
    })?;
    tracing::info!(id, device = %device, count, "answering a retry receipt");
    ctx.handle
        .send(node)
        .await
        .map_err(|_| SendError::NotConnected)?;
    Ok(Ok(()))
}
