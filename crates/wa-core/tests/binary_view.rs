//! The borrowed view against the owned decoder: the same bytes accepted and refused, with the
//! same errors, the same tree from `to_node`, and content read from the frame without copying.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use bytes::Bytes;
use proptest::prelude::*;
use wa_core::binary::{
    self, AttrRef, ContentRef, DecodeError, DecodeLimits, Jid, Node, Server, StrRef, ValueRef,
    FLAG_COMPRESSED,
};

/// Both decoders on one frame; panics when they disagree in any way.
fn agree(frame: &[u8]) -> Option<Node> {
    let owned = binary::decode(frame);
    let mut inflated = Vec::new();
    let viewed = binary::view(frame, &mut inflated).map(|v| v.to_node());
    assert_eq!(
        format!("{owned:?}"),
        format!("{viewed:?}"),
        "{}",
        hex::encode(frame)
    );
    let shared = Bytes::copy_from_slice(frame);
    let mut inflated = Vec::new();
    if let Ok(v) = binary::view(&shared, &mut inflated) {
        assert_eq!(Some(&v.to_node_shared(&shared)), owned.as_ref().ok());
    }
    owned.ok()
}

fn receipt() -> Node {
    Node::new("receipt")
        .with_attr("from", Jid::with_device("15551234567", 3, Server::Pn))
        .with_attr("id", "3EB0ABCDEF0123456789AB")
        .with_attr("t", "1752021890")
        .with_attr("type", "read")
        .with_attr("note", "héllo")
        .with_children(vec![
            Node::new("list").with_children(vec![Node::new("item").with_attr("id", "1")]),
            Node::new("enc")
                .with_attr("v", "2")
                .with_bytes(vec![0xde, 0xad, 0xbe, 0xef]),
            Node::new("text").with_bytes(b"status".to_vec()),
        ])
}

#[test]
fn reads_tag_attributes_and_children_without_building_a_tree() {
    let frame = binary::encode(&receipt()).unwrap();
    let mut inflated = Vec::new();
    let v = binary::view(&frame, &mut inflated).unwrap();
    assert!(v.tag() == "receipt");
    assert!(v.attr_str("type").is_some_and(|t| t == "read"));
    // Packed strings compare without unpacking, and refuse near misses.
    let id = v.attr_str("id").unwrap();
    assert!(matches!(id, StrRef::Packed(_)));
    assert!(id == "3EB0ABCDEF0123456789AB");
    assert!(id != "3EB0ABCDEF0123456789AC");
    assert!(id != "3EB0ABCDEF0123456789A");
    assert_eq!(id.to_string(), "3EB0ABCDEF0123456789AB");
    assert!(v
        .attr_str("note")
        .is_some_and(|n| n.as_str() == Some("héllo")));
    let from = v.attr_jid("from").unwrap();
    assert_eq!(
        from.to_jid(),
        Jid::with_device("15551234567", 3, Server::Pn)
    );
    assert!(from.server == "s.whatsapp.net" && from.user == "15551234567");
    assert!(v.attr_str("from").is_none());
    assert!(v.attr_jid("id").is_none());
    assert!(matches!(v.attr("t"), Some(AttrRef::Str(_))));
    assert_eq!(v.attrs().count(), 5);

    let tags: Vec<String> = v.children().map(|c| c.tag().to_string()).collect();
    assert_eq!(tags, ["list", "enc", "text"]);
    let item = v.child("list").and_then(|l| l.child("item")).unwrap();
    assert!(item.attr_str("id").is_some_and(|i| i == "1"));
    assert!(item.children().next().is_none());
    assert!(v.child("missing").is_none());
    assert!(v.value().is_none());

    // Content bytes are the frame's own bytes, not a copy.
    let enc = v.child("enc").unwrap();
    let bytes = enc.value().and_then(|b| b.as_bytes()).unwrap();
    assert_eq!(bytes, [0xde, 0xad, 0xbe, 0xef]);
    let frame_range = frame.as_ptr_range();
    assert!(frame_range.contains(&bytes.as_ptr()));
    // Our encoder writes content as raw bytes; a token in content position (as other
    // implementations may send) reads as its text's bytes.
    let text = v.child("text").unwrap().value().unwrap();
    assert!(matches!(text, ValueRef::Bytes(b"status")));
    let token_content = [0x00, 0xf8, 0x02, 0x19, 0x0b];
    let mut inflated2 = Vec::new();
    let t = binary::view(&token_content, &mut inflated2).unwrap();
    let value = t.value().unwrap();
    assert!(matches!(value, ValueRef::Str(StrRef::Token("status"))));
    assert_eq!(value.as_bytes(), Some(&b"status"[..]));
    assert_eq!(agree(&token_content).unwrap().bytes(), Some(&b"status"[..]));
    assert!(matches!(v.content(), ContentRef::Nodes(_)));
    assert_eq!(v.to_node(), receipt());
    assert_eq!(v.to_string(), receipt().to_string());
}

#[test]
fn to_node_shared_slices_the_frame_it_reads() {
    let frame = Bytes::from(binary::encode(&receipt()).unwrap());
    let mut inflated = Vec::new();
    let v = binary::view(&frame, &mut inflated).unwrap();
    let node = v.to_node_shared(&frame);
    let enc = node.child("enc").and_then(Node::bytes).unwrap();
    assert!(frame.as_ptr_range().contains(&enc.as_ptr()));
    assert_eq!(node, receipt());
}

#[test]
fn compressed_frames_are_read_from_the_inflated_buffer() {
    let plain = binary::encode(&receipt()).unwrap();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&plain[1..]).unwrap();
    let mut frame = vec![FLAG_COMPRESSED];
    frame.extend(z.finish().unwrap());
    let owner = Bytes::from(frame.clone());
    let mut inflated = Vec::new();
    let v = binary::view(&owner, &mut inflated).unwrap();
    // Content lives in the inflated buffer, not the frame, so sharing falls back to a copy.
    assert_eq!(v.to_node_shared(&owner), receipt());
    assert_eq!(agree(&frame), Some(receipt()));
}

#[test]
fn limits_apply_as_in_the_decoder() {
    let mut deep = Node::new("leaf");
    for _ in 0..9 {
        deep = Node::new("n").with_children(vec![deep]);
    }
    let frame = binary::encode(&deep).unwrap();
    let shallow = DecodeLimits {
        max_depth: 9,
        ..DecodeLimits::default()
    };
    let mut inflated = Vec::new();
    assert!(matches!(
        binary::view_with_limits(&frame, &mut inflated, &shallow),
        Err(DecodeError::TooDeep { max: 9, .. })
    ));
    let small = DecodeLimits {
        max_size: 8,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        binary::view_with_limits(&frame, &mut inflated, &small),
        Err(DecodeError::TooLarge { max: 8, .. })
    ));
    assert!(matches!(
        binary::view(&[], &mut inflated),
        Err(DecodeError::EmptyFrame)
    ));
    assert!(agree(&frame).is_some());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_the_decoder_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        agree(&bytes);
    }

    #[test]
    fn agrees_with_the_decoder_on_mutated_frames(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = binary::encode(&receipt()).unwrap();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        bytes.truncate(1 + cut.index(bytes.len()));
        agree(&bytes);
    }
}
