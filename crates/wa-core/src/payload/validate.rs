//! The server's view of a `ClientPayload`: decide whether it is a registration or a login and
//! check every rule the reference clients satisfy, so the simulator is at least as strict as the
//! real server is believed to be. Never panics, whatever the bytes.

use prost::Message as _;

use super::AppVersion;
use crate::ids::build_hash;
use crate::proto::client_payload::DevicePairingRegistrationData;
use crate::proto::{ClientPayload, DeviceProps};
use crate::signal::{xeddsa, PublicKey, SignatureError, DJB_TYPE, SIGNATURE_LEN};

/// Why a payload is refused (or, for [`PayloadError::SignedPreKeyIdRange`], cannot be built).
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// The bytes are not a `ClientPayload`.
    #[error("ClientPayload does not decode")]
    Decode(#[source] prost::DecodeError),
    /// A required field is absent.
    #[error("ClientPayload.{0} is missing")]
    MissingField(&'static str),
    /// Both `username` and `devicePairingData`: neither a clean login nor a registration.
    #[error("ClientPayload has both username and devicePairingData")]
    Ambiguous,
    /// Neither `username` nor `devicePairingData`.
    #[error("ClientPayload has neither username nor devicePairingData")]
    NeitherRegistrationNorLogin,
    /// A registration payload carries `device`, or a login payload claims device 0 (the phone).
    #[error("ClientPayload.device is wrong for this kind of payload")]
    BadDevice,
    /// A byte field has the wrong length.
    #[error("{field} is {got} bytes, expected {expected}")]
    FieldLength {
        /// The field, e.g. `devicePairingData.eIdent`.
        field: &'static str,
        /// The length the protocol fixes.
        expected: usize,
        /// The length found.
        got: usize,
    },
    /// `eKeytype` is not `05`.
    #[error("devicePairingData.eKeytype is not 05")]
    KeyType,
    /// The signed prekey signature does not verify against the identity key.
    #[error("signed prekey signature does not verify")]
    SignedPreKeySignature(#[source] SignatureError),
    /// `buildHash` is not the MD5 of the app version in the user agent.
    #[error("buildHash is not MD5 of the app version {0}")]
    BuildHashMismatch(AppVersion),
    /// `deviceProps` is not a `DeviceProps`.
    #[error("devicePairingData.deviceProps does not decode")]
    DeviceProps(#[source] prost::DecodeError),
    /// `passive` is not what this kind of payload must say.
    #[error("passive must be {expected}")]
    Passive {
        /// The required value.
        expected: bool,
    },
    /// `pull` is not what this kind of payload must say.
    #[error("pull must be {expected}")]
    Pull {
        /// The required value.
        expected: bool,
    },
    /// The signed prekey id does not fit the 3 bytes of `eSkeyID`.
    #[error("signed prekey id {0} does not fit in 3 bytes")]
    SignedPreKeyIdRange(u32),
}

/// What a registration payload hands over.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// From `eRegid`.
    pub registration_id: u32,
    /// From `eIdent`.
    pub identity: PublicKey,
    /// From `eSkeyID`.
    pub signed_pre_key_id: u32,
    /// From `eSkeyVal`.
    pub signed_pre_key: PublicKey,
    /// From `eSkeySig`, verified.
    pub signed_pre_key_signature: [u8; SIGNATURE_LEN],
    /// The decoded `deviceProps`.
    pub device_props: DeviceProps,
}

/// What a valid payload asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum PayloadKind {
    /// A new companion that wants to be linked.
    Registration(Box<Registration>),
    /// An existing device of an existing account.
    Login {
        /// The account's phone number.
        username: u64,
        /// The device id.
        device: u32,
    },
}

/// A payload that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedPayload {
    /// Registration or login, with what it carries.
    pub kind: PayloadKind,
    /// The app version the client claims (the server may refuse it as outdated).
    pub app_version: AppVersion,
    /// The whole decoded payload, for anything else the caller wants to look at.
    pub payload: ClientPayload,
}

/// Decodes and checks a `ClientPayload` the way the server would.
pub fn validate_client_payload(bytes: &[u8]) -> Result<ValidatedPayload, PayloadError> {
    let payload = ClientPayload::decode(bytes).map_err(PayloadError::Decode)?;
    let user_agent = payload
        .user_agent
        .as_ref()
        .ok_or(PayloadError::MissingField("userAgent"))?;
    if user_agent.platform.is_none() {
        return Err(PayloadError::MissingField("userAgent.platform"));
    }
    let version = user_agent
        .app_version
        .as_ref()
        .ok_or(PayloadError::MissingField("userAgent.appVersion"))?;
    let app_version = AppVersion {
        primary: version
            .primary
            .ok_or(PayloadError::MissingField("userAgent.appVersion.primary"))?,
        secondary: version
            .secondary
            .ok_or(PayloadError::MissingField("userAgent.appVersion.secondary"))?,
        tertiary: version
            .tertiary
            .ok_or(PayloadError::MissingField("userAgent.appVersion.tertiary"))?,
    };

    let kind = match (&payload.device_pairing_data, payload.username) {
        (Some(_), Some(_)) => return Err(PayloadError::Ambiguous),
        (None, None) => return Err(PayloadError::NeitherRegistrationNorLogin),
        (Some(data), None) => {
            if payload.device.is_some() {
                return Err(PayloadError::BadDevice);
            }
            expect_flag(payload.passive, false, |expected| PayloadError::Passive {
                expected,
            })?;
            expect_flag(payload.pull, false, |expected| PayloadError::Pull {
                expected,
            })?;
            check_registration(data, &app_version)?
        }
        (None, Some(username)) => {
            let device = payload.device.ok_or(PayloadError::MissingField("device"))?;
            if device == 0 {
                return Err(PayloadError::BadDevice);
            }
            expect_flag(payload.passive, true, |expected| PayloadError::Passive {
                expected,
            })?;
            expect_flag(payload.pull, true, |expected| PayloadError::Pull {
                expected,
            })?;
            PayloadKind::Login { username, device }
        }
    };
    Ok(ValidatedPayload {
        kind,
        app_version,
        payload,
    })
}

/// An absent proto2 bool reads as false, so a registration may leave `passive`/`pull` out; a
/// login must say `true`.
fn expect_flag(
    value: Option<bool>,
    expected: bool,
    error: impl FnOnce(bool) -> PayloadError,
) -> Result<(), PayloadError> {
    if value.unwrap_or(false) == expected {
        Ok(())
    } else {
        Err(error(expected))
    }
}

fn fixed<const N: usize>(
    value: &Option<Vec<u8>>,
    field: &'static str,
) -> Result<[u8; N], PayloadError> {
    let bytes = value.as_deref().ok_or(PayloadError::MissingField(field))?;
    bytes.try_into().map_err(|_| PayloadError::FieldLength {
        field,
        expected: N,
        got: bytes.len(),
    })
}

fn check_registration(
    data: &DevicePairingRegistrationData,
    app_version: &AppVersion,
) -> Result<PayloadKind, PayloadError> {
    let registration_id =
        u32::from_be_bytes(fixed::<4>(&data.e_regid, "devicePairingData.eRegid")?);
    if fixed::<1>(&data.e_keytype, "devicePairingData.eKeytype")? != [DJB_TYPE] {
        return Err(PayloadError::KeyType);
    }
    let identity = PublicKey::from_bytes(fixed::<32>(&data.e_ident, "devicePairingData.eIdent")?);
    let [a, b, c] = fixed::<3>(&data.e_skey_id, "devicePairingData.eSkeyID")?;
    let signed_pre_key_id = u32::from_be_bytes([0, a, b, c]);
    let signed_pre_key =
        PublicKey::from_bytes(fixed::<32>(&data.e_skey_val, "devicePairingData.eSkeyVal")?);
    let signed_pre_key_signature =
        fixed::<SIGNATURE_LEN>(&data.e_skey_sig, "devicePairingData.eSkeySig")?;
    xeddsa::verify_parts(
        &identity,
        &[&[DJB_TYPE], signed_pre_key.as_bytes()],
        &signed_pre_key_signature,
    )
    .map_err(PayloadError::SignedPreKeySignature)?;
    let hash = fixed::<16>(&data.build_hash, "devicePairingData.buildHash")?;
    if hash != build_hash(&app_version.to_string()) {
        return Err(PayloadError::BuildHashMismatch(*app_version));
    }
    let props = data
        .device_props
        .as_deref()
        .ok_or(PayloadError::MissingField("devicePairingData.deviceProps"))?;
    let device_props = DeviceProps::decode(props).map_err(PayloadError::DeviceProps)?;
    if device_props.os.is_none() {
        return Err(PayloadError::MissingField(
            "devicePairingData.deviceProps.os",
        ));
    }
    Ok(PayloadKind::Registration(Box::new(Registration {
        registration_id,
        identity,
        signed_pre_key_id,
        signed_pre_key,
        signed_pre_key_signature,
        device_props,
    })))
}
