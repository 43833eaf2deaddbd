//! The two pairwise wire messages, byte-exact with libsignal v3 (protocol.md §9.4):
//!
//! - `SignalMessage` (`enc type="msg"`): version byte `33` ‖ protobuf {ratchetKey=1,
//!   counter=2, previousCounter=3, ciphertext=4} ‖ the first 8 bytes of
//!   HMAC-SHA256(MAC key, sender identity(33) ‖ receiver identity(33) ‖ version ‖ protobuf);
//! - `PreKeySignalMessage` (`enc type="pkmsg"`): `33` ‖ protobuf {preKeyId=1 (optional),
//!   baseKey=2, identityKey=3, message=4 (a whole SignalMessage), registrationId=5,
//!   signedPreKeyId=6}, with no MAC of its own.
//!
//! Encoding goes through the prost types of `proto/signal_wire.proto`, which emit fields in
//! number order as libsignal's protobufjs does. Parsing uses [`proto_reader`](super::proto_reader)
//! so every refusal carries the offset of the offending byte.

use prost::Message as _;
use subtle::ConstantTimeEq;

use super::crypto::hmac_sha256;
use super::error::{Malformed, SignalError};
use super::keys::{PublicKey, SignalPublicKey};
use super::proto_reader::{Field, Reader};
use crate::proto::signal_wire;

/// The version byte of every v3 message: current version 3 in the high nibble, 3 in the low.
pub const VERSION_BYTE: u8 = 0x33;
/// Length of the truncated MAC at the end of a `SignalMessage`.
pub const MAC_LEN: usize = 8;

fn check_version(bytes: &[u8]) -> Result<(), SignalError> {
    match bytes.first() {
        None => Err(SignalError::malformed(0, Malformed::Truncated)),
        // WhatsApp's libsignal v3 peers all send exactly 0x33; the byte of a pkmsg is not
        // authenticated, so anything else is refused rather than read loosely.
        Some(&VERSION_BYTE) => Ok(()),
        Some(&b) => Err(SignalError::UnsupportedVersion(b)),
    }
}

fn signal_key(field: &Field<'_>) -> Result<PublicKey, SignalError> {
    let (bytes, offset) = field.bytes()?;
    SignalPublicKey::from_slice(bytes)
        .map(PublicKey::from)
        .map_err(|e| SignalError::malformed(offset, Malformed::Key(e)))
}

fn required<T>(value: Option<T>, end: usize, name: &'static str) -> Result<T, SignalError> {
    value.ok_or(SignalError::malformed(end, Malformed::MissingField(name)))
}

/// A parsed `SignalMessage`, with its serialized bytes kept for the MAC check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalMessage {
    /// The sender's current ratchet public key.
    pub ratchet_key: PublicKey,
    /// The message's position on the sender's chain, from 0.
    pub counter: u32,
    /// The length of the sender's previous chain, less one.
    pub previous_counter: u32,
    /// AES-256-CBC ciphertext of the (padded) plaintext.
    pub ciphertext: Vec<u8>,
    serialized: Vec<u8>,
}

impl SignalMessage {
    /// Parses a message from the wire, checking its framing but not its MAC (that needs the
    /// session's keys).
    pub fn parse(bytes: &[u8]) -> Result<Self, SignalError> {
        Self::parse_at(bytes, 0)
    }

    /// Parses with `base` as the offset of `bytes` in the caller's input.
    fn parse_at(bytes: &[u8], base: usize) -> Result<Self, SignalError> {
        check_version(bytes).map_err(|e| match e {
            SignalError::Malformed { what, .. } => SignalError::malformed(base, what),
            other => other,
        })?;
        if bytes.len() < 1 + MAC_LEN {
            return Err(SignalError::malformed(
                base + bytes.len(),
                Malformed::Truncated,
            ));
        }
        let body = &bytes[1..bytes.len() - MAC_LEN];
        let (mut ratchet_key, mut counter, mut previous_counter, mut ciphertext) =
            (None, None, None, None);
        let mut reader = Reader::new(body, base + 1);
        while let Some(field) = reader.next_field()? {
            match field.number {
                1 => ratchet_key = Some(signal_key(&field)?),
                2 => counter = Some(field.uint32()?),
                3 => previous_counter = Some(field.uint32()?),
                4 => ciphertext = Some(field.bytes()?.0),
                _ => {}
            }
        }
        let end = base + 1 + body.len();
        Ok(Self {
            ratchet_key: required(ratchet_key, end, "ratchetKey")?,
            counter: required(counter, end, "counter")?,
            previous_counter: required(previous_counter, end, "previousCounter")?,
            ciphertext: required(ciphertext, end, "ciphertext")?.to_vec(),
            serialized: bytes.to_vec(),
        })
    }

    /// Builds and MACs a message. `sender` and `receiver` are the two identity keys, sender first.
    pub(crate) fn new(
        mac_key: &[u8; 32],
        sender: &PublicKey,
        receiver: &PublicKey,
        ratchet_key: PublicKey,
        counter: u32,
        previous_counter: u32,
        ciphertext: Vec<u8>,
    ) -> Self {
        let proto = signal_wire::SignalMessage {
            ratchet_key: Some(ratchet_key.to_signal().as_bytes().to_vec()),
            counter: Some(counter),
            previous_counter: Some(previous_counter),
            ciphertext: Some(ciphertext),
        };
        let mut serialized = Vec::with_capacity(proto.encoded_len() + 1 + MAC_LEN);
        serialized.push(VERSION_BYTE);
        proto.encode_raw(&mut serialized);
        let mac = mac(mac_key, sender, receiver, &serialized);
        serialized.extend_from_slice(&mac);
        let ciphertext = proto.ciphertext.unwrap_or_default();
        Self {
            ratchet_key,
            counter,
            previous_counter,
            ciphertext,
            serialized,
        }
    }

    /// Whether the trailing MAC is right for these keys (compared in constant time).
    pub(crate) fn verify_mac(
        &self,
        mac_key: &[u8; 32],
        sender: &PublicKey,
        receiver: &PublicKey,
    ) -> bool {
        let (signed, tag) = self.serialized.split_at(self.serialized.len() - MAC_LEN);
        let expected = mac(mac_key, sender, receiver, signed);
        bool::from(expected.ct_eq(tag))
    }

    /// The bytes as sent on the wire.
    pub fn serialized(&self) -> &[u8] {
        &self.serialized
    }
}

fn mac(
    mac_key: &[u8; 32],
    sender: &PublicKey,
    receiver: &PublicKey,
    signed: &[u8],
) -> [u8; MAC_LEN] {
    let full = hmac_sha256(
        mac_key,
        &[
            sender.to_signal().as_bytes(),
            receiver.to_signal().as_bytes(),
            signed,
        ],
    );
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

/// A parsed `PreKeySignalMessage`: the first messages of a session we did not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreKeySignalMessage {
    /// The sender's registration id.
    pub registration_id: u32,
    /// Our one-time prekey the sender used, if any.
    pub pre_key_id: Option<u32>,
    /// Our signed prekey the sender used.
    pub signed_pre_key_id: u32,
    /// The sender's X3DH base key; identifies the session.
    pub base_key: PublicKey,
    /// The sender's identity key.
    pub identity_key: PublicKey,
    /// The first `SignalMessage` of the session.
    pub message: SignalMessage,
    serialized: Vec<u8>,
}

impl PreKeySignalMessage {
    /// Parses a prekey message and the `SignalMessage` inside it (whose MAC is checked on decrypt).
    pub fn parse(bytes: &[u8]) -> Result<Self, SignalError> {
        check_version(bytes)?;
        let body = &bytes[1..];
        let mut fields = (None, None, None, None, None, None);
        let mut reader = Reader::new(body, 1);
        while let Some(field) = reader.next_field()? {
            match field.number {
                1 => fields.0 = Some(field.uint32()?),
                2 => fields.1 = Some(signal_key(&field)?),
                3 => fields.2 = Some(signal_key(&field)?),
                4 => fields.3 = Some(field.bytes()?),
                5 => fields.4 = Some(field.uint32()?),
                6 => fields.5 = Some(field.uint32()?),
                _ => {}
            }
        }
        let end = bytes.len();
        let (inner, inner_at) = required(fields.3, end, "message")?;
        Ok(Self {
            pre_key_id: fields.0,
            base_key: required(fields.1, end, "baseKey")?,
            identity_key: required(fields.2, end, "identityKey")?,
            message: SignalMessage::parse_at(inner, inner_at)?,
            // libsignal treats an absent registration id as 0.
            registration_id: fields.4.unwrap_or(0),
            signed_pre_key_id: required(fields.5, end, "signedPreKeyId")?,
            serialized: bytes.to_vec(),
        })
    }

    /// Wraps a session's `SignalMessage` with what the responder needs to build the session.
    pub(crate) fn new(
        registration_id: u32,
        pre_key_id: Option<u32>,
        signed_pre_key_id: u32,
        base_key: PublicKey,
        identity_key: PublicKey,
        message: SignalMessage,
    ) -> Self {
        let proto = signal_wire::PreKeySignalMessage {
            registration_id: Some(registration_id),
            pre_key_id,
            signed_pre_key_id: Some(signed_pre_key_id),
            base_key: Some(base_key.to_signal().as_bytes().to_vec()),
            identity_key: Some(identity_key.to_signal().as_bytes().to_vec()),
            message: Some(message.serialized.clone()),
        };
        let mut serialized = Vec::with_capacity(proto.encoded_len() + 1);
        serialized.push(VERSION_BYTE);
        proto.encode_raw(&mut serialized);
        Self {
            registration_id,
            pre_key_id,
            signed_pre_key_id,
            base_key,
            identity_key,
            message,
            serialized,
        }
    }

    /// The bytes as sent on the wire.
    pub fn serialized(&self) -> &[u8] {
        &self.serialized
    }
}
