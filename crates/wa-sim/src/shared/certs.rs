//! The simulator's certificate authority: a root that stays the same across restarts (clients
//! are configured to trust its public key), an intermediate it signs, and a leaf the
//! intermediate signs whose key is the server's Noise static key. Intermediate and leaf are
//! reissued before they expire.

use std::time::Duration;

use rand_core::OsRng;
use wa_core::noise::cert::{build_cert_chain, CertChainSpec};
use wa_core::signal::KeyPair;

use crate::shared::error::SimError;
use crate::shared::state::{StateData, StoredCert, StoredKeyPair};

/// What a handshake needs: the leaf key pair (Noise static) and the encoded CertChain.
#[derive(Clone)]
pub struct ServerIdentity {
    /// The server's Noise static key pair, certified by the leaf.
    pub noise_static: KeyPair,
    /// The encoded CertChain for the ServerHello payload.
    pub cert_chain: Vec<u8>,
    /// Unix seconds after which this identity must not be used.
    pub not_after: u64,
}

/// A new certificate record valid from `now` for `lifetime`.
pub fn new_cert(serial: u32, now: u64, lifetime: Duration) -> StoredCert {
    StoredCert {
        key: StoredKeyPair::generate(),
        serial,
        // A minute of slack for clients whose clock is slightly behind ours.
        not_before: now.saturating_sub(60),
        not_after: now.saturating_add(lifetime.as_secs()),
    }
}

/// Reissues the intermediate and/or leaf in `state` if they expire within `renew_before`.
/// Returns true when something changed (the caller persists it).
pub fn renew_if_needed(
    state: &mut StateData,
    now: u64,
    renew_before: Duration,
    intermediate_lifetime: Duration,
    leaf_lifetime: Duration,
) -> bool {
    let due = |cert: &StoredCert| cert.not_after <= now.saturating_add(renew_before.as_secs());
    let mut changed = false;
    if due(&state.intermediate) {
        let serial = state.intermediate.serial.wrapping_add(1).max(1);
        state.intermediate = new_cert(serial, now, intermediate_lifetime);
        tracing::info!(serial, "issued a new intermediate certificate");
        changed = true;
    }
    // A leaf must not outlive its issuer, and a new intermediate needs a new leaf.
    if changed || due(&state.leaf) {
        let serial = state.leaf.serial.wrapping_add(1).max(1);
        let mut leaf = new_cert(serial, now, leaf_lifetime);
        leaf.not_after = leaf.not_after.min(state.intermediate.not_after);
        state.leaf = leaf;
        tracing::info!(
            serial,
            "issued a new leaf certificate (new Noise static key)"
        );
        changed = true;
    }
    changed
}

/// Builds the chain for the state's current certificates.
pub fn server_identity(state: &StateData) -> Result<ServerIdentity, SimError> {
    let root = state.root.key_pair("root")?;
    let intermediate = state.intermediate.key.key_pair("intermediate")?;
    let leaf = state.leaf.key.key_pair("leaf")?;
    let spec = CertChainSpec {
        intermediate_serial: state.intermediate.serial,
        intermediate_not_before: state.intermediate.not_before,
        intermediate_not_after: state.intermediate.not_after,
        leaf_serial: state.leaf.serial,
        leaf_not_before: state.leaf.not_before,
        leaf_not_after: state.leaf.not_after,
    };
    let cert_chain = build_cert_chain(
        &root.private,
        &intermediate,
        &leaf.public,
        &spec,
        &mut OsRng,
    );
    Ok(ServerIdentity {
        noise_static: leaf,
        cert_chain,
        not_after: state.leaf.not_after,
    })
}
