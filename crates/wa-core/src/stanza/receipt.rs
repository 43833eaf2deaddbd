//! Receipts: the ones a device sends for a message it received (delivery, which is also the
//! message's ack; retry after a failed decrypt) and the ones the sender reads back
//! (messaging.md §3.1–3.3; protocol.md §9.7).

use super::bundle::{key_nodes, parse_keys, parse_registration, registration_node};
use super::message::IncomingMessage;
use super::{attr_jid, attr_text, expect_tag, StanzaError};
use crate::binary::{Jid, Node};
use crate::signal::PreKeyBundle;

/// What a delivery receipt says about the message it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// A contact's message reached this device.
    Delivered,
    /// A copy of a message one of our own devices sent (`type="sender"`).
    Sender,
    /// A protocol message between our own devices (`type="peer_msg"`).
    PeerMsg,
}

/// The receipt that answers (and acks) a message that was decrypted and handled.
pub fn delivery_receipt(message: &IncomingMessage, kind: DeliveryKind) -> Node {
    let mut node = Node::new("receipt")
        .with_attr("id", message.id.clone())
        .with_attr("to", message.from.clone());
    if let Some(p) = &message.participant {
        node = node.with_attr("participant", p.clone());
    }
    match kind {
        DeliveryKind::Delivered => {}
        DeliveryKind::Sender => {
            node = node.with_attr("type", "sender");
            if let Some(r) = &message.recipient {
                node = node.with_attr("recipient", r.clone());
            }
        }
        DeliveryKind::PeerMsg => node = node.with_attr("type", "peer_msg"),
    }
    node
}

/// The extra receipt after a history-sync notification from our phone.
pub fn hist_sync_receipt(id: &str, own_user: &Jid) -> Node {
    Node::new("receipt")
        .with_attr("id", id.to_owned())
        .with_attr("type", "hist_sync")
        .with_attr("to", own_user.to_non_ad())
}

/// Keys offered in a retry receipt so the sender can build a fresh session (§3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryKeys {
    /// Our bundle (a fresh one-time prekey when we have one).
    pub bundle: PreKeyBundle,
    /// Our `ADVSignedDeviceIdentity`.
    pub device_identity: Vec<u8>,
}

/// A retry receipt we send after a message failed to decrypt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryRequest<'a> {
    /// The message that failed.
    pub message: &'a IncomingMessage,
    /// 1 for the first request, at most 5.
    pub count: u32,
    /// Our registration id.
    pub registration_id: u32,
    /// Our keys, sent from the second request on (or when forced).
    pub keys: Option<&'a RetryKeys>,
}

impl RetryRequest<'_> {
    /// The stanza.
    pub fn to_node(&self) -> Node {
        let m = self.message;
        let mut node = Node::new("receipt")
            .with_attr("id", m.id.clone())
            .with_attr("type", "retry")
            .with_attr("to", m.from.clone());
        if let Some(p) = &m.participant {
            node = node.with_attr("participant", p.clone());
        }
        if let Some(r) = &m.recipient {
            node = node.with_attr("recipient", r.clone());
        }
        if m.peer {
            node = node.with_attr("category", "peer");
        }
        let mut retry = Node::new("retry")
            .with_attr("count", self.count.to_string())
            .with_attr("id", m.id.clone())
            .with_attr("v", "1")
            .with_attr("error", "0");
        if let Some(t) = m.t {
            retry = retry.with_attr("t", t.to_string());
        }
        let mut children = vec![retry, registration_node(self.registration_id)];
        if let Some(keys) = self.keys {
            let mut nodes = key_nodes(&keys.bundle);
            nodes.push(Node::new("device-identity").with_bytes(keys.device_identity.clone()));
            children.push(Node::new("keys").with_children(nodes));
        }
        node.with_children(children)
    }
}

/// What a receipt reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptKind {
    /// Delivered to the device (no `type`, or `inactive`).
    Delivered,
    /// Delivered to another of our own devices (`sender`).
    Sender,
    /// Read (`read`, `read-self`).
    Read,
    /// Played (`played`, `played-self`).
    Played,
    /// The device could not decrypt and asks again.
    Retry,
    /// Anything else (`server-error`, `peer_msg`, `hist_sync`, …).
    Other(String),
}

impl ReceiptKind {
    fn parse(kind: Option<&str>) -> Self {
        match kind {
            None | Some("inactive") => Self::Delivered,
            Some("sender") => Self::Sender,
            Some("read") | Some("read-self") => Self::Read,
            Some("played") | Some("played-self") => Self::Played,
            Some("retry") => Self::Retry,
            Some(other) => Self::Other(other.to_owned()),
        }
    }
}

/// The retry part of a retry receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryInfo {
    /// The request's count (1-based).
    pub count: u32,
    /// The requester's registration id.
    pub registration_id: u32,
    /// The requester's fresh bundle, when it sent `<keys>`.
    pub bundle: Option<PreKeyBundle>,
}

/// A `<receipt>` as the sender of a message gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingReceipt {
    /// The receipt's own id (the first message id), for its ack.
    pub id: String,
    /// Every message id it covers: the id and any `<list><item id>`.
    pub ids: Vec<String>,
    /// The device it came from, or the group.
    pub from: Jid,
    /// In a group, the member device.
    pub participant: Option<Jid>,
    /// For `sender` receipts, the chat.
    pub recipient: Option<Jid>,
    /// What it says.
    pub kind: ReceiptKind,
    /// The server's time, unix seconds.
    pub t: Option<u64>,
    /// For a retry receipt, its details.
    pub retry: Option<RetryInfo>,
}

impl IncomingReceipt {
    /// Reads a receipt.
    pub fn parse(node: &Node) -> Result<Self, StanzaError> {
        expect_tag(node, "receipt")?;
        let id = attr_text(node, "receipt", "id")?;
        let from = attr_jid(node, "receipt", "from")?;
        let optional = |attr: &'static str| {
            node.attr(attr)
                .map(|_| attr_jid(node, "receipt", attr))
                .transpose()
        };
        let participant = optional("participant")?;
        let recipient = optional("recipient")?;
        let kind = ReceiptKind::parse(node.attr_str("type"));
        let t = node.attr("t").and_then(|t| t.to_string().parse().ok());
        let mut ids = vec![id.clone()];
        if let Some(list) = node.child("list") {
            for item in list.children_by_tag("item") {
                let item_id = attr_text(item, "item", "id")?;
                if !ids.contains(&item_id) {
                    ids.push(item_id);
                }
            }
        }
        let retry = if kind == ReceiptKind::Retry {
            let r = super::child(node, "receipt", "retry")?;
            let count = attr_text(r, "retry", "count")?;
            let count = count.parse().map_err(|_| StanzaError::BadAttr {
                tag: "retry",
                attr: "count",
                value: count,
                expected: "a number",
            })?;
            let registration_id = parse_registration(node, "receipt")?;
            let bundle = node
                .child("keys")
                .map(|keys| parse_keys(keys, registration_id))
                .transpose()?;
            Some(RetryInfo {
                count,
                registration_id,
                bundle,
            })
        } else {
            None
        };
        Ok(Self {
            id,
            ids,
            from,
            participant,
            recipient,
            kind,
            t,
            retry,
        })
    }

    /// The device that sent it.
    pub fn device(&self) -> &Jid {
        self.participant.as_ref().unwrap_or(&self.from)
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::binary::Server;
    use crate::signal::{KeyPair, LocalIdentity, PreKeyRecord, SignedPreKeyRecord};
    use crate::stanza::message::IncomingMessage;

    fn dev(user: &str, device: u16) -> Jid {
        Jid::with_device(user, device, Server::Pn)
    }

    fn message(from: Jid, participant: Option<Jid>, recipient: Option<Jid>) -> IncomingMessage {
        IncomingMessage {
            id: "3EB0AA".into(),
            from,
            participant,
            recipient,
            t: Some(1_764_000_000),
            peer: false,
            encs: Vec::new(),
        }
    }

    #[test]
    fn delivery_receipts_answer_each_kind_of_message() {
        let contact = message(dev("15551234567", 2), None, None);
        let r = delivery_receipt(&contact, DeliveryKind::Delivered);
        assert_eq!(r.attr_str("id"), Some("3EB0AA"));
        assert_eq!(r.attr_jid("to"), Some(&dev("15551234567", 2)));
        assert!(r.attr("type").is_none());

        let group = Jid::new("120363012345678901", Server::Group);
        let in_group = message(group.clone(), Some(dev("1555", 1)), None);
        let r = delivery_receipt(&in_group, DeliveryKind::Delivered);
        assert_eq!(r.attr_jid("to"), Some(&group));
        assert_eq!(r.attr_jid("participant"), Some(&dev("1555", 1)));

        let chat = Jid::new("15557654321", Server::Pn);
        let own = message(dev("15550000000", 0), None, Some(chat.clone()));
        let r = delivery_receipt(&own, DeliveryKind::Sender);
        assert_eq!(r.attr_str("type"), Some("sender"));
        assert_eq!(r.attr_jid("recipient"), Some(&chat));

        let r = delivery_receipt(&own, DeliveryKind::PeerMsg);
        assert_eq!(r.attr_str("type"), Some("peer_msg"));
        assert!(r.attr("recipient").is_none());

        let r = hist_sync_receipt("H1", &dev("15550000000", 4));
        assert_eq!(r.attr_jid("to"), Some(&Jid::new("15550000000", Server::Pn)));
    }

    #[test]
    fn a_retry_request_reads_back_as_a_retry_receipt_with_its_keys() {
        let mut rng = StdRng::seed_from_u64(9);
        let identity = LocalIdentity {
            key_pair: KeyPair::generate(&mut rng),
            registration_id: 4242,
        };
        let signed = SignedPreKeyRecord::generate(1, &identity.key_pair, &mut rng);
        let otk = PreKeyRecord::generate(77, &mut rng);
        let keys = RetryKeys {
            bundle: PreKeyBundle::from_local(&identity, &signed, Some(&otk)),
            device_identity: b"adv".to_vec(),
        };
        let failed = message(dev("15551234567", 2), None, None);
        for (count, with_keys) in [(1, None), (2, Some(&keys))] {
            let sent = RetryRequest {
                message: &failed,
                count,
                registration_id: 4242,
                keys: with_keys,
            }
            .to_node();
            assert_eq!(sent.attr_str("type"), Some("retry"));
            assert_eq!(
                sent.child("retry").unwrap().attr_str("t"),
                Some("1764000000")
            );
            // The sender sees it with its `from` (the server swaps to/from).
            let mut seen = sent.clone();
            for a in &mut seen.attrs {
                if a.key == "to" {
                    a.key = "from".into();
                }
            }
            let got = IncomingReceipt::parse(&seen).unwrap();
            assert_eq!(got.kind, ReceiptKind::Retry);
            assert_eq!(got.device(), &dev("15551234567", 2));
            let retry = got.retry.unwrap();
            assert_eq!(retry.count, count);
            assert_eq!(retry.registration_id, 4242);
            assert_eq!(retry.bundle.as_ref(), with_keys.map(|k| &k.bundle));
        }
    }

    #[test]
    fn receipts_list_their_ids_and_kinds() {
        let r = Node::new("receipt")
            .with_attr("from", dev("15551234567", 2))
            .with_attr("id", "A")
            .with_attr("t", "1764000001")
            .with_attr("type", "read")
            .with_children(vec![Node::new("list").with_children(vec![
                Node::new("item").with_attr("id", "B"),
                Node::new("item").with_attr("id", "A"),
            ])]);
        let got = IncomingReceipt::parse(&r).unwrap();
        assert_eq!(got.ids, ["A", "B"]);
        assert_eq!(got.kind, ReceiptKind::Read);
        assert_eq!(got.t, Some(1_764_000_001));
        let plain = Node::new("receipt")
            .with_attr("from", dev("1", 1))
            .with_attr("id", "A");
        assert_eq!(
            IncomingReceipt::parse(&plain).unwrap().kind,
            ReceiptKind::Delivered
        );
        let retry_without_body = Node::new("receipt")
            .with_attr("from", dev("1", 1))
            .with_attr("id", "A")
            .with_attr("type", "retry");
        assert!(IncomingReceipt::parse(&retry_without_body).is_err());
    }
}
