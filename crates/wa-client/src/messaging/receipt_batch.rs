//! Delivery and read receipts are recorded in batches: a 50-member group answers one message
//! with about 50 receipts within milliseconds, and one fsync'd transaction each made the
//! store the bottleneck. Receipts that arrive within [`BATCH_WINDOW`] of the first of a batch
//! (at most [`BATCH_MAX`]) are committed in one transaction.
//!
//! Each receipt is acked only after the transaction that recorded it committed: until then
//! the server still holds it and sends it again after a crash or a lost connection, and
//! recording a delivery twice changes nothing. Its event is published after the commit too,
//! so what a subscriber hears of is durable.

use std::time::Duration;

use tokio::sync::mpsc;
use wa_core::binary::Node;

use super::context::Ctx;
use super::types::SendError;
use crate::events::EngineEvent;
use crate::publisher::Emitter;

/// How long a batch waits for more receipts after its first.
pub const BATCH_WINDOW: Duration = Duration::from_millis(20);
/// The most receipts in one batch.
pub const BATCH_MAX: usize = 64;

/// A receipt waiting to be recorded.
pub(crate) struct Pending {
    /// The message ids it confirms.
    pub ids: Vec<String>,
    /// The confirming device's address.
    pub device: String,
    /// Its ack, sent once recorded.
    pub ack: Option<Node>,
    /// Its event, published once recorded.
    pub event: EngineEvent,
}

/// Starts a batcher for one connection: where to hand receipts, and the task that records
/// them (it ends when the sender is dropped, with the connection's caches).
pub(crate) fn start(
    ctx: &Ctx,
    out: Emitter,
) -> (
    mpsc::UnboundedSender<Pending>,
    impl std::future::Future<Output = ()> + Send + 'static,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    // The task keeps only what it needs, not the caches that hold its sender.
    let ctx = Ctx {
        caches: Default::default(),
        ..ctx.clone()
    };
    (tx, run(ctx, out, rx))
}

async fn run(ctx: Ctx, out: Emitter, mut rx: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + BATCH_WINDOW;
        while batch.len() < BATCH_MAX {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(next)) => batch.push(next),
                Ok(None) | Err(_) => break,
            }
        }
        if let Err(e) = record(&ctx, &batch) {
            // Not acked: the server keeps them and sends them again.
            tracing::warn!(error = %e, receipts = batch.len(), "could not record receipts; left unacked");
            continue;
        }
        for pending in batch {
            if let Some(ack) = pending.ack {
                if ctx.handle.send(ack).await.is_err() {
                    // The connection is gone; the rest are recorded and will come again.
                    return;
                }
            }
            out.emit(pending.event);
        }
    }
}

/// One transaction for the whole batch.
fn record(ctx: &Ctx, batch: &[Pending]) -> Result<(), SendError> {
    ctx.store().signal_transaction(ctx.now_ms(), |tx| {
        for pending in batch {
            for id in &pending.ids {
                tx.mark_delivered(id, &pending.device)?;
            }
        }
        Ok(())
    })
}
