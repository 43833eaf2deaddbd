//! The receive path (messaging.md §8): decrypt each `<enc>` in order (pairwise first: a
//! distribution message installs the key the `skmsg` after it needs), commit the new state,
//! and only then answer. A handled message is answered by its delivery receipt, which is its
//! ack; a message that does not decrypt gets a retry receipt (at most 5 per message) and a
//! nack, and the connection stays up whatever the bytes were.

use rand::rngs::OsRng;
use wa_core::binary::Node;
use wa_core::plaintext::{decode_padded, PlaintextError};
use wa_core::proto::Message;
use wa_core::signal::group::SenderKeyDistributionMessage;
use wa_core::signal::{PreKeyBundle, PreKeyRecord, SignalError};
use wa_core::stanza::message::{EncKind, IncomingMessage};
use wa_core::stanza::receipt::{
    delivery_receipt, hist_sync_receipt, DeliveryKind, RetryKeys, RetryRequest,
};

use super::context::{address, Ctx};
use crate::clock::UnixMillis;
use crate::events::EngineEvent;
use crate::store::{PairwiseKind, SignalStoreError, SignalTx};

/// Retry receipts we send for one message, at most (messaging.md §3.5).
pub const MAX_RETRY_RECEIPTS: u32 = 5;

/// What came out of one message's ciphertexts.
#[derive(Debug, Default)]
struct Opened {
    /// The text, when the message carried one.
    text: Option<String>,
    /// The chat a copy of our own message went to.
    sent_to: Option<String>,
    /// Whether some ciphertext was a replay we had already decrypted.
    duplicate: bool,
    /// Whether it was a history-sync notification from our own phone.
    history: bool,
}

/// Why a message could not be opened.
#[derive(Debug, thiserror::Error)]
enum OpenError {
    #[error(transparent)]
    Store(#[from] SignalStoreError),
    #[error(transparent)]
    Plaintext(#[from] PlaintextError),
    #[error("unsupported enc type {0}")]
    Unsupported(String),
}

impl From<crate::store::StoreError> for OpenError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Store(SignalStoreError::Store(e))
    }
}

fn nack(message: &IncomingMessage, code: u16) -> Node {
    let mut ack = Node::new("ack")
        .with_attr("class", "message")
        .with_attr("id", message.id.clone())
        .with_attr("to", message.from.clone());
    if let Some(p) = &message.participant {
        ack = ack.with_attr("participant", p.clone());
    }
    ack.with_attr("error", code.to_string())
}

/// Handles one received `<message>`: the stanzas to send back (receipt or retry + nack) and
/// the event to publish. The decrypted state is committed before this returns.
pub(crate) fn on_message(ctx: &Ctx, node: &Node) -> (Vec<Node>, Option<EngineEvent>) {
    let message = match IncomingMessage::parse(node) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "unreadable message; nacked 487");
            let nack = wa_core::stanza::ack::ack_for(node).map(|a| a.with_attr("error", "487"));
            return (nack.into_iter().collect(), None);
        }
    };
    if message.encs.is_empty() {
        // An `<unavailable>` placeholder or similar: nothing to decrypt, only an ack.
        return (
            wa_core::stanza::ack::ack_for(node).into_iter().collect(),
            None,
        );
    }
    let own = ctx.me.is_own(message.sender());
    let now = ctx.now_ms();
    let result = ctx
        .store()
        .signal_transaction(now, |tx| open(ctx, tx, &message));
    match result {
        Ok(opened) => {
            let kind = if own && message.peer {
                DeliveryKind::PeerMsg
            } else if own {
                DeliveryKind::Sender
            } else {
                DeliveryKind::Delivered
            };
            ctx.caches().retries_sent.remove(&message.id);
            let mut event = None;
            if opened.duplicate {
                tracing::debug!(id = %message.id, "a copy of a message already received; not shown again");
            } else if let Some(text) = opened.text {
                let chat = opened.sent_to.unwrap_or_else(|| message.chat().to_string());
                event = Some(EngineEvent::Message {
                    id: message.id.clone(),
                    chat,
                    sender: message.sender().to_non_ad().to_string(),
                    text,
                    t: message
                        .t
                        .map(|s| UnixMillis(s.saturating_mul(1000)))
                        .unwrap_or_else(|| ctx.clock.now()),
                });
            }
            let mut answers = vec![delivery_receipt(&message, kind)];
            if opened.history {
                answers.push(hist_sync_receipt(&message.id, &message.from));
            }
            (answers, event)
        }
        Err(OpenError::Unsupported(kind)) => {
            tracing::info!(id = %message.id, kind, "message of a kind Herald does not read; nacked 488");
            (vec![nack(&message, 488)], None)
        }
        Err(OpenError::Plaintext(e)) => {
            tracing::warn!(id = %message.id, error = %e, "decrypted to something that is not a message; nacked 491");
            (vec![nack(&message, 491)], None)
        }
        Err(OpenError::Store(e)) => {
            tracing::warn!(id = %message.id, sender = %message.sender(), error = %e, "message did not decrypt");
            (retry(ctx, &message), None)
        }
    }
}

/// Decrypts every ciphertext of the message inside the transaction.
fn open(ctx: &Ctx, tx: &mut SignalTx<'_>, message: &IncomingMessage) -> Result<Opened, OpenError> {
    let sender = message.sender();
    let sender_addr = address(sender);
    // Protocol messages count only from our own devices (whatsmeow reads them only when
    // `IsFromMe`): a contact cannot hand us mappings or tokens.
    let from_own_peer = message.peer && ctx.me.is_own(sender);
    let mut opened = Opened::default();
    for enc in &message.encs {
        let padded = match &enc.kind {
            EncKind::PreKey | EncKind::Whisper => {
                let kind = if enc.kind == EncKind::PreKey {
                    PairwiseKind::PreKey
                } else {
                    PairwiseKind::Whisper
                };
                match decrypt_pairwise(ctx, tx, &sender_addr, kind, &enc.bytes) {
                    Ok(p) => p,
                    Err(SignalStoreError::Signal(SignalError::DuplicateMessage { .. })) => {
                        opened.duplicate = true;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            EncKind::SenderKey => {
                let group = message.from.to_non_ad().to_string();
                match tx.group_decrypt(&group, &sender_addr, &enc.bytes) {
                    Ok(p) => p,
                    Err(SignalStoreError::Group(
                        wa_core::signal::group::GroupError::DuplicateOrOld { .. },
                    )) => {
                        opened.duplicate = true;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            EncKind::Other(kind) => return Err(OpenError::Unsupported(kind.clone())),
        };
        let content = decode_padded(&padded)?;
        if from_own_peer {
            read_protocol(tx, &message.id, &content, &mut opened)?;
        }
        read_content(tx, &sender_addr, content, &mut opened)?;
    }
    Ok(opened)
}

/// A pairwise decrypt; a changed identity on a prekey message is accepted (the contact
/// reinstalled), as whatsmeow does, and the decrypt tried once more.
fn decrypt_pairwise(
    ctx: &Ctx,
    tx: &mut SignalTx<'_>,
    addr: &str,
    kind: PairwiseKind,
    bytes: &[u8],
) -> Result<Vec<u8>, SignalStoreError> {
    match tx.decrypt(&ctx.me.identity, addr, kind, bytes, &mut OsRng) {
        Ok(r) => Ok(r.plaintext),
        Err(SignalStoreError::Signal(SignalError::UntrustedIdentity { received, .. }))
            if kind == PairwiseKind::PreKey =>
        {
            tracing::info!(sender = addr, "identity changed; trusting the new one");
            tx.trust_identity(addr, &received)?;
            Ok(tx
                .decrypt(&ctx.me.identity, addr, kind, bytes, &mut OsRng)?
                .plaintext)
        }
        Err(e) => Err(e),
    }
}

/// A protocol message from our own phone: a history-sync notification is read; the others
/// (app-state keys, …) are answered without being read.
fn read_protocol(
    tx: &mut SignalTx<'_>,
    id: &str,
    content: &Message,
    opened: &mut Opened,
) -> Result<(), OpenError> {
    let Some(protocol) = &content.protocol_message else {
        return Ok(());
    };
    match &protocol.history_sync_notification {
        Some(notification) => {
            super::history::apply(tx, id, notification)?;
            opened.history = true;
        }
        None => {
            tracing::debug!(
                id,
                kind = protocol.r#type().as_str_name(),
                "protocol message not read"
            )
        }
    }
    Ok(())
}

fn read_content(
    tx: &mut SignalTx<'_>,
    sender_addr: &str,
    content: Message,
    opened: &mut Opened,
) -> Result<(), OpenError> {
    if let Some(skdm) = &content.sender_key_distribution_message {
        if let (Some(group), Some(bytes)) = (
            &skdm.group_id,
            &skdm.axolotl_sender_key_distribution_message,
        ) {
            let parsed =
                SenderKeyDistributionMessage::parse(bytes).map_err(SignalStoreError::Group)?;
            tx.process_distribution(group, sender_addr, &parsed)?;
        }
    }
    let mut content = content;
    if let Some(dsm) = content.device_sent_message.take() {
        opened.sent_to = dsm.destination_jid;
        if let Some(inner) = dsm.message {
            content = *inner;
        }
    }
    let text = content
        .conversation
        .or_else(|| content.extended_text_message.and_then(|e| e.text));
    if text.is_some() {
        opened.text = text;
    }
    Ok(())
}

/// A retry receipt and a nack for a message that did not decrypt; after 5, only the nack.
fn retry(ctx: &Ctx, message: &IncomingMessage) -> Vec<Node> {
    let count = {
        let mut caches = ctx.caches();
        let n = caches.retries_sent.entry(message.id.clone()).or_insert(0);
        *n += 1;
        *n
    };
    if count > MAX_RETRY_RECEIPTS {
        return vec![nack(message, 500)];
    }
    // From the second request on, offer fresh keys so the sender can start over (§3.3).
    let keys = if count >= 2 {
        match fresh_keys(ctx) {
            Ok(keys) => Some(keys),
            Err(e) => {
                tracing::warn!(error = %e, "no fresh prekey for a retry receipt; sent without keys");
                None
            }
        }
    } else {
        None
    };
    let receipt = RetryRequest {
        message,
        count,
        registration_id: ctx.me.identity.registration_id,
        keys: keys.as_ref(),
    }
    .to_node();
    vec![receipt, nack(message, 500)]
}

/// A new one-time prekey (stored, not uploaded: it goes to the one peer) and our bundle.
fn fresh_keys(ctx: &Ctx) -> Result<RetryKeys, SignalStoreError> {
    let mut rng = OsRng;
    let added = ctx.store().add_prekeys(1, ctx.now_ms(), || {
        PreKeyRecord::generate(0, &mut rng)
            .key_pair
            .private
            .to_bytes()
    })?;
    let one = added.first().map(|(id, private)| PreKeyRecord {
        id: *id,
        key_pair: wa_core::signal::KeyPair::from_private_bytes(*private),
    });
    Ok(RetryKeys {
        bundle: PreKeyBundle::from_local(&ctx.me.identity, &ctx.me.signed_prekey, one.as_ref()),
        device_identity: ctx.me.device_identity.clone(),
    })
}
