//! The JSON form of the protobuf messages `debug proto` handles, named as Baileys' WAProto
//! (protobufjs) names them, so a JavaScript test can compare field by field:
//!
//! * field names in protobufjs camelCase (`eRegid`, `eSkeyId`, `rawId`, `hmac`, `phoneId`);
//! * integers and enums as JSON numbers (u64 as well: phone numbers stay below 2^53);
//! * bytes as lower-case hex strings;
//! * an absent optional field is absent from the object, a repeated field is an array.
//!
//! Unknown keys on input are an error, so a misspelt field never passes silently.

use prost::Message;
use serde_json::{Map, Value};
use wa_core::proto::client_payload::{
    user_agent::AppVersion, DevicePairingRegistrationData, UserAgent, WebInfo,
};
use wa_core::proto::device_props::{self, HistorySyncConfig};
use wa_core::proto::{
    AdvDeviceIdentity, AdvSignedDeviceIdentity, AdvSignedDeviceIdentityHmac, ClientPayload,
    DeviceProps,
};

/// The messages `debug proto` knows, by their protobuf names.
pub const MESSAGE_TYPES: &[&str] = &[
    "ClientPayload",
    "DeviceProps",
    "ADVSignedDeviceIdentityHMAC",
    "ADVSignedDeviceIdentity",
    "ADVDeviceIdentity",
];

/// Why a JSON object is not the message it claims to be.
#[derive(Debug, thiserror::Error)]
pub enum ProtoJsonError {
    /// The line is not JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A value has the wrong JSON type or range.
    #[error("field {field}: {problem}")]
    Field {
        /// The field.
        field: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A key that the message does not have.
    #[error("unknown field {0}")]
    Unknown(String),
    /// The message type is not one of [`MESSAGE_TYPES`].
    #[error("unknown message type {0}")]
    UnknownType(String),
    /// The bytes do not decode as the message.
    #[error("protobuf decode: {0}")]
    Decode(#[from] prost::DecodeError),
}

type Result<T> = std::result::Result<T, ProtoJsonError>;

/// Reads the fields of one JSON object, remembering which were used.
struct Reader {
    object: Map<String, Value>,
}

impl Reader {
    fn new(value: Value, path: &str) -> Result<Self> {
        match value {
            Value::Object(object) => Ok(Self { object }),
            _ => Err(field_error(path, "expected an object")),
        }
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        self.object.remove(key).filter(|v| !v.is_null())
    }

    fn u64(&mut self, key: &str) -> Result<Option<u64>> {
        self.take(key)
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| field_error(key, "expected an unsigned integer"))
            })
            .transpose()
    }

    fn u32(&mut self, key: &str) -> Result<Option<u32>> {
        self.u64(key)?
            .map(|v| u32::try_from(v).map_err(|_| field_error(key, "out of u32 range")))
            .transpose()
    }

    fn i32(&mut self, key: &str) -> Result<Option<i32>> {
        self.take(key)
            .map(|v| {
                v.as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| field_error(key, "expected a 32-bit integer"))
            })
            .transpose()
    }

    fn bool(&mut self, key: &str) -> Result<Option<bool>> {
        self.take(key)
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| field_error(key, "expected a boolean"))
            })
            .transpose()
    }

    fn string(&mut self, key: &str) -> Result<Option<String>> {
        self.take(key)
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(field_error(key, "expected a string")),
            })
            .transpose()
    }

    fn bytes(&mut self, key: &str) -> Result<Option<Vec<u8>>> {
        self.string(key)?
            .map(|s| hex::decode(s).map_err(|_| field_error(key, "expected hex")))
            .transpose()
    }

    fn object<T>(&mut self, key: &str, read: fn(Reader) -> Result<T>) -> Result<Option<T>> {
        self.take(key)
            .map(|v| Reader::new(v, key).and_then(read))
            .transpose()
    }

    fn i32_list(&mut self, key: &str) -> Result<Vec<i32>> {
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_i64()
                        .and_then(|n| i32::try_from(n).ok())
                        .ok_or_else(|| field_error(key, "expected 32-bit integers"))
                })
                .collect(),
            Some(_) => Err(field_error(key, "expected an array")),
        }
    }

    /// Fails on any key not read.
    fn finish(self) -> Result<()> {
        match self.object.keys().next() {
            Some(key) => Err(ProtoJsonError::Unknown(key.clone())),
            None => Ok(()),
        }
    }
}

fn field_error(field: &str, problem: &'static str) -> ProtoJsonError {
    ProtoJsonError::Field {
        field: field.to_owned(),
        problem,
    }
}

/// Builds one JSON object, skipping absent fields.
#[derive(Default)]
struct Writer(Map<String, Value>);

impl Writer {
    fn put(&mut self, key: &str, value: Option<impl Into<Value>>) -> &mut Self {
        if let Some(v) = value {
            self.0.insert(key.to_owned(), v.into());
        }
        self
    }

    fn bytes(&mut self, key: &str, value: &Option<Vec<u8>>) -> &mut Self {
        self.put(key, value.as_ref().map(hex::encode))
    }

    fn done(&mut self) -> Value {
        Value::Object(std::mem::take(&mut self.0))
    }
}

fn app_version_in(mut r: Reader) -> Result<AppVersion> {
    let v = AppVersion {
        primary: r.u32("primary")?,
        secondary: r.u32("secondary")?,
        tertiary: r.u32("tertiary")?,
        quaternary: r.u32("quaternary")?,
        quinary: r.u32("quinary")?,
    };
    r.finish()?;
    Ok(v)
}

fn app_version_out(v: &AppVersion) -> Value {
    Writer::default()
        .put("primary", v.primary)
        .put("secondary", v.secondary)
        .put("tertiary", v.tertiary)
        .put("quaternary", v.quaternary)
        .put("quinary", v.quinary)
        .done()
}

fn user_agent_in(mut r: Reader) -> Result<UserAgent> {
    let ua = UserAgent {
        platform: r.i32("platform")?,
        app_version: r.object("appVersion", app_version_in)?,
        mcc: r.string("mcc")?,
        mnc: r.string("mnc")?,
        os_version: r.string("osVersion")?,
        manufacturer: r.string("manufacturer")?,
        device: r.string("device")?,
        os_build_number: r.string("osBuildNumber")?,
        phone_id: r.string("phoneId")?,
        release_channel: r.i32("releaseChannel")?,
        locale_language_iso6391: r.string("localeLanguageIso6391")?,
        locale_country_iso31661_alpha2: r.string("localeCountryIso31661Alpha2")?,
        device_board: r.string("deviceBoard")?,
    };
    r.finish()?;
    Ok(ua)
}

fn user_agent_out(ua: &UserAgent) -> Value {
    Writer::default()
        .put("platform", ua.platform)
        .put("appVersion", ua.app_version.as_ref().map(app_version_out))
        .put("mcc", ua.mcc.clone())
        .put("mnc", ua.mnc.clone())
        .put("osVersion", ua.os_version.clone())
        .put("manufacturer", ua.manufacturer.clone())
        .put("device", ua.device.clone())
        .put("osBuildNumber", ua.os_build_number.clone())
        .put("phoneId", ua.phone_id.clone())
        .put("releaseChannel", ua.release_channel)
        .put("localeLanguageIso6391", ua.locale_language_iso6391.clone())
        .put(
            "localeCountryIso31661Alpha2",
            ua.locale_country_iso31661_alpha2.clone(),
        )
        .put("deviceBoard", ua.device_board.clone())
        .done()
}

fn web_info_in(mut r: Reader) -> Result<WebInfo> {
    let w = WebInfo {
        ref_token: r.string("refToken")?,
        version: r.string("version")?,
        web_sub_platform: r.i32("webSubPlatform")?,
    };
    r.finish()?;
    Ok(w)
}

fn web_info_out(w: &WebInfo) -> Value {
    Writer::default()
        .put("refToken", w.ref_token.clone())
        .put("version", w.version.clone())
        .put("webSubPlatform", w.web_sub_platform)
        .done()
}

fn pairing_data_in(mut r: Reader) -> Result<DevicePairingRegistrationData> {
    let d = DevicePairingRegistrationData {
        e_regid: r.bytes("eRegid")?,
        e_keytype: r.bytes("eKeytype")?,
        e_ident: r.bytes("eIdent")?,
        e_skey_id: r.bytes("eSkeyId")?,
        e_skey_val: r.bytes("eSkeyVal")?,
        e_skey_sig: r.bytes("eSkeySig")?,
        build_hash: r.bytes("buildHash")?,
        device_props: r.bytes("deviceProps")?,
    };
    r.finish()?;
    Ok(d)
}

fn pairing_data_out(d: &DevicePairingRegistrationData) -> Value {
    Writer::default()
        .bytes("eRegid", &d.e_regid)
        .bytes("eKeytype", &d.e_keytype)
        .bytes("eIdent", &d.e_ident)
        .bytes("eSkeyId", &d.e_skey_id)
        .bytes("eSkeyVal", &d.e_skey_val)
        .bytes("eSkeySig", &d.e_skey_sig)
        .bytes("buildHash", &d.build_hash)
        .bytes("deviceProps", &d.device_props)
        .done()
}

fn client_payload_in(mut r: Reader) -> Result<ClientPayload> {
    let p = ClientPayload {
        username: r.u64("username")?,
        passive: r.bool("passive")?,
        user_agent: r.object("userAgent", user_agent_in)?,
        web_info: r.object("webInfo", web_info_in)?,
        push_name: r.string("pushName")?,
        session_id: r.i32("sessionId")?,
        short_connect: r.bool("shortConnect")?,
        connect_type: r.i32("connectType")?,
        connect_reason: r.i32("connectReason")?,
        shards: r.i32_list("shards")?,
        connect_attempt_count: r.u32("connectAttemptCount")?,
        device: r.u32("device")?,
        device_pairing_data: r.object("devicePairingData", pairing_data_in)?,
        oc: r.bool("oc")?,
        lc: r.i32("lc")?,
        pull: r.bool("pull")?,
        padding_bytes: r.bytes("paddingBytes")?,
        lid_db_migrated: r.bool("lidDbMigrated")?,
    };
    r.finish()?;
    Ok(p)
}

fn client_payload_out(p: &ClientPayload) -> Value {
    let mut w = Writer::default();
    w.put("username", p.username)
        .put("passive", p.passive)
        .put("userAgent", p.user_agent.as_ref().map(user_agent_out))
        .put("webInfo", p.web_info.as_ref().map(web_info_out))
        .put("pushName", p.push_name.clone())
        .put("sessionId", p.session_id)
        .put("shortConnect", p.short_connect)
        .put("connectType", p.connect_type)
        .put("connectReason", p.connect_reason);
    if !p.shards.is_empty() {
        w.put("shards", Some(p.shards.clone()));
    }
    w.put("connectAttemptCount", p.connect_attempt_count)
        .put("device", p.device)
        .put(
            "devicePairingData",
            p.device_pairing_data.as_ref().map(pairing_data_out),
        )
        .put("oc", p.oc)
        .put("lc", p.lc)
        .put("pull", p.pull)
        .bytes("paddingBytes", &p.padding_bytes)
        .put("lidDbMigrated", p.lid_db_migrated)
        .done()
}

fn history_in(mut r: Reader) -> Result<HistorySyncConfig> {
    let h = HistorySyncConfig {
        full_sync_days_limit: r.u32("fullSyncDaysLimit")?,
        full_sync_size_mb_limit: r.u32("fullSyncSizeMbLimit")?,
        storage_quota_mb: r.u32("storageQuotaMb")?,
        inline_initial_payload_in_e2_ee_msg: r.bool("inlineInitialPayloadInE2EeMsg")?,
        recent_sync_days_limit: r.u32("recentSyncDaysLimit")?,
        support_call_log_history: r.bool("supportCallLogHistory")?,
        support_bot_user_agent_chat_history: r.bool("supportBotUserAgentChatHistory")?,
        support_cag_reactions_and_polls: r.bool("supportCagReactionsAndPolls")?,
        support_biz_hosted_msg: r.bool("supportBizHostedMsg")?,
        support_recent_sync_chunk_message_count_tuning: r
            .bool("supportRecentSyncChunkMessageCountTuning")?,
        support_hosted_group_msg: r.bool("supportHostedGroupMsg")?,
        support_fbid_bot_chat_history: r.bool("supportFbidBotChatHistory")?,
        support_add_on_history_sync_migration: r.bool("supportAddOnHistorySyncMigration")?,
        support_message_association: r.bool("supportMessageAssociation")?,
    };
    r.finish()?;
    Ok(h)
}

fn history_out(h: &HistorySyncConfig) -> Value {
    Writer::default()
        .put("fullSyncDaysLimit", h.full_sync_days_limit)
        .put("fullSyncSizeMbLimit", h.full_sync_size_mb_limit)
        .put("storageQuotaMb", h.storage_quota_mb)
        .put(
            "inlineInitialPayloadInE2EeMsg",
            h.inline_initial_payload_in_e2_ee_msg,
        )
        .put("recentSyncDaysLimit", h.recent_sync_days_limit)
        .put("supportCallLogHistory", h.support_call_log_history)
        .put(
            "supportBotUserAgentChatHistory",
            h.support_bot_user_agent_chat_history,
        )
        .put(
            "supportCagReactionsAndPolls",
            h.support_cag_reactions_and_polls,
        )
        .put("supportBizHostedMsg", h.support_biz_hosted_msg)
        .put(
            "supportRecentSyncChunkMessageCountTuning",
            h.support_recent_sync_chunk_message_count_tuning,
        )
        .put("supportHostedGroupMsg", h.support_hosted_group_msg)
        .put("supportFbidBotChatHistory", h.support_fbid_bot_chat_history)
        .put(
            "supportAddOnHistorySyncMigration",
            h.support_add_on_history_sync_migration,
        )
        .put("supportMessageAssociation", h.support_message_association)
        .done()
}

fn props_version_in(mut r: Reader) -> Result<device_props::AppVersion> {
    let v = device_props::AppVersion {
        primary: r.u32("primary")?,
        secondary: r.u32("secondary")?,
        tertiary: r.u32("tertiary")?,
        quaternary: r.u32("quaternary")?,
        quinary: r.u32("quinary")?,
    };
    r.finish()?;
    Ok(v)
}

fn props_version_out(v: &device_props::AppVersion) -> Value {
    Writer::default()
        .put("primary", v.primary)
        .put("secondary", v.secondary)
        .put("tertiary", v.tertiary)
        .put("quaternary", v.quaternary)
        .put("quinary", v.quinary)
        .done()
}

fn device_props_in(mut r: Reader) -> Result<DeviceProps> {
    let p = DeviceProps {
        os: r.string("os")?,
        version: r.object("version", props_version_in)?,
        platform_type: r.i32("platformType")?,
        require_full_sync: r.bool("requireFullSync")?,
        history_sync_config: r.object("historySyncConfig", history_in)?,
    };
    r.finish()?;
    Ok(p)
}

fn device_props_out(p: &DeviceProps) -> Value {
    Writer::default()
        .put("os", p.os.clone())
        .put("version", p.version.as_ref().map(props_version_out))
        .put("platformType", p.platform_type)
        .put("requireFullSync", p.require_full_sync)
        .put(
            "historySyncConfig",
            p.history_sync_config.as_ref().map(history_out),
        )
        .done()
}

fn hmac_in(mut r: Reader) -> Result<AdvSignedDeviceIdentityHmac> {
    let m = AdvSignedDeviceIdentityHmac {
        details: r.bytes("details")?,
        hmac: r.bytes("hmac")?,
        account_type: r.i32("accountType")?,
    };
    r.finish()?;
    Ok(m)
}

fn hmac_out(m: &AdvSignedDeviceIdentityHmac) -> Value {
    Writer::default()
        .bytes("details", &m.details)
        .bytes("hmac", &m.hmac)
        .put("accountType", m.account_type)
        .done()
}

fn signed_in(mut r: Reader) -> Result<AdvSignedDeviceIdentity> {
    let m = AdvSignedDeviceIdentity {
        details: r.bytes("details")?,
        account_signature_key: r.bytes("accountSignatureKey")?,
        account_signature: r.bytes("accountSignature")?,
        device_signature: r.bytes("deviceSignature")?,
    };
    r.finish()?;
    Ok(m)
}

fn signed_out(m: &AdvSignedDeviceIdentity) -> Value {
    Writer::default()
        .bytes("details", &m.details)
        .bytes("accountSignatureKey", &m.account_signature_key)
        .bytes("accountSignature", &m.account_signature)
        .bytes("deviceSignature", &m.device_signature)
        .done()
}

fn device_identity_in(mut r: Reader) -> Result<AdvDeviceIdentity> {
    let m = AdvDeviceIdentity {
        raw_id: r.u32("rawId")?,
        timestamp: r.u64("timestamp")?,
        key_index: r.u32("keyIndex")?,
        account_type: r.i32("accountType")?,
        device_type: r.i32("deviceType")?,
    };
    r.finish()?;
    Ok(m)
}

fn device_identity_out(m: &AdvDeviceIdentity) -> Value {
    Writer::default()
        .put("rawId", m.raw_id)
        .put("timestamp", m.timestamp)
        .put("keyIndex", m.key_index)
        .put("accountType", m.account_type)
        .put("deviceType", m.device_type)
        .done()
}

fn known(message_type: &str) -> Result<()> {
    if MESSAGE_TYPES.contains(&message_type) {
        Ok(())
    } else {
        Err(ProtoJsonError::UnknownType(message_type.to_owned()))
    }
}

/// JSON text of a message → its protobuf bytes.
pub fn encode(message_type: &str, json: &str) -> Result<Vec<u8>> {
    known(message_type)?;
    let r = Reader::new(serde_json::from_str(json)?, message_type)?;
    Ok(match message_type {
        "ClientPayload" => client_payload_in(r)?.encode_to_vec(),
        "DeviceProps" => device_props_in(r)?.encode_to_vec(),
        "ADVSignedDeviceIdentityHMAC" => hmac_in(r)?.encode_to_vec(),
        "ADVSignedDeviceIdentity" => signed_in(r)?.encode_to_vec(),
        _ => device_identity_in(r)?.encode_to_vec(),
    })
}

/// Protobuf bytes of a message → its JSON value.
pub fn decode(message_type: &str, bytes: &[u8]) -> Result<Value> {
    known(message_type)?;
    Ok(match message_type {
        "ClientPayload" => client_payload_out(&ClientPayload::decode(bytes)?),
        "DeviceProps" => device_props_out(&DeviceProps::decode(bytes)?),
        "ADVSignedDeviceIdentityHMAC" => hmac_out(&AdvSignedDeviceIdentityHmac::decode(bytes)?),
        "ADVSignedDeviceIdentity" => signed_out(&AdvSignedDeviceIdentity::decode(bytes)?),
        _ => device_identity_out(&AdvDeviceIdentity::decode(bytes)?),
    })
}
