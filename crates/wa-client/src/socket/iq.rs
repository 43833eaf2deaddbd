//! IQ correlation: the cloneable [`SocketHandle`] sends stanzas, gives IQs their ids and waits
//! for the answer the reader hands back by id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use wa_core::binary::Node;
use wa_core::ids::IqIdGenerator;
use wa_core::stanza::iq::Iq;
use wa_core::stanza::StanzaError;

use super::Activity;
use crate::mutex::lock;

/// Why an IQ got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IqError {
    #[error("no answer to iq {id} within {after:?}")]
    Timeout { id: String, after: Duration },
    #[error("the connection dropped before iq {id} was answered")]
    ConnectionLost { id: String },
    #[error("iq {id} failed: {code} {text}")]
    ServerError { id: String, code: u16, text: String },
    /// The server answered, but not in the shape the request's parser reads.
    #[error("unreadable answer to iq {id}: {source}")]
    BadAnswer {
        id: String,
        #[source]
        source: StanzaError,
    },
}

/// The socket is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection is closed")]
pub struct SocketClosed;

pub(super) type Waiters = Arc<Mutex<HashMap<String, oneshot::Sender<Node>>>>;

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
    pub(super) fn new(
        writer: mpsc::Sender<Node>,
        waiters: Waiters,
        activity: Arc<Activity>,
        iq_timeout: Duration,
    ) -> Self {
        Self {
            writer,
            waiters,
            ids: Arc::new(Mutex::new(IqIdGenerator::new(&mut rand::rngs::OsRng))),
            activity,
            iq_timeout,
        }
    }

    /// Queues a stanza.
    pub async fn send(&self, node: Node) -> Result<(), SocketClosed> {
        self.writer.send(node).await.map_err(|_| SocketClosed)
    }

    /// A fresh IQ id.
    pub fn next_id(&self) -> String {
        lock(&self.ids).next_id()
    }

    /// Sends an IQ (an `id` is added if it has none) and waits for its answer with the
    /// configured timeout.
    pub async fn iq(&self, node: Node) -> Result<Node, IqError> {
        self.iq_with_timeout(node, self.iq_timeout).await
    }

    /// Runs a typed IQ: builds it, gives it an id, waits for its answer with the configured
    /// timeout and reads the answer with the request's parser.
    pub async fn query<Q: Iq>(&self, request: &Q) -> Result<Q::Answer, IqError> {
        self.query_with_timeout(request, self.iq_timeout).await
    }

    /// [`SocketHandle::query`] with an explicit timeout.
    pub async fn query_with_timeout<Q: Iq>(
        &self,
        request: &Q,
        timeout: Duration,
    ) -> Result<Q::Answer, IqError> {
        let mut node = request.build();
        let id = match node.attr_str("id") {
            Some(id) => id.to_owned(),
            None => {
                let id = self.next_id();
                node = node.with_attr("id", id.clone());
                id
            }
        };
        let answer = self.iq_with_timeout(node, timeout).await?;
        Q::parse(&answer).map_err(|source| IqError::BadAnswer { id, source })
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
        lock(&self.waiters).insert(id.clone(), tx);
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
        lock(&self.waiters).remove(id);
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
