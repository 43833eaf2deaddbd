//! X3DH as libsignal v3 runs it, in both roles (protocol.md §9.4):
//!
//! `secret = FF×32 ‖ DH(IK_a, SPK_b) ‖ DH(EK_a, IK_b) ‖ DH(EK_a, SPK_b) [‖ DH(EK_a, OPK_b)]`,
//! then HKDF "WhisperText" → root key and first chain key. The initiator (Alice, who fetched a
//! bundle) keeps that chain as her receiving chain for Bob's signed prekey and ratchets once to
//! get a sending chain; the responder (Bob) uses his signed prekey as his first ratchet key,
//! with the chain as a sending chain that his first decrypt replaces by a ratchet step.

use rand_core::CryptoRngCore;

use super::chain::{derive_initial, ratchet_root, ChainKey};
use super::keys::{KeyPair, PublicKey};
use super::state::{PendingPreKey, SenderChain, SessionState};

/// The 32 `FF` bytes that open the secret: they keep a v3 secret apart from an X25519 output.
const DISCONTINUITY: [u8; 32] = [0xff; 32];

/// Alice's side: what she knows when she starts a session from Bob's bundle.
pub(crate) struct Initiator<'a> {
    pub(crate) our_identity: &'a KeyPair,
    pub(crate) our_registration_id: u32,
    pub(crate) our_base_key: KeyPair,
    pub(crate) their_identity: PublicKey,
    pub(crate) their_registration_id: u32,
    pub(crate) their_signed_pre_key: (u32, PublicKey),
    pub(crate) their_one_time_pre_key: Option<(u32, PublicKey)>,
}

/// Bob's side: his keys, and what Alice's prekey message told him.
pub(crate) struct Responder<'a> {
    pub(crate) our_identity: &'a KeyPair,
    pub(crate) our_registration_id: u32,
    pub(crate) our_signed_pre_key: &'a KeyPair,
    pub(crate) our_one_time_pre_key: Option<&'a KeyPair>,
    /// Bob's first ratchet key: his signed prekey in real sessions (libsignal's test vectors
    /// use a separate one).
    pub(crate) our_ratchet_key: &'a KeyPair,
    pub(crate) their_identity: PublicKey,
    pub(crate) their_registration_id: u32,
    pub(crate) their_base_key: PublicKey,
}

/// The root key and first chain key Alice derives (exposed for the §10.1 vectors).
pub(crate) fn initiator_keys(a: &Initiator<'_>) -> ([u8; 32], ChainKey) {
    let (_, spk) = a.their_signed_pre_key;
    let mut secret = Vec::with_capacity(32 * 5);
    secret.extend_from_slice(&DISCONTINUITY);
    secret.extend_from_slice(&a.our_identity.private.agree(&spk));
    secret.extend_from_slice(&a.our_base_key.private.agree(&a.their_identity));
    secret.extend_from_slice(&a.our_base_key.private.agree(&spk));
    if let Some((_, opk)) = a.their_one_time_pre_key {
        secret.extend_from_slice(&a.our_base_key.private.agree(&opk));
    }
    derive_initial(&secret)
}

/// The root key and first chain key Bob derives; equal to Alice's for matching keys.
pub(crate) fn responder_keys(b: &Responder<'_>) -> ([u8; 32], ChainKey) {
    let mut secret = Vec::with_capacity(32 * 5);
    secret.extend_from_slice(&DISCONTINUITY);
    secret.extend_from_slice(&b.our_signed_pre_key.private.agree(&b.their_identity));
    secret.extend_from_slice(&b.our_identity.private.agree(&b.their_base_key));
    secret.extend_from_slice(&b.our_signed_pre_key.private.agree(&b.their_base_key));
    if let Some(opk) = b.our_one_time_pre_key {
        secret.extend_from_slice(&opk.private.agree(&b.their_base_key));
    }
    derive_initial(&secret)
}

/// Alice's new session: pending until Bob's first reply is decrypted.
pub(crate) fn initiate(a: Initiator<'_>, rng: &mut impl CryptoRngCore) -> SessionState {
    let (root, receiving) = initiator_keys(&a);
    let (signed_pre_key_id, spk) = a.their_signed_pre_key;
    let ratchet = KeyPair::generate(rng);
    let (root, sending) = ratchet_root(&root, &ratchet.private.agree(&spk));
    let mut state = SessionState {
        local_identity: a.our_identity.public,
        remote_identity: a.their_identity,
        local_registration_id: a.our_registration_id,
        remote_registration_id: a.their_registration_id,
        root_key: root,
        base_key: a.our_base_key.public,
        sender: SenderChain {
            ratchet,
            chain: sending,
        },
        previous_counter: 0,
        receivers: Vec::new(),
        pending: Some(PendingPreKey {
            pre_key_id: a.their_one_time_pre_key.map(|(id, _)| id),
            signed_pre_key_id,
            base_key: a.our_base_key.public,
        }),
    };
    state.add_receiver(spk, receiving);
    state
}

/// Bob's new session, before the prekey message's inner message is decrypted in it.
pub(crate) fn respond(b: Responder<'_>) -> SessionState {
    let (root, sending) = responder_keys(&b);
    SessionState {
        local_identity: b.our_identity.public,
        remote_identity: b.their_identity,
        local_registration_id: b.our_registration_id,
        remote_registration_id: b.their_registration_id,
        root_key: root,
        base_key: b.their_base_key,
        sender: SenderChain {
            ratchet: b.our_ratchet_key.clone(),
            chain: sending,
        },
        previous_counter: 0,
        receivers: Vec::new(),
        pending: None,
    }
}
