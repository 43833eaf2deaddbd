//! Frame plaintext: a flags byte, then a node body that may be zlib-compressed (§4.1).

use std::io::Read;

use super::decode::{decode_body, DecodeError, DecodeLimits};
use super::node::Node;

/// Flags bit: the body is a zlib stream (RFC 1950).
pub const FLAG_COMPRESSED: u8 = 0x02;

/// Decodes decrypted frame plaintext (`flags || body`) with the default limits.
pub fn decode(frame: &[u8]) -> Result<Node, DecodeError> {
    decode_with_limits(frame, &DecodeLimits::default())
}

/// Decodes decrypted frame plaintext with explicit limits. Flag bits other than
/// [`FLAG_COMPRESSED`] are ignored, as every reference implementation does.
pub fn decode_with_limits(frame: &[u8], limits: &DecodeLimits) -> Result<Node, DecodeError> {
    let (&flags, body) = frame.split_first().ok_or(DecodeError::EmptyFrame)?;
    if frame.len() > limits.max_size.saturating_add(1) {
        return Err(DecodeError::TooLarge {
            len: frame.len(),
            max: limits.max_size,
        });
    }
    if flags & FLAG_COMPRESSED == 0 {
        return decode_body(body, limits);
    }
    let inflated = inflate(body, limits.max_size)?;
    decode_body(&inflated, limits)
}

/// Inflates a zlib stream, refusing to produce more than `max` bytes (a zip bomb stops there).
fn inflate(body: &[u8], max: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let cap = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::ZlibDecoder::new(body)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(DecodeError::Inflate)?;
    if out.len() > max {
        return Err(DecodeError::InflatedTooLarge { max });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
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
            Err(DecodeError::TooLarge { len: 4, max: 2 })
        ));
    }

    #[test]
    fn ignores_other_flag_bits() {
        assert_eq!(decode(&[0x01, 0xf8, 0x01, 0x19]).unwrap(), Node::new("iq"));
    }
}
