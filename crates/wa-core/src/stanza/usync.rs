//! usync queries: the devices of users (with their LIDs), and whether phone numbers are on
//! WhatsApp (protocol.md §9.2, messaging.md §6.2).

use super::iq::Iq;
use super::{attr_jid, child, get_iq, iq_header, StanzaError};
use crate::binary::{Jid, Node, Server};

fn usync(sid: &str, context: &'static str, query: Vec<Node>, users: Vec<Node>) -> Node {
    get_iq(
        "usync",
        vec![Node::new("usync")
            .with_attr("sid", sid.to_owned())
            .with_attr("mode", "query")
            .with_attr("last", "true")
            .with_attr("index", "0")
            .with_attr("context", context)
            .with_children(vec![
                Node::new("query").with_children(query),
                Node::new("list").with_children(users),
            ])],
    )
}

fn answer_users(answer: &Node) -> Result<Vec<&Node>, StanzaError> {
    iq_header(answer)?;
    let usync = child(answer, "iq", "usync")?;
    let list = child(usync, "usync", "list")?;
    Ok(list.children_by_tag("user").collect())
}

/// The devices (and LIDs) of users, as a send needs them:
/// `<query><devices version="2"/><lid/></query>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicesQuery {
    /// The request's `sid`.
    pub sid: String,
    /// Users without device.
    pub users: Vec<Jid>,
}

/// One user's devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDevices {
    /// The user, as asked.
    pub user: Jid,
    /// Every device (0 first as the server lists it), as JIDs on the user's server (hosted
    /// devices on `hosted`/`hosted.lid`).
    pub devices: Vec<Jid>,
    /// The user's LID, when the answer carried one.
    pub lid: Option<Jid>,
}

impl Iq for DevicesQuery {
    type Answer = Vec<UserDevices>;

    fn build(&self) -> Node {
        usync(
            &self.sid,
            "message",
            vec![
                Node::new("devices").with_attr("version", "2"),
                Node::new("lid"),
            ],
            self.users
                .iter()
                .map(|u| Node::new("user").with_attr("jid", u.to_non_ad()))
                .collect(),
        )
    }

    fn parse(answer: &Node) -> Result<Vec<UserDevices>, StanzaError> {
        answer_users(answer)?
            .into_iter()
            .map(|user| {
                let jid = attr_jid(user, "user", "jid")?;
                let mut devices = Vec::new();
                if let Some(list) = user.child("devices").and_then(|d| d.child("device-list")) {
                    for d in list.children_by_tag("device") {
                        let id = super::attr_text(d, "device", "id")?;
                        let id: u16 = id.parse().map_err(|_| StanzaError::BadAttr {
                            tag: "device",
                            attr: "id",
                            value: id,
                            expected: "a device number",
                        })?;
                        // Companions without a key index are not valid recipients (Baileys
                        // skips them: "produces a bad req otherwise").
                        if id != 0 && d.attr("key-index").is_none() {
                            continue;
                        }
                        let hosted = d.attr_str("is_hosted") == Some("true");
                        let server = match (&jid.server, hosted) {
                            (Server::Lid, true) => Server::HostedLid,
                            (_, true) => Server::Hosted,
                            (s, false) => s.clone(),
                        };
                        devices.push(Jid::with_device(jid.user.clone(), id, server));
                    }
                }
                let lid = match user.child("lid") {
                    Some(l) if l.attr("val").is_some() => Some(attr_jid(l, "lid", "val")?),
                    _ => None,
                };
                Ok(UserDevices {
                    user: jid.to_non_ad(),
                    devices,
                    lid,
                })
            })
            .collect()
    }
}

/// Whether phone numbers are on WhatsApp: `<query><contact/><lid/></query>` over
/// `<user><contact>+E164</contact></user>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactQuery {
    /// The request's `sid`.
    pub sid: String,
    /// Numbers in E.164 with their `+`.
    pub phones: Vec<String>,
}

/// One number's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactResult {
    /// The user JID the server answered for.
    pub jid: Jid,
    /// `<contact type="in">`: the number has WhatsApp.
    pub on_whatsapp: bool,
    /// The user's LID, when the answer carried one.
    pub lid: Option<Jid>,
}

impl Iq for ContactQuery {
    type Answer = Vec<ContactResult>;

    fn build(&self) -> Node {
        usync(
            &self.sid,
            "interactive",
            vec![Node::new("contact"), Node::new("lid")],
            self.phones
                .iter()
                .map(|p| {
                    Node::new("user")
                        .with_children(vec![Node::new("contact").with_bytes(p.as_bytes().to_vec())])
                })
                .collect(),
        )
    }

    fn parse(answer: &Node) -> Result<Vec<ContactResult>, StanzaError> {
        answer_users(answer)?
            .into_iter()
            .map(|user| {
                let jid = attr_jid(user, "user", "jid")?;
                let contact = child(user, "user", "contact")?;
                let on_whatsapp = contact.attr_str("type") == Some("in");
                let lid = match user.child("lid") {
                    Some(l) if l.attr("val").is_some() => Some(attr_jid(l, "lid", "val")?),
                    _ => None,
                };
                Ok(ContactResult {
                    jid: jid.to_non_ad(),
                    on_whatsapp,
                    lid,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(users: Vec<Node>) -> Node {
        Node::new("iq")
            .with_attr("id", "1")
            .with_attr("type", "result")
            .with_children(vec![
                Node::new("usync").with_children(vec![Node::new("list").with_children(users)])
            ])
    }

    fn device(id: &str, key_index: Option<&str>) -> Node {
        let d = Node::new("device").with_attr("id", id.to_owned());
        match key_index {
            Some(k) => d.with_attr("key-index", k.to_owned()),
            None => d,
        }
    }

    #[test]
    fn a_devices_query_asks_devices_and_lids_for_bare_users() {
        let q = DevicesQuery {
            sid: "s1".into(),
            users: vec![Jid::with_device("15551234567", 3, Server::Pn)],
        }
        .build();
        assert_eq!(q.attr_str("xmlns"), Some("usync"));
        let u = q.child("usync").unwrap();
        assert_eq!(u.attr_str("context"), Some("message"));
        let query: Vec<_> = u
            .child("query")
            .unwrap()
            .children()
            .iter()
            .map(|c| c.tag.to_string())
            .collect();
        assert_eq!(query, ["devices", "lid"]);
        let user = &u.child("list").unwrap().children()[0];
        assert_eq!(
            user.attr_jid("jid"),
            Some(&Jid::new("15551234567", Server::Pn))
        );
    }

    #[test]
    fn devices_read_with_lids_hosted_servers_and_without_unindexed_companions() {
        let answer = result(vec![
            Node::new("user")
                .with_attr("jid", Jid::new("15551234567", Server::Pn))
                .with_children(vec![
                    Node::new("devices").with_children(vec![Node::new("device-list")
                        .with_children(vec![
                            device("0", None),
                            device("5", Some("2")),
                            device("7", None),
                            device("9", Some("3")).with_attr("is_hosted", "true"),
                        ])]),
                    Node::new("lid").with_attr("val", Jid::new("100000000000001", Server::Lid)),
                ]),
            Node::new("user")
                .with_attr("jid", Jid::new("15557654321", Server::Pn))
                .with_children(vec![Node::new("lid")]),
        ]);
        let got = DevicesQuery::parse(&answer).unwrap();
        assert_eq!(
            got[0].devices,
            [
                Jid::new("15551234567", Server::Pn),
                Jid::with_device("15551234567", 5, Server::Pn),
                Jid::with_device("15551234567", 9, Server::Hosted),
            ]
        );
        assert_eq!(got[0].lid, Some(Jid::new("100000000000001", Server::Lid)));
        assert!(got[1].devices.is_empty());
        assert_eq!(got[1].lid, None);

        let bad = result(vec![Node::new("user")
            .with_attr("jid", Jid::new("1", Server::Pn))
            .with_children(vec![Node::new("devices").with_children(vec![
                Node::new("device-list").with_children(vec![device("x", None)]),
            ])])]);
        assert!(matches!(
            DevicesQuery::parse(&bad),
            Err(StanzaError::BadAttr { attr: "id", .. })
        ));
    }

    #[test]
    fn contacts_read_in_and_out() {
        let q = ContactQuery {
            sid: "s2".into(),
            phones: vec!["+15551234567".into()],
        }
        .build();
        let user = &q.child("usync").unwrap().child("list").unwrap().children()[0];
        assert_eq!(
            user.child("contact").unwrap().bytes(),
            Some(&b"+15551234567"[..])
        );
        let answer = result(vec![
            Node::new("user")
                .with_attr("jid", Jid::new("15551234567", Server::Pn))
                .with_children(vec![
                    Node::new("contact").with_attr("type", "in"),
                    Node::new("lid").with_attr("val", Jid::new("100000000000001", Server::Lid)),
                ]),
            Node::new("user")
                .with_attr("jid", Jid::new("15550000001", Server::Pn))
                .with_children(vec![Node::new("contact").with_attr("type", "out")]),
        ]);
        let got = ContactQuery::parse(&answer).unwrap();
        assert!(got[0].on_whatsapp);
        assert_eq!(got[0].lid, Some(Jid::new("100000000000001", Server::Lid)));
        assert!(!got[1].on_whatsapp);
        let no_contact = result(vec![
            Node::new("user").with_attr("jid", Jid::new("1", Server::Pn))
        ]);
        assert!(ContactQuery::parse(&no_contact).is_err());
    }
}
