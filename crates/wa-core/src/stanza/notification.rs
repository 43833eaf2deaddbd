//! The notifications a sending device acts on (messaging.md §8): device-list changes,
//! group membership changes, and privacy tokens. Anything else is only acked.

use super::{attr_jid, expect_tag, StanzaError};
use crate::binary::{Jid, Node};

/// A notification, read as far as the engine acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// `type="devices"`: a user's device list changed; the cache of `user` is stale.
    Devices {
        /// The user (without device).
        user: Jid,
        /// Devices added.
        added: Vec<Jid>,
        /// Devices removed.
        removed: Vec<Jid>,
    },
    /// `type="w:gp2"`: members joined or left a group.
    GroupMembers {
        /// The group.
        group: Jid,
        /// Members added.
        added: Vec<Jid>,
        /// Members removed (or who left).
        removed: Vec<Jid>,
    },
    /// `type="privacy_token"`: a contact's token to attach to our messages to them.
    PrivacyTokens {
        /// The contact.
        from: Jid,
        /// `(t, token)` pairs of `type="trusted_contact"`.
        tokens: Vec<(u64, Vec<u8>)>,
    },
    /// Something the engine only acks.
    Other {
        /// Its `type`.
        kind: String,
    },
}

fn jids(parent: &Node, tag: &'static str) -> Result<Vec<Jid>, StanzaError> {
    parent
        .children_by_tag(tag)
        .map(|n| attr_jid(n, tag, "jid"))
        .collect()
}

impl Notification {
    /// Reads a `<notification>`.
    pub fn parse(node: &Node) -> Result<Self, StanzaError> {
        expect_tag(node, "notification")?;
        let kind = node.attr_str("type").unwrap_or("").to_owned();
        match kind.as_str() {
            "devices" => {
                let user = attr_jid(node, "notification", "from")?.to_non_ad();
                let mut added = Vec::new();
                let mut removed = Vec::new();
                for c in node.children() {
                    match c.tag.as_ref() {
                        "add" => added.extend(jids(c, "device")?),
                        "remove" => removed.extend(jids(c, "device")?),
                        _ => {}
                    }
                }
                Ok(Self::Devices {
                    user,
                    added,
                    removed,
                })
            }
            "w:gp2" => {
                let group = attr_jid(node, "notification", "from")?;
                let mut added = Vec::new();
                let mut removed = Vec::new();
                for c in node.children() {
                    match c.tag.as_ref() {
                        "add" | "invite" => added.extend(jids(c, "participant")?),
                        "remove" | "leave" => removed.extend(jids(c, "participant")?),
                        _ => {}
                    }
                }
                Ok(Self::GroupMembers {
                    group,
                    added,
                    removed,
                })
            }
            "privacy_token" => {
                let from = attr_jid(node, "notification", "from")?.to_non_ad();
                let tokens = node
                    .child("tokens")
                    .map(|t| {
                        t.children_by_tag("token")
                            .filter(|t| t.attr_str("type") == Some("trusted_contact"))
                            .filter_map(|t| {
                                let at = t.attr("t")?.to_string().parse().ok()?;
                                Some((at, t.bytes()?.to_vec()))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Self::PrivacyTokens { from, tokens })
            }
            _ => Ok(Self::Other { kind }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::Server;

    #[test]
    fn device_group_and_token_notifications_read() {
        let user = Jid::new("15551234567", Server::Pn);
        let n = Node::new("notification")
            .with_attr("type", "devices")
            .with_attr("from", user.clone())
            .with_children(vec![
                Node::new("add")
                    .with_attr("device_hash", "2:x")
                    .with_children(vec![Node::new("device")
                        .with_attr("jid", Jid::with_device("15551234567", 4, Server::Pn))]),
                Node::new("remove").with_children(vec![Node::new("device")
                    .with_attr("jid", Jid::with_device("15551234567", 2, Server::Pn))]),
            ]);
        assert_eq!(
            Notification::parse(&n).unwrap(),
            Notification::Devices {
                user,
                added: vec![Jid::with_device("15551234567", 4, Server::Pn)],
                removed: vec![Jid::with_device("15551234567", 2, Server::Pn)],
            }
        );

        let group = Jid::new("120363012345678901", Server::Group);
        let member = Jid::new("15557654321", Server::Pn);
        let n = Node::new("notification")
            .with_attr("type", "w:gp2")
            .with_attr("from", group.clone())
            .with_children(vec![Node::new("remove")
                .with_children(vec![
                    Node::new("participant").with_attr("jid", member.clone())
                ])]);
        assert_eq!(
            Notification::parse(&n).unwrap(),
            Notification::GroupMembers {
                group,
                added: vec![],
                removed: vec![member],
            }
        );

        let n = Node::new("notification")
            .with_attr("type", "privacy_token")
            .with_attr("from", Jid::new("15551234567", Server::Pn))
            .with_children(vec![Node::new("tokens").with_children(vec![Node::new(
                "token",
            )
            .with_attr("type", "trusted_contact")
            .with_attr("t", "1764000000")
            .with_bytes(vec![7, 7])])]);
        let Notification::PrivacyTokens { tokens, .. } = Notification::parse(&n).unwrap() else {
            panic!("not tokens");
        };
        assert_eq!(tokens, [(1_764_000_000, vec![7, 7])]);

        let other = Node::new("notification").with_attr("type", "server_sync");
        assert_eq!(
            Notification::parse(&other).unwrap(),
            Notification::Other {
                kind: "server_sync".into()
            }
        );
        let broken = Node::new("notification").with_attr("type", "devices");
        assert!(Notification::parse(&broken).is_err());
    }
}
