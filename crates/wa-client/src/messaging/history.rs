//! A history-sync notification from our own phone (messaging.md §8): what a sender needs from
//! it — LID mappings, the contacts' privacy tokens, the NCT salt — goes into the store in the
//! transaction that decrypted the notification; the messages are dropped. The notification
//! is answered with `peer_msg` and `hist_sync` receipts either way.
//!
//! Only the inline payload of the initial bootstrap is read. The other chunks are blobs on
//! the media servers; downloading media is out of Herald's scope, so they are answered and
//! logged as not downloaded.

use wa_core::history::{self, HistorySecrets, MAX_INLINE_HISTORY};
use wa_core::proto::HistorySyncNotification;

use crate::store::{SignalStoreError, SignalTx};

/// What was taken from one notification.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Mined {
    pub mappings: usize,
    pub tokens: usize,
    pub salt: bool,
}

/// Reads an inline payload into the store; a payload that cannot be read is logged and
/// left (the notification is still answered: the phone must not resend it forever).
pub(crate) fn apply(
    tx: &mut SignalTx<'_>,
    id: &str,
    notification: &HistorySyncNotification,
) -> Result<Mined, SignalStoreError> {
    let kind = notification.sync_type().as_str_name();
    let Some(payload) = notification
        .initial_hist_bootstrap_inline_payload
        .as_deref()
    else {
        tracing::info!(
            id,
            kind,
            chunk = notification.chunk_order(),
            "history sync blob on the media servers; not downloaded (media is out of scope)"
        );
        return Ok(Mined::default());
    };
    let sync = match history::inflate(payload, MAX_INLINE_HISTORY) {
        Ok(sync) => sync,
        Err(e) => {
            tracing::warn!(id, kind, error = %e, "inline history unreadable; answered, not read");
            return Ok(Mined::default());
        }
    };
    let secrets = history::secrets(&sync);
    let mined = store(tx, &secrets)?;
    tracing::info!(
        id,
        kind,
        mappings = mined.mappings,
        tokens = mined.tokens,
        salt = mined.salt,
        skipped = secrets.skipped,
        "history sync read; its messages dropped"
    );
    Ok(mined)
}

fn store(tx: &mut SignalTx<'_>, secrets: &HistorySecrets) -> Result<Mined, SignalStoreError> {
    for (pn, lid) in &secrets.lid_mappings {
        tx.put_lid(&pn.to_string(), &lid.to_string())?;
    }
    for token in &secrets.tokens {
        let chat = token.chat.to_string();
        tx.put_privacy_token(&chat, &token.token, token.t)?;
        // Tokens are looked up by the chat as a send names it, which is the phone number or
        // the LID depending on the account's addressing: keep it under both when we know both.
        let other = match token.chat.server {
            wa_core::binary::Server::Pn => tx.lid_of(&chat)?,
            _ => tx.pn_of(&chat)?,
        };
        if let Some(other) = other {
            tx.put_privacy_token(&other, &token.token, token.t)?;
        }
    }
    if let Some(salt) = &secrets.nct_salt {
        tx.put_nct_salt(salt)?;
    }
    Ok(Mined {
        mappings: secrets.lid_mappings.len(),
        tokens: secrets.tokens.len(),
        salt: secrets.nct_salt.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use prost::Message as _;
    use std::io::Write as _;
    use wa_core::proto::history::{Conversation, HistorySync, PhoneNumberToLidMapping};

    fn inline(sync: &HistorySync) -> HistorySyncNotification {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&sync.encode_to_vec()).unwrap();
        HistorySyncNotification {
            initial_hist_bootstrap_inline_payload: Some(e.finish().unwrap()),
            ..Default::default()
        }
    }

    #[test]
    fn an_inline_bootstrap_fills_the_mapping_token_and_salt_stores() {
        let mut store = Store::open(&crate::lock::tests::tempdir()).unwrap();
        let sync = HistorySync {
            phone_number_to_lid_mappings: vec![PhoneNumberToLidMapping {
                pn_jid: Some("15551110001@s.whatsapp.net".into()),
                lid_jid: Some("200000000000001@lid".into()),
            }],
            conversations: vec![Conversation {
                id: Some("15551110001@s.whatsapp.net".into()),
                tc_token: Some(b"tok".to_vec()),
                tc_token_timestamp: Some(42),
                tc_token_sender_timestamp: None,
            }],
            nct_salt: Some(vec![9; 32]),
            ..Default::default()
        };
        let mined = store
            .signal_transaction(1, |tx| apply(tx, "A", &inline(&sync)))
            .unwrap();
        assert_eq!(
            mined,
            Mined {
                mappings: 1,
                tokens: 1,
                salt: true
            }
        );
        store
            .signal_transaction(2, |tx| {
                assert_eq!(
                    tx.lid_of("15551110001@s.whatsapp.net")?.as_deref(),
                    Some("200000000000001@lid")
                );
                let token = Some((b"tok".to_vec(), 42));
                assert_eq!(tx.privacy_token("15551110001@s.whatsapp.net")?, token);
                assert_eq!(tx.privacy_token("200000000000001@lid")?, token);
                assert_eq!(tx.nct_salt()?, Some(vec![9; 32]));
                Ok::<_, SignalStoreError>(())
            })
            .unwrap();
    }

    #[test]
    fn a_blob_or_an_unreadable_payload_stores_nothing() {
        let mut store = Store::open(&crate::lock::tests::tempdir()).unwrap();
        let blob = HistorySyncNotification {
            direct_path: Some("/v/t62/history".into()),
            ..Default::default()
        };
        let garbage = HistorySyncNotification {
            initial_hist_bootstrap_inline_payload: Some(b"not zlib".to_vec()),
            ..Default::default()
        };
        for n in [blob, garbage] {
            let mined = store
                .signal_transaction(1, |tx| apply(tx, "B", &n))
                .unwrap();
            assert_eq!(mined, Mined::default());
        }
        let salt = store.signal_transaction(2, |tx| tx.nct_salt()).unwrap();
        assert_eq!(salt, None);
    }
}
