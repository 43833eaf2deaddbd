//! The pairing QR code as a PNG: black modules on white, 8 pixels each, with the 4-module
//! quiet zone a phone's scanner needs, error correction L as WhatsApp Web uses.

use qrcode::{Color, EcLevel, QrCode};

/// Pixels per module: about 500 px for a pairing string, easy to scan off a screen.
const SCALE: usize = 8;
/// Light modules around the code.
const QUIET: usize = 4;

/// Why the PNG could not be made.
#[derive(Debug, thiserror::Error)]
pub enum QrPngError {
    #[error("the text does not fit in a QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
}

/// Renders `text` as a grayscale PNG.
pub fn render(text: &str) -> Result<Vec<u8>, QrPngError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
        for y in my * SCALE..(my + 1) * SCALE {
            pixels[y * side + mx * SCALE..y * side + (mx + 1) * SCALE].fill(0);
        }
    }
    let mut out = Vec::new();
    let edge = u32::try_from(side).unwrap_or(u32::MAX);
    let mut encoder = png::Encoder::new(&mut out, edge, edge);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pairing_string_decodes_back_from_the_png() {
        let text = "2@TESTREF,WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=,JE/juWPomd0pW6/84kjTUw86mnR5ugYwAmgOv+etrUk=,AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,9";
        let png_bytes = render(text).unwrap();
        assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let (w, h) = (info.width as usize, info.height as usize);
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, text);
        assert!(render(&"x".repeat(10_000)).is_err());
    }
}
