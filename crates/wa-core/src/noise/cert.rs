//! The server certificate chain carried in ServerHello (protocol.md §2.5): a root key signs an
//! intermediate certificate, the intermediate signs a leaf that certifies the server's Noise
//! static key. Signatures are XEdDSA over the raw `details` bytes.
//!
//! Verification applies whatsmeow's full rule set. The root key is a parameter because a local
//! simulator cannot sign under WhatsApp's real root; [`WA_ROOT_PUBLIC_KEY`] is the default.

use prost::Message as _;
use rand_core::CryptoRngCore;
use subtle::ConstantTimeEq;

use super::error::CertRole;
use super::NoiseError;
use crate::proto::cert::cert_chain::noise_certificate::Details;
use crate::proto::cert::cert_chain::NoiseCertificate;
use crate::proto::CertChain;
use crate::signal::{xeddsa, KeyPair, PrivateKey, PublicKey, SIGNATURE_LEN};

/// WhatsApp's long-term root key ("WhatsAppLongTerm1"), which signs the intermediate
/// certificate of every real server.
pub const WA_ROOT_PUBLIC_KEY: PublicKey = PublicKey::from_bytes([
    0x14, 0x23, 0x75, 0x57, 0x4d, 0x0a, 0x58, 0x71, 0x66, 0xaa, 0xe7, 0x1e, 0xbe, 0x51, 0x64, 0x37,
    0xc4, 0xa2, 0x8b, 0x73, 0xe3, 0x69, 0x5c, 0x6c, 0xe1, 0xf7, 0xf9, 0x54, 0x5d, 0xa8, 0xee, 0x6b,
]);

/// The root's serial, which the intermediate must name as its issuer.
pub const ROOT_SERIAL: u32 = 0;

/// The signed fields of one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertDetails {
    /// This certificate's serial.
    pub serial: u32,
    /// The serial of the certificate (or root) that signed it.
    pub issuer_serial: u32,
    /// The key it certifies.
    pub key: PublicKey,
    /// Start of validity, unix seconds.
    pub not_before: u64,
    /// End of validity, unix seconds.
    pub not_after: u64,
}

/// A chain that passed every rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedCertChain {
    /// The intermediate certificate.
    pub intermediate: CertDetails,
    /// The leaf certificate; its key is the server's static key.
    pub leaf: CertDetails,
}

/// Verifies certificate chains under one trusted root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertVerifier {
    /// The key that must have signed the intermediate certificate.
    pub root: PublicKey,
}

impl Default for CertVerifier {
    /// Trusts WhatsApp's real root.
    fn default() -> Self {
        Self {
            root: WA_ROOT_PUBLIC_KEY,
        }
    }
}

impl CertVerifier {
    /// See [`verify_cert_chain`].
    pub fn verify(
        &self,
        payload: &[u8],
        server_static: &PublicKey,
        now_unix: u64,
    ) -> Result<VerifiedCertChain, NoiseError> {
        verify_cert_chain(payload, server_static, &self.root, now_unix)
    }
}

/// Checks the decrypted ServerHello payload as a CertChain for `server_static` under `root` at
/// `now_unix` seconds, rule by rule in whatsmeow's order.
pub fn verify_cert_chain(
    payload: &[u8],
    server_static: &PublicKey,
    root: &PublicKey,
    now_unix: u64,
) -> Result<VerifiedCertChain, NoiseError> {
    let chain = CertChain::decode(payload).map_err(NoiseError::MalformedCertChain)?;
    let (intermediate_raw, intermediate_sig) =
        certificate_parts(chain.intermediate.as_ref(), CertRole::Intermediate)?;
    let (leaf_raw, leaf_sig) = certificate_parts(chain.leaf.as_ref(), CertRole::Leaf)?;

    xeddsa::verify(root, intermediate_raw, intermediate_sig)
        .map_err(NoiseError::IntermediateSignature)?;
    let intermediate = Details::decode(intermediate_raw)
        .map_err(|e| NoiseError::MalformedCertDetails(CertRole::Intermediate, e))?;
    if intermediate.issuer_serial() != ROOT_SERIAL {
        return Err(NoiseError::IntermediateIssuerSerial(
            intermediate.issuer_serial(),
        ));
    }
    let intermediate_key = PublicKey::from_slice(intermediate.key())
        .map_err(|_| NoiseError::IntermediateKeyLength(intermediate.key().len()))?;
    xeddsa::verify(&intermediate_key, leaf_raw, leaf_sig).map_err(NoiseError::LeafSignature)?;
    check_validity(&intermediate, CertRole::Intermediate, now_unix)?;

    let leaf = Details::decode(leaf_raw)
        .map_err(|e| NoiseError::MalformedCertDetails(CertRole::Leaf, e))?;
    if leaf.issuer_serial() != intermediate.serial() {
        return Err(NoiseError::LeafIssuerSerial {
            actual: leaf.issuer_serial(),
            expected: intermediate.serial(),
        });
    }
    let leaf_key = PublicKey::from_slice(leaf.key()).map_err(|_| NoiseError::LeafKeyMismatch)?;
    if !bool::from(leaf_key.as_bytes().ct_eq(server_static.as_bytes())) {
        return Err(NoiseError::LeafKeyMismatch);
    }
    check_validity(&leaf, CertRole::Leaf, now_unix)?;

    Ok(VerifiedCertChain {
        intermediate: cert_details(&intermediate, intermediate_key),
        leaf: cert_details(&leaf, leaf_key),
    })
}

fn certificate_parts(
    cert: Option<&NoiseCertificate>,
    role: CertRole,
) -> Result<(&[u8], &[u8]), NoiseError> {
    let cert = cert.ok_or(NoiseError::CertMissing(role, "certificate"))?;
    let details = cert
        .details
        .as_deref()
        .ok_or(NoiseError::CertMissing(role, "details"))?;
    let signature = cert
        .signature
        .as_deref()
        .ok_or(NoiseError::CertMissing(role, "signature"))?;
    if signature.len() != SIGNATURE_LEN {
        return Err(NoiseError::CertSignatureLength {
            role,
            len: signature.len(),
        });
    }
    Ok((details, signature))
}

/// An absent bound reads as 0, as in whatsmeow: a certificate without notAfter is expired.
fn check_validity(details: &Details, role: CertRole, now: u64) -> Result<(), NoiseError> {
    if now < details.not_before() {
        return Err(NoiseError::CertNotYetValid {
            role,
            not_before: details.not_before(),
            now,
        });
    }
    if now > details.not_after() {
        return Err(NoiseError::CertExpired {
            role,
            not_after: details.not_after(),
            now,
        });
    }
    Ok(())
}

fn cert_details(details: &Details, key: PublicKey) -> CertDetails {
    CertDetails {
        serial: details.serial(),
        issuer_serial: details.issuer_serial(),
        key,
        not_before: details.not_before(),
        not_after: details.not_after(),
    }
}

/// Encodes `details` and signs the encoding with `signer`.
pub fn sign_certificate(
    signer: &PrivateKey,
    details: &CertDetails,
    random: &[u8; 64],
) -> NoiseCertificate {
    let encoded = Details {
        serial: Some(details.serial),
        issuer_serial: Some(details.issuer_serial),
        key: Some(details.key.as_bytes().to_vec()),
        not_before: Some(details.not_before),
        not_after: Some(details.not_after),
    }
    .encode_to_vec();
    let signature = xeddsa::sign(signer, &encoded, random);
    NoiseCertificate {
        details: Some(encoded),
        signature: Some(signature.to_vec()),
    }
}

/// Serials and validity windows of a chain to issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertChainSpec {
    /// The intermediate's serial (the leaf names it as issuer).
    pub intermediate_serial: u32,
    /// The intermediate's notBefore, unix seconds.
    pub intermediate_not_before: u64,
    /// The intermediate's notAfter, unix seconds.
    pub intermediate_not_after: u64,
    /// The leaf's serial.
    pub leaf_serial: u32,
    /// The leaf's notBefore, unix seconds.
    pub leaf_not_before: u64,
    /// The leaf's notAfter, unix seconds.
    pub leaf_not_after: u64,
}

/// Issues a well-formed chain: `root` signs the intermediate (issuer serial 0), the intermediate
/// signs a leaf for `leaf_key` (the server's static key). Returns the encoded CertChain, the
/// payload a responder puts in its ServerHello.
pub fn build_cert_chain(
    root: &PrivateKey,
    intermediate: &KeyPair,
    leaf_key: &PublicKey,
    spec: &CertChainSpec,
    rng: &mut impl CryptoRngCore,
) -> Vec<u8> {
    let mut random = [0u8; 64];
    rng.fill_bytes(&mut random);
    let intermediate_cert = sign_certificate(
        root,
        &CertDetails {
            serial: spec.intermediate_serial,
            issuer_serial: ROOT_SERIAL,
            key: intermediate.public,
            not_before: spec.intermediate_not_before,
            not_after: spec.intermediate_not_after,
        },
        &random,
    );
    rng.fill_bytes(&mut random);
    let leaf_cert = sign_certificate(
        &intermediate.private,
        &CertDetails {
            serial: spec.leaf_serial,
            issuer_serial: spec.intermediate_serial,
            key: *leaf_key,
            not_before: spec.leaf_not_before,
            not_after: spec.leaf_not_after,
        },
        &random,
    );
    CertChain {
        leaf: Some(leaf_cert),
        intermediate: Some(intermediate_cert),
    }
    .encode_to_vec()
}
