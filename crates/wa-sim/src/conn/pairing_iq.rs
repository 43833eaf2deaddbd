//! The pairing half of a connection's dispatch: the answers a registering client sends
//! (the `pair-device` ack, `pair-device-sign` or its refusal) and the pairing-code steps.

use wa_core::binary::Node;
use wa_core::pair::phone::verify_pair_device_sign;
use wa_core::stanza::pair::PairDeviceSign;

use super::{Conn, ConnCommand, Flow, Stage};
use crate::iq;
use crate::link::{CloseKind, Out};
use crate::login::error_chain;
use crate::pairing;
use crate::pairing_code;
use crate::shared::events::SimEvent;
use crate::shared::faults::{lock, restart_required};
use crate::shared::registry::Count;

impl Conn {
    pub(super) fn on_pairing_iq(&mut self, node: Node, id: &str, iq_type: &str) -> Flow {
        let Stage::Pairing(session) = &mut self.stage else {
            return Flow::Continue;
        };
        let pending_id = session.pending.as_ref().map(|p| p.iq_id.clone());
        match iq_type {
            "result" if id == session.pair_device_id => {
                session.pair_device_acked = true;
                Flow::Continue
            }
            "result" if Some(id) == pending_id.as_deref() => self.on_pair_device_sign(&node),
            "error" if Some(id) == pending_id.as_deref() => {
                let why = format!("client refused pair-success: {node}");
                self.pairing_rejected(why)
            }
            "set" if node.child("link_code_companion_reg").is_some() => {
                let stage = node.children()[0].attr_str("stage").unwrap_or("");
                let result = match stage {
                    "companion_hello" => {
                        pairing_code::companion_hello(&self.shared, self.id, session, &node)
                            .map(|reply| (reply, None))
                    }
                    "companion_finish" => {
                        pairing_code::companion_finish(&self.shared, self.id, session, &node)
                            .map(|(reply, pending)| (reply, Some(pending)))
                    }
                    _ => Err(pairing_code::Refusal {
                        reply: iq::error(id, 400, "bad-request"),
                        why: format!("unknown link_code_companion_reg stage {stage:?}"),
                    }),
                };
                match result {
                    Ok((reply, pending)) => {
                        self.send(reply);
                        if let Some(pending) = pending {
                            return self.on_command(ConnCommand::PairSuccess(pending));
                        }
                    }
                    Err(refusal) => {
                        lock(&self.shared.registry).count(Count::Rejection);
                        tracing::warn!(conn = self.id, reason = %refusal.why, "pairing code step refused");
                        self.send(refusal.reply);
                    }
                }
                Flow::Continue
            }
            "get" | "set" => {
                tracing::warn!(conn = self.id, stanza = %node, "iq before pairing finished; not authorized");
                self.send(iq::error(id, 401, "not-authorized"));
                Flow::Continue
            }
            _ => Flow::Continue,
        }
    }

    fn on_pair_device_sign(&mut self, node: &Node) -> Flow {
        let Stage::Pairing(session) = &mut self.stage else {
            return Flow::Continue;
        };
        let Some(pending) = session.pending.take() else {
            return Flow::Continue;
        };
        let sign = match PairDeviceSign::parse(node) {
            Ok(sign) => sign,
            Err(e) => return self.pairing_rejected(format!("pair-device-sign: {e}")),
        };
        if let Err(e) =
            verify_pair_device_sign(&pending.issued, sign.key_index, &sign.device_identity)
        {
            return self.pairing_rejected(format!("pair-device-sign: {}", error_chain(&e)));
        }
        let jid = pending.device.jid.clone();
        if let Err(why) = pairing::persist(&self.shared, pending.device) {
            tracing::error!(conn = self.id, %why, "could not persist the new device");
        }
        lock(&self.shared.registry).count(Count::Pairing);
        tracing::info!(conn = self.id, device = %jid, "device paired; sending 515");
        self.shared.events.emit(SimEvent::Paired {
            conn: self.id,
            jid: jid.clone(),
        });
        self.close_with(
            restart_required(),
            format!("paired as {jid}; stream error 515"),
        )
    }

    fn pairing_rejected(&mut self, why: String) -> Flow {
        lock(&self.shared.registry).count(Count::Rejection);
        tracing::warn!(conn = self.id, reason = %why, "pairing refused; closing");
        self.shared.events.emit(SimEvent::PairingRejected {
            conn: self.id,
            reason: why.clone(),
        });
        // What the real server sends here is unverified; it is closed without a stream error.
        self.writer
            .send(Out::Close(CloseKind::Graceful), self.delay());
        Flow::Close(format!("pairing refused: {why}"))
    }
}
