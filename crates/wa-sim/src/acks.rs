//! Ack enforcement: every `message`, `receipt`, `notification` and `call` the server sends must
//! be answered with `<ack class=TAG id=ID to=FROM/>` before a deadline, or the server recycles
//! the stream with `<stream:error><ack/></stream:error>` (protocol.md §8.2, §9.7).

use std::time::Duration;

use tokio::time::Instant;
use wa_core::binary::Node;

// The list is a protocol fact, kept in wa-core beside the client's ack builder; the simulator
// enforces it.
pub use wa_core::stanza::ack::{needs_ack, ACKED_TAGS};

/// One ack the client owes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owed {
    /// The stanza id.
    pub id: String,
    /// The stanza tag, which the ack names as `class`.
    pub class: String,
    /// The stanza's `from`, which the ack must name as `to`.
    pub from: String,
    /// When the ack is late.
    pub deadline: Instant,
}

/// Why an incoming `<ack>` settles nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckProblem {
    /// `id` or `class` is missing.
    #[error("ack without id or class")]
    Incomplete,
    /// Nothing with this id and class is owed.
    #[error("ack for {class} {id}, which is not owed")]
    NotOwed {
        /// The id acked.
        id: String,
        /// The class acked.
        class: String,
    },
    /// The ack's `to` is not the stanza's `from`.
    #[error("ack for {class} {id} is addressed to {got}, expected {expected}")]
    WrongTo {
        /// The id acked.
        id: String,
        /// The class acked.
        class: String,
        /// The stanza's from.
        expected: String,
        /// The ack's to (or "nothing").
        got: String,
    },
}

/// The acks one connection owes.
#[derive(Debug, Default)]
pub struct AckBook {
    owed: Vec<Owed>,
}

impl AckBook {
    /// Records that `node` was sent at `now` and must be acked within `deadline`; does
    /// nothing for stanzas that need no ack.
    pub fn owe(&mut self, node: &Node, now: Instant, deadline: Duration) {
        if !needs_ack(&node.tag) {
            return;
        }
        let (Some(id), Some(from)) = (node.attr("id"), node.attr("from")) else {
            tracing::warn!(stanza = %node, "sent a stanza that needs an ack without id or from");
            return;
        };
        self.owed.push(Owed {
            id: id.to_string(),
            class: node.tag.to_string(),
            from: from.to_string(),
            deadline: now + deadline,
        });
    }

    /// Settles the ack `node` (an `<ack>` from the client).
    pub fn settle(&mut self, node: &Node) -> Result<Owed, AckProblem> {
        let (Some(id), Some(class)) = (node.attr("id"), node.attr("class")) else {
            return Err(AckProblem::Incomplete);
        };
        let (id, class) = (id.to_string(), class.to_string());
        let Some(pos) = self
            .owed
            .iter()
            .position(|o| o.id == id && o.class == class)
        else {
            return Err(AckProblem::NotOwed { id, class });
        };
        let to = node.attr("to").map(ToString::to_string);
        if to.as_deref() != Some(self.owed[pos].from.as_str()) {
            return Err(AckProblem::WrongTo {
                expected: self.owed[pos].from.clone(),
                got: to.unwrap_or_else(|| "nothing".to_owned()),
                id,
                class,
            });
        }
        Ok(self.owed.remove(pos))
    }

    /// A receipt answers a message instead of an ack (messaging.md §0 item 1): a `<receipt
    /// id to=FROM>` (any type) settles the owed message with that id and `from`, and each
    /// `<list><item id>` it names. Returns how many it settled.
    pub fn settle_by_receipt(&mut self, receipt: &Node) -> usize {
        let Some(to) = receipt.attr("to").map(ToString::to_string) else {
            return 0;
        };
        let mut ids: Vec<String> = receipt
            .attr("id")
            .map(ToString::to_string)
            .into_iter()
            .collect();
        if let Some(list) = receipt.child("list") {
            ids.extend(
                list.children_by_tag("item")
                    .filter_map(|i| i.attr("id"))
                    .map(ToString::to_string),
            );
        }
        let before = self.owed.len();
        self.owed
            .retain(|o| !(o.class == "message" && o.from == to && ids.contains(&o.id)));
        before - self.owed.len()
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.owed.iter().map(|o| o.deadline).min()
    }

    /// The first owed ack whose deadline has passed at `now`.
    pub fn overdue(&self, now: Instant) -> Option<&Owed> {
        self.owed
            .iter()
            .filter(|o| o.deadline <= now)
            .min_by_key(|o| o.deadline)
    }

    /// Moves every deadline later by `by` (the time the server was stalled: a hung server
    /// does not enforce anything).
    pub fn postpone(&mut self, by: Duration) {
        for o in &mut self.owed {
            o.deadline += by;
        }
    }

    /// How many acks are owed.
    pub fn len(&self) -> usize {
        self.owed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wa_core::binary::{Jid, Server};

    fn notification(id: &'static str) -> Node {
        Node::new("notification")
            .with_attr("id", id)
            .with_attr("from", Jid::server_jid(Server::Pn))
            .with_attr("type", "test")
    }

    fn ack(id: &'static str, class: &'static str, to: Option<Jid>) -> Node {
        let n = Node::new("ack")
            .with_attr("id", id)
            .with_attr("class", class);
        match to {
            Some(to) => n.with_attr("to", to),
            None => n,
        }
    }

    #[tokio::test]
    async fn acks_settle_only_what_is_owed_and_addressed_right() {
        let now = Instant::now();
        let mut book = AckBook::default();
        book.owe(&notification("n1"), now, Duration::from_secs(10));
        book.owe(
            &Node::new("iq").with_attr("id", "x"),
            now,
            Duration::from_secs(1),
        );
        assert_eq!(book.len(), 1);
        assert_eq!(book.next_deadline(), Some(now + Duration::from_secs(10)));
        let server = Jid::server_jid(Server::Pn);
        assert!(matches!(
            book.settle(&ack("n1", "message", Some(server.clone()))),
            Err(AckProblem::NotOwed { .. })
        ));
        assert!(matches!(
            book.settle(&ack("n1", "notification", None)),
            Err(AckProblem::WrongTo { .. })
        ));
        assert!(book.overdue(now + Duration::from_secs(9)).is_none());
        assert!(book.overdue(now + Duration::from_secs(10)).is_some());
        book.postpone(Duration::from_secs(5));
        assert!(book.overdue(now + Duration::from_secs(10)).is_none());
        assert!(book
            .settle(&ack("n1", "notification", Some(server)))
            .is_ok());
        assert_eq!(book.len(), 0);
    }
}
