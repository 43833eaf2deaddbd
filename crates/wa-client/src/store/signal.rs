//! The Signal tables (migration 0002): identities, sessions, one-time and signed prekeys, and
//! sender keys, all behind one transaction type.
//!
//! [`Store::signal_transaction`] hands a closure a [`SignalTx`]. Everything the closure writes
//! — a new session record, the prekey it consumed, the identity it learned, and any row of the
//! caller's own (an encoded stanza, through [`SignalTx::sql`]) — is committed together when the
//! closure returns `Ok`, and none of it when it returns `Err` or panics. So a crash can never
//! leave a ratchet behind a message that was already sent or acknowledged, nor a sent stanza
//! without the ratchet step that made it.
//!
//! Identities are trusted on first use: the first key a device presents is stored, a different
//! one later fails the operation with `SignalError::UntrustedIdentity` (reported, nothing
//! changed) until the caller accepts it with [`SignalTx::trust_identity`].

use std::cell::RefCell;

use rand::{CryptoRng, RngCore};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use wa_core::signal::group::{
    GroupError, RecordError as SenderKeyRecordError, SenderKeyDistributionMessage, SenderKeyRecord,
};
use wa_core::signal::{
    CiphertextMessage, KeyPair, LocalIdentity, PreKeyBundle, PreKeyLookup, PreKeyRecord, PublicKey,
    RecordError, SessionRecord, SignalError, SignedPreKeyRecord,
};

use super::credentials::SignedPreKey;
use super::{Store, StoreError};

/// A Signal operation on the store failed; nothing it did was committed.
#[derive(Debug, thiserror::Error)]
pub enum SignalStoreError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The pairwise cipher refused (bad MAC, duplicate, unknown prekey, changed identity, …).
    #[error(transparent)]
    Signal(#[from] SignalError),
    /// The group cipher refused.
    #[error(transparent)]
    Group(#[from] GroupError),
    /// A stored session, prekey or signed prekey record does not read back.
    #[error("stored {what} is unreadable: {source}")]
    Record {
        /// Which table's record.
        what: &'static str,
        #[source]
        source: RecordError,
    },
    /// A stored sender-key record does not read back.
    #[error("stored sender key is unreadable: {0}")]
    SenderKeyRecord(#[from] SenderKeyRecordError),
    /// A decrypt reported a one-time prekey that is unknown or already used.
    #[error("one-time prekey {0} is unknown or was already used")]
    PreKeyAlreadyUsed(u32),
}

impl From<rusqlite::Error> for SignalStoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(StoreError::Sqlite(e))
    }
}

/// What storing a device's identity key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityChange {
    /// First key seen for this address: stored.
    New,
    /// The key we already had.
    Unchanged,
    /// A different key replaced the stored one (the contact reinstalled, or someone else).
    Changed {
        /// The key trusted until now.
        previous: PublicKey,
    },
}

/// Which `<enc type>` a pairwise ciphertext came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairwiseKind {
    /// `pkmsg`: may set up a new session and consume one of our one-time prekeys.
    PreKey,
    /// `msg`: an existing session.
    Whisper,
}

/// A pairwise message decrypted and its state staged in the transaction.
#[derive(Debug)]
pub struct Received {
    /// The padded plaintext.
    pub plaintext: Vec<u8>,
    /// The sender's identity key.
    pub sender_identity: PublicKey,
    /// The one-time prekey this message used up, if it set up a session.
    pub consumed_pre_key: Option<u32>,
    /// What happened to the stored identity (always `New` or `Unchanged`: a changed one is
    /// refused until trusted).
    pub identity: IdentityChange,
}

/// One open transaction over the Signal tables (and anything else in the database).
pub struct SignalTx<'a> {
    tx: Transaction<'a>,
    now_ms: u64,
}

impl Store {
    /// Runs `f` in one transaction and commits what it wrote only if it returns `Ok`.
    /// `now_ms` stamps the rows it writes.
    pub fn signal_transaction<T, E>(
        &mut self,
        now_ms: u64,
        f: impl FnOnce(&mut SignalTx<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let tx = self.conn.transaction().map_err(StoreError::from)?;
        let mut signal = SignalTx { tx, now_ms };
        let out = f(&mut signal)?;
        signal.tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }
}

fn session_record(bytes: &[u8]) -> Result<SessionRecord, SignalStoreError> {
    SessionRecord::deserialize(bytes).map_err(|source| SignalStoreError::Record {
        what: "session",
        source,
    })
}

fn identity_key(bytes: &[u8]) -> Result<PublicKey, StoreError> {
    PublicKey::from_slice(bytes).map_err(|_| StoreError::Corrupt("identity key"))
}

impl SignalTx<'_> {
    /// The connection inside this transaction, for the caller's own dependent rows (the
    /// encoded stanza a send commits with its ratchet step).
    pub fn sql(&self) -> &Connection {
        &self.tx
    }

    /// The time this transaction stamps its rows with.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// The session with `address`, if any.
    pub fn session(&self, address: &str) -> Result<Option<SessionRecord>, SignalStoreError> {
        let row: Option<Vec<u8>> = self
            .tx
            .query_row(
                "SELECT record FROM signal_sessions WHERE address = ?1",
                params![address],
                |r| r.get(0),
            )
            .optional()?;
        row.map(|b| session_record(&b)).transpose()
    }

    /// Stages `record` as the session with `address`.
    pub fn put_session(
        &mut self,
        address: &str,
        record: &SessionRecord,
    ) -> Result<(), SignalStoreError> {
        self.tx.execute(
            "INSERT OR REPLACE INTO signal_sessions (address, record, updated_at_ms) VALUES (?1, ?2, ?3)",
            params![address, record.serialize(), self.now_ms as i64],
        )?;
        Ok(())
    }

    /// The identity key stored for `address`.
    pub fn identity(&self, address: &str) -> Result<Option<PublicKey>, SignalStoreError> {
        let row: Option<Vec<u8>> = self
            .tx
            .query_row(
                "SELECT identity FROM signal_identities WHERE address = ?1",
                params![address],
                |r| r.get(0),
            )
            .optional()?;
        Ok(row.map(|b| identity_key(&b)).transpose()?)
    }

    /// Stores `key` as the trusted identity of `address`, replacing a different one: the
    /// caller's explicit decision after an `UntrustedIdentity` refusal.
    pub fn trust_identity(
        &mut self,
        address: &str,
        key: &PublicKey,
    ) -> Result<IdentityChange, SignalStoreError> {
        let change = match self.identity(address)? {
            None => IdentityChange::New,
            Some(known) if known == *key => IdentityChange::Unchanged,
            Some(previous) => IdentityChange::Changed { previous },
        };
        let now = self.now_ms as i64;
        match change {
            IdentityChange::New => {
                self.tx.execute(
                    "INSERT INTO signal_identities (address, identity, first_seen_ms) VALUES (?1, ?2, ?3)",
                    params![address, &key.as_bytes()[..], now],
                )?;
            }
            IdentityChange::Changed { .. } => {
                self.tx.execute(
                    "UPDATE signal_identities SET identity = ?2, changed_at_ms = ?3 WHERE address = ?1",
                    params![address, &key.as_bytes()[..], now],
                )?;
            }
            IdentityChange::Unchanged => {}
        }
        Ok(change)
    }

    /// Marks a one-time prekey used. Fails if it is unknown or was used before, which would
    /// mean two sessions built on one key.
    pub fn consume_pre_key(&mut self, id: u32) -> Result<(), SignalStoreError> {
        let changed = self.tx.execute(
            "UPDATE signal_prekeys SET consumed_at_ms = ?2 WHERE id = ?1 AND consumed_at_ms IS NULL",
            params![id, self.now_ms as i64],
        )?;
        if changed == 1 {
            Ok(())
        } else {
            Err(SignalStoreError::PreKeyAlreadyUsed(id))
        }
    }

    /// Starts a session with `address` from its bundle (signature checked, identity trusted
    /// on first use) and stages it.
    pub fn initiate(
        &mut self,
        us: &LocalIdentity,
        address: &str,
        bundle: &PreKeyBundle,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<IdentityChange, SignalStoreError> {
        let known = self.identity(address)?;
        let current = self.session(address)?.unwrap_or_default();
        let record = current.initiate(us, bundle, known.as_ref(), rng)?;
        self.put_session(address, &record)?;
        self.trust_identity(address, &bundle.identity_key)
    }

    /// Encrypts for `address` with its session and stages the ratchet step.
    pub fn encrypt(
        &mut self,
        address: &str,
        plaintext: &[u8],
    ) -> Result<CiphertextMessage, SignalStoreError> {
        let record = self.session(address)?.ok_or(SignalError::NoSession)?;
        let (record, message) = record.encrypt(plaintext)?;
        self.put_session(address, &record)?;
        Ok(message)
    }

    /// Decrypts a `pkmsg` or `msg` from `address` and stages the new session, the consumed
    /// one-time prekey and the sender's identity.
    pub fn decrypt(
        &mut self,
        us: &LocalIdentity,
        address: &str,
        kind: PairwiseKind,
        bytes: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Received, SignalStoreError> {
        let known = self.identity(address)?;
        let current = self.session(address)?.unwrap_or_default();
        let decrypted = match kind {
            PairwiseKind::Whisper => current.decrypt_message(bytes, rng)?,
            PairwiseKind::PreKey => {
                let lookup = TxPreKeys {
                    conn: &self.tx,
                    failure: RefCell::new(None),
                };
                let result =
                    current.decrypt_prekey_message(us, &lookup, known.as_ref(), bytes, rng);
                // A database failure inside the lookup looks like an unknown prekey to the
                // cipher; report the real cause.
                if let Some(failure) = lookup.failure.into_inner() {
                    return Err(failure);
                }
                result?
            }
        };
        if let Some(id) = decrypted.consumed_pre_key {
            self.consume_pre_key(id)?;
        }
        self.put_session(address, &decrypted.record)?;
        let identity = self.trust_identity(address, &decrypted.sender_identity)?;
        Ok(Received {
            plaintext: decrypted.plaintext,
            sender_identity: decrypted.sender_identity,
            consumed_pre_key: decrypted.consumed_pre_key,
            identity,
        })
    }

    /// The sender-key record of `sender` in `group` (empty when none is stored).
    pub fn sender_key(
        &self,
        group: &str,
        sender: &str,
    ) -> Result<SenderKeyRecord, SignalStoreError> {
        let row: Option<Vec<u8>> = self
            .tx
            .query_row(
                "SELECT record FROM sender_keys WHERE group_id = ?1 AND sender = ?2",
                params![group, sender],
                |r| r.get(0),
            )
            .optional()?;
        match row {
            None => Ok(SenderKeyRecord::new()),
            Some(bytes) => Ok(SenderKeyRecord::deserialize(&bytes)?),
        }
    }

    /// Stages a sender-key record.
    pub fn put_sender_key(
        &mut self,
        group: &str,
        sender: &str,
        record: &SenderKeyRecord,
    ) -> Result<(), SignalStoreError> {
        self.tx.execute(
            "INSERT OR REPLACE INTO sender_keys (group_id, sender, record, updated_at_ms) VALUES (?1, ?2, ?3, ?4)",
            params![group, sender, record.serialize(), self.now_ms as i64],
        )?;
        Ok(())
    }

    /// Our own sender key's distribution message for `group` (`own` is our address), creating
    /// and staging the key the first time.
    pub fn own_distribution_message(
        &mut self,
        group: &str,
        own: &str,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<SenderKeyDistributionMessage, SignalStoreError> {
        let record = self.sender_key(group, own)?;
        let (record, skdm) = record.own_distribution_message(rng);
        self.put_sender_key(group, own, &record)?;
        Ok(skdm)
    }

    /// Installs a member's distribution message.
    pub fn process_distribution(
        &mut self,
        group: &str,
        sender: &str,
        message: &SenderKeyDistributionMessage,
    ) -> Result<(), SignalStoreError> {
        let record = self
            .sender_key(group, sender)?
            .process_distribution(message);
        self.put_sender_key(group, sender, &record)
    }

    /// Encrypts a padded plaintext to `group` with our sender key and stages the chain step.
    pub fn group_encrypt(
        &mut self,
        group: &str,
        own: &str,
        padded: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, SignalStoreError> {
        let out = self.sender_key(group, own)?.encrypt(padded, rng)?;
        self.put_sender_key(group, own, &out.record)?;
        Ok(out.message)
    }

    /// Decrypts a `skmsg` from `sender` in `group` and stages the chain step.
    pub fn group_decrypt(
        &mut self,
        group: &str,
        sender: &str,
        bytes: &[u8],
    ) -> Result<Vec<u8>, SignalStoreError> {
        let out = self.sender_key(group, sender)?.decrypt(bytes)?;
        self.put_sender_key(group, sender, &out.record)?;
        Ok(out.plaintext)
    }
}

/// Our prekeys as the cipher sees them while a `pkmsg` is decrypted: consumed keys are
/// invisible, so a second session on one key fails as an unknown prekey.
struct TxPreKeys<'c> {
    conn: &'c Connection,
    failure: RefCell<Option<SignalStoreError>>,
}

impl TxPreKeys<'_> {
    fn read<T>(
        &self,
        sql: &str,
        id: u32,
        decode: fn(&[u8]) -> Result<T, RecordError>,
        what: &'static str,
    ) -> Option<T> {
        let row: Result<Option<Vec<u8>>, _> = self
            .conn
            .query_row(sql, params![id], |r| r.get(0))
            .optional();
        let result = match row {
            Ok(None) => return None,
            Ok(Some(bytes)) => {
                decode(&bytes).map_err(|source| SignalStoreError::Record { what, source })
            }
            Err(e) => Err(e.into()),
        };
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.failure.borrow_mut().get_or_insert(e);
                None
            }
        }
    }
}

impl PreKeyLookup for TxPreKeys<'_> {
    fn pre_key(&self, id: u32) -> Option<PreKeyRecord> {
        self.read(
            "SELECT record FROM signal_prekeys WHERE id = ?1 AND consumed_at_ms IS NULL",
            id,
            PreKeyRecord::deserialize,
            "prekey",
        )
    }

    fn signed_pre_key(&self, id: u32) -> Option<SignedPreKeyRecord> {
        self.read(
            "SELECT record FROM signal_signed_prekeys WHERE id = ?1",
            id,
            SignedPreKeyRecord::deserialize,
            "signed prekey",
        )
    }
}

/// Stores fresh one-time prekeys made by `make` under new ids (continuing from the last id
/// ever handed out, wrapping inside 1..=0xFFFFFF), in one transaction.
pub(super) fn add_prekeys(
    conn: &mut Connection,
    count: u32,
    now_ms: u64,
    mut make: impl FnMut() -> [u8; 32],
) -> Result<Vec<(u32, [u8; 32])>, StoreError> {
    let tx = conn.transaction()?;
    let next: u32 = tx
        .query_row(
            "SELECT value FROM counters WHERE name = 'next_prekey_id'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(1);
    let mut out = Vec::with_capacity(count as usize);
    let mut id = next;
    for _ in 0..count {
        let private = make();
        let record = PreKeyRecord {
            id,
            key_pair: KeyPair::from_private_bytes(private),
        };
        // After 16.7 million keys an id comes round again; the old row (long consumed or
        // replaced on the server) gives way to the new key.
        tx.execute(
            "INSERT OR REPLACE INTO signal_prekeys (id, record, uploaded, created_at_ms, consumed_at_ms)
             VALUES (?1, ?2, 0, ?3, NULL)",
            params![id, record.serialize(), now_ms as i64],
        )?;
        out.push((id, private));
        id = if id >= 0x00ff_ffff { 1 } else { id + 1 };
    }
    tx.execute(
        "INSERT OR REPLACE INTO counters (name, value) VALUES ('next_prekey_id', ?1)",
        params![id],
    )?;
    tx.commit()?;
    Ok(out)
}

/// Marks prekeys as accepted by the server.
pub(super) fn mark_prekeys_uploaded(conn: &mut Connection, ids: &[u32]) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    for id in ids {
        tx.execute(
            "UPDATE signal_prekeys SET uploaded = 1 WHERE id = ?1",
            params![id],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// One-time prekeys not yet used.
pub(super) fn prekey_count(conn: &Connection) -> Result<u32, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM signal_prekeys WHERE consumed_at_ms IS NULL",
        [],
        |r| r.get(0),
    )?)
}

/// Stages the device's signed prekey in the signed-prekey table.
pub(super) fn put_signed_prekey(
    conn: &Connection,
    key: &SignedPreKey,
    now_ms: u64,
) -> Result<(), StoreError> {
    let record = SignedPreKeyRecord {
        id: key.id,
        key_pair: key.key.clone(),
        signature: key.signature,
    };
    conn.execute(
        "INSERT OR REPLACE INTO signal_signed_prekeys (id, record, created_at_ms) VALUES (?1, ?2, ?3)",
        params![key.id, record.serialize(), now_ms as i64],
    )?;
    Ok(())
}

/// Forgets all Signal state (the device it belonged to is gone; the archive keeps a copy).
pub(super) fn clear(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "DELETE FROM signal_identities; DELETE FROM signal_sessions; DELETE FROM signal_prekeys;
         DELETE FROM signal_signed_prekeys; DELETE FROM sender_keys;",
    )?;
    Ok(())
}

/// Migration 2, the part SQL cannot do: the one-time prekeys of migration 1's `prekeys` table
/// and the device's signed prekey become records in the new tables, then `prekeys` goes.
pub(super) fn copy_legacy_keys(tx: &Transaction<'_>) -> Result<(), StoreError> {
    {
        let mut rows = tx.prepare("SELECT id, private, uploaded, created_at_ms FROM prekeys")?;
        let legacy = rows.query_map([], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        for row in legacy {
            let (id, private, uploaded, created) = row?;
            let private: [u8; 32] = private
                .try_into()
                .map_err(|_| StoreError::Corrupt("prekey"))?;
            let record = PreKeyRecord {
                id,
                key_pair: KeyPair::from_private_bytes(private),
            };
            tx.execute(
                "INSERT INTO signal_prekeys (id, record, uploaded, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![id, record.serialize(), uploaded, created],
            )?;
        }
    }
    tx.execute_batch("DROP TABLE prekeys")?;
    if let Some(creds) = super::credentials::load(tx)? {
        put_signed_prekey(tx, &creds.signed_prekey, creds.created_at_ms)?;
    }
    Ok(())
}
