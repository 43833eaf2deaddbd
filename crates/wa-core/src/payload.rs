//! The `ClientPayload` a client sends inside the Noise `ClientFinish`: a registration payload
//! the first time (it carries our keys so the phone can link us), a login payload after that
//! (it names the account and device we already are).
//!
//! The defaults follow what the maintained reference clients send today; every value that the
//! server is known to gate on (app version, platform) is configuration, because the server
//! changes its mind under us.

mod validate;

pub use validate::{
    validate_client_payload, PayloadError, PayloadKind, Registration, ValidatedPayload,
};

use std::fmt;
use std::str::FromStr;

use prost::Message as _;

use crate::ids::build_hash;
use crate::proto::client_payload::{
    user_agent, web_info, ConnectReason, ConnectType, DevicePairingRegistrationData, UserAgent,
    WebInfo,
};
use crate::proto::device_props::{self, HistorySyncConfig};
use crate::proto::{ClientPayload, DeviceProps};
use crate::signal::{PublicKey, DJB_TYPE, SIGNATURE_LEN};

/// The WhatsApp Web version `primary.secondary.tertiary`; the server refuses outdated ones
/// with `<failure reason="405">`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AppVersion {
    /// Major; `2` since 2024.
    pub primary: u32,
    /// `3000` since 2024.
    pub secondary: u32,
    /// The client revision; advances about weekly.
    pub tertiary: u32,
}

impl AppVersion {
    /// The version compiled in: the one the newest reference client sent when this was written.
    pub const DEFAULT: Self = Self {
        primary: 2,
        secondary: 3000,
        tertiary: 1_045_649_367,
    };

    /// `DevicePairingRegistrationData.buildHash`: MD5 of `P.S.T`.
    pub fn build_hash(&self) -> [u8; 16] {
        build_hash(&self.to_string())
    }

    fn to_proto(self) -> user_agent::AppVersion {
        user_agent::AppVersion {
            primary: Some(self.primary),
            secondary: Some(self.secondary),
            tertiary: Some(self.tertiary),
            quaternary: None,
            quinary: None,
        }
    }
}

impl Default for AppVersion {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for AppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.primary, self.secondary, self.tertiary)
    }
}

/// An app version string that is not three dot-separated numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("app version {0:?} is not of the form P.S.T")]
pub struct AppVersionError(pub String);

impl FromStr for AppVersion {
    type Err = AppVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || AppVersionError(s.to_owned());
        let mut parts = s.split('.').map(|p| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse::<u32>().map_err(|_| bad())
        });
        let (Some(primary), Some(secondary), Some(tertiary), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Ok(Self {
            primary: primary?,
            secondary: secondary?,
            tertiary: tertiary?,
        })
    }
}

/// What the phone shows about us in "Linked devices", and how much history we ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePropsConfig {
    /// The name on the phone's list of linked devices.
    pub os: String,
    /// Our own version, shown nowhere important.
    pub version: (u32, u32, u32),
    /// `DeviceProps.PlatformType`.
    pub platform_type: device_props::PlatformType,
    /// Whether to ask the phone for the full history. A scheduler does not need it, and a
    /// full sync is large.
    pub require_full_sync: bool,
    /// `HistorySyncConfig.storageQuotaMb`.
    pub history_storage_quota_mb: u32,
}

impl Default for DevicePropsConfig {
    fn default() -> Self {
        Self {
            os: "Herald".to_owned(),
            version: (0, 1, 0),
            platform_type: device_props::PlatformType::Unknown,
            require_full_sync: false,
            history_storage_quota_mb: 10_240,
        }
    }
}

impl DevicePropsConfig {
    /// The `DeviceProps` message.
    pub fn to_proto(&self) -> DeviceProps {
        let (primary, secondary, tertiary) = self.version;
        DeviceProps {
            os: Some(self.os.clone()),
            version: Some(device_props::AppVersion {
                primary: Some(primary),
                secondary: Some(secondary),
                tertiary: Some(tertiary),
                quaternary: None,
                quinary: None,
            }),
            platform_type: Some(self.platform_type as i32),
            require_full_sync: Some(self.require_full_sync),
            history_sync_config: Some(HistorySyncConfig {
                storage_quota_mb: Some(self.history_storage_quota_mb),
                inline_initial_payload_in_e2_ee_msg: Some(true),
                support_call_log_history: Some(false),
                ..Default::default()
            }),
        }
    }
}

/// Everything about us that goes into a `ClientPayload` besides keys and identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The WhatsApp Web version we claim to be.
    pub app_version: AppVersion,
    /// `UserAgent.platform`; WEB, as every reference client sends.
    pub platform: user_agent::Platform,
    /// `UserAgent.releaseChannel`.
    pub release_channel: user_agent::ReleaseChannel,
    /// `UserAgent.osVersion`.
    pub os_version: String,
    /// `UserAgent.osBuildNumber`.
    pub os_build_number: String,
    /// `UserAgent.manufacturer`.
    pub manufacturer: String,
    /// `UserAgent.device`.
    pub device: String,
    /// `UserAgent.mcc`.
    pub mcc: String,
    /// `UserAgent.mnc`.
    pub mnc: String,
    /// `UserAgent.localeLanguageIso6391`.
    pub locale_language: String,
    /// `UserAgent.localeCountryIso31661Alpha2`.
    pub locale_country: String,
    /// `WebInfo.webSubPlatform`.
    pub web_sub_platform: web_info::WebSubPlatform,
    /// `ClientPayload.connectType`.
    pub connect_type: ConnectType,
    /// `ClientPayload.connectReason`.
    pub connect_reason: ConnectReason,
    /// `ClientPayload.pushName`, if the user set one.
    pub push_name: Option<String>,
    /// What goes into `DeviceProps` at registration.
    pub device_props: DevicePropsConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            app_version: AppVersion::DEFAULT,
            platform: user_agent::Platform::Web,
            release_channel: user_agent::ReleaseChannel::Release,
            os_version: "0.1".to_owned(),
            os_build_number: "0.1".to_owned(),
            manufacturer: String::new(),
            device: "Desktop".to_owned(),
            mcc: "000".to_owned(),
            mnc: "000".to_owned(),
            locale_language: "en".to_owned(),
            locale_country: "US".to_owned(),
            web_sub_platform: web_info::WebSubPlatform::WebBrowser,
            connect_type: ConnectType::WifiUnknown,
            connect_reason: ConnectReason::UserActivated,
            push_name: None,
            device_props: DevicePropsConfig::default(),
        }
    }
}

impl ClientConfig {
    fn base_payload(&self) -> ClientPayload {
        ClientPayload {
            user_agent: Some(UserAgent {
                platform: Some(self.platform as i32),
                app_version: Some(self.app_version.to_proto()),
                mcc: Some(self.mcc.clone()),
                mnc: Some(self.mnc.clone()),
                os_version: Some(self.os_version.clone()),
                manufacturer: Some(self.manufacturer.clone()),
                device: Some(self.device.clone()),
                os_build_number: Some(self.os_build_number.clone()),
                release_channel: Some(self.release_channel as i32),
                locale_language_iso6391: Some(self.locale_language.clone()),
                locale_country_iso31661_alpha2: Some(self.locale_country.clone()),
                ..Default::default()
            }),
            web_info: Some(WebInfo {
                web_sub_platform: Some(self.web_sub_platform as i32),
                ..Default::default()
            }),
            connect_type: Some(self.connect_type as i32),
            connect_reason: Some(self.connect_reason as i32),
            push_name: self.push_name.clone(),
            ..Default::default()
        }
    }
}

/// The keys a registration payload hands to the phone.
#[derive(Debug, Clone, Copy)]
pub struct RegistrationKeys<'a> {
    /// The Signal registration id.
    pub registration_id: u32,
    /// Our identity public key.
    pub identity: &'a PublicKey,
    /// The signed prekey id; the wire has 3 bytes for it.
    pub signed_pre_key_id: u32,
    /// The signed prekey's public key.
    pub signed_pre_key: &'a PublicKey,
    /// XEdDSA signature by the identity key over `05 || signed_pre_key`.
    pub signed_pre_key_signature: &'a [u8; SIGNATURE_LEN],
}

/// Largest signed prekey id the 3-byte `eSkeyID` can carry.
pub const MAX_SIGNED_PRE_KEY_ID: u32 = 0x00ff_ffff;

/// The first payload: no account yet, our keys for the phone to link.
pub fn registration_payload(
    config: &ClientConfig,
    keys: &RegistrationKeys<'_>,
) -> Result<ClientPayload, PayloadError> {
    if keys.signed_pre_key_id > MAX_SIGNED_PRE_KEY_ID {
        return Err(PayloadError::SignedPreKeyIdRange(keys.signed_pre_key_id));
    }
    let mut payload = config.base_payload();
    payload.passive = Some(false);
    payload.pull = Some(false);
    payload.device_pairing_data = Some(DevicePairingRegistrationData {
        e_regid: Some(keys.registration_id.to_be_bytes().to_vec()),
        e_keytype: Some(vec![DJB_TYPE]),
        e_ident: Some(keys.identity.as_bytes().to_vec()),
        e_skey_id: Some(keys.signed_pre_key_id.to_be_bytes()[1..].to_vec()),
        e_skey_val: Some(keys.signed_pre_key.as_bytes().to_vec()),
        e_skey_sig: Some(keys.signed_pre_key_signature.to_vec()),
        build_hash: Some(config.app_version.build_hash().to_vec()),
        device_props: Some(config.device_props.to_proto().encode_to_vec()),
    });
    Ok(payload)
}

/// Who we are when logging in again: the user part of our JID as a number, and our device id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginIdentity {
    /// The phone number of the account, e.g. `15551234567`.
    pub username: u64,
    /// Our device id from our own JID (never 0: that is the phone).
    pub device: u32,
}

/// Every later payload: we are an existing device of an existing account.
pub fn login_payload(config: &ClientConfig, identity: LoginIdentity) -> ClientPayload {
    let mut payload = config.base_payload();
    payload.username = Some(identity.username);
    payload.device = Some(identity.device);
    payload.passive = Some(true);
    payload.pull = Some(true);
    payload
}

#[cfg(test)]
mod tests;
