//! What a caller hands the engine to send, and what it gets back.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use wa_core::binary::{Jid, Server};
use wa_core::pair::code::{PhoneNumber, PhoneNumberError};
use wa_core::signal::SignalError;
use wa_core::stanza::bundle::BundleError;

use crate::clock::UnixMillis;
use crate::socket::IqError;
use crate::store::{SignalStoreError, StoreError};

/// Who a message goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// A phone number, resolved with a contact query before the first send.
    Phone(PhoneNumber),
    /// A user, by phone-number JID (`digits@s.whatsapp.net`) or LID (`digits@lid`).
    User(Jid),
    /// A group, `…@g.us`.
    Group(Jid),
}

/// Why a recipient was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecipientError {
    /// `+…` that is not a phone number.
    #[error("{input:?} is not a phone number: {source}")]
    Phone {
        /// What was given.
        input: String,
        #[source]
        source: PhoneNumberError,
    },
    /// Not one of the accepted forms.
    #[error("{0:?} is not +E.164, digits@s.whatsapp.net, digits@lid or …@g.us")]
    Form(String),
}

impl FromStr for Recipient {
    type Err = RecipientError;

    fn from_str(input: &str) -> Result<Self, RecipientError> {
        let input = input.trim();
        if let Some(digits) = input.strip_prefix('+') {
            let digits: String = digits
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
                .collect();
            return PhoneNumber::parse(&digits)
                .map(Recipient::Phone)
                .map_err(|source| RecipientError::Phone {
                    input: input.to_owned(),
                    source,
                });
        }
        let bad = || RecipientError::Form(input.to_owned());
        let jid: Jid = input.parse().map_err(|_| bad())?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if jid.device != 0 || jid.agent != 0 {
            return Err(bad());
        }
        match jid.server {
            Server::Pn | Server::Lid if digits(&jid.user) => Ok(Recipient::User(jid)),
            Server::Group if jid.user.split('-').all(digits) => Ok(Recipient::Group(jid)),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipient::Phone(p) => write!(f, "+{}", p.as_str()),
            Recipient::User(j) | Recipient::Group(j) => j.fmt(f),
        }
    }
}

/// One message to send. The caller chooses the id (`wa_core::ids::new_message_id`) and keeps
/// it: a resend of the same message uses the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The message id.
    pub id: String,
    /// Who it goes to.
    pub to: Recipient,
    /// The text.
    pub text: String,
}

/// A message encrypted and encoded, its stanza committed with the Signal state that made it.
/// Nothing has left yet; [`crate::EngineHandle::transmit`] sends it, the first time and after
/// a lost ack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The message id.
    pub id: String,
    /// The chat it goes to, as a JID (a phone number resolved to its user).
    pub chat: Jid,
    /// The binary-encoded `<message>`.
    pub stanza: Vec<u8>,
    /// Devices of the chat the message was not encrypted for, each with why. The rest got
    /// it; a later send tries these again with a fresh bundle.
    pub skipped: Vec<SkippedDevice>,
}

/// A device a message could not be encrypted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedDevice {
    /// The device.
    pub device: Jid,
    /// Why.
    pub reason: SkipReason,
}

/// Why a device was left out of a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    /// The server gave no usable bundle for it (none, or malformed).
    #[error("no usable bundle: {0}")]
    Bundle(#[source] BundleError),
    /// Its bundle or session was refused by Signal: a bad signed-prekey signature, or an
    /// identity that could not be trusted.
    #[error("refused by Signal: {0}")]
    Signal(#[source] SignalError),
}

/// How a transmit ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "outcome",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Outcome {
    /// The server accepted it at `t`.
    Acked {
        /// The server's time.
        t: UnixMillis,
    },
    /// The server refused it with `code`.
    Rejected {
        /// The server's error code (463, 479, …).
        code: u16,
        /// Whether sending the same bytes later may work.
        retryable: bool,
        /// What it means, in the user's words.
        advice: String,
    },
    /// The stanza was written but no ack came: the connection ended or the wait ran out. It
    /// may have arrived; settle it by transmitting the same bytes again.
    InDoubt,
}

/// Why a message could not be prepared or transmitted. Nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The engine has shut down.
    #[error("the connection engine has stopped")]
    Stopped,
    /// Not online right now; nothing was sent. Try again when the state is `online`.
    #[error("not connected to WhatsApp; nothing was sent")]
    NotConnected,
    /// This device is not linked to an account.
    #[error("not linked to a phone")]
    NotLinked,
    /// The phone number has no WhatsApp account.
    #[error("+{0} is not on WhatsApp")]
    NotOnWhatsApp(String),
    /// The user has no device to send to.
    #[error("{0} has no devices")]
    NoDevices(String),
    /// No device of the recipient could be given the message.
    #[error("no device of {chat} could be given the message ({} left out{})", skipped.len(), first_reason(skipped))]
    NoUsableDevice {
        /// The chat.
        chat: String,
        /// Each device left out, with why.
        skipped: Vec<SkippedDevice>,
    },
    /// The group does not exist (404) or we are not in it (403).
    #[error("group {group}: {reason}")]
    Group {
        /// The group.
        group: String,
        /// Not found or not a member.
        reason: &'static str,
    },
    /// A query the send needed failed (usync, bundles, group metadata).
    #[error("query failed: {0}")]
    Query(#[from] IqError),
    /// The store failed; nothing it did was committed.
    #[error("store: {0}")]
    Store(#[from] SignalStoreError),
    /// The stanza could not be encoded or a stored one read back.
    #[error("stanza: {0}")]
    Stanza(String),
    /// No sent message has this id (a transmit of bytes the engine did not prepare).
    #[error("no prepared message {0}")]
    UnknownMessage(String),
}

fn first_reason(skipped: &[SkippedDevice]) -> String {
    skipped
        .first()
        .map(|s| format!("; {}: {}", s.device, s.reason))
        .unwrap_or_default()
}

impl From<StoreError> for SendError {
    fn from(e: StoreError) -> Self {
        SendError::Store(SignalStoreError::Store(e))
    }
}

impl SendError {
    /// Whether the same request may work later without the user changing anything.
    pub fn retryable(&self) -> bool {
        match self {
            SendError::NotConnected | SendError::Query(_) | SendError::Stopped => true,
            SendError::Store(_) => true,
            SendError::NotLinked
            | SendError::NotOnWhatsApp(_)
            | SendError::NoDevices(_)
            | SendError::NoUsableDevice { .. }
            | SendError::Group { .. }
            | SendError::Stanza(_)
            | SendError::UnknownMessage(_) => false,
        }
    }

    /// A short code for logs, the CLI and the scheduler's history.
    pub fn code(&self) -> &'static str {
        match self {
            SendError::Stopped => "stopped",
            SendError::NotConnected => "offline",
            SendError::NotLinked => "not-linked",
            SendError::NotOnWhatsApp(_) => "not-on-whatsapp",
            SendError::NoDevices(_) => "no-devices",
            SendError::NoUsableDevice { .. } => "no-usable-device",
            SendError::Group { .. } => "group",
            SendError::Query(_) => "query",
            SendError::Store(_) => "store",
            SendError::Stanza(_) => "stanza",
            SendError::UnknownMessage(_) => "unknown-message",
        }
    }
}

/// What the server's refusal code means for this send (messaging.md §4.4): retrying the same
/// bytes is pointless for a malformed or forbidden message, and 463 counts as another
/// "reach out" when retried, so it is final.
pub fn rejection(code: u16) -> (bool, &'static str) {
    match code {
        400 => (false, "WhatsApp refused the message as malformed."),
        401 | 403 => (false, "WhatsApp does not let this account message this chat."),
        404 => (false, "The recipient was not found on WhatsApp."),
        406 => (false, "WhatsApp refused the message as not acceptable."),
        409 => (true, "The recipient's devices changed; Herald refreshes them and the next try can work."),
        421 => (true, "The group's addressing changed; Herald refreshes it and the next try can work."),
        429 => (true, "WhatsApp is rate-limiting this account; try again later."),
        463 => (false, "WhatsApp refused to start this chat (no privacy token, or the account is restricted from new chats). Retrying would count as another attempt; message them from the phone first."),
        475 => (false, "WhatsApp capped new chats for this account; message them from the phone first."),
        479 => (false, "WhatsApp refused a field of the message as malformed."),
        500..=599 => (true, "WhatsApp had a server error; the same message can be sent again."),
        _ => (false, "WhatsApp refused the message."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_in_every_accepted_form() {
        let table: &[(&str, Option<&str>)] = &[
            ("+1 555 123-4567", Some("+15551234567")),
            (
                "15551234567@s.whatsapp.net",
                Some("15551234567@s.whatsapp.net"),
            ),
            ("100000000000001@lid", Some("100000000000001@lid")),
            ("120363012345678901@g.us", Some("120363012345678901@g.us")),
            (
                "15551234567-1600000000@g.us",
                Some("15551234567-1600000000@g.us"),
            ),
            ("+12", None),
            ("15551234567", None),
            ("15551234567:3@s.whatsapp.net", None),
            ("abc@s.whatsapp.net", None),
            ("status@broadcast", None),
            ("", None),
        ];
        for (input, want) in table {
            let got = input.parse::<Recipient>().ok().map(|r| r.to_string());
            assert_eq!(got.as_deref(), *want, "{input:?}");
        }
        assert!(matches!(
            "+1".parse::<Recipient>(),
            Err(RecipientError::Phone { .. })
        ));
    }

    #[test]
    fn refusal_codes_are_final_unless_the_server_failed() {
        let table = [
            (400, false),
            (404, false),
            (409, true),
            (421, true),
            (429, true),
            (463, false),
            (475, false),
            (479, false),
            (500, true),
            (503, true),
            (999, false),
        ];
        for (code, retryable) in table {
            let (r, advice) = rejection(code);
            assert_eq!(r, retryable, "{code}");
            assert!(!advice.is_empty());
        }
    }

    #[test]
    fn outcomes_serialize_in_camel_case() {
        let v = serde_json::to_value(Outcome::Rejected {
            code: 463,
            retryable: false,
            advice: "x".into(),
        })
        .unwrap();
        assert_eq!(v["outcome"], "rejected");
        assert_eq!(v["code"], 463);
        let v = serde_json::to_value(Outcome::Acked { t: UnixMillis(5) }).unwrap();
        assert_eq!(v["t"], 5);
    }
}
