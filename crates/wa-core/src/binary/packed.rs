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
    fn code(self, c: u8) -> Option<u8> {
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

/// The packing the encoder uses for `s`, in the order nibble then hex (protocol.md §4.2).
pub fn choose(s: &str) -> Option<Packing> {
    if s.is_empty() || s.len() > PACKED_MAX {
        return None;
    }
    [Packing::Nibble, Packing::Hex]
        .into_iter()
        .find(|p| s.bytes().all(|c| p.code(c).is_some()))
}

/// Appends the packed form of `s`; `s` must have been accepted by [`choose`] for `packing`.
pub fn write(out: &mut Vec<u8>, s: &str, packing: Packing) {
    let bytes = s.as_bytes();
    // `choose` bounds the length by PACKED_MAX (127), so the count fits in seven bits.
    let mut head = bytes.len().div_ceil(2) as u8;
    if bytes.len() % 2 == 1 {
        head |= 0x80;
    }
    out.push(packing.tag());
    out.push(head);
    let code = |c: u8| packing.code(c).unwrap_or(15);
    for pair in bytes.chunks(2) {
        let hi = code(pair[0]);
        let lo = pair.get(1).map_or(15, |&c| code(c));
        out.push(hi << 4 | lo);
    }
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
