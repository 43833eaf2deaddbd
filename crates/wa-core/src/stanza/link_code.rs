//! The stanzas of linking by phone number (protocol.md §5.4): the companion's
//! `companion_hello` iq and the server's answer with the pairing ref, the phone's
//! `primary_hello` notification, and the companion's `companion_finish` iq.

use super::{
    attr_jid, attr_text, child, child_array, child_bytes, child_text, expect_tag, iq_header,
    iq_to_server, server_jid, StanzaError,
};
use crate::binary::{Jid, Node};
use crate::pair::code::{WRAPPED_EPHEMERAL_LEN, WRAPPED_KEY_BUNDLE_LEN};

const REG: &str = "link_code_companion_reg";
const WRAPPED_COMPANION_EPHEMERAL_PUB: &str = "link_code_pairing_wrapped_companion_ephemeral_pub";
const WRAPPED_PRIMARY_EPHEMERAL_PUB: &str = "link_code_pairing_wrapped_primary_ephemeral_pub";
const SERVER_AUTH_KEY_PUB: &str = "companion_server_auth_key_pub";
const PLATFORM_ID: &str = "companion_platform_id";
const PLATFORM_DISPLAY: &str = "companion_platform_display";
const NONCE: &str = "link_code_pairing_nonce";
const PAIRING_REF: &str = "link_code_pairing_ref";
const PRIMARY_IDENTITY_PUB: &str = "primary_identity_pub";
const WRAPPED_KEY_BUNDLE: &str = "link_code_pairing_wrapped_key_bundle";
const COMPANION_IDENTITY_PUBLIC: &str = "companion_identity_public";

fn expect_stage(reg: &Node, stage: &'static str) -> Result<(), StanzaError> {
    let found = attr_text(reg, REG, "stage")?;
    if found == stage {
        Ok(())
    } else {
        Err(StanzaError::BadAttr {
            tag: REG,
            attr: "stage",
            value: found,
            expected: stage,
        })
    }
}

fn set_iq(id: &str, reg: Node) -> Node {
    iq_to_server("set", id, vec![reg]).with_attr("xmlns", "md")
}

/// The `<link_code_companion_reg>` child of a `set` iq in the `md` namespace.
fn reg_of_set_iq(node: &Node) -> Result<(String, &Node), StanzaError> {
    let (id, iq_type) = iq_header(node)?;
    if iq_type != "set" {
        return Err(StanzaError::BadAttr {
            tag: "iq",
            attr: "type",
            value: iq_type,
            expected: "set",
        });
    }
    Ok((id, child(node, "iq", REG)?))
}

/// `stage="companion_hello"`: the companion asks the server to start linking by code with the
/// phone of `phone`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanionHello {
    /// The iq id.
    pub id: String,
    /// `PHONE@s.whatsapp.net`.
    pub phone: Jid,
    /// Whether the phone should show a push notification.
    pub show_push_notification: bool,
    /// Our ephemeral key wrapped under the code.
    pub wrapped_companion_ephemeral_pub: [u8; WRAPPED_EPHEMERAL_LEN],
    /// Our Noise static public key.
    pub companion_server_auth_key_pub: [u8; 32],
    /// The client type digit, e.g. `"1"`.
    pub platform_id: String,
    /// `Browser (OS)`, e.g. `Chrome (Linux)`; the server refuses unknown browsers.
    pub platform_display: String,
}

impl CompanionHello {
    /// The iq.
    pub fn to_node(&self) -> Node {
        set_iq(
            &self.id,
            Node::new(REG)
                .with_attr("jid", self.phone.clone())
                .with_attr("stage", "companion_hello")
                .with_attr(
                    "should_show_push_notification",
                    if self.show_push_notification {
                        "true"
                    } else {
                        "false"
                    },
                )
                .with_children(vec![
                    Node::new(WRAPPED_COMPANION_EPHEMERAL_PUB)
                        .with_bytes(self.wrapped_companion_ephemeral_pub.to_vec()),
                    Node::new(SERVER_AUTH_KEY_PUB)
                        .with_bytes(self.companion_server_auth_key_pub.to_vec()),
                    Node::new(PLATFORM_ID).with_bytes(self.platform_id.as_bytes().to_vec()),
                    Node::new(PLATFORM_DISPLAY)
                        .with_bytes(self.platform_display.as_bytes().to_vec()),
                    // The nonce is a single zero byte, as the newest reference client sends.
                    Node::new(NONCE).with_bytes(vec![0]),
                ]),
        )
    }

    /// Parses the iq (the simulator's side).
    pub fn parse(node: &Node) -> Result<Self, StanzaError> {
        let (id, reg) = reg_of_set_iq(node)?;
        expect_stage(reg, "companion_hello")?;
        Ok(Self {
            id,
            phone: attr_jid(reg, REG, "jid")?,
            show_push_notification: reg.attr_str("should_show_push_notification") == Some("true"),
            wrapped_companion_ephemeral_pub: child_array(
                reg,
                REG,
                WRAPPED_COMPANION_EPHEMERAL_PUB,
            )?,
            companion_server_auth_key_pub: child_array(reg, REG, SERVER_AUTH_KEY_PUB)?,
            platform_id: child_text(reg, REG, PLATFORM_ID)?,
            platform_display: child_text(reg, REG, PLATFORM_DISPLAY)?,
        })
    }
}

/// The server's answer to `companion_hello`: the ref that names this linking attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanionHelloResult {
    /// The iq id.
    pub id: String,
    /// `link_code_pairing_ref`.
    pub pairing_ref: Vec<u8>,
}

impl CompanionHelloResult {
    /// The server's result iq (the simulator's side).
    pub fn to_node(&self) -> Node {
        Node::new("iq")
            .with_attr("from", server_jid())
            .with_attr("type", "result")
            .with_attr("id", self.id.clone())
            .with_children(vec![Node::new(REG)
                .with_children(vec![
                    Node::new(PAIRING_REF).with_bytes(self.pairing_ref.clone())
                ])])
    }

    /// Parses the result iq.
    pub fn parse(node: &Node) -> Result<Self, StanzaError> {
        let (id, _) = iq_header(node)?;
        let reg = child(node, "iq", REG)?;
        Ok(Self {
            id,
            pairing_ref: child_bytes(reg, REG, PAIRING_REF)?.to_vec(),
        })
    }
}

/// `<notification type="link_code_companion_reg">` with `stage="primary_hello"`: the phone
/// accepted the code and sends its wrapped ephemeral key and its identity key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryHello {
    /// The notification id, to ack.
    pub id: String,
    /// Who sent it, to ack.
    pub from: Jid,
    /// Must equal the ref of [`CompanionHelloResult`].
    pub pairing_ref: Vec<u8>,
    /// The phone's ephemeral key wrapped under the code.
    pub wrapped_primary_ephemeral_pub: [u8; WRAPPED_EPHEMERAL_LEN],
    /// The phone's identity public key.
    pub primary_identity_pub: [u8; 32],
}

impl PrimaryHello {
    /// The notification `type`.
    pub const TYPE: &'static str = REG;

    /// The notification (the simulator's side).
    pub fn to_node(&self, t: u64) -> Node {
        Node::new("notification")
            .with_attr("from", self.from.clone())
            .with_attr("type", Self::TYPE)
            .with_attr("id", self.id.clone())
            .with_attr("t", t.to_string())
            .with_children(vec![Node::new(REG)
                .with_attr("stage", "primary_hello")
                .with_children(vec![
                    Node::new(WRAPPED_PRIMARY_EPHEMERAL_PUB)
                        .with_bytes(self.wrapped_primary_ephemeral_pub.to_vec()),
                    Node::new(PRIMARY_IDENTITY_PUB).with_bytes(self.primary_identity_pub.to_vec()),
                    Node::new(PAIRING_REF).with_bytes(self.pairing_ref.clone()),
                ])])
    }

    /// Parses the notification. A missing `stage` is accepted, since the reference clients
    /// that handle this notification do not look at it; a different stage is not.
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
        let reg = child(node, "notification", REG)?;
        if reg.attr("stage").is_some() {
            expect_stage(reg, "primary_hello")?;
        }
        Ok(Self {
            id: attr_text(node, "notification", "id")?,
            from: attr_jid(node, "notification", "from")?,
            pairing_ref: child_bytes(reg, REG, PAIRING_REF)?.to_vec(),
            wrapped_primary_ephemeral_pub: child_array(reg, REG, WRAPPED_PRIMARY_EPHEMERAL_PUB)?,
            primary_identity_pub: child_array(reg, REG, PRIMARY_IDENTITY_PUB)?,
        })
    }
}

/// `stage="companion_finish"`: the companion's sealed key bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanionFinish {
    /// The iq id.
    pub id: String,
    /// `PHONE@s.whatsapp.net`, as in `companion_hello`.
    pub phone: Jid,
    /// `salt || nonce || AES-GCM(bundle)`.
    pub wrapped_key_bundle: Vec<u8>,
    /// Our identity public key.
    pub companion_identity_public: [u8; 32],
    /// The ref from [`PrimaryHello`].
    pub pairing_ref: Vec<u8>,
}

impl CompanionFinish {
    /// The iq.
    pub fn to_node(&self) -> Node {
        set_iq(
            &self.id,
            Node::new(REG)
                .with_attr("jid", self.phone.clone())
                .with_attr("stage", "companion_finish")
                .with_children(vec![
                    Node::new(WRAPPED_KEY_BUNDLE).with_bytes(self.wrapped_key_bundle.clone()),
                    Node::new(COMPANION_IDENTITY_PUBLIC)
                        .with_bytes(self.companion_identity_public.to_vec()),
                    Node::new(PAIRING_REF).with_bytes(self.pairing_ref.clone()),
                ]),
        )
    }

    /// Parses the iq (the simulator's side).
    pub fn parse(node: &Node) -> Result<Self, StanzaError> {
        let (id, reg) = reg_of_set_iq(node)?;
        expect_stage(reg, "companion_finish")?;
        let wrapped_key_bundle = child_bytes(reg, REG, WRAPPED_KEY_BUNDLE)?;
        if wrapped_key_bundle.len() != WRAPPED_KEY_BUNDLE_LEN {
            return Err(StanzaError::ContentLength {
                tag: WRAPPED_KEY_BUNDLE,
                expected: WRAPPED_KEY_BUNDLE_LEN,
                got: wrapped_key_bundle.len(),
            });
        }
        Ok(Self {
            id,
            phone: attr_jid(reg, REG, "jid")?,
            wrapped_key_bundle: wrapped_key_bundle.to_vec(),
            companion_identity_public: child_array(reg, REG, COMPANION_IDENTITY_PUBLIC)?,
            pairing_ref: child_bytes(reg, REG, PAIRING_REF)?.to_vec(),
        })
    }
}

#[cfg(test)]
#[path = "link_code_tests.rs"]
mod tests;
