//! The simulated phone: scans a companion's QR code, or takes the pairing code the user typed,
//! checks what the real phone would, and has the server send `pair-success`.

use rand_core::OsRng;
use serde::Serialize;
use tokio::time::Instant;
use wa_core::binary::{Jid, Server};
use wa_core::pair::code::{LinkingCode, PrimaryLinking};
use wa_core::pair::qr::{CompanionWebClientType, QrData, QrError};
use wa_core::stanza::link_code::PrimaryHello;

use crate::pairing;
use crate::shared::book::server_id;
use crate::shared::events::SimEvent;
use crate::shared::faults::lock;
use crate::shared::registry::Count;
use crate::shared::ConnCommand;
use crate::shared::Shared;

/// What the phone checked and did for an accepted scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// Every check that passed, in order, in words.
    pub checks: Vec<String>,
    /// The registering connection.
    pub conn: u64,
    /// The scanned ref.
    pub pairing_ref: String,
    /// Its position (0 = first QR).
    pub ref_index: usize,
    /// The JID the new device gets (absent when a `companion_reg_refresh` was sent instead).
    pub device_jid: Option<String>,
    /// True when the scan was answered with `companion_reg_refresh` (scan again).
    pub refresh_requested: bool,
}

/// Why the phone refused a scan.
#[derive(Debug, thiserror::Error)]
pub enum ScanRefused {
    /// Not a QR string of the current 5-field form.
    #[error("QR string refused")]
    BadQr(#[source] QrError),
    /// The client type `0` (unknown) is refused by the real server.
    #[error("QR client type 0 (unknown) is refused")]
    UnknownClientType,
    /// The ref was never issued (or its connection is gone, or it was already used).
    #[error("ref {0:?} was not issued by this server or is no longer pending")]
    UnknownRef(String),
    /// The ref's window has not started (the client shows it too early).
    #[error("ref #{index} is not scannable yet (its window starts in {starts_in_ms} ms)")]
    NotYetValid {
        /// The ref's position.
        index: usize,
        /// Until its window opens.
        starts_in_ms: u64,
    },
    /// The ref's window has passed (the client shows a stale QR).
    #[error("ref #{index} expired {expired_ms_ago} ms ago")]
    Expired {
        /// The ref's position.
        index: usize,
        /// Since its window closed.
        expired_ms_ago: u64,
    },
    /// The QR's Noise key is not the one the connection authenticated with.
    #[error("QR noise key does not match the registering connection's Noise static key")]
    NoiseKeyMismatch,
    /// The QR's identity key is not the one in the registration payload.
    #[error("QR identity key does not match the registration's eIdent")]
    IdentityKeyMismatch,
    /// With `refresh_on_scan`: the re-rendered QR still carries the old ADV secret.
    #[error("QR still carries the ADV secret from before companion_reg_refresh")]
    StaleAdvSecret,
    /// The registering connection is gone.
    #[error("the registering connection is gone")]
    ConnectionGone,
    /// The phone could not issue the identity.
    #[error("the phone could not issue the identity: {0}")]
    Internal(String),
}

/// What the phone did with a typed pairing code.
#[derive(Debug, Clone, Serialize)]
pub struct CodeReport {
    /// The connection whose `companion_hello` was answered.
    pub conn: u64,
}

/// Why the phone refused a typed pairing code.
#[derive(Debug, thiserror::Error)]
pub enum CodeRefused {
    /// Not 8 characters of the linking-code alphabet.
    #[error("not a pairing code")]
    BadCode(#[source] wa_core::pair::code::PairCodeError),
    /// No connection asked for code pairing.
    #[error("no companion_hello is pending")]
    NothingPending,
    /// The phone's side of the crypto failed.
    #[error("pairing code crypto failed")]
    Crypto(#[source] wa_core::pair::code::PairCodeError),
}

pub(crate) fn scan(
    shared: &Shared,
    text: &str,
    account: Option<&str>,
) -> Result<ScanReport, ScanRefused> {
    let result = scan_checked(shared, text, account);
    if let Err(why) = &result {
        lock(&shared.registry).count(Count::Rejection);
        tracing::warn!(reason = %why, qr = text, "phone refused the scan");
    }
    result
}

fn scan_checked(
    shared: &Shared,
    text: &str,
    account: Option<&str>,
) -> Result<ScanReport, ScanRefused> {
    let mut checks = Vec::new();
    let qr = QrData::parse(text.trim()).map_err(ScanRefused::BadQr)?;
    checks.push("QR has the 5-field form with 32-byte keys".to_owned());
    if qr.client_type == CompanionWebClientType::Unknown {
        return Err(ScanRefused::UnknownClientType);
    }
    checks.push(format!("client type {:?} is accepted", qr.client_type));
    let (conn, index, registration, noise_pub) = {
        let mut book = lock(&shared.book);
        let entry = book
            .refs
            .get(&qr.pairing_ref)
            .ok_or_else(|| ScanRefused::UnknownRef(qr.pairing_ref.clone()))?;
        let now = Instant::now();
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        if now < entry.valid_from {
            return Err(ScanRefused::NotYetValid {
                index: entry.index,
                starts_in_ms: ms(entry.valid_from - now),
            });
        }
        if now >= entry.valid_until {
            return Err(ScanRefused::Expired {
                index: entry.index,
                expired_ms_ago: ms(now - entry.valid_until),
            });
        }
        checks.push(format!(
            "ref #{} was issued here and is inside its window",
            entry.index
        ));
        if qr.noise_pub != *entry.noise_pub.as_bytes() {
            return Err(ScanRefused::NoiseKeyMismatch);
        }
        checks.push("noise key equals the connection's Noise static key".to_owned());
        if qr.identity_pub != *entry.registration.identity.as_bytes() {
            return Err(ScanRefused::IdentityKeyMismatch);
        }
        checks.push("identity key equals the registration's eIdent".to_owned());
        let found = (
            entry.conn,
            entry.index,
            entry.registration.clone(),
            entry.noise_pub,
        );
        if shared.config.refresh_on_scan {
            match book.first_scan_secret.get(&found.0) {
                None => {
                    book.first_scan_secret.insert(found.0, qr.adv_secret);
                    if !shared.command(found.0, ConnCommand::CompanionRegRefresh) {
                        return Err(ScanRefused::ConnectionGone);
                    }
                    checks.push("sent companion_reg_refresh; scan the re-rendered QR".to_owned());
                    return Ok(ScanReport {
                        checks,
                        conn: found.0,
                        pairing_ref: qr.pairing_ref,
                        ref_index: found.1,
                        device_jid: None,
                        refresh_requested: true,
                    });
                }
                Some(old) if *old == qr.adv_secret => return Err(ScanRefused::StaleAdvSecret),
                Some(_) => checks.push("ADV secret was rotated after the refresh".to_owned()),
            }
        }
        // One scan per registration: the other refs die with it.
        book.forget(found.0);
        found
    };
    let pending = pairing::issue(shared, &registration, &noise_pub, &qr.adv_secret, account)
        .map_err(ScanRefused::Internal)?;
    checks.push(format!(
        "signed an ADV identity (key index {}) with the account key",
        pending.issued.key_index
    ));
    let device_jid = pending.device.jid.clone();
    if !shared.command(conn, ConnCommand::PairSuccess(Box::new(pending))) {
        return Err(ScanRefused::ConnectionGone);
    }
    shared.events.emit(SimEvent::Scanned {
        conn,
        pairing_ref: qr.pairing_ref.clone(),
    });
    tracing::info!(conn, device = %device_jid, "phone scanned the QR; pair-success sent");
    Ok(ScanReport {
        checks,
        conn,
        pairing_ref: qr.pairing_ref,
        ref_index: index,
        device_jid: Some(device_jid),
        refresh_requested: false,
    })
}

pub(crate) fn enter_code(shared: &Shared, typed: &str) -> Result<CodeReport, CodeRefused> {
    let result = enter_code_checked(shared, typed);
    if let Err(why) = &result {
        lock(&shared.registry).count(Count::Rejection);
        tracing::warn!(reason = %why, "phone refused the pairing code");
    }
    result
}

fn enter_code_checked(shared: &Shared, typed: &str) -> Result<CodeReport, CodeRefused> {
    let code = LinkingCode::parse(typed.trim()).map_err(CodeRefused::BadCode)?;
    let iterations = shared.config.pbkdf2_iterations;
    let phone_key = shared
        .phone_key()
        .map_err(|_| CodeRefused::NothingPending)?;
    let (conn, hello) = {
        let mut book = lock(&shared.book);
        // The newest attempt without an answer yet is the one on the user's screen.
        let entry = book
            .codes
            .values_mut()
            .rev()
            .find(|c| c.primary.is_none())
            .ok_or(CodeRefused::NothingPending)?;
        let (primary, wrapped) = PrimaryLinking::on_companion_hello(
            &mut OsRng,
            &code,
            &entry.wrapped_companion_ephemeral_pub,
            iterations,
        )
        .map_err(CodeRefused::Crypto)?;
        entry.primary = Some(primary);
        let hello = PrimaryHello {
            id: server_id(),
            from: Jid::server_jid(Server::Pn),
            pairing_ref: entry.pairing_ref.clone(),
            wrapped_primary_ephemeral_pub: wrapped,
            primary_identity_pub: *phone_key.public.as_bytes(),
        };
        (entry.conn, hello)
    };
    let node = hello.to_node(crate::shared::registry::now_unix());
    if !shared.command(conn, ConnCommand::Send(Box::new(node))) {
        return Err(CodeRefused::NothingPending);
    }
    tracing::info!(conn, "phone took the pairing code; primary_hello sent");
    Ok(CodeReport { conn })
}
