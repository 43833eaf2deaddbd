//! The companion's side of the ADV ("account device") identity in `pair-success`.
//!
//! The phone proves three things in `<device-identity>`: that it saw our QR code (an HMAC keyed
//! with the ADV secret from the QR), that the account key vouches for our identity key (the
//! account signature), and which key index our device got. We answer by signing the same details
//! with our identity key (the device signature).

use hmac::{Hmac, Mac};
use prost::Message as _;
use rand_core::CryptoRngCore;
use sha2::Sha256;

use crate::proto::{
    AdvDeviceIdentity, AdvEncryptionType, AdvSignedDeviceIdentity, AdvSignedDeviceIdentityHmac,
};
use crate::signal::{xeddsa, KeyPair, PublicKey, SignatureError};

/// Prefix of the message the account key signs for an E2EE device.
pub const ACCOUNT_SIGNATURE_PREFIX: [u8; 2] = [0x06, 0x00];
/// Prefix of the message the device key signs.
pub const DEVICE_SIGNATURE_PREFIX: [u8; 2] = [0x06, 0x01];
/// Prefix for hosted accounts: of the HMAC input, and of the account-signed message when the
/// device is hosted.
pub const HOSTED_ACCOUNT_SIGNATURE_PREFIX: [u8; 2] = [0x06, 0x05];
/// Hosted counterpart of [`DEVICE_SIGNATURE_PREFIX`]; defined by the protocol, but no reference
/// client signs with it, so neither do we.
pub const HOSTED_DEVICE_SIGNATURE_PREFIX: [u8; 2] = [0x06, 0x06];

/// The error answer a companion sends instead of `pair-device-sign`, as
/// `<error code=… text=…/>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairErrorReply {
    /// 401 `hmac-mismatch`: the identity was not made for our ADV secret.
    HmacMismatch,
    /// 401 `signature-mismatch`: the account signature does not hold.
    SignatureMismatch,
    /// 500 `internal-error`: anything else (undecodable identity, missing fields).
    InternalError,
}

impl PairErrorReply {
    /// The `code` attribute.
    pub fn code(self) -> u16 {
        match self {
            Self::HmacMismatch | Self::SignatureMismatch => 401,
            Self::InternalError => 500,
        }
    }

    /// The `text` attribute.
    pub fn text(self) -> &'static str {
        match self {
            Self::HmacMismatch => "hmac-mismatch",
            Self::SignatureMismatch => "signature-mismatch",
            Self::InternalError => "internal-error",
        }
    }
}

/// Which protobuf of the ADV nesting failed to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvLayer {
    /// The outer `ADVSignedDeviceIdentityHMAC`.
    SignedDeviceIdentityHmac,
    /// `ADVSignedDeviceIdentity`, the HMAC's details.
    SignedDeviceIdentity,
    /// `ADVDeviceIdentity`, the signed details.
    DeviceIdentity,
}

/// Why the companion refused a `pair-success` identity.
#[derive(Debug, thiserror::Error)]
pub enum AdvError {
    /// A layer is not a valid protobuf.
    #[error("{layer:?} does not decode")]
    Decode {
        /// Which layer.
        layer: AdvLayer,
        /// prost's complaint.
        #[source]
        source: prost::DecodeError,
    },
    /// A field the checks need is absent.
    #[error("{0} is missing")]
    MissingField(&'static str),
    /// The HMAC does not match our ADV secret.
    #[error("ADV HMAC does not match")]
    HmacMismatch,
    /// The account signature key is not 32 bytes.
    #[error("account signature key is {0} bytes, expected 32")]
    AccountSignatureKeyLength(usize),
    /// The account signature is not 64 bytes.
    #[error("account signature is {0} bytes, expected 64")]
    AccountSignatureLength(usize),
    /// The account signature does not verify.
    #[error("account signature does not verify")]
    AccountSignature(#[source] SignatureError),
}

impl AdvError {
    /// The error reply this failure calls for.
    pub fn reply(&self) -> PairErrorReply {
        match self {
            Self::HmacMismatch => PairErrorReply::HmacMismatch,
            Self::AccountSignatureKeyLength(_)
            | Self::AccountSignatureLength(_)
            | Self::AccountSignature(_) => PairErrorReply::SignatureMismatch,
            Self::Decode { .. } | Self::MissingField(_) => PairErrorReply::InternalError,
        }
    }
}

/// `HMAC-SHA256(adv_secret, [06 05 if HOSTED] || details)`.
pub fn adv_hmac(
    adv_secret: &[u8; 32],
    account_type: AdvEncryptionType,
    details: &[u8],
) -> [u8; 32] {
    let mut mac = new_mac(adv_secret);
    if account_type == AdvEncryptionType::Hosted {
        mac.update(&HOSTED_ACCOUNT_SIGNATURE_PREFIX);
    }
    mac.update(details);
    mac.finalize().into_bytes().into()
}

fn new_mac(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; this constructor only fails for fixed-key MACs.
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts any key length"),
    }
}

/// Checks the HMAC of an `ADVSignedDeviceIdentityHMAC` in constant time and returns its details
/// (a serialized `ADVSignedDeviceIdentity`).
pub fn verify_adv_hmac<'a>(
    adv_secret: &[u8; 32],
    container: &'a AdvSignedDeviceIdentityHmac,
) -> Result<&'a [u8], AdvError> {
    let details = container.details.as_deref().ok_or(AdvError::MissingField(
        "ADVSignedDeviceIdentityHMAC.details",
    ))?;
    let hmac = container
        .hmac
        .as_deref()
        .ok_or(AdvError::MissingField("ADVSignedDeviceIdentityHMAC.HMAC"))?;
    let mut mac = new_mac(adv_secret);
    if container.account_type() == AdvEncryptionType::Hosted {
        mac.update(&HOSTED_ACCOUNT_SIGNATURE_PREFIX);
    }
    mac.update(details);
    // verify_slice compares in constant time and rejects wrong lengths.
    mac.verify_slice(hmac).map_err(|_| AdvError::HmacMismatch)?;
    Ok(details)
}

/// The prefix of the account-signed message for a device of this type.
pub fn account_signature_prefix(device_type: AdvEncryptionType) -> [u8; 2] {
    match device_type {
        AdvEncryptionType::Hosted => HOSTED_ACCOUNT_SIGNATURE_PREFIX,
        AdvEncryptionType::E2ee => ACCOUNT_SIGNATURE_PREFIX,
    }
}

/// Verifies `accountSignature` over `prefix || details || device_identity_pub` and returns the
/// account signature key.
pub fn verify_account_signature(
    signed: &AdvSignedDeviceIdentity,
    device: &AdvDeviceIdentity,
    device_identity_pub: &PublicKey,
) -> Result<PublicKey, AdvError> {
    let details = signed
        .details
        .as_deref()
        .ok_or(AdvError::MissingField("ADVSignedDeviceIdentity.details"))?;
    let key = signed
        .account_signature_key
        .as_deref()
        .ok_or(AdvError::MissingField(
            "ADVSignedDeviceIdentity.accountSignatureKey",
        ))?;
    let key =
        PublicKey::from_slice(key).map_err(|_| AdvError::AccountSignatureKeyLength(key.len()))?;
    let signature = signed
        .account_signature
        .as_deref()
        .ok_or(AdvError::MissingField(
            "ADVSignedDeviceIdentity.accountSignature",
        ))?;
    if signature.len() != xeddsa::SIGNATURE_LEN {
        return Err(AdvError::AccountSignatureLength(signature.len()));
    }
    let prefix = account_signature_prefix(device.device_type());
    xeddsa::verify_parts(
        &key,
        &[&prefix, details, device_identity_pub.as_bytes()],
        signature,
    )
    .map_err(AdvError::AccountSignature)?;
    Ok(key)
}

/// The parts of the message the device key signs:
/// `[06 01] || details || device_identity_pub || account_signature_key`.
pub fn device_signature_parts<'a>(
    details: &'a [u8],
    device_identity_pub: &'a PublicKey,
    account_signature_key: &'a PublicKey,
) -> [&'a [u8]; 4] {
    [
        &DEVICE_SIGNATURE_PREFIX,
        details,
        device_identity_pub.as_bytes(),
        account_signature_key.as_bytes(),
    ]
}

/// The outcome of a verified `pair-success` identity.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedIdentity {
    /// To persist as the account: with `accountSignatureKey` and our `deviceSignature`. It is
    /// also what we later attach as `<device-identity>` to `pkmsg` messages.
    pub account: AdvSignedDeviceIdentity,
    /// To send back in `pair-device-sign`: the same without `accountSignatureKey`.
    pub reply: AdvSignedDeviceIdentity,
    /// The decoded inner details.
    pub device: AdvDeviceIdentity,
    /// `ADVDeviceIdentity.keyIndex`, the `key-index` attribute of the reply.
    pub key_index: u32,
    /// The primary device's identity key; store it as the trusted identity of device 0.
    pub account_signature_key: PublicKey,
}

impl PairedIdentity {
    /// The bytes of [`Self::reply`] for the `<device-identity>` of `pair-device-sign`.
    pub fn reply_bytes(&self) -> Vec<u8> {
        self.reply.encode_to_vec()
    }
}

/// Runs every companion-side check on the content of `<device-identity>` from `pair-success`
/// and signs it with our identity key.
pub fn verify_pair_success_identity(
    device_identity: &[u8],
    adv_secret: &[u8; 32],
    identity: &KeyPair,
    rng: &mut impl CryptoRngCore,
) -> Result<PairedIdentity, AdvError> {
    let container = AdvSignedDeviceIdentityHmac::decode(device_identity).map_err(|source| {
        AdvError::Decode {
            layer: AdvLayer::SignedDeviceIdentityHmac,
            source,
        }
    })?;
    let signed_bytes = verify_adv_hmac(adv_secret, &container)?;
    let mut signed =
        AdvSignedDeviceIdentity::decode(signed_bytes).map_err(|source| AdvError::Decode {
            layer: AdvLayer::SignedDeviceIdentity,
            source,
        })?;
    let details = signed
        .details
        .clone()
        .ok_or(AdvError::MissingField("ADVSignedDeviceIdentity.details"))?;
    let device =
        AdvDeviceIdentity::decode(details.as_slice()).map_err(|source| AdvError::Decode {
            layer: AdvLayer::DeviceIdentity,
            source,
        })?;
    let account_signature_key = verify_account_signature(&signed, &device, &identity.public)?;

    let mut random = [0u8; 64];
    rng.fill_bytes(&mut random);
    let device_signature = xeddsa::sign_parts(
        &identity.private,
        &device_signature_parts(&details, &identity.public, &account_signature_key),
        &random,
    );
    signed.device_signature = Some(device_signature.to_vec());
    let mut reply = signed.clone();
    reply.account_signature_key = None;
    Ok(PairedIdentity {
        account: signed,
        reply,
        key_index: device.key_index(),
        device,
        account_signature_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_replies_are_the_protocols() {
        assert_eq!(
            (
                PairErrorReply::HmacMismatch.code(),
                PairErrorReply::HmacMismatch.text()
            ),
            (401, "hmac-mismatch")
        );
        assert_eq!(
            (
                PairErrorReply::SignatureMismatch.code(),
                PairErrorReply::SignatureMismatch.text()
            ),
            (401, "signature-mismatch")
        );
        assert_eq!(
            (
                PairErrorReply::InternalError.code(),
                PairErrorReply::InternalError.text()
            ),
            (500, "internal-error")
        );
        assert_eq!(AdvError::HmacMismatch.reply(), PairErrorReply::HmacMismatch);
        assert_eq!(
            AdvError::AccountSignatureLength(3).reply(),
            PairErrorReply::SignatureMismatch
        );
        assert_eq!(
            AdvError::MissingField("x").reply(),
            PairErrorReply::InternalError
        );
    }

    #[test]
    fn hmac_rejects_missing_and_short_tags() {
        let mut container = AdvSignedDeviceIdentityHmac {
            details: Some(vec![1, 2, 3]),
            hmac: None,
            account_type: None,
        };
        assert!(matches!(
            verify_adv_hmac(&[0; 32], &container),
            Err(AdvError::MissingField(_))
        ));
        let good = adv_hmac(&[0; 32], AdvEncryptionType::E2ee, &[1, 2, 3]);
        container.hmac = Some(good[..31].to_vec());
        assert!(matches!(
            verify_adv_hmac(&[0; 32], &container),
            Err(AdvError::HmacMismatch)
        ));
        container.hmac = Some(good.to_vec());
        assert_eq!(verify_adv_hmac(&[0; 32], &container).unwrap(), &[1, 2, 3]);
        // The same tag under the hosted prefix must not pass.
        container.account_type = Some(AdvEncryptionType::Hosted as i32);
        assert!(matches!(
            verify_adv_hmac(&[0; 32], &container),
            Err(AdvError::HmacMismatch)
        ));
    }
}
