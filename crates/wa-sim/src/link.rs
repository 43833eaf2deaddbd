//! The byte pipe under one connection, and the writer task that encrypts, frames and (with the
//! delay fault) holds back everything the server sends.
//!
//! The same connection code serves a WebSocket and the in-memory link: both carry whole
//! WebSocket binary message payloads as `Vec<u8>`.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use wa_core::binary::{encode, Node};
use wa_core::noise::{FrameEncoder, WriteCipher};

/// A connection that lives in memory: what a test holds instead of a socket.
///
/// Dropping `to_server` means the client closed; `from_server` yielding `None` means the
/// server closed (after a stream error, or without one for the `drop` fault).
#[derive(Debug)]
pub struct MemoryLink {
    /// Bytes to the server, one WebSocket binary message each.
    pub to_server: mpsc::Sender<Vec<u8>>,
    /// Bytes from the server, one WebSocket binary message each.
    pub from_server: mpsc::Receiver<Vec<u8>>,
}

/// How the server ends a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseKind {
    /// A WebSocket close frame, then TCP close.
    Graceful,
    /// TCP close without a close frame (the `drop` fault).
    Abort,
}

/// The server's end of the pipe.
pub(crate) struct ServerSide {
    pub(crate) inbound: mpsc::Receiver<Vec<u8>>,
    pub(crate) outbound: mpsc::Sender<Vec<u8>>,
    /// Told how the connection ended, so a WebSocket bridge can send or skip the close frame.
    pub(crate) on_close: Option<oneshot::Sender<CloseKind>>,
}

/// Messages capacity of each direction of a pipe.
pub(crate) const PIPE_CAPACITY: usize = 64;

/// Something for the writer to send.
pub(crate) enum Out {
    /// A handshake message, framed but not encrypted.
    Handshake(Vec<u8>),
    /// From now on nodes are encrypted with this cipher.
    Cipher(WriteCipher),
    /// A node, encoded and encrypted.
    Node(Node),
    /// End the connection after everything before it.
    Close(CloseKind),
}

/// The connection's handle on its writer task.
pub(crate) struct Writer {
    queue: mpsc::UnboundedSender<(Instant, Out)>,
    abort: Option<oneshot::Sender<()>>,
}

impl Writer {
    /// Starts the writer task for `outbound`.
    pub(crate) fn spawn(
        outbound: mpsc::Sender<Vec<u8>>,
        on_close: Option<oneshot::Sender<CloseKind>>,
    ) -> Writer {
        let (queue, rx) = mpsc::unbounded_channel();
        let (abort, abort_rx) = oneshot::channel();
        tokio::spawn(write_loop(rx, abort_rx, outbound, on_close));
        Writer {
            queue,
            abort: Some(abort),
        }
    }

    /// Sends `out` after `delay`.
    pub(crate) fn send(&self, out: Out, delay: Duration) {
        // The writer only stops after a close or when the client is gone; either way there is
        // nobody left to send to.
        let _ = self.queue.send((Instant::now() + delay, out));
    }

    /// Closes the pipe at once, skipping anything queued and the close frame.
    pub(crate) fn abort(&mut self) {
        if let Some(abort) = self.abort.take() {
            let _ = abort.send(());
        }
    }
}

async fn write_loop(
    mut queue: mpsc::UnboundedReceiver<(Instant, Out)>,
    mut abort: oneshot::Receiver<()>,
    outbound: mpsc::Sender<Vec<u8>>,
    on_close: Option<oneshot::Sender<CloseKind>>,
) {
    let mut encoder = FrameEncoder::server();
    let mut cipher: Option<WriteCipher> = None;
    // A dropped Writer (the connection task ended) is not an abort.
    let mut abort_live = true;
    let kind = 'writer: loop {
        let (ready_at, out) = tokio::select! {
            biased;
            r = &mut abort, if abort_live => match r {
                Ok(()) => break 'writer CloseKind::Abort,
                Err(_) => { abort_live = false; continue; }
            },
            item = queue.recv() => match item {
                Some(item) => item,
                None => break 'writer CloseKind::Graceful,
            },
        };
        if ready_at > Instant::now() {
            tokio::select! {
                biased;
                r = &mut abort, if abort_live => match r {
                    Ok(()) => break 'writer CloseKind::Abort,
                    Err(_) => abort_live = false,
                },
                () = tokio::time::sleep_until(ready_at) => {}
            }
        }
        let payload = match out {
            Out::Close(kind) => break 'writer kind,
            Out::Cipher(c) => {
                cipher = Some(c);
                continue;
            }
            Out::Handshake(message) => message,
            Out::Node(node) => match seal(&node, cipher.as_mut()) {
                Ok(payload) => payload,
                Err(why) => {
                    tracing::error!(%why, stanza = %node, "could not send a stanza");
                    continue;
                }
            },
        };
        let framed = match encoder.encode(&payload) {
            Ok(framed) => framed,
            Err(e) => {
                tracing::error!(error = %e, "could not frame an outgoing message");
                continue;
            }
        };
        if outbound.send(framed).await.is_err() {
            // The client is gone.
            break 'writer CloseKind::Graceful;
        }
    };
    if let Some(on_close) = on_close {
        let _ = on_close.send(kind);
    }
}

fn seal(node: &Node, cipher: Option<&mut WriteCipher>) -> Result<Vec<u8>, String> {
    let cipher = cipher.ok_or("no transport cipher yet")?;
    let mut plain = encode(node).map_err(|e| e.to_string())?;
    cipher
        .encrypt_in_place(&mut plain)
        .map_err(|e| e.to_string())?;
    Ok(plain)
}
