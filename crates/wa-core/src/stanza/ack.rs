//! Which stanzas the client must acknowledge, and the `<ack>` it sends (protocol.md §9.7).
//!
//! The server recycles the stream with `<stream:error><ack/></stream:error>` when a `message`,
//! `receipt`, `notification` or `call` goes unacknowledged, so both the client and the
//! simulator's enforcement read the same list from here.

use crate::binary::{Node, NodeRef};

/// Stanza tags the client must ack; the ack names the tag as its `class`.
pub const ACKED_TAGS: [&str; 4] = ["message", "receipt", "notification", "call"];

/// Whether a stanza with this tag must be acked.
pub fn needs_ack(tag: &str) -> bool {
    ACKED_TAGS.contains(&tag)
}

/// The `<ack>` for an incoming stanza that needs one: class = the tag, same id, to = its
/// sender, participant/recipient copied, `type` copied except for messages (as whatsmeow does).
/// `None` when the stanza needs no ack or has no id to ack.
pub fn ack_for(node: &Node) -> Option<Node> {
    let class = ACKED_TAGS.iter().find(|t| **t == node.tag.as_ref())?;
    let id = node.attr("id")?.clone();
    let mut ack = Node::new("ack")
        .with_attr("class", *class)
        .with_attr("id", id);
    if let Some(from) = node.attr("from") {
        ack = ack.with_attr("to", from.clone());
    }
    for key in ["participant", "recipient"] {
        if let Some(v) = node.attr(key) {
            ack = ack.with_attr(key, v.clone());
        }
    }
    if *class != "message" {
        if let Some(v) = node.attr("type") {
            ack = ack.with_attr("type", v.clone());
        }
    }
    Some(ack)
}

/// [`ack_for`] read from the borrowed view of a frame, so the client acks a stanza without
/// first building its tree.
pub fn ack_for_view(node: &NodeRef<'_>) -> Option<Node> {
    let tag = node.tag();
    let class = ACKED_TAGS.iter().find(|t| tag == **t)?;
    let id = node.attr("id")?.to_attr_value();
    let mut ack = Node::new("ack")
        .with_attr("class", *class)
        .with_attr("id", id);
    if let Some(from) = node.attr("from") {
        ack = ack.with_attr("to", from.to_attr_value());
    }
    for key in ["participant", "recipient"] {
        if let Some(v) = node.attr(key) {
            ack = ack.with_attr(key, v.to_attr_value());
        }
    }
    if *class != "message" {
        if let Some(v) = node.attr("type") {
            ack = ack.with_attr("type", v.to_attr_value());
        }
    }
    Some(ack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_copy_what_the_protocol_says() {
        let n = Node::new("receipt")
            .with_attr("id", "R1")
            .with_attr("from", "15551234567@s.whatsapp.net")
            .with_attr("participant", "p@s.whatsapp.net")
            .with_attr("type", "read");
        let ack = ack_for(&n).unwrap();
        assert_eq!(ack.attr_str("class"), Some("receipt"));
        assert_eq!(ack.attr_str("id"), Some("R1"));
        assert_eq!(ack.attr_str("to"), Some("15551234567@s.whatsapp.net"));
        assert_eq!(ack.attr_str("participant"), Some("p@s.whatsapp.net"));
        assert_eq!(ack.attr_str("type"), Some("read"));

        let m = Node::new("message")
            .with_attr("id", "M1")
            .with_attr("type", "text");
        let ack = ack_for(&m).unwrap();
        assert_eq!(ack.attr_str("class"), Some("message"));
        assert_eq!(ack.attr_str("type"), None);

        for tag in ["notification", "call"] {
            assert!(ack_for(&Node::new(tag).with_attr("id", "x")).is_some());
        }
        assert!(ack_for(&Node::new("iq").with_attr("id", "x")).is_none());
        assert!(ack_for(&Node::new("message")).is_none());
    }

    #[test]
    fn the_view_acks_like_the_tree() {
        use crate::binary::{self, Jid, Server};
        let stanzas = [
            Node::new("receipt")
                .with_attr("id", "3EB0ABCDEF0123456789AB")
                .with_attr("from", Jid::with_device("15551234567", 3, Server::Pn))
                .with_attr("participant", "p@s.whatsapp.net")
                .with_attr("type", "read"),
            Node::new("message")
                .with_attr("id", "M1")
                .with_attr("type", "text")
                .with_bytes(vec![1, 2, 3]),
            Node::new("notification").with_attr("id", "1234"),
            Node::new("call"),
            Node::new("iq").with_attr("id", "x"),
        ];
        for n in stanzas {
            let frame = binary::encode(&n).unwrap();
            let mut inflated = Vec::new();
            let view = binary::view(&frame, &mut inflated).unwrap();
            assert_eq!(ack_for_view(&view), ack_for(&n), "{n}");
        }
    }

    #[test]
    fn the_list_and_the_builder_agree() {
        for tag in ACKED_TAGS {
            assert!(needs_ack(tag));
            assert!(ack_for(&Node::new(tag).with_attr("id", "x")).is_some());
        }
        for tag in ["iq", "ack", "success", "ib", "presence"] {
            assert!(!needs_ack(tag));
            assert!(ack_for(&Node::new(tag).with_attr("id", "x")).is_none());
        }
    }
}
