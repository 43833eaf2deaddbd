//! The two sender-key messages on the wire, byte-exact with libsignal-node and Baileys:
//!
//! * `SenderKeyDistributionMessage` = `33 || proto{id=1, iteration=2, chainKey=3 (32 B),
//!   signingKey=4 (33 B, 05-prefixed)}`; it travels inside
//!   `Message.senderKeyDistributionMessage` over pairwise sessions.
//! * `SenderKeyMessage` (`<enc type="skmsg">`) = `33 || proto{id=1, iteration=2, ciphertext=3}
//!   || 64-byte XEdDSA signature` over the version byte and the proto.
//!
//! Parsing is a small protobuf field walk of its own rather than prost, so that every refusal
//! names the byte offset where reading stopped; encoding uses the prost types from
//! proto/signal_wire.proto, which write fields in field-number order as protobufjs does.

use prost::Message as _;

use super::error::{GroupError, MalformedReason};
use crate::proto::signal_wire;
use crate::signal::{PublicKey, SignalPublicKey, SIGNATURE_LEN};

/// The version byte of both messages: protocol version 3 in both nibbles.
pub const VERSION_BYTE: u8 = 0x33;

/// A sender's chain at some iteration, as handed to each group member over a pairwise session.
#[derive(Clone, PartialEq, Eq)]
pub struct SenderKeyDistributionMessage {
    /// The sender's key id (random, 31 bits in every client we read).
    pub key_id: u32,
    /// The iteration `chain_key` is at.
    pub iteration: u32,
    /// The chain key seed at `iteration`.
    pub chain_key: [u8; 32],
    /// The public key the sender signs its group messages with.
    pub signing_key: PublicKey,
}

impl core::fmt::Debug for SenderKeyDistributionMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The chain key decrypts every later message of the sender: keep it out of logs.
        f.debug_struct("SenderKeyDistributionMessage")
            .field("key_id", &self.key_id)
            .field("iteration", &self.iteration)
            .field("signing_key", &self.signing_key)
            .finish_non_exhaustive()
    }
}

impl SenderKeyDistributionMessage {
    /// The wire bytes: version byte, then the proto.
    pub fn encode(&self) -> Vec<u8> {
        let proto = signal_wire::SenderKeyDistributionMessage {
            id: Some(self.key_id),
            iteration: Some(self.iteration),
            chain_key: Some(self.chain_key.to_vec()),
            signing_key: Some(self.signing_key.to_signal().as_bytes().to_vec()),
        };
        let mut out = Vec::with_capacity(1 + proto.encoded_len());
        out.push(VERSION_BYTE);
        proto.encode_raw(&mut out);
        out
    }

    /// Reads a distribution message from untrusted bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, GroupError> {
        const WHAT: &str = "sender key distribution message";
        check_version(WHAT, bytes)?;
        let mut id = None;
        let mut iteration = None;
        let mut chain_key = None;
        let mut signing_key = None;
        let mut fields = Fields::new(WHAT, bytes, 1, bytes.len());
        while let Some(field) = fields.next_field()? {
            match field.number {
                1 => id = Some(field.uint32()?),
                2 => iteration = Some(field.uint32()?),
                3 => chain_key = Some(field.fixed_bytes::<32>("chainKey")?),
                4 => {
                    let raw = field.bytes()?;
                    let key = SignalPublicKey::from_slice(raw).map_err(|e| {
                        GroupError::malformed(WHAT, field.value_offset, MalformedReason::Key(e))
                    })?;
                    signing_key = Some(key.public_key());
                }
                _ => {}
            }
        }
        let end = bytes.len();
        let missing = |name| GroupError::malformed(WHAT, end, MalformedReason::Missing(name));
        Ok(Self {
            key_id: id.ok_or_else(|| missing("id"))?,
            iteration: iteration.ok_or_else(|| missing("iteration"))?,
            chain_key: chain_key.ok_or_else(|| missing("chainKey"))?,
            signing_key: signing_key.ok_or_else(|| missing("signingKey"))?,
        })
    }
}

/// A parsed group message, borrowing the input: what the signature covers stays the bytes
/// that arrived, never a re-encoding of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderKeyMessage<'a> {
    /// The sender key id the message was made with.
    pub key_id: u32,
    /// The chain iteration of its message key.
    pub iteration: u32,
    /// AES-256-CBC ciphertext of the padded plaintext.
    pub ciphertext: &'a [u8],
    /// The version byte and the proto: the signed bytes.
    pub signed: &'a [u8],
    /// The XEdDSA signature over `signed`.
    pub signature: &'a [u8; SIGNATURE_LEN],
}

impl<'a> SenderKeyMessage<'a> {
    /// Reads a group message from untrusted bytes (the signature is not checked here).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, GroupError> {
        const WHAT: &str = "sender key message";
        check_version(WHAT, bytes)?;
        let Some(proto_end) = bytes.len().checked_sub(SIGNATURE_LEN).filter(|&e| e >= 1) else {
            return Err(GroupError::malformed(
                WHAT,
                bytes.len(),
                MalformedReason::Truncated,
            ));
        };
        let (signed, signature) = bytes.split_at(proto_end);
        let signature: &[u8; SIGNATURE_LEN] = signature
            .try_into()
            .map_err(|_| GroupError::malformed(WHAT, proto_end, MalformedReason::Truncated))?;
        let mut id = None;
        let mut iteration = None;
        let mut ciphertext = None;
        let mut fields = Fields::new(WHAT, bytes, 1, proto_end);
        while let Some(field) = fields.next_field()? {
            match field.number {
                1 => id = Some(field.uint32()?),
                2 => iteration = Some(field.uint32()?),
                3 => ciphertext = Some(field.bytes()?),
                _ => {}
            }
        }
        let missing = |name| GroupError::malformed(WHAT, proto_end, MalformedReason::Missing(name));
        Ok(Self {
            key_id: id.ok_or_else(|| missing("id"))?,
            iteration: iteration.ok_or_else(|| missing("iteration"))?,
            ciphertext: ciphertext.ok_or_else(|| missing("ciphertext"))?,
            signed,
            signature,
        })
    }
}

/// The proto part of a group message (what gets signed after the version byte).
pub(crate) fn encode_message_body(key_id: u32, iteration: u32, ciphertext: &[u8]) -> Vec<u8> {
    let proto = signal_wire::SenderKeyMessage {
        id: Some(key_id),
        iteration: Some(iteration),
        ciphertext: Some(ciphertext.to_vec()),
    };
    let mut out = Vec::with_capacity(1 + proto.encoded_len() + SIGNATURE_LEN);
    out.push(VERSION_BYTE);
    proto.encode_raw(&mut out);
    out
}

fn check_version(what: &'static str, bytes: &[u8]) -> Result<(), GroupError> {
    match bytes.first() {
        None => Err(GroupError::malformed(what, 0, MalformedReason::Truncated)),
        Some(&v) if v >> 4 != 3 => Err(GroupError::malformed(what, 0, MalformedReason::Version(v))),
        Some(_) => Ok(()),
    }
}

/// One field of a protobuf message.
struct Field<'a> {
    what: &'static str,
    number: u32,
    value: Value<'a>,
    /// Where the field's value starts in the whole input.
    value_offset: usize,
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

impl<'a> Field<'a> {
    fn wrong_type(&self) -> GroupError {
        GroupError::malformed(
            self.what,
            self.value_offset,
            MalformedReason::FieldType(self.number),
        )
    }

    fn uint32(&self) -> Result<u32, GroupError> {
        match self.value {
            Value::Varint(v) => u32::try_from(v).map_err(|_| {
                GroupError::malformed(self.what, self.value_offset, MalformedReason::ValueTooLarge)
            }),
            _ => Err(self.wrong_type()),
        }
    }

    fn bytes(&self) -> Result<&'a [u8], GroupError> {
        match self.value {
            Value::Bytes(b) => Ok(b),
            _ => Err(self.wrong_type()),
        }
    }

    fn fixed_bytes<const N: usize>(&self, field: &'static str) -> Result<[u8; N], GroupError> {
        let raw = self.bytes()?;
        raw.try_into().map_err(|_| {
            GroupError::malformed(
                self.what,
                self.value_offset,
                MalformedReason::Length {
                    field,
                    expected: N,
                    actual: raw.len(),
                },
            )
        })
    }
}

/// Walks the fields of `bytes[start..end]`, keeping offsets relative to the whole input.
struct Fields<'a> {
    what: &'static str,
    bytes: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Fields<'a> {
    fn new(what: &'static str, bytes: &'a [u8], start: usize, end: usize) -> Self {
        Self {
            what,
            bytes,
            pos: start,
            end,
        }
    }

    fn err(&self, offset: usize, reason: MalformedReason) -> GroupError {
        GroupError::malformed(self.what, offset, reason)
    }

    fn varint(&mut self) -> Result<u64, GroupError> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(&b) = self.bytes[..self.end].get(self.pos) else {
                return Err(self.err(self.pos, MalformedReason::Truncated));
            };
            self.pos += 1;
            let low = u64::from(b & 0x7f);
            // The tenth byte may only carry the top bit of a u64.
            if i == 9 && low > 1 {
                return Err(self.err(start, MalformedReason::VarintTooLong));
            }
            value |= low << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.err(start, MalformedReason::VarintTooLong))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], GroupError> {
        let start = self.pos;
        let stop = start
            .checked_add(len)
            .filter(|&s| s <= self.end)
            .ok_or_else(|| self.err(start, MalformedReason::Truncated))?;
        self.pos = stop;
        Ok(&self.bytes[start..stop])
    }

    fn next_field(&mut self) -> Result<Option<Field<'a>>, GroupError> {
        if self.pos >= self.end {
            return Ok(None);
        }
        let tag_offset = self.pos;
        let tag = self.varint()?;
        let number = u32::try_from(tag >> 3)
            .map_err(|_| self.err(tag_offset, MalformedReason::ValueTooLarge))?;
        if number == 0 {
            return Err(self.err(tag_offset, MalformedReason::FieldZero));
        }
        let mut value_offset = self.pos;
        let value = match (tag & 7) as u8 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let len_offset = self.pos;
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| self.err(len_offset, MalformedReason::Truncated))?;
                value_offset = self.pos;
                Value::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            other => return Err(self.err(tag_offset, MalformedReason::WireType(other))),
        };
        Ok(Some(Field {
            what: self.what,
            number,
            value,
            value_offset,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skdm() -> SenderKeyDistributionMessage {
        SenderKeyDistributionMessage {
            key_id: 0x1234_5678,
            iteration: 7,
            chain_key: [0xaa; 32],
            signing_key: PublicKey::from_bytes([0x11; 32]),
        }
    }

    #[test]
    fn distribution_message_layout_and_round_trip() {
        let bytes = skdm().encode();
        // 33 || 08 varint(id) 10 07 1a 20 <32> 22 21 05 <32>
        assert_eq!(bytes[0], 0x33);
        assert_eq!(bytes[1], 0x08);
        assert_eq!(
            &bytes[bytes.len() - 35..bytes.len() - 32],
            [0x22, 0x21, 0x05]
        );
        assert_eq!(SenderKeyDistributionMessage::parse(&bytes), Ok(skdm()));
    }

    #[test]
    fn distribution_message_refusals_name_the_offset() {
        let bytes = skdm().encode();
        let err = SenderKeyDistributionMessage::parse(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(matches!(
            err,
            GroupError::Malformed {
                reason: MalformedReason::Truncated,
                ..
            }
        ));
        let mut wrong_version = bytes.clone();
        wrong_version[0] = 0x23;
        assert_eq!(
            SenderKeyDistributionMessage::parse(&wrong_version),
            Err(GroupError::malformed(
                "sender key distribution message",
                0,
                MalformedReason::Version(0x23)
            ))
        );
        // Drop the signing key field entirely.
        let without_key = &bytes[..bytes.len() - 35];
        assert_eq!(
            SenderKeyDistributionMessage::parse(without_key),
            Err(GroupError::malformed(
                "sender key distribution message",
                without_key.len(),
                MalformedReason::Missing("signingKey")
            ))
        );
        let mut wrong_type = bytes.clone();
        let n = wrong_type.len();
        wrong_type[n - 33] = 0x06;
        assert!(matches!(
            SenderKeyDistributionMessage::parse(&wrong_type),
            Err(GroupError::Malformed {
                offset,
                reason: MalformedReason::Key(_),
                ..
            }) if offset == n - 33
        ));
    }

    #[test]
    fn message_parse_splits_signature_and_signed_part() {
        let mut bytes = encode_message_body(5, 9, &[1; 16]);
        let signed_len = bytes.len();
        bytes.extend_from_slice(&[0x77; 64]);
        let m = SenderKeyMessage::parse(&bytes).unwrap();
        assert_eq!((m.key_id, m.iteration), (5, 9));
        assert_eq!(m.ciphertext, &[1; 16]);
        assert_eq!(m.signed, &bytes[..signed_len]);
        assert_eq!(m.signature, &[0x77; 64]);
        assert!(SenderKeyMessage::parse(&bytes[..64]).is_err());
        assert!(SenderKeyMessage::parse(&[]).is_err());
    }

    #[test]
    fn unknown_fields_are_skipped_and_bad_varints_refused() {
        // id=1, iteration=2, an unknown fixed32 field 9, ciphertext, signature.
        let mut bytes = vec![
            0x33, 0x08, 0x01, 0x10, 0x02, 0x4d, 1, 2, 3, 4, 0x1a, 0x01, 0xff,
        ];
        bytes.extend_from_slice(&[0; 64]);
        let m = SenderKeyMessage::parse(&bytes).unwrap();
        assert_eq!(m.ciphertext, &[0xff]);
        let mut overlong = vec![0x33, 0x08];
        overlong.extend_from_slice(&[0xff; 11]);
        overlong.extend_from_slice(&[0; 64]);
        assert!(matches!(
            SenderKeyMessage::parse(&overlong),
            Err(GroupError::Malformed { offset: 2, .. })
        ));
        let mut big = vec![0x33, 0x08, 0x80, 0x80, 0x80, 0x80, 0x10];
        big.extend_from_slice(&[0; 64]);
        assert!(matches!(
            SenderKeyMessage::parse(&big),
            Err(GroupError::Malformed {
                offset: 2,
                reason: MalformedReason::ValueTooLarge,
                ..
            })
        ));
    }
}
