//! Token dictionary lookups in both directions.
//!
//! The tables themselves live in the generated `tokens_generated.rs`; the hash table the encoder
//! searches is built from them at compile time, here.

use super::tokens::{DOUBLE_BYTE_TOKENS, MAX_TOKEN_LEN, SINGLE_BYTE_TOKENS, TOKEN_LOOKUP};

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

/// A string's identity for the lookup: its length and two words that together hold every byte
/// of a string up to 16 bytes long (the words overlap for lengths that are not 8 or 16), read
/// with two loads instead of a loop. Every token but a few is that short.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    // A u32 so that an entry with its code fits in 24 bytes; tokens are at most 48 bytes long.
    len: u32,
    a: u64,
    b: u64,
}

/// Strings up to this long are equal exactly when their keys are.
const KEY_EXACT_LEN: usize = 16;

const fn load8(s: &[u8], at: usize) -> u64 {
    u64::from_le_bytes([
        s[at],
        s[at + 1],
        s[at + 2],
        s[at + 3],
        s[at + 4],
        s[at + 5],
        s[at + 6],
        s[at + 7],
    ])
}

const fn load4(s: &[u8], at: usize) -> u64 {
    u32::from_le_bytes([s[at], s[at + 1], s[at + 2], s[at + 3]]) as u64
}

/// [`key`] at run time: the same words, read with unaligned loads rather than byte by byte.
#[inline(always)]
fn key_at_run_time(s: &[u8]) -> Key {
    let len = s.len();
    let word8 = |w: Option<&[u8]>| {
        w.and_then(|w| w.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    };
    let word4 = |w: Option<&[u8]>| {
        w.and_then(|w| w.try_into().ok())
            .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
    };
    let (a, b) = if len >= 8 {
        (word8(s.get(..8)), word8(s.get(len - 8..)))
    } else if len >= 4 {
        (word4(s.get(..4)) | word4(s.get(len - 4..)) << 32, 0)
    } else {
        let byte = |i: usize| s.get(i).map_or(0, |&b| u64::from(b));
        if len > 0 {
            (byte(0) | byte(len / 2) << 8 | byte(len - 1) << 16, 0)
        } else {
            (0, 0)
        }
    };
    // Callers look up only strings of at most MAX_TOKEN_LEN bytes, so the length fits.
    Key {
        len: len as u32,
        a,
        b,
    }
}

/// The key of a token, at compile time.
const fn key(s: &[u8]) -> Key {
    let len = s.len();
    let (a, b) = if len >= 8 {
        (load8(s, 0), load8(s, len - 8))
    } else if len >= 4 {
        (load4(s, 0) | load4(s, len - 4) << 32, 0)
    } else if len > 0 {
        (
            s[0] as u64 | (s[len / 2] as u64) << 8 | (s[len - 1] as u64) << 16,
            0,
        )
    } else {
        (0, 0)
    };
    Key {
        len: len as u32,
        a,
        b,
    }
}

/// log2 of the hash table's size: 8192 two-byte slots for about 1,300 tokens, so that nearly
/// every probe ends at its first slot and every miss reaches an empty slot.
const HASH_BITS: u32 = 13;
const HASH_MASK: usize = (1 << HASH_BITS) - 1;

#[inline(always)]
const fn slot_of(k: &Key) -> usize {
    let mixed = (k.a ^ k.b.rotate_left(31) ^ (k.len as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> (64 - HASH_BITS)) as usize
}

/// One token as the lookup compares it: its key, and the code it is written as, side by side so
/// that a hit reads one entry.
#[derive(Clone, Copy)]
struct Entry {
    a: u64,
    b: u64,
    len: u32,
    code: u16,
}

impl Entry {
    const fn key(&self) -> Key {
        Key {
            len: self.len,
            a: self.a,
            b: self.b,
        }
    }
}

/// The entries of `TOKEN_LOOKUP`, in its order.
static TOKEN_ENTRIES: [Entry; TOKEN_LOOKUP.len()] = {
    let empty = Entry {
        a: 0,
        b: 0,
        len: 0,
        code: 0,
    };
    let mut entries = [empty; TOKEN_LOOKUP.len()];
    let mut i = 0;
    while i < entries.len() {
        let k = key(TOKEN_LOOKUP[i].0.as_bytes());
        entries[i] = Entry {
            a: k.a,
            b: k.b,
            len: k.len,
            code: TOKEN_LOOKUP[i].1,
        };
        i += 1;
    }
    entries
};

/// Open addressing with linear probing over `TOKEN_ENTRIES`: 0 is an empty slot, `i + 1` is
/// entry `i`. The table has no deletions, so a probe stops at the first empty slot. The
/// single-byte tokens go in first: they are the frequent ones (the dictionary is ordered by
/// use), so they sit in their own slot and a lookup of one reads a single entry.
static TOKEN_HASH: [u16; 1 << HASH_BITS] = {
    let mut table = [0u16; 1 << HASH_BITS];
    let mut pass = 0;
    while pass < 2 {
        let mut i = 0;
        while i < TOKEN_ENTRIES.len() {
            let single = TOKEN_ENTRIES[i].code < 0x100;
            if single == (pass == 0) {
                let mut slot = slot_of(&TOKEN_ENTRIES[i].key());
                while table[slot] != 0 {
                    slot = (slot + 1) & HASH_MASK;
                }
                table[slot] = i as u16 + 1;
            }
            i += 1;
        }
        pass += 1;
    }
    table
};

/// Finds the token for `s`, preferring a single-byte token. Two loads, one multiply and, on
/// average, little more than one key comparison; strings longer than 16 bytes are compared in
/// full once their key matches. Inlined: the encoder calls it for every string it writes.
#[inline(always)]
pub fn lookup(s: &str) -> Option<Token> {
    let bytes = s.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_TOKEN_LEN {
        return None;
    }
    let k = key_at_run_time(bytes);
    let mut slot = slot_of(&k);
    let code = loop {
        let index = usize::from(TOKEN_HASH[slot]).checked_sub(1)?;
        let entry = &TOKEN_ENTRIES[index];
        if entry.key() == k
            && (bytes.len() <= KEY_EXACT_LEN || TOKEN_LOOKUP[index].0.as_bytes() == bytes)
        {
            break entry.code;
        }
        slot = (slot + 1) & HASH_MASK;
    };
    Some(token_of_code(code))
}

/// Codes are generated as index (< 0x100) or 0x100 * (dictionary + 1) + index, so the narrowing
/// casts cannot lose information.
#[inline(always)]
const fn token_of_code(code: u16) -> Token {
    if code < 0x100 {
        Token::Single(code as u8)
    } else {
        Token::Double {
            dictionary: (code >> 8) as u8 - 1,
            index: (code & 0xFF) as u8,
        }
    }
}

/// [`lookup`] at compile time, for strings the encoder knows in advance (JID servers).
pub(super) const fn lookup_const(s: &str) -> Option<Token> {
    let bytes = s.as_bytes();
    let mut slot = slot_of(&key(bytes));
    loop {
        let entry = TOKEN_HASH[slot] as usize;
        if entry == 0 {
            return None;
        }
        if bytes_eq(TOKEN_LOOKUP[entry - 1].0.as_bytes(), bytes) {
            return Some(token_of_code(TOKEN_LOOKUP[entry - 1].1));
        }
        slot = (slot + 1) & HASH_MASK;
    }
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
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
    fn run_time_keys_are_the_compile_time_keys() {
        let strings = TOKEN_LOOKUP.iter().map(|(t, _)| t.to_string());
        let others = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcdefg",
            "abcdefgh",
            "1234.5678-9",
        ];
        for s in strings.chain(others.iter().map(|s| s.to_string())) {
            assert!(key(s.as_bytes()) == key_at_run_time(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn compile_time_lookup_matches_run_time_lookup() {
        for (t, _) in TOKEN_LOOKUP.iter() {
            assert_eq!(lookup_const(t), lookup(t), "{t}");
        }
        assert_eq!(lookup_const("1234.5678-9"), None);
    }

    #[test]
    fn probes_are_short() {
        let mut longest = 0;
        let mut total = 0;
        for (i, entry) in TOKEN_ENTRIES.iter().enumerate() {
            let mut slot = slot_of(&entry.key());
            let mut probes = 1;
            while usize::from(TOKEN_HASH[slot]) != i + 1 {
                slot = (slot + 1) & HASH_MASK;
                probes += 1;
            }
            longest = longest.max(probes);
            total += probes;
        }
        assert!(longest <= 8, "longest probe {longest}");
        assert!(
            total * 10 < TOKEN_LOOKUP.len() * 13,
            "mean probe {total}/{}",
            TOKEN_LOOKUP.len()
        );
    }

    #[test]
    fn single_byte_tokens_sit_in_their_own_slot() {
        let mut displaced = Vec::new();
        for (i, entry) in TOKEN_ENTRIES.iter().enumerate() {
            if entry.code < 0x100 && usize::from(TOKEN_HASH[slot_of(&entry.key())]) != i + 1 {
                displaced.push(TOKEN_LOOKUP[i].0);
            }
        }
        // Single-byte tokens can still collide among themselves; few do.
        assert!(displaced.len() <= 8, "displaced: {displaced:?}");
        for hot in [
            "iq", "id", "xmlns", "type", "to", "get", "ping", "ack", "receipt", "class",
        ] {
            assert!(!displaced.contains(&hot), "{hot} is displaced");
        }
    }

    #[test]
    fn lookup_table_is_strictly_sorted() {
        assert!(TOKEN_LOOKUP
            .windows(2)
            .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()));
    }
}
