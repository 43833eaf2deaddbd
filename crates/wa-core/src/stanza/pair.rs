//! The stanzas of pairing by QR code (protocol.md §5.1–5.3): `pair-device` with the refs,
//! `pair-success` with the phone's signed identity, our `pair-device-sign` or error answer, and
//! the `companion_reg_refresh` notification. Each has a builder and a parser, because the
//! simulator speaks the other side.

use super::{
    attr_jid, attr_text, child, child_bytes, expect_tag, iq_header, iq_to_server, server_jid,
    StanzaError,
};
use crate::binary::{Jid, Node};
use crate::pair::adv::PairErrorReply;

/// `<iq type="set" xmlns="md"><pair-device><ref>…</ref>…</pair-device></iq>`: the server asks
/// us to show QR codes, one per ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairDevice {
    /// The iq id, to acknowledge.
    pub id: String,
    /// The refs in the order to show them.
    pub refs: Vec<String>,
}

impl PairDevice {
    /// Parses the server's `pair-device` iq. Refs that are not UTF-8 are an error, since they
    /// go into the QR string.
    pub fn parse(node: &Node) -> Result<Self, StanzaError> {
        let (id, iq_type) = iq_header(node)?;
        if iq_type != "set" {
            return Err(StanzaError::BadAttr {
                tag: "iq",
                attr: "type",
                value: iq_type,
                expected: "set",
            });
        }
        let pair_device = child(node, "iq", "pair-device")?;
        let refs = pair_device
            .children_by_tag("ref")
            .map(|r| {
                let bytes = r.bytes().ok_or(StanzaError::NotBytes { tag: "ref" })?;
                String::from_utf8(bytes.to_vec()).map_err(|_| StanzaError::NotText { tag: "ref" })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if refs.is_empty() {
            return Err(StanzaError::MissingChild {
                parent: "pair-device",
                child: "ref",
            });
        }
        Ok(Self { id, refs })
    }

    /// The server's iq, as the simulator sends it.
    pub fn to_node(&self) -> Node {
        Node::new("iq")
            .with_attr("from", server_jid())
            .with_attr("type", "set")
            .with_attr("id", self.id.clone())
            .with_attr("xmlns", "md")
            .with_children(vec![Node::new("pair-device").with_children(
                self.refs
                    .iter()
                    .map(|r| Node::new("ref").with_bytes(r.as_bytes().to_vec()))
                    .collect(),
            )])
    }
}

/// The empty `<iq to="@s.whatsapp.net" type="result" id=…/>` that acknowledges a server iq.
pub fn iq_result(id: &str) -> Node {
    iq_to_server("result", id, Vec::new())
}

/// `<iq><pair-success>`: the phone scanned the QR code and vouches for us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairSuccess {
    /// The iq id, to answer with `pair-device-sign`.
    pub id: String,
    /// Content of `<device-identity>`: a serialized `ADVSignedDeviceIdentityHMAC`.
    pub device_identity: Vec<u8>,
    /// Our own new JID, `phone:device@s.whatsapp.net`.
    pub jid: Jid,
    /// Our LID, `lid:device@lid`, when the server sends one.
    pub lid: Option<Jid>,
    /// `<platform name>` of the phone, e.g. `android`, `iphone`, `smba`.
    pub platform: Option<String>,
    /// `<biz name>` for business accounts.
    pub business_name: Option<String>,
    /// `<client-props>` (ClientPairingProps), kept raw.
    pub client_props: Option<Vec<u8>>,
}

impl PairSuccess {
    /// Parses the `pair-success` iq. The iq `type` is not checked: the reference clients do not
    /// either, and what the server puts there is unverified.
    pub fn parse(node: &Node) -> Result<Self, StanzaError> {
        expect_tag(node, "iq")?;
        let id = attr_text(node, "iq", "id")?;
        let success = child(node, "iq", "pair-success")?;
        let device_identity = child_bytes(success, "pair-success", "device-identity")?.to_vec();
        let device = child(success, "pair-success", "device")?;
        let jid = attr_jid(device, "device", "jid")?;
        let lid = match device.attr("lid") {
            Some(_) => Some(attr_jid(device, "device", "lid")?),
            None => None,
        };
        let platform = success
            .child("platform")
            .and_then(|p| p.attr("name"))
            .map(ToString::to_string);
        let business_name = success
            .child("biz")
            .and_then(|b| b.attr("name"))
            .map(ToString::to_string);
        let client_props = success
            .child("client-props")
            .and_then(Node::bytes)
            .map(<[u8]>::to_vec);
        Ok(Self {
            id,
            device_identity,
            jid,
            lid,
            platform,
            business_name,
            client_props,
        })
    }

    /// The server's iq, as the simulator sends it.
    pub fn to_node(&self) -> Node {
        let mut device = Node::new("device").with_attr("jid", self.jid.clone());
        if let Some(lid) = &self.lid {
            device = device.with_attr("lid", lid.clone());
        }
        let mut children = vec![
            Node::new("device-identity").with_bytes(self.device_identity.clone()),
            device,
        ];
        if let Some(platform) = &self.platform {
            children.push(Node::new("platform").with_attr("name", platform.clone()));
        }
        if let Some(name) = &self.business_name {
            children.push(Node::new("biz").with_attr("name", name.clone()));
        }
        if let Some(props) = &self.client_props {
            children.push(Node::new("client-props").with_bytes(props.clone()));
        }
        Node::new("iq")
            .with_attr("from", server_jid())
            .with_attr("type", "result")
            .with_attr("id", self.id.clone())
            .with_children(vec![Node::new("pair-success").with_children(children)])
    }
}

/// Our answer to `pair-success`: `<pair-device-sign><device-identity key-index=…>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairDeviceSign {
    /// The id of the `pair-success` iq.
    pub id: String,
    /// `ADVDeviceIdentity.keyIndex`.
    pub key_index: u32,
    /// Our signed `ADVSignedDeviceIdentity`, without `accountSignatureKey`.
    pub device_identity: Vec<u8>,
}

impl PairDeviceSign {
    /// The reply iq.
    pub fn to_node(&self) -> Node {
        iq_to_server(
            "result",
            &self.id,
            vec![
                Node::new("pair-device-sign").with_children(vec![Node::new("device-identity")
                    .with_attr("key-index", self.key_index.to_string())
                    .with_bytes(self.device_identity.clone())]),
            ],
        )
    }

    /// Parses a companion's reply (the simulator's side).
    pub fn parse(node: &Node) -> Result<Self, StanzaError> {
        let (id, iq_type) = iq_header(node)?;
        if iq_type != "result" {
            return Err(StanzaError::BadAttr {
                tag: "iq",
                attr: "type",
                value: iq_type,
                expected: "result",
            });
        }
        let sign = child(node, "iq", "pair-device-sign")?;
        let identity = child(sign, "pair-device-sign", "device-identity")?;
        let key_index = attr_text(identity, "device-identity", "key-index")?;
        let key_index = key_index.parse().map_err(|_| StanzaError::BadAttr {
            tag: "device-identity",
            attr: "key-index",
            value: key_index,
            expected: "an unsigned 32-bit number",
        })?;
        let device_identity = identity
            .bytes()
            .ok_or(StanzaError::NotBytes {
                tag: "device-identity",
            })?
            .to_vec();
        Ok(Self {
            id,
            key_index,
            device_identity,
        })
    }
}

/// `<iq to="@s.whatsapp.net" type="error" id=…><error code=… text=…/></iq>`: we refuse the
/// pairing.
pub fn pair_error_node(id: &str, reply: PairErrorReply) -> Node {
    iq_to_server(
        "error",
        id,
        vec![Node::new("error")
            .with_attr("code", reply.code().to_string())
            .with_attr("text", reply.text())],
    )
}

/// Reads a pair error reply back (the simulator's side): the iq id and which error it is.
pub fn parse_pair_error(node: &Node) -> Result<(String, PairErrorReply), StanzaError> {
    let (id, iq_type) = iq_header(node)?;
    if iq_type != "error" {
        return Err(StanzaError::BadAttr {
            tag: "iq",
            attr: "type",
            value: iq_type,
            expected: "error",
        });
    }
    let error = child(node, "iq", "error")?;
    let code = attr_text(error, "error", "code")?;
    let text = attr_text(error, "error", "text")?;
    let reply = [
        PairErrorReply::HmacMismatch,
        PairErrorReply::SignatureMismatch,
        PairErrorReply::InternalError,
    ]
    .into_iter()
    .find(|r| r.text() == text && r.code().to_string() == code)
    .ok_or(StanzaError::BadAttr {
        tag: "error",
        attr: "text",
        value: format!("{code} {text}"),
        expected: "a known pair error",
    })?;
    Ok((id, reply))
}

/// Which child a `companion_reg_refresh` notification carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompanionRegRefreshKind {
    /// `<companion_reg_refresh/>`.
    RegRefresh,
    /// `<pair-device-rotate-qr/>`.
    RotateQr,
}

impl CompanionRegRefreshKind {
    fn tag(self) -> &'static str {
        match self {
            Self::RegRefresh => "companion_reg_refresh",
            Self::RotateQr => "pair-device-rotate-qr",
        }
    }
}

/// `<notification type="companion_reg_refresh">`: the server asks for a new ADV secret and a
/// re-rendered QR code (seen since July 2026; if ignored, pairing never completes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanionRegRefresh {
    /// The notification id, to ack.
    pub id: String,
    /// Who sent it, to ack.
    pub from: Jid,
    /// Which child it carries.
    pub kind: CompanionRegRefreshKind,
}

impl CompanionRegRefresh {
    /// The notification `type`.
    pub const TYPE: &'static str = "companion_reg_refresh";

    /// Parses the notification.
    pub fn parse(node: &Node) -> Result<Self, StanzaError> {
        expect_tag(node, "notification")?;
        let notification_type = attr_text(node, "notification", "type")?;
        if notification_type != Self::TYPE {
            return Err(StanzaError::BadAttr {
                tag: "notification",
                attr: "type",
                value: notification_type,
                expected: Self::TYPE,
            });
        }
        let id = attr_text(node, "notification", "id")?;
        let from = attr_jid(node, "notification", "from")?;
        let kind = [
            CompanionRegRefreshKind::RegRefresh,
            CompanionRegRefreshKind::RotateQr,
        ]
        .into_iter()
        .find(|k| node.child(k.tag()).is_some())
        .ok_or(StanzaError::MissingChild {
            parent: "notification",
            child: "companion_reg_refresh",
        })?;
        Ok(Self { id, from, kind })
    }

    /// The notification, as the simulator sends it.
    pub fn to_node(&self, t: u64) -> Node {
        Node::new("notification")
            .with_attr("from", self.from.clone())
            .with_attr("type", Self::TYPE)
            .with_attr("id", self.id.clone())
            .with_attr("t", t.to_string())
            .with_children(vec![Node::new(self.kind.tag())])
    }
}

#[cfg(test)]
#[path = "pair_tests.rs"]
mod tests;
