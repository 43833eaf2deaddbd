//! The few client stanzas that wa-core does not build: login upkeep and logout
//! (protocol.md §6.2, §7; whatsmeow's `Logout`).

use wa_core::binary::{Jid, Node};
use wa_core::stanza::iq::{parse_empty_result, Iq};
use wa_core::stanza::StanzaError;

use crate::config::Presence;

/// `@s.whatsapp.net`.
pub fn server() -> Jid {
    wa_core::stanza::server_jid()
}

/// `<iq xmlns="passive" type="set" to=s.whatsapp.net><active/></iq>`.
pub fn active() -> Node {
    Node::new("iq")
        .with_attr("xmlns", "passive")
        .with_attr("type", "set")
        .with_attr("to", server())
        .with_children(vec![Node::new("active")])
}

/// Tells the server this client is active after login; answered with an empty result.
pub struct Active;

impl Iq for Active {
    type Answer = ();

    fn build(&self) -> Node {
        active()
    }

    fn parse(answer: &Node) -> Result<(), StanzaError> {
        parse_empty_result(answer)
    }
}

/// Unlinks this companion (`own` is its device JID); answered with an empty result.
pub struct RemoveCompanionDevice<'a> {
    pub own: &'a Jid,
}

impl Iq for RemoveCompanionDevice<'_> {
    type Answer = ();

    fn build(&self) -> Node {
        remove_companion_device(self.own)
    }

    fn parse(answer: &Node) -> Result<(), StanzaError> {
        parse_empty_result(answer)
    }
}

/// `<presence type="available|unavailable" [name]/>`.
pub fn presence(presence: Presence, push_name: Option<&str>) -> Node {
    let kind = match presence {
        Presence::Available => "available",
        Presence::Unavailable => "unavailable",
    };
    let mut node = Node::new("presence").with_attr("type", kind);
    if let Some(name) = push_name {
        node = node.with_attr("name", name.to_owned());
    }
    node
}

/// `<iq xmlns="md" type="set" to=s.whatsapp.net><remove-companion-device jid=… reason="user_initiated"/></iq>`.
pub fn remove_companion_device(own: &Jid) -> Node {
    Node::new("iq")
        .with_attr("xmlns", "md")
        .with_attr("type", "set")
        .with_attr("to", server())
        .with_children(vec![Node::new("remove-companion-device")
            .with_attr("jid", own.clone())
            .with_attr("reason", "user_initiated")])
}

/// The answer to a server ping `<iq type="get" xmlns="urn:xmpp:ping" id=…>`.
pub fn pong_to_server(id: &str) -> Node {
    wa_core::stanza::pair::iq_result(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let a = active();
        assert_eq!(a.attr_str("xmlns"), Some("passive"));
        assert!(a.child("active").is_some());
        let p = presence(Presence::Unavailable, None);
        assert_eq!(p.attr_str("type"), Some("unavailable"));
        assert_eq!(p.attr("name"), None);
        let own: Jid = "15551234567:7@s.whatsapp.net".parse().unwrap();
        let r = remove_companion_device(&own);
        let c = r.child("remove-companion-device").unwrap();
        assert_eq!(c.attr_jid("jid"), Some(&own));
        assert_eq!(c.attr_str("reason"), Some("user_initiated"));
    }
}
