//! The Noise XX handshake over a fresh [`Link`] (protocol.md §3), then the reader and writer
//! tasks started on the ciphers it yields.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use wa_core::disconnect::CloseReason;
use wa_core::noise::{FrameDecoder, FrameEncoder, Initiator, NoiseError};
use wa_core::signal::{KeyPair, PublicKey};

use super::iq::Waiters;
use super::loops::{read_loop, write_loop, ReadLoop};
use super::{Activity, Socket, SocketHandle, INBOUND_QUEUE, WRITE_QUEUE};
use crate::transport::{CloseNote, Link};

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
            handle: SocketHandle::new(writer_tx, waiters, activity, p.iq_timeout),
            inbound,
            reader,
            writer,
            pump,
        })
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

pub(super) fn closed_reason(note: &CloseNote) -> CloseReason {
    match note.get() {
        Some(detail) => CloseReason::Network { detail },
        None => CloseReason::ServerClosed,
    }
}
