//! Where the connection hands messaging its work: requests from the handle become tasks of
//! the connection (the caller spawns the future), and what arrives — messages, receipts,
//! notifications — is handled in the connection's loop, in arrival order, with the events it
//! yields published through the engine's one outbox.

use std::future::Future;
use std::sync::{Arc, Mutex};

use wa_core::binary::Node;

use super::context::{Caches, Ctx as MsgCtx, Me, ACK_TIMEOUT};
use super::notifications;
use super::receipts::{self, answer_retry, Followup};
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

/// A `<receipt>` for one of our messages, published; a retry receipt is answered by the
/// returned task.
pub(crate) fn on_receipt(
    ctx: &Ctx,
    link: LinkParts<'_>,
    node: &Node,
) -> Option<impl Future<Output = ()> + Send + 'static> {
    let messaging = context(ctx, link).ok()?;
    let (event, followup) = receipts::on_receipt(&messaging, node);
    if let Some(event) = event {
        ctx.out().emit(event);
    }
    match followup {
        Followup::None => None,
        Followup::Retry(receipt) => Some(async move {
            match answer_retry(&messaging, &receipt).await {
                Ok(Ok(())) => {}
                Ok(Err(why)) => tracing::debug!(?why, id = %receipt.id, "retry not answered"),
                Err(e) => {
                    tracing::warn!(error = %e, id = %receipt.id, "retry could not be answered")
                }
            }
        }),
    }
}

/// A notification messaging acts on (devices, w:gp2, privacy_token).
pub(crate) fn on_notification(ctx: &Ctx, link: LinkParts<'_>, node: &Node) {
    if let Ok(messaging) = context(ctx, link) {
        notifications::on_notification(&messaging, node);
    }
}
