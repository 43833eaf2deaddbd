//! The QR code as the window shows it: an SVG, large, high-contrast, with the quiet zone the
//! phone's scanner needs. The terminal form is in `herald-cli`.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Why a QR code could not be drawn (the text is too long for any QR version).
#[derive(Debug, thiserror::Error)]
#[error("the pairing code cannot be drawn as a QR code: {0}")]
pub struct QrError(#[from] qrcode::types::QrError);

/// Renders `text` as an SVG document, black on white, at least 300 px, with a 4-module quiet
/// zone. Error correction L, as WhatsApp Web uses: the payload is long and the screen is clean.
pub fn svg(text: &str) -> Result<String, QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(300, 300)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_real_pairing_string() {
        let text = "https://wa.me/settings/linked_devices#2@TESTREF,WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=,JE/juWPomd0pW6/84kjTUw86mnR5ugYwAmgOv+etrUk=,AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,9";
        let out = svg(text).unwrap();
        assert!(out.starts_with("<?xml"));
        assert!(out.contains("<svg"));
        assert!(out.contains("#000000") && out.contains("#ffffff"));
        let too_long = "x".repeat(10_000);
        assert!(svg(&too_long).is_err());
    }
}
