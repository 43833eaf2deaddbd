//! Frames and Noise over a [`Link`]: the handshake (`handshake.rs`), then a reader task and a
//! writer task (`loops.rs`), and the handle other tasks send and run IQs with (`iq.rs`).
//!
//! The reader decrypts and decodes every frame, notes that something arrived (for the
//! dead-socket rule), answers IQ waiters by id, acks every stanza wa-core says needs one at
//! once (un-acked stanzas make the server recycle the stream, protocol.md §9.7), and passes
//! everything else to the supervisor. When the link ends, every waiting IQ fails with
//! [`IqError::ConnectionLost`] and the supervisor gets one [`Inbound::Closed`] with the reason.

mod activity;
mod handshake;
mod iq;
mod loops;

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wa_core::binary::Node;
use wa_core::disconnect::CloseReason;

pub use activity::Activity;
pub use handshake::{HandshakeFailure, HandshakeParams};
pub use iq::{IqError, SocketClosed, SocketHandle};

/// Nodes queued for the writer before senders wait.
const WRITE_QUEUE: usize = 256;
/// Inbound stanzas queued for the supervisor.
const INBOUND_QUEUE: usize = 256;

/// What the reader hands the supervisor.
#[derive(Debug)]
pub enum Inbound {
    /// A stanza no IQ waiter claimed.
    Node(Node),
    /// The connection ended; nothing follows.
    Closed(CloseReason),
}

/// The open socket: owned by the supervisor alone.
pub struct Socket {
    handle: SocketHandle,
    inbound: mpsc::Receiver<Inbound>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
    pump: Option<JoinHandle<()>>,
}

impl Socket {
    /// A handle for other tasks.
    pub fn handle(&self) -> SocketHandle {
        self.handle.clone()
    }

    /// The next inbound stanza, or the close.
    pub async fn next_inbound(&mut self) -> Inbound {
        match self.inbound.recv().await {
            Some(i) => i,
            // The reader always sends Closed before it ends; this is its backstop.
            None => Inbound::Closed(CloseReason::ServerClosed),
        }
    }

    /// Tears everything down: stops the reader and writer, closes the link, and waits for all
    /// of it. Pending IQs fail with `ConnectionLost`.
    pub async fn close(self) {
        let Self {
            handle,
            inbound,
            reader,
            writer,
            pump,
        } = self;
        drop(inbound);
        reader.abort();
        let _ = reader.await;
        // The writer drains what is queued (a last ack, a logout) and ends when every handle
        // is gone; a handle still held elsewhere must not keep it alive.
        drop(handle);
        finish(writer, Duration::from_millis(500)).await;
        if let Some(pump) = pump {
            // The pump sends a WebSocket close once its sender is gone; give it a moment.
            finish(pump, Duration::from_secs(1)).await;
        }
    }
}

/// Waits up to `grace` for a task to end by itself, then aborts it and waits for that.
async fn finish(mut task: JoinHandle<()>, grace: Duration) {
    if tokio::time::timeout(grace, &mut task).await.is_err() {
        task.abort();
        let _ = task.await;
    }
}
