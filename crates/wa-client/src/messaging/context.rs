//! What the messaging code needs from one connection: the socket handle, the store, who we
//! are, the clock, the event stream, and the caches that live as long as the connection
//! (device lists and group metadata, dropped on notifications and phash mismatches).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use wa_core::binary::{Jid, Server};
use wa_core::signal::{KeyPair, LocalIdentity};
use wa_core::stanza::group::GroupInfo;

use crate::clock::Clock;
use crate::socket::SocketHandle;
use crate::store::{Credentials, Store};

use super::types::SendError;

/// How long a send waits for the server's ack before it is in doubt.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(20);

/// Our own identity as messaging needs it.
#[derive(Clone)]
pub(crate) struct Me {
    /// Our device on the phone-number server (`phone:device@s.whatsapp.net`).
    pub pn: Jid,
    /// Our device on the LID server, when the account has a LID.
    pub lid: Option<Jid>,
    /// Our identity key and registration id.
    pub identity: LocalIdentity,
    /// Our `ADVSignedDeviceIdentity` with the account signature key.
    pub device_identity: Vec<u8>,
    /// Our signed prekey, for the keys of a retry receipt.
    pub signed_prekey: wa_core::signal::SignedPreKeyRecord,
}

impl Me {
    /// From stored credentials; `None` before the device is linked.
    pub fn from_credentials(creds: &Credentials) -> Option<Me> {
        let account = creds.account.as_ref()?;
        Some(Me {
            pn: account.jid.clone(),
            lid: account.lid.clone(),
            identity: LocalIdentity {
                key_pair: KeyPair::from_private(creds.identity.private.clone()),
                registration_id: creds.registration_id,
            },
            device_identity: account.signed_identity.clone(),
            signed_prekey: wa_core::signal::SignedPreKeyRecord {
                id: creds.signed_prekey.id,
                key_pair: creds.signed_prekey.key.clone(),
                signature: creds.signed_prekey.signature,
            },
        })
    }

    /// Our device in the namespace of `server` (the LID one for `lid`, else the phone number).
    pub fn device_in(&self, server: &Server) -> Result<Jid, SendError> {
        match server {
            Server::Lid => self.lid.clone().ok_or(SendError::Stanza(
                "the account has no LID, so it cannot write to a LID".into(),
            )),
            _ => Ok(self.pn.clone()),
        }
    }

    /// Whether `jid` is one of our own devices (or our user), in either namespace.
    pub fn is_own(&self, jid: &Jid) -> bool {
        jid.user == self.pn.user || self.lid.as_ref().is_some_and(|l| l.user == jid.user)
    }
}

/// Caches of one connection.
#[derive(Default)]
pub(crate) struct Caches {
    /// Devices per user (bare user JID text).
    pub devices: HashMap<String, Vec<Jid>>,
    /// Group metadata per group JID text.
    pub groups: HashMap<String, GroupInfo>,
    /// Retry receipts sent per received message id (at most 5 each).
    pub retries_sent: HashMap<String, u32>,
    /// Where this connection's receipts wait to be recorded (started with the first one).
    pub receipts: Option<tokio::sync::mpsc::UnboundedSender<super::receipt_batch::Item>>,
}

/// One connection's messaging context, shared by the tasks that send and the loop that
/// receives. It reports nothing itself: what arrives is returned as events for the
/// connection to publish.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub handle: SocketHandle,
    pub store: Arc<Mutex<Store>>,
    pub me: Me,
    pub clock: Arc<dyn Clock>,
    pub caches: Arc<Mutex<Caches>>,
    pub ack_timeout: Duration,
}

impl Ctx {
    /// The store; a panic elsewhere cannot leave it half-written (every write is a
    /// transaction), so a poisoned lock still guards a usable store.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The caches, poisoned or not (they are only caches).
    pub fn caches(&self) -> MutexGuard<'_, Caches> {
        self.caches.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Unix milliseconds now.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// A fresh usync `sid`.
    pub fn sid(&self) -> String {
        self.handle.next_id()
    }
}

/// The Signal address of a device: its JID text, in the namespace the session was made in.
pub(crate) fn address(device: &Jid) -> String {
    format!(
        "{}:{}@{}",
        device.user,
        device.device,
        device.server.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_always_name_the_device() {
        assert_eq!(
            address(&Jid::new("15551234567", Server::Pn)),
            "15551234567:0@s.whatsapp.net"
        );
        assert_eq!(
            address(&Jid::with_device("100000000000001", 3, Server::Lid)),
            "100000000000001:3@lid"
        );
    }
}
