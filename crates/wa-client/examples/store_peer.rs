//! A store-backed Signal party that answers one line at a time, for crash tests: our side of
//! a pairwise session (responder, one-time prekeys, the ratchet in SQLite) on the store in the
//! directory given as the first argument. Whoever drives it is the peer and may `kill -9` it
//! at any moment; run again on the same directory it carries on where its store left off.
//!
//! It commits before it speaks: a decrypted message is acknowledged only after its ratchet
//! step is stored, and a message it sends is stored in an outbox table in the same
//! transaction as the ratchet step that made it, then printed. The peer acknowledges each one
//! it read, as the server acks a message; a message still unacknowledged when the process dies
//! is in doubt and is printed again on the next start, the same bytes (a peer that already
//! read it refuses the copy as a duplicate).
//!
//! Protocol, one line each way: `recv pkmsg|msg <hex>` → `ok <text>` | `dup`; `send <text>` →
//! `msg <n> <hex>` | `nosession`; `ack <n>` → `acked`. On start it prints `bundle <json>`
//! (public keys 33-byte hex, with one-time prekey 1), then `msg` lines for its unacknowledged
//! outbox rows, then `ready`. It exits when stdin closes.
//!
//! `cargo run -p wa-client --example store_peer -- <dir>`; used by
//! `tests/signal_crash.rs` and `conformance/signal-crash.test.mjs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, Write};
use std::path::Path;

use rand::rngs::{OsRng, StdRng};
use rand::SeedableRng;
use rusqlite::params;
use wa_client::store::{Credentials, PairwiseKind, SignalStoreError, Store};
use wa_core::signal::{
    KeyPair, LocalIdentity, PreKeyRecord, PublicKey, SignalError, SignalPublicKey,
};

/// The peer's address in our store.
const PEER: &str = "15557654321.0:0";

#[allow(dead_code)]
fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .expect("usage: store_peer <store directory>");
    serve(Path::new(&dir));
}

/// Opens (or creates) the store in `dir` and answers the protocol on stdin and stdout.
pub fn serve(dir: &Path) {
    let mut store = Store::open(dir).unwrap();
    let creds = match store.load_credentials().unwrap() {
        Some(c) => c,
        None => {
            let c = Credentials::generate(&mut OsRng, 1);
            store.create_credentials(&c).unwrap();
            c
        }
    };
    if store.prekey_count().unwrap() == 0 {
        store
            .add_prekeys(3, 1, || KeyPair::generate(&mut OsRng).private.to_bytes())
            .unwrap();
    }
    store
        .signal_transaction(1, |tx| -> Result<(), SignalStoreError> {
            tx.sql().execute_batch(
                "CREATE TABLE IF NOT EXISTS outbox (
                     n INTEGER PRIMARY KEY, bytes BLOB NOT NULL, acked INTEGER NOT NULL DEFAULT 0)",
            )?;
            Ok(())
        })
        .unwrap();
    let us = LocalIdentity {
        key_pair: creds.identity.clone(),
        registration_id: creds.registration_id,
    };
    let out = std::io::stdout();
    let mut out = out.lock();
    // The bundle with our lowest one-time prekey (a real server hands one out the same way).
    let pre_key_id = 1u32;
    let pre_key = KeyPair::from_private_bytes(
        store
            .signal_transaction(1, |tx| -> Result<[u8; 32], SignalStoreError> {
                let bytes: Vec<u8> = tx.sql().query_row(
                    "SELECT record FROM signal_prekeys WHERE id = ?1",
                    params![pre_key_id],
                    |r| r.get(0),
                )?;
                let record = PreKeyRecord::deserialize(&bytes).unwrap();
                Ok(record.key_pair.private.to_bytes())
            })
            .unwrap(),
    );
    // Public keys in libsignal's serialized form, `05 || raw 32 bytes`, as a bundle carries them.
    let key = |k: &PublicKey| hex::encode(SignalPublicKey::from(*k).as_bytes());
    let bundle = serde_json::json!({
        "registration_id": creds.registration_id,
        "identity": key(&creds.identity.public),
        "signed_pre_key_id": creds.signed_prekey.id,
        "signed_pre_key": key(&creds.signed_prekey.key.public),
        "signature": hex::encode(creds.signed_prekey.signature),
        "pre_key_id": pre_key_id,
        "pre_key": key(&pre_key.public),
    });
    writeln!(out, "bundle {bundle}").unwrap();
    let outbox: Vec<(i64, Vec<u8>)> = store
        .signal_transaction(2, |tx| -> Result<_, SignalStoreError> {
            let mut stmt = tx
                .sql()
                .prepare("SELECT n, bytes FROM outbox WHERE acked = 0 ORDER BY n")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .unwrap();
    for (n, bytes) in outbox {
        writeln!(out, "msg {n} {}", hex::encode(bytes)).unwrap();
    }
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();

    let mut rng = StdRng::from_entropy();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let mut parts = line.splitn(3, ' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("recv"), Some(kind), Some(hex_bytes)) => {
                let kind = if kind == "pkmsg" {
                    PairwiseKind::PreKey
                } else {
                    PairwiseKind::Whisper
                };
                let bytes = hex::decode(hex_bytes).unwrap();
                let got =
                    store.signal_transaction(3, |tx| tx.decrypt(&us, PEER, kind, &bytes, &mut rng));
                match got {
                    Ok(r) => writeln!(out, "ok {}", String::from_utf8(r.plaintext).unwrap()),
                    Err(SignalStoreError::Signal(SignalError::DuplicateMessage { .. })) => {
                        writeln!(out, "dup")
                    }
                    Err(e) => panic!("decrypt failed: {e}"),
                }
                .unwrap();
            }
            (Some("send"), Some(_), _) => {
                let text = line.trim_start_matches("send ");
                let sent = store.signal_transaction(4, |tx| -> Result<_, SignalStoreError> {
                    let message = tx.encrypt(PEER, text.as_bytes())?;
                    tx.sql().execute(
                        "INSERT INTO outbox (bytes) VALUES (?1)",
                        params![message.serialized()],
                    )?;
                    Ok((tx.sql().last_insert_rowid(), message.serialized().to_vec()))
                });
                match sent {
                    Ok((n, bytes)) => writeln!(out, "msg {n} {}", hex::encode(bytes)),
                    Err(SignalStoreError::Signal(SignalError::NoSession)) => {
                        writeln!(out, "nosession")
                    }
                    Err(e) => panic!("encrypt failed: {e}"),
                }
                .unwrap();
            }
            (Some("ack"), Some(n), None) => {
                let n: i64 = n.parse().unwrap();
                store
                    .signal_transaction(5, |tx| -> Result<(), SignalStoreError> {
                        tx.sql()
                            .execute("UPDATE outbox SET acked = 1 WHERE n = ?1", params![n])?;
                        Ok(())
                    })
                    .unwrap();
                writeln!(out, "acked").unwrap();
            }
            _ => panic!("bad command {line}"),
        }
        out.flush().unwrap();
    }
}
