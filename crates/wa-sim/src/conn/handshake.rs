//! The first frames of a connection: the Noise responder (ClientHello, ClientFinish), the
//! admission decision on the ClientPayload, and after that the transport decryption of every
//! frame into a node.

use rand_core::OsRng;
use wa_core::binary::decode;
use wa_core::noise::Responder;

use super::{Conn, Flow, Stage};
use crate::iq::LoginSession;
use crate::link::{CloseKind, Out};
use crate::login::{self, error_chain, Admission};
use crate::pairing;
use crate::shared::events::SimEvent;
use crate::shared::faults::{lock, KickKind};
use crate::shared::registry::{Count, Phase};
use crate::shared::ConnCommand;

impl Conn {
    pub(super) fn on_bytes(&mut self, bytes: &[u8]) -> Flow {
        if let Err(e) = self.decoder.push(bytes) {
            tracing::warn!(conn = self.id, error = %e, "bad framing from the client");
            return Flow::Close(format!("bad framing: {e}"));
        }
        loop {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => {
                    if let Flow::Close(outcome) = self.on_frame(frame) {
                        return Flow::Close(outcome);
                    }
                }
                Ok(None) => return Flow::Continue,
                Err(e) => {
                    tracing::warn!(conn = self.id, error = %e, "bad framing from the client");
                    return Flow::Close(format!("bad framing: {e}"));
                }
            }
        }
    }

    fn on_frame(&mut self, mut frame: Vec<u8>) -> Flow {
        match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Hello => {
                let identity = self.shared.server_identity();
                let responder = Responder::with_rng(identity.noise_static, &mut OsRng);
                match responder.read_client_hello(&frame, &identity.cert_chain) {
                    Ok((awaiting, hello)) => {
                        self.writer.send(Out::Handshake(hello), self.delay());
                        self.stage = Stage::Finish(Box::new(awaiting));
                        Flow::Continue
                    }
                    Err(e) => self.handshake_failed("ClientHello", &e),
                }
            }
            Stage::Finish(awaiting) => match awaiting.read_client_finish(&frame) {
                Ok(finished) => {
                    let (write, read) = finished.transport.split();
                    self.writer.send(Out::Cipher(Box::new(write)), self.delay());
                    self.reader = Some(read);
                    lock(&self.shared.registry).count(Count::Handshake);
                    let (admission, version) = login::admit(
                        &self.shared,
                        &finished.client_static,
                        &finished.client_payload,
                    );
                    if let Some(v) = version {
                        lock(&self.shared.registry)
                            .update(self.id, |i| i.app_version = Some(v.to_string()));
                    }
                    self.on_admission(admission, finished.client_static)
                }
                Err(e) => self.handshake_failed("ClientFinish", &e),
            },
            stage @ (Stage::Pairing(_) | Stage::LoggedIn(_)) => {
                self.stage = stage;
                let Some(reader) = self.reader.as_mut() else {
                    return Flow::Close("no transport cipher".to_owned());
                };
                if let Err(e) = reader.decrypt_in_place(&mut frame) {
                    tracing::warn!(conn = self.id, error = %e, "a frame failed to decrypt (tampered, reordered or wrong key); closing");
                    return Flow::Close("frame failed to decrypt (tampered)".to_owned());
                }
                match decode(&frame) {
                    Ok(node) => self.on_node(node),
                    Err(e) => {
                        tracing::warn!(conn = self.id, error = %error_chain(&e), "a frame does not decode as a node");
                        let node = KickKind::XmlNotWellFormed.stream_error();
                        self.close_with(node, format!("stream error xml-not-well-formed: {e}"))
                    }
                }
            }
            Stage::Done => Flow::Close("frame after the end".to_owned()),
        }
    }

    fn handshake_failed(&mut self, step: &'static str, e: &wa_core::noise::NoiseError) -> Flow {
        lock(&self.shared.registry).count(Count::Rejection);
        tracing::warn!(conn = self.id, step, error = %error_chain(e), "Noise handshake failed");
        self.writer
            .send(Out::Close(CloseKind::Graceful), self.delay());
        Flow::Close(format!("handshake failed at {step}: {e}"))
    }

    fn on_admission(
        &mut self,
        admission: Admission,
        client_static: wa_core::signal::PublicKey,
    ) -> Flow {
        match admission {
            Admission::Refused {
                failure,
                reason,
                why,
            } => {
                tracing::warn!(conn = self.id, reason, %why, "login refused with <failure>");
                self.shared.events.emit(SimEvent::FailureSent {
                    conn: self.id,
                    reason,
                    why: why.clone(),
                });
                // The stage stays Done: nothing the client sends now is answered.
                self.close_with(failure, format!("failure {reason}: {why}"))
            }
            Admission::Register(registration) => {
                lock(&self.shared.registry).count(Count::Registration);
                tracing::info!(conn = self.id, os = ?registration.device_props.os, "registration accepted; sending pair-device");
                let (session, pair_device) =
                    pairing::start(&self.shared, self.id, *registration, client_static);
                lock(&self.shared.registry).update(self.id, |i| i.phase = Phase::Pairing);
                self.stage = Stage::Pairing(Box::new(session));
                self.send(pair_device);
                Flow::Continue
            }
            Admission::Login(device) => {
                // A new login takes the session over from any other connection of the device.
                let others = lock(&self.shared.registry).logged_in_as(&device.jid);
                for other in others {
                    tracing::info!(conn = other, device = %device.jid, "replaced by a new login");
                    self.shared
                        .command(other, ConnCommand::Kick(KickKind::Replaced));
                }
                {
                    let mut registry = lock(&self.shared.registry);
                    registry.count(Count::Login);
                    registry.update(self.id, |i| {
                        i.phase = Phase::LoggedIn;
                        i.device = Some(device.jid.clone());
                    });
                }
                tracing::info!(conn = self.id, device = %device.jid, "login accepted");
                self.shared.events.emit(SimEvent::LoggedIn {
                    conn: self.id,
                    jid: device.jid.clone(),
                });
                let success = login::success_node(&self.shared, &device);
                self.stage = Stage::LoggedIn(Box::new(LoginSession {
                    jid: device.jid.clone(),
                    active: false,
                    offline_sent: false,
                }));
                self.send(success);
                Flow::Continue
            }
        }
    }
}
