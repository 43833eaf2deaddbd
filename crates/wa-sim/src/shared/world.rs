//! The world the linked account lives in: accounts (the linked one and its contacts), their
//! simulated devices with real Signal state, groups, the offline queues of real clients, and
//! what every simulated device was shown. Only data and the rules that read it; the relay,
//! the peers and the control API change it.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use wa_core::binary::{Jid, Node, Server};
use wa_core::signal::group::SenderKeyRecord;
use wa_core::signal::{
    KeyPair, LocalIdentity, PreKeyLookup, PreKeyRecord, PublicKey, SessionRecord,
    SignedPreKeyRecord,
};

/// Which namespace an account's 1:1 chats use on the wire (messaging.md §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Addressing {
    /// Phone numbers, `@s.whatsapp.net`.
    #[default]
    Pn,
    /// LIDs, `@lid`.
    Lid,
}

impl Addressing {
    /// The server part of this namespace.
    pub fn server(self) -> Server {
        match self {
            Addressing::Pn => Server::Pn,
            Addressing::Lid => Server::Lid,
        }
    }

    /// `pn` or `lid`, as in `addressing_mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            Addressing::Pn => "pn",
            Addressing::Lid => "lid",
        }
    }
}

/// What a simulated device does with a copy its Signal session refuses as a duplicate
/// (messaging.md §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum DuplicateBehaviour {
    /// whatsmeow: ignore it and send the delivery receipt again.
    #[default]
    Ignore,
    /// Baileys: treat it as a decrypt failure and answer with a retry receipt.
    Retry,
}

/// One device, named in the PN namespace: the account's phone number and the device number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DeviceAddr {
    /// The account's phone number.
    pub pn: String,
    /// 0 is the phone.
    pub device: u16,
}

impl DeviceAddr {
    /// A device of the account `pn`.
    pub fn new(pn: impl Into<String>, device: u16) -> Self {
        Self {
            pn: pn.into(),
            device,
        }
    }
}

impl std::fmt::Display for DeviceAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.pn, self.device)
    }
}

/// How a simulated account's phone behaves by itself (demo mode).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Autopilot {
    /// Read what arrives this long after it arrived (`None`: only on `POST /admin/read`).
    pub read_after: Option<Duration>,
    /// Answer one message in `reply_every` with one of `replies`, after reading it.
    pub reply_every: u32,
    /// The texts replies are chosen from, in turn.
    pub replies: Vec<String>,
}

/// What one simulated device saw of one message id.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Seen {
    /// The message id.
    pub id: String,
    /// The sending device, as it came on the wire.
    pub from: String,
    /// The chat: the sender's account, or the group.
    pub chat: String,
    /// Each text shown, once per time it was shown.
    pub texts: Vec<String>,
    /// How many times it was shown to the user.
    pub shown: u32,
    /// Copies its Signal session refused as duplicates.
    pub refused: u32,
    /// Copies that did not decrypt (or were told to fail) and got a retry receipt.
    pub failed: u32,
    /// Whether a read receipt went out for it.
    pub read: bool,
    /// Unix ms of each showing.
    pub shown_at_ms: Vec<u64>,
}

/// What one simulated device sent, with what came back for it.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    /// The message id.
    pub id: String,
    /// The chat it went to.
    pub chat: String,
    /// The text.
    pub text: String,
    /// Devices that confirmed delivery.
    pub delivered: BTreeSet<String>,
    /// Devices that read it.
    pub read: BTreeSet<String>,
    /// Other receipts that came back, as `type` (`peer_msg`, `hist_sync`).
    pub acknowledged: BTreeSet<String>,
    /// Devices that asked for it again.
    pub retries: BTreeSet<String>,
}

/// Everything a simulated device has shown and sent, in arrival order.
#[derive(Debug, Clone, Default)]
pub struct MessageLog {
    /// Received ids in the order they first arrived.
    pub seen: Vec<Seen>,
    index: HashMap<String, usize>,
    /// Sent messages by id.
    pub sent: BTreeMap<String, Sent>,
}

impl MessageLog {
    /// The entry for `id`, created on first sight.
    pub fn entry(&mut self, id: &str, from: &str, chat: &str) -> &mut Seen {
        let at = match self.index.get(id) {
            Some(&at) => at,
            None => {
                self.seen.push(Seen {
                    id: id.to_owned(),
                    from: from.to_owned(),
                    chat: chat.to_owned(),
                    ..Seen::default()
                });
                self.index.insert(id.to_owned(), self.seen.len() - 1);
                self.seen.len() - 1
            }
        };
        &mut self.seen[at]
    }
}

/// 32 bytes derived from `seed` and `parts` (HKDF-SHA256), for keys that must come out the
/// same on every start.
pub fn derive(seed: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let info: Vec<u8> = parts.join(&b'/');
    wa_core::signal::crypto::hkdf_sha256::<32>(Some(b"wa-sim world"), seed, &info)
}

/// The seed of the device `device` of account `pn` under the world seed `seed`.
pub fn device_seed(seed: &[u8; 32], pn: &str, device: u16) -> [u8; 32] {
    derive(seed, &[b"device", pn.as_bytes(), &device.to_be_bytes()])
}

/// A device the simulator plays: a real Signal peer on wa-core.
pub struct SimDevice {
    /// What its keys derive from.
    pub seed: [u8; 32],
    /// The device number (0 = the phone).
    pub id: u16,
    /// Identity and registration id.
    pub identity: LocalIdentity,
    /// The current signed prekey.
    pub signed: SignedPreKeyRecord,
    /// One-time prekeys the server has not handed out yet.
    pub unserved: BTreeMap<u32, PreKeyRecord>,
    /// One-time prekeys handed out (or put in a retry receipt), not yet used by a session.
    pub served: BTreeMap<u32, PreKeyRecord>,
    /// The id the next generated prekey gets.
    pub next_pre_key: u32,
    /// ADV key index (companions; 0 for the phone).
    pub key_index: u32,
    /// A companion's `<device-identity>` (ADVSignedDeviceIdentity with the account key), sent
    /// with its pkmsgs; the phone has none.
    pub device_identity: Option<Vec<u8>>,
    /// Pairwise sessions by peer device.
    pub sessions: HashMap<DeviceAddr, SessionRecord>,
    /// Peer identities seen, by device (trust on first use, replaced on change like whatsmeow).
    pub identities: HashMap<DeviceAddr, PublicKey>,
    /// Sender keys received, by (group, sender device).
    pub sender_keys: HashMap<(String, DeviceAddr), SenderKeyRecord>,
    /// Our own sender key per group.
    pub own_sender_keys: HashMap<String, SenderKeyRecord>,
    /// Devices that already hold our sender key, per group.
    pub sender_key_holders: HashMap<String, BTreeSet<DeviceAddr>>,
    /// Fail this many of the next incoming messages (`POST /admin/fail-decrypt`).
    pub fail_next: u32,
    /// Serve this device's bundle with a broken signed-prekey signature
    /// (`POST /admin/bundle-signature`), as a corrupted or forged bundle would be.
    pub bad_signature: bool,
    /// Retry receipts sent, by message id.
    pub retry_counts: HashMap<String, u32>,
    /// What it showed and sent.
    pub log: MessageLog,
}

/// One-time prekeys generated for a new simulated device.
pub const SIM_PRE_KEYS: u32 = 20;

impl SimDevice {
    /// A device whose keys derive from `seed` (so a restarted simulator has the same
    /// devices); `identity` is the account key for a phone.
    pub fn new(id: u16, identity: KeyPair, key_index: u32, seed: [u8; 32]) -> Self {
        let registration = derive(&seed, &[b"registration"]);
        let identity = LocalIdentity {
            key_pair: identity,
            registration_id: (u32::from_be_bytes([0, 0, registration[0], registration[1]])
                & 0x3fff)
                + 1,
        };
        let signed_pair = KeyPair::from_private_bytes(derive(&seed, &[b"signed prekey"]));
        let signature = wa_core::signal::xeddsa::sign_with_rng(
            &identity.key_pair.private,
            signed_pair.public.to_signal().as_bytes(),
            &mut OsRng,
        );
        let signed = SignedPreKeyRecord {
            id: 1,
            key_pair: signed_pair,
            signature,
        };
        let mut device = Self {
            seed,
            id,
            identity,
            signed,
            unserved: BTreeMap::new(),
            served: BTreeMap::new(),
            next_pre_key: 1,
            key_index,
            device_identity: None,
            sessions: HashMap::new(),
            identities: HashMap::new(),
            sender_keys: HashMap::new(),
            own_sender_keys: HashMap::new(),
            sender_key_holders: HashMap::new(),
            fail_next: 0,
            bad_signature: false,
            retry_counts: HashMap::new(),
            log: MessageLog::default(),
        };
        for _ in 0..SIM_PRE_KEYS {
            let key = device.fresh_pre_key();
            device.unserved.insert(key.id, key);
        }
        device
    }

    /// A new one-time prekey with the next id, not yet stored anywhere.
    pub fn fresh_pre_key(&mut self) -> PreKeyRecord {
        let id = self.next_pre_key;
        self.next_pre_key = (self.next_pre_key % 0x00ff_ffff) + 1;
        PreKeyRecord {
            id,
            key_pair: KeyPair::from_private_bytes(derive(
                &self.seed,
                &[b"prekey", &id.to_be_bytes()],
            )),
        }
    }

    /// Hands out one one-time prekey (it moves to `served`), or none when all are gone.
    pub fn serve_pre_key(&mut self) -> Option<PreKeyRecord> {
        let (id, key) = self.unserved.pop_first()?;
        self.served.insert(id, key.clone());
        Some(key)
    }
}

impl PreKeyLookup for SimDevice {
    fn pre_key(&self, id: u32) -> Option<PreKeyRecord> {
        self.served
            .get(&id)
            .or_else(|| self.unserved.get(&id))
            .cloned()
    }

    fn signed_pre_key(&self, id: u32) -> Option<SignedPreKeyRecord> {
        (self.signed.id == id).then(|| self.signed.clone())
    }
}

/// An account: the linked one, or a contact.
pub struct Account {
    /// Phone number (digits).
    pub pn: String,
    /// LID user (digits).
    pub lid: String,
    /// Display name (`notify` on what it sends).
    pub name: String,
    /// Which namespace its 1:1 chats use.
    pub addressing: Addressing,
    /// The account key: the phone's identity, which signs companions' identities.
    pub account_key: KeyPair,
    /// The devices the simulator plays (0 = the phone). Real companions are in the store.
    pub devices: BTreeMap<u16, SimDevice>,
    /// What its devices do with a duplicate.
    pub duplicates: DuplicateBehaviour,
    /// A first message to it needs the privacy token it issued (else ack 463).
    pub token_required: bool,
    /// The token it issued to the linked account with a `privacy_token` notification.
    pub issued_token: Option<Vec<u8>>,
    /// Its phone's behaviour on its own.
    pub autopilot: Autopilot,
    /// The next device number for a new device.
    pub next_device: u16,
    /// Replies sent so far by the autopilot (to pick the next text).
    pub replies_sent: u32,
    /// Messages received by the autopilot (to decide when to reply).
    pub received: u32,
}

impl Account {
    /// The account's user JID in `addressing`.
    pub fn user_jid(&self, addressing: Addressing) -> Jid {
        match addressing {
            Addressing::Pn => Jid::new(self.pn.clone(), Server::Pn),
            Addressing::Lid => Jid::new(self.lid.clone(), Server::Lid),
        }
    }
}

/// A group member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// An ordinary member.
    Member,
    /// An admin.
    Admin,
    /// The creator.
    Superadmin,
}

/// A group.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// The id, without `@g.us`.
    pub id: String,
    /// Its subject.
    pub subject: String,
    /// Who created it (phone number).
    pub creator: String,
    /// Unix seconds.
    pub creation: u64,
    /// How members are named on the wire.
    pub addressing: Addressing,
    /// Members by phone number.
    pub participants: BTreeMap<String, Role>,
}

/// A message the relay refused, for the tests and `GET /admin/messages`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// The message id (empty if it had none).
    pub id: String,
    /// The sending device.
    pub from: String,
    /// The `error` of the ack.
    pub code: u16,
    /// Why, in words.
    pub reason: String,
}

/// The whole world.
#[derive(Default)]
pub struct World {
    /// Accounts by phone number; the linked account is one of them.
    pub accounts: BTreeMap<String, Account>,
    /// LID user to phone number.
    pub lid_to_pn: HashMap<String, String>,
    /// Groups by id.
    pub groups: BTreeMap<String, Group>,
    /// Stanzas for real clients that were not online (or not active), by device, in order.
    pub offline: HashMap<DeviceAddr, VecDeque<Node>>,
    /// Messages the relay refused, in order.
    pub refusals: Vec<Refusal>,
    /// Real devices the linked account's phone has sent its history to.
    pub history_synced: BTreeSet<DeviceAddr>,
    /// The next contact number handed out by `--contacts`.
    pub next_contact: u64,
    /// What every simulated key derives from; persisted, so contacts made again after a
    /// restart have the same identities.
    pub seed: [u8; 32],
}

impl World {
    /// The account whose phone number or LID is `user`, with the namespace it was named in.
    pub fn account_by_user(&self, jid: &Jid) -> Option<(&Account, Addressing)> {
        match jid.server {
            Server::Pn => self.accounts.get(&jid.user).map(|a| (a, Addressing::Pn)),
            Server::Lid => self
                .lid_to_pn
                .get(&jid.user)
                .and_then(|pn| self.accounts.get(pn))
                .map(|a| (a, Addressing::Lid)),
            _ => None,
        }
    }

    /// The device a JID names, if its account is known.
    pub fn device_addr(&self, jid: &Jid) -> Option<(DeviceAddr, Addressing)> {
        let (account, addressing) = self.account_by_user(jid)?;
        Some((DeviceAddr::new(account.pn.clone(), jid.device), addressing))
    }

    /// The wire JID of a device in `addressing`.
    pub fn wire_jid(&self, device: &DeviceAddr, addressing: Addressing) -> Jid {
        match (addressing, self.accounts.get(&device.pn)) {
            (Addressing::Lid, Some(account)) => {
                Jid::with_device(account.lid.clone(), device.device, Server::Lid)
            }
            _ => Jid::with_device(device.pn.clone(), device.device, Server::Pn),
        }
    }

    /// The seed of one account's device.
    pub fn device_seed(&self, pn: &str, device: u16) -> [u8; 32] {
        device_seed(&self.seed, pn, device)
    }

    /// The account key of a contact.
    pub fn account_key(&self, pn: &str) -> KeyPair {
        KeyPair::from_private_bytes(derive(&self.seed, &[b"account", pn.as_bytes()]))
    }

    /// The group JID.
    pub fn group_jid(id: &str) -> Jid {
        Jid::new(id.to_owned(), Server::Group)
    }
}

/// Why a contact or device change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorldError {
    /// The phone number or LID is taken or not digits.
    #[error("{0}")]
    BadContact(String),
    /// No such account.
    #[error("no account {0}")]
    NoAccount(String),
    /// No such device.
    #[error("no simulated device {0}")]
    NoDevice(String),
    /// No such group, or a bad member list.
    #[error("{0}")]
    BadGroup(String),
}

/// A JID attribute, whether the decoder gave it as a JID or as text.
pub fn attr_jid(node: &Node, key: &str) -> Option<Jid> {
    let value = node.attr(key)?;
    match value.as_jid() {
        Some(jid) => Some(jid.clone()),
        None => value.as_str()?.parse().ok(),
    }
}
