//! Group metadata over `xmlns="w:g2"` (messaging.md §1.1): one group's members and
//! addressing mode, and every group the account is in.

use super::iq::Iq;
use super::{attr_jid, attr_text, child, iq_header, StanzaError};
use crate::binary::{Jid, Node, Server};

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// The member as the group addresses it (a LID in a LID group).
    pub jid: Jid,
    /// The member's other address when the server gave it (`phone_number` or `lid`).
    pub other: Option<Jid>,
    /// `admin` or `superadmin`.
    pub admin: bool,
}

/// A group's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// `…@g.us`.
    pub jid: Jid,
    /// Its name.
    pub subject: String,
    /// `addressing_mode="lid"`.
    pub lid_addressing: bool,
    /// Members in the server's order.
    pub participants: Vec<Participant>,
}

impl GroupInfo {
    /// Reads a `<group>` node.
    pub fn parse(group: &Node) -> Result<Self, StanzaError> {
        let id = attr_text(group, "group", "id")?;
        let jid = if id.contains('@') {
            attr_jid(group, "group", "id")?
        } else {
            Jid::new(id, Server::Group)
        };
        let participants = group
            .children_by_tag("participant")
            .map(|p| {
                let jid = attr_jid(p, "participant", "jid")?;
                let other = match (p.attr("phone_number"), p.attr("lid")) {
                    (Some(_), _) => Some(attr_jid(p, "participant", "phone_number")?),
                    (None, Some(_)) => Some(attr_jid(p, "participant", "lid")?),
                    (None, None) => None,
                };
                let admin = matches!(p.attr_str("type"), Some("admin") | Some("superadmin"));
                Ok(Participant { jid, other, admin })
            })
            .collect::<Result<Vec<_>, StanzaError>>()?;
        Ok(Self {
            jid,
            subject: group
                .attr("subject")
                .map(ToString::to_string)
                .unwrap_or_default(),
            lid_addressing: group.attr_str("addressing_mode") == Some("lid"),
            participants,
        })
    }
}

/// `<iq type="get" xmlns="w:g2" to=GROUP><query request="interactive"/></iq>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfoQuery {
    /// The group.
    pub group: Jid,
}

impl Iq for GroupInfoQuery {
    type Answer = GroupInfo;

    fn build(&self) -> Node {
        Node::new("iq")
            .with_attr("to", self.group.clone())
            .with_attr("type", "get")
            .with_attr("xmlns", "w:g2")
            .with_children(vec![Node::new("query").with_attr("request", "interactive")])
    }

    fn parse(answer: &Node) -> Result<GroupInfo, StanzaError> {
        iq_header(answer)?;
        GroupInfo::parse(child(answer, "iq", "group")?)
    }
}

/// Every group we are in: `<participating><participants/><description/></participating>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParticipatingGroupsQuery;

impl Iq for ParticipatingGroupsQuery {
    type Answer = Vec<GroupInfo>;

    fn build(&self) -> Node {
        Node::new("iq")
            .with_attr("to", Jid::server_jid(Server::Group))
            .with_attr("type", "get")
            .with_attr("xmlns", "w:g2")
            .with_children(vec![Node::new("participating").with_children(vec![
                Node::new("participants"),
                Node::new("description"),
            ])])
    }

    fn parse(answer: &Node) -> Result<Vec<GroupInfo>, StanzaError> {
        iq_header(answer)?;
        match answer.child("groups") {
            Some(groups) => groups
                .children_by_tag("group")
                .map(GroupInfo::parse)
                .collect(),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group_node(mode: &str) -> Node {
        Node::new("group")
            .with_attr("id", "120363012345678901")
            .with_attr("subject", "Team")
            .with_attr("addressing_mode", mode.to_owned())
            .with_children(vec![
                Node::new("participant")
                    .with_attr("jid", Jid::new("100000000000001", Server::Lid))
                    .with_attr("phone_number", Jid::new("15551234567", Server::Pn))
                    .with_attr("type", "superadmin"),
                Node::new("participant").with_attr("jid", Jid::new("100000000000002", Server::Lid)),
                Node::new("description")
                    .with_children(vec![Node::new("body").with_bytes(b"x".to_vec())]),
            ])
    }

    #[test]
    fn one_group_reads_members_and_mode() {
        let answer = Node::new("iq")
            .with_attr("id", "1")
            .with_attr("type", "result")
            .with_children(vec![group_node("lid")]);
        let g = GroupInfoQuery::parse(&answer).unwrap();
        assert_eq!(g.jid, Jid::new("120363012345678901", Server::Group));
        assert_eq!(g.subject, "Team");
        assert!(g.lid_addressing);
        assert_eq!(g.participants.len(), 2);
        assert!(g.participants[0].admin);
        assert_eq!(
            g.participants[0].other,
            Some(Jid::new("15551234567", Server::Pn))
        );
        assert!(!g.participants[1].admin);
        let q = GroupInfoQuery {
            group: g.jid.clone(),
        }
        .build();
        assert_eq!(q.attr_str("xmlns"), Some("w:g2"));
        assert_eq!(q.attr_jid("to"), Some(&g.jid));
    }

    #[test]
    fn participating_lists_every_group() {
        let answer = Node::new("iq")
            .with_attr("id", "1")
            .with_attr("type", "result")
            .with_children(vec![
                Node::new("groups").with_children(vec![group_node("pn"), group_node("lid")])
            ]);
        let groups = ParticipatingGroupsQuery::parse(&answer).unwrap();
        assert_eq!(groups.len(), 2);
        assert!(!groups[0].lid_addressing);
        let none = Node::new("iq")
            .with_attr("id", "1")
            .with_attr("type", "result");
        assert!(ParticipatingGroupsQuery::parse(&none).unwrap().is_empty());
        let broken = Node::new("group").with_attr("subject", "x");
        assert!(GroupInfo::parse(&broken).is_err());
    }
}
