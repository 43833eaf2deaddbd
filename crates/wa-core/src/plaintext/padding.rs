//! WhatsApp's random padding of an `enc v="2"` plaintext (protocol.md §9.5): `p` bytes each of
//! value `p` appended to the `Message` protobuf, `p` in 1..=16. The length of the real message
//! is hidden within a block, and the receiver strips `last byte` bytes.
//!
//! We pad as Baileys and WA Web do (a random low nibble plus one), and unpad strictly: the
//! count must be 1..=16, no more than the input, and every padding byte must equal it, as
//! whatsmeow's checked unpad does. Anything else is a typed error, never a slice panic.

use rand_core::RngCore;

/// The most padding bytes a sender appends.
pub const MAX_PADDING: usize = 16;

/// Why a decrypted plaintext's padding is not WhatsApp's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PaddingError {
    /// Nothing to unpad.
    #[error("padded plaintext is empty")]
    Empty,
    /// The last byte is 0 or above 16.
    #[error("padding length byte {0} is outside 1..=16")]
    BadLength(u8),
    /// The last byte asks for more bytes than there are.
    #[error("padding of {pad} bytes in a plaintext of {len}")]
    LongerThanInput {
        /// The padding length the last byte names.
        pad: u8,
        /// The whole input's length.
        len: usize,
    },
    /// A padding byte differs from the length byte.
    #[error("padding byte at offset {offset} is not {pad}")]
    Mismatch {
        /// Offset of the first differing byte.
        offset: usize,
        /// The padding length the last byte names.
        pad: u8,
    },
}

/// `message` with `pad` copies of `pad` appended. `pad` is clamped to 1..=16 so the result is
/// always something [`unpad`] accepts.
pub fn pad_with(message: &[u8], pad: u8) -> Vec<u8> {
    let pad = pad.clamp(1, MAX_PADDING as u8);
    let mut out = Vec::with_capacity(message.len() + usize::from(pad));
    out.extend_from_slice(message);
    out.resize(message.len() + usize::from(pad), pad);
    out
}

/// `message` with 1..=16 random padding bytes.
pub fn pad(message: &[u8], rng: &mut impl RngCore) -> Vec<u8> {
    let mut nibble = [0u8; 1];
    rng.fill_bytes(&mut nibble);
    pad_with(message, (nibble[0] & 0x0f) + 1)
}

/// The message without its padding, checked.
pub fn unpad(padded: &[u8]) -> Result<&[u8], PaddingError> {
    let &pad = padded.last().ok_or(PaddingError::Empty)?;
    if pad == 0 || usize::from(pad) > MAX_PADDING {
        return Err(PaddingError::BadLength(pad));
    }
    let start =
        padded
            .len()
            .checked_sub(usize::from(pad))
            .ok_or(PaddingError::LongerThanInput {
                pad,
                len: padded.len(),
            })?;
    if let Some(i) = padded[start..].iter().position(|&b| b != pad) {
        return Err(PaddingError::Mismatch {
            offset: start + i,
            pad,
        });
    }
    Ok(&padded[..start])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_one_to_sixteen_and_unpads() {
        for p in 1..=16u8 {
            let padded = pad_with(b"abc", p);
            assert_eq!(padded.len(), 3 + usize::from(p));
            assert_eq!(unpad(&padded), Ok(&b"abc"[..]));
        }
        assert_eq!(pad_with(b"", 0), [1]);
        assert_eq!(pad_with(b"", 200).len(), 16);
        assert_eq!(unpad(&[1]), Ok(&[][..]));
    }

    #[test]
    fn refuses_bad_padding() {
        assert_eq!(unpad(&[]), Err(PaddingError::Empty));
        assert_eq!(unpad(b"ab\x00"), Err(PaddingError::BadLength(0)));
        assert_eq!(unpad(b"ab\x11"), Err(PaddingError::BadLength(17)));
        assert_eq!(
            unpad(&[3, 3]),
            Err(PaddingError::LongerThanInput { pad: 3, len: 2 })
        );
        assert_eq!(
            unpad(b"ab\x01\x03\x03"),
            Err(PaddingError::Mismatch { offset: 2, pad: 3 })
        );
    }
}
