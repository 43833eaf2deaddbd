//! Identifiers and digests the client computes locally: message ids, IQ ids, the participant
//! hash (`phash`) of a sent message, and the build hash of the app version.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use md5::Md5;
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

/// Every message id the current WA Web generates starts with this.
pub const MESSAGE_ID_PREFIX: &str = "3EB0";

/// Length of a message id: the prefix and 18 hex characters.
pub const MESSAGE_ID_LEN: usize = MESSAGE_ID_PREFIX.len() + 18;

/// A message id from its inputs: `"3EB0"` and the first 9 bytes, upper-case hex, of
/// `SHA256(u64 BE unix seconds || own_user || "@c.us" || random)`.
///
/// Hashing the sender and the time in, rather than using bare random hex, is what WA Web does;
/// the result stays hex so the binary codec can pack it.
pub fn message_id(now_unix: u64, own_user: &str, random: &[u8; 16]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(now_unix.to_be_bytes());
    hasher.update(own_user.as_bytes());
    hasher.update(b"@c.us");
    hasher.update(random);
    let digest = hasher.finalize();
    let mut id = String::with_capacity(MESSAGE_ID_LEN);
    id.push_str(MESSAGE_ID_PREFIX);
    id.push_str(&upper_hex(&digest[..9]));
    id
}

/// [`message_id`] with the 16 random bytes drawn from `rng`.
pub fn new_message_id(
    rng: &mut (impl RngCore + CryptoRng),
    now_unix: u64,
    own_user: &str,
) -> String {
    let mut random = [0u8; 16];
    rng.fill_bytes(&mut random);
    message_id(now_unix, own_user, &random)
}

fn upper_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Hands out IQ ids of the form `"<b0>.<b1>-<n>"`: two random bytes in decimal fixed per
/// connection, then a counter from 1. The random part keeps ids of a new connection from
/// matching answers still in flight for the old one.
#[derive(Debug, Clone)]
pub struct IqIdGenerator {
    prefix: String,
    counter: u64,
}

impl IqIdGenerator {
    /// A generator whose prefix comes from the two given bytes.
    pub fn with_prefix_bytes(b0: u8, b1: u8) -> Self {
        Self {
            prefix: format!("{b0}.{b1}-"),
            counter: 0,
        }
    }

    /// A generator with a fresh random prefix.
    pub fn new(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut b = [0u8; 2];
        rng.fill_bytes(&mut b);
        Self::with_prefix_bytes(b[0], b[1])
    }

    /// The next id.
    pub fn next_id(&mut self) -> String {
        self.counter = self.counter.wrapping_add(1);
        format!("{}{}", self.prefix, self.counter)
    }
}

/// The participant hash the server puts on a message ack: `"2:"` and the base64 (no padding)
/// of the first 6 bytes of `SHA256` over the sorted, concatenated device JIDs, each written
/// `user.agent:device@server`. A mismatch with ours means our device list is stale.
pub fn participant_hash<S: AsRef<str>>(device_jids: &[S]) -> String {
    let mut sorted: Vec<&str> = device_jids.iter().map(AsRef::as_ref).collect();
    sorted.sort_unstable();
    let mut hasher = Sha256::new();
    for jid in sorted {
        hasher.update(jid.as_bytes());
    }
    let digest = hasher.finalize();
    format!("2:{}", STANDARD_NO_PAD.encode(&digest[..6]))
}

/// [`participant_hash`] over device JIDs, each written in whatsmeow's `ADString` form
/// (`user.agent:device@server`, agent and device always present).
pub fn participant_hash_of(devices: &[crate::binary::Jid]) -> String {
    let written: Vec<String> = devices
        .iter()
        .map(|d| format!("{}.{}:{}@{}", d.user, d.agent, d.device, d.server.as_str()))
        .collect();
    participant_hash(&written)
}

/// `DevicePairingRegistrationData.buildHash`: MD5 of the app version written `P.S.T`.
pub fn build_hash(app_version: &str) -> [u8; 16] {
    Md5::digest(app_version.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_shape_and_inputs_matter() {
        let id = message_id(1_700_000_000, "15551234567", &[7; 16]);
        assert_eq!(id.len(), MESSAGE_ID_LEN);
        assert!(id.starts_with("3EB0"));
        assert!(id[4..]
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        assert_ne!(id, message_id(1_700_000_001, "15551234567", &[7; 16]));
        assert_ne!(id, message_id(1_700_000_000, "15551234568", &[7; 16]));
        assert_ne!(id, message_id(1_700_000_000, "15551234567", &[8; 16]));
    }

    #[test]
    fn message_id_matches_formula() {
        // Independent computation of the same formula from its parts.
        let mut input = Vec::new();
        input.extend_from_slice(&1_700_000_000u64.to_be_bytes());
        input.extend_from_slice(b"15551234567@c.us");
        input.extend_from_slice(&[0xab; 16]);
        let want = format!("3EB0{}", hex::encode_upper(&Sha256::digest(&input)[..9]));
        assert_eq!(message_id(1_700_000_000, "15551234567", &[0xab; 16]), want);
    }

    #[test]
    fn iq_ids_count_up_under_a_fixed_prefix() {
        let mut ids = IqIdGenerator::with_prefix_bytes(12, 250);
        assert_eq!(ids.next_id(), "12.250-1");
        assert_eq!(ids.next_id(), "12.250-2");
        assert_eq!(ids.next_id(), "12.250-3");
    }

    #[test]
    fn phash_ignores_order() {
        let a = participant_hash(&["b@s.whatsapp.net", "a@s.whatsapp.net"]);
        let b = participant_hash(&["a@s.whatsapp.net", "b@s.whatsapp.net"]);
        assert_eq!(a, b);
        assert_ne!(a, participant_hash(&["a@s.whatsapp.net"]));
        assert!(a.starts_with("2:") && a.len() == 10);
    }

    #[test]
    fn phash_of_jids_matches_the_protocol_vector() {
        use crate::binary::{Jid, Server};
        let devices = [
            Jid::new("15551234567", Server::Pn),
            Jid::with_device("15551234567", 3, Server::Pn),
            Jid::new("15557654321", Server::Pn),
        ];
        assert_eq!(participant_hash_of(&devices), "2:1rP1CxtP");
    }
}
