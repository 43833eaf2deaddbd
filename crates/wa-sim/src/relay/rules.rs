//! The relay's rules, as strict as the real server's (messaging.md §1.5, §1.6, §4.4, §5, §6.1):
//! who a `<message>` may go to, in which namespace, with which devices, with which proofs. Pure
//! functions over the world and the store; the relay applies their verdict.

use std::collections::BTreeSet;

use prost::Message as _;
use wa_core::binary::{Jid, Node, Server};
use wa_core::ids::participant_hash;
use wa_core::pair::adv::{device_signature_parts, verify_account_signature};
use wa_core::proto::{AdvDeviceIdentity, AdvSignedDeviceIdentity};
use wa_core::signal::{xeddsa, PublicKey};

use crate::shared::state::StateData;
use crate::shared::world::{attr_jid, Addressing, DeviceAddr, World};

/// Why a message is refused: the ack's `error` and the reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub(crate) code: u16,
    pub(crate) reason: String,
}

fn refuse<T>(code: u16, reason: impl Into<String>) -> Result<T, Refused> {
    Err(Refused {
        code,
        reason: reason.into(),
    })
}

/// Malformed, or PN and LID mixed (messaging.md §4.4, §6.1).
pub(crate) const BAD_REQUEST: u16 = 400;
/// Not a group member.
pub(crate) const FORBIDDEN: u16 = 403;
/// Recipient unknown.
pub(crate) const NOT_FOUND: u16 = 404;
/// The device set differs from the server's (a missing or an extra device), or a wrong group
/// phash. The ack also carries the server's `phash`. The code the real server uses here is
/// unverified; 409 is this simulator's choice.
pub(crate) const DEVICE_MISMATCH: u16 = 409;
/// Missing or invalid privacy token (messaging.md §4.3).
pub(crate) const TOKEN_REQUIRED: u16 = 463;

/// Every device of an account: the simulated ones and the real companions in the store.
pub(crate) fn devices_of(world: &World, store: &StateData, pn: &str) -> BTreeSet<u16> {
    let mut devices: BTreeSet<u16> = world
        .accounts
        .get(pn)
        .map(|a| a.devices.keys().copied().collect())
        .unwrap_or_default();
    devices.extend(
        store
            .devices
            .values()
            .filter(|d| d.user() == pn)
            .map(|d| d.device),
    );
    devices
}

/// The ADV key index of a device (0 for phones).
pub(crate) fn key_index_of(world: &World, store: &StateData, device: &DeviceAddr) -> u32 {
    if let Some(sim) = world
        .accounts
        .get(&device.pn)
        .and_then(|a| a.devices.get(&device.device))
    {
        return sim.key_index;
    }
    let jid = Jid::with_device(device.pn.clone(), device.device, Server::Pn).to_string();
    store.devices.get(&jid).map_or(0, |d| d.key_index)
}

/// The hash of a device set as the server computes it: each device written
/// `user.0:device@server` in the chat's namespace.
pub(crate) fn phash(
    world: &World,
    devices: &BTreeSet<DeviceAddr>,
    addressing: Addressing,
) -> String {
    let names: Vec<String> = devices
        .iter()
        .map(|d| {
            let jid = world.wire_jid(d, addressing);
            format!("{}.0:{}@{}", jid.user, jid.device, jid.server)
        })
        .collect();
    participant_hash(&names)
}

/// Checks `<device-identity>` of a real companion: the account key signed this device's
/// identity under its key index, and the device countersigned.
pub(crate) fn verify_device_identity(
    bytes: &[u8],
    account_key: &PublicKey,
    device_identity: &PublicKey,
    key_index: u32,
) -> Result<(), String> {
    let signed = AdvSignedDeviceIdentity::decode(bytes)
        .map_err(|e| format!("<device-identity> is not an ADVSignedDeviceIdentity: {e}"))?;
    let details = signed
        .details
        .as_deref()
        .ok_or("<device-identity> has no details")?;
    let device = AdvDeviceIdentity::decode(details)
        .map_err(|e| format!("<device-identity> details do not decode: {e}"))?;
    let signer = verify_account_signature(&signed, &device, device_identity)
        .map_err(|e| format!("<device-identity> account signature: {e}"))?;
    if signer != *account_key {
        return Err("<device-identity> is signed by another account".to_owned());
    }
    if device.key_index() != key_index {
        return Err(format!(
            "<device-identity> has key index {}, the device was given {key_index}",
            device.key_index()
        ));
    }
    let signature = signed
        .device_signature
        .as_deref()
        .ok_or("<device-identity> has no device signature")?;
    xeddsa::verify_parts(
        device_identity,
        &device_signature_parts(details, device_identity, account_key),
        signature,
    )
    .map_err(|e| format!("<device-identity> device signature: {e}"))
}

/// One `<enc>`: its type and bytes, checked for shape.
pub(crate) fn enc_of(enc: &Node, allowed: &[&str]) -> Result<(String, Vec<u8>), Refused> {
    let kind = enc.attr_str("type").unwrap_or("");
    if !allowed.contains(&kind) {
        return refuse(
            BAD_REQUEST,
            format!("<enc type={kind:?}> is not one of {allowed:?}"),
        );
    }
    if enc.attr_str("v") != Some("2") {
        return refuse(BAD_REQUEST, "<enc> without v=\"2\"");
    }
    match enc.bytes() {
        Some(bytes) if !bytes.is_empty() => Ok((kind.to_owned(), bytes.to_vec())),
        _ => refuse(BAD_REQUEST, "<enc> carries no bytes"),
    }
}

/// The `<to jid>` copies of `<participants>`, each named in `addressing`.
pub(crate) fn participant_copies(
    world: &World,
    participants: &Node,
    addressing: Addressing,
) -> Result<Vec<(DeviceAddr, String, Vec<u8>)>, Refused> {
    let mut copies = Vec::new();
    let mut seen = BTreeSet::new();
    for to in participants.children() {
        if to.tag != "to" {
            return refuse(BAD_REQUEST, format!("<{}> inside <participants>", to.tag));
        }
        let Some(jid) = attr_jid(to, "jid") else {
            return refuse(BAD_REQUEST, "<to> without a jid");
        };
        if jid.server != addressing.server() {
            return refuse(
                BAD_REQUEST,
                format!(
                    "<to jid={jid}> mixes namespaces: the message is addressed in {}",
                    addressing.as_str()
                ),
            );
        }
        let Some((device, _)) = world.device_addr(&jid) else {
            return refuse(
                DEVICE_MISMATCH,
                format!("<to jid={jid}> is no device of any account"),
            );
        };
        if !seen.insert(device.clone()) {
            return refuse(BAD_REQUEST, format!("<to jid={jid}> appears twice"));
        }
        let Some(enc) = to.child("enc") else {
            return refuse(BAD_REQUEST, format!("<to jid={jid}> has no <enc>"));
        };
        let (kind, bytes) = enc_of(enc, &["pkmsg", "msg"])?;
        copies.push((device, kind, bytes));
    }
    Ok(copies)
}

/// Compares the devices a message names with the ones the server expects.
pub(crate) fn check_device_set(
    world: &World,
    named: &BTreeSet<DeviceAddr>,
    expected: &BTreeSet<DeviceAddr>,
    exact: bool,
    addressing: Addressing,
) -> Result<(), Refused> {
    let show = |set: &mut dyn Iterator<Item = &DeviceAddr>| {
        set.map(|d| world.wire_jid(d, addressing).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let extra: Vec<&DeviceAddr> = named.difference(expected).collect();
    if !extra.is_empty() {
        return refuse(
            DEVICE_MISMATCH,
            format!("extra device(s) {}", show(&mut extra.into_iter())),
        );
    }
    if exact {
        let missing: Vec<&DeviceAddr> = expected.difference(named).collect();
        if !missing.is_empty() {
            return refuse(
                DEVICE_MISMATCH,
                format!("missing device(s) {}", show(&mut missing.into_iter())),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[(&str, u16)]) -> BTreeSet<DeviceAddr> {
        items
            .iter()
            .map(|(pn, d)| DeviceAddr::new(*pn, *d))
            .collect()
    }

    #[test]
    fn device_sets_must_match_exactly_for_direct_messages_and_be_a_subset_for_groups() {
        let world = World::default();
        let expected = set(&[("1", 0), ("1", 3), ("2", 0)]);
        type Case<'a> = (&'a [(&'a str, u16)], bool, Option<&'a str>);
        let cases: [Case; 5] = [
            (&[("1", 0), ("1", 3), ("2", 0)], true, None),
            (
                &[("1", 0), ("2", 0)],
                true,
                Some("missing device(s) 1:3@s.whatsapp.net"),
            ),
            (
                &[("1", 0), ("1", 3), ("2", 0), ("2", 9)],
                true,
                Some("extra device(s) 2:9@s.whatsapp.net"),
            ),
            (&[("1", 0)], false, None),
            (
                &[("1", 0), ("3", 1)],
                false,
                Some("extra device(s) 3:1@s.whatsapp.net"),
            ),
        ];
        for (named, exact, want) in cases {
            let got = check_device_set(&world, &set(named), &expected, exact, Addressing::Pn);
            match want {
                None => assert_eq!(got, Ok(()), "{named:?}"),
                Some(reason) => {
                    let refused = got.unwrap_err();
                    assert_eq!(
                        (refused.code, refused.reason.as_str()),
                        (DEVICE_MISMATCH, reason)
                    );
                }
            }
        }
    }

    #[test]
    fn the_server_phash_is_the_documented_vector() {
        let world = World::default();
        let devices = set(&[("15551234567", 0), ("15551234567", 3), ("15557654321", 0)]);
        assert_eq!(phash(&world, &devices, Addressing::Pn), "2:1rP1CxtP");
    }

    #[test]
    fn encs_need_a_known_type_version_two_and_bytes() {
        let ok = Node::new("enc")
            .with_attr("v", "2")
            .with_attr("type", "msg")
            .with_bytes(vec![1]);
        assert_eq!(enc_of(&ok, &["msg"]).unwrap().0, "msg");
        let cases = [
            Node::new("enc")
                .with_attr("v", "2")
                .with_attr("type", "skmsg")
                .with_bytes(vec![1]),
            Node::new("enc")
                .with_attr("type", "msg")
                .with_bytes(vec![1]),
            Node::new("enc")
                .with_attr("v", "2")
                .with_attr("type", "msg"),
        ];
        for enc in cases {
            assert_eq!(
                enc_of(&enc, &["msg"]).unwrap_err().code,
                BAD_REQUEST,
                "{enc}"
            );
        }
    }
}
