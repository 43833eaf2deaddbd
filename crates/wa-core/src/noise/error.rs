//! Every way the Noise layer can fail: framing, the handshake messages, the AEAD, and each rule of
//! the server certificate chain. One enum so the connection code can tell a tampered stream from
//! an expired certificate and a misconfigured root key.

use crate::signal::SignatureError;

/// Which certificate of the chain a rule failed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertRole {
    /// The intermediate certificate, signed by the root.
    Intermediate,
    /// The leaf certificate, signed by the intermediate; it certifies the server's static key.
    Leaf,
}

impl core::fmt::Display for CertRole {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Intermediate => "intermediate",
            Self::Leaf => "leaf",
        })
    }
}

/// A failure of the Noise framing, handshake, transport or certificate chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoiseError {
    /// A frame payload cannot be sent or was announced with a length over the limit.
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// The payload length.
        len: usize,
        /// The largest payload allowed.
        max: usize,
    },
    /// More bytes arrived than the decoder is allowed to hold before they form frames.
    #[error("frame buffer would hold {len} bytes, limit is {max}")]
    BufferFull {
        /// How many bytes the buffer would hold.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The first four bytes from the client were not the `WA 06 03` intro header.
    #[error("connection did not start with the WA intro header")]
    BadIntroHeader,
    /// A handshake message is not a valid HandshakeMessage protobuf.
    #[error("handshake message does not decode: {0}")]
    MalformedHandshake(#[from] prost::DecodeError),
    /// A handshake message lacks the part expected at this step, or a part has the wrong size.
    #[error("handshake message is missing or has a malformed {0}")]
    BadHandshakeMessage(&'static str),
    /// AES-GCM authentication failed during the handshake: wrong keys or a tampered message.
    #[error("handshake decryption failed")]
    HandshakeDecrypt,
    /// A transport frame failed to authenticate.
    #[error("transport frame decryption failed")]
    TransportDecrypt,
    /// AES-GCM refused to encrypt (only possible for inputs far beyond any frame size).
    #[error("encryption failed")]
    Encrypt,
    /// A nonce counter reached 2^32; reusing a nonce would break AES-GCM.
    #[error("nonce counter exhausted")]
    NonceExhausted,
    /// A peer's public key gave an all-zero Diffie-Hellman result (a low-order point).
    #[error("peer sent a low-order public key")]
    WeakPublicKey,
    /// The decrypted certificate payload is not a CertChain protobuf.
    #[error("certificate chain does not decode: {0}")]
    MalformedCertChain(#[source] prost::DecodeError),
    /// The certificate chain lacks a certificate, its details or its signature.
    #[error("certificate chain is missing the {0} {1}")]
    CertMissing(CertRole, &'static str),
    /// A certificate's details bytes are not a valid Details protobuf.
    #[error("{0} certificate details do not decode: {1}")]
    MalformedCertDetails(CertRole, #[source] prost::DecodeError),
    /// A certificate signature is not 64 bytes.
    #[error("{role} certificate signature is {len} bytes, expected 64")]
    CertSignatureLength {
        /// Which certificate.
        role: CertRole,
        /// Its signature length.
        len: usize,
    },
    /// The intermediate certificate is not signed by the configured root key.
    #[error("intermediate certificate is not signed by the root key: {0}")]
    IntermediateSignature(#[source] SignatureError),
    /// The intermediate certificate names an issuer other than the root (serial 0).
    #[error("intermediate certificate issuer serial is {0}, expected 0")]
    IntermediateIssuerSerial(u32),
    /// The intermediate certificate's key is not 32 bytes.
    #[error("intermediate certificate key is {0} bytes, expected 32")]
    IntermediateKeyLength(usize),
    /// The leaf certificate is not signed by the intermediate's key.
    #[error("leaf certificate is not signed by the intermediate key: {0}")]
    LeafSignature(#[source] SignatureError),
    /// The leaf certificate names an issuer other than the intermediate.
    #[error("leaf certificate issuer serial is {actual}, intermediate serial is {expected}")]
    LeafIssuerSerial {
        /// The leaf's issuer serial.
        actual: u32,
        /// The intermediate's serial.
        expected: u32,
    },
    /// The leaf certificate certifies a key other than the server's static key from the handshake.
    #[error("leaf certificate key is not the server's static key")]
    LeafKeyMismatch,
    /// `now` is before a certificate's notBefore.
    #[error("{role} certificate not valid before {not_before} (now {now})")]
    CertNotYetValid {
        /// Which certificate.
        role: CertRole,
        /// Its notBefore, unix seconds.
        not_before: u64,
        /// The time checked, unix seconds.
        now: u64,
    },
    /// `now` is after a certificate's notAfter.
    #[error("{role} certificate expired at {not_after} (now {now})")]
    CertExpired {
        /// Which certificate.
        role: CertRole,
        /// Its notAfter, unix seconds.
        not_after: u64,
        /// The time checked, unix seconds.
        now: u64,
    },
}
