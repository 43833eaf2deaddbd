//! The phone's side of the ADV identity, for the simulator: issue a signed device identity to a
//! companion that scanned our QR code, then check the companion's `pair-device-sign` answer as
//! strictly as the real server and phone would.

use prost::Message as _;
use rand_core::CryptoRngCore;

use super::adv::{account_signature_prefix, adv_hmac, device_signature_parts};
use crate::proto::{
    AdvDeviceIdentity, AdvEncryptionType, AdvSignedDeviceIdentity, AdvSignedDeviceIdentityHmac,
};
use crate::signal::{xeddsa, KeyPair, PublicKey, SignatureError};

/// What the phone issued to one companion, kept to check the companion's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedIdentity {
    /// The content of `<device-identity>` in `pair-success`: a serialized
    /// `ADVSignedDeviceIdentityHMAC`.
    pub device_identity: Vec<u8>,
    /// The serialized `ADVDeviceIdentity` both signatures cover.
    pub details: Vec<u8>,
    /// The account signature over the details and the companion's identity key.
    pub account_signature: [u8; xeddsa::SIGNATURE_LEN],
    /// The key index given to the companion.
    pub key_index: u32,
    /// The companion's identity key the account key vouched for.
    pub companion_identity_pub: PublicKey,
    /// The account (primary device) identity key.
    pub account_signature_key: PublicKey,
}

/// Signs `device` for the companion whose identity key is `companion_identity_pub` with the
/// account key, and wraps it in the HMAC keyed by the ADV secret from the companion's QR code.
pub fn issue_device_identity(
    account: &KeyPair,
    companion_identity_pub: &PublicKey,
    adv_secret: &[u8; 32],
    device: &AdvDeviceIdentity,
    rng: &mut impl CryptoRngCore,
) -> IssuedIdentity {
    let details = device.encode_to_vec();
    let prefix = account_signature_prefix(device.device_type());
    let mut random = [0u8; 64];
    rng.fill_bytes(&mut random);
    let account_signature = xeddsa::sign_parts(
        &account.private,
        &[&prefix, &details, companion_identity_pub.as_bytes()],
        &random,
    );
    let signed = AdvSignedDeviceIdentity {
        details: Some(details.clone()),
        account_signature_key: Some(account.public.as_bytes().to_vec()),
        account_signature: Some(account_signature.to_vec()),
        device_signature: None,
    }
    .encode_to_vec();
    let account_type = device.account_type();
    let hmac = adv_hmac(adv_secret, account_type, &signed);
    let container = AdvSignedDeviceIdentityHmac {
        details: Some(signed),
        hmac: Some(hmac.to_vec()),
        // Absent means E2EE; only hosted accounts spell their type out.
        account_type: (account_type == AdvEncryptionType::Hosted).then_some(account_type as i32),
    };
    IssuedIdentity {
        device_identity: container.encode_to_vec(),
        details,
        account_signature,
        key_index: device.key_index(),
        companion_identity_pub: *companion_identity_pub,
        account_signature_key: account.public,
    }
}

impl IssuedIdentity {
    /// Recovers what was issued from the `<device-identity>` content of a `pair-success`, for a
    /// phone that did not keep it. The account signature is not re-checked here; the companion
    /// does that.
    pub fn from_device_identity(
        device_identity: &[u8],
        companion_identity_pub: &PublicKey,
    ) -> Result<Self, IssuedIdentityError> {
        let container = AdvSignedDeviceIdentityHmac::decode(device_identity)?;
        let signed =
            AdvSignedDeviceIdentity::decode(container.details.unwrap_or_default().as_slice())?;
        let details = signed
            .details
            .ok_or(IssuedIdentityError::MissingField("details"))?;
        let device = AdvDeviceIdentity::decode(details.as_slice())?;
        let account_signature = signed
            .account_signature
            .as_deref()
            .and_then(|s| <[u8; xeddsa::SIGNATURE_LEN]>::try_from(s).ok())
            .ok_or(IssuedIdentityError::MissingField("accountSignature"))?;
        let account_signature_key = signed
            .account_signature_key
            .as_deref()
            .and_then(|k| PublicKey::from_slice(k).ok())
            .ok_or(IssuedIdentityError::MissingField("accountSignatureKey"))?;
        Ok(Self {
            device_identity: device_identity.to_vec(),
            key_index: device.key_index(),
            details,
            account_signature,
            companion_identity_pub: *companion_identity_pub,
            account_signature_key,
        })
    }
}

/// Why an issued identity cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum IssuedIdentityError {
    /// A layer does not decode.
    #[error("issued identity does not decode")]
    Decode(#[from] prost::DecodeError),
    /// A field is absent or has the wrong size.
    #[error("issued identity has no valid {0}")]
    MissingField(&'static str),
}

/// Why the phone refuses a companion's `pair-device-sign`.
#[derive(Debug, thiserror::Error)]
pub enum PairDeviceSignError {
    /// The `<device-identity>` content is not an `ADVSignedDeviceIdentity`.
    #[error("pair-device-sign identity does not decode")]
    Decode(#[source] prost::DecodeError),
    /// The companion sent `accountSignatureKey` back; it must strip it.
    #[error("pair-device-sign still carries accountSignatureKey")]
    AccountSignatureKeyKept,
    /// The details differ from the ones the phone issued.
    #[error("pair-device-sign details differ from the issued ones")]
    DetailsMismatch,
    /// The account signature differs from the one the phone issued.
    #[error("pair-device-sign account signature differs from the issued one")]
    AccountSignatureMismatch,
    /// There is no device signature.
    #[error("pair-device-sign has no deviceSignature")]
    MissingDeviceSignature,
    /// The device signature does not verify against the companion's identity key.
    #[error("device signature does not verify")]
    DeviceSignature(#[source] SignatureError),
    /// The `key-index` attribute is not the key index the phone issued.
    #[error("key-index {got} does not match the issued {expected}")]
    KeyIndexMismatch {
        /// What the phone issued.
        expected: u32,
        /// What the companion sent.
        got: u32,
    },
}

/// Checks the companion's `pair-device-sign`: the `key-index` attribute and the content of its
/// `<device-identity>`. Returns the complete identity (with the account key put back) as the
/// phone would record it.
pub fn verify_pair_device_sign(
    issued: &IssuedIdentity,
    key_index: u32,
    device_identity: &[u8],
) -> Result<AdvSignedDeviceIdentity, PairDeviceSignError> {
    let mut signed =
        AdvSignedDeviceIdentity::decode(device_identity).map_err(PairDeviceSignError::Decode)?;
    if signed.account_signature_key.is_some() {
        return Err(PairDeviceSignError::AccountSignatureKeyKept);
    }
    if key_index != issued.key_index {
        return Err(PairDeviceSignError::KeyIndexMismatch {
            expected: issued.key_index,
            got: key_index,
        });
    }
    if signed.details.as_deref() != Some(issued.details.as_slice()) {
        return Err(PairDeviceSignError::DetailsMismatch);
    }
    if signed.account_signature.as_deref() != Some(issued.account_signature.as_slice()) {
        return Err(PairDeviceSignError::AccountSignatureMismatch);
    }
    let device_signature = signed
        .device_signature
        .as_deref()
        .ok_or(PairDeviceSignError::MissingDeviceSignature)?;
    xeddsa::verify_parts(
        &issued.companion_identity_pub,
        &device_signature_parts(
            &issued.details,
            &issued.companion_identity_pub,
            &issued.account_signature_key,
        ),
        device_signature,
    )
    .map_err(PairDeviceSignError::DeviceSignature)?;
    signed.account_signature_key = Some(issued.account_signature_key.as_bytes().to_vec());
    Ok(signed)
}
