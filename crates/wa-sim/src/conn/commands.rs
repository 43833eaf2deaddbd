//! What the control API asks of a connection (kicks, drops, the phone's `pair-success`, a
//! stanza to deliver), handled in the connection's own loop so its state has one owner.

use wa_core::binary::{Jid, Server};
use wa_core::stanza::pair::{CompanionRegRefresh, CompanionRegRefreshKind};

use super::{Conn, Flow, Stage};
use crate::link::{CloseKind, Out};
use crate::shared::book::server_id;
use crate::shared::faults::{lock, KickKind};
use crate::shared::registry::{now_unix, Phase};
use crate::shared::ConnCommand;

impl Conn {
    pub(super) fn on_command(&mut self, command: ConnCommand) -> Flow {
        match command {
            ConnCommand::Drop => {
                tracing::info!(conn = self.id, "fault: dropping the connection");
                self.writer.abort();
                Flow::Close("dropped (fault, no stream error)".to_owned())
            }
            ConnCommand::Kick(kind) if self.has_transport() => {
                if let (KickKind::DeviceRemoved, Stage::LoggedIn(s)) = (kind, &self.stage) {
                    let mut store = lock(&self.shared.store);
                    if store.data.devices.remove(&s.jid).is_some() {
                        if let Err(e) = store.save() {
                            tracing::error!(error = %e, "could not persist a device removal");
                        }
                    }
                }
                tracing::info!(conn = self.id, ?kind, "kicked with a stream error");
                self.close_with(
                    kind.stream_error(),
                    format!("kicked: stream error {kind:?}"),
                )
            }
            ConnCommand::Kick(kind) => {
                tracing::info!(
                    conn = self.id,
                    ?kind,
                    "kick before the handshake finished; closing"
                );
                self.writer
                    .send(Out::Close(CloseKind::Graceful), self.delay());
                Flow::Close(format!("kicked during the handshake ({kind:?})"))
            }
            ConnCommand::PairSuccess(pending) => {
                let Stage::Pairing(session) = &mut self.stage else {
                    tracing::warn!(
                        conn = self.id,
                        "pair-success for a connection that is not pairing"
                    );
                    return Flow::Continue;
                };
                let node = pending.success.to_node();
                session.pending = Some(*pending);
                lock(&self.shared.registry).update(self.id, |i| i.phase = Phase::PairSigning);
                self.send(node);
                Flow::Continue
            }
            ConnCommand::CompanionRegRefresh => {
                if matches!(self.stage, Stage::Pairing(_)) {
                    let refresh = CompanionRegRefresh {
                        id: server_id(),
                        from: Jid::server_jid(Server::Pn),
                        kind: CompanionRegRefreshKind::RegRefresh,
                    };
                    self.send(refresh.to_node(now_unix()));
                }
                Flow::Continue
            }
            ConnCommand::Send(node) => {
                if self.has_transport() {
                    self.send(*node);
                }
                Flow::Continue
            }
        }
    }
}
