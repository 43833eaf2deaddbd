//! Pairwise encryption of one message for many devices, inside the caller's transaction:
//! sessions built from the bundles just fetched, then one ciphertext per device. A device
//! whose bundle is refused (a bad signed-prekey signature, no bundle on the server) is left
//! out and reported; the others still get the message.

use rand::rngs::OsRng;
use wa_core::binary::Jid;
use wa_core::signal::SignalError;
use wa_core::stanza::bundle::DeviceBundle;
use wa_core::stanza::message::{DeviceCiphertext, EncKind};

use super::context::{address, Me};
use super::types::{SkipReason, SkippedDevice};
use crate::store::{SignalStoreError, SignalTx};

/// The result of a fan-out.
pub(crate) struct Fanout {
    /// One ciphertext per device that could be given one, in the order asked.
    pub ciphertexts: Vec<DeviceCiphertext>,
    /// Devices left out, with why.
    pub refused: Vec<SkippedDevice>,
}

fn skipped(device: &Jid, reason: SkipReason) -> SkippedDevice {
    SkippedDevice {
        device: device.clone(),
        reason,
    }
}

/// Builds sessions from `bundles` (replacing a changed identity, as whatsmeow does: the
/// contact reinstalled), then encrypts `plaintext(device)` for every device of `devices`.
pub(crate) fn encrypt_for<'p>(
    tx: &mut SignalTx<'_>,
    me: &Me,
    devices: &[Jid],
    bundles: &[DeviceBundle],
    plaintext: impl Fn(&Jid) -> &'p [u8],
) -> Result<Fanout, SignalStoreError> {
    let mut refused = Vec::new();
    for b in bundles {
        let addr = address(&b.device);
        let bundle = match &b.bundle {
            Ok(bundle) => bundle,
            Err(e) => {
                tracing::warn!(device = %b.device, error = %e, "no usable bundle; device left out");
                refused.push(skipped(&b.device, SkipReason::Bundle(e.clone())));
                continue;
            }
        };
        match tx.initiate(&me.identity, &addr, bundle, &mut OsRng) {
            Ok(_) => {}
            Err(SignalStoreError::Signal(SignalError::UntrustedIdentity { .. })) => {
                tracing::info!(device = %b.device, "identity changed; trusting the new one");
                tx.trust_identity(&addr, &bundle.identity_key)?;
                match tx.initiate(&me.identity, &addr, bundle, &mut OsRng) {
                    Ok(_) => {}
                    Err(SignalStoreError::Signal(e)) => {
                        tracing::warn!(device = %b.device, error = %e, "bundle refused; device left out");
                        refused.push(skipped(&b.device, SkipReason::Signal(e)));
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(SignalStoreError::Signal(e)) => {
                tracing::warn!(device = %b.device, error = %e, "bundle refused; device left out");
                refused.push(skipped(&b.device, SkipReason::Signal(e)));
            }
            Err(e) => return Err(e),
        }
    }
    let mut ciphertexts = Vec::with_capacity(devices.len());
    for device in devices {
        if refused.iter().any(|s| &s.device == device) {
            continue;
        }
        match tx.encrypt(&address(device), plaintext(device)) {
            Ok(message) => ciphertexts.push(DeviceCiphertext {
                device: device.clone(),
                kind: EncKind::parse(message.enc_type()),
                bytes: message.serialized().to_vec(),
            }),
            Err(SignalStoreError::Signal(e)) => {
                tracing::warn!(device = %device, error = %e, "could not encrypt; device left out");
                refused.push(skipped(device, SkipReason::Signal(e)));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Fanout {
        ciphertexts,
        refused,
    })
}
