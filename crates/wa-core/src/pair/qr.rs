//! The string a companion shows as a QR code for the phone to scan.
//!
//! Body: `ref,base64(noise_pub),base64(identity_pub),base64(adv_secret),client_type`, with the
//! standard base64 alphabet and padding. The 4-field form without `client_type` was rejected by
//! the server from spring 2026, so we only build and accept the 5-field form. We build the
//! deep-link form (prefix `https://wa.me/settings/linked_devices#`) because the newest reference
//! client does, and accept the bare body too because another one still emits it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// The deep-link prefix in front of the QR body.
pub const QR_PREFIX: &str = "https://wa.me/settings/linked_devices#";

/// Number of comma-separated fields of the current QR body.
pub const QR_FIELD_COUNT: usize = 5;

/// Which kind of companion is asking to be linked (`CompanionWebClientType`), one ASCII
/// character at the end of the QR body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompanionWebClientType {
    /// `0`: unknown; the server is reported to reject it, but we can still parse it.
    Unknown,
    /// `1`
    Chrome,
    /// `2`
    Edge,
    /// `3`
    Firefox,
    /// `4`
    Ie,
    /// `5`
    Opera,
    /// `6`
    Safari,
    /// `7`
    Electron,
    /// `8`
    Uwp,
    /// `9`: any other web client; what a desktop app without a browser should send.
    OtherWebClient,
    /// `c`
    MacOs,
    /// `d` (Android companion; needs server-side attestation)
    AndroidD,
    /// `e` (Android companion; needs server-side attestation)
    AndroidE,
    /// `f` (Android companion; needs server-side attestation)
    AndroidF,
}

impl CompanionWebClientType {
    /// The character this type is written as in the QR body.
    pub fn as_char(self) -> char {
        match self {
            Self::Unknown => '0',
            Self::Chrome => '1',
            Self::Edge => '2',
            Self::Firefox => '3',
            Self::Ie => '4',
            Self::Opera => '5',
            Self::Safari => '6',
            Self::Electron => '7',
            Self::Uwp => '8',
            Self::OtherWebClient => '9',
            Self::MacOs => 'c',
            Self::AndroidD => 'd',
            Self::AndroidE => 'e',
            Self::AndroidF => 'f',
        }
    }

    /// The type written as `c`, if it is one we know.
    pub fn from_char(c: char) -> Option<Self> {
        Some(match c {
            '0' => Self::Unknown,
            '1' => Self::Chrome,
            '2' => Self::Edge,
            '3' => Self::Firefox,
            '4' => Self::Ie,
            '5' => Self::Opera,
            '6' => Self::Safari,
            '7' => Self::Electron,
            '8' => Self::Uwp,
            '9' => Self::OtherWebClient,
            'c' => Self::MacOs,
            'd' => Self::AndroidD,
            'e' => Self::AndroidE,
            'f' => Self::AndroidF,
            _ => return None,
        })
    }
}

/// Everything the phone learns from scanning the QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrData {
    /// One of the refs the server sent in `<pair-device>`, e.g. `2@…`.
    pub pairing_ref: String,
    /// The companion's Noise static public key (raw X25519, no `05` prefix).
    pub noise_pub: [u8; 32],
    /// The companion's Signal identity public key (raw, no `05` prefix).
    pub identity_pub: [u8; 32],
    /// The secret the phone keys the ADV HMAC with.
    pub adv_secret: [u8; 32],
    /// What kind of companion this is.
    pub client_type: CompanionWebClientType,
}

/// Which of the three base64 key fields a [`QrError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrKeyField {
    /// The second field, the Noise static public key.
    NoisePub,
    /// The third field, the identity public key.
    IdentityPub,
    /// The fourth field, the ADV secret.
    AdvSecret,
}

/// Why a QR string could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// The string starts like a URL but not with [`QR_PREFIX`].
    #[error("QR string has an unexpected prefix (expected {QR_PREFIX} or none)")]
    BadPrefix,
    /// The body does not have exactly five comma-separated fields.
    #[error("QR body has {found} fields, expected {QR_FIELD_COUNT}")]
    WrongFieldCount {
        /// How many fields there were.
        found: usize,
    },
    /// The ref field is empty.
    #[error("QR ref is empty")]
    EmptyRef,
    /// A key field is not valid standard base64.
    #[error("QR field {field:?} is not valid base64")]
    BadBase64 {
        /// Which field.
        field: QrKeyField,
        /// The decoder's complaint.
        #[source]
        source: base64::DecodeError,
    },
    /// A key field does not decode to 32 bytes.
    #[error("QR field {field:?} decodes to {len} bytes, expected 32")]
    WrongKeyLength {
        /// Which field.
        field: QrKeyField,
        /// How many bytes it decoded to.
        len: usize,
    },
    /// The client type is not one known character.
    #[error("QR client type {0:?} is unknown")]
    UnknownClientType(String),
}

impl QrData {
    /// The QR body without the deep-link prefix.
    pub fn body(&self) -> String {
        format!(
            "{},{},{},{},{}",
            self.pairing_ref,
            STANDARD.encode(self.noise_pub),
            STANDARD.encode(self.identity_pub),
            STANDARD.encode(self.adv_secret),
            self.client_type.as_char()
        )
    }

    /// The full string to render as a QR code: [`QR_PREFIX`] followed by the body.
    ///
    /// ```
    /// use wa_core::pair::qr::{CompanionWebClientType, QrData};
    ///
    /// let qr = QrData {
    ///     pairing_ref: "2@abc".into(),
    ///     noise_pub: [1; 32],
    ///     identity_pub: [2; 32],
    ///     adv_secret: [3; 32],
    ///     client_type: CompanionWebClientType::Chrome,
    /// };
    /// let text = qr.to_qr_string();
    /// assert!(text.starts_with("https://wa.me/settings/linked_devices#2@abc,AQEB"));
    /// assert!(text.ends_with(",1"), "the client type, last");
    /// assert_eq!(QrData::parse(&text)?, qr);
    /// # Ok::<(), wa_core::pair::qr::QrError>(())
    /// ```
    pub fn to_qr_string(&self) -> String {
        format!("{QR_PREFIX}{}", self.body())
    }

    /// Parses a QR string, with or without the deep-link prefix.
    pub fn parse(s: &str) -> Result<Self, QrError> {
        let body = match s.strip_prefix(QR_PREFIX) {
            Some(body) => body,
            // A bare body starts with a ref such as `2@…`; anything URL-like must be ours.
            None if s.contains("://") || s.contains('#') => return Err(QrError::BadPrefix),
            None => s,
        };
        let fields: Vec<&str> = body.split(',').collect();
        let [pairing_ref, noise, identity, adv, client_type] = fields[..] else {
            return Err(QrError::WrongFieldCount {
                found: fields.len(),
            });
        };
        if pairing_ref.is_empty() {
            return Err(QrError::EmptyRef);
        }
        let mut chars = client_type.chars();
        let client_type = match (chars.next(), chars.next()) {
            (Some(c), None) => CompanionWebClientType::from_char(c),
            _ => None,
        }
        .ok_or_else(|| QrError::UnknownClientType(client_type.to_owned()))?;
        Ok(Self {
            pairing_ref: pairing_ref.to_owned(),
            noise_pub: decode_key(noise, QrKeyField::NoisePub)?,
            identity_pub: decode_key(identity, QrKeyField::IdentityPub)?,
            adv_secret: decode_key(adv, QrKeyField::AdvSecret)?,
            client_type,
        })
    }
}

fn decode_key(field_text: &str, field: QrKeyField) -> Result<[u8; 32], QrError> {
    let bytes = STANDARD
        .decode(field_text)
        .map_err(|source| QrError::BadBase64 { field, source })?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| QrError::WrongKeyLength {
        field,
        len: bytes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> QrData {
        QrData {
            pairing_ref: "2@REF".into(),
            noise_pub: [1; 32],
            identity_pub: [2; 32],
            adv_secret: [3; 32],
            client_type: CompanionWebClientType::OtherWebClient,
        }
    }

    #[test]
    fn round_trips_prefixed_and_bare() {
        let qr = sample();
        assert!(qr.to_qr_string().starts_with(QR_PREFIX));
        assert_eq!(QrData::parse(&qr.to_qr_string()).unwrap(), qr);
        assert_eq!(QrData::parse(&qr.body()).unwrap(), qr);
    }

    #[test]
    fn every_client_type_round_trips_its_char() {
        for c in "0123456789cdef".chars() {
            let t = CompanionWebClientType::from_char(c).unwrap();
            assert_eq!(t.as_char(), c);
        }
        for c in "abgz:A".chars() {
            assert_eq!(CompanionWebClientType::from_char(c), None);
        }
    }

    #[test]
    fn rejects_four_field_form_and_extra_fields() {
        let qr = sample();
        let four = qr.body().rsplit_once(',').unwrap().0.to_owned();
        assert!(matches!(
            QrData::parse(&four),
            Err(QrError::WrongFieldCount { found: 4 })
        ));
        assert!(matches!(
            QrData::parse(&format!("{},9", qr.body())),
            Err(QrError::WrongFieldCount { found: 6 })
        ));
        assert!(matches!(
            QrData::parse(""),
            Err(QrError::WrongFieldCount { found: 1 })
        ));
    }

    #[test]
    fn rejects_bad_prefix() {
        let body = sample().body();
        for bad in [
            format!("https://wa.me/settings/other#{body}"),
            format!("http://wa.me/settings/linked_devices#{body}"),
            format!("#{body}"),
        ] {
            assert!(
                matches!(QrData::parse(&bad), Err(QrError::BadPrefix)),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_bad_base64_and_lengths_naming_the_field() {
        let k = STANDARD.encode([0u8; 32]);
        let short = STANDARD.encode([0u8; 31]);
        let cases = [
            (format!("r,!!!,{k},{k},9"), QrKeyField::NoisePub, true),
            (
                format!("r,{k},{short},{k},9"),
                QrKeyField::IdentityPub,
                false,
            ),
            (
                format!("r,{k},{k},{},9", &k[..k.len() - 1]),
                QrKeyField::AdvSecret,
                true,
            ),
            (format!("r,{k},{k},,9"), QrKeyField::AdvSecret, false),
        ];
        for (s, want, is_b64) in cases {
            match QrData::parse(&s) {
                Err(QrError::BadBase64 { field, .. }) if is_b64 => assert_eq!(field, want),
                Err(QrError::WrongKeyLength { field, .. }) if !is_b64 => assert_eq!(field, want),
                other => panic!("{s}: {other:?}"),
            }
        }
    }

    #[test]
    fn rejects_unknown_client_type_and_empty_ref() {
        let k = STANDARD.encode([0u8; 32]);
        for t in ["", "x", "99", "Chrome"] {
            assert!(
                matches!(QrData::parse(&format!("r,{k},{k},{k},{t}")), Err(QrError::UnknownClientType(ref s)) if s == t)
            );
        }
        assert!(matches!(
            QrData::parse(&format!(",{k},{k},{k},9")),
            Err(QrError::EmptyRef)
        ));
    }
}
