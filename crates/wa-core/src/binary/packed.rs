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

    /// Whether `c` is in this alphabet.
    pub const fn has(self, c: u8) -> bool {
        self.code(c).is_some()
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

/// No code: the byte is not in the alphabet.
const NONE: u8 = 0xFF;

/// The code of every byte in one alphabet, so choosing and packing are a table load per byte.
const fn code_table(packing: Packing) -> [u8; 256] {
    let mut table = [NONE; 256];
    let mut c = 0;
    while c < 256 {
        if let Some(code) = packing.code(c as u8) {
            table[c] = code;
        }
        c += 1;
    }
    table
}

static NIBBLE_CODES: [u8; 256] = code_table(Packing::Nibble);
static HEX_CODES: [u8; 256] = code_table(Packing::Hex);

fn codes(packing: Packing) -> &'static [u8; 256] {
    match packing {
        Packing::Nibble => &NIBBLE_CODES,
        Packing::Hex => &HEX_CODES,
    }
}

/// The packing the encoder uses for `s`, in the order nibble then hex (protocol.md §4.2).
pub fn choose(s: &str) -> Option<Packing> {
    if s.is_empty() || s.len() > PACKED_MAX {
        return None;
    }
    [Packing::Nibble, Packing::Hex]
        .into_iter()
        .find(|&p| s.bytes().all(|c| codes(p)[usize::from(c)] != NONE))
}

/// Appends the packed form of `s`; `s` must have been accepted by [`choose`] for `packing`.
pub fn write(out: &mut Vec<u8>, s: &str, packing: Packing) {
    let bytes = s.as_bytes();
    let codes = codes(packing);
    // A code outside the alphabet cannot occur after `choose`; the pad keeps it harmless.
    let code = |c: u8| match codes[usize::from(c)] {
        NONE => 15,
        code => code,
    };
    // `choose` bounds the length by PACKED_MAX (127), so the count fits in seven bits and the
    // whole packed string fits one stack buffer, appended at once.
    let pairs = bytes.len().div_ceil(2);
    let mut buf = [0u8; 2 + PACKED_MAX.div_ceil(2)];
    buf[0] = packing.tag();
    buf[1] = pairs as u8 | if bytes.len() % 2 == 1 { 0x80 } else { 0 };
    let mut chunks = bytes.chunks_exact(2);
    for (slot, pair) in buf[2..].iter_mut().zip(&mut chunks) {
        *slot = code(pair[0]) << 4 | code(pair[1]);
    }
    if let [last] = chunks.remainder() {
        buf[1 + pairs] = code(*last) << 4 | 15;
    }
    out.extend_from_slice(&buf[..(2 + pairs).min(buf.len())]);
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
        write(&mut out, "1.2-3", Packing::Nibble);
        assert_eq!(out, [0xff, 0x83, 0x1b, 0x2a, 0x3f]);
        out.clear();
        write(&mut out, "3EB0ABCDEF0123456789AB", Packing::Hex);
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
