//! Sending and receiving end-to-end encrypted text messages, 1:1 and in groups
//! (messaging.md): the send pipeline with its committed stanza and typed [`Outcome`], the
//! receive path and its receipts, retry receipts both ways, and the notifications that change
//! who a message goes to.
//!
//! Requests from the handle run as tasks of the current connection; what arrives is handled
//! in the connection's loop, in order, each message's state committed before it is answered.

mod context;
mod devices;
mod fanout;
mod history;
mod hooks;
mod lookup;
mod notifications;
mod receipt_batch;
mod receipts;
mod receive;
mod resend;
mod send;
pub mod types;

use tokio::sync::oneshot;
use wa_core::pair::code::PhoneNumber;
use wa_core::stanza::group::GroupInfo;
use wa_core::stanza::group::ParticipatingGroupsQuery;

pub(crate) use context::Caches;
pub use context::ACK_TIMEOUT;
pub(crate) use hooks::{on_message, on_notification, on_receipt, on_request, LinkParts};
pub use lookup::{Contact, LookupError, LOOKUP_TIMEOUT};
pub use receipt_batch::{BATCH_MAX, BATCH_WINDOW};
pub use receive::MAX_RETRY_RECEIPTS;
pub use types::{
    rejection, Outcome, OutgoingMessage, Prepared, Recipient, RecipientError, SendError,
    SkipReason, SkippedDevice,
};

use context::Ctx;

/// A message sent: what was committed, and how the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The committed stanza (keep it to transmit again if the outcome is in doubt).
    pub prepared: Prepared,
    /// The server's answer.
    pub outcome: Outcome,
}

/// A messaging request from the handle.
pub(crate) enum Request {
    Send {
        message: OutgoingMessage,
        reply: oneshot::Sender<Result<Sent, SendError>>,
    },
    Prepare {
        message: OutgoingMessage,
        reply: oneshot::Sender<Result<Prepared, SendError>>,
    },
    Transmit {
        id: String,
        stanza: Vec<u8>,
        reply: oneshot::Sender<Result<Outcome, SendError>>,
    },
    Groups {
        reply: oneshot::Sender<Result<Vec<GroupInfo>, SendError>>,
    },
    Lookup {
        phone: PhoneNumber,
        reply: oneshot::Sender<Result<Contact, LookupError>>,
    },
}

impl Request {
    /// Answers without running: the engine cannot do it now.
    pub(crate) fn refuse(self, error: SendError) {
        match self {
            Request::Send { reply, .. } => {
                let _ = reply.send(Err(error));
            }
            Request::Prepare { reply, .. } => {
                let _ = reply.send(Err(error));
            }
            Request::Transmit { reply, .. } => {
                let _ = reply.send(Err(error));
            }
            Request::Groups { reply } => {
                let _ = reply.send(Err(error));
            }
            Request::Lookup { reply, .. } => {
                let _ = reply.send(Err(LookupError::refused(error)));
            }
        }
    }

    async fn run(self, ctx: Ctx) {
        match self {
            Request::Send { message, reply } => {
                let result = async {
                    let prepared = send::prepare(&ctx, &message).await?;
                    let outcome = send::transmit(&ctx, &prepared.id, &prepared.stanza).await?;
                    Ok(Sent { prepared, outcome })
                }
                .await;
                let _ = reply.send(result);
            }
            Request::Prepare { message, reply } => {
                let _ = reply.send(send::prepare(&ctx, &message).await);
            }
            Request::Transmit { id, stanza, reply } => {
                let _ = reply.send(send::transmit(&ctx, &id, &stanza).await);
            }
            Request::Groups { reply } => {
                let result = ctx
                    .handle
                    .query(&ParticipatingGroupsQuery)
                    .await
                    .map_err(SendError::from);
                let _ = reply.send(result);
            }
            Request::Lookup { phone, reply } => {
                let _ = reply.send(lookup::lookup(&ctx, &phone).await);
            }
        }
    }
}
