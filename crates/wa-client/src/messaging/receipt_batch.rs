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

use tokio::sync::{mpsc, oneshot};
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

/// What the batcher is handed.
pub(crate) enum Item {
    /// A receipt to record.
    Receipt(Box<Pending>),
    /// Record what is waiting now, then say so: a retry receipt is decided on what the store
    /// says was delivered, so the delivery receipts before it must be in it.
    Flush(oneshot::Sender<()>),
}

/// Starts a batcher for one connection: where to hand receipts, and the task that records
/// them (it ends when the sender is dropped, with the connection's caches).
pub(crate) fn start(
    ctx: &Ctx,
    out: Emitter,
) -> (
    mpsc::UnboundedSender<Item>,
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

async fn run(ctx: Ctx, out: Emitter, mut rx: mpsc::UnboundedReceiver<Item>) {
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::new();
        let mut flushed = Vec::new();
        match first {
            Item::Receipt(p) => batch.push(*p),
            Item::Flush(done) => flushed.push(done),
        }
        let deadline = tokio::time::Instant::now() + BATCH_WINDOW;
        while flushed.is_empty() && batch.len() < BATCH_MAX {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(Item::Receipt(next))) => batch.push(*next),
                Ok(Some(Item::Flush(done))) => flushed.push(done),
                Ok(None) | Err(_) => break,
            }
        }
        if !batch.is_empty() && !commit(&ctx, &out, batch).await {
            return;
        }
        for done in flushed {
            let _ = done.send(());
        }
    }
}

/// Records a batch, then acks and publishes it; false once the connection is gone.
async fn commit(ctx: &Ctx, out: &Emitter, batch: Vec<Pending>) -> bool {
    if let Err(e) = record(ctx, &batch) {
        // Not acked: the server keeps them and sends them again.
        tracing::warn!(error = %e, receipts = batch.len(), "could not record receipts; left unacked");
        return true;
    }
    for pending in batch {
        if let Some(ack) = pending.ack {
            if ctx.handle.send(ack).await.is_err() {
                // The connection is gone; the rest are recorded and will come again.
                return false;
            }
        }
        out.emit(pending.event);
    }
    true
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
