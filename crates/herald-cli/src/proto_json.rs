//! The JSON form of the protobuf messages `debug proto` handles, by reflection over wa-core's
//! descriptors (prost-reflect), in the shape protobufjs' `toObject(m, {longs: Number, enums:
//! Number, bytes: String})` gives in Baileys, so a JavaScript test can compare field by field:
//!
//! * field names as protobufjs spells them (`eRegid`, `eSkeyId`, `rawId`, `hmac`, `phoneId`:
//!   the `json_name`s in wa-core's `.proto` files);
//! * integers and enums as JSON numbers (u64 as well: phone numbers stay below 2^53);
//! * bytes as standard base64 strings;
//! * an absent optional field is absent from the object, a repeated field is an array.
//!
//! Unknown keys on input are an error, so a misspelt field never passes silently.

use std::sync::OnceLock;

use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};
use serde_json::Value;

/// The messages `debug proto` is for, by their protobuf names, with their packages.
pub const MESSAGE_TYPES: &[(&str, &str)] = &[
    ("ClientPayload", "wa6.ClientPayload"),
    ("DeviceProps", "companion_reg.DeviceProps"),
    (
        "ADVSignedDeviceIdentityHMAC",
        "adv.ADVSignedDeviceIdentityHMAC",
    ),
    ("ADVSignedDeviceIdentity", "adv.ADVSignedDeviceIdentity"),
    ("ADVDeviceIdentity", "adv.ADVDeviceIdentity"),
];

/// Why a JSON object is not the message it claims to be.
#[derive(Debug, thiserror::Error)]
pub enum ProtoJsonError {
    /// The line is not JSON, or not the message's JSON (a wrong type, an unknown field).
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The message type is not one of [`MESSAGE_TYPES`] nor a full name wa-core declares.
    #[error("unknown message type {0}")]
    UnknownType(String),
    /// The bytes do not decode as the message.
    #[error("protobuf decode: {0}")]
    Decode(#[from] prost::DecodeError),
    /// wa-core's embedded descriptors do not load (a build fault, not bad input).
    #[error("protobuf descriptors: {0}")]
    Descriptors(#[from] prost_reflect::DescriptorError),
}

type Result<T> = std::result::Result<T, ProtoJsonError>;

/// wa-core's messages, loaded once.
fn pool() -> Result<&'static DescriptorPool> {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    if let Some(pool) = POOL.get() {
        return Ok(pool);
    }
    let pool = DescriptorPool::decode(wa_core::proto::FILE_DESCRIPTOR_SET)?;
    Ok(POOL.get_or_init(|| pool))
}

/// The descriptor of `message_type`, by its short name or its full name.
fn descriptor(message_type: &str) -> Result<MessageDescriptor> {
    let full = MESSAGE_TYPES
        .iter()
        .find(|(short, _)| *short == message_type)
        .map_or(message_type, |(_, full)| full);
    pool()?
        .get_message_by_name(full)
        .ok_or_else(|| ProtoJsonError::UnknownType(message_type.to_owned()))
}

/// Encodes one message given as JSON.
pub fn encode(message_type: &str, json: &str) -> Result<Vec<u8>> {
    let desc = descriptor(message_type)?;
    let mut de = serde_json::Deserializer::from_str(json);
    let message = DynamicMessage::deserialize(desc, &mut de)?;
    de.end()?;
    Ok(message.encode_to_vec())
}

/// Decodes one message to its JSON form.
pub fn decode(message_type: &str, bytes: &[u8]) -> Result<Value> {
    let message = DynamicMessage::decode(descriptor(message_type)?, bytes)?;
    let options = SerializeOptions::new()
        .use_enum_numbers(true)
        .stringify_64_bit_integers(false);
    Ok(message.serialize_with_options(serde_json::value::Serializer, &options)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wa_core::proto::{AdvSignedDeviceIdentityHmac, ClientPayload};

    #[test]
    fn protobufjs_names_numbers_and_base64() {
        let payload = ClientPayload {
            username: Some(15_551_234_567),
            session_id: Some(-5),
            connect_type: Some(1),
            passive: Some(false),
            user_agent: Some(wa_core::proto::client_payload::UserAgent {
                phone_id: Some("p".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let json = decode("ClientPayload", &payload.encode_to_vec()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "username": 15_551_234_567u64,
                "sessionId": -5,
                "connectType": 1,
                "passive": false,
                "userAgent": {"phoneId": "p"},
            })
        );
        let hmac = AdvSignedDeviceIdentityHmac {
            details: Some(vec![1, 2, 3]),
            hmac: Some(vec![0xff; 2]),
            account_type: Some(0),
        };
        let json = decode("ADVSignedDeviceIdentityHMAC", &hmac.encode_to_vec()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"details": "AQID", "hmac": "//8=", "accountType": 0}),
            "a field set to its default is still there"
        );
        let back = encode("ADVSignedDeviceIdentityHMAC", &json.to_string()).unwrap();
        assert_eq!(back, hmac.encode_to_vec());
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let unknown = encode("ADVDeviceIdentity", r#"{"rawId":1,"keyIndx":2}"#).unwrap_err();
        assert!(unknown.to_string().contains("'keyIndx'"), "{unknown}");
        let wrong = encode("ADVDeviceIdentity", r#"{"rawId":"one"}"#).unwrap_err();
        assert!(matches!(wrong, ProtoJsonError::Json(_)), "{wrong}");
        assert!(encode("ADVDeviceIdentity", "{} trailing").is_err());
        assert!(matches!(
            encode("NoSuchMessage", "{}"),
            Err(ProtoJsonError::UnknownType(_))
        ));
        assert!(matches!(
            decode("ADVDeviceIdentity", &[0x08]),
            Err(ProtoJsonError::Decode(_))
        ));
        assert!(
            descriptor("adv.ADVKeyIndexList").is_ok(),
            "full names work too"
        );
    }
}
