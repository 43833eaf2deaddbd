//! Pairing (protocol.md §5): QR codes rotating as the server's refs allow (the first for 60 s,
//! each next one for 20 s), `pair-success` verified with wa-core and answered, the
//! `companion_reg_refresh` notification, and linking by phone number with a pairing code.
//!
//! When every ref has been shown the connection ends with `QrExhausted`: the state becomes
//! `QrExpired` and waits for "get a new code" — not a failure, and not a counted attempt.

use std::time::Duration;

use rand::RngCore;
use tokio::sync::oneshot;
use tokio::time::Instant;
use wa_core::binary::{Jid, Node, Server};
use wa_core::disconnect::CloseReason;
use wa_core::pair::adv::verify_pair_success_identity;
use wa_core::pair::adv::PairErrorReply;
use wa_core::pair::code::{CompanionLinking, PhoneNumber, DEFAULT_PBKDF2_ITERATIONS};
use wa_core::pair::qr::QrData;
use wa_core::stanza::link_code::{CompanionFinish, CompanionHello, PrimaryHello};
use wa_core::stanza::pair::{iq_result, pair_error_node, PairDevice, PairDeviceSign, PairSuccess};

use crate::clock::UnixMillis;
use crate::commands::PendingPhone;
use crate::config::QrTiming;
use crate::connection::{Conn, Phase, TaskDone};
use crate::events::{ConnectionState, EngineEvent};
use crate::socket::SocketHandle;
use crate::store::Account;
use crate::supervisor::Supervisor;
use crate::CommandError;

/// How long the QR code at `index` (0-based) is shown.
pub fn qr_lifetime(index: usize, timing: &QrTiming) -> Duration {
    if index == 0 {
        timing.first
    } else {
        timing.rest
    }
}

/// The whole schedule for `count` refs: when each code expires, counted from the first.
pub fn qr_schedule(count: usize, timing: &QrTiming) -> Vec<Duration> {
    let mut at = Duration::ZERO;
    (0..count)
        .map(|i| {
            at += qr_lifetime(i, timing);
            at
        })
        .collect()
}

/// Accepts `+1 555 123-4567` style input and returns the digits the protocol wants.
pub fn normalize_phone(input: &str) -> Result<PhoneNumber, CommandError> {
    let digits: String = input
        .trim()
        .trim_start_matches('+')
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    PhoneNumber::parse(&digits).map_err(CommandError::InvalidPhone)
}

/// A pairing code waiting for the phone.
struct PhoneLinking {
    linking: CompanionLinking,
    phone: Jid,
    pairing_ref: Vec<u8>,
    expires_at: Instant,
}

/// The pairing in progress on this connection.
pub(crate) struct Pairing {
    refs: Vec<String>,
    index: usize,
    expires_at: Instant,
    expires_at_ms: UnixMillis,
    code: Option<PhoneLinking>,
}

impl Pairing {
    pub(crate) fn deadline(&self) -> Instant {
        match &self.code {
            Some(c) => c.expires_at,
            None => self.expires_at,
        }
    }
}

impl Supervisor {
    fn show_qr(&self, conn: &Conn) {
        let Phase::Pairing(p) = &conn.phase else {
            return;
        };
        let Some(pairing_ref) = p.refs.get(p.index) else {
            return;
        };
        let qr = QrData {
            pairing_ref: pairing_ref.clone(),
            noise_pub: *conn.creds.noise.public.as_bytes(),
            identity_pub: *conn.creds.identity.public.as_bytes(),
            adv_secret: conn.creds.adv_secret,
            client_type: self.config.client_type,
        }
        .to_qr_string();
        let index = u32::try_from(p.index + 1).unwrap_or(u32::MAX);
        let total = u32::try_from(p.refs.len()).unwrap_or(u32::MAX);
        tracing::info!(index, total, "showing QR code");
        self.emit(EngineEvent::Qr {
            qr: qr.clone(),
            expires_at_ms: p.expires_at_ms,
            index,
            total,
        });
        self.set_state(ConnectionState::Pairing {
            qr,
            expires_at_ms: p.expires_at_ms,
            index,
            total,
        });
    }

    /// `<pair-device>`: ack it and show the first code (or start the pending phone pairing).
    pub(crate) async fn on_pair_device(&mut self, conn: &mut Conn, node: &Node) {
        let pd = match PairDevice::parse(node) {
            Ok(pd) => pd,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable pair-device");
                return;
            }
        };
        let _ = conn.handle.send(iq_result(&pd.id)).await;
        let lifetime = qr_lifetime(0, &self.config.qr);
        conn.phase = Phase::Pairing(Pairing {
            refs: pd.refs,
            index: 0,
            expires_at: Instant::now() + lifetime,
            expires_at_ms: self.now().saturating_add(lifetime),
            code: None,
        });
        match self.pending_phone.take() {
            Some(pending) => self.spawn_phone_pairing(conn, pending),
            None => self.show_qr(conn),
        }
    }

    /// The shown code (or the pairing code) expired: the next ref, or the end.
    pub(crate) fn on_pairing_deadline(&mut self, conn: &mut Conn) -> Option<CloseReason> {
        let Phase::Pairing(p) = &mut conn.phase else {
            return None;
        };
        if p.code.is_some() {
            tracing::info!("pairing code expired");
            return Some(CloseReason::QrExhausted);
        }
        p.index += 1;
        if p.index >= p.refs.len() {
            return Some(CloseReason::QrExhausted);
        }
        let lifetime = qr_lifetime(p.index, &self.config.qr);
        p.expires_at += lifetime;
        p.expires_at_ms = self.now().saturating_add(lifetime);
        self.show_qr(conn);
        None
    }

    /// `companion_reg_refresh`: a new ADV secret, and the current code shown again with it.
    pub(crate) fn on_reg_refresh(&mut self, conn: &mut Conn, _node: &Node) {
        let Phase::Pairing(p) = &conn.phase else {
            tracing::debug!("companion_reg_refresh outside pairing; ignored");
            return;
        };
        if p.code.is_some() {
            // A phone-number pairing derives its own secret; the refresh is not for it.
            tracing::info!("companion_reg_refresh during a pairing code; kept the code's secret");
            return;
        }
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let saved = self
            .store
            .lock()
            .map_err(|_| "poisoned".to_owned())
            .and_then(|mut s| s.set_adv_secret(&secret).map_err(|e| e.to_string()));
        if let Err(e) = saved {
            tracing::error!(error = %e, "could not store the rotated ADV secret; keeping the old one");
            return;
        }
        conn.creds.adv_secret = secret;
        tracing::info!("ADV secret rotated (companion_reg_refresh); QR shown again");
        self.show_qr(conn);
    }

    /// `pair-success`: verify, persist, answer; or answer with the error the check calls for.
    pub(crate) async fn on_pair_success(&mut self, conn: &mut Conn, node: &Node) {
        let ps = match PairSuccess::parse(node) {
            Ok(ps) => ps,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable pair-success");
                if let Some(id) = node.attr_str("id") {
                    let _ = conn
                        .handle
                        .send(pair_error_node(id, PairErrorReply::InternalError))
                        .await;
                }
                return;
            }
        };
        let verified = verify_pair_success_identity(
            &ps.device_identity,
            &conn.creds.adv_secret,
            &conn.creds.identity,
            &mut rand::rngs::OsRng,
        );
        let paired = match verified {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, reply = e.reply().text(), "pair-success refused");
                let _ = conn.handle.send(pair_error_node(&ps.id, e.reply())).await;
                return;
            }
        };
        let account = Account {
            jid: ps.jid.clone(),
            lid: ps.lid.clone(),
            platform: ps.platform.clone(),
            business_name: ps.business_name.clone(),
            signed_identity: prost::Message::encode_to_vec(&paired.account),
            account_signature_key: *paired.account_signature_key.as_bytes(),
            paired_at_ms: self.now_ms(),
        };
        // Stored before answering: once the phone lists us, the keys must survive a crash.
        let saved = self
            .store
            .lock()
            .map_err(|_| "poisoned".to_owned())
            .and_then(|mut s| s.save_account(&account).map_err(|e| e.to_string()));
        if let Err(e) = saved {
            tracing::error!(error = %e, "could not store the pairing");
            let _ = conn
                .handle
                .send(pair_error_node(&ps.id, PairErrorReply::InternalError))
                .await;
            return;
        }
        conn.creds.account = Some(account);
        let sign = PairDeviceSign {
            id: ps.id.clone(),
            key_index: paired.key_index,
            device_identity: paired.reply_bytes(),
        };
        let _ = conn.handle.send(sign.to_node()).await;
        conn.phase = Phase::Paired;
        tracing::info!(jid = %ps.jid, platform = ps.platform.as_deref(), "paired");
        self.update_health(|h| h.jid = Some(ps.jid.to_string()));
        self.emit(EngineEvent::Paired {
            jid: ps.jid.to_string(),
            lid: ps.lid.as_ref().map(ToString::to_string),
            platform: ps.platform,
            business_name: ps.business_name,
        });
    }

    /// Asks the server, in a task of the connection, to push a pairing code to the phone of
    /// `pending.phone`; [`Supervisor::on_pair_code`] answers the caller when it is issued.
    pub(crate) fn spawn_phone_pairing(&mut self, conn: &mut Conn, pending: PendingPhone) {
        let PendingPhone { phone, reply } = pending;
        let request = CodeRequest {
            handle: conn.handle.clone(),
            phone,
            noise_pub: *conn.creds.noise.public.as_bytes(),
            platform_id: self.config.client_type.as_char().to_string(),
            platform_display: self.config.platform_display.clone(),
        };
        conn.tasks.spawn(async move {
            let result = request.run().await;
            TaskDone::PairCode { result, reply }
        });
    }

    /// The server issued a pairing code (or refused): show it and answer the caller.
    pub(crate) fn on_pair_code(
        &mut self,
        conn: &mut Conn,
        result: Result<IssuedCode, CommandError>,
        reply: oneshot::Sender<Result<String, CommandError>>,
    ) {
        let issued = match result {
            Ok(issued) => issued,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let Phase::Pairing(p) = &mut conn.phase else {
            let _ = reply.send(Err(CommandError::PairingEnded));
            return;
        };
        let code = issued.linking.code().display();
        let timeout = self.config.pair_code_timeout;
        p.code = Some(PhoneLinking {
            linking: issued.linking,
            phone: issued.phone_jid,
            pairing_ref: issued.pairing_ref,
            expires_at: Instant::now() + timeout,
        });
        let expires_at_ms = self.now().saturating_add(timeout);
        tracing::info!("pairing code issued");
        self.emit(EngineEvent::PairCode {
            code: code.clone(),
            phone: issued.phone.as_str().to_owned(),
        });
        self.set_state(ConnectionState::PairingCode {
            code: code.clone(),
            expires_at_ms,
        });
        let _ = reply.send(Ok(code));
    }

    /// The phone's answer to a pairing code: derive the new ADV secret and finish.
    pub(crate) async fn on_primary_hello(&mut self, conn: &mut Conn, node: &Node) {
        let hello = match PrimaryHello::parse(node) {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable link_code_companion_reg");
                return;
            }
        };
        let Phase::Pairing(p) = &mut conn.phase else {
            return;
        };
        let Some(code) = p.code.take() else {
            tracing::warn!("link_code_companion_reg without a pairing code in progress");
            return;
        };
        if code.pairing_ref != hello.pairing_ref {
            tracing::warn!("link_code_companion_reg for another pairing ref; ignored");
            p.code = Some(code);
            return;
        }
        let identity = conn.creds.identity.private.clone();
        let finished = tokio::task::spawn_blocking(move || {
            let r = code.linking.finish(
                &mut rand::rngs::OsRng,
                &identity,
                &hello.wrapped_primary_ephemeral_pub,
                &hello.primary_identity_pub,
            );
            (code, r)
        })
        .await;
        let (code, finish) = match finished {
            Ok((code, Ok(f))) => (code, f),
            Ok((_, Err(e))) => {
                tracing::warn!(error = %e, "pairing code exchange failed");
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "pairing code task failed");
                return;
            }
        };
        let saved = self
            .store
            .lock()
            .map_err(|_| "poisoned".to_owned())
            .and_then(|mut s| {
                s.set_adv_secret(&finish.adv_secret)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = saved {
            tracing::error!(error = %e, "could not store the pairing code's ADV secret");
            return;
        }
        conn.creds.adv_secret = finish.adv_secret;
        let finish_iq = CompanionFinish {
            id: conn.handle.next_id(),
            phone: code.phone.clone(),
            wrapped_key_bundle: finish.wrapped_key_bundle,
            companion_identity_public: *conn.creds.identity.public.as_bytes(),
            pairing_ref: code.pairing_ref.clone(),
        };
        // Keep waiting for pair-success with the same deadline.
        if let Phase::Pairing(p) = &mut conn.phase {
            p.expires_at = code.expires_at;
        }
        let handle = conn.handle.clone();
        conn.tasks
            .spawn(async move { TaskDone::CompanionFinished(handle.query(&finish_iq).await) });
    }
}

/// What a pairing-code request needs, owned, so it runs apart from the session loop.
struct CodeRequest {
    handle: SocketHandle,
    phone: PhoneNumber,
    noise_pub: [u8; 32],
    platform_id: String,
    platform_display: String,
}

/// A pairing code the server accepted, waiting to be shown.
pub(crate) struct IssuedCode {
    linking: CompanionLinking,
    phone: PhoneNumber,
    phone_jid: Jid,
    pairing_ref: Vec<u8>,
}

impl CodeRequest {
    async fn run(self) -> Result<IssuedCode, CommandError> {
        // PBKDF2 with 2^17 rounds: keep it off the async threads.
        let (linking, wrapped) = tokio::task::spawn_blocking(|| {
            CompanionLinking::start(&mut rand::rngs::OsRng, DEFAULT_PBKDF2_ITERATIONS)
        })
        .await
        .map_err(|_| CommandError::Interrupted)?;
        let phone_jid = Jid::new(self.phone.as_str(), Server::Pn);
        let hello = CompanionHello {
            id: self.handle.next_id(),
            phone: phone_jid.clone(),
            show_push_notification: true,
            wrapped_companion_ephemeral_pub: wrapped,
            companion_server_auth_key_pub: self.noise_pub,
            platform_id: self.platform_id,
            platform_display: self.platform_display,
        };
        let result = self.handle.query(&hello).await?;
        Ok(IssuedCode {
            linking,
            phone: self.phone,
            phone_jid,
            pairing_ref: result.pairing_ref,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_rotate_sixty_then_twenty_seconds() {
        let t = QrTiming::default();
        let s: Vec<u64> = qr_schedule(6, &t).iter().map(Duration::as_secs).collect();
        assert_eq!(s, vec![60, 80, 100, 120, 140, 160]);
        assert_eq!(qr_lifetime(0, &t), Duration::from_secs(60));
        assert_eq!(qr_lifetime(5, &t), Duration::from_secs(20));
    }

    #[test]
    fn phone_numbers_are_normalised() {
        assert_eq!(
            normalize_phone("+1 555 123-4567").unwrap().as_str(),
            "15551234567"
        );
        assert!(matches!(
            normalize_phone("12ab"),
            Err(CommandError::InvalidPhone(_))
        ));
        assert!(normalize_phone("+0123456789").is_err());
    }
}
