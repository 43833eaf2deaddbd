//! The reader and writer tasks of an open socket, and the routing of what the reader gets:
//! IQ answers to their waiters, acks out at once (but for messages and receipts, which the
//! engine answers once handled), the rest to the supervisor.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;
use wa_core::binary::{self, Node, NodeRef};
use wa_core::disconnect::CloseReason;
use wa_core::noise::{FrameDecoder, FrameEncoder, ReadCipher, WriteCipher};
use wa_core::stanza::ack::ack_for_view;

use super::handshake::closed_reason;
use super::iq::Waiters;
use super::{Activity, Inbound};
use crate::mutex::lock;
use crate::transport::CloseNote;

pub(super) async fn write_loop(
    mut nodes: mpsc::Receiver<Node>,
    to_server: mpsc::Sender<Vec<u8>>,
    mut encoder: FrameEncoder,
    mut cipher: WriteCipher,
) {
    while let Some(node) = nodes.recv().await {
        let mut plain = match binary::encode(&node) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(tag = %node.tag, error = %e, "cannot encode a stanza; dropped");
                continue;
            }
        };
        if let Err(e) = cipher.encrypt_in_place(&mut plain) {
            tracing::error!(error = %e, "cannot encrypt a frame");
            break;
        }
        let bytes = match encoder.encode(&plain) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "cannot frame a stanza; dropped");
                continue;
            }
        };
        if to_server.send(bytes).await.is_err() {
            break;
        }
    }
}

pub(super) struct ReadLoop {
    pub(super) from_server: mpsc::Receiver<Vec<u8>>,
    pub(super) decoder: FrameDecoder,
    pub(super) cipher: ReadCipher,
    pub(super) activity: Arc<Activity>,
    pub(super) waiters: Waiters,
    pub(super) writer: mpsc::Sender<Node>,
    pub(super) inbound: mpsc::Sender<Inbound>,
    pub(super) close_note: CloseNote,
}

pub(super) async fn read_loop(mut r: ReadLoop) {
    let reason = read_until_closed(&mut r).await;
    // Every IQ still waiting learns the connection is gone (its sender is dropped).
    lock(&r.waiters).clear();
    let _ = r.inbound.send(Inbound::Closed(reason)).await;
}

async fn read_until_closed(r: &mut ReadLoop) -> CloseReason {
    loop {
        let Some(chunk) = r.from_server.recv().await else {
            return closed_reason(&r.close_note);
        };
        if let Err(e) = r.decoder.push(&chunk) {
            return CloseReason::FrameCorrupt {
                detail: e.to_string(),
            };
        }
        loop {
            let frame = match r.decoder.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    return CloseReason::FrameCorrupt {
                        detail: e.to_string(),
                    }
                }
            };
            // A frame that fails to decrypt means the counters are out of step for good.
            let plain = match r.cipher.decrypt(&frame) {
                Ok(p) => p,
                Err(e) => {
                    return CloseReason::FrameCorrupt {
                        detail: e.to_string(),
                    }
                }
            };
            // Read through the borrowed view: routing and acking need a few attributes, and
            // only what is handed on becomes an owned tree (sharing the frame's bytes).
            let plain = Bytes::from(plain);
            let mut inflated = Vec::new();
            let view = match binary::view(&plain, &mut inflated) {
                Ok(v) => v,
                Err(e) => {
                    return CloseReason::FrameCorrupt {
                        detail: e.to_string(),
                    }
                }
            };
            r.activity.received();
            let Some((ack, node)) = route(r, view, &plain) else {
                continue;
            };
            if let Some(ack) = ack {
                let _ = r.writer.send(ack).await;
            }
            if r.inbound.send(Inbound::Node(node)).await.is_err() {
                return CloseReason::LocalShutdown;
            }
        }
    }
}

/// Hands IQ answers to their waiters; for the rest, returns the ack to send (if the stanza needs
/// one) and the node for the supervisor.
fn route(r: &ReadLoop, view: NodeRef<'_>, frame: &Bytes) -> Option<(Option<Node>, Node)> {
    let tag = view.tag();
    if tag == "iq" || tag == "ack" {
        let is_answer = tag == "ack"
            || view
                .attr_str("type")
                .is_some_and(|t| t == "result" || t == "error");
        if is_answer {
            if let Some(id) = view.attr_str("id") {
                let waiter = lock(&r.waiters).remove(&*id.to_cow());
                if let Some(waiter) = waiter {
                    let _ = waiter.send(view.to_node_shared(frame));
                    return None;
                }
            }
        }
    }
    // A message is answered by the engine once it is handled: its delivery receipt is its
    // ack, and a decrypt failure gets a retry receipt and a nack (messaging.md §8). A receipt
    // is acked by the engine once what it says is recorded (never before it is durable).
    let ack = if tag == "message" || tag == "receipt" {
        None
    } else {
        ack_for_view(&view)
    };
    Some((ack, view.to_node_shared(frame)))
}
