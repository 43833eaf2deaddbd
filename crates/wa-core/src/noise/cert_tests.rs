//! One test per certificate chain rule: each broken chain fails with that rule's error.

use prost::Message as _;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::cert::{
    build_cert_chain, sign_certificate, verify_cert_chain, CertChainSpec, CertDetails,
};
use super::{CertRole, NoiseError};
use crate::proto::CertChain;
use crate::signal::{KeyPair, PublicKey, SignatureError};

const NOW: u64 = 1_750_000_000;

struct Keys {
    root: KeyPair,
    intermediate: KeyPair,
    server_static: PublicKey,
}

fn keys() -> Keys {
    let mut rng = StdRng::seed_from_u64(99);
    Keys {
        root: KeyPair::generate(&mut rng),
        intermediate: KeyPair::generate(&mut rng),
        server_static: KeyPair::generate(&mut rng).public,
    }
}

fn intermediate_details(k: &Keys) -> CertDetails {
    CertDetails {
        serial: 3,
        issuer_serial: 0,
        key: k.intermediate.public,
        not_before: NOW - 100,
        not_after: NOW + 100,
    }
}

fn leaf_details(k: &Keys) -> CertDetails {
    CertDetails {
        serial: 9,
        issuer_serial: 3,
        key: k.server_static,
        not_before: NOW - 50,
        not_after: NOW + 50,
    }
}

/// A chain from explicit details, each signed by the proper issuer.
fn chain(k: &Keys, intermediate: &CertDetails, leaf: &CertDetails) -> Vec<u8> {
    CertChain {
        intermediate: Some(sign_certificate(&k.root.private, intermediate, &[1; 64])),
        leaf: Some(sign_certificate(&k.intermediate.private, leaf, &[2; 64])),
    }
    .encode_to_vec()
}

fn verify(k: &Keys, payload: &[u8], now: u64) -> Result<(), NoiseError> {
    verify_cert_chain(payload, &k.server_static, &k.root.public, now).map(|_| ())
}

#[test]
fn the_reference_chain_is_valid() {
    let k = keys();
    assert_eq!(
        verify(
            &k,
            &chain(&k, &intermediate_details(&k), &leaf_details(&k)),
            NOW
        ),
        Ok(())
    );
    let spec = CertChainSpec {
        intermediate_serial: 3,
        intermediate_not_before: NOW - 100,
        intermediate_not_after: NOW + 100,
        leaf_serial: 9,
        leaf_not_before: NOW - 50,
        leaf_not_after: NOW + 50,
    };
    let built = build_cert_chain(
        &k.root.private,
        &k.intermediate,
        &k.server_static,
        &spec,
        &mut StdRng::seed_from_u64(1),
    );
    assert_eq!(verify(&k, &built, NOW), Ok(()));
}

#[test]
fn expired_certificates_are_rejected() {
    let k = keys();
    let payload = chain(&k, &intermediate_details(&k), &leaf_details(&k));
    assert_eq!(
        verify(&k, &payload, NOW + 51),
        Err(NoiseError::CertExpired {
            role: CertRole::Leaf,
            not_after: NOW + 50,
            now: NOW + 51
        })
    );
    assert_eq!(
        verify(&k, &payload, NOW + 101),
        Err(NoiseError::CertExpired {
            role: CertRole::Intermediate,
            not_after: NOW + 100,
            now: NOW + 101
        })
    );
}

#[test]
fn not_yet_valid_certificates_are_rejected() {
    let k = keys();
    let payload = chain(&k, &intermediate_details(&k), &leaf_details(&k));
    assert_eq!(
        verify(&k, &payload, NOW - 51),
        Err(NoiseError::CertNotYetValid {
            role: CertRole::Leaf,
            not_before: NOW - 50,
            now: NOW - 51
        })
    );
    assert_eq!(
        verify(&k, &payload, NOW - 101),
        Err(NoiseError::CertNotYetValid {
            role: CertRole::Intermediate,
            not_before: NOW - 100,
            now: NOW - 101
        })
    );
}

#[test]
fn leaf_issuer_serial_must_be_the_intermediate_serial() {
    let k = keys();
    let mut leaf = leaf_details(&k);
    leaf.issuer_serial = 4;
    assert_eq!(
        verify(&k, &chain(&k, &intermediate_details(&k), &leaf), NOW),
        Err(NoiseError::LeafIssuerSerial {
            actual: 4,
            expected: 3
        })
    );
}

#[test]
fn intermediate_issuer_serial_must_be_the_root() {
    let k = keys();
    let mut intermediate = intermediate_details(&k);
    intermediate.issuer_serial = 1;
    assert_eq!(
        verify(&k, &chain(&k, &intermediate, &leaf_details(&k)), NOW),
        Err(NoiseError::IntermediateIssuerSerial(1))
    );
}

#[test]
fn leaf_must_be_signed_by_the_intermediate() {
    let k = keys();
    let payload = CertChain {
        intermediate: Some(sign_certificate(
            &k.root.private,
            &intermediate_details(&k),
            &[1; 64],
        )),
        leaf: Some(sign_certificate(
            &k.root.private,
            &leaf_details(&k),
            &[2; 64],
        )),
    }
    .encode_to_vec();
    assert_eq!(
        verify(&k, &payload, NOW),
        Err(NoiseError::LeafSignature(SignatureError::Mismatch))
    );
}

#[test]
fn signatures_must_be_64_bytes_and_parts_present() {
    let k = keys();
    let good =
        CertChain::decode(chain(&k, &intermediate_details(&k), &leaf_details(&k)).as_slice())
            .unwrap();

    let mut short = good.clone();
    if let Some(leaf) = short.leaf.as_mut() {
        leaf.signature.as_mut().unwrap().pop();
    }
    assert_eq!(
        verify(&k, &short.encode_to_vec(), NOW),
        Err(NoiseError::CertSignatureLength {
            role: CertRole::Leaf,
            len: 63
        })
    );

    let mut long = good.clone();
    if let Some(intermediate) = long.intermediate.as_mut() {
        intermediate.signature.as_mut().unwrap().push(0);
    }
    assert_eq!(
        verify(&k, &long.encode_to_vec(), NOW),
        Err(NoiseError::CertSignatureLength {
            role: CertRole::Intermediate,
            len: 65
        })
    );

    let mut no_leaf = good.clone();
    no_leaf.leaf = None;
    assert_eq!(
        verify(&k, &no_leaf.encode_to_vec(), NOW),
        Err(NoiseError::CertMissing(CertRole::Leaf, "certificate"))
    );
    let mut no_details = good;
    if let Some(intermediate) = no_details.intermediate.as_mut() {
        intermediate.details = None;
    }
    assert_eq!(
        verify(&k, &no_details.encode_to_vec(), NOW),
        Err(NoiseError::CertMissing(CertRole::Intermediate, "details"))
    );
}

#[test]
fn intermediate_key_must_be_32_bytes() {
    let k = keys();
    // Sign details with a 33-byte (05-prefixed) key by hand: the signature is valid, the key
    // shape is not.
    let details = crate::proto::noise_certificate::Details {
        serial: Some(3),
        issuer_serial: Some(0),
        key: Some(k.intermediate.public.to_signal().as_bytes().to_vec()),
        not_before: Some(NOW - 100),
        not_after: Some(NOW + 100),
    }
    .encode_to_vec();
    let signature = crate::signal::xeddsa::sign(&k.root.private, &details, &[5; 64]);
    let payload = CertChain {
        intermediate: Some(crate::proto::NoiseCertificate {
            details: Some(details),
            signature: Some(signature.to_vec()),
        }),
        leaf: Some(sign_certificate(
            &k.intermediate.private,
            &leaf_details(&k),
            &[2; 64],
        )),
    }
    .encode_to_vec();
    assert_eq!(
        verify(&k, &payload, NOW),
        Err(NoiseError::IntermediateKeyLength(33))
    );
}

#[test]
fn garbage_is_a_malformed_chain() {
    let k = keys();
    assert!(matches!(
        verify(&k, b"CERTCHAIN-PLACEHOLDER", NOW),
        Err(NoiseError::MalformedCertChain(_))
    ));
}
