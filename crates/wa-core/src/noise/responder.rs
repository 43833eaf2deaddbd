//! The server side of Noise XX, for the simulator: receive ClientHello, answer with a ServerHello
//! carrying a certificate payload, receive ClientFinish.

use prost::Message as _;
use rand_core::CryptoRngCore;

use super::symmetric::SymmetricState;
use super::transport::{TransportCipher, TAG_LEN};
use super::{agree, framing::INTRO_HEADER, NoiseError};
use crate::proto::handshake_message::ServerHello;
use crate::proto::HandshakeMessage;
use crate::signal::{KeyPair, PublicKey};

/// The server before the client's first message.
pub struct Responder {
    state: SymmetricState,
    ephemeral: KeyPair,
    server_static: KeyPair,
}

/// The server after sending its ServerHello, waiting for ClientFinish.
pub struct AwaitingClientFinish {
    state: SymmetricState,
    ephemeral: KeyPair,
}

/// What the client proved and sent in ClientFinish.
pub struct ClientFinished {
    /// The client's long-term noise key.
    pub client_static: PublicKey,
    /// The decrypted ClientPayload bytes.
    pub client_payload: Vec<u8>,
    /// The server's transport cipher.
    pub transport: TransportCipher,
}

impl Responder {
    /// Prepares to answer a client with the server's static key and a fresh ephemeral key pair.
    pub fn new(server_static: KeyPair, ephemeral: KeyPair) -> Self {
        Self {
            state: SymmetricState::new(&INTRO_HEADER),
            ephemeral,
            server_static,
        }
    }

    /// Like [`Responder::new`], drawing the ephemeral key from `rng`.
    pub fn with_rng(server_static: KeyPair, rng: &mut impl CryptoRngCore) -> Self {
        Self::new(server_static, KeyPair::generate(rng))
    }

    /// Processes the client's HandshakeMessage and builds the ServerHello, encrypting
    /// `cert_payload` (normally an encoded CertChain) into it.
    pub fn read_client_hello(
        self,
        message: &[u8],
        cert_payload: &[u8],
    ) -> Result<(AwaitingClientFinish, Vec<u8>), NoiseError> {
        let Self {
            mut state,
            ephemeral,
            server_static,
        } = self;
        let hello = HandshakeMessage::decode(message)?
            .client_hello
            .ok_or(NoiseError::BadHandshakeMessage("clientHello"))?;
        let client_ephemeral = hello
            .ephemeral
            .as_deref()
            .and_then(|key| PublicKey::from_slice(key).ok())
            .ok_or(NoiseError::BadHandshakeMessage("clientHello.ephemeral"))?;
        // A static key or payload here would be the IK pattern, which this responder does not
        // speak; answering with XX would desynchronise the transcript.
        if hello.r#static.is_some() || hello.payload.is_some() {
            return Err(NoiseError::BadHandshakeMessage("clientHello (IK)"));
        }

        state.mix_hash(client_ephemeral.as_bytes());
        state.mix_hash(ephemeral.public.as_bytes());
        state.mix_key(&agree(&ephemeral.private, &client_ephemeral)?);
        let encrypted_static = state.encrypt_and_hash(server_static.public.as_bytes())?;
        state.mix_key(&agree(&server_static.private, &client_ephemeral)?);
        let encrypted_cert = state.encrypt_and_hash(cert_payload)?;

        let reply = HandshakeMessage {
            server_hello: Some(ServerHello {
                ephemeral: Some(ephemeral.public.as_bytes().to_vec()),
                r#static: Some(encrypted_static),
                payload: Some(encrypted_cert),
            }),
            ..Default::default()
        };
        Ok((
            AwaitingClientFinish { state, ephemeral },
            reply.encode_to_vec(),
        ))
    }
}

impl AwaitingClientFinish {
    /// The handshake hash so far.
    pub fn handshake_hash(&self) -> [u8; 32] {
        self.state.handshake_hash()
    }

    /// Processes ClientFinish: decrypts the client's static key and its ClientPayload, and
    /// derives the server's transport cipher.
    pub fn read_client_finish(self, message: &[u8]) -> Result<ClientFinished, NoiseError> {
        let Self {
            mut state,
            ephemeral,
        } = self;
        let finish = HandshakeMessage::decode(message)?
            .client_finish
            .ok_or(NoiseError::BadHandshakeMessage("clientFinish"))?;
        let encrypted_static = finish
            .r#static
            .filter(|s| s.len() == 32 + TAG_LEN)
            .ok_or(NoiseError::BadHandshakeMessage("clientFinish.static"))?;
        let encrypted_payload = finish
            .payload
            .ok_or(NoiseError::BadHandshakeMessage("clientFinish.payload"))?;

        let client_static = PublicKey::from_slice(&state.decrypt_and_hash(&encrypted_static)?)
            .map_err(|_| NoiseError::BadHandshakeMessage("clientFinish.static"))?;
        state.mix_key(&agree(&ephemeral.private, &client_static)?);
        let client_payload = state.decrypt_and_hash(&encrypted_payload)?;

        // The initiator writes with the first split key, so the server reads with it.
        let (client_write, client_read) = state.split();
        Ok(ClientFinished {
            client_static,
            client_payload,
            transport: TransportCipher::new(&client_read, &client_write, state.handshake_hash()),
        })
    }
}
