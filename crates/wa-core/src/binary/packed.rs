//! Packed strings: two characters per byte, for numbers (`NIBBLE_8`) and uppercase hex (`HEX_8`).
//!
//! Layout: tag, then `ceil(len / 2) | 0x80 if len is odd`, then the characters high nibble
//! first; an odd string ends with a pad nibble (15) that the reader drops.

use super::tags::{HEX_8, NIBBLE_8, PACKED_MAX};

/// Which alphabet a packed string uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// `0-9`, `-`, `.`.
    Nibble,
    /// `0-9`, `A-F` (uppercase only: lowercase would come back uppercase).
    Hex,
}

impl Packing {
    /// The tag byte that announces this packing.
    pub fn tag(self) -> u8 {
        match self {
            Packing::Nibble => NIBBLE_8,
            Packing::Hex => HEX_8,
        }
    }

    /// The 4-bit code of `c`, if `c` is in this alphabet.
    const fn code(self, c: u8) -> Option<u8> {
        match (self, c) {
            (_, b'0'..=b'9') => Some(c - b'0'),
            (Packing::Nibble, b'-') => Some(10),
            (Packing::Nibble, b'.') => Some(11),
            (Packing::Hex, b'A'..=b'F') => Some(c - b'A' + 10),
            _ => None,
        }
    }

    /// The character of a 4-bit code. Code 15 in nibble packing is the pad; Baileys and whatsmeow
    /// read it as NUL when it shows up before the end, and so do we. `None` for 12..=14 in nibble
    /// packing, which no implementation defines.
    pub fn char_of(self, code: u8) -> Option<u8> {
        match (self, code) {
            (_, 0..=9) => Some(b'0' + code),
            (Packing::Nibble, 10) => Some(b'-'),
            (Packing::Nibble, 11) => Some(b'.'),
            (Packing::Nibble, 15) => Some(0),
            (Packing::Hex, 10..=15) => Some(b'A' + code - 10),
            _ => None,
        }
    }
}

impl Packing {
    /// Whether both codes of a packed byte have a character (a pad nibble included).
    pub fn valid_pair(self, b: u8) -> bool {
        match self {
            Packing::Hex => true,
            // Nibble codes 12, 13 and 14 are undefined.
            Packing::Nibble => !matches!(b >> 4, 12..=14) && !matches!(b & 0x0F, 12..=14),
        }
    }
}

/// What a byte is to the packer: its 4-bit code, and which alphabets have it.
const IN_NIBBLE: u8 = 0x10;
const IN_HEX: u8 = 0x20;
const CODE: u8 = 0x0F;

/// Both alphabets in one table, so a single pass over the string chooses the packing. A byte in
/// both alphabets (a digit) has the same code in each, so the codes do not depend on the choice.
static PACK: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let (nibble, hex) = (Packing::Nibble.code(c as u8), Packing::Hex.code(c as u8));
        table[c] = match (nibble, hex) {
            (Some(n), Some(_)) => n | IN_NIBBLE | IN_HEX,
            (Some(n), None) => n | IN_NIBBLE,
            (None, Some(h)) => h | IN_HEX,
            (None, None) => 0,
        };
        c += 1;
    }
    table
};

/// The packing the encoder uses for `s`, in the order nibble then hex (protocol.md §4.2).
pub fn choose(s: &str) -> Option<Packing> {
    if s.is_empty() || s.len() > PACKED_MAX {
        return None;
    }
    let both = s
        .bytes()
        .fold(IN_NIBBLE | IN_HEX, |acc, c| acc & PACK[usize::from(c)]);
    if both & IN_NIBBLE != 0 {
        Some(Packing::Nibble)
    } else if both & IN_HEX != 0 {
        Some(Packing::Hex)
    } else {
        None
    }
}

/// Appends the packed form of `s` and returns true, or leaves `out` alone and returns false when
/// `s` cannot be packed (see [`choose`]).
pub fn write(out: &mut Vec<u8>, s: &str) -> bool {
    let Some(packing) = choose(s) else {
        return false;
    };
    let bytes = s.as_bytes();
    let code = |c: u8| PACK[usize::from(c)] & CODE;
    // `choose` bounds the length by PACKED_MAX (127), so the count fits in seven bits.
    let pairs = bytes.len().div_ceil(2);
    let odd = bytes.len() % 2 == 1;
    out.reserve(2 + pairs);
    out.push(packing.tag());
    out.push(pairs as u8 | if odd { 0x80 } else { 0 });
    let chunks = bytes.chunks_exact(2);
    let last = chunks.remainder().first().copied();
    out.extend(chunks.map(|pair| code(pair[0]) << 4 | code(pair[1])));
    if let Some(last) = last {
        // An odd string ends with the pad nibble.
        out.push(code(last) << 4 | 15);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_nibble_before_hex_and_refuses_the_rest() {
        assert_eq!(choose("1.2-3"), Some(Packing::Nibble));
        assert_eq!(choose("0123"), Some(Packing::Nibble));
        assert_eq!(choose("3EB0AB"), Some(Packing::Hex));
        assert_eq!(choose("3eb0ab"), None);
        assert_eq!(choose(""), None);
        assert_eq!(choose(&"1".repeat(127)), Some(Packing::Nibble));
        assert_eq!(choose(&"1".repeat(128)), None);
    }

    #[test]
    fn writes_the_worked_examples() {
        let mut out = Vec::new();
        assert!(write(&mut out, "1.2-3"));
        assert_eq!(out, [0xff, 0x83, 0x1b, 0x2a, 0x3f]);
        out.clear();
        assert!(write(&mut out, "3EB0ABCDEF0123456789AB"));
        assert_eq!(
            out,
            [0xfb, 0x0b, 0x3e, 0xb0, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab]
        );
    }

    #[test]
    fn every_code_maps_back_to_its_char() {
        for p in [Packing::Nibble, Packing::Hex] {
            for code in 0..16u8 {
                if let Some(c) = p.char_of(code) {
                    if c != 0 {
                        assert_eq!(p.code(c), Some(code));
                    }
                }
            }
        }
        assert_eq!(Packing::Nibble.char_of(12), None);
    }
}
