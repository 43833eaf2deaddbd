//! Frames and Noise over a [`Link`]: the handshake, then a reader task and a writer task.
//!
//! The reader decrypts and decodes every frame, notes that something arrived (for the
//! dead-socket rule), answers IQ waiters by id, acks every `message`, `receipt`,
//! `notification` and `call` at once (un-acked stanzas make the server recycle the stream,
//! protocol.md §9.7), and passes everything else to the supervisor. When the link ends, every
//! waiting IQ fails with [`IqError::ConnectionLost`] and the supervisor gets one
//! [`Inbound::Closed`] with the reason.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use wa_core::binary::{self, Node};
use wa_core::disconnect::CloseReason;
use wa_core::ids::IqIdGenerator;
use wa_core::noise::{FrameDecoder, FrameEncoder, Initiator, NoiseError, ReadCipher, WriteCipher};
use wa_core::signal::{KeyPair, PublicKey};

use crate::transport::{CloseNote, Link};

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

/// Why an IQ got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IqError {
    #[error("no answer to iq {id} within {after:?}")]
    Timeout { id: String, after: Duration },
    #[error("the connection dropped before iq {id} was answered")]
    ConnectionLost { id: String },
    #[error("iq {id} failed: {code} {text}")]
    ServerError { id: String, code: u16, text: String },
}

/// The socket is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection is closed")]
pub struct SocketClosed;

/// When the oldest unanswered request went out, and when anything last arrived; shared with
/// the keepalive task.
#[derive(Debug)]
pub struct Activity {
    epoch: Instant,
    /// ms since `epoch` + 1 of the first send since the last receive; 0 = none pending.
    first_unanswered_send: AtomicU64,
    last_received: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            first_unanswered_send: AtomicU64::new(0),
            last_received: AtomicU64::new(0),
        }
    }

    fn stamp(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    fn sent(&self) {
        let now = self.stamp();
        let _ = self.first_unanswered_send.compare_exchange(
            0,
            now,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    fn received(&self) {
        self.last_received.store(self.stamp(), Ordering::Release);
        self.first_unanswered_send.store(0, Ordering::Release);
    }

    /// When the oldest send that nothing has been received after went out.
    pub fn first_unanswered_send(&self) -> Option<Instant> {
        match self.first_unanswered_send.load(Ordering::Acquire) {
            0 => None,
            ms => Some(self.epoch + Duration::from_millis(ms - 1)),
        }
    }
}

type Waiters = Arc<Mutex<HashMap<String, oneshot::Sender<Node>>>>;

/// A cheap, cloneable handle for sending on the socket and running IQs.
#[derive(Clone)]
pub struct SocketHandle {
    writer: mpsc::Sender<Node>,
    waiters: Waiters,
    ids: Arc<Mutex<IqIdGenerator>>,
    activity: Arc<Activity>,
    iq_timeout: Duration,
}

impl SocketHandle {
    /// Queues a stanza.
    pub async fn send(&self, node: Node) -> Result<(), SocketClosed> {
        self.writer.send(node).await.map_err(|_| SocketClosed)
    }

    /// A fresh IQ id.
    pub fn next_id(&self) -> String {
        match self.ids.lock() {
            Ok(mut g) => g.next_id(),
            Err(poisoned) => poisoned.into_inner().next_id(),
        }
    }

    /// Sends an IQ (an `id` is added if it has none) and waits for its answer with the
    /// configured timeout.
    pub async fn iq(&self, node: Node) -> Result<Node, IqError> {
        self.iq_with_timeout(node, self.iq_timeout).await
    }

    /// [`SocketHandle::iq`] with an explicit timeout.
    pub async fn iq_with_timeout(
        &self,
        mut node: Node,
        timeout: Duration,
    ) -> Result<Node, IqError> {
        let id = match node.attr_str("id") {
            Some(id) => id.to_owned(),
            None => {
                let id = self.next_id();
                node = node.with_attr("id", id.clone());
                id
            }
        };
        let (tx, rx) = oneshot::channel();
        if let Ok(mut w) = self.waiters.lock() {
            w.insert(id.clone(), tx);
        }
        let lost = || IqError::ConnectionLost { id: id.clone() };
        if self.writer.send(node).await.is_err() {
            self.forget(&id);
            return Err(lost());
        }
        // Only requests that expect an answer start the dead-socket clock: an ack or a
        // presence legitimately gets no reply, and must not make a healthy socket look dead.
        self.activity.sent();
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => iq_answer(&id, answer),
            Ok(Err(_)) => Err(lost()),
            Err(_) => {
                self.forget(&id);
                Err(IqError::Timeout { id, after: timeout })
            }
        }
    }

    fn forget(&self, id: &str) {
        if let Ok(mut w) = self.waiters.lock() {
            w.remove(id);
        }
    }

    /// Send/receive times for the dead-socket rule.
    pub fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }
}

fn iq_answer(id: &str, answer: Node) -> Result<Node, IqError> {
    if answer.attr_str("type") == Some("error") {
        let error = answer.child("error");
        return Err(IqError::ServerError {
            id: id.to_owned(),
            code: error
                .and_then(|e| e.attr_str("code"))
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
            text: error
                .and_then(|e| e.attr_str("text"))
                .unwrap_or("")
                .to_owned(),
        });
    }
    Ok(answer)
}

/// The open socket: owned by the supervisor alone.
pub struct Socket {
    handle: SocketHandle,
    pub(crate) inbound: mpsc::Receiver<Inbound>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
    pump: Option<JoinHandle<()>>,
}

/// Why the handshake failed, already in the classifier's terms.
pub type HandshakeFailure = CloseReason;

/// What the handshake needs.
pub struct HandshakeParams<'a> {
    pub noise_key: &'a KeyPair,
    pub client_payload: Vec<u8>,
    pub trusted_root: &'a PublicKey,
    pub now_unix: u64,
    pub iq_timeout: Duration,
}

impl Socket {
    /// Runs the Noise handshake over `link` and starts the reader and writer. The caller puts
    /// a timeout around it.
    pub async fn handshake(
        mut link: Link,
        p: HandshakeParams<'_>,
    ) -> Result<Self, HandshakeFailure> {
        let mut encoder = FrameEncoder::client();
        let mut decoder = FrameDecoder::client();
        let (initiator, hello) =
            Initiator::start_with_rng(p.noise_key.clone(), &mut rand::rngs::OsRng);
        send_frame(&link, &mut encoder, &hello).await?;
        let server_hello = read_frame(&mut link, &mut decoder).await?;
        let received = initiator
            .read_server_hello(&server_hello)
            .map_err(handshake_error)?;
        received
            .verify_cert_chain(p.trusted_root, p.now_unix)
            .map_err(|e| CloseReason::Certificate {
                detail: e.to_string(),
            })?;
        let (finish, cipher) = received
            .finish(&p.client_payload)
            .map_err(handshake_error)?;
        send_frame(&link, &mut encoder, &finish).await?;
        let (write, read) = cipher.split();

        let activity = Arc::new(Activity::new());
        let waiters: Waiters = Arc::default();
        let (writer_tx, writer_rx) = mpsc::channel(WRITE_QUEUE);
        let (inbound_tx, inbound) = mpsc::channel(INBOUND_QUEUE);
        let Link {
            to_server,
            from_server,
            close_note,
            pump,
        } = link;
        let writer = tokio::spawn(write_loop(writer_rx, to_server, encoder, write));
        let reader = tokio::spawn(read_loop(ReadLoop {
            from_server,
            decoder,
            cipher: read,
            activity: activity.clone(),
            waiters: waiters.clone(),
            writer: writer_tx.clone(),
            inbound: inbound_tx,
            close_note,
        }));
        Ok(Self {
            handle: SocketHandle {
                writer: writer_tx,
                waiters,
                ids: Arc::new(Mutex::new(IqIdGenerator::new(&mut rand::rngs::OsRng))),
                activity,
                iq_timeout: p.iq_timeout,
            },
            inbound,
            reader,
            writer,
            pump,
        })
    }

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

fn handshake_error(e: NoiseError) -> CloseReason {
    CloseReason::Handshake {
        detail: e.to_string(),
    }
}

async fn send_frame(
    link: &Link,
    encoder: &mut FrameEncoder,
    payload: &[u8],
) -> Result<(), CloseReason> {
    let bytes = encoder.encode(payload).map_err(handshake_error)?;
    link.to_server
        .send(bytes)
        .await
        .map_err(|_| closed_reason(&link.close_note))
}

async fn read_frame(link: &mut Link, decoder: &mut FrameDecoder) -> Result<Vec<u8>, CloseReason> {
    loop {
        if let Some(frame) = decoder.next_frame().map_err(handshake_error)? {
            return Ok(frame);
        }
        match link.from_server.recv().await {
            Some(chunk) => decoder.push(&chunk).map_err(handshake_error)?,
            None => return Err(closed_reason(&link.close_note)),
        }
    }
}

fn closed_reason(note: &CloseNote) -> CloseReason {
    match note.get() {
        Some(detail) => CloseReason::Network { detail },
        None => CloseReason::ServerClosed,
    }
}

async fn write_loop(
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

struct ReadLoop {
    from_server: mpsc::Receiver<Vec<u8>>,
    decoder: FrameDecoder,
    cipher: ReadCipher,
    activity: Arc<Activity>,
    waiters: Waiters,
    writer: mpsc::Sender<Node>,
    inbound: mpsc::Sender<Inbound>,
    close_note: CloseNote,
}

async fn read_loop(mut r: ReadLoop) {
    let reason = read_until_closed(&mut r).await;
    // Every IQ still waiting learns the connection is gone (its sender is dropped).
    if let Ok(mut w) = r.waiters.lock() {
        w.clear();
    }
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
            let node = match binary::decode(&plain) {
                Ok(n) => n,
                Err(e) => {
                    return CloseReason::FrameCorrupt {
                        detail: e.to_string(),
                    }
                }
            };
            r.activity.received();
            if let Some(node) = route(r, node).await {
                if r.inbound.send(Inbound::Node(node)).await.is_err() {
                    return CloseReason::LocalShutdown;
                }
            }
        }
    }
}

/// Hands IQ answers to their waiters and acks what must be acked; returns what is left for the
/// supervisor.
async fn route(r: &ReadLoop, node: Node) -> Option<Node> {
    if node.tag == "iq" || node.tag == "ack" {
        let is_answer =
            node.tag == "ack" || matches!(node.attr_str("type"), Some("result") | Some("error"));
        if is_answer {
            if let Some(id) = node.attr_str("id") {
                let waiter = r.waiters.lock().ok().and_then(|mut w| w.remove(id));
                if let Some(waiter) = waiter {
                    let _ = waiter.send(node);
                    return None;
                }
            }
        }
    }
    if let Some(ack) = ack_for(&node) {
        let _ = r.writer.send(ack).await;
    }
    Some(node)
}

/// The `<ack>` for an incoming `message`, `receipt`, `notification` or `call` (protocol.md
/// §9.7): class = the tag, same id, to = its sender, participant/recipient copied, `type`
/// copied except for messages (as whatsmeow does).
pub fn ack_for(node: &Node) -> Option<Node> {
    let class = match node.tag.as_ref() {
        "message" => "message",
        "receipt" => "receipt",
        "notification" => "notification",
        "call" => "call",
        _ => return None,
    };
    let id = node.attr("id")?.clone();
    let mut ack = Node::new("ack")
        .with_attr("class", class)
        .with_attr("id", id);
    if let Some(from) = node.attr("from") {
        ack = ack.with_attr("to", from.clone());
    }
    for key in ["participant", "recipient"] {
        if let Some(v) = node.attr(key) {
            ack = ack.with_attr(key, v.clone());
        }
    }
    if class != "message" {
        if let Some(v) = node.attr("type") {
            ack = ack.with_attr("type", v.clone());
        }
    }
    Some(ack)
}

#[cfg(test)]
#[path = "socket_tests.rs"]
mod tests;
