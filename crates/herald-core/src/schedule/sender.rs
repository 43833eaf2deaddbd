//! What the runner sends through: the engine's send path, behind a trait so the runner can be
//! tested on paused time against a fake, and the real engine joins when messaging lands.
//!
//! Sending is two steps so the outbox can keep the bytes before they leave: [`Sender::prepare`]
//! encrypts and encodes (committing the Signal state on the engine's side) and returns the
//! stanza; the runner commits it; [`Sender::transmit`] writes it and waits for the server's
//! ack. A resend — after a lost ack or a crash — is `transmit` of the stored bytes again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::recipient::Recipient;

/// One message to prepare.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub message_id: &'a str,
    pub to: &'a Recipient,
    pub text: &'a str,
}

/// The engine refused a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The classifier's code, e.g. `not-on-whatsapp`, `479`.
    pub code: String,
    /// Whether trying again later may work.
    pub retryable: bool,
    /// What the user can do, in their words.
    pub advice: String,
}

/// How a transmit ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server acked it.
    Acked { at: Timestamp },
    /// The server refused it.
    Rejected(Rejection),
    /// The server said to slow down (rate limit, temporary ban): nothing was accepted.
    RateLimited { code: String, retry_after: Duration },
    /// No ack came (the link dropped, the wait ran out): it may or may not have arrived.
    InDoubt,
}

/// The engine's send path.
pub trait Sender: Send + Sync + 'static {
    /// Encrypts and encodes a message; nothing leaves yet.
    fn prepare(
        &self,
        message: Outgoing<'_>,
    ) -> impl Future<Output = Result<Vec<u8>, Rejection>> + Send;

    /// Writes a prepared stanza (the first time or again) and waits for the ack.
    fn transmit(&self, message_id: &str, stanza: &[u8]) -> impl Future<Output = Outcome> + Send;

    /// The recipient's chat in the other namespace — its LID for a phone number and the
    /// reverse — when the engine knows the pair, so "skip if they have written to me since"
    /// sees a reply from either. None known: empty.
    fn other_chats(&self, to: &Recipient) -> impl Future<Output = Vec<String>> + Send {
        let _ = to;
        std::future::ready(Vec::new())
    }
}

/// A boxed future, for the object-safe form of [`Sender`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Sender`] behind a pointer, so the service can hold whichever sender it was given
/// (`Arc<dyn DynSender>` is itself a [`Sender`]). Every `Sender` is one.
pub trait DynSender: Send + Sync + 'static {
    fn prepare_boxed<'a>(
        &'a self,
        message: Outgoing<'a>,
    ) -> BoxFuture<'a, Result<Vec<u8>, Rejection>>;
    fn transmit_boxed<'a>(
        &'a self,
        message_id: &'a str,
        stanza: &'a [u8],
    ) -> BoxFuture<'a, Outcome>;
    fn other_chats_boxed<'a>(&'a self, to: &'a Recipient) -> BoxFuture<'a, Vec<String>>;
}

impl<S: Sender> DynSender for S {
    fn prepare_boxed<'a>(
        &'a self,
        message: Outgoing<'a>,
    ) -> BoxFuture<'a, Result<Vec<u8>, Rejection>> {
        Box::pin(self.prepare(message))
    }

    fn transmit_boxed<'a>(
        &'a self,
        message_id: &'a str,
        stanza: &'a [u8],
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(self.transmit(message_id, stanza))
    }

    fn other_chats_boxed<'a>(&'a self, to: &'a Recipient) -> BoxFuture<'a, Vec<String>> {
        Box::pin(self.other_chats(to))
    }
}

impl Sender for Arc<dyn DynSender> {
    async fn prepare(&self, message: Outgoing<'_>) -> Result<Vec<u8>, Rejection> {
        self.as_ref().prepare_boxed(message).await
    }

    async fn transmit(&self, message_id: &str, stanza: &[u8]) -> Outcome {
        self.as_ref().transmit_boxed(message_id, stanza).await
    }

    async fn other_chats(&self, to: &Recipient) -> Vec<String> {
        self.as_ref().other_chats_boxed(to).await
    }
}
