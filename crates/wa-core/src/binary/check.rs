//! The fast check the borrowed view runs before it hands out a node: the grammar of `reader.rs`
//! answered yes or no, without building values or errors, so a well-formed ping costs a few
//! dozen instructions per item.
//!
//! It must accept exactly what the reader accepts. Refusing is cheap to get right: when this
//! says no, the view runs the reader to find the error to report (and would still accept the
//! body if the reader did). Accepting too much is what the tests and the fuzz target guard
//! against, by comparing the view with the owned decoder.

use super::tags::*;
use super::token;

/// Whether `body` is exactly one well-formed node nested at most `max_depth` deep.
pub(super) fn is_well_formed(body: &[u8], max_depth: usize) -> bool {
    let mut c = Check {
        data: body,
        pos: 0,
        max_depth,
    };
    c.node(1).is_some() && c.pos == body.len()
}

/// In a body [`is_well_formed`] accepted: where the value (string or JID) starting at `pos`
/// ends, found from its lengths alone, without checking anything again. Attribute lookups on
/// the view skip the values they pass over this way.
pub(super) fn skip_value(body: &[u8], pos: usize) -> Option<usize> {
    let mut c = Check {
        data: body,
        pos,
        max_depth: usize::MAX,
    };
    c.skim()?;
    Some(c.pos)
}

/// A plain string as far as the grammar cares: whether it is empty, and its text when it may
/// have to be compared (a JID's server).
enum Plain<'a> {
    /// A single-byte token (never empty).
    Single(u8),
    Bytes(&'a [u8]),
    Packed {
        empty: bool,
    },
}

impl Plain<'_> {
    fn is_empty(&self) -> bool {
        match self {
            Plain::Single(_) => false,
            Plain::Bytes(b) => b.is_empty(),
            Plain::Packed { empty } => *empty,
        }
    }

    fn is(&self, s: &str) -> bool {
        match self {
            Plain::Single(t) => token::single(*t) == Some(s),
            Plain::Bytes(b) => *b == s.as_bytes(),
            Plain::Packed { .. } => false,
        }
    }
}

/// Whether a tag byte is a single-byte token, the most common item by far.
#[inline(always)]
fn is_single_token(tag: u8) -> bool {
    tag.wrapping_sub(1) < 235
}

struct Check<'a> {
    data: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl<'a> Check<'a> {
    #[inline]
    fn u8(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    #[inline]
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.data.get(self.pos..)?.get(..n)?;
        self.pos += n;
        Some(s)
    }

    #[inline]
    fn u16(&mut self) -> Option<usize> {
        let b = self.take(2)?;
        Some(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    fn node(&mut self, depth: usize) -> Option<()> {
        if depth > self.max_depth {
            return None;
        }
        let n = match self.u8()? {
            LIST_8 => usize::from(self.u8()?),
            LIST_16 => self.u16()?,
            _ => return None,
        };
        if n == 0 || n > self.data.len() - self.pos {
            return None;
        }
        if self.plain()?.is_empty() {
            return None;
        }
        for _ in 0..(n - 1) / 2 {
            self.plain()?;
            self.value(true)?;
        }
        if n % 2 == 0 {
            let count = match *self.data.get(self.pos)? {
                LIST_EMPTY => {
                    self.pos += 1;
                    0
                }
                LIST_8 => {
                    self.pos += 1;
                    usize::from(self.u8()?)
                }
                LIST_16 => {
                    self.pos += 1;
                    self.u16()?
                }
                _ => return self.value(false),
            };
            for _ in 0..count {
                self.node(depth + 1)?;
            }
        }
        Some(())
    }

    /// Past one value of a checked body.
    fn skim(&mut self) -> Option<()> {
        let tag = self.u8()?;
        match tag {
            LIST_EMPTY | 1..=235 => {}
            DICTIONARY_0..=DICTIONARY_3 => {
                self.u8()?;
            }
            BINARY_8 | BINARY_20 | BINARY_32 => {
                self.raw(tag)?;
            }
            NIBBLE_8 | HEX_8 => {
                let head = self.u8()?;
                self.take(usize::from(head & 0x7F))?;
            }
            JID_PAIR => {
                self.skim()?;
                self.skim()?;
            }
            AD_JID => {
                self.take(2)?;
                self.skim()?;
            }
            FB_JID => {
                self.skim()?;
                self.take(2)?;
                self.skim()?;
            }
            INTEROP_JID => {
                self.skim()?;
                self.take(4)?;
                self.skim()?;
            }
            _ => return None,
        }
        Some(())
    }

    /// A string that is not a JID. Raw bytes must be UTF-8.
    #[inline(always)]
    fn plain(&mut self) -> Option<Plain<'a>> {
        let tag = self.u8()?;
        if is_single_token(tag) {
            return Some(Plain::Single(tag));
        }
        self.plain_other(tag)
    }

    /// [`Check::plain`] for everything but a single-byte token.
    fn plain_other(&mut self, tag: u8) -> Option<Plain<'a>> {
        match tag {
            LIST_EMPTY => Some(Plain::Bytes(&[])),
            DICTIONARY_0..=DICTIONARY_3 => {
                let index = self.u8()?;
                token::double(tag - DICTIONARY_0, index).map(|s| Plain::Bytes(s.as_bytes()))
            }
            BINARY_8 | BINARY_20 | BINARY_32 => {
                let b = self.raw(tag)?;
                std::str::from_utf8(b).ok()?;
                Some(Plain::Bytes(b))
            }
            NIBBLE_8 => self.packed(false),
            HEX_8 => self.packed(true),
            _ => None,
        }
    }

    /// Any value; raw bytes must be UTF-8 when `text` (attribute values), not in content.
    #[inline(always)]
    fn value(&mut self, text: bool) -> Option<()> {
        let tag = *self.data.get(self.pos)?;
        if is_single_token(tag) {
            self.pos += 1;
            return Some(());
        }
        self.value_other(tag, text)
    }

    fn value_other(&mut self, tag: u8, text: bool) -> Option<()> {
        match tag {
            BINARY_8 | BINARY_20 | BINARY_32 if !text => {
                self.pos += 1;
                self.raw(tag).map(drop)
            }
            JID_PAIR => {
                self.pos += 1;
                self.plain()?;
                (!self.plain()?.is_empty()).then_some(())
            }
            AD_JID => {
                self.pos += 1;
                self.take(2)?;
                self.plain().map(drop)
            }
            FB_JID => {
                self.pos += 1;
                self.plain()?;
                self.take(2)?;
                self.plain()?.is("msgr").then_some(())
            }
            INTEROP_JID => {
                self.pos += 1;
                self.plain()?;
                self.take(4)?;
                self.plain()?.is("interop").then_some(())
            }
            _ => self.plain().map(drop),
        }
    }

    /// The bytes of a `BINARY_n` whose tag was just read.
    fn raw(&mut self, tag: u8) -> Option<&'a [u8]> {
        let len = match tag {
            BINARY_8 => usize::from(self.u8()?),
            BINARY_20 => {
                let b = self.take(3)?;
                usize::from(b[0] & 0x0F) << 16 | usize::from(b[1]) << 8 | usize::from(b[2])
            }
            _ => {
                let b = self.take(4)?;
                usize::try_from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok()?
            }
        };
        self.take(len)
    }

    fn packed(&mut self, hex: bool) -> Option<Plain<'a>> {
        let head = self.u8()?;
        let odd = head & 0x80 != 0;
        let pairs = self.take(usize::from(head & 0x7F))?;
        if odd && pairs.is_empty() {
            return None;
        }
        // Every hex code is a digit; nibble codes 12, 13 and 14 are undefined.
        if !hex && !valid_nibbles(pairs) {
            return None;
        }
        Some(Plain::Packed {
            empty: pairs.is_empty(),
        })
    }
}

/// Whether no code in `pairs` is 12, 13 or 14, eight bytes (sixteen codes) at a time: a code is
/// one of those when its two high bits are set and it is not 15.
fn valid_nibbles(pairs: &[u8]) -> bool {
    const LOW: u64 = 0x1111_1111_1111_1111;
    let bad = |w: u64| {
        let high_two = (w >> 2) & (w >> 3);
        let all_four = w & (w >> 1) & high_two;
        high_two & !all_four & LOW != 0
    };
    let mut chunks = pairs.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        if bad(u64::from_le_bytes(w)) {
            return false;
        }
    }
    let rest = chunks.remainder();
    let mut w = [0u8; 8];
    w[..rest.len()].copy_from_slice(rest);
    // Zero padding is code 0, which is valid.
    !bad(u64::from_le_bytes(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nibble_validity_matches_the_alphabet() {
        for b in 0..=255u8 {
            let ok = !matches!(b >> 4, 12..=14) && !matches!(b & 0x0F, 12..=14);
            for at in 0..10 {
                let mut pairs = vec![0x12u8; 10];
                pairs[at] = b;
                assert_eq!(valid_nibbles(&pairs), ok, "{b:02x} at {at}");
            }
        }
        assert!(valid_nibbles(&[]));
    }
}
