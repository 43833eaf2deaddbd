//! Where the connection hands messaging its work: requests from the handle become tasks of
//! the connection, and what arrives (messages, receipts, notifications) is handled in the
//! connection's loop, in arrival order.

use std::sync::Arc;

use wa_core::binary::Node;

use super::context::{Ctx, Me, ACK_TIMEOUT};
use super::notifications::on_notification;
use super::receipts::{answer_retry, on_receipt, Followup};
use super::receive::on_message;
use super::types::SendError;
use super::Request;
use crate::connection::{Conn, Phase, TaskDone};
use crate::supervisor::Supervisor;

impl Supervisor {
    /// The messaging context of a logged-in connection.
    fn messaging_ctx(&self, conn: &Conn) -> Option<Ctx> {
        if !matches!(conn.phase, Phase::Online) {
            return None;
        }
        Some(Ctx {
            handle: conn.handle.clone(),
            store: self.store.clone(),
            me: Me::from_credentials(&conn.creds)?,
            clock: self.deps.clock.clone(),
            events: self.event_sender(),
            caches: Arc::clone(&conn.messaging),
            ack_timeout: ACK_TIMEOUT.min(self.config.iq_timeout),
        })
    }

    /// A request from the handle: run it as a task of this connection, or refuse it when
    /// the connection is not logged in.
    pub(crate) fn on_messaging(&self, conn: &mut Conn, request: Request) {
        match self.messaging_ctx(conn) {
            Some(ctx) => {
                conn.tasks.spawn(async move {
                    request.run(ctx).await;
                    TaskDone::Messaging
                });
            }
            None if conn.creds.account.is_none() => request.refuse(SendError::NotLinked),
            None => request.refuse(SendError::NotConnected),
        }
    }

    /// A `<message>`: decrypted, committed, then answered with its receipt (or a retry and a
    /// nack). Before login there is nothing to decrypt with; it is only acked.
    pub(crate) async fn on_message_stanza(&self, conn: &mut Conn, node: &Node) {
        let answers = match self.messaging_ctx(conn) {
            Some(ctx) => on_message(&ctx, node),
            None => wa_core::stanza::ack::ack_for(node).into_iter().collect(),
        };
        for answer in answers {
            if conn.handle.send(answer).await.is_err() {
                return;
            }
        }
    }

    /// A `<receipt>` for one of our messages; a retry is answered by a task.
    pub(crate) fn on_receipt_stanza(&self, conn: &mut Conn, node: &Node) {
        let Some(ctx) = self.messaging_ctx(conn) else {
            return;
        };
        if let Followup::Retry(receipt) = on_receipt(&ctx, node) {
            conn.tasks.spawn(async move {
                match answer_retry(&ctx, &receipt).await {
                    Ok(Ok(())) => {}
                    Ok(Err(why)) => tracing::debug!(?why, id = %receipt.id, "retry not answered"),
                    Err(e) => {
                        tracing::warn!(error = %e, id = %receipt.id, "retry could not be answered")
                    }
                }
                TaskDone::Messaging
            });
        }
    }

    /// A notification messaging acts on (devices, w:gp2, privacy_token).
    pub(crate) fn on_messaging_notification(&self, conn: &mut Conn, node: &Node) {
        if let Some(ctx) = self.messaging_ctx(conn) {
            on_notification(&ctx, node);
        }
    }
}
