//! Frame plaintext: a flags byte, then a node body that may be zlib-compressed (§4.1).

use std::io::Read;

use bytes::Bytes;

use super::decode::{decode_body, decode_body_shared, DecodeError, DecodeLimits};
use super::node::Node;

/// Flags bit: the body is a zlib stream (RFC 1950).
pub const FLAG_COMPRESSED: u8 = 0x02;

/// Decodes decrypted frame plaintext (`flags || body`) with the default limits.
///
/// Bytes from the network that are not a node are an error, never a panic:
///
/// ```
/// use wa_core::binary::{decode, encode, Node};
///
/// let frame = encode(&Node::new("presence").with_attr("type", "available"))?;
/// let node = decode(&frame)?;
/// assert_eq!(node.tag.as_ref(), "presence");
/// assert_eq!(node.attr_str("type"), Some("available"));
///
/// assert!(decode(&[]).is_err(), "no flags byte");
/// assert!(decode(&frame[..frame.len() - 1]).is_err(), "cut short");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode(frame: &[u8]) -> Result<Node, DecodeError> {
    decode_with_limits(frame, &DecodeLimits::default())
}

/// Decodes decrypted frame plaintext with explicit limits. Flag bits other than
/// [`FLAG_COMPRESSED`] are ignored, as every reference implementation does. Content bytes of an
/// uncompressed frame are copied; see [`decode_shared`] to avoid that.
pub fn decode_with_limits(frame: &[u8], limits: &DecodeLimits) -> Result<Node, DecodeError> {
    let (flags, body) = split_flags(frame, limits)?;
    if flags & FLAG_COMPRESSED == 0 {
        return decode_body(body, limits);
    }
    decode_body_shared(&inflate(body, limits.max_size)?, limits)
}

/// Decodes frame plaintext that the caller owns as [`Bytes`] (a decrypted `Vec<u8>` converts
/// for free): content bytes are slices of the frame, not copies, which matters for large
/// contents.
pub fn decode_shared(frame: Bytes) -> Result<Node, DecodeError> {
    decode_shared_with_limits(frame, &DecodeLimits::default())
}

/// [`decode_shared`] with explicit limits.
pub fn decode_shared_with_limits(frame: Bytes, limits: &DecodeLimits) -> Result<Node, DecodeError> {
    let (flags, body) = split_flags(&frame, limits)?;
    if flags & FLAG_COMPRESSED == 0 {
        return decode_body_shared(&frame.slice_ref(body), limits);
    }
    decode_body_shared(&inflate(body, limits.max_size)?, limits)
}

pub(super) fn split_flags<'f>(
    frame: &'f [u8],
    limits: &DecodeLimits,
) -> Result<(u8, &'f [u8]), DecodeError> {
    let (&flags, body) = frame.split_first().ok_or(DecodeError::EmptyFrame)?;
    if body.len() > limits.max_size {
        return Err(DecodeError::TooLarge {
            len: body.len(),
            max: limits.max_size,
        });
    }
    Ok((flags, body))
}

/// Inflates a zlib stream, refusing to produce more than `max` bytes (a zip bomb stops there).
fn inflate(body: &[u8], max: usize) -> Result<Bytes, DecodeError> {
    let mut out = Vec::new();
    inflate_into(body, max, &mut out)?;
    Ok(Bytes::from(out))
}

/// [`inflate`] into a buffer the caller keeps (cleared first), so a borrowed view can read it.
pub(super) fn inflate_into(body: &[u8], max: usize, out: &mut Vec<u8>) -> Result<(), DecodeError> {
    out.clear();
    let cap = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::ZlibDecoder::new(body)
        .take(cap)
        .read_to_end(out)
        .map_err(DecodeError::Inflate)?;
    if out.len() > max {
        return Err(DecodeError::InflatedTooLarge { max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::Content;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflates_compressed_frames() {
        let mut frame = vec![FLAG_COMPRESSED];
        frame.extend(zlib(&[0xf8, 0x01, 0x19]));
        assert_eq!(decode(&frame).unwrap(), Node::new("iq"));
    }

    #[test]
    fn caps_the_inflated_size() {
        // A node whose content inflates to 1 MiB of zeros, decoded with a 64 KiB cap.
        let mut body = vec![0xf8, 0x02, 0x1d, 0xfe, 0x00, 0x10, 0x00, 0x00];
        body.resize(body.len() + (1 << 20), 0);
        let mut frame = vec![FLAG_COMPRESSED];
        frame.extend(zlib(&body));
        assert!(frame.len() < 4096);
        let limits = DecodeLimits {
            max_size: 64 * 1024,
            ..DecodeLimits::default()
        };
        assert!(matches!(
            decode_with_limits(&frame, &limits),
            Err(DecodeError::InflatedTooLarge { max: 65536 })
        ));
        assert!(decode(&frame).is_ok());
    }

    #[test]
    fn rejects_empty_and_corrupt_frames() {
        assert!(matches!(decode(&[]), Err(DecodeError::EmptyFrame)));
        assert!(matches!(
            decode(&[FLAG_COMPRESSED, 1, 2, 3]),
            Err(DecodeError::Inflate(_))
        ));
        let limits = DecodeLimits {
            max_size: 2,
            ..DecodeLimits::default()
        };
        assert!(matches!(
            decode_with_limits(&[0, 0xf8, 0x01, 0x19], &limits),
            Err(DecodeError::TooLarge { len: 3, max: 2 })
        ));
    }

    #[test]
    fn shared_decoding_slices_the_frame() {
        let frame = Bytes::from(vec![0, 0xf8, 0x02, 0x1d, 0xfc, 0x02, 0xab, 0xcd]);
        let node = decode_shared(frame.clone()).unwrap();
        let Content::Bytes(content) = &node.content else {
            panic!("no bytes: {node}");
        };
        assert_eq!(&content[..], &[0xab, 0xcd]);
        assert_eq!(content.as_ptr(), frame[6..].as_ptr());
        assert_eq!(decode(&frame).unwrap(), node);
    }

    #[test]
    fn ignores_other_flag_bits() {
        assert_eq!(decode(&[0x01, 0xf8, 0x01, 0x19]).unwrap(), Node::new("iq"));
    }
}
