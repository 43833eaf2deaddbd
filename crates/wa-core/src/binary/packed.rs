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

/// The packing the encoder uses for `s`, in the order nibble then hex (protocol.md §4.2): the
/// rule [`write`] applies in its single pass, kept as the plain statement its tests check it
/// against.
#[cfg(test)]
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
/// `s` cannot be packed (see [`choose`]). One pass: the pairs are packed into a stack buffer
/// while the alphabets are checked, and appended at once if one alphabet has every byte.
pub fn write(out: &mut Vec<u8>, s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.is_empty() || bytes.len() > PACKED_MAX {
        return false;
    }
    // PACKED_MAX (127) bounds the count to seven bits and the whole string to this buffer.
    let mut buf = [0u8; 2 + PACKED_MAX.div_ceil(2)];
    let mut both = IN_NIBBLE | IN_HEX;
    let mut len = 2;
    let mut pairs = bytes.chunks_exact(2);
    for (slot, pair) in buf[2..].iter_mut().zip(&mut pairs) {
        let (high, low) = (PACK[usize::from(pair[0])], PACK[usize::from(pair[1])]);
        both &= high & low;
        *slot = high << 4 | (low & CODE);
        len += 1;
    }
    if let [last] = pairs.remainder() {
        let code = PACK[usize::from(*last)];
        both &= code;
        // An odd string ends with the pad nibble.
        if let Some(slot) = buf.get_mut(len) {
            *slot = code << 4 | 15;
        }
        len += 1;
    }
    buf[0] = if both & IN_NIBBLE != 0 {
        Packing::Nibble.tag()
    } else if both & IN_HEX != 0 {
        Packing::Hex.tag()
    } else {
        return false;
    };
    buf[1] = (len - 2) as u8 | if bytes.len() % 2 == 1 { 0x80 } else { 0 };
    out.extend_from_slice(&buf[..len.min(buf.len())]);
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
    fn write_packs_exactly_what_choose_accepts() {
        let strings = [
            "",
            "0",
            "9",
            "-",
            ".",
            "A",
            "F",
            "G",
            "a",
            "1.2-3",
            "3EB0AB",
            "3EB0AB-",
            "12a",
            "1752021890",
            "15551234567",
            "ABCDEF0123456789",
            "\u{e9}1",
            "1 2",
        ];
        let long = [
            "1".repeat(126),
            "1".repeat(127),
            "1".repeat(128),
            "F".repeat(127),
        ];
        for s in strings
            .iter()
            .copied()
            .chain(long.iter().map(String::as_str))
        {
            let mut out = vec![0xAA];
            let wrote = write(&mut out, s);
            assert_eq!(wrote, choose(s).is_some(), "{s:?}");
            if let Some(p) = choose(s) {
                assert_eq!(out[1], p.tag(), "{s:?}");
                let pairs = s.len().div_ceil(2);
                assert_eq!(out.len(), 3 + pairs, "{s:?}");
                assert_eq!(out[2] & 0x7F, pairs as u8);
                assert_eq!(out[2] & 0x80 != 0, s.len() % 2 == 1);
                // Every character comes back from its nibble.
                let nibbles = out[3..].iter().flat_map(|b| [b >> 4, b & 0x0F]);
                for (c, code) in s.bytes().zip(nibbles) {
                    assert_eq!(p.char_of(code), Some(c), "{s:?}");
                }
                if s.len() % 2 == 1 {
                    assert_eq!(out.last().map(|b| b & 0x0F), Some(15));
                }
            } else {
                assert_eq!(out, [0xAA], "{s:?}");
            }
        }
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
