//! The stanzas of an authenticated connection, by tag: acks settle what the client owes,
//! IQs go to the pairing or logged-in handlers, presences are recorded.

use wa_core::binary::Node;

use super::{Conn, Flow, Stage};
use crate::iq;
use crate::shared::events::SimEvent;
use crate::shared::faults::lock;
use crate::shared::registry::Count;

impl Conn {
    pub(super) fn on_node(&mut self, node: Node) -> Flow {
        tracing::debug!(conn = self.id, stanza = %node, "recv");
        match node.tag.as_ref() {
            "ack" => {
                match self.acks.settle(&node) {
                    Ok(_) => {
                        let owed = self.acks.len();
                        lock(&self.shared.registry).update(self.id, |i| i.acks_owed = owed);
                    }
                    Err(problem) => {
                        tracing::warn!(conn = self.id, %problem, stanza = %node, "ack does not settle anything");
                    }
                }
                Flow::Continue
            }
            "iq" => self.on_iq(node),
            "message" => {
                let Stage::LoggedIn(session) = &self.stage else {
                    return Flow::Continue;
                };
                let jid = session.jid.clone();
                let ack = crate::relay::on_message(&self.shared, self.id, &jid, &node);
                self.send(ack);
                Flow::Continue
            }
            "receipt" => {
                let Stage::LoggedIn(session) = &self.stage else {
                    return Flow::Continue;
                };
                let jid = session.jid.clone();
                if self.acks.settle_by_receipt(&node) > 0 {
                    let owed = self.acks.len();
                    lock(&self.shared.registry).update(self.id, |i| i.acks_owed = owed);
                }
                crate::relay::receipts::on_receipt(&self.shared, &jid, &node);
                Flow::Continue
            }
            "presence" => {
                let presence = node.attr_str("type").unwrap_or("available").to_owned();
                lock(&self.shared.registry).update(self.id, |i| i.presence = Some(presence));
                Flow::Continue
            }
            _ => {
                tracing::info!(conn = self.id, stanza = %node, "stanza not simulated; ignored");
                Flow::Continue
            }
        }
    }

    fn on_iq(&mut self, node: Node) -> Flow {
        let (Some(id), Some(iq_type)) = (
            node.attr("id").map(ToString::to_string),
            node.attr_str("type").map(str::to_owned),
        ) else {
            lock(&self.shared.registry).count(Count::Rejection);
            tracing::warn!(conn = self.id, stanza = %node, "iq without id or type; ignored");
            return Flow::Continue;
        };
        if iq::is_ping(&node) {
            lock(&self.shared.registry).ping(self.id);
            self.shared
                .events
                .emit(SimEvent::PingAnswered { conn: self.id });
            self.send(iq::pong(&id));
            return Flow::Continue;
        }
        match &mut self.stage {
            Stage::Pairing(_) => self.on_pairing_iq(node, &id, &iq_type),
            Stage::LoggedIn(session) => {
                if iq_type == "result" || iq_type == "error" {
                    tracing::debug!(conn = self.id, stanza = %node, "iq answer ignored");
                    return Flow::Continue;
                }
                let response = iq::handle(&self.shared, self.id, session, &node, &id);
                if let Some(reply) = response.reply {
                    self.send(reply);
                }
                for then in response.then {
                    self.send(then);
                }
                match response.close {
                    Some((stream_error, outcome)) => self.close_with(stream_error, outcome),
                    None => Flow::Continue,
                }
            }
            _ => Flow::Continue,
        }
    }
}
