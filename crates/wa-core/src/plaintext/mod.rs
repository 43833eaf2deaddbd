//! The plaintext inside every pairwise and group ciphertext: a `Message` protobuf
//! (proto/e2e.proto, WAWebProtobufsE2E subset) with WhatsApp's random padding.
//!
//! Message ids are in [`crate::ids`].

pub mod padding;

use prost::Message as _;
use rand_core::RngCore;

pub use padding::{pad, pad_with, unpad, PaddingError, MAX_PADDING};

use crate::proto::Message;

/// Why a decrypted plaintext is not a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaintextError {
    /// The padding is not WhatsApp's.
    #[error(transparent)]
    Padding(#[from] PaddingError),
    /// The unpadded bytes are not a `Message` protobuf (nack 491 in whatsmeow's terms).
    #[error("plaintext is not a Message protobuf: {0}")]
    Protobuf(#[from] prost::DecodeError),
}

/// The bytes to encrypt for `message`: its protobuf with random padding.
pub fn encode_padded(message: &Message, rng: &mut impl RngCore) -> Vec<u8> {
    pad(&message.encode_to_vec(), rng)
}

/// The message in a decrypted plaintext.
pub fn decode_padded(padded: &[u8]) -> Result<Message, PlaintextError> {
    Ok(Message::decode(unpad(padded)?)?)
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::proto::{
        DeviceListMetadata, DeviceSentMessage, MessageContextInfo, SenderKeyDistributionMessage,
    };

    #[test]
    fn messages_round_trip_through_padding() {
        let mut rng = StdRng::seed_from_u64(1);
        let message = Message {
            device_sent_message: Some(Box::new(DeviceSentMessage {
                destination_jid: Some("15551234567@s.whatsapp.net".into()),
                message: Some(Box::new(Message {
                    conversation: Some("hi".into()),
                    ..Default::default()
                })),
                phash: None,
            })),
            sender_key_distribution_message: Some(SenderKeyDistributionMessage {
                group_id: Some("120363012345678901@g.us".into()),
                axolotl_sender_key_distribution_message: Some(vec![0x33, 0x08, 0x01]),
            }),
            message_context_info: Some(MessageContextInfo {
                device_list_metadata: Some(DeviceListMetadata {
                    sender_timestamp: Some(1_764_000_000),
                    ..Default::default()
                }),
                device_list_metadata_version: Some(2),
                message_secret: Some(vec![9; 32]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut lengths = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let padded = encode_padded(&message, &mut rng);
            lengths.insert(padded.len() - message.encoded_len());
            assert_eq!(decode_padded(&padded), Ok(message.clone()));
        }
        // Every padding length from 1 to 16 shows up.
        assert_eq!(lengths, (1..=16).collect());
    }

    #[test]
    fn bad_plaintexts_are_typed_errors() {
        assert_eq!(
            decode_padded(&[]),
            Err(PlaintextError::Padding(PaddingError::Empty))
        );
        // A length-delimited field running past the end, correctly padded.
        assert!(matches!(
            decode_padded(&pad_with(&[0x0a, 0x05, b'h'], 2)),
            Err(PlaintextError::Protobuf(_))
        ));
    }
}
