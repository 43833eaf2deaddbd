//! The client side of Noise XX as WhatsApp runs it (protocol.md §2.3).
//!
//! Each step consumes the previous state, so a message cannot be processed twice or out of
//! order: [`Initiator::start`] → ClientHello; [`Initiator::read_server_hello`] →
//! [`ServerHelloReceived`], where the caller verifies the certificate chain; then
//! [`ServerHelloReceived::finish`] → ClientFinish and the [`TransportCipher`].

use prost::Message as _;
use rand_core::CryptoRngCore;

use super::cert::{verify_cert_chain, VerifiedCertChain};
use super::symmetric::SymmetricState;
use super::transport::TransportCipher;
use super::{agree, framing::INTRO_HEADER, NoiseError};
use crate::proto::handshake_message::{ClientFinish, ClientHello};
use crate::proto::HandshakeMessage;
use crate::signal::{KeyPair, PublicKey};

/// A ServerHello's `static`: the server's 32-byte static key plus the GCM tag.
const ENCRYPTED_KEY_LEN: usize = 32 + super::transport::TAG_LEN;

/// The client before the server's reply.
pub struct Initiator {
    state: SymmetricState,
    ephemeral: KeyPair,
    noise_static: KeyPair,
}

/// The client after a well-formed ServerHello: the server's static key and its certificate
/// payload are known, and the chain must be verified before [`ServerHelloReceived::finish`].
pub struct ServerHelloReceived {
    state: SymmetricState,
    noise_static: KeyPair,
    server_ephemeral: PublicKey,
    server_static: PublicKey,
    cert_payload: Vec<u8>,
}

impl Initiator {
    /// Starts a handshake with the account's long-term noise key and a fresh ephemeral key pair.
    /// Returns the encoded ClientHello HandshakeMessage, to be framed (the first frame carries
    /// the intro header).
    pub fn start(noise_static: KeyPair, ephemeral: KeyPair) -> (Self, Vec<u8>) {
        let mut state = SymmetricState::new(&INTRO_HEADER);
        state.mix_hash(ephemeral.public.as_bytes());
        let hello = HandshakeMessage {
            client_hello: Some(ClientHello {
                ephemeral: Some(ephemeral.public.as_bytes().to_vec()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let initiator = Self {
            state,
            ephemeral,
            noise_static,
        };
        (initiator, hello.encode_to_vec())
    }

    /// Like [`Initiator::start`], drawing the ephemeral key from `rng`.
    pub fn start_with_rng(noise_static: KeyPair, rng: &mut impl CryptoRngCore) -> (Self, Vec<u8>) {
        Self::start(noise_static, KeyPair::generate(rng))
    }

    /// The handshake hash so far.
    pub fn handshake_hash(&self) -> [u8; 32] {
        self.state.handshake_hash()
    }

    /// Processes the server's HandshakeMessage: learns its ephemeral and static keys and
    /// decrypts the certificate payload.
    pub fn read_server_hello(self, message: &[u8]) -> Result<ServerHelloReceived, NoiseError> {
        let Self {
            mut state,
            ephemeral,
            noise_static,
        } = self;
        let hello = HandshakeMessage::decode(message)?
            .server_hello
            .ok_or(NoiseError::BadHandshakeMessage("serverHello"))?;
        let server_ephemeral = hello
            .ephemeral
            .as_deref()
            .and_then(|key| PublicKey::from_slice(key).ok())
            .ok_or(NoiseError::BadHandshakeMessage("serverHello.ephemeral"))?;
        let encrypted_static = hello
            .r#static
            .filter(|s| s.len() == ENCRYPTED_KEY_LEN)
            .ok_or(NoiseError::BadHandshakeMessage("serverHello.static"))?;
        let encrypted_cert = hello
            .payload
            .ok_or(NoiseError::BadHandshakeMessage("serverHello.payload"))?;

        state.mix_hash(server_ephemeral.as_bytes());
        state.mix_key(&agree(&ephemeral.private, &server_ephemeral)?);
        let server_static = PublicKey::from_slice(&state.decrypt_and_hash(&encrypted_static)?)
            .map_err(|_| NoiseError::BadHandshakeMessage("serverHello.static"))?;
        state.mix_key(&agree(&ephemeral.private, &server_static)?);
        let cert_payload = state.decrypt_and_hash(&encrypted_cert)?;

        Ok(ServerHelloReceived {
            state,
            noise_static,
            server_ephemeral,
            server_static,
            cert_payload,
        })
    }

    #[cfg(test)]
    pub(crate) fn trace(&self) -> &[super::symmetric::Snapshot] {
        &self.state.trace
    }
}

impl ServerHelloReceived {
    /// The server's static key, decrypted from the ServerHello.
    pub fn server_static(&self) -> &PublicKey {
        &self.server_static
    }

    /// The decrypted certificate payload (a CertChain protobuf from a real server).
    pub fn cert_payload(&self) -> &[u8] {
        &self.cert_payload
    }

    /// Verifies the certificate payload as a CertChain for this server's static key under
    /// `root`, at `now_unix` seconds.
    pub fn verify_cert_chain(
        &self,
        root: &PublicKey,
        now_unix: u64,
    ) -> Result<VerifiedCertChain, NoiseError> {
        verify_cert_chain(&self.cert_payload, &self.server_static, root, now_unix)
    }

    /// The handshake hash so far.
    pub fn handshake_hash(&self) -> [u8; 32] {
        self.state.handshake_hash()
    }

    /// Sends our static key and the ClientPayload (an encoded ClientPayload protobuf), and
    /// derives the transport keys. Returns the encoded ClientFinish HandshakeMessage, to be
    /// framed and sent, and the cipher for everything after it.
    pub fn finish(self, client_payload: &[u8]) -> Result<(Vec<u8>, TransportCipher), NoiseError> {
        let (message, transport, _) = self.finish_with_state(client_payload)?;
        Ok((message, transport))
    }

    /// [`ServerHelloReceived::finish`], also handing back the final symmetric state so tests
    /// can compare it with the vector.
    pub(crate) fn finish_with_state(
        self,
        client_payload: &[u8],
    ) -> Result<(Vec<u8>, TransportCipher, SymmetricState), NoiseError> {
        let Self {
            mut state,
            noise_static,
            server_ephemeral,
            ..
        } = self;
        let encrypted_static = state.encrypt_and_hash(noise_static.public.as_bytes())?;
        state.mix_key(&agree(&noise_static.private, &server_ephemeral)?);
        let encrypted_payload = state.encrypt_and_hash(client_payload)?;
        let finish = HandshakeMessage {
            client_finish: Some(ClientFinish {
                r#static: Some(encrypted_static),
                payload: Some(encrypted_payload),
            }),
            ..Default::default()
        };
        let (write_key, read_key) = state.split();
        let transport = TransportCipher::new(&write_key, &read_key, state.handshake_hash());
        Ok((finish.encode_to_vec(), transport, state))
    }

    #[cfg(test)]
    pub(crate) fn trace(&self) -> &[super::symmetric::Snapshot] {
        &self.state.trace
    }
}
