//! `debug proto …`: line filters over the protobuf messages and the pairing crypto, so tests in
//! other languages can check ours against their implementation. One answer line per input line;
//! a bad line answers `{"error": "..."}` and the filter goes on.
//!
//! * `encode <TYPE>` / `decode <TYPE>`: JSON (see `proto_json`) ↔ hex protobuf.
//! * `validate`: hex `ClientPayload` → what the server-side validator makes of it.
//! * `build-payload`: `{"registration": {...}}` or `{"login": {...}}` → hex `ClientPayload`
//!   from our builders.
//! * `adv-issue`: the phone's side; signs a device identity for a companion.
//! * `adv-companion`: the companion's side of `pair-success`.
//! * `adv-phone-check`: the phone's check of a companion's `pair-device-sign`.

use std::io::{self, BufRead, BufWriter, Write};

use clap::Subcommand;
use prost::Message as _;
use rand::rngs::OsRng;
use serde_json::{json, Value};
use wa_core::pair::adv::verify_pair_success_identity;
use wa_core::pair::phone::{issue_device_identity, verify_pair_device_sign, IssuedIdentity};
use wa_core::payload::{
    login_payload, registration_payload, validate_client_payload, AppVersion, ClientConfig,
    LoginIdentity, PayloadKind, RegistrationKeys,
};
use wa_core::proto::AdvDeviceIdentity;
use wa_core::signal::{xeddsa, KeyPair, PublicKey};

use crate::proto_json;

/// What `debug proto` can do.
#[derive(Debug, Clone, Subcommand)]
pub enum ProtoAction {
    /// Reads one JSON message per line, writes its protobuf bytes as hex.
    Encode {
        /// ClientPayload, DeviceProps, ADVSignedDeviceIdentityHMAC, ADVSignedDeviceIdentity or
        /// ADVDeviceIdentity.
        message_type: String,
    },
    /// Reads one hex protobuf per line, writes the message as JSON.
    Decode {
        /// As for `encode`.
        message_type: String,
    },
    /// Reads hex ClientPayloads, writes what the server-side validator concludes.
    Validate,
    /// Reads payload parameters as JSON, writes the ClientPayload our builders make, as hex.
    BuildPayload,
    /// Reads `{accountPrivate, companionIdentityPub, advSecret, device}`, writes the phone's
    /// `<device-identity>` for `pair-success`.
    AdvIssue,
    /// Reads `{deviceIdentity, advSecret, identityPrivate}`, writes the companion's verdict.
    AdvCompanion,
    /// Reads `{issuedDeviceIdentity, companionIdentityPub, keyIndex, deviceIdentity}`, writes
    /// the phone's verdict on a `pair-device-sign`.
    AdvPhoneCheck,
}

/// Runs the filter over stdin and stdout until end of input.
pub fn run(action: &ProtoAction) -> io::Result<()> {
    filter(action, io::stdin().lock(), io::stdout().lock())
}

fn filter(action: &ProtoAction, mut input: impl BufRead, output: impl Write) -> io::Result<()> {
    let mut out = BufWriter::new(output);
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let answer = match std::str::from_utf8(&line) {
            Ok(text) if text.trim().is_empty() => Err("empty line".to_owned()),
            Ok(text) => answer(action, text.trim()),
            Err(e) => Err(format!("line is not UTF-8: {e}")),
        };
        let text = answer.unwrap_or_else(|message| json!({ "error": message }).to_string());
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    out.flush()
}

fn answer(action: &ProtoAction, line: &str) -> Result<String, String> {
    match action {
        ProtoAction::Encode { message_type } => proto_json::encode(message_type, line)
            .map(hex::encode)
            .map_err(|e| e.to_string()),
        ProtoAction::Decode { message_type } => {
            let bytes = hex::decode(line).map_err(|e| format!("invalid hex: {e}"))?;
            proto_json::decode(message_type, &bytes)
                .map(|v| v.to_string())
                .map_err(|e| e.to_string())
        }
        ProtoAction::Validate => validate(line),
        ProtoAction::BuildPayload => build_payload(&parse(line)?),
        ProtoAction::AdvIssue => adv_issue(&parse(line)?),
        ProtoAction::AdvCompanion => adv_companion(&parse(line)?),
        ProtoAction::AdvPhoneCheck => adv_phone_check(&parse(line)?),
    }
}

fn parse(line: &str) -> Result<Value, String> {
    serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))
}

fn hex_field(v: &Value, key: &str) -> Result<Vec<u8>, String> {
    let text = v[key]
        .as_str()
        .ok_or(format!("{key}: expected a hex string"))?;
    hex::decode(text).map_err(|_| format!("{key}: invalid hex"))
}

fn key32(v: &Value, key: &str) -> Result<[u8; 32], String> {
    hex_field(v, key)?
        .try_into()
        .map_err(|_| format!("{key}: expected 32 bytes"))
}

fn number(v: &Value, key: &str) -> Result<u64, String> {
    v[key].as_u64().ok_or(format!("{key}: expected a number"))
}

fn number32(v: &Value, key: &str) -> Result<u32, String> {
    u32::try_from(number(v, key)?).map_err(|_| format!("{key}: out of range"))
}

/// The error's own message and its sources, so a test sees the cause too.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn validate(line: &str) -> Result<String, String> {
    let bytes = hex::decode(line).map_err(|e| format!("invalid hex: {e}"))?;
    let v = validate_client_payload(&bytes).map_err(|e| chain(&e))?;
    let answer = match &v.kind {
        PayloadKind::Registration(r) => json!({
            "kind": "registration",
            "appVersion": v.app_version.to_string(),
            "registrationId": r.registration_id,
            "identity": hex::encode(r.identity.as_bytes()),
            "signedPreKeyId": r.signed_pre_key_id,
            "signedPreKey": hex::encode(r.signed_pre_key.as_bytes()),
            "os": r.device_props.os(),
        }),
        PayloadKind::Login { username, device } => json!({
            "kind": "login",
            "appVersion": v.app_version.to_string(),
            "username": username,
            "device": device,
        }),
    };
    Ok(answer.to_string())
}

fn config_from(v: &Value) -> Result<ClientConfig, String> {
    let mut config = ClientConfig::default();
    if let Some(version) = v["appVersion"].as_str() {
        config.app_version = version.parse::<AppVersion>().map_err(|e| e.to_string())?;
    }
    if let Some(name) = v["pushName"].as_str() {
        config.push_name = Some(name.to_owned());
    }
    Ok(config)
}

fn build_payload(v: &Value) -> Result<String, String> {
    if let Some(r) = v.get("registration") {
        let config = config_from(r)?;
        let identity = KeyPair::from_private_bytes(key32(r, "identityPrivate")?);
        let signed_pre_key = KeyPair::from_private_bytes(key32(r, "signedPreKeyPrivate")?);
        let signature = xeddsa::sign_with_rng(
            &identity.private,
            signed_pre_key.public.to_signal().as_bytes(),
            &mut OsRng,
        );
        let payload = registration_payload(
            &config,
            &RegistrationKeys {
                registration_id: number32(r, "registrationId")?,
                identity: &identity.public,
                signed_pre_key_id: number32(r, "signedPreKeyId")?,
                signed_pre_key: &signed_pre_key.public,
                signed_pre_key_signature: &signature,
            },
        )
        .map_err(|e| chain(&e))?;
        Ok(hex::encode(payload.encode_to_vec()))
    } else if let Some(l) = v.get("login") {
        let config = config_from(l)?;
        let payload = login_payload(
            &config,
            LoginIdentity {
                username: number(l, "username")?,
                device: number32(l, "device")?,
            },
        );
        Ok(hex::encode(payload.encode_to_vec()))
    } else {
        Err("expected {\"registration\": …} or {\"login\": …}".to_owned())
    }
}

fn adv_issue(v: &Value) -> Result<String, String> {
    let account = KeyPair::from_private_bytes(key32(v, "accountPrivate")?);
    let companion = PublicKey::from_bytes(key32(v, "companionIdentityPub")?);
    let device_json = v.get("device").ok_or("device: missing")?.to_string();
    let device_bytes =
        proto_json::encode("ADVDeviceIdentity", &device_json).map_err(|e| e.to_string())?;
    let device = AdvDeviceIdentity::decode(device_bytes.as_slice()).map_err(|e| e.to_string())?;
    let issued = issue_device_identity(
        &account,
        &companion,
        &key32(v, "advSecret")?,
        &device,
        &mut OsRng,
    );
    Ok(json!({
        "deviceIdentity": hex::encode(&issued.device_identity),
        "details": hex::encode(&issued.details),
        "accountSignatureKey": hex::encode(account.public.as_bytes()),
    })
    .to_string())
}

fn adv_companion(v: &Value) -> Result<String, String> {
    let identity = KeyPair::from_private_bytes(key32(v, "identityPrivate")?);
    match verify_pair_success_identity(
        &hex_field(v, "deviceIdentity")?,
        &key32(v, "advSecret")?,
        &identity,
        &mut OsRng,
    ) {
        Ok(paired) => Ok(json!({
            "account": hex::encode(paired.account.encode_to_vec()),
            "reply": hex::encode(paired.reply_bytes()),
            "keyIndex": paired.key_index,
            "accountSignatureKey": hex::encode(paired.account_signature_key.as_bytes()),
        })
        .to_string()),
        Err(e) => Ok(json!({
            "error": chain(&e),
            "code": e.reply().code(),
            "text": e.reply().text(),
        })
        .to_string()),
    }
}

fn adv_phone_check(v: &Value) -> Result<String, String> {
    let companion = PublicKey::from_bytes(key32(v, "companionIdentityPub")?);
    let issued =
        IssuedIdentity::from_device_identity(&hex_field(v, "issuedDeviceIdentity")?, &companion)
            .map_err(|e| chain(&e))?;
    let verdict = verify_pair_device_sign(
        &issued,
        number32(v, "keyIndex")?,
        &hex_field(v, "deviceIdentity")?,
    );
    Ok(match verdict {
        Ok(account) => json!({ "ok": true, "account": hex::encode(account.encode_to_vec()) }),
        Err(e) => json!({ "ok": false, "error": chain(&e) }),
    }
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(action: ProtoAction, input: &str) -> Vec<Value> {
        let mut out = Vec::new();
        filter(&action, input.as_bytes(), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::String(l.to_owned())))
            .collect()
    }

    #[test]
    fn encode_decode_round_trip_and_errors() {
        let json = r#"{"rawId":1,"timestamp":1764000000,"keyIndex":7,"deviceType":1}"#;
        let out = run_on(
            ProtoAction::Encode {
                message_type: "ADVDeviceIdentity".into(),
            },
            &format!("{json}\n{{\"rawid\":1}}\n[]\n"),
        );
        let hex = out[0].as_str().unwrap().to_owned();
        assert!(
            hex.starts_with("0801") && hex.ends_with("18072801"),
            "{hex}"
        );
        assert!(out[1]["error"]
            .as_str()
            .unwrap()
            .contains("unrecognized field name 'rawid'"));
        assert!(out[2]["error"].is_string());
        let back = run_on(
            ProtoAction::Decode {
                message_type: "ADVDeviceIdentity".into(),
            },
            &format!("{hex}\nzz\n"),
        );
        assert_eq!(back[0], serde_json::from_str::<Value>(json).unwrap());
        assert!(back[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid hex"));
    }

    #[test]
    fn built_payloads_validate() {
        let reg = json!({"registration": {
            "registrationId": 77, "identityPrivate": "11".repeat(32),
            "signedPreKeyId": 1, "signedPreKeyPrivate": "22".repeat(32),
            "appVersion": "2.3000.1035194821"}});
        let login = json!({"login": {"username": 15551234567u64, "device": 4}});
        let out = run_on(
            ProtoAction::BuildPayload,
            &format!("{reg}\n{login}\n{{}}\n"),
        );
        assert!(out[2]["error"].is_string());
        let hexes = format!(
            "{}\n{}\n00ff\n",
            out[0].as_str().unwrap(),
            out[1].as_str().unwrap()
        );
        let verdicts = run_on(ProtoAction::Validate, &hexes);
        assert_eq!(verdicts[0]["kind"], "registration");
        assert_eq!(verdicts[0]["registrationId"], 77);
        assert_eq!(verdicts[0]["appVersion"], "2.3000.1035194821");
        assert_eq!(verdicts[1]["kind"], "login");
        assert_eq!(verdicts[1]["device"], 4);
        assert!(verdicts[2]["error"].is_string());
    }

    #[test]
    fn adv_flow_through_the_filters() {
        let companion = KeyPair::from_private_bytes([3; 32]);
        let issue = json!({
            "accountPrivate": "01".repeat(32),
            "companionIdentityPub": hex::encode(companion.public.as_bytes()),
            "advSecret": "05".repeat(32),
            "device": {"rawId": 9, "timestamp": 1, "keyIndex": 2},
        });
        let issued = &run_on(ProtoAction::AdvIssue, &issue.to_string())[0];
        let verify = json!({
            "deviceIdentity": issued["deviceIdentity"],
            "advSecret": "05".repeat(32),
            "identityPrivate": "03".repeat(32),
        });
        let wrong = json!({
            "deviceIdentity": issued["deviceIdentity"],
            "advSecret": "06".repeat(32),
            "identityPrivate": "03".repeat(32),
        });
        let out = run_on(ProtoAction::AdvCompanion, &format!("{verify}\n{wrong}\n"));
        assert_eq!(out[0]["keyIndex"], 2);
        assert_eq!(out[1]["code"], 401);
        assert_eq!(out[1]["text"], "hmac-mismatch");
        let check = json!({
            "issuedDeviceIdentity": issued["deviceIdentity"],
            "companionIdentityPub": hex::encode(companion.public.as_bytes()),
            "keyIndex": 2,
            "deviceIdentity": out[0]["reply"],
        });
        let verdict = &run_on(ProtoAction::AdvPhoneCheck, &check.to_string())[0];
        assert_eq!(verdict["ok"], true, "{verdict}");
        assert_eq!(verdict["account"], out[0]["account"]);
    }
}
