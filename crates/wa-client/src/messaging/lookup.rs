//! Whether a phone number has WhatsApp, for a screen that checks a number before a message
//! to it is saved: the same contact query a send makes before its first message to a number
//! (`devices::ask_contact`), with a short wait of its own, since a person is watching.

use std::time::Duration;

use wa_core::binary::{Jid, Server};
use wa_core::pair::code::PhoneNumber;

use super::context::Ctx;
use super::devices::ask_contact;
use super::types::SendError;
use crate::socket::IqError;
use crate::store::{SignalStoreError, StoreError};

/// How long a lookup waits for WhatsApp's answer (a send waits the full IQ timeout).
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// WhatsApp's answer about one number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Whether the number has a WhatsApp account.
    pub on_whatsapp: bool,
    /// The user the server answered for (`digits@s.whatsapp.net`).
    pub jid: Jid,
    /// The user's LID, when the answer carried one (it is remembered for sends and replies).
    pub lid: Option<Jid>,
}

/// Why a number could not be looked up. Nothing was learned about it.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// Not connected right now: ask again once online.
    #[error("not connected to WhatsApp")]
    Offline,
    /// This device is not linked to an account.
    #[error("not linked to a phone")]
    NotLinked,
    /// WhatsApp did not answer in time.
    #[error("WhatsApp did not answer within {} s", .0.as_secs())]
    Timeout(Duration),
    /// The engine has shut down.
    #[error("the connection engine has stopped")]
    Stopped,
    /// The server refused the query or answered something unreadable.
    #[error("the contact query failed: {0}")]
    Query(#[source] IqError),
    /// The LID the answer carried could not be stored.
    #[error("store: {0}")]
    Store(#[from] SignalStoreError),
}

impl From<IqError> for LookupError {
    fn from(e: IqError) -> Self {
        match e {
            IqError::Timeout { after, .. } => LookupError::Timeout(after),
            // The link went while we waited: the same as asking while offline.
            IqError::ConnectionLost { .. } => LookupError::Offline,
            other => LookupError::Query(other),
        }
    }
}

impl From<StoreError> for LookupError {
    fn from(e: StoreError) -> Self {
        LookupError::Store(SignalStoreError::Store(e))
    }
}

impl LookupError {
    /// The request was refused before it ran (the engine's reasons for not running a
    /// messaging request).
    pub(crate) fn refused(why: SendError) -> Self {
        match why {
            SendError::NotConnected => LookupError::Offline,
            SendError::NotLinked => LookupError::NotLinked,
            SendError::Query(e) => e.into(),
            SendError::Store(e) => LookupError::Store(e),
            SendError::Stopped
            | SendError::NotOnWhatsApp(_)
            | SendError::NoDevices(_)
            | SendError::NoUsableDevice { .. }
            | SendError::Group { .. }
            | SendError::Stanza(_)
            | SendError::UnknownMessage(_) => LookupError::Stopped,
        }
    }
}

/// Asks WhatsApp about `phone`.
pub(crate) async fn lookup(ctx: &Ctx, phone: &PhoneNumber) -> Result<Contact, LookupError> {
    let found = ask_contact::<LookupError>(ctx, phone, Some(LOOKUP_TIMEOUT)).await?;
    let user = Jid::new(phone.as_str(), Server::Pn);
    Ok(match found {
        // The number's user is its phone-number JID, as a send to it uses; a server that
        // answers in the LID namespace gives the LID as the answer's JID.
        Some(c) => Contact {
            on_whatsapp: c.on_whatsapp,
            lid: c
                .lid
                .or((c.jid.server == Server::Lid).then_some(c.jid))
                .filter(|_| c.on_whatsapp),
            jid: user,
        },
        // Not listed at all: no account.
        None => Contact {
            on_whatsapp: false,
            jid: user,
            lid: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iq_failures_become_what_a_screen_can_say() {
        let after = Duration::from_secs(10);
        assert!(matches!(
            LookupError::from(IqError::Timeout {
                id: "1".into(),
                after
            }),
            LookupError::Timeout(t) if t == after
        ));
        assert!(matches!(
            LookupError::from(IqError::ConnectionLost { id: "1".into() }),
            LookupError::Offline
        ));
        assert!(matches!(
            LookupError::refused(SendError::NotConnected),
            LookupError::Offline
        ));
        assert!(matches!(
            LookupError::refused(SendError::NotLinked),
            LookupError::NotLinked
        ));
        assert_eq!(
            LookupError::Timeout(after).to_string(),
            "WhatsApp did not answer within 10 s"
        );
    }
}
