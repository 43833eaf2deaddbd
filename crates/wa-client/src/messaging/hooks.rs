//! Where the connection hands messaging its work: requests from the handle become tasks of
//! the connection (the caller spawns the future), and what arrives — messages, receipts,
//! notifications — is handled in the connection's loop, in arrival order, with the events it
//! yields published through the engine's one outbox.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use wa_core::binary::Node;

use super::context::{Caches, Ctx as MsgCtx, Me, ACK_TIMEOUT};
use super::notifications;
use super::receipt_batch::{self, Item};
use super::receipts::{self, answer_retry, Handled};
use super::receive;
use super::types::SendError;
use super::Request;
use crate::ctx::Ctx;
use crate::socket::SocketHandle;
use crate::store::Credentials;

/// What messaging needs of a live connection.
pub(crate) struct LinkParts<'a> {
    pub handle: &'a SocketHandle,
    pub creds: &'a Credentials,
    /// Logged in (`<success>` seen).
    pub online: bool,
    pub caches: Arc<Mutex<Caches>>,
}

fn context(ctx: &Ctx, link: LinkParts<'_>) -> Result<MsgCtx, SendError> {
    if link.creds.account.is_none() {
        return Err(SendError::NotLinked);
    }
    if !link.online {
        return Err(SendError::NotConnected);
    }
    let me = Me::from_credentials(link.creds).ok_or(SendError::NotLinked)?;
    Ok(MsgCtx {
        handle: link.handle.clone(),
        store: ctx.store().clone(),
        me,
        clock: ctx.shared_clock(),
        caches: link.caches,
        ack_timeout: ACK_TIMEOUT.min(ctx.config().iq_timeout),
    })
}

/// A request from the handle: the work to run as a task of the connection, or `None` when
/// it was refused (and answered) at once.
pub(crate) fn on_request(
    ctx: &Ctx,
    link: LinkParts<'_>,
    request: Request,
) -> Option<impl Future<Output = ()> + Send + 'static> {
    match context(ctx, link) {
        Ok(messaging) => Some(request.run(messaging)),
        Err(e) => {
            request.refuse(e);
            None
        }
    }
}

/// A `<message>`: decrypted, committed, then answered with its receipt (or a retry and a
/// nack); returns those answers. Before login there is nothing to decrypt with: only an ack.
pub(crate) fn on_message(ctx: &Ctx, link: LinkParts<'_>, node: &Node) -> Vec<Node> {
    match context(ctx, link) {
        Ok(messaging) => {
            let (answers, event) = receive::on_message(&messaging, node);
            if let Some(event) = event {
                ctx.out().emit(event);
            }
            answers
        }
        Err(_) => wa_core::stanza::ack::ack_for(node).into_iter().collect(),
    }
}

/// What the connection does with a `<receipt>`: an ack to send now (receipts that record
/// nothing, and retry receipts), and tasks to spawn (the retry's answer; the connection's
/// receipt batcher, with its first receipt).
pub(crate) struct ReceiptWork {
    pub ack_now: Option<Node>,
    pub tasks: Vec<Pin<Box<dyn Future<Output = ()> + Send + 'static>>>,
}

/// A `<receipt>` for one of our messages. A delivery or read mark is handed to the
/// connection's batcher, which records it, then acks and publishes it; a retry receipt is
/// published and acked now and answered by a task.
pub(crate) fn on_receipt(ctx: &Ctx, link: LinkParts<'_>, node: &Node) -> ReceiptWork {
    let ack = wa_core::stanza::ack::ack_for(node);
    let mut work = ReceiptWork {
        ack_now: None,
        tasks: Vec::new(),
    };
    let Ok(messaging) = context(ctx, link) else {
        work.ack_now = ack;
        return work;
    };
    match receipts::on_receipt(&messaging, node) {
        Handled::AckOnly => work.ack_now = ack,
        Handled::Record(mut pending) => {
            pending.ack = ack;
            let mut caches = messaging.caches();
            let item = Item::Receipt(Box::new(pending));
            let item = match &caches.receipts {
                Some(tx) => tx.send(item).err().map(|returned| returned.0),
                None => Some(item),
            };
            if let Some(item) = item {
                // The first receipt of this connection (or the batcher ended): start one.
                let (tx, task) = receipt_batch::start(&messaging, ctx.out().emitter());
                if tx.send(item).is_ok() {
                    caches.receipts = Some(tx);
                    work.tasks.push(Box::pin(task));
                }
            }
        }
        Handled::Retry(event, receipt) => {
            ctx.out().emit(event);
            work.ack_now = ack;
            // The delivery receipts before this one are recorded first: a device that
            // confirmed delivery is refused a resend.
            let (done, recorded) = tokio::sync::oneshot::channel();
            let flushing = messaging
                .caches()
                .receipts
                .as_ref()
                .is_some_and(|tx| tx.send(Item::Flush(done)).is_ok());
            work.tasks.push(Box::pin(async move {
                if flushing {
                    let _ = recorded.await;
                }
                match answer_retry(&messaging, &receipt).await {
                    Ok(Ok(())) => {}
                    Ok(Err(why)) => tracing::debug!(?why, id = %receipt.id, "retry not answered"),
                    Err(e) => {
                        tracing::warn!(error = %e, id = %receipt.id, "retry could not be answered")
                    }
                }
            }));
        }
    }
    work
}

/// A notification messaging acts on (devices, w:gp2, privacy_token).
pub(crate) fn on_notification(ctx: &Ctx, link: LinkParts<'_>, node: &Node) {
    if let Ok(messaging) = context(ctx, link) {
        notifications::on_notification(&messaging, node);
    }
}
