//! History sync (messaging.md §8, §4.1–§4.3): a fresh companion learns from its phone's
//! history the LID ↔ phone-number mappings, the privacy tokens of existing chats and the NCT
//! salt, without which its first messages to those chats carry no token. The messages in the
//! history are not read: a sender has no use for them.
//!
//! Only the inline payload of a notification is read here; a history blob on the media
//! servers is not downloaded (media download is out of scope).

use std::io::Read as _;

use prost::Message as _;

use crate::binary::{Jid, Server};
use crate::proto::history::HistorySync;

/// The most an inline payload may inflate to. The initial bootstrap the phone sends inline
/// is small (recent chats only); a larger one is refused rather than held in memory.
pub const MAX_INLINE_HISTORY: usize = 8 << 20;

/// Why an inline history payload was not read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Not a zlib stream.
    #[error("history payload does not inflate: {0}")]
    Inflate(#[source] std::io::Error),
    /// It inflates to more than the bound.
    #[error("history payload inflates to more than {max} bytes")]
    TooLarge {
        /// The bound.
        max: usize,
    },
    /// The inflated bytes are not a `HistorySync`.
    #[error("history payload is not a HistorySync: {0}")]
    Decode(#[source] prost::DecodeError),
}

/// A chat's privacy token as the history carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatToken {
    /// The chat (a user, PN or LID, as the conversation names it).
    pub chat: Jid,
    /// The token the contact issued to us.
    pub token: Vec<u8>,
    /// When it was issued (unix seconds).
    pub t: u64,
}

/// What a sender keeps from one history chunk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistorySecrets {
    /// Phone-number user to LID user.
    pub lid_mappings: Vec<(Jid, Jid)>,
    /// Privacy tokens of 1:1 chats.
    pub tokens: Vec<ChatToken>,
    /// The salt of the cstoken.
    pub nct_salt: Option<Vec<u8>>,
    /// Entries left out because a JID did not parse or was of the wrong kind.
    pub skipped: usize,
}

/// Inflates and decodes an inline payload, refusing more than `max` bytes.
pub fn inflate(payload: &[u8], max: usize) -> Result<HistorySync, HistoryError> {
    let mut out = Vec::new();
    let cap = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::ZlibDecoder::new(payload)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(HistoryError::Inflate)?;
    if out.len() > max {
        return Err(HistoryError::TooLarge { max });
    }
    HistorySync::decode(out.as_slice()).map_err(HistoryError::Decode)
}

fn user(text: &str, server: Server) -> Option<Jid> {
    let jid: Jid = text.parse().ok()?;
    (jid.server == server && !jid.user.is_empty()).then(|| jid.to_non_ad())
}

/// The mappings, tokens and salt of a chunk; the rest (the messages) is dropped.
pub fn secrets(sync: &HistorySync) -> HistorySecrets {
    let mut out = HistorySecrets {
        nct_salt: sync.nct_salt.clone().filter(|s| !s.is_empty()),
        ..HistorySecrets::default()
    };
    for m in &sync.phone_number_to_lid_mappings {
        let pair = m
            .pn_jid
            .as_deref()
            .and_then(|p| user(p, Server::Pn))
            .zip(m.lid_jid.as_deref().and_then(|l| user(l, Server::Lid)));
        match pair {
            Some(pair) => out.lid_mappings.push(pair),
            None => out.skipped += 1,
        }
    }
    for c in &sync.conversations {
        let Some(token) = c.tc_token.clone().filter(|t| !t.is_empty()) else {
            continue;
        };
        let chat =
            c.id.as_deref()
                .and_then(|id| user(id, Server::Pn).or_else(|| user(id, Server::Lid)));
        match chat {
            Some(chat) => out.tokens.push(ChatToken {
                chat,
                token,
                t: c.tc_token_timestamp.unwrap_or(0),
            }),
            // Group chats have no token; anything else is malformed.
            None => out.skipped += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::history::{Conversation, PhoneNumberToLidMapping};
    use std::io::Write as _;

    fn deflate(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn mapping(pn: &str, lid: &str) -> PhoneNumberToLidMapping {
        PhoneNumberToLidMapping {
            pn_jid: Some(pn.into()),
            lid_jid: Some(lid.into()),
        }
    }

    fn conversation(id: &str, token: Option<&[u8]>, t: u64) -> Conversation {
        Conversation {
            id: Some(id.into()),
            tc_token: token.map(<[u8]>::to_vec),
            tc_token_timestamp: Some(t),
            tc_token_sender_timestamp: None,
        }
    }

    #[test]
    fn mappings_tokens_and_salt_are_kept_and_bad_entries_counted() {
        let sync = HistorySync {
            phone_number_to_lid_mappings: vec![
                mapping("15551110001@s.whatsapp.net", "200000000000001@lid"),
                mapping("15551110002:3@s.whatsapp.net", "200000000000002:3@lid"),
                mapping("200000000000003@lid", "15551110003@s.whatsapp.net"),
                mapping("not a jid", "200000000000004@lid"),
            ],
            conversations: vec![
                conversation("15551110001@s.whatsapp.net", Some(b"tok-a"), 1_700_000_000),
                conversation("200000000000002@lid", Some(b"tok-b"), 5),
                conversation("120363000000000001@g.us", Some(b"grp"), 5),
                conversation("15551110009@s.whatsapp.net", None, 5),
                conversation("15551110008@s.whatsapp.net", Some(b""), 5),
            ],
            nct_salt: Some(vec![7; 32]),
            ..HistorySync::default()
        };
        let got = secrets(&sync);
        let pair = |pn: &str, lid: &str| (pn.parse().unwrap(), lid.parse().unwrap());
        assert_eq!(
            got.lid_mappings,
            [
                pair("15551110001@s.whatsapp.net", "200000000000001@lid"),
                pair("15551110002@s.whatsapp.net", "200000000000002@lid"),
            ]
        );
        let tokens: Vec<(String, &[u8], u64)> = got
            .tokens
            .iter()
            .map(|t| (t.chat.to_string(), t.token.as_slice(), t.t))
            .collect();
        assert_eq!(
            tokens,
            [
                (
                    "15551110001@s.whatsapp.net".to_owned(),
                    &b"tok-a"[..],
                    1_700_000_000
                ),
                ("200000000000002@lid".to_owned(), &b"tok-b"[..], 5),
            ]
        );
        assert_eq!(got.nct_salt, Some(vec![7; 32]));
        // Two bad mappings and the group conversation's token.
        assert_eq!(got.skipped, 3);
    }

    #[test]
    fn an_inline_payload_inflates_within_its_bound_and_a_bomb_or_garbage_is_refused() {
        let sync = HistorySync {
            nct_salt: Some(vec![1, 2, 3]),
            ..HistorySync::default()
        };
        let payload = deflate(&sync.encode_to_vec());
        assert_eq!(inflate(&payload, MAX_INLINE_HISTORY).unwrap(), sync);

        let bomb = deflate(&vec![0u8; 4096]);
        assert!(matches!(
            inflate(&bomb, 1024),
            Err(HistoryError::TooLarge { max: 1024 })
        ));
        assert!(matches!(
            inflate(b"not zlib at all", 1024),
            Err(HistoryError::Inflate(_))
        ));
        // Inflates, but to bytes that are no HistorySync (a truncated field).
        assert!(matches!(
            inflate(&deflate(&[0x0a, 0x05, 1]), 1024),
            Err(HistoryError::Decode(_))
        ));
    }
}
