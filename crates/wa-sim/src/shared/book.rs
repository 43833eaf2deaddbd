//! Every pairing in progress, shared between the connections and the phone: the refs handed
//! out with their windows, the pairing-code attempts, and a `pair-success` awaiting its answer.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rand_core::{OsRng, RngCore as _};
use tokio::time::Instant;
use wa_core::pair::code::{PrimaryLinking, WRAPPED_EPHEMERAL_LEN};
use wa_core::pair::phone::IssuedIdentity;
use wa_core::payload::Registration;
use wa_core::signal::PublicKey;
use wa_core::stanza::pair::PairSuccess;

use crate::shared::state::DeviceRecord;

/// One ref handed to a registering connection.
pub(crate) struct RefEntry {
    pub(crate) conn: u64,
    /// 0-based position in the `pair-device`.
    pub(crate) index: usize,
    pub(crate) valid_from: Instant,
    pub(crate) valid_until: Instant,
    /// What the QR must carry: the connection's Noise static key and registration.
    pub(crate) noise_pub: PublicKey,
    pub(crate) registration: Arc<Registration>,
}

/// A pairing-code attempt (protocol.md §5.4) of one connection.
pub(crate) struct CodeEntry {
    pub(crate) conn: u64,
    pub(crate) wrapped_companion_ephemeral_pub: [u8; WRAPPED_EPHEMERAL_LEN],
    pub(crate) pairing_ref: Vec<u8>,
    /// Set once the user typed the code on the phone.
    pub(crate) primary: Option<PrimaryLinking>,
}

/// Every pairing in progress, shared between the connections and the phone.
#[derive(Default)]
pub(crate) struct PairingBook {
    pub(crate) refs: HashMap<String, RefEntry>,
    /// With `refresh_on_scan`: the ADV secret of the first scan, per connection.
    pub(crate) first_scan_secret: HashMap<u64, [u8; 32]>,
    pub(crate) codes: BTreeMap<u64, CodeEntry>,
}

impl PairingBook {
    /// Forgets everything about a connection (closed, or paired).
    pub(crate) fn forget(&mut self, conn: u64) {
        self.refs.retain(|_, r| r.conn != conn);
        self.first_scan_secret.remove(&conn);
        self.codes.remove(&conn);
    }
}

/// `pair-success` sent, `pair-device-sign` awaited.
pub(crate) struct PendingPair {
    pub(crate) iq_id: String,
    pub(crate) issued: IssuedIdentity,
    /// Persisted once the signature checks out.
    pub(crate) device: DeviceRecord,
    pub(crate) success: PairSuccess,
}

/// A random id for a server-initiated iq or notification, digits only like the server's.
pub(crate) fn server_id() -> String {
    let mut b = [0u8; 8];
    OsRng.fill_bytes(&mut b);
    u64::from_be_bytes(b).to_string()
}
