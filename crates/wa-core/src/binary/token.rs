//! Token dictionary lookups in both directions.
//!
//! The tables themselves live in the generated `tokens_generated.rs`.

use super::tokens::{
    DOUBLE_BYTE_TOKENS, MAX_TOKEN_LEN, SINGLE_BYTE_TOKENS, TOKEN_HASH, TOKEN_HASH_BITS,
    TOKEN_LOOKUP,
};

/// How a string is sent when it is in a token dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// One byte, `1..=235`.
    Single(u8),
    /// Two bytes: `0xEC + dictionary`, then `index`.
    Double {
        /// Dictionary number, `0..=3`.
        dictionary: u8,
        /// Index inside the dictionary.
        index: u8,
    },
}

/// FNV-1a, 32 bit; `conformance/gen-tokens.mjs` builds `TOKEN_HASH` with the same function.
fn fnv1a(s: &[u8]) -> u32 {
    s.iter().fold(0x811c_9dc5, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Finds the token for `s`, preferring a single-byte token. One hash and, on average, about
/// one string comparison: the generated open-addressing table has no deletions, so the probe
/// stops at the first empty slot.
pub fn lookup(s: &str) -> Option<Token> {
    if s.is_empty() || s.len() > MAX_TOKEN_LEN {
        return None;
    }
    let mask = (1usize << TOKEN_HASH_BITS) - 1;
    let mut slot = fnv1a(s.as_bytes()) as usize & mask;
    let code = loop {
        let entry = usize::from(TOKEN_HASH[slot]);
        let (token, code) = TOKEN_LOOKUP.get(entry.checked_sub(1)?)?;
        if *token == s {
            break *code;
        }
        slot = (slot + 1) & mask;
    };
    // Codes are generated as index (< 0x100) or 0x100 * (dictionary + 1) + index, so the
    // narrowing casts below cannot lose information.
    Some(if code < 0x100 {
        Token::Single(code as u8)
    } else {
        Token::Double {
            dictionary: (code >> 8) as u8 - 1,
            index: (code & 0xFF) as u8,
        }
    })
}

/// The string of single-byte token `index`, or `None` for 0 and indices past the table.
pub fn single(index: u8) -> Option<&'static str> {
    if index == 0 {
        return None;
    }
    SINGLE_BYTE_TOKENS.get(usize::from(index)).copied()
}

/// The string at `index` of double-byte dictionary `dictionary` (`0..=3`).
pub fn double(dictionary: u8, index: u8) -> Option<&'static str> {
    DOUBLE_BYTE_TOKENS
        .get(usize::from(dictionary))
        .map(|d| d[usize::from(index)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tokens_from_protocol_notes() {
        assert_eq!(lookup("xmlstreamstart"), Some(Token::Single(1)));
        assert_eq!(lookup("s.whatsapp.net"), Some(Token::Single(3)));
        assert_eq!(lookup("iq"), Some(Token::Single(25)));
        assert_eq!(lookup("stream:error"), Some(Token::Single(157)));
        assert_eq!(lookup("encrypt"), Some(Token::Single(203)));
        let d = |dictionary, index| Some(Token::Double { dictionary, index });
        assert_eq!(lookup("active"), d(0, 0x01));
        assert_eq!(lookup("passive"), d(0, 0x18));
        assert_eq!(lookup("conflict"), d(0, 0x0E));
        assert_eq!(lookup("replaced"), d(0, 0x11));
        assert_eq!(lookup("ref"), d(1, 0x50));
        assert_eq!(lookup("pair-device"), d(1, 0xEE));
        assert_eq!(lookup("offline_batch"), d(1, 0x08));
        assert_eq!(lookup("failure"), d(2, 0x3C));
        assert_eq!(lookup("keys"), d(3, 0x1E));
        assert_eq!(lookup(""), None);
        assert_eq!(lookup("not-a-token-at-all"), None);
    }

    #[test]
    fn every_table_entry_round_trips_through_lookup() {
        for i in 1..=235u8 {
            let s = single(i).unwrap();
            assert_eq!(lookup(s), Some(Token::Single(i)), "{s}");
        }
        for d in 0..4u8 {
            for i in 0..=255u8 {
                let s = double(d, i).unwrap();
                match lookup(s).unwrap() {
                    Token::Single(j) => assert_eq!(single(j), Some(s)),
                    Token::Double { dictionary, index } => assert_eq!((dictionary, index), (d, i)),
                }
            }
        }
        assert_eq!(single(0), None);
        assert_eq!(single(236), None);
        assert_eq!(double(4, 0), None);
    }

    #[test]
    fn misses_terminate() {
        for s in [
            "zzzz",
            "1234.5678-9",
            "3EB0ABCDEF",
            "x",
            "s.whatsapp.ne",
            "iqq",
        ] {
            assert_eq!(lookup(s), None, "{s}");
        }
        // The table is at most a third full, so every probe sequence reaches an empty slot.
        assert!(TOKEN_LOOKUP.len() * 3 < TOKEN_HASH.len());
    }

    #[test]
    fn lookup_table_is_strictly_sorted() {
        assert!(TOKEN_LOOKUP
            .windows(2)
            .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()));
    }
}
