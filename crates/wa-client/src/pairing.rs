//! Pairing (protocol.md §5) as a sub-machine of the connection: QR codes rotating as the
//! server's refs allow (the first for 60 s, each next one for 20 s), linking by phone number
//! with a pairing code, and the checks on `pair-success`.
//!
//! [`Pairing`] holds only what is valid while pairing and knows nothing of sockets or of the
//! supervisor: its methods take the time and say what to show next or that it is over
//! ([`Expired`]). `linking.rs` carries those steps out on the live connection. When every ref
//! has been shown the connection ends with `QrExhausted`: the state becomes `QrExpired` and
//! waits for "get a new code" — not a failure, and not a counted attempt.

use std::time::Duration;

use tokio::time::Instant;
use wa_core::binary::{Jid, Server};
use wa_core::pair::adv::{verify_pair_success_identity, AdvError};
use wa_core::pair::code::{
    CompanionFinish, CompanionLinking, PairCodeError, PhoneNumber, DEFAULT_PBKDF2_ITERATIONS,
};
use wa_core::pair::qr::{CompanionWebClientType, QrData};
use wa_core::stanza::link_code::{self, CompanionHello, PrimaryHello};
use wa_core::stanza::pair::{PairDeviceSign, PairSuccess};

use crate::clock::UnixMillis;
use crate::config::QrTiming;
use crate::socket::SocketHandle;
use crate::store::{Account, Credentials};
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

/// A pairing code the phone has not answered yet.
pub(crate) struct CodeInProgress {
    linking: CompanionLinking,
    phone: Jid,
    pairing_ref: Vec<u8>,
}

/// What is on screen.
enum Showing {
    /// QR codes, rotating through the refs.
    Qr,
    /// A pairing code, until the phone answers or it expires.
    Code(CodeInProgress),
    /// The phone answered the code; `pair-success` is due before the code's deadline.
    Finishing,
}

/// The pairing in progress on one connection.
pub(crate) struct Pairing {
    refs: Vec<String>,
    index: usize,
    timing: QrTiming,
    expires_at: Instant,
    expires_at_ms: UnixMillis,
    showing: Showing,
}

/// A QR code to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QrToShow {
    pub pairing_ref: String,
    pub expires_at_ms: UnixMillis,
    /// 1-based.
    pub index: u32,
    pub total: u32,
}

/// What the pairing's deadline means.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Expired {
    /// The next QR code.
    Show(QrToShow),
    /// Nothing left to show: the connection ends with `QrExhausted`.
    Exhausted,
}

/// A pairing code as it is shown.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CodeShown {
    pub code: String,
    pub phone: String,
    pub expires_at_ms: UnixMillis,
}

/// Why the phone's answer to a pairing code is not taken.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NotTaken {
    /// No pairing code is waiting for an answer.
    NoCode,
    /// The answer is for another pairing ref.
    OtherRef,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Pairing {
    /// Pairing offered with `refs`, the first QR code shown from `now`.
    pub fn new(refs: Vec<String>, timing: QrTiming, now: Instant, now_ms: UnixMillis) -> Self {
        let lifetime = qr_lifetime(0, &timing);
        Self {
            refs,
            index: 0,
            timing,
            expires_at: now + lifetime,
            expires_at_ms: now_ms.saturating_add(lifetime),
            showing: Showing::Qr,
        }
    }

    /// When what is shown expires.
    pub fn deadline(&self) -> Instant {
        self.expires_at
    }

    /// The QR code to show now; `None` once a pairing code replaced the QR codes.
    pub fn qr(&self) -> Option<QrToShow> {
        if !matches!(self.showing, Showing::Qr) {
            return None;
        }
        Some(QrToShow {
            pairing_ref: self.refs.get(self.index)?.clone(),
            expires_at_ms: self.expires_at_ms,
            index: count(self.index + 1),
            total: count(self.refs.len()),
        })
    }

    /// The deadline passed: the next QR code, or the end.
    pub fn on_deadline(&mut self, now_ms: UnixMillis) -> Expired {
        if !matches!(self.showing, Showing::Qr) {
            tracing::info!("pairing code expired");
            return Expired::Exhausted;
        }
        self.index += 1;
        if self.index >= self.refs.len() {
            return Expired::Exhausted;
        }
        let lifetime = qr_lifetime(self.index, &self.timing);
        // From the last deadline, not from now: a late wake-up does not stretch the schedule.
        self.expires_at += lifetime;
        self.expires_at_ms = now_ms.saturating_add(lifetime);
        self.qr().map_or(Expired::Exhausted, Expired::Show)
    }

    /// The server issued a pairing code: it replaces the QR codes until `timeout` from now.
    pub fn code_issued(
        &mut self,
        issued: IssuedCode,
        timeout: Duration,
        now: Instant,
        now_ms: UnixMillis,
    ) -> CodeShown {
        let shown = CodeShown {
            code: issued.linking.code().display(),
            phone: issued.phone.as_str().to_owned(),
            expires_at_ms: now_ms.saturating_add(timeout),
        };
        self.expires_at = now + timeout;
        self.expires_at_ms = shown.expires_at_ms;
        self.showing = Showing::Code(CodeInProgress {
            linking: issued.linking,
            phone: issued.phone_jid,
            pairing_ref: issued.pairing_ref,
        });
        shown
    }

    /// The phone answered a pairing code for `pairing_ref`: the code to finish with, after
    /// which only `pair-success` (by the same deadline) is awaited.
    pub fn phone_answered(&mut self, pairing_ref: &[u8]) -> Result<CodeInProgress, NotTaken> {
        match std::mem::replace(&mut self.showing, Showing::Finishing) {
            Showing::Code(code) if code.pairing_ref == pairing_ref => Ok(code),
            Showing::Code(code) => {
                self.showing = Showing::Code(code);
                Err(NotTaken::OtherRef)
            }
            other => {
                self.showing = other;
                Err(NotTaken::NoCode)
            }
        }
    }
}

/// The text of a QR code for this device.
pub(crate) fn qr_text(
    qr: &QrToShow,
    creds: &Credentials,
    client_type: CompanionWebClientType,
) -> String {
    QrData {
        pairing_ref: qr.pairing_ref.clone(),
        noise_pub: *creds.noise.public.as_bytes(),
        identity_pub: *creds.identity.public.as_bytes(),
        adv_secret: creds.adv_secret,
        client_type,
    }
    .to_qr_string()
}

/// A `pair-success` that passed the checks: the account to store, then the answer to send.
pub(crate) struct Accepted {
    pub account: Account,
    pub sign: PairDeviceSign,
}

/// Checks a `pair-success` against this device's keys (protocol.md §5.3).
pub(crate) fn accept_pair_success(
    ps: &PairSuccess,
    creds: &Credentials,
    now_ms: u64,
) -> Result<Accepted, AdvError> {
    let paired = verify_pair_success_identity(
        &ps.device_identity,
        &creds.adv_secret,
        &creds.identity,
        &mut rand::rngs::OsRng,
    )?;
    let account = Account {
        jid: ps.jid.clone(),
        lid: ps.lid.clone(),
        platform: ps.platform.clone(),
        business_name: ps.business_name.clone(),
        signed_identity: prost::Message::encode_to_vec(&paired.account),
        account_signature_key: *paired.account_signature_key.as_bytes(),
        paired_at_ms: now_ms,
    };
    let sign = PairDeviceSign {
        id: ps.id.clone(),
        key_index: paired.key_index,
        device_identity: paired.reply_bytes(),
    };
    Ok(Accepted { account, sign })
}

/// The phone's answer to a pairing code, worked out: the new ADV secret to store, then the
/// `companion_finish` to send.
pub(crate) struct Finished {
    pub adv_secret: [u8; 32],
    code: CodeInProgress,
    wrapped_key_bundle: Vec<u8>,
}

impl Finished {
    /// The `companion_finish` IQ (sent once the secret is stored).
    pub fn finish_iq(self, id: String, creds: &Credentials) -> link_code::CompanionFinish {
        link_code::CompanionFinish {
            id,
            phone: self.code.phone,
            wrapped_key_bundle: self.wrapped_key_bundle,
            companion_identity_public: *creds.identity.public.as_bytes(),
            pairing_ref: self.code.pairing_ref,
        }
    }
}

/// Why the phone's answer could not be worked out.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FinishError {
    #[error("pairing code exchange failed")]
    Exchange(#[source] PairCodeError),
    #[error("the pairing code task ended early")]
    Interrupted,
}

/// Works out the answer to the phone (PBKDF2 again, so off the async threads).
pub(crate) async fn finish_code(
    code: CodeInProgress,
    hello: PrimaryHello,
    creds: &Credentials,
) -> Result<Finished, FinishError> {
    let identity = creds.identity.private.clone();
    let (code, result) = tokio::task::spawn_blocking(move || {
        let r: Result<CompanionFinish, PairCodeError> = code.linking.finish(
            &mut rand::rngs::OsRng,
            &identity,
            &hello.wrapped_primary_ephemeral_pub,
            &hello.primary_identity_pub,
        );
        (code, r)
    })
    .await
    .map_err(|_| FinishError::Interrupted)?;
    let finish = result.map_err(FinishError::Exchange)?;
    Ok(Finished {
        adv_secret: finish.adv_secret,
        code,
        wrapped_key_bundle: finish.wrapped_key_bundle,
    })
}

/// What a pairing-code request needs, owned, so it runs apart from the session loop.
pub(crate) struct CodeRequest {
    pub handle: SocketHandle,
    pub phone: PhoneNumber,
    pub noise_pub: [u8; 32],
    pub platform_id: String,
    pub platform_display: String,
}

/// A pairing code the server accepted, waiting to be shown.
pub(crate) struct IssuedCode {
    linking: CompanionLinking,
    phone: PhoneNumber,
    phone_jid: Jid,
    pairing_ref: Vec<u8>,
}

impl CodeRequest {
    pub async fn run(self) -> Result<IssuedCode, CommandError> {
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
#[path = "pairing_tests.rs"]
mod tests;
