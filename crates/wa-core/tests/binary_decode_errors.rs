//! The decoder's refusals: each malformed body gives the typed error, at the right offset,
//! without allocating for lengths the input cannot hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wa_core::binary::{self, Content, DecodeError, DecodeLimits, Jid, Server};

/// Decodes with the owned decoder, checking that the borrowed view refuses or accepts the same
/// body with the same error at the same offset.
fn body(bytes: &[u8]) -> Result<binary::Node, DecodeError> {
    let owned = binary::decode_body(bytes, &DecodeLimits::default());
    let viewed = binary::view_body(bytes, &DecodeLimits::default()).map(|v| v.to_node());
    assert_eq!(
        format!("{owned:?}"),
        format!("{viewed:?}"),
        "view and decoder disagree"
    );
    owned
}

#[test]
fn rejects_empty_nodes_and_tags() {
    assert!(matches!(
        body(&[0x00]),
        Err(DecodeError::EmptyNode { offset: 0 })
    ));
    assert!(matches!(
        body(&[0xf8, 0x00]),
        Err(DecodeError::EmptyNode { offset: 0 })
    ));
    assert!(matches!(
        body(&[0xf8, 0x01, 0x00]),
        Err(DecodeError::EmptyTag { offset: 2 })
    ));
    assert!(matches!(
        body(&[0xf8, 0x01, 0xfc, 0x00]),
        Err(DecodeError::EmptyTag { offset: 2 })
    ));
    assert!(matches!(
        body(&[]),
        Err(DecodeError::UnexpectedEnd { offset: 0, .. })
    ));
}

#[test]
fn huge_lengths_fail_before_allocating() {
    // BINARY_32 claiming 4 GiB of content.
    let r = body(&[0xf8, 0x02, 0x19, 0xfe, 0xff, 0xff, 0xff, 0xff]);
    assert!(matches!(
        r,
        Err(DecodeError::UnexpectedEnd {
            offset: 8,
            needed: 0xffff_ffff,
            remaining: 0
        })
    ));
    // LIST_16 of 65535 children with nothing after it.
    let r = body(&[0xf8, 0x02, 0x19, 0xf9, 0xff, 0xff]);
    assert!(matches!(
        r,
        Err(DecodeError::UnexpectedEnd { offset: 6, .. })
    ));
    // A node header claiming 65535 items.
    let r = body(&[0xf9, 0xff, 0xff, 0x19]);
    assert!(matches!(
        r,
        Err(DecodeError::UnexpectedEnd {
            offset: 3,
            needed: 65535,
            ..
        })
    ));
}

#[test]
fn nesting_is_limited() {
    let mut bytes = Vec::new();
    for _ in 0..65 {
        bytes.extend_from_slice(&[0xf8, 0x02, 0x19, 0xf8, 0x01]);
    }
    bytes.extend_from_slice(&[0xf8, 0x01, 0x19]);
    assert!(matches!(
        body(&bytes),
        Err(DecodeError::TooDeep { max: 64, .. })
    ));
    let shallow = DecodeLimits {
        max_depth: 200,
        ..DecodeLimits::default()
    };
    assert!(binary::decode_body(&bytes, &shallow).is_ok());
}

#[test]
fn rejects_misplaced_and_unknown_tags() {
    // A JID where the tag should be.
    assert!(matches!(
        body(&[0xf8, 0x01, 0xfa, 0x00, 0x03]),
        Err(DecodeError::UnexpectedTag {
            offset: 2,
            tag: 0xfa,
            ..
        })
    ));
    // 0xF0..=0xF4 are not defined.
    assert!(matches!(
        body(&[0xf8, 0x01, 0xf0]),
        Err(DecodeError::UnexpectedTag {
            offset: 2,
            tag: 0xf0,
            ..
        })
    ));
    // A string where a node's list header should be.
    assert!(matches!(
        body(&[0x19]),
        Err(DecodeError::UnexpectedTag {
            offset: 0,
            tag: 0x19,
            ..
        })
    ));
    // A JID inside a JID.
    assert!(matches!(
        body(&[0xf8, 0x03, 0x19, 0x11, 0xfa, 0xfa, 0x00, 0x03, 0x03]),
        Err(DecodeError::UnexpectedTag { offset: 5, .. })
    ));
}

#[test]
fn rejects_bad_packed_strings_and_utf8() {
    // Nibble code 12 is undefined.
    assert!(matches!(
        body(&[0xf8, 0x01, 0xff, 0x81, 0xc0]),
        Err(DecodeError::InvalidPacked { offset: 2 })
    ));
    // Odd flag without any character.
    assert!(matches!(
        body(&[0xf8, 0x01, 0xff, 0x80]),
        Err(DecodeError::InvalidPacked { offset: 2 })
    ));
    assert!(matches!(
        body(&[0xf8, 0x01, 0xfc, 0x01, 0xff]),
        Err(DecodeError::InvalidUtf8 { offset: 4, .. })
    ));
}

#[test]
fn rejects_trailing_bytes_and_foreign_jid_servers() {
    assert!(matches!(
        body(&[0xf8, 0x01, 0x19, 0x00]),
        Err(DecodeError::TrailingBytes {
            offset: 3,
            remaining: 1
        })
    ));
    // FB_JID whose server is `s.whatsapp.net` instead of `msgr`.
    assert!(matches!(
        body(&[0xf8, 0x03, 0x19, 0x11, 0xf6, 0x00, 0x00, 0x01, 0x03]),
        Err(DecodeError::InvalidJid { offset: 4, .. })
    ));
    // JID_PAIR with an empty server.
    assert!(matches!(
        body(&[0xf8, 0x03, 0x19, 0x11, 0xfa, 0x00, 0x00]),
        Err(DecodeError::InvalidJid { offset: 4, .. })
    ));
}

#[test]
fn string_forms_in_content_decode_to_bytes() {
    // Single-byte token 0x04 = "type".
    let n = body(&[0xf8, 0x02, 0x19, 0x04]).unwrap();
    assert_eq!(n.content, Content::Bytes(b"type".to_vec().into()));
    // Nibble-packed "12".
    let n = body(&[0xf8, 0x02, 0x19, 0xff, 0x01, 0x12]).unwrap();
    assert_eq!(n.bytes(), Some(&b"12"[..]));
    // A pad nibble before the end reads as NUL, as in Baileys and whatsmeow.
    let n = body(&[0xf8, 0x03, 0x19, 0x08, 0xff, 0x01, 0xf1]).unwrap();
    assert_eq!(n.attr_str("id"), Some("\u{0}1"));
    // A JID in content position decodes to its text.
    let n = body(&[0xf8, 0x02, 0x19, 0xfa, 0x00, 0x03]).unwrap();
    assert_eq!(n.bytes(), Some(&b"@s.whatsapp.net"[..]));
}

#[test]
fn fb_and_interop_jids_decode() {
    // <iq to=FB_JID(user "1", device 0x0102, "msgr")>; "msgr" is a token, so look it up.
    let mut bytes = vec![0xf8, 0x03, 0x19, 0x11, 0xf6, 0xfc, 0x01, b'u', 0x01, 0x02];
    bytes.extend_from_slice(&[0xfc, 0x04]);
    bytes.extend_from_slice(b"msgr");
    let n = body(&bytes).unwrap();
    assert_eq!(
        n.attr_jid("to"),
        Some(&Jid::with_device("u", 0x0102, Server::Messenger))
    );
    let mut bytes = vec![
        0xf8, 0x03, 0x19, 0x11, 0xf5, 0xfc, 0x01, b'u', 0x00, 0x02, 0x00, 0x07,
    ];
    bytes.extend_from_slice(&[0xfc, 0x07]);
    bytes.extend_from_slice(b"interop");
    let n = body(&bytes).unwrap();
    let jid = n.attr_jid("to").unwrap();
    assert_eq!(
        (jid.device, jid.integrator, &jid.server),
        (2, 7, &Server::Interop)
    );
    assert_eq!(jid.to_string(), "7-u:2@interop");
}

#[test]
fn ad_jid_with_agent_and_hosted_domains() {
    let n = body(&[0xf8, 0x03, 0x19, 0x11, 0xf7, 0x05, 0x02, 0xff, 0x01, 0x12]).unwrap();
    assert_eq!(
        n.attr_jid("to").unwrap().to_string(),
        "12.5:2@s.whatsapp.net"
    );
    let n = body(&[0xf8, 0x03, 0x19, 0x11, 0xf7, 0x81, 0x00, 0xff, 0x01, 0x12]).unwrap();
    assert_eq!(n.attr_jid("to").unwrap().to_string(), "12@hosted.lid");
}
