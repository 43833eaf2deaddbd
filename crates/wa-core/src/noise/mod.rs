//! Noise_XX_25519_AESGCM_SHA256 as WhatsApp Web uses it: the 3-byte framing, both sides of the
//! handshake, the server certificate chain, and the transport cipher that follows.
//!
//! A client runs [`Initiator`], verifies the chain with [`cert::verify_cert_chain`] (or
//! [`ServerHelloReceived::verify_cert_chain`]) and then uses the [`TransportCipher`]; the
//! simulator runs [`Responder`]. Frames go through [`FrameEncoder`] / [`FrameDecoder`] in both
//! phases.

pub mod cert;
mod error;
pub mod framing;
mod initiator;
mod responder;
mod symmetric;
pub mod transport;

#[cfg(test)]
mod cert_tests;
#[cfg(test)]
mod tests;

pub use cert::{CertVerifier, VerifiedCertChain, WA_ROOT_PUBLIC_KEY};
pub use error::{CertRole, NoiseError};
pub use framing::{FrameDecoder, FrameEncoder, INTRO_HEADER, MAX_FRAME_LEN};
pub use initiator::{Initiator, ServerHelloReceived};
pub use responder::{AwaitingClientFinish, ClientFinished, Responder};
pub use symmetric::PROTOCOL_NAME;
pub use transport::{ReadCipher, TransportCipher, WriteCipher};

use crate::signal::{PrivateKey, PublicKey};

/// X25519 with the peer's key, refusing the all-zero result a low-order point produces: it
/// would make the derived keys independent of our secret.
fn agree(private: &PrivateKey, public: &PublicKey) -> Result<[u8; 32], NoiseError> {
    let shared = private.agree(public);
    if shared == [0u8; 32] {
        return Err(NoiseError::WeakPublicKey);
    }
    Ok(shared)
}
