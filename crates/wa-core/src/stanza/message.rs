//! The `<message>` stanza of an end-to-end encrypted text: the fan-out we send (1:1 with
//! `<participants>`, a group's `skmsg` with its `phash`, a retry resend to one device) and the
//! message a device receives (messaging.md §1.5, §3.4, §5; protocol.md §9.7).
//!
//! The builders take ciphertexts already made: encryption and its committed state belong to
//! the caller. They enforce the rules a server checks on shape: `<device-identity>` is there
//! exactly when some `<enc>` is a `pkmsg`, and every `<to>` sits under one `<participants>`.

use super::{attr_jid, attr_text, expect_tag, StanzaError};
use crate::binary::{Jid, Node, Server};

/// Which kind of ciphertext an `<enc>` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncKind {
    /// `pkmsg`: a pairwise message of a session the peer has not answered yet.
    PreKey,
    /// `msg`: a pairwise message of an established session.
    Whisper,
    /// `skmsg`: a group message under the sender's sender key.
    SenderKey,
    /// Anything else (`msmsg`, `frskmsg`, …): not ours to decrypt; the receiver nacks it.
    Other(String),
}

impl EncKind {
    /// The `type` attribute's value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::PreKey => "pkmsg",
            Self::Whisper => "msg",
            Self::SenderKey => "skmsg",
            Self::Other(s) => s,
        }
    }

    /// Reads a `type` attribute.
    pub fn parse(value: &str) -> Self {
        match value {
            "pkmsg" => Self::PreKey,
            "msg" => Self::Whisper,
            "skmsg" => Self::SenderKey,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// One device's pairwise ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCiphertext {
    /// The device it is for (`user:device@server`).
    pub device: Jid,
    /// `pkmsg` or `msg`.
    pub kind: EncKind,
    /// The Signal message bytes.
    pub bytes: Vec<u8>,
}

fn enc(kind: &EncKind, bytes: &[u8]) -> Node {
    Node::new("enc")
        .with_attr("v", "2")
        .with_attr("type", kind.as_str().to_owned())
        .with_bytes(bytes.to_vec())
}

fn participants(devices: &[DeviceCiphertext]) -> Node {
    Node::new("participants").with_children(
        devices
            .iter()
            .map(|d| {
                Node::new("to")
                    .with_attr("jid", d.device.clone())
                    .with_children(vec![enc(&d.kind, &d.bytes)])
            })
            .collect(),
    )
}

fn any_prekey(devices: &[DeviceCiphertext]) -> bool {
    devices.iter().any(|d| d.kind == EncKind::PreKey)
}

fn device_identity(bytes: &[u8]) -> Node {
    Node::new("device-identity").with_bytes(bytes.to_vec())
}

/// A 1:1 text to a user: one `<to>` per recipient device and per other device of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectMessage<'a> {
    /// The message id (the caller's, kept across resends).
    pub id: &'a str,
    /// The chat: the recipient user, without device, in the namespace of every `<to>`.
    pub to: &'a Jid,
    /// Recipient devices first, then our own other devices.
    pub devices: &'a [DeviceCiphertext],
    /// Our `ADVSignedDeviceIdentity` with the account signature key; sent iff a `pkmsg` is.
    pub device_identity: &'a [u8],
    /// The contact's privacy token, when we hold a valid one (messaging.md §4.1).
    pub tc_token: Option<&'a [u8]>,
}

impl DirectMessage<'_> {
    /// The stanza.
    pub fn to_node(&self) -> Node {
        let mut children = vec![participants(self.devices)];
        if any_prekey(self.devices) {
            children.push(device_identity(self.device_identity));
        }
        if let Some(token) = self.tc_token {
            children.push(Node::new("tctoken").with_bytes(token.to_vec()));
        }
        Node::new("message")
            .with_attr("id", self.id.to_owned())
            .with_attr("type", "text")
            .with_attr("to", self.to.clone())
            .with_children(children)
    }
}

/// A group text: the `skmsg` for everyone, and the distribution message pairwise to the devices
/// that need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMessage<'a> {
    /// The message id.
    pub id: &'a str,
    /// The group, `…@g.us`.
    pub group: &'a Jid,
    /// Whether the group addresses its members by LID (`addressing_mode="lid"`).
    pub lid_addressing: bool,
    /// The participant hash of every member device plus our sending device (§1.6).
    pub phash: &'a str,
    /// Pairwise ciphertexts of the distribution message; may be empty.
    pub distribution: &'a [DeviceCiphertext],
    /// The `skmsg` bytes.
    pub sender_key_message: &'a [u8],
    /// Our `ADVSignedDeviceIdentity`; sent iff a `pkmsg` is.
    pub device_identity: &'a [u8],
}

impl GroupMessage<'_> {
    /// The stanza, in whatsmeow's child order (participants, device identity, skmsg).
    pub fn to_node(&self) -> Node {
        let mut children = Vec::new();
        if !self.distribution.is_empty() {
            children.push(participants(self.distribution));
            if any_prekey(self.distribution) {
                children.push(device_identity(self.device_identity));
            }
        }
        children.push(enc(&EncKind::SenderKey, self.sender_key_message));
        Node::new("message")
            .with_attr("id", self.id.to_owned())
            .with_attr("type", "text")
            .with_attr("to", self.group.clone())
            .with_attr(
                "addressing_mode",
                if self.lid_addressing { "lid" } else { "pn" },
            )
            .with_attr("phash", self.phash.to_owned())
            .with_children(children)
    }
}

/// The answer to a retry receipt: the message again for one device only, same id (§3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryResend<'a> {
    /// The original id.
    pub id: &'a str,
    /// For a 1:1 chat the device that asked; for a group the group.
    pub to: &'a Jid,
    /// For a group, the device that asked.
    pub participant: Option<&'a Jid>,
    /// For a retry from our own device in a 1:1 chat, the chat.
    pub recipient: Option<&'a Jid>,
    /// The pairwise ciphertext.
    pub kind: EncKind,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// The retry count from the receipt, echoed on the `<enc>`.
    pub count: u32,
    /// Our `ADVSignedDeviceIdentity`, always sent on a resend (as Baileys does).
    pub device_identity: &'a [u8],
}

impl RetryResend<'_> {
    /// The stanza.
    pub fn to_node(&self) -> Node {
        let mut node = Node::new("message")
            .with_attr("id", self.id.to_owned())
            .with_attr("type", "text")
            .with_attr("to", self.to.clone());
        if let Some(p) = self.participant {
            node = node.with_attr("participant", p.clone());
        } else {
            node = node.with_attr("device_fanout", "false");
        }
        if let Some(r) = self.recipient {
            node = node.with_attr("recipient", r.clone());
        }
        let enc = enc(&self.kind, self.bytes).with_attr("count", self.count.to_string());
        node.with_children(vec![enc, device_identity(self.device_identity)])
    }
}

/// One `<enc>` of a received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingEnc {
    /// Its `type`.
    pub kind: EncKind,
    /// The ciphertext.
    pub bytes: Vec<u8>,
    /// The `count` of a retry resend, when present.
    pub retry_count: Option<u32>,
}

/// A `<message>` as a device receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMessage {
    /// The id, for the receipt.
    pub id: String,
    /// The chat for a group (`…@g.us`), else the sending device.
    pub from: Jid,
    /// In a group, the sending device.
    pub participant: Option<Jid>,
    /// On a copy of our own message from another of our devices, the chat it went to.
    pub recipient: Option<Jid>,
    /// The server's time, unix seconds.
    pub t: Option<u64>,
    /// `category="peer"`: a protocol message between our own devices.
    pub peer: bool,
    /// The ciphertexts in stanza order (pairwise before `skmsg`: the distribution installs the
    /// key).
    pub encs: Vec<IncomingEnc>,
}

impl IncomingMessage {
    /// Reads a received `<message>`. One without any `<enc>` (an `<unavailable>` placeholder)
    /// reads with an empty list; the caller acks it.
    pub fn parse(node: &Node) -> Result<Self, StanzaError> {
        expect_tag(node, "message")?;
        let id = attr_text(node, "message", "id")?;
        let from = attr_jid(node, "message", "from")?;
        let optional_jid = |attr: &'static str| {
            node.attr(attr)
                .map(|_| attr_jid(node, "message", attr))
                .transpose()
        };
        let participant = optional_jid("participant")?;
        let recipient = optional_jid("recipient")?;
        let t = match node.attr("t") {
            None => None,
            Some(v) => Some(v.to_string().parse().map_err(|_| StanzaError::BadAttr {
                tag: "message",
                attr: "t",
                value: v.to_string(),
                expected: "unix seconds",
            })?),
        };
        let peer = node.attr_str("category") == Some("peer");
        let encs = node
            .children_by_tag("enc")
            .map(|e| {
                let kind = EncKind::parse(&attr_text(e, "enc", "type")?);
                let bytes = e
                    .bytes()
                    .ok_or(StanzaError::NotBytes { tag: "enc" })?
                    .to_vec();
                let retry_count = e.attr_str("count").and_then(|c| c.parse().ok());
                Ok(IncomingEnc {
                    kind,
                    bytes,
                    retry_count,
                })
            })
            .collect::<Result<Vec<_>, StanzaError>>()?;
        Ok(Self {
            id,
            from,
            participant,
            recipient,
            t,
            peer,
            encs,
        })
    }

    /// The device that sent it.
    pub fn sender(&self) -> &Jid {
        self.participant.as_ref().unwrap_or(&self.from)
    }

    /// Whether it came in a group chat.
    pub fn is_group(&self) -> bool {
        self.from.server == Server::Group
    }

    /// The chat as the user sees it: the group, the peer user, or — for a copy of our own
    /// message — the chat it was sent to.
    pub fn chat(&self) -> Jid {
        if self.is_group() {
            return self.from.to_non_ad();
        }
        match &self.recipient {
            Some(r) => r.to_non_ad(),
            None => self.from.to_non_ad(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary;

    fn dev(user: &str, device: u16) -> Jid {
        Jid::with_device(user, device, Server::Pn)
    }

    fn ct(device: Jid, kind: EncKind) -> DeviceCiphertext {
        DeviceCiphertext {
            device,
            kind,
            bytes: vec![0x33, 1, 2],
        }
    }

    #[test]
    fn a_direct_message_carries_the_identity_only_with_a_prekey_message() {
        let to = Jid::new("15551234567", Server::Pn);
        let established = [
            ct(dev("15551234567", 0), EncKind::Whisper),
            ct(dev("15557654321", 2), EncKind::Whisper),
        ];
        let m = DirectMessage {
            id: "3EB0AA",
            to: &to,
            devices: &established,
            device_identity: b"adv",
            tc_token: None,
        }
        .to_node();
        assert_eq!(m.attr_str("type"), Some("text"));
        assert_eq!(m.attr_jid("to"), Some(&to));
        assert!(m.child("device-identity").is_none());
        let tos: Vec<_> = m.child("participants").unwrap().children().to_vec();
        assert_eq!(tos.len(), 2);
        assert_eq!(tos[1].attr_jid("jid"), Some(&dev("15557654321", 2)));
        let e = tos[0].child("enc").unwrap();
        assert_eq!(e.attr_str("v"), Some("2"));
        assert_eq!(e.attr_str("type"), Some("msg"));

        let fresh = [ct(dev("15551234567", 0), EncKind::PreKey)];
        let m = DirectMessage {
            id: "3EB0AA",
            to: &to,
            devices: &fresh,
            device_identity: b"adv",
            tc_token: Some(b"tok"),
        }
        .to_node();
        assert_eq!(
            m.child("device-identity").unwrap().bytes(),
            Some(&b"adv"[..])
        );
        assert_eq!(m.child("tctoken").unwrap().bytes(), Some(&b"tok"[..]));
        // It encodes: every attribute is a token, a JID or a string the codec takes.
        binary::encode(&m).unwrap();
    }

    #[test]
    fn a_group_message_has_phash_addressing_and_the_skmsg_last() {
        let group = Jid::new("120363012345678901", Server::Group);
        let dist = [ct(dev("15551234567", 0), EncKind::PreKey)];
        let m = GroupMessage {
            id: "3EB0BB",
            group: &group,
            lid_addressing: false,
            phash: "2:abcdefgh",
            distribution: &dist,
            sender_key_message: &[0x33, 9],
            device_identity: b"adv",
        }
        .to_node();
        assert_eq!(m.attr_str("phash"), Some("2:abcdefgh"));
        assert_eq!(m.attr_str("addressing_mode"), Some("pn"));
        let tags: Vec<_> = m.children().iter().map(|c| c.tag.to_string()).collect();
        assert_eq!(tags, ["participants", "device-identity", "enc"]);
        assert_eq!(m.children()[2].attr_str("type"), Some("skmsg"));

        let m = GroupMessage {
            distribution: &[],
            lid_addressing: true,
            ..GroupMessage {
                id: "3EB0BB",
                group: &group,
                lid_addressing: false,
                phash: "2:abcdefgh",
                distribution: &dist,
                sender_key_message: &[0x33, 9],
                device_identity: b"adv",
            }
        }
        .to_node();
        let tags: Vec<_> = m.children().iter().map(|c| c.tag.to_string()).collect();
        assert_eq!(tags, ["enc"]);
        assert_eq!(m.attr_str("addressing_mode"), Some("lid"));
    }

    #[test]
    fn a_retry_resend_goes_to_one_device_with_its_count() {
        let device = dev("15551234567", 3);
        let m = RetryResend {
            id: "3EB0CC",
            to: &device,
            participant: None,
            recipient: None,
            kind: EncKind::Whisper,
            bytes: &[1],
            count: 2,
            device_identity: b"adv",
        }
        .to_node();
        assert_eq!(m.attr_str("device_fanout"), Some("false"));
        assert_eq!(m.attr_jid("to"), Some(&device));
        let e = m.child("enc").unwrap();
        assert_eq!(e.attr_str("count"), Some("2"));
        assert!(m.child("participants").is_none());
        assert!(m.child("device-identity").is_some());
    }

    #[test]
    fn incoming_messages_read_their_sender_chat_and_encs() {
        let group = Jid::new("120363012345678901", Server::Group);
        let node = Node::new("message")
            .with_attr("from", group.clone())
            .with_attr("participant", dev("15551234567", 2))
            .with_attr("id", "3EB0DD")
            .with_attr("t", "1764000000")
            .with_attr("type", "text")
            .with_children(vec![
                Node::new("enc")
                    .with_attr("v", "2")
                    .with_attr("type", "pkmsg")
                    .with_bytes(vec![1]),
                Node::new("enc")
                    .with_attr("v", "2")
                    .with_attr("type", "skmsg")
                    .with_attr("count", "1")
                    .with_bytes(vec![2]),
            ]);
        let m = IncomingMessage::parse(&node).unwrap();
        assert!(m.is_group());
        assert_eq!(m.sender(), &dev("15551234567", 2));
        assert_eq!(m.chat(), group);
        assert_eq!(m.t, Some(1_764_000_000));
        assert_eq!(m.encs[0].kind, EncKind::PreKey);
        assert_eq!(m.encs[1].kind, EncKind::SenderKey);
        assert_eq!(m.encs[1].retry_count, Some(1));

        let own_copy = Node::new("message")
            .with_attr("from", dev("15550000000", 0))
            .with_attr("recipient", Jid::new("15551234567", Server::Pn))
            .with_attr("id", "X");
        let m = IncomingMessage::parse(&own_copy).unwrap();
        assert_eq!(m.chat(), Jid::new("15551234567", Server::Pn));
        assert!(m.encs.is_empty());

        let bad_enc = Node::new("message")
            .with_attr("from", dev("1", 0))
            .with_attr("id", "X")
            .with_children(vec![Node::new("enc").with_attr("type", "msg")]);
        assert_eq!(
            IncomingMessage::parse(&bad_enc),
            Err(StanzaError::NotBytes { tag: "enc" })
        );
        let bad_t = Node::new("message")
            .with_attr("from", dev("1", 0))
            .with_attr("id", "X")
            .with_attr("t", "soon");
        assert!(matches!(
            IncomingMessage::parse(&bad_t),
            Err(StanzaError::BadAttr { attr: "t", .. })
        ));
        assert!(IncomingMessage::parse(&Node::new("message").with_attr("id", "X")).is_err());
    }
}
