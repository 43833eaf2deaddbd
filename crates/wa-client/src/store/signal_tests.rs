//! The Signal tables: prekeys are consumed once and never reused, failed decrypts and failed
//! transactions leave everything as it was, identities are trusted on first use, and
//! migration 2 carries the keys of a version-1 store over.

use rand::rngs::StdRng;
use rand::SeedableRng;
use rusqlite::params;
use wa_core::signal::group::SenderKeyRecord;
use wa_core::signal::{
    CiphertextMessage, KeyPair, LocalIdentity, PreKeyBundle, PreKeyRecord, SessionRecord,
    SignalError, SignedPreKeyRecord,
};

use super::*;
use crate::lock::tests::tempdir;

const ALICE: &str = "15557654321.0:0";

/// A store with fresh device keys and 5 one-time prekeys.
fn store_with_keys(rng: &mut StdRng) -> (Store, LocalIdentity) {
    let mut store = Store::open(&tempdir()).unwrap();
    let creds = Credentials::generate(rng, 1);
    store.create_credentials(&creds).unwrap();
    store
        .add_prekeys(5, 1, || {
            KeyPair::generate(&mut StdRng::seed_from_u64(3))
                .private
                .to_bytes()
        })
        .unwrap();
    let us = LocalIdentity {
        key_pair: creds.identity.clone(),
        registration_id: creds.registration_id,
    };
    (store, us)
}

/// The bundle the server would hand out for us with one-time prekey `id`.
fn our_bundle(store: &Store, us: &LocalIdentity, id: u32) -> PreKeyBundle {
    let creds = store.load_credentials().unwrap().unwrap();
    let signed = SignedPreKeyRecord {
        id: creds.signed_prekey.id,
        key_pair: creds.signed_prekey.key.clone(),
        signature: creds.signed_prekey.signature,
    };
    let bytes: Vec<u8> = store
        .conn
        .query_row(
            "SELECT record FROM signal_prekeys WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .unwrap();
    let one_time = PreKeyRecord::deserialize(&bytes).unwrap();
    PreKeyBundle::from_local(us, &signed, Some(&one_time))
}

/// A peer (held in memory) that starts a session with us and sends one pkmsg.
fn alice_first_message(bundle: &PreKeyBundle, rng: &mut StdRng) -> (SessionRecord, Vec<u8>) {
    let alice = LocalIdentity {
        key_pair: KeyPair::generate(rng),
        registration_id: 42,
    };
    let record = SessionRecord::new()
        .initiate(&alice, bundle, None, rng)
        .unwrap();
    let (record, message) = record.encrypt(b"hello").unwrap();
    assert!(matches!(message, CiphertextMessage::PreKey(_)));
    (record, message.serialized().to_vec())
}

fn receive(
    store: &mut Store,
    us: &LocalIdentity,
    kind: PairwiseKind,
    bytes: &[u8],
    rng: &mut StdRng,
) -> Result<Received, SignalStoreError> {
    store.signal_transaction(10, |tx| tx.decrypt(us, ALICE, kind, bytes, rng))
}

fn stored_session(store: &Store) -> Option<Vec<u8>> {
    store
        .conn
        .query_row(
            "SELECT record FROM signal_sessions WHERE address = ?1",
            params![ALICE],
            |r| r.get(0),
        )
        .optional()
        .unwrap()
}

#[test]
fn a_consumed_prekey_is_never_used_again() {
    let mut rng = StdRng::seed_from_u64(1);
    let (mut store, us) = store_with_keys(&mut rng);
    assert_eq!(store.prekey_count().unwrap(), 5);
    let bundle = our_bundle(&store, &us, 2);
    let (_, first) = alice_first_message(&bundle, &mut rng);
    let got = receive(&mut store, &us, PairwiseKind::PreKey, &first, &mut rng).unwrap();
    assert_eq!(got.plaintext, b"hello");
    assert_eq!(got.consumed_pre_key, Some(2));
    assert_eq!(got.identity, IdentityChange::New);
    assert_eq!(store.prekey_count().unwrap(), 4);

    // Someone else builds a session on the same one-time prekey: refused, nothing stored.
    let session_before = stored_session(&store);
    let (_, second) = alice_first_message(&bundle, &mut rng);
    let err = store
        .signal_transaction(11, |tx| {
            tx.decrypt(
                &us,
                "15550000000.0:1",
                PairwiseKind::PreKey,
                &second,
                &mut rng,
            )
        })
        .unwrap_err();
    assert!(matches!(
        err,
        SignalStoreError::Signal(SignalError::UnknownPreKey(2))
    ));
    assert_eq!(stored_session(&store), session_before);
    assert_eq!(store.prekey_count().unwrap(), 4);
    // Marking it consumed twice is refused too, and new ids never repeat it.
    assert!(matches!(
        store.signal_transaction(12, |tx| tx.consume_pre_key(2)),
        Err(SignalStoreError::PreKeyAlreadyUsed(2))
    ));
    let fresh = store.add_prekeys(3, 12, || [9; 32]).unwrap();
    assert!(fresh.iter().all(|(id, _)| *id > 5));
    // The same first message again is a repeat of a session we have: no prekey is consumed.
    let again = receive(&mut store, &us, PairwiseKind::PreKey, &first, &mut rng);
    assert!(matches!(
        again,
        Err(SignalStoreError::Signal(
            SignalError::DuplicateMessage { .. }
        ))
    ));
    assert_eq!(store.prekey_count().unwrap(), 7);
}

#[test]
fn a_failed_decrypt_leaves_the_stored_session_unchanged() {
    let mut rng = StdRng::seed_from_u64(2);
    let (mut store, us) = store_with_keys(&mut rng);
    let (alice, first) = alice_first_message(&our_bundle(&store, &us, 1), &mut rng);
    receive(&mut store, &us, PairwiseKind::PreKey, &first, &mut rng).unwrap();
    let (_, next) = alice.encrypt(b"second").unwrap();
    let before = stored_session(&store).unwrap();
    // Flip a byte in the middle (inside the MAC-covered inner message; the pkmsg's outer ids
    // are not authenticated by libsignal's design).
    let mut tampered = next.serialized().to_vec();
    let n = tampered.len();
    tampered[n / 2] ^= 1;
    for bad in [&tampered[..], &tampered[..n / 2], &[][..]] {
        let kind = PairwiseKind::PreKey;
        assert!(receive(&mut store, &us, kind, bad, &mut rng).is_err());
        assert_eq!(stored_session(&store).unwrap(), before);
    }
    let got = receive(
        &mut store,
        &us,
        PairwiseKind::PreKey,
        next.serialized(),
        &mut rng,
    )
    .unwrap();
    assert_eq!(got.plaintext, b"second");
    assert_ne!(stored_session(&store).unwrap(), before);
}

#[test]
fn a_failed_transaction_rolls_back_the_session_and_the_dependent_row() {
    let mut rng = StdRng::seed_from_u64(3);
    let (mut store, us) = store_with_keys(&mut rng);
    let (_, first) = alice_first_message(&our_bundle(&store, &us, 1), &mut rng);
    receive(&mut store, &us, PairwiseKind::PreKey, &first, &mut rng).unwrap();
    store
        .conn
        .execute_batch("CREATE TABLE outbox (id TEXT PRIMARY KEY, stanza BLOB NOT NULL)")
        .unwrap();
    let outbox = |store: &Store| -> i64 {
        store
            .conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
            .unwrap()
    };
    let before = stored_session(&store).unwrap();

    #[derive(Debug)]
    enum SendError {
        Store,
        Later,
    }
    impl From<StoreError> for SendError {
        fn from(_: StoreError) -> Self {
            Self::Store
        }
    }
    // The ratchet steps and the stanza is written, then something after it fails.
    let failed: Result<(), SendError> = store.signal_transaction(20, |tx| {
        let message = tx
            .encrypt(ALICE, b"scheduled")
            .map_err(|_| SendError::Store)?;
        tx.sql()
            .execute(
                "INSERT INTO outbox (id, stanza) VALUES ('3EB0A', ?1)",
                params![message.serialized()],
            )
            .map_err(|_| SendError::Store)?;
        Err(SendError::Later)
    });
    assert!(matches!(failed, Err(SendError::Later)));
    assert_eq!(stored_session(&store).unwrap(), before);
    assert_eq!(outbox(&store), 0);

    // The same work committed: both are there.
    store
        .signal_transaction(21, |tx| -> Result<(), SignalStoreError> {
            let message = tx.encrypt(ALICE, b"scheduled")?;
            tx.sql().execute(
                "INSERT INTO outbox (id, stanza) VALUES ('3EB0A', ?1)",
                params![message.serialized()],
            )?;
            Ok(())
        })
        .unwrap();
    assert_ne!(stored_session(&store).unwrap(), before);
    assert_eq!(outbox(&store), 1);
}

#[test]
fn identities_are_trusted_on_first_use_and_a_change_is_reported() {
    let mut rng = StdRng::seed_from_u64(4);
    let (mut store, us) = store_with_keys(&mut rng);
    let (_, first) = alice_first_message(&our_bundle(&store, &us, 1), &mut rng);
    let got = receive(&mut store, &us, PairwiseKind::PreKey, &first, &mut rng).unwrap();
    let trusted = got.sender_identity;
    // Alice reinstalls: a new identity on a new session is refused and changes nothing.
    let (_, reinstalled) = alice_first_message(&our_bundle(&store, &us, 3), &mut rng);
    let before = stored_session(&store);
    let err = receive(
        &mut store,
        &us,
        PairwiseKind::PreKey,
        &reinstalled,
        &mut rng,
    )
    .unwrap_err();
    let SignalStoreError::Signal(SignalError::UntrustedIdentity { expected, received }) = err
    else {
        panic!("not an identity refusal: {err:?}");
    };
    assert_eq!(expected, trusted);
    assert_eq!(stored_session(&store), before);
    assert_eq!(store.prekey_count().unwrap(), 4);
    // The caller accepts the new key; then the message decrypts.
    let change = store
        .signal_transaction(30, |tx| tx.trust_identity(ALICE, &received))
        .unwrap();
    assert_eq!(change, IdentityChange::Changed { previous: trusted });
    let got = receive(
        &mut store,
        &us,
        PairwiseKind::PreKey,
        &reinstalled,
        &mut rng,
    )
    .unwrap();
    assert_eq!(got.identity, IdentityChange::Unchanged);
    assert_eq!(store.prekey_count().unwrap(), 3);
}

#[test]
fn sender_keys_are_stored_per_group_and_sender() {
    let mut rng = StdRng::seed_from_u64(5);
    let (mut store, _) = store_with_keys(&mut rng);
    let group = "120363012345678901@g.us";
    let skdm = store
        .signal_transaction(1, |tx| {
            tx.own_distribution_message(group, "me.0:7", &mut rng)
        })
        .unwrap();
    let skmsg = store
        .signal_transaction(2, |tx| {
            tx.group_encrypt(group, "me.0:7", b"hi all", &mut rng)
        })
        .unwrap();
    // A member's view, in the same store under another sender name.
    store
        .signal_transaction(3, |tx| tx.process_distribution(group, "member.0:1", &skdm))
        .unwrap();
    let plain = store
        .signal_transaction(4, |tx| tx.group_decrypt(group, "member.0:1", &skmsg))
        .unwrap();
    assert_eq!(plain, b"hi all");
    let replay = store.signal_transaction(5, |tx| tx.group_decrypt(group, "member.0:1", &skmsg));
    assert!(matches!(replay, Err(SignalStoreError::Group(_))));
    let own = store
        .signal_transaction(6, |tx| tx.sender_key(group, "me.0:7"))
        .unwrap();
    assert_eq!(own.current().unwrap().iteration(), 1);
    let none = store
        .signal_transaction(6, |tx| tx.sender_key("other@g.us", "me.0:7"))
        .unwrap();
    assert_eq!(none, SenderKeyRecord::new());
}

#[test]
fn migration_two_carries_version_one_keys_over() {
    let dir = tempdir();
    let creds = Credentials::generate(&mut StdRng::seed_from_u64(6), 1);
    {
        // A store as version 1 of this program left it.
        let conn = Connection::open(dir.join(DB_FILE)).unwrap();
        conn.execute_batch(MIGRATIONS[0].1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        credentials::insert(&conn, &creds).unwrap();
        for id in 1..=3u32 {
            conn.execute(
                "INSERT INTO prekeys (id, private, uploaded, created_at_ms) VALUES (?1, ?2, 1, 5)",
                params![id, &[id as u8; 32][..]],
            )
            .unwrap();
        }
    }
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.prekey_count().unwrap(), 3);
    let bytes: Vec<u8> = store
        .conn
        .query_row("SELECT record FROM signal_prekeys WHERE id = 2", [], |r| {
            r.get(0)
        })
        .unwrap();
    let record = PreKeyRecord::deserialize(&bytes).unwrap();
    assert_eq!(
        record.key_pair.public,
        KeyPair::from_private_bytes([2; 32]).public
    );
    let bytes: Vec<u8> = store
        .conn
        .query_row(
            "SELECT record FROM signal_signed_prekeys WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let signed = SignedPreKeyRecord::deserialize(&bytes).unwrap();
    assert_eq!(signed.signature, creds.signed_prekey.signature);
    let legacy: Option<String> = store
        .conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE name = 'prekeys'",
            [],
            |r| r.get(0),
        )
        .optional()
        .unwrap();
    assert_eq!(legacy, None);
    assert_eq!(
        peek(&dir).unwrap().map(|s| s.prekeys),
        Some(3),
        "peek counts the new table"
    );
}

#[test]
fn replies_through_the_store_reach_the_peer() {
    let mut rng = StdRng::seed_from_u64(8);
    let (mut store, us) = store_with_keys(&mut rng);
    let (mut alice, first) = alice_first_message(&our_bundle(&store, &us, 1), &mut rng);
    receive(&mut store, &us, PairwiseKind::PreKey, &first, &mut rng).unwrap();
    for i in 0..3 {
        let reply = store
            .signal_transaction(40 + i, |tx| tx.encrypt(ALICE, b"reply"))
            .unwrap();
        let got = alice.decrypt_message(reply.serialized(), &mut rng).unwrap();
        assert_eq!(got.plaintext, b"reply");
        alice = got.record;
        let again = alice.decrypt_message(reply.serialized(), &mut rng);
        assert!(
            matches!(again, Err(SignalError::DuplicateMessage { .. })),
            "{again:?}"
        );
    }
}
