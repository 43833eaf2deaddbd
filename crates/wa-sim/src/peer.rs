//! A simulated device as a Signal peer: it decrypts what is addressed to it (pairwise `pkmsg`
//! and `msg`, sender-key `skmsg` after the distribution message) and encrypts what it sends,
//! with wa-core's Signal code, exactly as a recipient device would. Pure: the relay decides
//! what to do with each outcome.

use rand_core::OsRng;
use wa_core::plaintext::{decode_padded, encode_padded};
use wa_core::proto::{DeviceSentMessage, Message, SenderKeyDistributionMessage as SkdmProto};
use wa_core::signal::group::{GroupError, SenderKeyDistributionMessage, SenderKeyRecord};
use wa_core::signal::{CiphertextMessage, PreKeyBundle, SessionRecord, SignalError};

use crate::shared::world::{DeviceAddr, SimDevice};

/// One copy of a message as it reached a device.
pub(crate) struct Incoming<'a> {
    /// The sending device.
    pub(crate) sender: &'a DeviceAddr,
    /// The group, for group messages.
    pub(crate) group: Option<&'a str>,
    /// The pairwise `<enc>`: its type and bytes.
    pub(crate) pairwise: Option<(&'a str, &'a [u8])>,
    /// The `skmsg` bytes.
    pub(crate) skmsg: Option<&'a [u8]>,
}

/// What a device made of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A message to show the user.
    Shown(String),
    /// Decrypted, but nothing to show (a distribution message alone, an unknown content).
    Nothing,
    /// Its Signal session refused the copy as one it already decrypted.
    Duplicate,
    /// It did not decrypt.
    Failed(String),
}

fn text_of(message: &Message) -> Option<String> {
    if let Some(inner) = message
        .device_sent_message
        .as_ref()
        .and_then(|d| d.message.as_deref())
    {
        return text_of(inner);
    }
    message.conversation.clone().or_else(|| {
        message
            .extended_text_message
            .as_ref()
            .and_then(|e| e.text.clone())
    })
}

/// Decrypts one copy on `device`.
pub(crate) fn receive(device: &mut SimDevice, incoming: &Incoming<'_>) -> Outcome {
    if device.fail_next > 0 {
        device.fail_next -= 1;
        return Outcome::Failed("told to fail (POST /admin/fail-decrypt)".to_owned());
    }
    let mut shown = None;
    if let Some((kind, bytes)) = incoming.pairwise {
        match decrypt_pairwise(device, incoming.sender, kind, bytes) {
            Ok(message) => {
                if let (Some(skdm), Some(group)) = (
                    message.sender_key_distribution_message.as_ref(),
                    incoming
                        .group
                        .map(str::to_owned)
                        .or_else(|| skdm_group(&message)),
                ) {
                    if let Err(e) = install_sender_key(device, &group, incoming.sender, skdm) {
                        return Outcome::Failed(format!("sender key distribution: {e}"));
                    }
                }
                shown = text_of(&message);
            }
            Err(SignalError::DuplicateMessage { .. }) => return Outcome::Duplicate,
            Err(e) => return Outcome::Failed(format!("{kind}: {e}")),
        }
    }
    if let (Some(bytes), Some(group)) = (incoming.skmsg, incoming.group) {
        let key = (group.to_owned(), incoming.sender.clone());
        let Some(record) = device.sender_keys.get(&key) else {
            return Outcome::Failed("skmsg without a sender key".to_owned());
        };
        match record.decrypt(bytes) {
            Ok(done) => {
                device.sender_keys.insert(key, done.record);
                match decode_padded(&done.plaintext) {
                    Ok(message) => shown = text_of(&message).or(shown),
                    Err(e) => return Outcome::Failed(format!("skmsg plaintext: {e}")),
                }
            }
            Err(GroupError::DuplicateOrOld { .. }) => return Outcome::Duplicate,
            Err(e) => return Outcome::Failed(format!("skmsg: {e}")),
        }
    }
    match shown {
        Some(text) => Outcome::Shown(text),
        None => Outcome::Nothing,
    }
}

fn skdm_group(message: &Message) -> Option<String> {
    message
        .sender_key_distribution_message
        .as_ref()?
        .group_id
        .clone()
}

fn install_sender_key(
    device: &mut SimDevice,
    group: &str,
    sender: &DeviceAddr,
    skdm: &SkdmProto,
) -> Result<(), GroupError> {
    let bytes = skdm
        .axolotl_sender_key_distribution_message
        .as_deref()
        .unwrap_or_default();
    let parsed = SenderKeyDistributionMessage::parse(bytes)?;
    let key = (group.to_owned(), sender.clone());
    let record = device.sender_keys.get(&key).cloned().unwrap_or_default();
    device
        .sender_keys
        .insert(key, record.process_distribution(&parsed));
    Ok(())
}

fn decrypt_pairwise(
    device: &mut SimDevice,
    sender: &DeviceAddr,
    kind: &str,
    bytes: &[u8],
) -> Result<Message, SignalError> {
    let record = device.sessions.get(sender).cloned().unwrap_or_default();
    let done = match kind {
        "pkmsg" => {
            let known = device.identities.get(sender).copied();
            // Like whatsmeow with AutoTrustIdentity: a new identity replaces the old one.
            let attempt = record.decrypt_prekey_message(
                &device.identity,
                device,
                known.as_ref(),
                bytes,
                &mut OsRng,
            );
            match attempt {
                Err(SignalError::UntrustedIdentity { .. }) => SessionRecord::new()
                    .decrypt_prekey_message(&device.identity, device, None, bytes, &mut OsRng)?,
                other => other?,
            }
        }
        "msg" => record.decrypt_message(bytes, &mut OsRng)?,
        _ => return Err(SignalError::NoSession),
    };
    if let Some(id) = done.consumed_pre_key {
        device.served.remove(&id);
        device.unserved.remove(&id);
    }
    device
        .identities
        .insert(sender.clone(), done.sender_identity);
    device.sessions.insert(sender.clone(), done.record);
    decode_padded(&done.plaintext).map_err(|_| SignalError::NoSession)
}

/// Encrypts `message` for the device `to`, starting a session from `bundle` when there is
/// none. Returns the `<enc type>` and bytes.
pub(crate) fn encrypt_for(
    device: &mut SimDevice,
    to: &DeviceAddr,
    bundle: impl FnOnce() -> Option<PreKeyBundle>,
    message: &Message,
) -> Result<(&'static str, Vec<u8>), SignalError> {
    let record = match device.sessions.get(to) {
        Some(record) if record.has_current() => record.clone(),
        _ => {
            let bundle = bundle().ok_or(SignalError::NoSession)?;
            SessionRecord::new().initiate(&device.identity, &bundle, None, &mut OsRng)?
        }
    };
    let (next, out) = record.encrypt(&encode_padded(message, &mut OsRng))?;
    device.sessions.insert(to.clone(), next);
    let kind = match out {
        CiphertextMessage::PreKey(_) => "pkmsg",
        CiphertextMessage::Whisper(_) => "msg",
    };
    Ok((kind, out.serialized().to_vec()))
}

/// A text message.
pub(crate) fn text_message(text: &str) -> Message {
    Message {
        conversation: Some(text.to_owned()),
        ..Message::default()
    }
}

/// What the sender's own other devices get for a 1:1 message (messaging.md §5).
pub(crate) fn device_sent(destination: &str, message: &Message) -> Message {
    Message {
        device_sent_message: Some(Box::new(DeviceSentMessage {
            destination_jid: Some(destination.to_owned()),
            message: Some(Box::new(message.clone())),
            phash: None,
        })),
        ..Message::default()
    }
}

/// The group plaintext pairwise copies carry: only the distribution message.
pub(crate) fn skdm_message(group_jid: &str, skdm: &SenderKeyDistributionMessage) -> Message {
    Message {
        sender_key_distribution_message: Some(SkdmProto {
            group_id: Some(group_jid.to_owned()),
            axolotl_sender_key_distribution_message: Some(skdm.encode()),
        }),
        ..Message::default()
    }
}

/// Encrypts `message` with the device's own sender key for `group` (made on first use);
/// returns the `skmsg` bytes and the distribution message members need.
pub(crate) fn group_encrypt(
    device: &mut SimDevice,
    group: &str,
    message: &Message,
) -> Result<(Vec<u8>, SenderKeyDistributionMessage), GroupError> {
    let record = device
        .own_sender_keys
        .get(group)
        .cloned()
        .unwrap_or_else(SenderKeyRecord::new);
    let (record, skdm) = record.own_distribution_message(&mut OsRng);
    let done = record.encrypt(&encode_padded(message, &mut OsRng), &mut OsRng)?;
    device.own_sender_keys.insert(group.to_owned(), done.record);
    Ok((done.message, skdm))
}
